-- fairsynth_report: structure of the HTML document (not its exact text)
\set SHOW_CONTEXT never
CREATE TABLE report_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy report_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)
-- training part, holdout (every 5th row) and a crude "synthetic" table: the
-- training rows with race and sex drawn independently of the other columns
CREATE TABLE report_numbered AS SELECT *, row_number() OVER (ORDER BY ctid) AS rn FROM report_compas;
CREATE TABLE report_train AS SELECT * FROM report_compas WHERE false;
INSERT INTO report_train SELECT sex, age, age_cat, race, juv_fel_count, juv_misd_count, juv_other_count, priors_count,
  days_b_screening_arrest, c_charge_degree, c_charge_desc, decile_score, score_text, v_decile_score, v_score_text,
  is_recid, is_violent_recid, two_year_recid FROM report_numbered WHERE rn % 5 <> 0 ORDER BY rn;
CREATE TABLE report_holdout AS SELECT * FROM report_compas WHERE false;
INSERT INTO report_holdout SELECT sex, age, age_cat, race, juv_fel_count, juv_misd_count, juv_other_count, priors_count,
  days_b_screening_arrest, c_charge_degree, c_charge_desc, decile_score, score_text, v_decile_score, v_score_text,
  is_recid, is_violent_recid, two_year_recid FROM report_numbered WHERE rn % 5 = 0 ORDER BY rn;
CREATE TABLE report_syn AS
  WITH t AS (SELECT *, row_number() OVER (ORDER BY md5(rn::text)) AS k FROM report_numbered WHERE rn % 5 <> 0),
       r AS (SELECT race, sex, row_number() OVER (ORDER BY md5('r' || rn)) AS k FROM report_numbered WHERE rn % 5 <> 0)
  SELECT r.sex, t.age, t.age_cat, r.race, t.juv_fel_count, t.juv_misd_count, t.juv_other_count, t.priors_count,
         t.days_b_screening_arrest, t.c_charge_degree, t.c_charge_desc, t.decile_score, t.score_text, t.v_decile_score,
         t.v_score_text, t.is_recid, t.is_violent_recid, t.two_year_recid
  FROM t JOIN r USING (k);

-- occurrences of a substring
CREATE FUNCTION report_count(html text, s text) RETURNS int LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT (length(html) - length(replace(html, s, ''))) / length(s) $$;

CREATE TABLE report_out AS
  SELECT fairsynth_report('report_train', 'report_syn', 'report_holdout', 'race', 'two_year_recid') AS html;
SELECT left(html, 15) AS head, right(html, 7) AS tail,
       report_count(html, '<svg class="dist"') AS dist_charts,
       report_count(html, '<svg class="bias"') AS bias_charts,
       report_count(html, '<svg class="acc"') AS accuracy_charts,
       -- three weakest pairs, or none when fairsynth_quality() is missing (said in the report)
       report_count(html, '<svg class="heat"') = CASE WHEN html LIKE '%fairsynth_quality() is not available%'
                                                      THEN 0 ELSE 3 END AS heat_maps_ok,
       report_count(html, '<svg') = report_count(html, '</svg>') AS svg_closed,
       report_count(html, '<div') = report_count(html, '</div>') AS div_closed,
       report_count(html, '<section') AS sections
FROM report_out;
-- one distribution card per column, in column order
SELECT a.attname, position(format('<div class="card col"><h3><code>%s</code>', a.attname) IN html) > 0 AS has_card
FROM report_out, pg_attribute a
WHERE a.attrelid = 'report_train'::regclass AND a.attnum > 0 ORDER BY a.attnum;
-- headings, favorable value, bias table rows (one per race), no script, nothing external
SELECT regexp_replace(m[1], '<[^>]+>', '', 'g') AS heading
FROM report_out, regexp_matches(html, '<h2[^>]*?>(.*?)</h2>', 'g') m;
SELECT position('favorable label value <code>1</code> (the least frequent one)' IN html) > 0 AS favorable_shown,
       report_count(html, '<tr><td>') AS bias_table_rows,
       html ~* '<script|javascript:|@import' AS has_script,
       html ~* '(src|href)\s*=|url\((?!#)' AS has_external_reference,
       html ~ '\mNaN\M' AS has_nan
