-- outcome parity, imputation and privacy protection on compas
\set SHOW_CONTEXT never
CREATE TABLE fair_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy fair_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)

-- outcome parity, full mode: every race gets the overall recidivism distribution
CREATE TABLE fair_parity AS
  SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], outcome => 'two_year_recid', seed => 1);
SELECT race, count(*), sum(two_year_recid) AS recidivists FROM fair_parity GROUP BY race ORDER BY race;
SELECT facet_value, abs(dpl) <= 0.01 AS parity FROM fairsynth_bias('fair_parity', 'race', 'two_year_recid');
-- the rows stay coherent: recidivists still have more priors than the others, in every race
SELECT race, avg(priors_count) FILTER (WHERE two_year_recid = 1)
             > avg(priors_count) FILTER (WHERE two_year_recid = 0) AS coherent
FROM fair_parity GROUP BY race ORDER BY race;
-- the outcome's own target shares
SELECT two_year_recid, count(*)
FROM fairsynth_balance(NULL::fair_compas, ARRAY['sex'], outcome => 'two_year_recid',
                       target => '{"two_year_recid": {"1": 0.3}}', num_rows => 1000, seed => 1)
GROUP BY two_year_recid ORDER BY two_year_recid;
-- additive: the source plus the rows reaches parity without removing a row
SELECT race, count(*) AS total, round(avg(two_year_recid), 3) AS rate FROM (
  SELECT race, two_year_recid FROM fair_compas
  UNION ALL
  SELECT race, two_year_recid FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], mode => 'additive',
                                                     outcome => 'two_year_recid', seed => 1)) s
GROUP BY race ORDER BY race;
-- additive parity by sex: the added women look like the real ones (the outcome
-- probabilities, sharpened, keep each facet's mean; without that the rows kept for the
-- outcome leaned towards its features: 6.5 % more priors and 3.5 % higher deciles)
SELECT abs(avg(a.priors_count) / (SELECT avg(priors_count) FROM fair_compas WHERE sex = 'Female') - 1) < 0.05
         AS priors_like_real,
       abs(avg(a.decile_score) / (SELECT avg(decile_score) FROM fair_compas WHERE sex = 'Female') - 1) < 0.02
         AS decile_like_real
FROM (SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['sex'], outcome => 'two_year_recid', mode => 'additive', seed => 1)
      UNION ALL SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['sex'], outcome => 'two_year_recid', mode => 'additive', seed => 2)
      UNION ALL SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['sex'], outcome => 'two_year_recid', mode => 'additive', seed => 3)) a
WHERE a.sex = 'Female';
-- the outcome may not be a balance column or unknown
SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], outcome => 'race');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], outcome => 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], impute => NULL);
\echo :LAST_ERROR_SQLSTATE

-- impute => true: synthetic rows carry no NULL in columns that had NULLs
SELECT count(*) FILTER (WHERE days_b_screening_arrest IS NULL) AS nulls_without,
       (SELECT count(*) FILTER (WHERE days_b_screening_arrest IS NULL OR c_charge_desc IS NULL)
        FROM fairsynth_synthesize(NULL::fair_compas, impute => true, seed => 2)) AS nulls_with
FROM fairsynth_synthesize(NULL::fair_compas, seed => 2);
SELECT count(*) FILTER (WHERE days_b_screening_arrest IS NULL) AS nulls
FROM fairsynth_balance(NULL::fair_compas, ARRAY['race'], impute => true, seed => 2);

-- fairsynth_impute: missing priors depend on age; the filled values follow the truth
CREATE TABLE fair_missing AS SELECT row_number() OVER () AS id, * FROM fair_compas;
UPDATE fair_missing SET priors_count = NULL
WHERE (hashint4(id::int) % 100 + 100) % 100 < CASE WHEN age > 40 THEN 60 ELSE 15 END;
SELECT count(*) AS rows, count(*) - count(priors_count) AS missing FROM fair_missing;
CREATE TABLE fair_imputed AS SELECT * FROM fairsynth_impute(NULL::fair_missing, ARRAY['priors_count'], seed => 1);
-- every row comes back, non-NULL values untouched, no NULL left
SELECT count(*) AS rows, count(i.priors_count) AS filled,
       bool_and(i.priors_count = m.priors_count) FILTER (WHERE m.priors_count IS NOT NULL) AS kept_unchanged,
       bool_and(i.age = m.age AND i.race = m.race) AS others_unchanged
