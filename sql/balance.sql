-- fairsynth_balance and fairsynth_synthesize on the bundled compas table
\set SHOW_CONTEXT never
CREATE TABLE balance_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy balance_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)

-- full mode: every race x sex combination gets floor or ceil of 7214 / 12 rows
SELECT race, sex, count(*)
FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 42)
GROUP BY race, sex ORDER BY race, sex;

-- a fixed seed gives the same rows; the first rows are shown exactly
CREATE TABLE balance_full AS
  SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 42);
SELECT count(*) AS differing_rows FROM (
  (SELECT * FROM balance_full EXCEPT ALL
   SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 42))
  UNION ALL
  (SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 42)
   EXCEPT ALL SELECT * FROM balance_full)) d;
SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], num_rows => 5, seed => 7);
-- another seed gives other rows
SELECT count(*) > 6000 AS mostly_different FROM (
  SELECT * FROM balance_full EXCEPT ALL
  SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 43)) d;

-- num_rows: exact counts again (1000 / 12 = 83.3)
SELECT count(*) AS combos, min(n), max(n), sum(n) FROM (
  SELECT race, sex, count(*) AS n
  FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], num_rows => 1000, seed => 1)
  GROUP BY 1, 2) s;

-- additive mode: the source plus the rows is exactly balanced, no source row removed
SELECT race, sex, count(*) AS total FROM (
  SELECT race, sex FROM balance_compas
  UNION ALL
  SELECT race, sex FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'],
                                          mode => 'additive', seed => 1)) s
GROUP BY race, sex ORDER BY race, sex;
SELECT count(*) AS added
FROM fairsynth_balance(NULL::balance_compas, ARRAY['race'], mode => 'additive', seed => 1);

-- target shares: named values get their share, the others keep their proportions
SELECT sex, count(*)
FROM fairsynth_balance(NULL::balance_compas, ARRAY['sex'], target => '{"sex": {"Female": 0.3}}', seed => 1)
GROUP BY sex ORDER BY sex;
SELECT race, count(*)
FROM fairsynth_balance(NULL::balance_compas, ARRAY['race'], num_rows => 10000,
                       target => '{"race": {"Asian": 0.2, "Native American": 0.2}}', seed => 1)
GROUP BY race ORDER BY race;
-- the joint target is the product of the columns' targets
SELECT race, sex, count(*)
FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], num_rows => 1200,
                       target => '{"sex": {"Female": 0.25}}', seed => 1)
GROUP BY race, sex ORDER BY race, sex;
-- additive with a target: the smallest total that keeps every source row
SELECT sex, count(*) AS total FROM (
  SELECT sex FROM balance_compas
  UNION ALL
  SELECT sex FROM fairsynth_balance(NULL::balance_compas, ARRAY['sex'], mode => 'additive',
                                    target => '{"sex": {"Female": 0.4}}', seed => 1)) s
GROUP BY sex ORDER BY sex;

-- combinations never seen together are extrapolated, with a NOTICE
SELECT count(*) FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex','age_cat','c_charge_degree'],
                                       num_rows => 720, seed => 1);

-- balancing keeps what the model learned within each group (tolerances fail if it
-- breaks), measured on 10x the rows so that the output's own sampling noise stays
-- small (a group's rate in 600 rows varies by 0.02):
CREATE TEMP TABLE balance_big AS
  SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'],
                                  num_rows => 72140, seed => 42);
-- the recidivism rate and mean priors of every race x sex group of 200+ rows stay close
-- (a group drawn from leaves it shares with others drifted: African-American women
-- 0.38 in the source, 0.46 balanced)
WITH src AS (SELECT race, sex, avg(two_year_recid) AS rate, avg(priors_count) AS priors
             FROM balance_compas GROUP BY race, sex HAVING count(*) >= 200),
     syn AS (SELECT race, sex, avg(two_year_recid) AS rate, avg(priors_count) AS priors
             FROM balance_big GROUP BY race, sex)
SELECT src.race, src.sex, abs(src.rate - syn.rate) < 0.04 AS rate_kept,
       abs(src.priors - syn.priors) < 0.15 * src.priors AS priors_kept
FROM src JOIN syn USING (race, sex) ORDER BY race, sex;
-- and within each group of 300+ rows the dependencies the whole table shows (a
-- group that relearned them from its own rows alone lost them: Caucasian women,
-- priors_count with decile_score 0.40 in the source, 0.24 balanced)
WITH src AS (SELECT race, sex, corr(priors_count, decile_score) AS pd,
                    corr(decile_score, v_decile_score) AS dv
             FROM balance_compas GROUP BY race, sex HAVING count(*) >= 300),
     out AS (SELECT race, sex, corr(priors_count, decile_score) AS pd,
                    corr(decile_score, v_decile_score) AS dv
             FROM balance_big GROUP BY race, sex)
SELECT race, sex, abs(src.pd - out.pd) < 0.1 AS priors_decile_kept,
       abs(src.dv - out.dv) < 0.1 AS decile_v_decile_kept
FROM src JOIN out USING (race, sex) ORDER BY race, sex;
-- and dependencies among columns: score_text follows decile_score, age_cat follows age
-- (in compas, age 45 is 'Greater than 45': the bands are 18-24, 25-44, 45-96)
SELECT avg(CASE WHEN (decile_score <= 4 AND score_text = 'Low')
                  OR (decile_score BETWEEN 5 AND 7 AND score_text = 'Medium')
                  OR (decile_score >= 8 AND score_text = 'High') THEN 1 ELSE 0 END) > 0.99 AS score_consistent,
       avg(CASE WHEN (age < 25 AND age_cat = 'Less than 25')
                  OR (age BETWEEN 25 AND 44 AND age_cat = '25 - 45')
                  OR (age >= 45 AND age_cat = 'Greater than 45') THEN 1 ELSE 0 END) > 0.99 AS age_consistent
