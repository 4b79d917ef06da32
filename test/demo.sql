-- fairsynth demo on the bundled compas table (ProPublica's COMPAS data)
\pset footer off
\set ECHO queries
CREATE EXTENSION fairsynth;
CREATE TABLE compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)

-- 1. How skewed is the table?
SELECT * FROM fairsynth_profile('compas', ARRAY['race', 'sex']);

-- 2. Bias of the outcome by race, before
SELECT facet_value, n, round(ci::numeric, 3) AS ci, round(dpl::numeric, 3) AS dpl,
       round(di::numeric, 3) AS di
FROM fairsynth_bias('compas', 'race', 'two_year_recid');

-- 3. A balanced synthetic table: every race x sex combination equally represented
CREATE TABLE compas_balanced AS
  SELECT * FROM fairsynth_balance(NULL::compas, ARRAY['race', 'sex'], seed => 42);
SELECT * FROM fairsynth_profile('compas_balanced', ARRAY['race', 'sex']);
SELECT * FROM compas_balanced LIMIT 5;
-- the outcome keeps its relation to race: the bias is still there (balancing group
-- sizes does not change outcome rates within a group)
SELECT facet_value, n, round(ci::numeric, 3) AS ci, round(dpl::numeric, 3) AS dpl,
       round(di::numeric, 3) AS di
FROM fairsynth_bias('compas_balanced', 'race', 'two_year_recid');

-- 4. Fair outcomes: the same recidivism distribution in every race (demographic parity)
CREATE TABLE compas_fair AS
  SELECT * FROM fairsynth_balance(NULL::compas, ARRAY['race'], outcome => 'two_year_recid', seed => 42);
SELECT facet_value, n, round(dpl::numeric, 3) AS dpl, round(di::numeric, 3) AS di
FROM fairsynth_bias('compas_fair', 'race', 'two_year_recid');

-- 5. Only the rows to append to the source so that it becomes balanced
SELECT race, count(*) AS rows_to_add
FROM fairsynth_balance(NULL::compas, ARRAY['race'], mode => 'additive', seed => 42)
GROUP BY race ORDER BY rows_to_add DESC;

-- 6. Fidelity of the balanced rows (accuracy 1.0 = same binned distributions)
SELECT metric, round(value::numeric, 3) AS value
FROM fairsynth_quality('compas', 'compas_balanced')
WHERE column_name IS NULL;