FROM report_out;

-- without facet and label: no bias section; without holdout: privacy needs one
SELECT report_count(html, '<svg class="dist"') AS dist_charts,
       position('id="bias"' IN html) > 0 AS has_bias,
       report_count(html, 'needs a holdout') > 0 AS needs_holdout
FROM fairsynth_report('report_train', 'report_syn') html;

-- names and values are escaped; numeric and text columns, NULLs, one column
CREATE TABLE report_esc ("we<ird> & ""name""" text, n numeric);
INSERT INTO report_esc SELECT CASE WHEN i % 3 = 0 THEN '<script>alert(1)</script>' WHEN i % 3 = 1 THEN 'a&b' END, i / 7.0
FROM generate_series(1, 60) i;
SELECT html LIKE '%<script%' AS unescaped_script, html LIKE '%&lt;script&gt;%' AS escaped_value,
       html LIKE '%we&lt;ird&gt; &amp; &quot;name&quot;%' AS escaped_name,
       report_count(html, '<svg class="dist"') AS dist_charts
FROM fairsynth_report('report_esc', 'report_esc') html;

-- the favorable value of the original is used on both sides, even if absent
CREATE TABLE report_syn2 AS SELECT * FROM report_syn;
UPDATE report_syn2 SET score_text = 'Medium' WHERE score_text = 'High';
SELECT position('does not occur in the synthetic relation' IN html) > 0 AS noted
FROM fairsynth_report('report_train', 'report_syn2', NULL, 'sex', 'score_text', 'High') html;

-- NaN is a bin of its own after the ranges, in the original and the synthetic
-- relation, and no bound of the last range
CREATE TABLE report_nan ("X y" float8);
INSERT INTO report_nan
  SELECT CASE WHEN g % 7 = 0 THEN 'NaN' WHEN g % 11 = 0 THEN 'Infinity' ELSE g::float8 END
  FROM generate_series(1, 100) g;
CREATE TABLE report_nan2 AS SELECT "X y" * 2 AS "X y" FROM report_nan;
SELECT * FROM fairsynth_internal.fairsynth_bins('report_nan', 'report_nan2', 'X y');
SELECT report_count(html, '<title>NaN</title>') AS nan_bars, html LIKE '%, NaN]%' AS nan_bound
FROM fairsynth_report('report_nan', 'report_nan2') html;
DROP TABLE report_nan, report_nan2;

-- an empty relation: the report renders (one card per column), saying that
-- the fidelity and privacy figures are missing, instead of failing
CREATE TABLE report_empty (a int, b text);
CREATE TABLE report_full AS SELECT g AS a, (g % 2)::text AS b FROM generate_series(1, 30) g;
SELECT report_count(html, '<svg class="dist"') AS dist_charts,
       position('The original relation is empty' IN html) > 0 AS noted
FROM fairsynth_report('report_empty', 'report_full') html;
SELECT report_count(html, '<svg class="dist"') AS dist_charts,
       position('The synthetic relation is empty' IN html) > 0 AS noted
FROM fairsynth_report('report_full', 'report_empty', NULL, 'a', 'b') html;
SELECT position('The holdout relation is empty' IN html) > 0 AS noted
FROM fairsynth_report('report_full', 'report_full', 'report_empty') html;
DROP TABLE report_empty, report_full;

-- a report that knows the run: compas balanced over race x sex with outcome
-- two_year_recid.  A key (serial id), a planted extreme (priors_count 987654)
-- and a unique charge in the original never reach the page; the balanced
-- columns and the outcome are shown as changed as asked, not as errors;
-- accuracy and the weakest pairs cover the other columns; with a holdout and
-- a label, the utility panel
CREATE TABLE report_keyed AS SELECT * FROM report_train;
ALTER TABLE report_keyed ADD COLUMN id serial PRIMARY KEY, ADD COLUMN uid uuid, ADD COLUMN code text UNIQUE;
UPDATE report_keyed SET uid = md5('u' || id)::uuid, code = 'case-' || id;
UPDATE report_keyed SET priors_count = 987654, c_charge_desc = 'Planted Unique Charge XYZ' WHERE id = 17;
CREATE TABLE report_balanced AS
  SELECT * FROM fairsynth_balance(NULL::report_keyed, ARRAY['race', 'sex'], outcome => 'two_year_recid', seed => 1);
