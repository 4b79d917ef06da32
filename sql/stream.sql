-- Generation in chunks, streamed by a custom scan and made by parallel
-- workers (issue #12): the same rows in the same order whichever way.
SET client_min_messages = warning;
CREATE TABLE st (
  race text, sex text, age int, score int, outcome int, amount numeric(6,1));
INSERT INTO st
  SELECT (ARRAY['a','b','c','d'])[1 + i % 4],
         CASE WHEN i % 5 = 0 THEN 'f' ELSE 'm' END,
         20 + (i * 37) % 50, (i * 13) % 11,
         CASE WHEN (i * 17) % 10 < 3 + (i % 4) THEN 1 ELSE 0 END,
         ((i * 7) % 1000) / 10.0
  FROM generate_series(1, 3000) i;
CREATE TABLE st_keyed (id serial PRIMARY KEY, LIKE st);
INSERT INTO st_keyed (race, sex, age, score, outcome, amount) SELECT * FROM st;
RESET client_min_messages;
SET fairsynth.parallel_min_rows = 0;

-- the typed generators in FROM are a streaming scan; a whole-row reference
-- keeps the function scan
EXPLAIN (COSTS OFF) SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
EXPLAIN (COSTS OFF) SELECT s FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1) s;
EXPLAIN (COSTS OFF) SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::st, ARRAY['race']), NULL::st, seed => 1);

-- 200,000 rows are 4 chunks: the function scan's rows (whole-row), the
-- stream's with 2 workers, with 1, and alone are the same, in order
CREATE TEMP TABLE md5s (way text, n bigint, digest text);
INSERT INTO md5s SELECT 'function scan', count(*), md5(string_agg(s::text, '|'))
  FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1) s;
CREATE TEMP TABLE out2 AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
INSERT INTO md5s SELECT 'stream, 2 workers', count(*), md5(string_agg(s::text, '|')) FROM out2 s;
SET fairsynth.parallel_workers = 1;
CREATE TEMP TABLE out1 AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
INSERT INTO md5s SELECT 'stream, 1 worker', count(*), md5(string_agg(s::text, '|')) FROM out1 s;
SET fairsynth.parallel_workers = 0;
CREATE TEMP TABLE out0 AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
INSERT INTO md5s SELECT 'stream alone', count(*), md5(string_agg(s::text, '|')) FROM out0 s;
RESET fairsynth.parallel_workers;
-- fairsynth_sample of the fitted model, streamed with workers
CREATE TEMP TABLE outs AS SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::st, ARRAY['race', 'sex']), NULL::st, num_rows => 200000, seed => 1);
INSERT INTO md5s SELECT 'sample, stream', count(*), md5(string_agg(s::text, '|')) FROM outs s;
-- a model read from a table by a subquery: streamed too, prepared at the
-- first row (the subquery's value is known only then), without workers
CREATE TEMP TABLE st_models AS SELECT 'rs'::text AS name, fairsynth_fit(NULL::st, ARRAY['race', 'sex']) AS model;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM fairsynth_sample((SELECT model FROM st_models WHERE name = 'rs'), NULL::st, num_rows => 200000, seed => 1);
CREATE TEMP TABLE outq AS
  SELECT * FROM fairsynth_sample((SELECT model FROM st_models WHERE name = 'rs'), NULL::st, num_rows => 200000, seed => 1);
INSERT INTO md5s SELECT 'sample, model from a subquery', count(*), md5(string_agg(s::text, '|')) FROM outq s;
SELECT way, n, digest = (SELECT digest FROM md5s WHERE way = 'function scan') AS same_rows FROM md5s;
-- an argument from an outer query: prepared again for every outer row
EXPLAIN (COSTS OFF)
  SELECT g, (SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => g * 10, seed => 3)) FROM generate_series(1, 3) g;
SELECT g, (SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => g * 10, seed => 3)) AS n
  FROM generate_series(1, 3) g;
-- a subquery's argument, an outer value in the filter only: the call is
-- prepared once and rescanned (the same rows every time)
CREATE TEMP TABLE st_once AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => 300, seed => 3);
SELECT g, (SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => (SELECT 300), seed => 3) s
            WHERE s.age = 20 + g)
        = (SELECT count(*) FROM st_once s WHERE s.age = 20 + g) AS same_count
  FROM generate_series(1, 3) g;
-- EXPLAIN ANALYZE names the chunks and the workers: 2 in CREATE TABLE AS
-- and SELECT (parallel mode), none for a cursor or a sequence-fed key
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  CREATE TEMP TABLE out2e AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
SET fairsynth.parallel_min_rows = 300000;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
SET fairsynth.parallel_min_rows = 0;

