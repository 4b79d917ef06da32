--
-- fairsynth_quality: accuracy (fidelity), privacy and discriminator AUC of a
-- synthetic relation against the original one
--
CREATE TABLE quality_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy quality_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)
-- ids in file order (adding a serial column rewrites the table in scan order)
ALTER TABLE quality_compas ADD COLUMN id serial;
-- deterministic 80/20 split; the views leave the id out
CREATE VIEW quality_trn AS
  SELECT sex, age, age_cat, race, juv_fel_count, juv_misd_count, juv_other_count,
         priors_count, days_b_screening_arrest, c_charge_degree, c_charge_desc,
         decile_score, score_text, v_decile_score, v_score_text, is_recid,
         is_violent_recid, two_year_recid
  FROM quality_compas WHERE id % 5 <> 0 ORDER BY id;
CREATE VIEW quality_hol AS
  SELECT sex, age, age_cat, race, juv_fel_count, juv_misd_count, juv_other_count,
         priors_count, days_b_screening_arrest, c_charge_degree, c_charge_desc,
         decile_score, score_text, v_decile_score, v_score_text, is_recid,
         is_violent_recid, two_year_recid
  FROM quality_compas WHERE id % 5 = 0 ORDER BY id;
-- a "synthetic" table: the training part, every row perturbed a little
CREATE TABLE quality_syn AS
  SELECT sex, age + 1 AS age, age_cat,
         CASE WHEN id % 17 = 0 THEN 'Caucasian' ELSE race END AS race,
         juv_fel_count, juv_misd_count, juv_other_count,
         CASE WHEN id % 4 = 1 THEN priors_count + 1 ELSE priors_count END AS priors_count,
         CASE WHEN id % 7 = 0 THEN NULL ELSE days_b_screening_arrest END AS days_b_screening_arrest,
         c_charge_degree,
         CASE WHEN id % 11 = 0 THEN 'Battery' ELSE c_charge_desc END AS c_charge_desc,
         decile_score, score_text, v_decile_score, v_score_text,
         is_recid, is_violent_recid, two_year_recid
  FROM quality_compas WHERE id % 5 <> 0 ORDER BY id;
SELECT (SELECT count(*) FROM quality_trn) AS trn, (SELECT count(*) FROM quality_hol) AS hol,
       (SELECT count(*) FROM quality_syn) AS syn;

-- without a holdout: accuracy per column and overall
SELECT metric, column_name, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_trn', 'quality_syn')
  WHERE column_name2 IS NULL;
-- one row per column pair, in the original's column order
SELECT count(*) AS pairs, round(min(value)::numeric, 4) AS min,
       round(avg(value)::numeric, 4) AS avg, round(max(value)::numeric, 4) AS max
  FROM fairsynth_quality('quality_trn', 'quality_syn')
  WHERE metric = 'accuracy_bivariate' AND column_name IS NOT NULL;
SELECT column_name, column_name2, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_trn', 'quality_syn')
  WHERE metric = 'accuracy_bivariate' AND 'race' IN (column_name, column_name2)
  ORDER BY value, column_name, column_name2 LIMIT 5;

-- with a holdout: the ceiling, privacy and the discriminator
SELECT metric, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol')
  WHERE column_name IS NULL;
-- the holdout as "synthetic" reaches the ceiling exactly
SELECT metric, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_trn', 'quality_hol', 'quality_hol', seed => 7)
  WHERE column_name IS NULL;
-- an exact copy of the training part: every sampled row is an exact match
SELECT metric, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_trn', 'quality_trn', 'quality_hol')
  WHERE metric IN ('accuracy_overall', 'dcr_share', 'exact_match', 'nndr_p5');

-- few-valued numbers and spikes (reference version 2): a 0/1 column and a
-- count that is mostly 0 broken in every row are seen as broken (the
-- reference gives 0.451 and 0.003), not hidden in one bin every table matches
-- (quality_compas has a serial id: a key, left out)
CREATE TABLE quality_broken AS SELECT * FROM quality_compas;
UPDATE quality_broken SET two_year_recid = 1, juv_fel_count = 20;
SELECT column_name, round(value::numeric, 3) AS value
  FROM fairsynth_quality('quality_compas', 'quality_broken')
  WHERE metric = 'accuracy_univariate' AND column_name IN ('two_year_recid', 'juv_fel_count');
DROP TABLE quality_broken;