CREATE TABLE report_run AS
  SELECT fairsynth_report('report_keyed', 'report_balanced', 'report_holdout', 'race', 'two_year_recid',
                          balance => ARRAY['race', 'sex'], outcome => 'two_year_recid') AS html;
SELECT position('987654' IN html) = 0 AS no_planted_extreme,
       position('Planted Unique' IN html) = 0 AS no_rare_value,
       position('<code>id</code>' IN html) = 0 AS no_key_card,
       html !~ '[0-9a-f]{8}-[0-9a-f]{4}-' AND position('case-' IN html) = 0 AS no_key_value,
       position('Key columns left out' IN html) > 0 AS keys_noted,
       report_count(html, '<svg class="dist"') AS dist_charts,
       report_count(html, 'badge asked') AS asked_badges,
       position('id="asked"' IN html) > 0 AS asked_section,
       position('over the 15 columns not asked to change' IN html) > 0 AS accuracy_over_others,
       position('Utility (AUC on the holdout)' IN html) > 0 AS utility_card
FROM report_run;
-- no weakest pair involves a balanced column or the outcome
SELECT count(*) AS asked_pairs
FROM report_run, regexp_matches(html, '<h3><code>([^<]*)</code> × <code>([^<]*)</code>', 'g') m
WHERE m[1] IN ('race', 'sex', 'two_year_recid') OR m[2] IN ('race', 'sex', 'two_year_recid');
-- target against achieved shares: race targets 1/6 each, achieved in the synthetic rows
SELECT regexp_replace(m[1], '<[^>]+>', ' ', 'g') AS race_row
FROM report_run, regexp_matches(html, '<tr><td>(African-American</td>.*?)</tr>', 'g') m LIMIT 1;
-- rows per combination: target against achieved
SELECT regexp_replace(m[1], '<[^>]+>', ' ', 'g') AS combination_row
FROM report_run, regexp_matches(html, '<tr><td>(African-American × Male</td>.*?)</tr>', 'g') m LIMIT 1;
-- accuracy per combination: at most the 12 largest of >= 30 original rows,
-- over the columns not asked to change (a synthetic copy of the original: 1)
SELECT combo, n_original, round(accuracy::numeric, 3) AS accuracy
FROM fairsynth_internal.fairsynth_combo_accuracy('report_keyed', 'report_balanced', ARRAY['race', 'sex'],
                                                 ARRAY['age', 'priors_count', 'c_charge_degree']);
SELECT count(*) AS combos, min(n_original) >= 30 AS large, bool_and(accuracy = 1) AS copy_is_exact
FROM fairsynth_internal.fairsynth_combo_accuracy('report_keyed', 'report_keyed', ARRAY['race', 'sex'],
                                                 ARRAY['age', 'priors_count'], max_combos => 3);
SELECT * FROM fairsynth_internal.fairsynth_combo_accuracy('report_keyed', 'report_balanced', ARRAY['race'], ARRAY['nope']);
SELECT * FROM fairsynth_internal.fairsynth_combo_accuracy('report_keyed', 'report_balanced', ARRAY['race'], NULL);
-- numeric ranges in value order with short labels, open at both ends
SELECT label FROM fairsynth_internal.fairsynth_bins('report_keyed', 'report_balanced', 'priors_count') ORDER BY ord;
SELECT fairsynth_report('report_train', 'report_syn', balance => ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('report_train', 'report_syn', balance => ARRAY['race'], outcome => 'race');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE report_keyed, report_balanced, report_run;

-- errors (with their SQLSTATE)
SELECT fairsynth_report(NULL, 'report_syn');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('report_train', 'report_syn', facet => 'race');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('report_train', 'report_syn', favorable => 'High');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('report_train', 'report_esc');
\echo :LAST_ERROR_SQLSTATE
SELECT fairsynth_report('report_train', 'report_syn', NULL, 'ethnicity', 'two_year_recid');
\echo :LAST_ERROR_SQLSTATE

DROP TABLE report_compas, report_numbered, report_train, report_holdout, report_syn, report_syn2, report_out, report_esc;
DROP FUNCTION report_count(text, text);
