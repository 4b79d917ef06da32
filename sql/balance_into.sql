-- fairsynth_balance_into on plain PostgreSQL (issue #12): one INSERT as the
-- calling role; exact counts, the same rows as fairsynth_balance, privileges,
-- errors; and the read-state fit it uses on Citus (fairsynth_read_fit).
SET client_min_messages = warning;
CREATE TABLE bi (
  k int PRIMARY KEY,
  race text, sex text, age int, score int, outcome int);
INSERT INTO bi
  SELECT i, (ARRAY['a','b','c','d'])[1 + i % 4], CASE WHEN i % 5 = 0 THEN 'f' ELSE 'm' END,
         20 + (i * 37) % 50, (i * 13) % 11, CASE WHEN (i * 17) % 10 < 3 + (i % 4) THEN 1 ELSE 0 END
  FROM generate_series(1, 2000) i;
CREATE TABLE bi_out (LIKE bi);
RESET client_min_messages;

-- the count returned, the rows inserted, and they are fairsynth_balance's
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race', 'sex'], num_rows => 800, seed => 5) AS inserted;
SELECT race, sex, count(*) FROM bi_out GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS differ FROM (
  (SELECT * FROM bi_out EXCEPT ALL
   SELECT * FROM fairsynth_balance(NULL::bi, ARRAY['race', 'sex'], num_rows => 800, seed => 5))
  UNION ALL
  (SELECT * FROM fairsynth_balance(NULL::bi, ARRAY['race', 'sex'], num_rows => 800, seed => 5)
   EXCEPT ALL SELECT * FROM bi_out)) d;
-- additive mode with an outcome: source plus rows is balanced
TRUNCATE bi_out;
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['sex'], mode => 'additive', seed => 1) AS added;
SELECT sex, count(*) FROM (SELECT sex FROM bi UNION ALL SELECT sex FROM bi_out) u GROUP BY 1 ORDER BY 1;
-- inside a transaction that rolls back: nothing stays
BEGIN;
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race'], num_rows => 100) AS inserted;
ROLLBACK;
SELECT count(*) AS after_rollback FROM bi_out;

-- the fit from read states (what Citus workers ship) keeps the exact counts
TRUNCATE bi_out;
INSERT INTO bi_out SELECT * FROM fairsynth_sample(
  fairsynth_internal.fairsynth_read_fit(
    ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k <= 700),
          (SELECT fairsynth_internal.fairsynth_read_merge(ARRAY[
             (SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k > 700 AND k <= 1500),
             (SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k > 1500),
             NULL]))],
    NULL::bi, ARRAY['race', 'sex'], NULL, false, NULL),
  NULL::bi, num_rows => 1000, seed => 3, part => 1, parts => 2);
INSERT INTO bi_out SELECT * FROM fairsynth_sample(
  fairsynth_internal.fairsynth_read_fit(
    ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t)],
    NULL::bi, ARRAY['race', 'sex'], NULL, false, NULL),
  NULL::bi, num_rows => 1000, seed => 3, part => 2, parts => 2);
SELECT race, sex, count(*) FROM bi_out GROUP BY 1, 2 ORDER BY 1, 2;
-- split or not (three parts' states, in another order), the same model
SELECT fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k % 3 = 2),
               (SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k % 3 = 0),
               (SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t WHERE k % 3 = 1)],
         NULL::bi, ARRAY['race', 'sex'], NULL, false, NULL)
     = fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race', 'sex']) FROM bi t)],
         NULL::bi, ARRAY['race', 'sex'], NULL, false, NULL) AS same_model;

-- privileges: INSERT on the destination, SELECT on the source, as the caller
CREATE ROLE bi_reader;
GRANT SELECT ON bi TO bi_reader;
GRANT SELECT ON bi_out TO bi_reader;
SET ROLE bi_reader;
\set VERBOSITY default
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race']);
RESET ROLE;
GRANT INSERT (k, race, sex, age, score, outcome) ON bi_out TO bi_reader;
REVOKE SELECT ON bi FROM bi_reader;
SET ROLE bi_reader;
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race']);
RESET ROLE;
GRANT SELECT ON bi TO bi_reader;
SET ROLE bi_reader;
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race'], num_rows => 10) AS column_grants_suffice;
RESET ROLE;

-- errors: each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT fairsynth_balance_into(NULL, NULL::bi, ARRAY['race']);
SELECT fairsynth_balance_into(4294967295::oid::regclass, NULL::bi, ARRAY['race']);
SELECT fairsynth_balance_into('bi_out', NULL::int, ARRAY['race']);
CREATE VIEW bi_view AS SELECT * FROM bi_out;
SELECT fairsynth_balance_into('bi_view', NULL::bi, ARRAY['race']);
CREATE TABLE bi_narrow (k int, race text);
SELECT fairsynth_balance_into('bi_narrow', NULL::bi, ARRAY['race']);
CREATE TABLE bi_retyped (k int, race int, sex text, age int, score int, outcome int);
SELECT fairsynth_balance_into('bi_retyped', NULL::bi, ARRAY['race']);
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['nope']);
SELECT fairsynth_balance_into('bi_out', NULL::bi, ARRAY['race'], mode => 'additive', num_rows => 5);
SELECT fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['sex']) FROM bi t)],
         NULL::bi, ARRAY['race'], NULL, false, NULL);
SELECT fairsynth_internal.fairsynth_read_fit(ARRAY['\x0001'::bytea], NULL::bi, ARRAY['race'], NULL, false, NULL);
SELECT fairsynth_internal.fairsynth_read_fit(ARRAY[NULL::bytea], NULL::bi, ARRAY['race'], NULL, false, NULL);
-- states of another row type: their sampled rows have other columns (42804)
INSERT INTO bi_narrow SELECT k, race FROM bi;
SELECT fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race']) FROM bi_narrow t)],
         NULL::bi, ARRAY['race'], NULL, false, NULL);
-- a state whose form mark is altered (XX001)
SELECT fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT overlay(fairsynth_internal.fairsynth_read_state(t, ARRAY['race']) PLACING '\x00'::bytea FROM 1 FOR 1) FROM bi t)],
         NULL::bi, ARRAY['race'], NULL, false, NULL);
\set VERBOSITY default
-- and the messages
SELECT fairsynth_balance_into('bi_narrow', NULL::bi, ARRAY['race']);
SELECT fairsynth_balance_into('bi_view', NULL::bi, ARRAY['race']);
SELECT fairsynth_internal.fairsynth_read_fit(
         ARRAY[(SELECT fairsynth_internal.fairsynth_read_state(t, ARRAY['race']) FROM bi_narrow t)],
         NULL::bi, ARRAY['race'], NULL, false, NULL);
DROP VIEW bi_view;
DROP TABLE bi, bi_out, bi_narrow, bi_retyped;
DROP ROLE bi_reader;
