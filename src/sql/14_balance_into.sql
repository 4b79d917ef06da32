-- Generating into a table (issue #12, part 3): fairsynth_balance_into writes
-- the balanced rows into a destination table.  On plain PostgreSQL it is one
-- INSERT ... SELECT through the executor, as the calling role.  On a Citus
-- distributed destination the model is fitted once on the coordinator from
-- the read states of the source's shards (each worker reads and merges its
-- own shards; the coordinator receives one sample-sized state per worker,
-- never the rows), then every worker holding shards of the destination
-- generates its part of the plan (fairsynth_sample(..., part, parts)) and
-- inserts it into the destination there, so no generated row goes through
-- the coordinator, and the parts add up to exactly the planned counts.  When
-- the destination is hash-distributed by an integer key of the model (a
-- serial id), each shard's part is made with keys that hash into the shard
-- (fairsynth_sample_shard) and inserted into the shard itself by its node;
-- otherwise Citus routes each row from the worker to its shard.

-- The read of fairsynth_read as bytes in the portable form (sampled rows and
-- combinations as text, read_agg.c): what a worker ships, merged by
-- fairsynth_read_merge, fitted by fairsynth_read_fit with the fitting node's
-- own types.
CREATE FUNCTION fairsynth_internal.fairsynth_read_export(internal, anyelement, text[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'fairsynth_read_export' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE fairsynth_internal.fairsynth_read_state(relation_row anyelement, columns text[]) (
  SFUNC = fairsynth_internal.fairsynth_read_sfunc, STYPE = internal,
  COMBINEFUNC = fairsynth_internal.fairsynth_read_combine,
  SERIALFUNC = fairsynth_internal.fairsynth_read_serialize,
  DESERIALFUNC = fairsynth_internal.fairsynth_read_deserialize,
  FINALFUNC = fairsynth_internal.fairsynth_read_export, FINALFUNC_EXTRA,
  PARALLEL = SAFE);

-- Internal: the portable read state of a node's shards of a distributed
-- source, by a heap scan of each (as SELECT, as the caller; an error on a
-- shard with row-level security), as text, then a space and the largest
-- key_column: what fairsynth_balance_into ships from a worker.
CREATE FUNCTION fairsynth_internal.fairsynth_read_shards(shards text[], relation anyelement,
                                                         columns text[], key_column text)
RETURNS text
AS 'MODULE_PATHNAME', 'fairsynth_read_shards' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;

CREATE FUNCTION fairsynth_internal.fairsynth_read_merge(states bytea[]) RETURNS bytea
AS 'MODULE_PATHNAME', 'fairsynth_read_merge' LANGUAGE C STRICT PARALLEL SAFE;

CREATE FUNCTION fairsynth_internal.fairsynth_read_fit(states bytea[], relation anyelement,
                                                      columns text[], outcome text,
                                                      impute boolean, free_text text[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'fairsynth_read_fit' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;

-- Internal: fairsynth_sample's part with the integer key key_column drawn
-- after key_after so that every row hashes into [hash_min, hash_max] (the
-- type's hash function, as Citus hashes a distribution column): one shard's
-- rows.  node_hash_mins/node_hash_maxs: the ranges of all the shards the
-- backend fills, in order, this one among them (their keys are found
-- together; the keys are the same without them).
CREATE FUNCTION fairsynth_internal.fairsynth_sample_shard(model bytea, relation anyelement,
                                                          num_rows bigint, mode text, target jsonb,
                                                          seed bigint, part integer, parts integer,
                                                          key_column text, key_after bigint,
                                                          hash_min integer, hash_max integer,
                                                          node_hash_mins integer[] DEFAULT NULL,
                                                          node_hash_maxs integer[] DEFAULT NULL)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'fairsynth_sample_shard'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000;

-- Internal: the model's integer key columns (fresh values, never modelled).
CREATE FUNCTION fairsynth_internal.fairsynth_model_keys(model bytea, relation anyelement)
RETURNS text[]
AS 'MODULE_PATHNAME', 'fairsynth_model_keys'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- Internal, run on a Citus node by fairsynth_balance_into: insert every
-- shard's part (fairsynth_sample_shard) into that shard, one after another;
-- returns the rows inserted.
CREATE FUNCTION fairsynth_internal.fairsynth_fill_shards(model bytea, relation anyelement,
                                                         num_rows bigint, mode text, target jsonb,
                                                         seed bigint, key_column text, key_after bigint,
                                                         parts integer, shards text[], part_nos integer[],
                                                         hash_mins integer[], hash_maxs integer[], cols text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $fn$
DECLARE
  total bigint := 0;
  n bigint;
BEGIN
  FOR i IN 1 .. coalesce(array_length(shards, 1), 0) LOOP
    -- every call is given the ranges of all the node's shards: their keys
    -- are found together (shard_keys.c)
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM fairsynth_internal.fairsynth_sample_shard($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
                   shards[i]::regclass, cols, cols)
      USING model, relation, num_rows, mode, target, seed, part_nos[i], parts,
            key_column, key_after, hash_mins[i], hash_maxs[i], hash_mins, hash_maxs;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
  END LOOP;
  RETURN total;
END
$fn$;

CREATE FUNCTION fairsynth_balance_into(destination regclass, relation anyelement, columns text[],
                                       mode text DEFAULT 'full',
                                       num_rows bigint DEFAULT NULL,
                                       target jsonb DEFAULT NULL,
                                       seed bigint DEFAULT NULL,
                                       outcome text DEFAULT NULL,
                                       impute boolean DEFAULT false,
                                       free_text text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $fn$
DECLARE
  src regclass;
  srcname text;
  destname text;
  ext text;
  cols text;
  col record;
  citus boolean := false;
  src_distributed boolean := false;
  balanced text[];
  model bytea;
  states bytea[];
  parts int;
  r record;
  total bigint := 0;
  t0 timestamptz;
  t1 timestamptz;
  t2 timestamptz;
  distcol text;
  key_after bigint;
  src_key_max bigint;
  pieces text[];
  node_names text[];
  node_ports int[];
  node_cmds text[];
  how text;
BEGIN
  IF destination IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'destination must not be NULL',
      HINT = 'Pass the table to insert into, e.g. ''balanced''::regclass.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = destination) THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_table',
      MESSAGE = format('destination relation with OID %s does not exist', destination::oid),
      HINT = 'Pass the table to insert into, e.g. ''balanced''::regclass.';
  END IF;
  SELECT t.typrelid INTO src FROM pg_type t WHERE t.oid = pg_typeof(relation);
  IF src IS NULL OR src = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = format('the relation argument is of type %s, not the row type of a table or view', pg_typeof(relation)),
      HINT = 'Pass NULL::source_table as the second argument.';
  END IF;
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = destination) NOT IN ('r', 'p', 'f') THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = format('destination %s is not a table', destination),
      HINT = 'Insert into a table (plain, partitioned, foreign or Citus distributed).';
  END IF;
  srcname := format('%I.%I', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = src),
                    (SELECT c.relname FROM pg_class c WHERE c.oid = src));
  destname := format('%I.%I', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = destination),
                     (SELECT c.relname FROM pg_class c WHERE c.oid = destination));
  SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'fairsynth';

  -- the destination has the source's columns (names and types, in order;
  -- the source's generated columns are left to the destination)
  FOR col IN
    SELECT s.attname AS sname, s.atttypid AS stype, d.attname AS dname, d.atttypid AS dtype, s.attgenerated AS sgen
      FROM (SELECT a.attname, a.atttypid, a.attgenerated, row_number() OVER (ORDER BY a.attnum) AS i
              FROM pg_attribute a WHERE a.attrelid = src AND a.attnum > 0 AND NOT a.attisdropped) s
      FULL JOIN (SELECT a.attname, a.atttypid, row_number() OVER (ORDER BY a.attnum) AS i
              FROM pg_attribute a WHERE a.attrelid = destination AND a.attnum > 0 AND NOT a.attisdropped) d
        ON s.i = d.i
     ORDER BY coalesce(s.i, d.i)
  LOOP
    IF col.sname IS DISTINCT FROM col.dname OR col.stype IS DISTINCT FROM col.dtype THEN
      RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
        MESSAGE = format('destination %s does not have the columns of %s: %s where %s has %s', destination, src::text,
                         CASE WHEN col.dname IS NULL THEN 'no column' ELSE format('column "%s" %s', col.dname, format_type(col.dtype, NULL)) END,
                         src::text,
                         CASE WHEN col.sname IS NULL THEN 'no column' ELSE format('column "%s" %s', col.sname, format_type(col.stype, NULL)) END),
        HINT = format('Create it as CREATE TABLE ... (LIKE %s).', src::text);
    END IF;
    CONTINUE WHEN col.sgen <> '';
    IF NOT has_column_privilege(destination, col.dname, 'INSERT') THEN
      RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('permission denied to insert into column "%s" of %s', col.dname, destination),
        HINT = format('GRANT INSERT ON %s TO %I.', destination, current_user);
    END IF;
    cols := concat_ws(', ', cols, quote_ident(col.sname));
  END LOOP;

  -- Citus: a distributed destination is filled on the workers
  IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1 AND partmethod <> ''n''),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $2 AND partmethod <> ''n'')'
      INTO citus, src_distributed USING destination, src;
  END IF;

  IF NOT citus THEN
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %I.fairsynth_balance($1, $2, mode => $3, num_rows => $4, '
                   'target => $5, seed => $6, outcome => $7, impute => $8, free_text => $9)',
                   destname, cols, cols, ext)
      USING relation, columns, mode, num_rows, target, seed, outcome, impute, free_text;
    GET DIAGNOSTICS total = ROW_COUNT;
    RETURN total;
  END IF;

  -- the nodes holding shards of the destination insert into it: they need
  -- Citus metadata (a worker without it cannot route rows to shards)
  FOR r IN
      SELECT DISTINCT n.nodename, n.nodeport, n.hasmetadata, n.groupid
        FROM pg_catalog.pg_dist_shard s
        JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
        JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid
       WHERE s.logicalrelid = destination AND n.isactive
  LOOP
    IF NOT r.hasmetadata AND r.groupid <> 0 THEN
      RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = format('node %s:%s holds shards of %s but has no Citus metadata, so it cannot insert into it',
                         r.nodename, r.nodeport, destination),
        HINT = format('SELECT citus_activate_node(%L, %s); or SELECT start_metadata_sync_to_node(%L, %s);',
                      r.nodename, r.nodeport, r.nodename, r.nodeport);
    END IF;
    parts := coalesce(parts, 0) + 1;
  END LOOP;
  IF parts IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
      MESSAGE = format('distributed table %s has no shard on an active node', destination),
      HINT = 'Add a worker (citus_add_node) or move the shards to an active node.';
  END IF;

  -- the model, fitted once on the coordinator
  t0 := clock_timestamp();
  -- the destination's distribution column, when it is hash-distributed by
  -- an integer column of the source: a key candidate for writing straight
  -- into its shards (below), whose largest value the read takes along
  EXECUTE 'SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
             FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1 AND p.partmethod = ''h'''
    INTO distcol USING destination;
  IF distcol IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_attribute a
       WHERE a.attrelid = src AND a.attname = distcol AND NOT a.attisdropped
         AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) THEN
    distcol := NULL;
  END IF;

  IF src_distributed THEN
    -- every worker reads its shards of the source as one aggregate (the rows
    -- cast to the source's row type): one state of at most the sample per
    -- worker, sent as its hex text, then the largest distcol after a space
    balanced := columns || CASE WHEN outcome IS NULL THEN '{}'::text[] ELSE ARRAY[outcome] END;
    -- a call into the module loads it, so that its settings (the workers are
    -- given this session's fairsynth.sample_rows) are defined
    PERFORM fairsynth_internal.fairsynth_read_merge('{}'::bytea[]);
    FOR r IN EXECUTE format($q$
        SELECT w.node_name, w.node_port, w.success, w.result
          FROM (SELECT array_agg(nodename ORDER BY nodename, nodeport) AS names,
                       array_agg(nodeport ORDER BY nodename, nodeport) AS ports,
                       array_agg(cmd ORDER BY nodename, nodeport) AS cmds
                  FROM (SELECT nodename, nodeport,
                               CASE WHEN $5 THEN
                                 -- row-level security: through the executor
                                 format('SELECT pg_catalog.concat(m.state::text, '' '', m.key_max::text) '
                                        'FROM (SELECT pg_catalog.set_config(''fairsynth.sample_rows'', %%L, false) OFFSET 0) s(c), '
                                        'LATERAL (SELECT fairsynth_internal.fairsynth_read_state(u.r, %%L::text[]), %%s '
                                        'FROM (%%s) u(r) WHERE s.c IS NOT NULL) m(state, key_max)',
                                        current_setting('fairsynth.sample_rows'), $1,
                                        CASE WHEN $4 IS NULL THEN 'NULL::bigint'
                                             ELSE format('pg_catalog.max((u.r).%%I)::bigint', $4) END,
                                        string_agg(format('SELECT ROW(t.*)::%%s FROM %%s t', $3, shard), ' UNION ALL '))
                               ELSE
                                 -- else a heap scan of each shard: the same state
                                 format('SELECT fairsynth_internal.fairsynth_read_shards(%%L::text[], NULL::%%s, %%L::text[], %%L) '
                                        'FROM (SELECT pg_catalog.set_config(''fairsynth.sample_rows'', %%L, false) OFFSET 0) s(c) '
                                        'WHERE s.c IS NOT NULL',
                                        array_agg(shard::text), $3, $1, $4, current_setting('fairsynth.sample_rows'))
                               END AS cmd
                          FROM (SELECT DISTINCT ON (s.shardid) s.shardid, n.nodename, n.nodeport,
                                       pg_catalog.shard_name(s.logicalrelid, s.shardid) AS shard
                                  FROM pg_catalog.pg_dist_shard s
                                  JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
                                  JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid
                                 WHERE s.logicalrelid = $2 AND n.isactive
                                 ORDER BY s.shardid, n.nodename, n.nodeport) sh
                         GROUP BY nodename, nodeport) per_node) q,
               pg_catalog.master_run_on_worker(q.names, q.ports, q.cmds, true) w$q$)
      USING balanced, src, srcname, distcol,
            (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = src)
    LOOP
      IF NOT r.success THEN
        RAISE EXCEPTION USING ERRCODE = 'external_routine_exception',
          MESSAGE = format('reading the shards of %s on node %s:%s failed: %s', src::text, r.node_name, r.node_port, r.result);
      END IF;
      -- the state's text (empty: the worker's shards hold no rows), the key
      pieces := string_to_array(r.result, ' ');
      IF pieces[1] <> '' THEN
        states := states || decode(substr(pieces[1], 3), 'hex');
      END IF;
      IF pieces[2] <> '' THEN
        src_key_max := GREATEST(src_key_max, pieces[2]::bigint);
      END IF;
    END LOOP;
    src_key_max := coalesce(src_key_max, 0);
    t1 := clock_timestamp();
    model := fairsynth_internal.fairsynth_read_fit(states, relation, columns, outcome, impute, free_text);
  ELSE
    -- a local or reference source: read on the coordinator
    t1 := clock_timestamp();
    model := fairsynth_fit(relation, columns, outcome, impute, free_text);
  END IF;

  t2 := clock_timestamp();
  -- A destination hash-distributed by an integer key of the model: every
  -- shard gets a part of the plan whose keys hash into its range, written
  -- by its node straight into the shard (no rows routed between nodes).  The
  -- nodes name the row type by the destination's (the source may be local
  -- to the coordinator): the same columns, which the model's value checks.
  IF distcol IS NOT NULL AND distcol = ANY (fairsynth_internal.fairsynth_model_keys(model, relation)) THEN
    -- fresh keys: after the largest of the source (taken by the read of a
    -- distributed source) and the destination
    IF src_key_max IS NULL THEN
      EXECUTE format('SELECT pg_catalog.max(%I)::bigint FROM %s', distcol, srcname) INTO src_key_max;
    END IF;
    EXECUTE format('SELECT pg_catalog.max(%I)::bigint FROM %s', distcol, destname) INTO key_after;
    key_after := GREATEST(key_after, src_key_max, 0);
    EXECUTE format($q$
        WITH shards AS (
          SELECT DISTINCT ON (s.shardid) s.shardid, n.nodename, n.nodeport,
                 pg_catalog.shard_name(s.logicalrelid, s.shardid) AS shard,
                 s.shardminvalue::int AS lo, s.shardmaxvalue::int AS hi
            FROM pg_catalog.pg_dist_shard s
            JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
            JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid
           WHERE s.logicalrelid = $1 AND n.isactive
           ORDER BY s.shardid, n.nodename, n.nodeport),
        numbered AS (
          SELECT *, row_number() OVER (ORDER BY shardid) AS part, count(*) OVER () AS parts FROM shards)
        SELECT array_agg(nodename ORDER BY nodename, nodeport), array_agg(nodeport ORDER BY nodename, nodeport),
               array_agg(cmd ORDER BY nodename, nodeport)
          FROM (SELECT nodename, nodeport,
                       format('SELECT fairsynth_internal.fairsynth_fill_shards(%%L::bytea, NULL::%%s, %%s, %%L, %%L::jsonb, %%s, %%L, %%s, %%s, %%L::text[], %%L::int[], %%L::int[], %%L::int[], %%L)',
                              $2, $3, coalesce($4::text, 'NULL'), $5, $6, coalesce($7::text, 'NULL'), $8, $9, max(parts),
                              array_agg(shard ORDER BY part), array_agg(part ORDER BY part),
                              array_agg(lo ORDER BY part), array_agg(hi ORDER BY part), $10) AS cmd
                  FROM numbered GROUP BY nodename, nodeport) c$q$)
      INTO node_names, node_ports, node_cmds
      USING destination, model, destname, num_rows, mode, target, seed, distcol, key_after, cols;
    how := format('straight into the shards of %s, keys after %s', distcol, key_after);
  ELSE
    -- otherwise node p of N generates part p there, and Citus routes the
    -- rows to their shards
    EXECUTE format($q$
        SELECT array_agg(nodename ORDER BY nodename, nodeport), array_agg(nodeport ORDER BY nodename, nodeport),
               array_agg(format('INSERT INTO %%s (%%s) SELECT %%s FROM %%I.fairsynth_sample(%%L::bytea, NULL::%%s, %%s, %%L, %%L::jsonb, %%s, %%s, %%s)',
                                $2, $3, $3, $4, $5, $6, coalesce($7::text, 'NULL'), $8, $9, coalesce($10::text, 'NULL'),
                                p, n) ORDER BY nodename, nodeport)
          FROM (SELECT nodename, nodeport, row_number() OVER (ORDER BY nodename, nodeport) AS p, count(*) OVER () AS n
                  FROM (SELECT DISTINCT n.nodename, n.nodeport
                          FROM pg_catalog.pg_dist_shard s
                          JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
                          JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid
                         WHERE s.logicalrelid = $1 AND n.isactive) nodes) numbered$q$)
      INTO node_names, node_ports, node_cmds
      USING destination, destname, cols, ext, model, destname, num_rows, mode, target, seed;
    how := 'routed by Citus';
  END IF;

  -- every node runs its command at once, over its own connection
  FOR r IN SELECT * FROM pg_catalog.master_run_on_worker(node_names, node_ports, node_cmds, true) w
  LOOP
    IF NOT r.success THEN
      RAISE EXCEPTION USING ERRCODE = 'external_routine_exception',
        MESSAGE = format('generating into %s on node %s:%s failed: %s', destination, r.node_name, r.node_port, r.result),
        HINT = 'Each node commits its part on its own: the parts of the other nodes may already be in the destination.';
    END IF;
    -- "INSERT 0 n" (routed) or fairsynth_fill_shards's count
    total := total + (CASE WHEN r.result LIKE 'INSERT %' THEN split_part(r.result, ' ', 3) ELSE r.result END)::bigint;
  END LOOP;
  RAISE DEBUG 'fairsynth_balance_into: read % s (on the workers), fitted in % s, generated % rows in % s (% nodes, %)',
    round(extract(epoch FROM t1 - t0)::numeric, 3), round(extract(epoch FROM t2 - t1)::numeric, 3),
    total, round(extract(epoch FROM clock_timestamp() - t2)::numeric, 3), parts, how;
  RETURN total;
END
$fn$;

COMMENT ON FUNCTION fairsynth_balance_into(regclass, anyelement, text[], text, bigint, jsonb, bigint, text, boolean, text[]) IS
'Writes the rows fairsynth_balance(relation, columns, ...) returns into destination (a table with the relation''s columns) and returns their count: on plain PostgreSQL one INSERT as the calling role; on a Citus distributed destination the model is fitted once from the source''s shards (read on the workers) and every worker holding destination shards generates its part of the plan there (fairsynth_sample part/parts), exact counts holding over the whole destination.';
