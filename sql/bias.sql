-- fairsynth_bias: pre-training bias metrics (definitions of test/reference/bias.py)
\set SHOW_CONTEXT never
CREATE TABLE bias_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy bias_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)

-- race against two-year recidivism (favorable defaults to the least frequent label, 1)
SELECT facet_value, n, round(ci::numeric, 6) AS ci, round(dpl::numeric, 6) AS dpl,
       round(kl::numeric, 6) AS kl, round(js::numeric, 6) AS js, round(lp::numeric, 6) AS lp,
       round(tvd::numeric, 6) AS tvd, round(ks::numeric, 6) AS ks, round(di::numeric, 6) AS di,
       round(cddl::numeric, 6) AS cddl
FROM fairsynth_bias('bias_compas', 'race', 'two_year_recid');

-- the same, conditioned on sex
SELECT facet_value, n, round(dpl::numeric, 6) AS dpl, round(di::numeric, 6) AS di,
       round(cddl::numeric, 6) AS cddl
FROM fairsynth_bias('bias_compas', 'race', 'two_year_recid', group_by => 'sex');

-- sex against a three-valued label, favorable 'Low'
SELECT facet_value, n, round(ci::numeric, 6) AS ci, round(dpl::numeric, 6) AS dpl,
       round(kl::numeric, 6) AS kl, round(js::numeric, 6) AS js, round(lp::numeric, 6) AS lp,
       round(tvd::numeric, 6) AS tvd, round(ks::numeric, 6) AS ks, round(di::numeric, 6) AS di,
       round(cddl::numeric, 6) AS cddl
FROM fairsynth_bias('bias_compas', 'sex', 'score_text', 'Low');

-- NULL facet is the group 'NULL', NULL labels are ignored, ties for the default
-- favorable value go to the one met first ('d'), byte order of facet values,
-- DI is NULL when no other row is favorable, label values seen on one side only
-- are dropped before KL..KS (all NULL when no label value is seen on both sides)
CREATE TABLE bias_small (grp text, outcome text, site int);
INSERT INTO bias_small VALUES
  ('x', 'b', 1), ('y', 'a', 1), ('x', 'c', 2), ('y', 'a', 2), ('z', 'c', 1), ('x', 'b', 2),
  ('y', 'd', 1), ('x', 'd', 2), ('z', NULL, 1), (NULL, 'c', 2), (NULL, 'b', 1), ('y', 'a', 1),
  ('z', 'e', 2), ('x', 'e', 1), ('B', 'a', 1), ('a', 'a', 2), ('w', 'f', 1), ('w', 'f', 2);
SELECT facet_value, n, round(ci::numeric, 6) AS ci, round(dpl::numeric, 6) AS dpl,
       round(kl::numeric, 6) AS kl, round(js::numeric, 6) AS js, round(lp::numeric, 6) AS lp,
       round(tvd::numeric, 6) AS tvd, round(ks::numeric, 6) AS ks, round(di::numeric, 6) AS di,
       round(cddl::numeric, 6) AS cddl
FROM fairsynth_bias('bias_small', 'grp', 'outcome', group_by => 'site');
SELECT facet_value, n, round(dpl::numeric, 6) AS dpl, round(di::numeric, 6) AS di
FROM fairsynth_bias('bias_small', 'grp', 'outcome', 'e');
SELECT facet_value, n, round(dpl::numeric, 6) AS dpl, round(kl::numeric, 6) AS kl, round(ks::numeric, 6) AS ks,
       round(di::numeric, 6) AS di
FROM fairsynth_bias('bias_small', 'grp', 'outcome', 'f');
-- numeric facet and label, compared as text
SELECT facet_value, n, round(dpl::numeric, 6) AS dpl, round(di::numeric, 6) AS di
FROM fairsynth_bias('bias_small', 'site', 'grp', 'x');
-- a facet value covering every row is skipped: nothing to compare
DELETE FROM bias_small WHERE grp <> 'x' OR grp IS NULL;
SELECT * FROM fairsynth_bias('bias_small', 'grp', 'outcome');
-- no labelled rows: no result
UPDATE bias_small SET outcome = NULL;
SELECT * FROM fairsynth_bias('bias_small', 'grp', 'outcome');
TRUNCATE bias_small;
SELECT * FROM fairsynth_bias('bias_small', 'grp', 'outcome');

-- a caller granted SELECT on the facet and label columns only (no ctid):
-- the default favorable value's ties go to byte order, no permission error
CREATE TABLE bias_cols (f text, l int, secret text);
INSERT INTO bias_cols SELECT g % 3, g % 2, 's' FROM generate_series(1, 30) g;
CREATE ROLE regress_bias_colreader;
GRANT SELECT (f, l) ON bias_cols TO regress_bias_colreader;
SET ROLE regress_bias_colreader;
SELECT facet_value, n, dpl, di FROM fairsynth_bias('bias_cols', 'f', 'l');
RESET ROLE;
DROP TABLE bias_cols;
DROP ROLE regress_bias_colreader;

-- CDDL: NULL and '' are two different groups of group_by; computed with one
-- join (not a scan per facet value and group), so many groups stay fast
CREATE TABLE bias_groups AS
  SELECT (ARRAY['a', 'b', 'c'])[1 + h % 3] AS f,
         CASE WHEN (h * 7 + h / 11) % 5 < 2 THEN 'y' ELSE 'n' END AS l,
         (ARRAY[NULL, '', 'x', 'zz'])[1 + (h / 7) % 4] AS g
  FROM generate_series(1, 300) h;
SELECT facet_value, round(cddl::numeric, 12) AS cddl FROM fairsynth_bias('bias_groups', 'f', 'l', 'y', 'g');
DROP TABLE bias_groups;

-- a boolean label: favorable may be written true/false/t/f, with one result
CREATE TABLE bias_flags AS
  SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g, (i % 3 = 0 OR i % 4 = 1) AS flag
  FROM generate_series(1, 60) i;
SELECT count(DISTINCT (b.facet_value, b.dpl, b.di)) AS distinct_results, count(*) AS rows
FROM unnest(ARRAY['t', 'true', 'TRUE', 'yes']) f,
     LATERAL fairsynth_bias('bias_flags', 'g', 'flag', f) b;
SELECT facet_value, round(dpl::numeric, 6) AS dpl FROM fairsynth_bias('bias_flags', 'g', 'flag', 'f');
SELECT * FROM fairsynth_bias('bias_flags', 'g', 'flag', 'maybe');
\echo :LAST_ERROR_SQLSTATE
-- the same in a balance target
SELECT flag, count(*) FROM fairsynth_balance(NULL::bias_flags, ARRAY['flag'],
                                             target => '{"flag": {"true": 0.25}}', seed => 1)
GROUP BY flag ORDER BY flag;
-- a continuous label is an error with a hint to bin it
CREATE TABLE bias_costs AS SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g, i * 37.5 AS cost
  FROM generate_series(1, 100) i;
SELECT * FROM fairsynth_bias('bias_costs', 'g', 'cost');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE bias_flags, bias_costs;

-- errors (with their SQLSTATE)
SELECT * FROM fairsynth_bias('bias_compas', 'Race', 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', 'race', 'recid');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', 'race', 'race');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', 'race', 'two_year_recid', 'yes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', 'race', 'two_year_recid', group_by => 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', 'race', 'two_year_recid', group_by => 'county');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias('bias_compas', NULL, 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_bias(NULL, 'race', 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE

DROP TABLE bias_compas, bias_small;