-- keys: a serial primary key, a uuid and a unique text column are left out of
-- every metric (a NOTICE names them); the discriminator cannot tell a
-- faithful copy (real rows of the same population, fresh keys) from the
-- original, and keys no longer make synthetic rows stand out
CREATE TABLE quality_patients (
  id serial PRIMARY KEY, uid uuid NOT NULL, code text UNIQUE,
  sex text, age int, race text, priors_count int, c_charge_degree text,
  decile_score int, two_year_recid int);
INSERT INTO quality_patients (uid, code, sex, age, race, priors_count, c_charge_degree,
                              decile_score, two_year_recid)
  SELECT md5('p' || id)::uuid, 'P-' || lpad(id::text, 5, '0'), sex, age, race, priors_count,
         c_charge_degree, decile_score, two_year_recid
  FROM quality_compas WHERE id % 5 <> 0 ORDER BY id;
CREATE TABLE quality_patients_hol AS
  SELECT id, md5('h' || id)::uuid AS uid, 'H-' || id AS code, sex, age, race, priors_count,
         c_charge_degree, decile_score, two_year_recid
  FROM quality_compas WHERE id % 5 = 0 ORDER BY id;
CREATE TABLE quality_patients_syn AS
  SELECT * FROM fairsynth_synthesize(NULL::quality_patients, seed => 1);
CREATE TABLE quality_patients_copy AS
  SELECT id + 100000 AS id, md5('c' || id)::uuid AS uid, 'C-' || id AS code, sex, age, race,
         priors_count, c_charge_degree, decile_score, two_year_recid
  FROM quality_compas WHERE id % 5 = 0 ORDER BY id;
SELECT count(*) FILTER (WHERE 'id' IN (column_name, column_name2)
                           OR 'uid' IN (column_name, column_name2)
                           OR 'code' IN (column_name, column_name2)) AS key_rows,
       count(*) FILTER (WHERE metric = 'accuracy_univariate' AND column_name IS NOT NULL) AS columns,
       count(*) FILTER (WHERE metric = 'accuracy_bivariate' AND column_name IS NOT NULL) AS pairs,
       round(max(value) FILTER (WHERE metric = 'discriminator_auc')::numeric, 2) AS auc
  FROM fairsynth_quality('quality_patients', 'quality_patients_copy', 'quality_patients_hol');
SELECT count(*) FILTER (WHERE 'id' IN (column_name, column_name2)
                           OR 'uid' IN (column_name, column_name2)
                           OR 'code' IN (column_name, column_name2)) AS key_rows,
       max(value) FILTER (WHERE metric = 'discriminator_auc') < 0.75 AS auc_below_075,
       max(value) FILTER (WHERE metric = 'accuracy_overall') > 0.9 AS overall_above_09
  FROM fairsynth_quality('quality_patients', 'quality_patients_syn', 'quality_patients_hol');
-- the keys' values need not exist elsewhere: a synthetic relation without them is fine
CREATE VIEW quality_patients_nokeys AS
  SELECT sex, age, race, priors_count, c_charge_degree, decile_score, two_year_recid
  FROM quality_patients_syn;
SELECT count(*) AS rows FROM fairsynth_quality('quality_patients', 'quality_patients_nokeys');
-- a relation of keys only has nothing to compare
CREATE TABLE quality_only_keys AS SELECT id, code FROM quality_patients;
SELECT * FROM fairsynth_quality('quality_only_keys', 'quality_only_keys');
-- a key is no label
SELECT * FROM fairsynth_quality('quality_patients', 'quality_patients_copy',
                                'quality_patients_hol', label => 'code');
DROP VIEW quality_patients_nokeys;
DROP TABLE quality_patients, quality_patients_hol, quality_patients_syn, quality_patients_copy,
           quality_only_keys;

-- utility: with a holdout and a label, trtr_auc (a classifier trained on the
-- original) and tstr_auc (trained on the synthetic relation), both scored on
-- the holdout; the old call forms keep working without them
SELECT metric, column_name, round(value::numeric, 3) AS value
  FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol',
                         label => 'two_year_recid', favorable => '1')
  WHERE metric LIKE 't%_auc';
-- the favorable value defaults to the least frequent one (here 1 as well)
SELECT metric, round(value::numeric, 3) AS value
  FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 0, 'two_year_recid')
  WHERE metric LIKE 't%_auc';
