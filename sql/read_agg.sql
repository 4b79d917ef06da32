-- The read as a mergeable aggregate (issue #12): fairsynth_read runs in
-- parallel workers and gives exactly what a serial run gives
SET client_min_messages = warning;
CREATE TABLE ra AS
  SELECT i AS k, CASE WHEN i % 97 = 0 THEN NULL ELSE (ARRAY['a','b','c'])[1 + i % 3] END AS race,
         CASE WHEN i % 5 = 0 THEN 'f' ELSE 'm' END AS sex, 20 + (i * 37) % 50 AS age,
         (i * 7) % 1000 / 10.0 AS amount
  FROM generate_series(1, 30000) i;
ALTER TABLE ra SET (parallel_workers = 2);
ANALYZE ra;
RESET client_min_messages;

SET fairsynth.sample_rows = 1000;   -- a bottom-k sample smaller than the table
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT fairsynth_read(ra, ARRAY['race', 'sex']) FROM ra;
-- workers did run
CREATE FUNCTION ra_workers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE line text; launched int := 0;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ' || q LOOP
    IF line ~ 'Workers Launched: ' THEN
      launched := greatest(launched, substring(line FROM 'Workers Launched: (\d+)')::int);
    END IF;
  END LOOP;
  RETURN launched;
END $$;
SELECT ra_workers('SELECT fairsynth_read(ra, ARRAY[''race'', ''sex'']) FROM ra') > 0 AS parallel;
CREATE TEMP TABLE par AS SELECT fairsynth_read(ra, ARRAY['race', 'sex']) AS r FROM ra;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT fairsynth_read(ra, ARRAY['race', 'sex']) FROM ra;
CREATE TEMP TABLE ser AS SELECT fairsynth_read(ra, ARRAY['race', 'sex']) AS r FROM ra;
SELECT (SELECT r FROM par) = (SELECT r FROM ser) AS parallel_equals_serial;
SELECT r->'rows' AS rows, r->'sample_rows' AS sample_rows, r->'combinations'->0 AS first, jsonb_array_length(r->'combinations') AS combinations
FROM par;
-- the counts are the exact counts per combination
SELECT count(*) AS counts_off
FROM (SELECT c->'values'->>0 AS race, c->'values'->>1 AS sex, (c->>'rows')::bigint AS n
      FROM par, jsonb_array_elements(r->'combinations') c) a
FULL JOIN (SELECT race, sex, count(*) AS n FROM ra GROUP BY race, sex) b
  ON coalesce(a.race, '-') = coalesce(b.race, '-') AND a.sex = b.sex
WHERE a.n IS DISTINCT FROM b.n;
-- order-independent: the rows in another order give the same state
CREATE TABLE ra_shuffled AS SELECT * FROM ra ORDER BY md5(k::text);
SELECT (SELECT fairsynth_read(s, ARRAY['race', 'sex']) FROM ra_shuffled s) = (SELECT r FROM ser) AS order_independent;
-- no balance columns: one combination of every row
SELECT fairsynth_read(ra, NULL)->'combinations' FROM ra;
-- errors
SELECT fairsynth_read(ra, ARRAY['nope']) FROM ra;
-- a value that is not a row of a table or view: an error before it is read as a row
SELECT fairsynth_read(k, ARRAY['race']) FROM ra;
SELECT fairsynth_read(t, ARRAY['race']) FROM (SELECT race, sex FROM ra) t;
-- a key cannot be balanced, as in fairsynth_balance
CREATE TABLE ra_uuid (id uuid, g text);
INSERT INTO ra_uuid VALUES ('00000000-0000-0000-0000-000000000001', 'a');
SELECT fairsynth_read(ra_uuid, ARRAY['id']) FROM ra_uuid;
DROP TABLE ra_uuid;
