
-- ---------------------------------------------------------------------------
-- Pre-training bias metrics (issue #3), as defined in test/reference/bias.py.
-- ---------------------------------------------------------------------------

-- Internal: raises 42703 unless name is a (non-dropped, user) column of relation.
CREATE FUNCTION fairsynth_internal.fairsynth_check_column(relation regclass, name text, argname text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', argname USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = relation AND a.attname = name
                 AND a.attnum > 0 AND NOT a.attisdropped) THEN
    RAISE EXCEPTION 'column "%" of relation % does not exist (argument %)', name, relation, argname
      USING ERRCODE = '42703',
            HINT = coalesce('Columns of ' || relation::text || ': ' ||
                    (SELECT string_agg(a.attname::text, ', ' ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped) || '.',
                   relation::text || ' has no columns.');
  END IF;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_check_column(regclass, text, text) IS
'Internal: raises 22004 if the column name is NULL and 42703 if it is not a column of the relation (argname names the offending argument in the message).';

-- Internal: the default favorable label value: the least frequent non-NULL one.
CREATE FUNCTION fairsynth_internal.fairsynth_default_favorable(relation regclass, label text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED
AS $$
DECLARE
  has_ctid boolean;
  fav text;
BEGIN
  PERFORM fairsynth_internal.fairsynth_check_column(relation, label, 'label');
  -- ties go to the value met first in the relation, as pandas'
  -- value_counts().idxmin() does: the smallest ctid for tables and
  -- materialized views, else the smallest value in byte order.  Reading ctid
  -- needs SELECT on the whole table: a caller granted only some columns
  -- (the label among them) gets the byte order.
  SELECT c.relkind IN ('r', 'm') AND has_table_privilege(c.oid, 'SELECT')
    INTO has_ctid FROM pg_class c WHERE c.oid = relation;
  EXECUTE format('SELECT l FROM (SELECT %1$I::text AS l, count(*) AS n, %3$s AS first
                                 FROM %2$s WHERE %1$I IS NOT NULL GROUP BY 1) s
                  ORDER BY n, first, l COLLATE "C" LIMIT 1',
                 label, relation, CASE WHEN has_ctid THEN 'min(ctid)' ELSE 'NULL::tid' END)
    INTO fav;
  RETURN fav;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_default_favorable(regclass, text) IS
'Internal: the default favorable value of a label column: its least frequent non-NULL value as text (NULL when there is none); ties go to the value met first '
'in the relation (smallest ctid, as pandas value_counts().idxmin() on the file order), or the first in byte order for relations without ctid '
'and for callers granted SELECT on some columns only (ctid needs SELECT on the table).';

-- Bias metrics of facet against label, one row per facet value (that group versus
-- all other rows); definitions identical to test/reference/bias.py.
CREATE FUNCTION fairsynth_bias(relation regclass, facet text, label text,
                               favorable text DEFAULT NULL, group_by text DEFAULT NULL)
RETURNS TABLE(facet_value text, n bigint, ci float8, dpl float8, kl float8, js float8,
              lp float8, tvd float8, ks float8, di float8, cddl float8)
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $$
DECLARE
  fav text := favorable;
  found_fav boolean;
  nlabels bigint;
  nvalues bigint;
  label_type regtype;
  present text;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM fairsynth_internal.fairsynth_check_column(relation, facet, 'facet');
  PERFORM fairsynth_internal.fairsynth_check_column(relation, label, 'label');
  IF facet = label THEN
    RAISE EXCEPTION 'facet and label must be different columns (both are "%")', facet
      USING ERRCODE = '22023';
  END IF;
  IF group_by IS NOT NULL THEN
    PERFORM fairsynth_internal.fairsynth_check_column(relation, group_by, 'group_by');
    IF group_by IN (facet, label) THEN
      RAISE EXCEPTION 'group_by must differ from facet and label (it is "%")', group_by
        USING ERRCODE = '22023',
              HINT = 'CDDL conditions on a third column, e.g. a legitimate explanatory variable.';
    END IF;
  END IF;

  -- VOLATILE, so every query below takes a fresh snapshot; this one takes
  -- AccessShareLock first: a concurrent rewrite (ALTER TABLE ... TYPE) is
  -- waited for and its rows are seen, as by a SELECT, not missed
  EXECUTE format('SELECT FROM %s LIMIT 0', relation);
  EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NOT NULL', relation, label) INTO nlabels;
  IF nlabels = 0 THEN
    RETURN;  -- no labelled rows: nothing to measure
  END IF;
  -- a label is a class: a continuous column (cost, age) has to be binned
  EXECUTE format('SELECT count(*) FROM (SELECT DISTINCT %I::text FROM %s WHERE %I IS NOT NULL LIMIT 21) s',
                 label, relation, label) INTO nvalues;
  IF nvalues > 20 THEN
    RAISE EXCEPTION 'label column "%" has more than 20 distinct values', label
      USING ERRCODE = '22023',
            HINT = format('A label is a class (favorable or not). Bin it in a view, e.g. CASE WHEN %1$I > 1000 THEN ''high'' ELSE ''low'' END AS %1$I, and pass favorable => ''high''.', label);
  END IF;
  -- a boolean label's value may be named true/false/t/f/yes/no/on/off/1/0
  SELECT a.atttypid::regtype INTO label_type FROM pg_attribute a
    WHERE a.attrelid = relation AND a.attname = label;
  IF fav IS NOT NULL AND label_type = 'boolean'::regtype THEN
    BEGIN
      fav := fav::boolean::text;
    EXCEPTION WHEN invalid_text_representation THEN
      RAISE EXCEPTION 'favorable value % is not a boolean (label column "%" is boolean)', quote_literal(fav), label
        USING ERRCODE = '22023', HINT = 'Name it true or false (t, f, yes, no, on, off, 1, 0 are accepted too).';
    END;
  END IF;

  IF fav IS NULL THEN
    fav := fairsynth_internal.fairsynth_default_favorable(relation, label);
  ELSE
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I::text = $1)', relation, label)
      USING fav INTO found_fav;
    IF NOT found_fav THEN
      EXECUTE format('SELECT string_agg(quote_literal(l), '', '' ORDER BY l COLLATE "C")
                      FROM (SELECT DISTINCT %I::text AS l FROM %s LIMIT 21) s', label, relation)
        INTO present;
      RAISE EXCEPTION 'favorable value % does not occur in label column "%"', quote_literal(fav), label
        USING ERRCODE = '22023', HINT = 'Values of ' || label || ' include: ' || present || '.';
    END IF;
  END IF;

  RETURN QUERY EXECUTE format($q$
    WITH base AS (       -- counts per facet value, label value and group
      SELECT coalesce(%1$I::text, 'NULL') COLLATE "C" AS f, %2$I::text AS l, %4$s AS g, count(*) AS c
      FROM %3$s WHERE %2$I IS NOT NULL GROUP BY 1, 2, 3),
    tot AS (SELECT sum(c) AS n FROM base),
    ft AS (SELECT f, sum(c) AS n FROM base GROUP BY f),
    lt AS (SELECT l, sum(c) AS n FROM base GROUP BY l),
    fl AS (SELECT f, l, sum(c) AS n FROM base GROUP BY f, l),
    dist AS (            -- label counts of d and of the rest (a), for the labels d holds
      SELECT fl.f, fl.l, fl.n::float8 AS cd, (lt.n - fl.n)::float8 AS ca
      FROM fl JOIN lt ON lt.l = fl.l),
    al AS (              -- label values present on both sides, renormalised
      SELECT f, cd / sum(cd) OVER w AS pd, ca / sum(ca) OVER w AS pa
      FROM dist WHERE ca > 0 WINDOW w AS (PARTITION BY f)),
    dv AS (
      SELECT f, sum(pa * ln(pa / pd)) AS kl,
             0.5 * (sum(pa * ln(pa / ((pa + pd) / 2))) + sum(pd * ln(pd / ((pa + pd) / 2)))) AS js,
             sqrt(sum((pa - pd) ^ 2)) AS lp, 0.5 * sum(abs(pa - pd)) AS tvd, max(abs(pa - pd)) AS ks
      FROM al GROUP BY f),
    q AS (               -- joins, not a scan of dist per facet value (linear in the rows)
      SELECT ft.f, ft.n AS nd, tot.n - ft.n AS na,
             CASE WHEN lt.l IS NOT NULL THEN coalesce(fl.n, 0)::float8 / ft.n END AS qd,
             (lt.n - coalesce(fl.n, 0))::float8 / (tot.n - ft.n) AS qa
      FROM ft CROSS JOIN tot LEFT JOIN lt ON lt.l = $1 LEFT JOIN fl ON fl.f = ft.f AND fl.l = $1
      WHERE tot.n > ft.n),
    gt AS (              -- groups of group_by holding both a favorable and another label
      SELECT g, sum(c) AS n, sum(c) FILTER (WHERE l = $1) AS n1, sum(c) FILTER (WHERE l <> $1) AS n0
      FROM base GROUP BY g),
    fg AS (              -- other and favorable labels of d per group (NULL: a group too)
      SELECT f, g, sum(c) FILTER (WHERE l <> $1) AS d0, sum(c) FILTER (WHERE l = $1) AS d1
      FROM base GROUP BY f, g),
    cdl AS (             -- one hash join, not a scan of base per (facet value, group)
      SELECT ft.f,
             sum(gt.n * (coalesce(fg.d0, 0)::float8 / gt.n0 - coalesce(fg.d1, 0)::float8 / gt.n1))
               / sum(gt.n) AS cddl
      FROM ft CROSS JOIN gt
      LEFT JOIN fg ON fg.f = ft.f AND (fg.g IS NULL) = (gt.g IS NULL)
                  AND coalesce(fg.g, '') = coalesce(gt.g, '')
      WHERE gt.n1 > 0 AND gt.n0 > 0 AND %5$L
      GROUP BY ft.f)
    SELECT q.f::text, q.nd::bigint, ((q.na - q.nd)::float8 / (q.na + q.nd))::float8,
           (q.qa - q.qd)::float8, dv.kl::float8, dv.js::float8, dv.lp::float8, dv.tvd::float8, dv.ks::float8,
           CASE WHEN q.qa > 0 THEN (q.qd / q.qa)::float8 END, cdl.cddl::float8
    FROM q LEFT JOIN dv ON dv.f = q.f LEFT JOIN cdl ON cdl.f = q.f
    ORDER BY q.f COLLATE "C"$q$,
    facet, label, relation,
    CASE WHEN group_by IS NULL THEN 'NULL::text' ELSE format('%I::text', group_by) END,
    group_by IS NOT NULL)
  USING fav;
END
$$;

COMMENT ON FUNCTION fairsynth_bias(regclass, text, text, text, text) IS
'Pre-training bias of facet against label, one row per facet value d (d versus all other rows a), ordered by facet_value in byte order. '
'Definitions are those of test/reference/bias.py (SageMaker Clarify): rows with a NULL label are ignored, a NULL facet is the group ''NULL'', values are compared as text; '
'favorable defaults to the least frequent label value (ties: the one met first in the relation, as pandas idxmin does). '
'n = rows of d; ci = (n_a - n_d)/(n_a + n_d); dpl = q_a - q_d with q = share of favorable labels; di = q_d/q_a (NULL when q_a = 0; < 0.8 fails the 4/5 rule); '
'kl, js (natural log), lp, tvd, ks compare the label distributions of a and d over the label values present on both sides (renormalised; NULL when there is none); '
'cddl = sum_i n_i DD_i / sum_i n_i over the groups i of group_by having both a favorable and another label, DD_i = n_d(other)/n(other) - n_d(favorable)/n(favorable) '
'(NULL without group_by). A facet value covering every row is skipped. A boolean label''s favorable value may be written true/false/t/f (or yes/no/on/off/1/0). Errors: 42703 unknown column, 22023 facet = label, favorable value absent or a label with more than 20 distinct values (bin it first), 22004 NULL argument.';
