-- every supported type: values stay valid and plausible for their column
\set SHOW_CONTEXT never
CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
CREATE TABLE types_src (
  id serial PRIMARY KEY,
  uid uuid NOT NULL,
  grp char(3) NOT NULL,
  label varchar(8),
  note text,
  flag boolean,
  mood types_mood NOT NULL,
  small smallint,
  big bigint,
  score real,
  ratio double precision,
  amount numeric(8,2),
  born date,
  seen timestamp,
  seen_tz timestamptz,
  code text UNIQUE
);
INSERT INTO types_src (uid, grp, label, note, flag, mood, small, big, score, ratio, amount,
                       born, seen, seen_tz, code)
SELECT md5(i::text)::uuid,
       CASE WHEN i % 10 < 7 THEN 'AAA' ELSE 'BB' END,
       CASE WHEN i % 3 = 0 THEN 'alpha' WHEN i % 3 = 1 THEN 'beta' ELSE NULL END,
       CASE WHEN i % 50 = 0 THEN 'rare-' || i ELSE 'common-' || (i % 4) END,
       i % 5 = 0,
       (ARRAY['sad','ok','happy']::types_mood[])[1 + i % 3],
       (i % 17)::smallint,
       1000000000000 + (i * 7919) % 500,  -- repeats: not a key
       ((i * 37) % 100) / 10.0,
       ((i * 53) % 1000) / 7.0,
       ((i * 97) % 10000) / 100.0,
       date '2000-01-01' + (i * 13) % 3650,
       timestamp '2020-01-01' + ((i * 31) % 10000) * interval '1 minute',
       timestamptz '2020-01-01 00:00:00+00' + ((i * 29) % 1000) * interval '1 hour',
       'c' || i
FROM generate_series(1, 600) i;

CREATE TABLE types_out AS
  SELECT * FROM fairsynth_balance(NULL::types_src, ARRAY['grp', 'mood'], seed => 11);
SELECT grp, mood, count(*) FROM types_out GROUP BY grp, mood ORDER BY grp, mood;

-- keys are fresh: integers continue after the source's largest, uuids are new v4, text
-- keys follow the pattern syn-RUN-N (RUN: 8 hex digits, new for every seed and data)
SELECT min(id) > (SELECT max(id) FROM types_src) AS ids_fresh,
       count(DISTINCT id) = count(*) AS ids_unique,
       NOT EXISTS (SELECT 1 FROM types_out o JOIN types_src s USING (uid)) AS uuids_fresh,
       bool_and(substr(uid::text, 15, 1) = '4') AS uuid_v4,
       bool_and(code ~ '^syn-[0-9a-f]{8}-[0-9]+$') AS text_keys_patterned
FROM types_out;

-- NOT NULL columns are never NULL; NULL shares are reproduced elsewhere
SELECT bool_and(uid IS NOT NULL AND grp IS NOT NULL AND mood IS NOT NULL) AS not_null_kept,
       abs(avg((label IS NULL)::int) - 1.0 / 3) < 0.08 AS null_share_kept
FROM types_out;

-- enums carry only their labels; char and varchar keep their lengths
SELECT count(*) FILTER (WHERE mood::text NOT IN ('sad', 'ok', 'happy')) AS foreign_moods,
       max(octet_length(label)) <= 8 AS varchar_fits,
       bool_and(grp IN ('AAA', 'BB ')) AS char_values_kept
FROM types_out;

-- numbers, dates and times stay inside the observed range, whole where the source is whole
SELECT min(small) >= 0 AND max(small) <= 16 AS smallint_in_range,
       min(big) >= 1000000000000 AND max(big) < 1000000000500 AS bigint_in_range,
       min(score) >= 0 AND max(score) <= 9.9 AS real_in_range,
       min(ratio) >= 0 AND max(ratio) <= 999 / 7.0 AS double_in_range,
       min(amount) >= 0 AND max(amount) <= 99.99 AS numeric_in_range,
       bool_and(scale(amount) <= 2) AS numeric_scale_kept,
       min(born) >= date '2000-01-01' AND max(born) < date '2010-01-01' AS date_in_range,
       bool_and(date_trunc('minute', seen) = seen) AS timestamp_minutes_kept,
       bool_and(date_trunc('hour', seen_tz) = seen_tz) AS timestamptz_hours_kept
