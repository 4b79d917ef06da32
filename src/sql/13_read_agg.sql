-- The read as a mergeable aggregate (issue #12): row count, exact combination
-- counts, an order-independent fingerprint and a bottom-k sample, in parallel
-- workers or on Citus shards (partial aggregates).

CREATE FUNCTION fairsynth_internal.fairsynth_read_sfunc(internal, anyelement, text[]) RETURNS internal
AS 'MODULE_PATHNAME', 'fairsynth_read_sfunc' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION fairsynth_internal.fairsynth_read_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'fairsynth_read_combine' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION fairsynth_internal.fairsynth_read_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'fairsynth_read_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION fairsynth_internal.fairsynth_read_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'fairsynth_read_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION fairsynth_internal.fairsynth_read_final(internal, anyelement, text[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'fairsynth_read_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE fairsynth_read(relation_row anyelement, columns text[]) (
  SFUNC = fairsynth_internal.fairsynth_read_sfunc, STYPE = internal,
  COMBINEFUNC = fairsynth_internal.fairsynth_read_combine,
  SERIALFUNC = fairsynth_internal.fairsynth_read_serialize,
  DESERIALFUNC = fairsynth_internal.fairsynth_read_deserialize,
  FINALFUNC = fairsynth_internal.fairsynth_read_final, FINALFUNC_EXTRA,
  PARALLEL = SAFE);

COMMENT ON AGGREGATE fairsynth_read(anyelement, text[]) IS
'fairsynth''s read of a relation as a mergeable state: SELECT fairsynth_read(t, ARRAY[''race'', ''sex'']) FROM t gives the row count, the exact counts of the columns'' value combinations, an order-independent fingerprint and a bottom-k sample''s size, the same whatever the order or split of the rows (parallel workers, Citus shards).';
