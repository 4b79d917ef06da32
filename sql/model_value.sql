-- A fitted model as a value (issue #12): fairsynth_fit / fairsynth_sample
SET client_min_messages = warning;
CREATE TYPE mv_tier AS ENUM ('low', 'mid', 'high');
CREATE TABLE mv (
  k int PRIMARY KEY,
  race text, sex text, age int, score int, outcome int,
  amount numeric(6,1), tier mv_tier, seen date);
INSERT INTO mv
  SELECT i, (ARRAY['a','b','c','d'])[1 + i % 4 + (i % 7 = 0)::int * 0],
         CASE WHEN i % 5 = 0 THEN 'f' ELSE 'm' END,
         20 + (i * 37) % 50, (i * 13) % 11,
         CASE WHEN (i * 17) % 10 < 3 + (i % 4) THEN 1 ELSE 0 END,
         ((i * 7) % 1000) / 10.0,
         (ARRAY['low','mid','high'])[1 + (i * 3) % 3 + (i % 2)]::mv_tier,
         date '2020-01-01' + (i * 11) % 400
  FROM generate_series(1, 3000) i;
RESET client_min_messages;

-- same rows as fairsynth_balance for the same seed, both ways
SELECT count(*) AS only_sample FROM (
  SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race', 'sex']), NULL::mv, seed => 1)
  EXCEPT ALL SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race', 'sex'], seed => 1)) d;
SELECT count(*) AS only_balance FROM (
  SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race', 'sex'], seed => 1)
  EXCEPT ALL SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race', 'sex']), NULL::mv, seed => 1)) d;
-- and in order (md5 of the rows as returned)
SELECT (SELECT md5(string_agg(t::text, ',')) FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv, num_rows => 500, seed => 7) t)
     = (SELECT md5(string_agg(t::text, ',')) FROM fairsynth_balance(NULL::mv, ARRAY['race'], num_rows => 500, seed => 7) t) AS same_md5;

-- outcome parity, additive mode with a target, synthesize (no columns), impute
SELECT count(*) AS outcome_diff FROM (
  (SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race'], outcome => 'outcome'), NULL::mv, seed => 2)
   EXCEPT ALL SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race'], outcome => 'outcome', seed => 2))
  UNION ALL
  (SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race'], outcome => 'outcome', seed => 2)
   EXCEPT ALL SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race'], outcome => 'outcome'), NULL::mv, seed => 2))) d;
SELECT count(*) AS additive_diff FROM (
  (SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['sex', 'tier']), NULL::mv, mode => 'additive',
                                   target => '{"sex": {"f": 0.4}}', seed => 3)
   EXCEPT ALL SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['sex', 'tier'], mode => 'additive',
                                               target => '{"sex": {"f": 0.4}}', seed => 3))
  UNION ALL
  (SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['sex', 'tier'], mode => 'additive',
                                    target => '{"sex": {"f": 0.4}}', seed => 3)
   EXCEPT ALL SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['sex', 'tier']), NULL::mv, mode => 'additive',
                                              target => '{"sex": {"f": 0.4}}', seed => 3))) d;
SELECT count(*) AS synthesize_diff FROM (
  (SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv), NULL::mv, num_rows => 800, seed => 4)
   EXCEPT ALL SELECT * FROM fairsynth_synthesize(NULL::mv, num_rows => 800, seed => 4))
  UNION ALL
  (SELECT * FROM fairsynth_synthesize(NULL::mv, num_rows => 800, seed => 4)
   EXCEPT ALL SELECT * FROM fairsynth_sample(fairsynth_fit(NULL::mv), NULL::mv, num_rows => 800, seed => 4))) d;
SELECT count(*) FILTER (WHERE age IS NULL) AS imputed_nulls
FROM fairsynth_sample(fairsynth_fit(NULL::mv, ARRAY['race'], impute => true), NULL::mv, seed => 5);