-- in a subtransaction (a plpgsql exception block) that then rolls back:
-- the same rows, materialized (whole row) and streamed
DO $$
DECLARE d1 text; d2 text;
BEGIN
  BEGIN
    SELECT md5(string_agg(s::text, '|')) INTO d1
      FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1) s;
    CREATE TEMP TABLE sub AS SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
    SELECT md5(string_agg(s::text, '|')) INTO d2 FROM sub s;
    RAISE NOTICE 'in a subtransaction: materialized % the rows, streamed % the rows',
      CASE WHEN d1 = (SELECT digest FROM md5s WHERE way = 'function scan') THEN 'has' ELSE 'does not have' END,
      CASE WHEN d2 = (SELECT digest FROM md5s WHERE way = 'function scan') THEN 'has' ELSE 'does not have' END;
    RAISE EXCEPTION 'roll back';
  EXCEPTION WHEN raise_exception THEN
    NULL;
  END;
END $$;
SELECT to_regclass('pg_temp.sub') IS NULL AS rolled_back;

-- exact counts per combination (floor or ceil of 200000 / 8)
SELECT race, sex, count(*) BETWEEN 24999 AND 25001 AS exact FROM out2 GROUP BY 1, 2 ORDER BY 1, 2;
-- the chunks have the plan's mix: the first 25,000 rows hold every combination near 1/8
SELECT race, sex, abs(count(*) / 25000.0 - 0.125) < 0.01 AS mixed
  FROM (SELECT * FROM out2 LIMIT 25000) s GROUP BY 1, 2 ORDER BY 1, 2;

-- stopped early with workers running: no hang, no error, the session goes on
SELECT count(*) FROM (SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 400000, seed => 2) LIMIT 10) s;
SELECT count(*) FROM (SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 400000, seed => 2) LIMIT 70000) s;
-- a filter and a projection on the stream
SELECT count(*) > 0 AS some, bool_and(race = 'a') AS only_a
  FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1) WHERE race = 'a';

-- rescans make the same rows again
SELECT count(*), count(DISTINCT g) FROM generate_series(1, 3) g,
  LATERAL (SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => 100, seed => 3) OFFSET 0) s;
SELECT count(*) AS differ FROM (
  SELECT age, count(*) FROM generate_series(1, 2) g,
    LATERAL (SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race'], num_rows => 100, seed => 3) OFFSET 0) s
  GROUP BY age HAVING count(*) % 2 <> 0) d;

-- a cursor (no parallel mode): fetched in pieces, the same rows
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
MOVE FORWARD 100000 IN c;
CREATE TEMP TABLE rest AS SELECT * FROM out2 LIMIT 0;
FETCH 1 FROM c;
COMMIT;
SELECT (SELECT s::text FROM (SELECT * FROM out2 OFFSET 100000 LIMIT 1) s) AS row_100001;

-- INSERT ... SELECT streams too (alone: no parallel mode), the same rows
CREATE TEMP TABLE ins (LIKE st);
INSERT INTO ins SELECT * FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
SELECT md5(string_agg(s::text, '|')) = (SELECT digest FROM md5s WHERE way = 'function scan') AS same_rows FROM ins s;

-- a key fed by a sequence: the leader alone (nextval is not allowed in
-- parallel mode), fresh unique keys after the table's
CREATE TEMP TABLE keyed AS SELECT * FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 150000, seed => 1);
SELECT count(*), count(DISTINCT id) = count(*) AS unique_keys, min(id) > 3000 AS fresh FROM keyed;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 150000, seed => 1);

-- the scan checks EXECUTE on the function, as the function scan does (the
-- revoke rolled back: the function keeps its default privileges)
CREATE ROLE stream_user;
GRANT SELECT ON st TO stream_user;
SET ROLE stream_user;
SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 10, seed => 1);
RESET ROLE;
BEGIN;
REVOKE EXECUTE ON FUNCTION fairsynth_balance(anyelement, text[], text, bigint, jsonb, bigint, text, boolean, text[]) FROM PUBLIC;
SET ROLE stream_user;
SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 10, seed => 1);
ROLLBACK;
REVOKE SELECT ON st FROM stream_user;
DROP ROLE stream_user;

-- a statement forced into parallel mode cannot advance a key's sequence:
-- a clear error (the function scan's too), not nextval's
SET force_parallel_mode = on;
SELECT count(*) FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 10, seed => 1);
SELECT count(*) FROM (SELECT s FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 10, seed => 1) s) x;
-- a table without a sequence-fed key is fine there
SELECT count(*) FROM fairsynth_balance(NULL::st, ARRAY['race', 'sex'], num_rows => 200000, seed => 1);
RESET force_parallel_mode;

-- a prepared statement is planned again when the relation changes
PREPARE st_prep(bigint) AS SELECT count(*) FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 10, seed => $1);
EXECUTE st_prep(1);
ALTER TABLE st_keyed ADD COLUMN note text;
EXECUTE st_prep(1);
DEALLOCATE st_prep;
ALTER TABLE st_keyed DROP COLUMN note;

-- a relation whose row type has a dropped column keeps the function scan
ALTER TABLE st_keyed DROP COLUMN amount;
EXPLAIN (COSTS OFF) SELECT * FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 10, seed => 1);
SELECT count(*) FROM fairsynth_balance(NULL::st_keyed, ARRAY['race', 'sex'], num_rows => 10, seed => 1);

RESET fairsynth.parallel_min_rows;
DROP TABLE st, st_keyed;
