-- fairsynth_model_bias: post-training bias of a model's predictions (definitions
-- of test/reference/bias.py --predicted; figures checked in test/t/035_*.pl)
\set SHOW_CONTEXT never
\set VERBOSITY default
CREATE TABLE mb_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy mb_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)
CREATE VIEW mb_scored AS
  SELECT race, sex, age_cat, two_year_recid, (decile_score >= 5)::int AS high_risk, decile_score,
         round(decile_score / 10.0 - 0.05 + priors_count / 1000.0, 3) AS score
  FROM mb_compas;

-- ProPublica's finding in one query: with decile_score >= 5 as the prediction,
-- African-American defendants who did not reoffend were flagged far more often (sd)
SELECT facet_value, n, round(dppl::numeric, 4) AS dppl, round(dip::numeric, 4) AS dip,
       round(rd::numeric, 4) AS rd, round(sd::numeric, 4) AS sd, round(ad::numeric, 4) AS ad,
       round(dar::numeric, 4) AS dar, round(te::numeric, 4) AS te, cddpl
FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'high_risk');
SELECT facet_value, n, round(dppl::numeric, 4) AS dppl, round(dca::numeric, 4) AS dca,
       round(dcr::numeric, 4) AS dcr, round(drr::numeric, 4) AS drr, round(cddpl::numeric, 4) AS cddpl
FROM fairsynth_model_bias('mb_scored', 'sex', 'two_year_recid', 'high_risk', '1', 'age_cat');

-- NULL facet is the group 'NULL'; NULL labels and predictions are ignored; figures
-- whose denominator is 0 are NULL (y predicts nothing favorable, z is never wrong)
CREATE TABLE mb_small (grp text, outcome text, guess text, ok boolean, ok_guess boolean);
INSERT INTO mb_small VALUES
  ('x', 'a', 'a', true, true), ('x', 'b', 'a', false, true), ('x', 'b', 'b', false, false),
  ('y', 'a', 'b', true, false), ('y', 'b', 'b', NULL, false), ('y', NULL, 'a', false, false),
  ('z', 'a', 'a', true, true), ('z', 'b', 'b', false, false), ('z', 'b', NULL, true, true),
  (NULL, 'a', 'a', false, true), (NULL, 'b', 'a', true, true);
SELECT * FROM fairsynth_model_bias('mb_small', 'grp', 'outcome', 'guess', 'a');
-- a boolean label takes its favorable value as true/false/t/f
SELECT facet_value, n, dppl, dip, rd, sd FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'ok_guess', 't');
SELECT facet_value, n, dppl, dip, rd, sd FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'ok_guess', 'true');
SELECT facet_value, n, dppl, dip, rd, sd FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'ok_guess', 'f');
-- a facet value covering every row is skipped; no labelled row: no result
SELECT * FROM fairsynth_model_bias('mb_small', 'grp', 'outcome', 'guess') WHERE false;
CREATE TABLE mb_one AS SELECT 'x'::text AS grp, outcome, guess FROM mb_small;
SELECT * FROM fairsynth_model_bias('mb_one', 'grp', 'outcome', 'guess');
UPDATE mb_one SET outcome = NULL;
SELECT * FROM fairsynth_model_bias('mb_one', 'grp', 'outcome', 'guess');

-- linear in facet values: 20,000 values of 40,000 rows well within the time limit
-- (a correlated subquery per value would take minutes)
CREATE TABLE mb_many AS
  SELECT 'v' || (i % 20000) AS grp, (i % 3 = 0)::int AS y, (i % 5 = 0)::int AS p, i % 7 AS site
  FROM generate_series(1, 40000) i;
SET statement_timeout = '20s';
SELECT count(*), count(dppl), count(cddpl) FROM fairsynth_model_bias('mb_many', 'grp', 'y', 'p', group_by => 'site');
RESET statement_timeout;

-- each error, followed by its SQLSTATE
SELECT * FROM fairsynth_model_bias(NULL, 'race', 'two_year_recid', 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', NULL, 'two_year_recid', 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'ethnicity', 'two_year_recid', 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'recid', 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'prediction');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'high_risk', group_by => 'age');
\echo :LAST_ERROR_SQLSTATE
-- the columns must be distinct
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'race', 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'race');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'high_risk', group_by => 'high_risk');
\echo :LAST_ERROR_SQLSTATE
-- label and prediction are classes: a score is not a prediction, a continuous label needs bins
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'score');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_compas', 'race', 'priors_count', 'decile_score');
\echo :LAST_ERROR_SQLSTATE
-- ... sharing their values (compared as text)
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'decile_score');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'outcome');
\echo :LAST_ERROR_SQLSTATE
-- the favorable value must be a label value (a boolean one for a boolean label)
SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'high_risk', 'yes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'ok_guess', 'yes please');
\echo :LAST_ERROR_SQLSTATE