-- a model is a value: kept in a table, sampled later
CREATE TABLE mv_models (name text PRIMARY KEY, model bytea);
INSERT INTO mv_models VALUES ('race_sex', fairsynth_fit(NULL::mv, ARRAY['race', 'sex']));
SELECT count(*) AS stored_diff FROM (
  SELECT * FROM fairsynth_sample((SELECT model FROM mv_models WHERE name = 'race_sex'), NULL::mv, seed => 1)
  EXCEPT ALL SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race', 'sex'], seed => 1)) d;

-- parts: disjoint shares adding up to exactly the planned counts
CREATE TABLE mv_parts AS
  SELECT p, s.* FROM generate_series(1, 4) p,
    LATERAL fairsynth_sample((SELECT model FROM mv_models), NULL::mv, num_rows => 1001,
                             seed => 9, part => p, parts => 4) s;
SELECT p, count(*) FROM mv_parts GROUP BY p ORDER BY p;
SELECT count(*) AS combos_off FROM (
  SELECT race, sex, count(*) AS n FROM mv_parts GROUP BY race, sex) a
  FULL JOIN (SELECT race, sex, count(*) AS n
             FROM fairsynth_balance(NULL::mv, ARRAY['race', 'sex'], num_rows => 1001, seed => 9)
             GROUP BY race, sex) b USING (race, sex)
WHERE a.n IS DISTINCT FROM b.n;
SELECT count(DISTINCT k) = count(*) AS keys_distinct, min(k) > 3000 AS keys_fresh FROM mv_parts;
SELECT count(*) AS one_part_diff FROM (
  SELECT * FROM fairsynth_sample((SELECT model FROM mv_models), NULL::mv, seed => 1, part => 1, parts => 1)
  EXCEPT ALL SELECT * FROM fairsynth_balance(NULL::mv, ARRAY['race', 'sex'], seed => 1)) d;

-- errors: parts, the row type, the version, truncation, the checksum
SELECT * FROM fairsynth_sample((SELECT model FROM mv_models), NULL::mv, part => 5, parts => 4);
SELECT * FROM fairsynth_sample((SELECT model FROM mv_models), NULL::mv, mode => 'additive', num_rows => 5);
CREATE TABLE mv_other (k int, race text, sex text, age int, score int, outcome int,
                       amount numeric(6,2), tier mv_tier, seen date);
SELECT * FROM fairsynth_sample((SELECT model FROM mv_models), NULL::mv_other);
CREATE TABLE mv_short (k int, race text);
SELECT * FROM fairsynth_sample((SELECT model FROM mv_models), NULL::mv_short);
-- (sizes and checksums vary with the model: digits shown as N)
CREATE FUNCTION mv_try(model bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM count(*) FROM fairsynth_sample(model, NULL::mv, num_rows => 10);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '0x[0-9a-f]+|[0-9]+', 'N', 'g');
END $$;
SELECT mv_try('\x0102');
SELECT mv_try(overlay(model placing '\x07000000'::bytea from 5)) FROM mv_models;
SELECT mv_try(substr(model, 1, length(model) - 10)) FROM mv_models;
SELECT mv_try(model || '\x00'::bytea) FROM mv_models;
SELECT mv_try(overlay(model placing '\xff'::bytea from length(model) - 100)) FROM mv_models;
SELECT mv_try(overlay(model placing '\x00000000'::bytea from 1)) FROM mv_models;
SELECT * FROM fairsynth_sample(NULL, NULL::mv);

-- fuzz: every flipped byte and every truncation is an error, never a crash
DO $$
DECLARE
  m bytea := (SELECT model FROM mv_models);
  n int := length(m);
  errors int := 0;
  tries int := 0;
  bad bytea;
BEGIN
  FOR i IN 0 .. n - 1 BY greatest(n / 150, 1) LOOP
    FOR kind IN 1 .. 2 LOOP
      bad := CASE kind WHEN 1 THEN set_byte(m, i, get_byte(m, i) # 85) ELSE substr(m, 1, i) END;
      tries := tries + 1;
      BEGIN
        PERFORM count(*) FROM fairsynth_sample(bad, NULL::mv, num_rows => 10, seed => 1);
      EXCEPTION WHEN data_corrupted OR feature_not_supported THEN
        errors := errors + 1;
      END;
    END LOOP;
  END LOOP;
  RAISE NOTICE 'fuzz: % of % altered or truncated models rejected', errors, tries;
END
$$;

-- One Citus shard's rows (fairsynth_balance_into): an integer key of the
-- model drawn after key_after so that every key's hash (hashint4 for int)
-- falls in the shard's range; the part's exact share of the plan
SELECT fairsynth_internal.fairsynth_model_keys(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv) AS keys;
CREATE TEMP TABLE shard1 AS
  SELECT * FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
         4000, 'full', NULL, 1, 3, 32, 'k', 5000, -2013265920, -1879048193);
SELECT count(*) AS part_rows, count(DISTINCT k) = count(*) AS unique_keys, min(k) > 5000 AS after,
       bool_and(hashint4(k) BETWEEN -2013265920 AND -1879048193) AS in_range
  FROM shard1;
-- the keys are the first ones after 5000 in that range, in order of the rows
SELECT (SELECT array_agg(k ORDER BY k) FROM shard1)
     = (SELECT array_agg(k) FROM (SELECT k FROM generate_series(5001, 5000 + 125 * 32 * 4) k
                                  WHERE hashint4(k) BETWEEN -2013265920 AND -1879048193 ORDER BY k LIMIT 125) s) AS first_in_range;
-- errors: not an integer key, a range narrower than a shard, a NULL argument
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'age', 0, 0, 1073741823);
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', 0, 5, 5);
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', NULL, 0, 1073741823);

