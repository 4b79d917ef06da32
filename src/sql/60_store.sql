
-- The shared model store (needs fairsynth in shared_preload_libraries).

CREATE FUNCTION fairsynth_models(
    OUT relation regclass, OUT role regrole, OUT source_rows bigint,
    OUT sample_rows integer, OUT model_bytes bigint, OUT hits bigint,
    OUT stored_at timestamptz, OUT used_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fairsynth_models'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 64;

COMMENT ON FUNCTION fairsynth_models() IS
'Fitted models in the shared model store: the caller''s own (every role''s for members of pg_read_all_stats), with the rows they were fitted on, their size and how often another call reused them. Needs fairsynth in shared_preload_libraries.';

CREATE FUNCTION fairsynth_models_reset()
RETURNS bigint
AS 'MODULE_PATHNAME', 'fairsynth_models_reset'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION fairsynth_models_reset() IS
'Drops the caller''s models from the shared model store (a superuser''s call: every model) and returns how many; the next call refits. Needs fairsynth in shared_preload_libraries.';
