-- Messages that help (issue 11): every bad column named at once, the nearest
-- column names suggested, a privilege error that names the relation and the
-- role (not fairsynth's internal query), a NOTICE when impute has nothing to
-- fill, and NOTICEs when few source rows become many synthetic rows.
CREATE TABLE msg_people (race text, sex text, age int, score numeric);
INSERT INTO msg_people
SELECT CASE WHEN i % 50 = 0 THEN 'Native American' WHEN i % 2 = 0 THEN 'White' ELSE 'Black' END,
       CASE WHEN i % 3 = 0 THEN 'Female' ELSE 'Male' END, 20 + i % 50, (i % 7) * 1.5
FROM generate_series(1, 600) i;

-- a misspelled column: the nearest names
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['rase']);
\echo :LAST_ERROR_SQLSTATE
-- several misspelled columns, one far from every name: all named at once
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['rase', 'sex', 'Sexx', 'income']);
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['rase'], outcome => 'scroe');
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['race'], outcome => 'scroe');
SELECT count(*) FROM fairsynth_impute(NULL::msg_people, ARRAY['agee', 'score']);

-- every column of an unsupported type at once
CREATE TABLE msg_types (g text, p point, j json, b bytea, i inet, x xml, r int4range);
INSERT INTO msg_types (g) VALUES ('a'), ('b');
SELECT count(*) FROM fairsynth_balance(NULL::msg_types, ARRAY['g']);
\echo :LAST_ERROR_SQLSTATE

-- no SELECT privilege: the relation and the role, a hint, no internal query
CREATE ROLE regress_msg_reader;
SET ROLE regress_msg_reader;
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['race'], seed => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM fairsynth_impute(NULL::msg_people);
RESET ROLE;
-- SELECT on some columns only is not enough: fairsynth reads them all
GRANT SELECT (race, sex) ON msg_people TO regress_msg_reader;
SET ROLE regress_msg_reader;
SELECT count(*) FROM fairsynth_synthesize(NULL::msg_people, seed => 1);
RESET ROLE;
GRANT SELECT ON msg_people TO regress_msg_reader;
SET ROLE regress_msg_reader;
SELECT count(*) FROM fairsynth_synthesize(NULL::msg_people, seed => 1);
RESET ROLE;

-- impute with nothing to fill says so
SELECT count(*) FROM fairsynth_impute(NULL::msg_people, seed => 1);
SELECT count(*) FROM fairsynth_impute(NULL::msg_people, ARRAY['age'], seed => 1);
UPDATE msg_people SET score = NULL WHERE age = 33;
SELECT count(*), count(score) FROM fairsynth_impute(NULL::msg_people, ARRAY['age', 'score'], seed => 1);
SELECT count(*), count(score) FROM fairsynth_impute(NULL::msg_people, seed => 1);

-- amplification: 12 Native American rows become 200 rows each (full mode),
-- and the rows additive mode adds with its total and factor
SELECT race, count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['race'], seed => 1)
GROUP BY race ORDER BY race;
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['race', 'sex'], mode => 'additive', seed => 1);
-- a mild balance: no amplification NOTICE
SELECT count(*) FROM fairsynth_balance(NULL::msg_people, ARRAY['sex'], seed => 1);
-- a tiny relation made large
CREATE TABLE msg_tiny AS SELECT * FROM msg_people LIMIT 20;
SELECT count(*) FROM fairsynth_synthesize(NULL::msg_tiny, num_rows => 1000, seed => 1);

DROP TABLE msg_people, msg_types, msg_tiny;
DROP ROLE regress_msg_reader;