FROM balance_full;
-- NULL shares are reproduced (source: 307 / 7214 = 4.3 %) and values stay in range
SELECT abs(avg((days_b_screening_arrest IS NULL)::int) - 307.0 / 7214) < 0.02 AS null_share_kept,
       min(age) >= 18 AND max(age) <= 96 AS age_in_range,
       bool_and(race IS NOT NULL AND sex IS NOT NULL) AS balance_never_null
FROM balance_full;
-- a faithful copy: synthesize keeps the race shares within 0.02
SELECT s.race, abs(s.n::float8 / 7214 - o.n::float8 / 7214) < 0.02 AS share_kept
FROM (SELECT race, count(*) AS n FROM fairsynth_synthesize(NULL::balance_compas, seed => 3) GROUP BY 1) s
JOIN (SELECT race, count(*) AS n FROM balance_compas GROUP BY 1) o USING (race)
ORDER BY race;
SELECT count(*) FROM fairsynth_synthesize(NULL::balance_compas, num_rows => 100, seed => 3);

-- the text form needs a column definition list; the typed form does not
SELECT count(*) FROM fairsynth_balance('balance_compas', ARRAY['sex'], seed => 1)
  AS t(sex text, age int, age_cat text, race text,
       juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
       days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
       decile_score int, score_text text, v_decile_score int, v_score_text text,
       is_recid int, is_violent_recid int, two_year_recid int);

-- views and materialized views over the output
CREATE VIEW balance_view AS
  SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['sex'], seed => 5);
SELECT sex, count(*) FROM balance_view GROUP BY sex ORDER BY sex;
CREATE MATERIALIZED VIEW balance_mv AS
  SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 42);
SELECT count(*) AS differing_rows FROM (SELECT * FROM balance_mv EXCEPT ALL SELECT * FROM balance_full) d;
-- input may itself be a view
CREATE VIEW balance_src_view AS SELECT sex, race, age, priors_count FROM balance_compas WHERE age < 60;
SELECT race, count(*) FROM fairsynth_balance(NULL::balance_src_view, ARRAY['race'], seed => 1)
GROUP BY race ORDER BY race;

-- the planner expects num_rows, or the source's size (a support function)
ANALYZE balance_compas;
CREATE FUNCTION balance_plan_rows(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT balance_plan_rows('SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY[''race''])') AS full_default,
       balance_plan_rows('SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY[''race''], num_rows => 500)') AS full_500,
       balance_plan_rows('SELECT * FROM fairsynth_synthesize(NULL::balance_compas, num_rows => 42)') AS synthesize_42,
       balance_plan_rows('SELECT * FROM fairsynth_impute(NULL::balance_compas)') AS impute;
DROP FUNCTION balance_plan_rows(text);

-- derived columns stay consistent: age_cat is a function of age, score_text of
-- decile_score in the source, so they are drawn as those functions (and age's
-- bins are cut at the age groups' boundaries); under 1 % of rows may pair values
-- the source never pairs (before: 24 % and 17 % of balanced rows)
SELECT round(avg((NOT EXISTS (SELECT 1 FROM balance_compas s
                              WHERE s.age = t.age AND s.age_cat = t.age_cat))::int), 2) < 0.01 AS age_groups_consistent,
       round(avg((NOT EXISTS (SELECT 1 FROM balance_compas s
                              WHERE s.decile_score = t.decile_score AND s.score_text = t.score_text))::int), 2) < 0.01 AS score_bands_consistent
FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], seed => 5) t;

-- the same for a continuous number and its band, whatever the bins
CREATE TABLE balance_bands AS
  SELECT x, CASE WHEN x < 30 THEN 'low' WHEN x < 70 THEN 'mid' ELSE 'high' END AS band,
         (i % 3)::text AS g
  FROM (SELECT i, ((i * 7919) % 10007) / 100.07 AS x FROM generate_series(1, 5000) i) v;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE band <> CASE WHEN x < 30 THEN 'low' WHEN x < 70 THEN 'mid' ELSE 'high' END) < 50 AS bands_consistent
FROM fairsynth_synthesize(NULL::balance_bands, seed => 1);

-- the copy guard: no synthetic row is identical to a source row (with the
-- guard switched off, 198 and 187 of these 20,000 rows were)
SELECT (SELECT count(*) FROM (
          SELECT * FROM fairsynth_synthesize(NULL::balance_compas, num_rows => 20000, seed => 11)
          INTERSECT ALL SELECT * FROM balance_compas) t) AS synthesize_copies,
       (SELECT count(*) FROM (
          SELECT * FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], num_rows => 20000, seed => 11)
          INTERSECT ALL SELECT * FROM balance_compas) t) AS balance_copies;

-- a rule of the data survives smoothing: the source has no two-year recidivism
-- without recidivism, and neither have these rows (before structural zeros
-- were kept, 9 and 137 of them had it)
SELECT (SELECT count(*) FILTER (WHERE two_year_recid = 1 AND is_recid = 0)
        FROM fairsynth_synthesize(NULL::balance_compas, num_rows => 20000, seed => 12)) AS synthesize_broken,
       (SELECT count(*) FILTER (WHERE two_year_recid = 1 AND is_recid = 0)
        FROM fairsynth_balance(NULL::balance_compas, ARRAY['race','sex'], num_rows => 20000, seed => 12)) AS balance_broken,
       (SELECT count(*) FILTER (WHERE two_year_recid = 1 AND is_recid = 0) FROM balance_compas) AS source_broken;

DROP TABLE balance_bands;

DROP MATERIALIZED VIEW balance_mv;
DROP VIEW balance_view, balance_src_view;
DROP TABLE balance_full, balance_compas;

