-- Imputation of missing values from the learned conditional distributions.

CREATE FUNCTION fairsynth_impute(relation anyelement,
                                 columns text[] DEFAULT NULL,
                                 seed bigint DEFAULT NULL)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'fairsynth_impute_typed'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000
SUPPORT fairsynth_internal.fairsynth_support;

COMMENT ON FUNCTION fairsynth_impute(anyelement, text[], bigint) IS
'Every row of the relation whose row type is the first argument (pass NULL::relation), with the NULLs of columns (default: every column that has NULLs) replaced by a draw from that column''s learned distribution given the row''s other values; non-NULL values are never changed.';