-- the search_path is pinned: look-alikes of fairsynth's helpers, of built-in
-- functions (exact argument types, so they would win over pg_catalog's variadic
-- ones) and of operators, in a schema searched first, never run
CREATE SCHEMA mb_evil;
CREATE FUNCTION mb_evil.fairsynth_check_column(relation regclass, name text, argname text)
RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike fairsynth_check_column ran'; END $$;
CREATE FUNCTION mb_evil.fairsynth_distinct_values(relation regclass, col text, lim int)
RETURNS text[] LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike fairsynth_distinct_values ran'; END $$;
CREATE FUNCTION mb_evil.fairsynth_default_favorable(relation regclass, label text)
RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike fairsynth_default_favorable ran'; END $$;
CREATE FUNCTION mb_evil.format(text, text, regclass, int)
RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike format ran'; END $$;
CREATE FUNCTION mb_evil.format(text, text, text, text, regclass, text, boolean)
RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike format ran'; END $$;
CREATE FUNCTION mb_evil.quote_literal(text)
RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike quote_literal ran'; END $$;
CREATE FUNCTION mb_evil.cardinality(text[])
RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'look-alike cardinality ran'; END $$;
CREATE FUNCTION mb_evil.text_op(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'look-alike text operator ran'; END $$;
CREATE FUNCTION mb_evil.float8_op(float8, float8) RETURNS float8 LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'look-alike float8 operator ran'; END $$;
CREATE OPERATOR mb_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mb_evil.text_op);
CREATE OPERATOR mb_evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = mb_evil.text_op);
CREATE OPERATOR mb_evil.- (LEFTARG = float8, RIGHTARG = float8, FUNCTION = mb_evil.float8_op);
CREATE OPERATOR mb_evil./ (LEFTARG = float8, RIGHTARG = float8, FUNCTION = mb_evil.float8_op);
SET search_path = mb_evil, pg_catalog, public;
CREATE TEMP TABLE mb_out AS
  SELECT * FROM fairsynth_model_bias('mb_scored', 'race', 'two_year_recid', 'high_risk', NULL, 'age_cat');
CREATE TEMP TABLE mb_out_bool AS
  SELECT * FROM fairsynth_model_bias('mb_small', 'grp', 'ok', 'ok_guess');
RESET search_path;
SELECT facet_value, n, round(sd::numeric, 4) AS sd, round(cddpl::numeric, 4) AS cddpl FROM mb_out ORDER BY facet_value;
SELECT count(*) FROM mb_out_bool;
SET client_min_messages = warning;
DROP SCHEMA mb_evil CASCADE;
RESET client_min_messages;
SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fairsynth')
  AND p.proname IN ('fairsynth_model_bias', 'fairsynth_distinct_values') ORDER BY p.proname;

-- the report: a panel of the predictions' bias by group when predicted is given
CREATE TABLE mb_report AS
  SELECT race, sex, age_cat, two_year_recid, (decile_score >= 5)::int AS high_risk FROM mb_compas;
CREATE TABLE mb_report_syn AS
  SELECT race, sex, age_cat, two_year_recid, (decile_score >= 7)::int AS high_risk FROM mb_compas;
SELECT (SELECT count(*) FROM regexp_matches(html, '<section id="model-bias">', 'g')) AS sections,
       (SELECT count(*) FROM regexp_matches(html, '<svg class="model-bias"', 'g')) AS charts,
       (SELECT count(*) FROM regexp_matches(html, '<circle [^>]*fill="#e8833a"><title>original Specificity', 'g')) AS sd_original,
       (SELECT count(*) FROM regexp_matches(html, '<circle [^>]*fill="#3d6fd6"><title>synthetic Specificity', 'g')) AS sd_synthetic,
       html LIKE '%<td>African-American</td><td><span class="a">3696</span> → <span class="b">3696</span></td>%' AS table_row,
       (regexp_match(html, 'original Specificity \(SD\) (-?[0-9.]+)</title></circle>'))[1] AS first_sd
FROM fairsynth_report('mb_report', 'mb_report_syn', NULL, 'race', 'two_year_recid', predicted => 'high_risk') html;
-- no panel without predicted
SELECT html NOT LIKE '%model-bias%' AS no_panel
FROM fairsynth_report('mb_report', 'mb_report_syn', NULL, 'race', 'two_year_recid') html;
-- everything written into the page is escaped
CREATE TABLE "mb_<b>" ("g<i>" text, "y&" text, "p""<s>" text);
INSERT INTO "mb_<b>" SELECT CASE WHEN i % 3 = 0 THEN '<script>alert(1)</script>' ELSE 'a&b "q"' END,
                            CASE WHEN i % 2 = 0 THEN '<y>' ELSE 'n' END, CASE WHEN i % 5 < 2 THEN '<y>' ELSE 'n' END
FROM generate_series(1, 60) i;
SELECT html LIKE '%&lt;script&gt;alert(1)&lt;/script&gt;%' AS escaped_value,
       html LIKE '%<code>p&quot;&lt;s&gt;</code>%' AS escaped_column,
       html NOT LIKE '%<script>%' AND html NOT LIKE '%<y>%' AND html NOT LIKE '%<s>%' AS nothing_raw
FROM fairsynth_report('"mb_<b>"', '"mb_<b>"', NULL, 'g<i>', 'y&', predicted => 'p"<s>') html;
-- a synthetic relation whose predictions cannot be measured is a note, not an error
CREATE TABLE mb_report_bad AS SELECT race, sex, age_cat, two_year_recid, high_risk + 1 AS high_risk FROM mb_report;
SELECT (regexp_match(html, '<p class="note">(The synthetic relation[^<]*)</p>'))[1] AS note
FROM fairsynth_report('mb_report', 'mb_report_bad', NULL, 'race', 'two_year_recid', predicted => 'high_risk') html;
-- errors
SELECT fairsynth_report('mb_report', 'mb_report_syn', predicted => 'high_risk');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('mb_report', 'mb_report_syn', NULL, 'race', 'two_year_recid', predicted => 'prediction');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('mb_report', 'mb_report_syn', NULL, 'race', 'two_year_recid', predicted => 'age_cat');
\echo :LAST_ERROR_SQLSTATE
