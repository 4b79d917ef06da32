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
