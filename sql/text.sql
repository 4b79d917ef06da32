-- Free-text columns (issue 14): detected, generated token by token per
-- combination, never a rare term or a rare whole text of the source.
SET client_min_messages = warning;
CREATE TABLE sms (label text, message text);
\copy sms FROM 'test/data/sms.csv' WITH (FORMAT csv, HEADER true)
-- a planted message with a unique phone number (and a unique word)
INSERT INTO sms VALUES ('spam', 'URGENT call 07999123456 now to claim your zorblax prize');
CREATE FUNCTION sms_terms(t text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS
$$ SELECT DISTINCT m[1] FROM regexp_matches(lower(t), '([a-z0-9'']+)', 'g') AS m $$;
-- terms fewer than 5 rows have
CREATE TABLE sms_rare AS
  SELECT term FROM sms, sms_terms(message) AS term GROUP BY term HAVING count(*) < 5;

CREATE TABLE sms_syn AS SELECT * FROM fairsynth_synthesize(NULL::sms, seed => 1);
-- free text: mostly new, distinct texts; none of the source's rare texts
SELECT count(DISTINCT message) > 4000 AS distinct_texts,
       avg(length(message)) BETWEEN 0.85 * (SELECT avg(length(message)) FROM sms)
                                AND 1.15 * (SELECT avg(length(message)) FROM sms) AS lengths
FROM sms_syn;
SELECT count(*) AS rare_texts_copied FROM sms_syn
WHERE message IN (SELECT message FROM sms GROUP BY message HAVING count(*) < 5);
SELECT count(*) AS rare_terms_emitted
FROM (SELECT DISTINCT term FROM sms_syn, sms_terms(message) AS term) s JOIN sms_rare USING (term);
-- spam rows read like spam
SELECT label, round(avg((message ~* '(call|free|txt|claim|prize|mobile)')::int), 1) > 0.5 AS spammy
FROM sms_syn GROUP BY label ORDER BY label;
-- deterministic: the same seed, the same texts
SELECT (SELECT md5(string_agg(message, '|')) FROM fairsynth_synthesize(NULL::sms, seed => 1)) =
       (SELECT md5(string_agg(message, '|')) FROM sms_syn) AS same_seed_same_texts;

-- 100,000 rows: the planted number and message never come back
SELECT count(*) FILTER (WHERE message LIKE '%07999123456%' OR message LIKE '%zorblax%') AS planted_number,
       count(*) FILTER (WHERE message = 'URGENT call 07999123456 now to claim your zorblax prize') AS planted_message,
       count(DISTINCT message) > 90000 AS distinct_texts
FROM fairsynth_synthesize(NULL::sms, num_rows => 100000, seed => 2);

-- balanced on the label: half spam, spam still spam, still private
CREATE TABLE sms_bal AS SELECT * FROM fairsynth_balance(NULL::sms, ARRAY['label'], seed => 3);
SELECT label, count(*), round(avg((message ~* '(call|free|txt|claim|prize|mobile)')::int), 1) > 0.5 AS spammy
FROM sms_bal GROUP BY label ORDER BY label;
SELECT count(*) AS rare_terms_emitted
FROM (SELECT DISTINCT term FROM sms_bal, sms_terms(message) AS term) s JOIN sms_rare USING (term);
-- additive and outcome modes carry free text too
SELECT count(*) > 0 AS rows, count(DISTINCT message) = count(*) AS all_distinct
FROM fairsynth_balance(NULL::sms, ARRAY['label'], mode => 'additive', seed => 4);

-- free_text names the columns: '{}' makes the message a category again
SELECT count(DISTINCT message) < 20 AS categories
FROM fairsynth_synthesize(NULL::sms, seed => 1, free_text => '{}');
SELECT count(DISTINCT message) > 4000 AS named
FROM fairsynth_synthesize(NULL::sms, seed => 1, free_text => ARRAY['message']);
-- errors name the column
SELECT count(*) FROM fairsynth_synthesize(NULL::sms, free_text => ARRAY['nope']);
SELECT count(*) FROM fairsynth_balance(NULL::sms, ARRAY['label'], free_text => ARRAY['label']);
CREATE TABLE notes (id int, score int, note varchar(40));
INSERT INTO notes SELECT i, i % 5,
  (ARRAY['the pump was fine today', 'patient slept well all night', 'pain in the left knee again',
         'no change since the last visit', 'asked for a second opinion'])[1 + i % 5] || ' ' || i
FROM generate_series(1, 300) AS i;
SELECT count(*) FROM fairsynth_synthesize(NULL::notes, free_text => ARRAY['score']);
-- varchar(n) holds every generated text; its numbers are fresh (every
-- source number is unique), and no note is a source note
SELECT max(length(note)) <= 40 AS fits,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM regexp_matches(note, '[0-9]+', 'g') AS m
                                      WHERE m[1] IN (SELECT i::text FROM generate_series(1, 300) AS i))) AS source_numbers,
       count(*) FILTER (WHERE note IN (SELECT note FROM notes)) AS source_notes,
       count(DISTINCT note) > 5 AS varied
FROM fairsynth_synthesize(NULL::notes, seed => 5);
-- the report shows a free-text column as its most frequent terms, original
-- against synthetic, and never a term that fewer than rare_threshold rows hold
CREATE TABLE sms_report_syn AS SELECT * FROM fairsynth_synthesize(NULL::sms, seed => 3);
SELECT term, n_original >= 5 AS enough_rows, n_synthetic > 0 AS generated
FROM fairsynth_internal.fairsynth_text_terms('sms', 'sms_report_syn', 'message', 5);
SELECT position('its 15 most frequent terms' IN r) > 0 AS terms_card,
       position('zorblax' IN lower(r)) = 0 AND position('07999123456' IN r) = 0 AS no_rare_term
FROM fairsynth_report('sms', 'sms_report_syn') AS r;
SELECT * FROM fairsynth_internal.fairsynth_text_terms('sms', 'sms_report_syn', 'message', 0);
DROP TABLE sms_report_syn;
