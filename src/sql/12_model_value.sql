-- A fitted model as a value (issue #12): fit once, store it in a table, dump
-- and restore it, sample it anywhere the row type exists, in parts.

CREATE FUNCTION fairsynth_fit(relation anyelement,
                              columns text[] DEFAULT NULL,
                              outcome text DEFAULT NULL,
                              impute boolean DEFAULT false,
                              free_text text[] DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fairsynth_fit'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;

COMMENT ON FUNCTION fairsynth_fit(anyelement, text[], text, boolean, text[]) IS
'The model fairsynth_balance (columns given) or fairsynth_synthesize (columns NULL) would fit on the relation whose row type is the first argument, as a value: it carries the row type''s signature, the exact combination counts and everything generation needs, with a format version and a CRC-32C checksum. impute: samples carry no NULL. Sample it with fairsynth_sample.';

CREATE FUNCTION fairsynth_sample(model bytea, relation anyelement,
                                 num_rows bigint DEFAULT NULL,
                                 mode text DEFAULT 'full',
                                 target jsonb DEFAULT NULL,
                                 seed bigint DEFAULT NULL,
                                 part integer DEFAULT 1,
                                 parts integer DEFAULT 1)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'fairsynth_sample'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000;

COMMENT ON FUNCTION fairsynth_sample(bytea, anyelement, bigint, text, jsonb, bigint, integer, integer) IS
'Rows generated from a model made by fairsynth_fit, without reading the relation: the rows fairsynth_balance returns with the same arguments and seed (sequence keys and random uuid or text keys excepted). The second argument gives the row type (NULL::relation), which must be the one the model was fitted on. part/parts: part of parts disjoint shares of the planned counts, which add up to exactly the plan.';