-- A node filling several shards in one transaction passes all their ranges:
-- their keys are hashed once for all of them (a pool), and each shard's keys
-- are still the first ones after key_after in its range, in order.  With
-- work_mem at its least, the pool stops early and the shards go on alone.
CREATE TEMP TABLE mv_ranges AS
  SELECT i, (-2147483648 + i::bigint * 536870912)::int AS lo,
         (-2147483648 + (i + 1)::bigint * 536870912 - 1)::int AS hi
    FROM generate_series(0, 7) i;
CREATE FUNCTION mv_node_keys(total bigint) RETURNS TABLE (shard int, part_rows bigint, first_in_range boolean)
LANGUAGE plpgsql AS $$
DECLARE
  m bytea := fairsynth_fit(NULL::mv, ARRAY['race']);
  mins int[] := (SELECT array_agg(lo ORDER BY i) FROM mv_ranges WHERE i % 2 = 1);
  maxs int[] := (SELECT array_agg(hi ORDER BY i) FROM mv_ranges WHERE i % 2 = 1);
  r record;
  got int[];
BEGIN
  -- the node's shards in order, then the first one again (its queue was
  -- taken: it finds its keys alone, the same ones)
  FOR r IN (SELECT * FROM mv_ranges WHERE i % 2 = 1 ORDER BY i)
           UNION ALL (SELECT * FROM mv_ranges WHERE i = 1) LOOP
    SELECT array_agg(k ORDER BY k) INTO got
      FROM fairsynth_internal.fairsynth_sample_shard(m, NULL::mv, total, 'full', NULL, 1, r.i + 1, 8,
                                                     'k', 5000, r.lo, r.hi, mins, maxs);
    shard := r.i;
    part_rows := cardinality(got);
    first_in_range := got = (SELECT array_agg(k) FROM (
        SELECT k FROM generate_series(5001, (5000 + total * 4)::int) k
         WHERE hashint4(k) BETWEEN r.lo AND r.hi ORDER BY k LIMIT cardinality(got)) s);
    RETURN NEXT;
  END LOOP;
END
$$;
SET client_min_messages = debug2;
SELECT * FROM mv_node_keys(40000);
SET work_mem = '64kB';
SELECT * FROM mv_node_keys(200000);
RESET work_mem;
RESET client_min_messages;
-- errors: a range not among the node's, overlapping node ranges, arrays of
-- different lengths, a NULL element
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', 0, 0, 1073741823, '{-2147483648,1073741824}', '{-1073741825,2147483647}');
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', 0, 0, 1073741823, '{0,5}', '{1073741823,2147483647}');
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', 0, 0, 1073741823, '{0,1073741824}', '{1073741823}');
SELECT count(*) FROM fairsynth_internal.fairsynth_sample_shard(fairsynth_fit(NULL::mv, ARRAY['race']), NULL::mv,
       100, 'full', NULL, 1, 1, 4, 'k', 0, 0, 1073741823, '{0,NULL}', '{1073741823,2147483647}');