FROM fair_imputed i JOIN fair_missing m USING (id);
-- against the truth, on the rows that were missing: the distribution is recovered far
-- better than by mean-filling (Kolmogorov-Smirnov distance), and the spread is kept
CREATE TABLE fair_truth AS
  SELECT i.priors_count AS imputed, t.priors_count AS truth,
         (SELECT round(avg(priors_count)) FROM fair_missing) AS mean_fill
  FROM fair_imputed i
  JOIN (SELECT row_number() OVER () AS id, priors_count FROM fair_compas) t USING (id)
  JOIN fair_missing m USING (id)
  WHERE m.priors_count IS NULL;
WITH points AS (SELECT DISTINCT truth AS x FROM fair_truth UNION SELECT DISTINCT imputed FROM fair_truth),
     cdf AS (SELECT x, avg((imputed <= x)::int) AS f_imputed, avg((mean_fill <= x)::int) AS f_mean,
                    avg((truth <= x)::int) AS f_truth
             FROM points, fair_truth GROUP BY x)
SELECT max(abs(f_imputed - f_truth)) < 0.5 * max(abs(f_mean - f_truth)) AS ks_beats_mean_fill,
       max(abs(f_imputed - f_truth)) < 0.15 AS ks_small,
       (SELECT abs(stddev(imputed) - stddev(truth)) < 0.25 * stddev(truth) FROM fair_truth) AS spread_kept
FROM cdf;
DROP TABLE fair_truth;
-- default columns: every column with NULLs
SELECT count(*) - count(days_b_screening_arrest) AS days_missing, count(*) - count(c_charge_desc) AS desc_missing
FROM fairsynth_impute(NULL::fair_missing, seed => 1);
SELECT * FROM fairsynth_impute(NULL::fair_missing, ARRAY['id']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_impute(NULL::fair_missing, ARRAY['nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_impute(NULL::fair_missing, ARRAY[]::text[]);
\echo :LAST_ERROR_SQLSTATE

-- privacy: a unique individual (a charge seen once, an extreme priors count) is never
-- reproduced, even in 100,000 synthetic rows
INSERT INTO fair_compas (sex, age, age_cat, race, juv_fel_count, juv_misd_count, juv_other_count,
                         priors_count, days_b_screening_arrest, c_charge_degree, c_charge_desc,
                         decile_score, score_text, v_decile_score, v_score_text, is_recid,
                         is_violent_recid, two_year_recid)
VALUES ('Male', 44, '25 - 45', 'Caucasian', 0, 0, 0, 97, 0, 'F', 'Unique Planted Charge Xyz',
        10, 'High', 10, 'High', 1, 1, 1);
SELECT count(*) FILTER (WHERE c_charge_desc = 'Unique Planted Charge Xyz') AS planted_charge,
       count(*) FILTER (WHERE priors_count >= 97) AS planted_priors,
       max(priors_count) <= (SELECT priors_count FROM fair_compas ORDER BY priors_count DESC OFFSET 4 LIMIT 1)
         AS priors_clipped
FROM fairsynth_synthesize(NULL::fair_compas, num_rows => 100000, seed => 9);
SELECT count(*) FILTER (WHERE c_charge_desc = 'Unique Planted Charge Xyz') AS planted_charge,
       count(*) FILTER (WHERE priors_count >= 97) AS planted_priors
FROM fairsynth_balance(NULL::fair_compas, ARRAY['race', 'sex'], num_rows => 100000, seed => 9);

DROP TABLE fair_parity, fair_missing, fair_imputed, fair_compas;
