-- fairsynth_profile: value distributions and imbalance per column
\set SHOW_CONTEXT never
CREATE TABLE profile_compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\copy profile_compas FROM 'test/data/compas.csv' WITH (FORMAT csv, HEADER true)

-- categorical columns (count descending) and binned numeric columns (quantile
-- ranges in ascending order, NULL last), each led by its '(imbalance)' row
SELECT column_name, value, count, round(share::numeric, 6) AS share, bar
FROM fairsynth_profile('profile_compas',
                       ARRAY['race', 'sex', 'age', 'priors_count', 'days_b_screening_arrest', 'score_text'])
     WITH ORDINALITY p ORDER BY ordinality;

-- all columns, in attnum order: the imbalance row of each
SELECT column_name, count AS distinct_values, round(share::numeric, 2) AS ratio, bar
FROM fairsynth_profile('profile_compas') WITH ORDINALITY p
WHERE value = '(imbalance)' ORDER BY ordinality;

-- shares of every column add up to 1; NULL is a value of its own
SELECT column_name, count(*) AS values, sum(count) AS rows, round(sum(share)::numeric, 12) AS total_share
FROM fairsynth_profile('profile_compas') WHERE value IS DISTINCT FROM '(imbalance)'
GROUP BY column_name ORDER BY column_name;
SELECT column_name, value, count FROM fairsynth_profile('profile_compas', ARRAY['c_charge_desc'])
WHERE value = '(null)';

-- a rare value still gets a visible bar; ties by value in byte order
SELECT value, count, bar FROM fairsynth_profile('profile_compas', ARRAY['c_charge_desc'])
     WITH ORDINALITY p ORDER BY ordinality LIMIT 4;

-- bars: 20 characters = share 1.0, eighth blocks
SELECT s, fairsynth_internal.fairsynth_bar(s) AS bar, length(fairsynth_internal.fairsynth_bar(s)) AS chars
FROM unnest(ARRAY[0, 0.0001, 0.05, 0.1234, 0.5, 0.99, 1, 1.5, 1e308, 'Infinity', '-Infinity', 'NaN', -1]::float8[]) s;

-- date/time columns are binned too; columns with <= 20 distinct values are not
CREATE TABLE profile_dates AS
  SELECT DATE '2024-01-01' + (i % 40) AS d, TIMESTAMP '2024-01-01 08:00' + (i % 5) * INTERVAL '1 hour' AS t,
         (i % 7) * 0.5 AS x
  FROM generate_series(1, 200) i;
INSERT INTO profile_dates VALUES (NULL, NULL, NULL);
SELECT * FROM fairsynth_profile('profile_dates') WITH ORDINALITY p ORDER BY ordinality;

-- empty relation: only the '(imbalance)' rows
CREATE TABLE profile_empty (a int, b text);
SELECT * FROM fairsynth_profile('profile_empty');

-- NaN is no range bound: a group of its own after the ranges (NULL last);
-- infinities are ordinary bounds
CREATE TABLE profile_nan ("Nan Col" float8);
INSERT INTO profile_nan
  SELECT CASE WHEN g % 7 = 0 THEN 'NaN' WHEN g % 11 = 0 THEN 'Infinity'
              WHEN g % 13 = 0 THEN NULL ELSE g::float8 END
  FROM generate_series(1, 100) g;
SELECT value, count FROM fairsynth_profile('profile_nan');
DROP TABLE profile_nan;

-- keys: a serial primary key, a uuid and a unique text column are one line
-- each ('(key)', the row count), never a row per value
CREATE TABLE profile_patients (id serial PRIMARY KEY, uid uuid, code text UNIQUE,
                               sex text, cost float8);
INSERT INTO profile_patients (uid, code, sex, cost)
  SELECT md5('p' || i)::uuid, 'P-' || i, CASE WHEN i % 3 = 0 THEN 'f' ELSE 'm' END,
         CASE WHEN i % 50 = 0 THEN NULL ELSE 100 + i * 1.0412345678 END
  FROM generate_series(1, 500) i;
SELECT column_name, value, count, share, bar FROM fairsynth_profile('profile_patients')
WHERE column_name IN ('id', 'uid', 'code', 'sex');
SELECT count(*) AS uuid_rows FROM fairsynth_profile('profile_patients') WHERE value ~ '^[0-9a-f]{8}-';
-- numeric ranges in value order, with short labels (3 significant digits)
SELECT value, count FROM fairsynth_profile('profile_patients', ARRAY['cost']);
SELECT fairsynth_internal.fairsynth_short_number(121.04156902546833) AS a, fairsynth_internal.fairsynth_short_number(-0.0012345) AS b,
       fairsynth_internal.fairsynth_short_number(102127) AS c, fairsynth_internal.fairsynth_short_number(0) AS d,
       fairsynth_internal.fairsynth_short_labels(ARRAY[1.0001, 1.0002, 2.5]::float8[]) AS e,
       fairsynth_internal.fairsynth_short_labels(ARRAY['2024-01-01']::date[]) AS f;
DROP TABLE profile_patients;

-- errors (with their SQLSTATE)
SELECT * FROM fairsynth_profile('profile_compas', ARRAY['race', 'Race']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_profile('profile_compas', ARRAY[]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_profile('profile_compas', ARRAY['race', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_profile('profile_compas', ARRAY['race', 'sex', 'race']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_profile(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM fairsynth_profile('profile_missing');
\echo :LAST_ERROR_SQLSTATE

DROP TABLE profile_compas, profile_dates, profile_empty;
