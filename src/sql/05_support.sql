-- Planner support: row estimates of the generators.

CREATE FUNCTION fairsynth_internal.fairsynth_support(internal) RETURNS internal
AS 'MODULE_PATHNAME', 'fairsynth_support'
LANGUAGE C STRICT;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_support(internal) IS
'Planner support of the fairsynth generators: estimates their rows from num_rows or from the source relation''s size.';

-- Called by the planner only (it checks no privilege); not by SQL.
REVOKE EXECUTE ON FUNCTION fairsynth_internal.fairsynth_support(internal) FROM PUBLIC;