SELECT count(*) AS rows FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 0);
-- a boolean label: its favorable value may be written true/false/t/f
CREATE VIEW quality_flag_trn AS SELECT sex, age, race, priors_count, two_year_recid = 1 AS recid
  FROM quality_trn;
CREATE VIEW quality_flag_hol AS SELECT sex, age, race, priors_count, two_year_recid = 1 AS recid
  FROM quality_hol;
SELECT f, round(value::numeric, 3) AS trtr_auc
  FROM unnest(ARRAY['true', 't', 'false']) f,
       LATERAL fairsynth_quality('quality_flag_trn', 'quality_flag_hol', 'quality_flag_hol',
                                 label => 'recid', favorable => f)
  WHERE metric = 'trtr_auc';
-- errors
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', label => 'two_year_recid');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', favorable => '1');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', label => 'recid');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol',
                                label => 'two_year_recid', favorable => '7');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol',
                                label => 'two_year_recid', favorable => 'yes');
SELECT * FROM fairsynth_quality('quality_flag_trn', 'quality_flag_hol', 'quality_flag_hol',
                                label => 'recid', favorable => 'maybe');
DROP VIEW quality_flag_trn, quality_flag_hol;

-- deterministic for a seed; another seed only moves the sampled metrics
SELECT count(*) AS differences FROM (
  (SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 42)
   EXCEPT ALL
   SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 42))
  UNION ALL
  (SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 42)
   EXCEPT ALL
   SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 42))) d;
SELECT a.metric, a.value = b.value AS same_value
  FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 1) a
  JOIN fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol', 2) b
    USING (metric)
  WHERE a.column_name IS NULL AND b.column_name IS NULL
  ORDER BY 1;

-- columns are matched by name: extra synthetic columns and their order do not matter
CREATE VIEW quality_syn_extra AS
  SELECT two_year_recid, is_violent_recid, is_recid, 42 AS extra, v_score_text,
         v_decile_score, score_text, decile_score, c_charge_desc, c_charge_degree,
         days_b_screening_arrest, priors_count, juv_other_count, juv_misd_count,
         juv_fel_count, race, age_cat, age, sex, 'x' AS extra2
  FROM quality_syn;
SELECT count(*) AS differences FROM (
  SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_hol')
  EXCEPT
  SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn_extra', 'quality_hol')) d;

-- other types: numeric, real (NaN is missing), date and timestamptz (epoch),
-- boolean, varchar, char, enum (text output), NULLs everywhere; names that
-- need quoting
CREATE TYPE quality_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE quality_types_all AS
  SELECT i, CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 37) * 1.5 END::numeric AS n,
         CASE WHEN i % 29 = 0 THEN 'NaN' ELSE (i * 7 % 101) / 3.0 END::real AS r,
         date '2024-01-01' + (i * 11 % 90) AS d,
         timestamptz '2024-01-01 00:00+00' + (i * 13 % 50) * interval '1 hour' AS ts,
         CASE WHEN i % 17 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
         ('v' || (i * i % 23))::varchar(10) AS v,
         (i % 4)::char(3) AS c,
         (ARRAY['sad', 'ok', 'happy']::quality_mood[])[1 + i % 3] AS "Mood ""m"""
  FROM generate_series(1, 500) i;
CREATE VIEW quality_types AS
  SELECT n, r, d, ts, b, v, c, "Mood ""m""" FROM quality_types_all WHERE i <= 400;
CREATE VIEW quality_types_hol AS
  SELECT n, r, d, ts, b, v, c, "Mood ""m""" FROM quality_types_all WHERE i > 400;
CREATE TABLE "quality Types; syn" AS
  SELECT n + 1.5 AS n, r, d + 1 AS d, ts, NOT b AS b, v, c,
         (ARRAY['sad', 'ok', 'happy']::quality_mood[])[1 + ("Mood ""m"""::text = 'ok')::int]
           AS "Mood ""m"""
  FROM quality_types;
SELECT metric, column_name, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_types', '"quality Types; syn"', 'quality_types_hol')
  WHERE column_name2 IS NULL;

-- row-level security and privileges apply: relations are read as the caller
CREATE ROLE regress_quality_reader;
CREATE TABLE quality_rls AS SELECT * FROM quality_trn;
ALTER TABLE quality_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY quality_rls_female ON quality_rls FOR SELECT USING (sex = 'Female');
GRANT SELECT ON quality_rls, quality_syn TO regress_quality_reader;
SELECT round(value::numeric, 4) AS sex_accuracy_as_owner
  FROM fairsynth_quality('quality_rls', 'quality_syn')
  WHERE metric = 'accuracy_univariate' AND column_name = 'sex';
