-- edge cases: small tables, stale models, exact keys, extreme values
\set SHOW_CONTEXT never
SET fairsynth.rare_threshold = 5;

-- a column whose every value is rare: NULL if the column allows it, else an error
CREATE TYPE edge_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE edge_one (name text, flag bool, m edge_mood);
INSERT INTO edge_one VALUES ('alice', false, 'sad');
SELECT * FROM fairsynth_synthesize(NULL::edge_one, num_rows => 2, seed => 1);
ALTER TABLE edge_one ALTER COLUMN m SET NOT NULL;
SELECT * FROM fairsynth_synthesize(NULL::edge_one, num_rows => 2, seed => 1);
\echo :LAST_ERROR_SQLSTATE

-- a cached model is not reused once the table changes shape
CREATE TABLE edge_shape (g text, x int);
INSERT INTO edge_shape SELECT CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END, i % 50 FROM generate_series(1, 600) i;
SELECT count(*) FROM fairsynth_balance(NULL::edge_shape, ARRAY['g'], seed => 1);
ALTER TABLE edge_shape ADD COLUMN w int;
SELECT count(*), count(w) FROM fairsynth_balance(NULL::edge_shape, ARRAY['g'], seed => 1);
CREATE UNIQUE INDEX edge_shape_x ON edge_shape (x) WHERE false;  -- partial: not a key
ALTER TABLE edge_shape ADD COLUMN u text UNIQUE;
UPDATE edge_shape SET u = md5(ctid::text) WHERE x < 10;
SELECT count(*) FROM fairsynth_balance(NULL::edge_shape, ARRAY['g'], seed => 1);
ALTER TABLE edge_shape DROP CONSTRAINT edge_shape_u_key;
SELECT count(*) FROM fairsynth_balance(NULL::edge_shape, ARRAY['g'], seed => 1);

-- column names that look like lists do not confuse the model cache
CREATE TABLE edge_names (a text, b text, "a"",""b" text, x int);
INSERT INTO edge_names SELECT 'a' || (i % 3), 'b' || (i % 4), 'c' || (i % 5), i % 50 FROM generate_series(1, 1000) i;
SELECT count(*) FROM fairsynth_balance(NULL::edge_names, ARRAY['a","b'], seed => 1);
SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM fairsynth_balance(NULL::edge_names, ARRAY['a', 'b'], seed => 1)
                            GROUP BY a, b) s;

-- balance values are kept exactly: bigints beyond 2^53, numerics beyond double precision
CREATE TABLE edge_exact (big bigint, num numeric, x int);
INSERT INTO edge_exact SELECT 9007199254740992 + i % 2, 0.1 + (i % 2) * 1e-20, i % 7 FROM generate_series(1, 100) i;
SELECT big, count(*) FROM fairsynth_balance(NULL::edge_exact, ARRAY['big'], seed => 1) GROUP BY big ORDER BY big;
SELECT num, count(*) FROM fairsynth_balance(NULL::edge_exact, ARRAY['num'], seed => 1) GROUP BY num ORDER BY num;

-- NaN and infinities are missing values: never emitted, never a group
CREATE TABLE edge_nan (g text, v float8);
INSERT INTO edge_nan SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
                            CASE WHEN i % 10 = 0 THEN 'NaN' WHEN i % 10 = 1 THEN 'Infinity' ELSE (i % 40)::float8 END
FROM generate_series(1, 300) i;
SELECT count(*), count(*) FILTER (WHERE v = 'NaN' OR v = 'Infinity') AS non_finite
FROM fairsynth_synthesize(NULL::edge_nan, seed => 1);
SELECT count(*), count(*) FILTER (WHERE v = 'NaN' OR v = 'Infinity') AS non_finite
FROM fairsynth_balance(NULL::edge_nan, ARRAY['v'], num_rows => 360, seed => 1);

-- fresh keys: integers continue, text keys fit their type or fail cleanly
CREATE TABLE edge_small_key (id smallint PRIMARY KEY, g text);
INSERT INTO edge_small_key SELECT 32640 + i, CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 60) i;
SELECT count(*) FROM fairsynth_balance(NULL::edge_small_key, ARRAY['g'], mode => 'additive', seed => 1);
SELECT count(*) FROM fairsynth_synthesize(NULL::edge_small_key, num_rows => 100, seed => 1);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE edge_text_key (code varchar(5) PRIMARY KEY, g text);
INSERT INTO edge_text_key SELECT 'k' || i, CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 60) i;
SELECT count(*) FROM fairsynth_synthesize(NULL::edge_text_key, num_rows => 2, seed => 1);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE edge_tk (id text PRIMARY KEY, g text);
INSERT INTO edge_tk SELECT 'r' || i, CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 100) i;
INSERT INTO edge_tk SELECT * FROM fairsynth_balance(NULL::edge_tk, ARRAY['g'], mode => 'additive', seed => 1);
INSERT INTO edge_tk SELECT 'n' || i, 'a' FROM generate_series(1, 20) i;
-- new data, new keys: appending again does not collide
INSERT INTO edge_tk SELECT * FROM fairsynth_balance(NULL::edge_tk, ARRAY['g'], mode => 'additive', seed => 1);
SELECT g, count(*) FROM edge_tk GROUP BY g ORDER BY g;

-- additive targets that would need absurd sizes fail at once
CREATE TABLE edge_ad AS SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS g, i % 7 AS x FROM generate_series(1, 300) i;
SELECT count(*) FROM fairsynth_balance(NULL::edge_ad, ARRAY['g'], mode => 'additive', target => '{"g": {"a": 1e-18}}');
\echo :LAST_ERROR_SQLSTATE

-- a column that is NULL everywhere cannot be imputed; by default it is left alone
CREATE TABLE edge_allnull (g text, v int);
INSERT INTO edge_allnull SELECT 'x', NULL FROM generate_series(1, 50);
SELECT count(*), count(v) FROM fairsynth_impute(NULL::edge_allnull);
SELECT count(*) FROM fairsynth_impute(NULL::edge_allnull, ARRAY['v']);
\echo :LAST_ERROR_SQLSTATE

RESET fairsynth.rare_threshold;
DROP TABLE edge_one, edge_shape, edge_names, edge_exact, edge_nan, edge_small_key, edge_text_key,
           edge_tk, edge_ad, edge_allnull;
DROP TYPE edge_mood;
