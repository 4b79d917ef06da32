
-- ---------------------------------------------------------------------------
-- Profiling: value distributions and imbalance per column (issue #2).
-- ---------------------------------------------------------------------------

-- Internal: a Unicode bar for a share in [0, 1]; 20 characters = share 1.0, in
-- eighths of a character; any non-zero share gets at least one eighth.
CREATE FUNCTION fairsynth_internal.fairsynth_bar(share float8)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT repeat('█', e / 8) || (ARRAY['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'])[e % 8 + 1]
  FROM (SELECT CASE WHEN share = 'NaN' THEN 0   -- no share: no bar
                    WHEN share > 0 THEN greatest(1, round(least(share, 1) * 160)::int)
                    ELSE 0 END AS e) s
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_bar(float8) IS
'Internal: Unicode bar for a share between 0 and 1: 20 characters (full blocks and eighth blocks) = 1.0; any non-zero share shows at least one eighth block; a share above 1 (Infinity too) is a full bar, NaN and shares <= 0 none.';

-- Internal: a number rounded to a few significant digits, as a short label
-- (121.04156902546833 -> 121, 0.0012345 -> 0.00123, 102127 -> 102000).
CREATE FUNCTION fairsynth_internal.fairsynth_short_number(x float8, digits int DEFAULT 3)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN x = 0 THEN '0'
              WHEN x = 'NaN'::float8 OR x IN ('Infinity'::float8, '-Infinity'::float8) THEN x::text
              ELSE trim_scale(round(x::numeric,
                     digits - 1 - floor(log(abs(x::numeric)))::int))::text END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_short_number(float8, int) IS
'Internal: x rounded to digits significant digits (default 3), without trailing zeros, as text: a short label for a bin bound.';

-- Internal: short labels for sorted, distinct bin bounds: numbers with 3
-- significant digits, more only where two bounds would read alike; other
-- types (dates, times) as they print.
CREATE FUNCTION fairsynth_internal.fairsynth_short_labels(bounds anyarray)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  l text[];
BEGIN
  IF cardinality(bounds) = 0
     OR (SELECT coalesce(bt.typcategory, t.typcategory) FROM pg_type t
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
         WHERE t.oid = pg_typeof(bounds[1])) <> 'N' THEN
    RETURN bounds::text[];
  END IF;
  FOR d IN 3..17 LOOP
    l := ARRAY(SELECT fairsynth_internal.fairsynth_short_number(x::float8, d)
               FROM unnest(bounds) WITH ORDINALITY u(x, o) ORDER BY o);
    EXIT WHEN (SELECT count(DISTINCT x) FROM unnest(l) x) = cardinality(l);
  END LOOP;
  RETURN l;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_short_labels(anyarray) IS
'Internal: labels for sorted bin bounds: numbers with 3 significant digits (more only where two bounds would read alike), other types as they print.';

-- Internal: the key columns of a relation, as the quality functions see them:
-- columns with a single-column primary key or unique index, and (given the
-- row count) columns whose values are all distinct and non-NULL.
CREATE FUNCTION fairsynth_internal.fairsynth_key_columns(relation regclass)
RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
  keys text[];
  col record;
  total bigint;
  is_key boolean;
BEGIN
  keys := ARRAY(
    SELECT a.attname::text FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = relation AND i.indisunique AND i.indnkeyatts = 1
      AND i.indkey[0] > 0 AND i.indpred IS NULL AND NOT a.attisdropped
    ORDER BY a.attnum);
  EXECUTE format('SELECT count(*) FROM %s', relation) INTO total;
  IF total < 2 THEN
    RETURN keys;
  END IF;
  FOR col IN SELECT a.attname::text AS name FROM pg_attribute a
             JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped
               AND t.typcategory NOT IN ('B', 'A', 'C', 'G', 'X') AND t.typname <> 'json'
               AND NOT a.attname::text = ANY (keys)
             ORDER BY a.attnum LOOP
    EXECUTE format('SELECT count(DISTINCT %1$I::text) = %2$s AND count(%1$I) = %2$s FROM %3$s',
                   col.name, total, relation) INTO is_key;
    IF is_key THEN
      keys := keys || col.name;
    END IF;
  END LOOP;
  RETURN keys;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_key_columns(regclass) IS
'Internal: key columns of a relation (single-column primary key or unique index, or all values distinct and non-NULL in at least 2 rows): they carry no distribution, so profile, quality and report leave them out.';

-- Internal: checks a list of column names against a relation and returns them
-- as (name, attnum, type, binnable) in the order given (all columns when NULL).
CREATE FUNCTION fairsynth_internal.fairsynth_columns(relation regclass, columns text[])
RETURNS TABLE(ord int, column_name text, attnum int2, type_name text, binnable boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  c text;
  i int := 0;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF columns IS NULL THEN
    RETURN QUERY
      SELECT (row_number() OVER (ORDER BY a.attnum))::int, a.attname::text, a.attnum,
             format_type(a.atttypid, a.atttypmod),
             coalesce(bt.typcategory, t.typcategory) IN ('N', 'D', 'T')
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum;
    RETURN;
  END IF;
  IF cardinality(columns) IS NULL OR cardinality(columns) = 0 THEN
    RAISE EXCEPTION 'columns must not be an empty array'
      USING ERRCODE = '22023', HINT = 'Pass NULL to profile every column.';
  END IF;
  FOREACH c IN ARRAY columns LOOP
    i := i + 1;
    IF c IS NULL THEN
      RAISE EXCEPTION 'columns must not contain NULL (element %)', i USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = relation AND a.attname = c
                   AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of relation % does not exist', c, relation
        USING ERRCODE = '42703',
              HINT = coalesce('Columns of ' || relation::text || ': ' ||
                      (SELECT string_agg(a.attname::text, ', ' ORDER BY a.attnum) FROM pg_attribute a
                       WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped) || '.',
                     relation::text || ' has no columns.');
    END IF;
    IF c = ANY (columns[1:i - 1]) THEN
      RAISE EXCEPTION 'column "%" is listed twice', c USING ERRCODE = '22023';
    END IF;
  END LOOP;
  RETURN QUERY
    SELECT u.o::int, a.attname::text, a.attnum, format_type(a.atttypid, a.atttypmod),
           coalesce(bt.typcategory, t.typcategory) IN ('N', 'D', 'T')
    FROM unnest(columns) WITH ORDINALITY u(n, o)
    JOIN pg_attribute a ON a.attrelid = relation AND a.attname = u.n
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
    ORDER BY u.o;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_columns(regclass, text[]) IS
'Internal: validates column names of a relation (42703 unknown, 22023 empty/duplicate, 22004 NULL) and lists them in the order given, or all columns in attnum order when NULL; binnable = numeric or date/time type.';

-- Distribution of every value of the chosen columns, with one '(imbalance)' row
-- per column; numeric and date/time columns with > 20 distinct values are binned
-- into about 10 quantile ranges.
CREATE FUNCTION fairsynth_profile(relation regclass, columns text[] DEFAULT NULL)
RETURNS TABLE(column_name text, value text, count bigint, share float8, bar text)
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $$
DECLARE
  col record;
  total bigint;
  ndistinct bigint;
  keys text[];
  q text;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  -- validate before touching the data
  PERFORM fairsynth_internal.fairsynth_columns(relation, columns);
  IF columns IS NULL AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = relation
                                     AND a.attnum > 0 AND NOT a.attisdropped) THEN
    RAISE EXCEPTION 'relation % has no columns', relation
      USING ERRCODE = '42703', HINT = 'There is no column to profile.';
  END IF;
  -- VOLATILE, so every query below takes a fresh snapshot; this one takes
  -- AccessShareLock first: a concurrent rewrite (ALTER TABLE ... TYPE) is
  -- waited for and its rows are seen, as by a SELECT, not missed
  EXECUTE format('SELECT FROM %s LIMIT 0', relation);
  EXECUTE format('SELECT count(*) FROM %s', relation) INTO total;
  keys := fairsynth_internal.fairsynth_key_columns(relation);

  FOR col IN SELECT * FROM fairsynth_internal.fairsynth_columns(relation, columns) c ORDER BY c.ord LOOP
    IF total = 0 THEN
      RETURN QUERY SELECT col.column_name, '(imbalance)'::text, 0::bigint, NULL::float8, 'no rows'::text;
      CONTINUE;
    END IF;
    IF col.column_name = ANY (keys) THEN
      -- a key: one line, no values (they identify rows)
      RETURN QUERY SELECT col.column_name, '(key)'::text, total, 1::float8,
                          format('key: %s distinct values, not shown', total);
      CONTINUE;
    END IF;
    ndistinct := NULL;
    IF col.binnable THEN
      EXECUTE format('SELECT count(DISTINCT %I) FROM %s', col.column_name, relation) INTO ndistinct;
    END IF;
    IF ndistinct > 20 THEN
      -- quantile ranges [b_k, b_k+1), the last one closed, from the unique
      -- percentile_disc breaks at 0, 0.1, ..., 1; NULL stays a group of its own.
      -- NaN (of float and numeric columns) is no point of the number line: it
      -- is left out of the breaks and shown as the group 'NaN', after the ranges.
      q := format($q$
        WITH br AS (
          SELECT b, fairsynth_internal.fairsynth_short_labels(b) AS l
          FROM (SELECT ARRAY(SELECT DISTINCT x FROM unnest(p) x ORDER BY x) AS b
          FROM (SELECT percentile_disc(ARRAY[0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1])
                       WITHIN GROUP (ORDER BY %1$I) AS p FROM %2$s
                WHERE %1$I::text IS DISTINCT FROM 'NaN') s) s2),
        k AS (
          SELECT CASE WHEN t.%1$I IS NULL THEN NULL
                      WHEN t.%1$I::text = 'NaN' THEN 0
                      ELSE least(width_bucket(t.%1$I, br.b), cardinality(br.b) - 1) END AS k,
                 count(*) AS n
          FROM %2$s t CROSS JOIN br GROUP BY 1)
        SELECT CASE WHEN k.k IS NULL THEN NULL
                    WHEN k.k = 0 THEN 'NaN'
                    WHEN k.k = cardinality(br.b) - 1 THEN format('[%%s, %%s]', br.l[k.k], br.l[k.k + 1])
                    ELSE format('[%%s, %%s)', br.l[k.k], br.l[k.k + 1]) END,
               k.n, CASE WHEN k.k IS NULL THEN 2147483647 WHEN k.k = 0 THEN 2147483646 ELSE k.k END
        FROM k CROSS JOIN br$q$, col.column_name, relation);
    ELSE
      q := format($q$
        SELECT v, n, (row_number() OVER (ORDER BY n DESC, v COLLATE "C" NULLS LAST))::int
        FROM (SELECT %1$I::text AS v, count(*) AS n FROM %2$s GROUP BY 1) s$q$,
        col.column_name, relation);
    END IF;
    RETURN QUERY EXECUTE format($q$
      WITH g(v, n, o) AS (%s),
      nn AS (SELECT * FROM g WHERE v IS NOT NULL),
      big AS (SELECT v, n FROM nn ORDER BY n DESC, v COLLATE "C" LIMIT 1),
      small AS (SELECT v, n FROM nn ORDER BY n ASC, v COLLATE "C" DESC LIMIT 1)
      SELECT r.c, r.v, r.n, r.s, r.b FROM (
        SELECT %L::text AS c, '(imbalance)'::text AS v, %s::bigint AS n,
               (SELECT big.n::float8 / small.n FROM big, small) AS s,
               coalesce((SELECT CASE WHEN big.v = small.v THEN '1.0x  ' || big.v || ' (only value)'
                                     ELSE to_char(big.n::numeric / small.n, 'FM999999990.0') || 'x  '
                                          || big.v || ' / ' || small.v END
                         FROM big, small), 'all NULL') AS b,
               -1 AS o
        UNION ALL
        SELECT %L::text, coalesce(g.v, '(null)'), g.n, g.n::float8 / %s, fairsynth_internal.fairsynth_bar(g.n::float8 / %s), g.o
        FROM g) r
      ORDER BY r.o$q$,
      q, col.column_name,
      coalesce(ndistinct::text, '(SELECT count(*) FROM nn)'),
      col.column_name, total, total);
  END LOOP;
END
$$;

COMMENT ON FUNCTION fairsynth_profile(regclass, text[]) IS
'Distribution of the values of the given columns of a relation (all columns, in attnum order, when NULL). Per column, rows come in this order: '
'first one row with value ''(imbalance)'' whose count is the number of distinct non-NULL values, share is the ratio of the largest to the smallest non-NULL group shown '
'and bar reads e.g. ''205.3x  African-American / Native American'' (largest / smallest; ties: the first and the last value in byte order); '
'then one row per value (NULL is a value of its own, shown as ''(null)''), ordered by count descending, ties by value in byte order, with share = count / rows of the relation '
'and bar = a Unicode bar where 20 characters = share 1.0 (absolute, comparable across columns). '
'Numeric and date/time columns with more than 20 distinct values are shown instead as about 10 quantile ranges ''[low, high)'' (the last one closed) '
'built from percentile_disc breaks at 0, 0.1, ..., 1, labelled with 3 significant digits (more where two bounds would read alike), in ascending order of range, then NaN (no range bound, a group of its own), NULL last. An empty relation yields only the ''(imbalance)'' rows, with count 0 and bar ''no rows''. '
'A key column (single-column primary key or unique index, or all values distinct and non-NULL) is one row with value ''(key)'' and count = rows: its values identify rows and are not shown.';
