-- every wrong argument is an error with a specific SQLSTATE that names the value
\set SHOW_CONTEXT never
\set VERBOSITY default
-- each error is followed by its SQLSTATE
CREATE TABLE errors_t (id int PRIMARY KEY, g text, h text, v int, p point);
INSERT INTO errors_t SELECT i, CASE WHEN i % 4 = 0 THEN 'x' ELSE 'y' END, 'h' || (i % 3), i % 9, point(i, i)
FROM generate_series(1, 40) i;
CREATE VIEW errors_v AS SELECT id, g, h, v FROM errors_t;
CREATE TYPE errors_pair AS (a int, b text);
CREATE TABLE errors_empty (g text, v int);

-- the first argument must be the row type of a relation
SELECT * FROM fairsynth_balance(NULL::int, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_pair, ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::text, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
-- unsupported column types are named, with a hint
SELECT * FROM fairsynth_balance(NULL::errors_t, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
-- columns: NULL, empty, NULL element, unknown, duplicate, a key
SELECT * FROM fairsynth_balance(NULL::errors_v, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY[]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g', 'g']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY[['g'], ['h']]);
\echo :LAST_ERROR_SQLSTATE
-- mode
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], mode => 'balanced');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], mode => NULL);
\echo :LAST_ERROR_SQLSTATE
-- sizes
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], num_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], num_rows => -5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_synthesize(NULL::errors_v, num_rows => 200000000);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], mode => 'additive', num_rows => 10);
\echo :LAST_ERROR_SQLSTATE
SET fairsynth.max_rows = 10;
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g', 'h'], mode => 'additive');
\echo :LAST_ERROR_SQLSTATE
RESET fairsynth.max_rows;
-- too many combinations
SET fairsynth.max_combinations = 5;
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g', 'h']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['v']);
\echo :LAST_ERROR_SQLSTATE
RESET fairsynth.max_combinations;
SET fairsynth.max_combinations = 0;
\echo :LAST_ERROR_SQLSTATE
-- targets: not an object, unknown column, unknown value, bad shares
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '[1, 2]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"h": {"h1": 0.5}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": {"z": 0.5}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": {"x": 1.5}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": {"x": -0.1}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": {"x": "half"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": 0.5}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g', 'h'], target => '{"h": {"h0": 0.7, "h1": 0.6}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], target => '{"g": {"x": 0.5, "y": 0.2}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], mode => 'additive', target => '{"g": {"x": 1}}');
\echo :LAST_ERROR_SQLSTATE
-- empty relations and balance columns that are always NULL
SELECT * FROM fairsynth_balance(NULL::errors_empty, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO errors_empty VALUES (NULL, 1), (NULL, 2);
SELECT * FROM fairsynth_balance(NULL::errors_empty, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
-- the text form: unknown relation, NULL relation, mismatching column definition list
SELECT * FROM fairsynth_balance('errors_nope', ARRAY['g']) AS t(g text);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::text, ARRAY['g']) AS t(g text);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance('errors_v', ARRAY['g']) AS t(id int, g text);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance('errors_v', ARRAY['g']) AS t(id int, g text, h text, v bigint);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance('errors_v', ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE
-- a long call honours statement cancellation and leaves nothing behind
SET statement_timeout = '200ms';
SELECT count(*) FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], num_rows => 50000000, seed => 1);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT count(*) FROM fairsynth_balance(NULL::errors_v, ARRAY['g'], num_rows => 10, seed => 1);
-- GUC ranges
SET fairsynth.rare_threshold = 0;
\echo :LAST_ERROR_SQLSTATE
SET fairsynth.sample_rows = 10;
\echo :LAST_ERROR_SQLSTATE

DROP VIEW errors_v;
DROP TABLE errors_t, errors_empty;
DROP TYPE errors_pair;

-- the shared model store needs preloading (test/t/060_store_shared.pl tests it preloaded)
SELECT * FROM fairsynth_models();
SELECT fairsynth_models_reset();
\echo :LAST_ERROR_SQLSTATE
