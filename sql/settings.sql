-- Settings (issue 11): checked at once when the library is loaded; a value
-- SET before it was loaded in the session (a placeholder PostgreSQL cannot
-- check) that the setting rejects is an error at the first call, not a
-- silent revert.
\set SHOW_CONTEXT never
CREATE TABLE settings_t AS
  SELECT CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END AS g, i % 10 AS v FROM generate_series(1, 300) i;
-- this session has not loaded fairsynth yet: the SET makes a placeholder
SET fairsynth.sample_rows = 50;
SELECT count(*) FROM fairsynth_balance(NULL::settings_t, ARRAY['g'], seed => 1);
\echo :LAST_ERROR_SQLSTATE
-- said once; the setting has its default again
SHOW fairsynth.sample_rows;
SELECT count(*) FROM fairsynth_balance(NULL::settings_t, ARRAY['g'], seed => 1);
-- loaded: an out-of-range or malformed SET is rejected at once
SET fairsynth.sample_rows = 50;
SET fairsynth.max_rows = 0;
SET fairsynth.max_rows = 'many';
SET fairsynth.progress_interval = -1;
SET fairsynth.no_such_setting = 1;
SET fairsynth.max_rows = 1000;
SHOW fairsynth.max_rows;
RESET fairsynth.max_rows;
SELECT name, boot_val, unit, min_val, max_val, context FROM pg_settings
WHERE name LIKE 'fairsynth.%' ORDER BY name;
DROP TABLE settings_t;
