-- Core generators: balanced and faithful synthetic rows.

CREATE FUNCTION fairsynth_balance(relation anyelement, columns text[],
                                  mode text DEFAULT 'full',
                                  num_rows bigint DEFAULT NULL,
                                  target jsonb DEFAULT NULL,
                                  seed bigint DEFAULT NULL,
                                  outcome text DEFAULT NULL,
                                  impute boolean DEFAULT false,
                                  free_text text[] DEFAULT NULL)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'fairsynth_balance_typed'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000
SUPPORT fairsynth_internal.fairsynth_support;

COMMENT ON FUNCTION fairsynth_balance(anyelement, text[], text, bigint, jsonb, bigint, text, boolean, text[]) IS
'Synthetic rows of the relation whose row type is the first argument (pass NULL::relation), balanced over the value combinations of columns. mode full: num_rows rows (default the source row count) in the target shares (default equal); mode additive: only the rows to append so that source plus rows is balanced. outcome: that column gets the same distribution in every combination (demographic parity). impute: no NULL in synthetic rows. free_text: the free-text columns (default: text columns whose values are mostly distinct and multi-word; ''{}'' for none).';

CREATE FUNCTION fairsynth_balance(relation text, columns text[],
                                  mode text DEFAULT 'full',
                                  num_rows bigint DEFAULT NULL,
                                  target jsonb DEFAULT NULL,
                                  seed bigint DEFAULT NULL,
                                  outcome text DEFAULT NULL,
                                  impute boolean DEFAULT false,
                                  free_text text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fairsynth_balance_named'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000
SUPPORT fairsynth_internal.fairsynth_support;

COMMENT ON FUNCTION fairsynth_balance(text, text[], text, bigint, jsonb, bigint, text, boolean, text[]) IS
'fairsynth_balance for a relation given by name; needs a column definition list matching the relation (prefer the typed form fairsynth_balance(NULL::relation, ...)).';

CREATE FUNCTION fairsynth_synthesize(relation anyelement,
                                     num_rows bigint DEFAULT NULL,
                                     seed bigint DEFAULT NULL,
                                     impute boolean DEFAULT false,
                                  free_text text[] DEFAULT NULL)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'fairsynth_synthesize_typed'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000
SUPPORT fairsynth_internal.fairsynth_support;

COMMENT ON FUNCTION fairsynth_synthesize(anyelement, bigint, bigint, boolean, text[]) IS
'A synthetic copy of the relation whose row type is the first argument (pass NULL::relation): num_rows rows (default the source row count) following the source''s distributions, without balancing; impute: no NULL in synthetic rows; free_text: the free-text columns (default: detected), generated token by token.';
