
-- ---------------------------------------------------------------------------
-- The extension's own schema for its internal helpers (issue #11): the public
-- surface in the extension's schema is the documented functions only (and
-- \df fairsynth* lists just those); the helpers the public functions call
-- (HTML, SVG, binning, column checks, planner support) live here, owned by
-- the extension and dropped with it.  The public functions are SECURITY
-- INVOKER, so their callers need USAGE on this schema and EXECUTE on the
-- helpers they reach; the schema is never on anyone's search_path: every
-- call is qualified, fairsynth_internal.f(...).  Nothing here is an API.
-- ---------------------------------------------------------------------------

CREATE SCHEMA fairsynth_internal;
GRANT USAGE ON SCHEMA fairsynth_internal TO PUBLIC;

COMMENT ON SCHEMA fairsynth_internal IS
'Internal helpers of the fairsynth extension (not an API: names and signatures change between versions). Use the documented fairsynth_* functions.';