SET ROLE regress_quality_reader;
SELECT round(value::numeric, 4) AS sex_accuracy_under_rls
  FROM fairsynth_quality('quality_rls', 'quality_syn')
  WHERE metric = 'accuracy_univariate' AND column_name = 'sex';
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn');
RESET ROLE;

-- errors
CREATE TABLE quality_missing AS SELECT sex, age FROM quality_syn;
CREATE VIEW quality_badtype AS
  SELECT sex, age::bigint AS age, age_cat, race, juv_fel_count, juv_misd_count,
         juv_other_count, priors_count, days_b_screening_arrest, c_charge_degree,
         c_charge_desc, decile_score, score_text, v_decile_score, v_score_text,
         is_recid, is_violent_recid, two_year_recid
  FROM quality_syn;
CREATE TABLE quality_empty AS SELECT * FROM quality_syn LIMIT 0;
CREATE TABLE quality_nocols ();
DO $$
BEGIN
  EXECUTE (SELECT format('CREATE TABLE quality_wide (%s)', string_agg('c' || i || ' int', ', '))
           FROM generate_series(1, 201) i);
END $$;
SELECT * FROM fairsynth_quality('quality_trn', 'quality_missing');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_missing');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_badtype');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_empty');
SELECT * FROM fairsynth_quality('quality_empty', 'quality_syn');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', 'quality_empty');
SELECT * FROM fairsynth_quality('quality_nocols', 'quality_syn');
SELECT * FROM fairsynth_quality('quality_wide', 'quality_wide');
SELECT * FROM fairsynth_quality(NULL, 'quality_syn');
SELECT * FROM fairsynth_quality('quality_trn', 'quality_syn', NULL, NULL);
SELECT * FROM fairsynth_quality('quality_no_such_table', 'quality_syn');
-- their SQLSTATEs
CREATE FUNCTION quality_sqlstate(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT q, quality_sqlstate('SELECT * FROM fairsynth_quality(' || q || ')') AS sqlstate
  FROM (VALUES ('''quality_trn'', ''quality_missing'''),
               ('''quality_trn'', ''quality_badtype'''),
               ('''quality_trn'', ''quality_empty'''),
               ('''quality_empty'', ''quality_syn'''),
               ('''quality_trn'', ''quality_syn'', ''quality_empty'''),
               ('''quality_nocols'', ''quality_syn'''),
               ('''quality_wide'', ''quality_wide'''),
               ('NULL, ''quality_syn''')) v(q);

-- NaN and infinities (float, numeric, timestamptz) are missing: compared with
-- itself, every privacy figure is a number (exact copies, nndr 0)
CREATE TABLE quality_inf (x float8, d timestamptz, n numeric);
INSERT INTO quality_inf
  SELECT CASE WHEN g % 7 = 0 THEN 'NaN' WHEN g % 11 = 0 THEN 'Infinity'
              WHEN g % 13 = 0 THEN '-Infinity' ELSE g::float8 END,
         CASE WHEN g % 5 = 0 THEN 'infinity'::timestamptz
              ELSE '2020-01-01'::timestamptz + g * interval '1 day' END,
         CASE WHEN g % 9 = 0 THEN 'Infinity'::numeric ELSE g::numeric END
  FROM generate_series(1, 100) g;
SELECT metric, round(value::numeric, 4) AS value
  FROM fairsynth_quality('quality_inf', 'quality_inf', 'quality_inf')
  WHERE column_name IS NULL AND metric <> 'discriminator_auc';
DROP TABLE quality_inf;

-- catalog: volatility, parallel safety, rows estimate, comment
SELECT p.provolatile, p.proparallel, p.prorows, p.proconfig,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment
  FROM pg_proc p WHERE p.proname = 'fairsynth_quality';

DROP FUNCTION quality_sqlstate(text);
DROP VIEW quality_badtype, quality_syn_extra, quality_trn, quality_hol,
          quality_types, quality_types_hol;
DROP TABLE quality_rls, quality_missing, quality_empty, quality_nocols, quality_wide,
           quality_types_all, "quality Types; syn", quality_syn, quality_compas;
DROP TYPE quality_mood;
DROP ROLE regress_quality_reader;
