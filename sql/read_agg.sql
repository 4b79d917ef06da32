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

-- fairsynth_read_shards (fairsynth_balance_into on Citus): a heap scan of
-- tables of the row type (a node's shards) gives the aggregate's state of
-- ROW(t.*)::relation, byte for byte, and the largest key
SET fairsynth.sample_rows = 1000;
CREATE TABLE ra_a AS SELECT * FROM ra WHERE k % 2 = 0;
CREATE TABLE ra_b AS SELECT * FROM ra WHERE k % 2 = 1;
SELECT split_part(fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a', 'public.ra_b'], NULL::ra, ARRAY['race', 'sex'], 'k'), ' ', 1)
     = (SELECT fairsynth_internal.fairsynth_read_state(u.r, ARRAY['race', 'sex'])::text
          FROM (SELECT ROW(t.*)::ra FROM ra_a t UNION ALL SELECT ROW(t.*)::ra FROM ra_b t) u(r)) AS same_state,
       split_part(fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a', 'ra_b'], NULL::ra, ARRAY['race', 'sex'], 'k'), ' ', 2) AS key_max;
-- a shard whose layout differs (a dropped column): the composite is made, the same state
CREATE TABLE ra_c (k int, gone int, race text, sex text, age int, amount numeric);
ALTER TABLE ra_c DROP COLUMN gone;
INSERT INTO ra_c SELECT * FROM ra_b;
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a', 'ra_c'], NULL::ra, ARRAY['race', 'sex'], NULL)
     = fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a', 'ra_b'], NULL::ra, ARRAY['race', 'sex'], NULL) AS same_state;
-- no rows: no state, no largest key
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY[]::text[], NULL::ra, ARRAY['race'], 'k') = ' ' AS empty;
-- errors: a key that is not an integer, NULL shards, another row type, row-level security, no SELECT
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a'], NULL::ra, ARRAY['race'], 'sex');
SELECT fairsynth_internal.fairsynth_read_shards(NULL, NULL::ra, ARRAY['race'], NULL);
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a', NULL], NULL::ra, ARRAY['race'], NULL);
CREATE TABLE ra_other (k int, race text);
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_other'], NULL::ra, ARRAY['race'], NULL);
CREATE ROLE ra_reader;
GRANT SELECT ON ra_a TO ra_reader;
ALTER TABLE ra_a ENABLE ROW LEVEL SECURITY;
SET ROLE ra_reader;
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_a'], NULL::ra, ARRAY['race'], NULL);
SELECT fairsynth_internal.fairsynth_read_shards(ARRAY['ra_b'], NULL::ra, ARRAY['race'], NULL);
RESET ROLE;
DROP TABLE ra_a, ra_b, ra_c, ra_other;
DROP ROLE ra_reader;
RESET fairsynth.sample_rows;