FROM types_out;

-- privacy: values seen in fewer than fairsynth.rare_threshold rows are never emitted,
-- and numeric extremes are clipped to the k-th smallest and largest value
SELECT count(*) FILTER (WHERE note LIKE 'rare-%') AS rare_values_emitted,
       count(DISTINCT note) AS distinct_notes,
       max(small) <= (SELECT small FROM types_src ORDER BY small DESC OFFSET 4 LIMIT 1) AS extremes_clipped
FROM types_out;
SET fairsynth.rare_threshold = 1;
SELECT count(*) FILTER (WHERE note LIKE 'rare-%') > 0 AS rare_values_when_allowed
FROM fairsynth_synthesize(NULL::types_src, num_rows => 3000, seed => 2);
RESET fairsynth.rare_threshold;

-- additive mode on a table with keys: appended ids come from the serial's sequence
SELECT count(*) AS appended,
       min(id) > (SELECT max(id) FROM types_src) AS ids_continue
FROM fairsynth_balance(NULL::types_src, ARRAY['grp'], mode => 'additive', seed => 1);

-- numeric and boolean balance columns are balanced by value
SELECT flag, count(*) FROM fairsynth_balance(NULL::types_src, ARRAY['flag'], seed => 1)
GROUP BY flag ORDER BY flag;
SELECT count(DISTINCT small) AS values, min(n), max(n) FROM (
  SELECT small, count(*) AS n FROM fairsynth_balance(NULL::types_src, ARRAY['small'], num_rows => 170, seed => 1)
  GROUP BY small) s;
SELECT label, count(*) FROM fairsynth_balance(NULL::types_src, ARRAY['label'],
                                              target => '{"label": {"beta": 0.75}}', num_rows => 100, seed => 1)
GROUP BY label ORDER BY label;

-- dropped columns are NULL in the row type and ignored by the model
ALTER TABLE types_src DROP COLUMN note;
SELECT count(*), count(label) > 0 AS label_filled
FROM fairsynth_synthesize(NULL::types_src, num_rows => 50, seed => 1);

-- partitioned tables and materialized views are read like tables
CREATE TABLE types_part (g text, v int) PARTITION BY LIST (g);
CREATE TABLE types_part_a PARTITION OF types_part FOR VALUES IN ('a');
CREATE TABLE types_part_b PARTITION OF types_part FOR VALUES IN ('b');
INSERT INTO types_part SELECT CASE WHEN i % 10 = 0 THEN 'b' ELSE 'a' END, i % 7 FROM generate_series(1, 200) i;
SELECT g, count(*) FROM fairsynth_balance(NULL::types_part, ARRAY['g'], seed => 1) GROUP BY g ORDER BY g;
CREATE MATERIALIZED VIEW types_mv AS SELECT * FROM types_part;
SELECT g, count(*) FROM fairsynth_balance(NULL::types_mv, ARRAY['g'], mode => 'additive', seed => 1)
GROUP BY g ORDER BY g;

-- foreign tables are read like tables (file_fdw over the bundled CSV)
CREATE EXTENSION file_fdw;
CREATE SERVER types_files FOREIGN DATA WRAPPER file_fdw;
\getenv abs_srcdir PG_ABS_SRCDIR
\set compas_csv :abs_srcdir '/test/data/compas.csv'
CREATE FOREIGN TABLE types_foreign (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int)
  SERVER types_files OPTIONS (filename :'compas_csv', format 'csv', header 'true');
SELECT sex, count(*) FROM fairsynth_balance(NULL::types_foreign, ARRAY['sex'], seed => 1)
GROUP BY sex ORDER BY sex;
DROP FOREIGN TABLE types_foreign;
DROP SERVER types_files;
DROP EXTENSION file_fdw;

DROP MATERIALIZED VIEW types_mv;
DROP TABLE types_part, types_out, types_src;
DROP TYPE types_mood;
