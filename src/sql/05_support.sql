-- Planner support: row estimates of the generators.

CREATE FUNCTION fairsynth_support(internal) RETURNS internal
AS 'MODULE_PATHNAME', 'fairsynth_support'
LANGUAGE C STRICT;

COMMENT ON FUNCTION fairsynth_support(internal) IS
'Planner support of the fairsynth generators: estimates their rows from num_rows or from the source relation''s size.';
