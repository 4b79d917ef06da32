-- Progress of long calls, seen from other sessions (needs fairsynth in
-- shared_preload_libraries; without it, fairsynth.progress_interval NOTICEs).

CREATE FUNCTION fairsynth_progress(
    OUT pid integer, OUT relation regclass, OUT phase text,
    OUT rows_done bigint, OUT rows_total bigint, OUT started timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fairsynth_progress'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED ROWS 10;

COMMENT ON FUNCTION fairsynth_progress() IS
'The fairsynth calls running now, one row per backend: phase (read, fit, generate) and rows done of rows planned (rows_total NULL while unknown). A role sees its own calls; members of pg_read_all_stats see every call. Needs fairsynth in shared_preload_libraries (empty otherwise).';

CREATE VIEW fairsynth_progress AS SELECT * FROM fairsynth_progress();
GRANT SELECT ON fairsynth_progress TO PUBLIC;

COMMENT ON VIEW fairsynth_progress IS
'The fairsynth calls running now (see fairsynth_progress()).';

-- Load the library now, also when function bodies are not checked (a
-- restore): the settings exist in this session at once, so SHOW works and an
-- out-of-range SET is rejected.  Other sessions load it at their first call,
-- or at their start with session_preload_libraries.
DO $$ BEGIN PERFORM @extschema@.fairsynth_progress(); END $$;
