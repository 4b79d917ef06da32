
-- ---------------------------------------------------------------------------
-- Post-training bias metrics (issue #15): a model's predictions, kept in a
-- column next to the observed label, measured by group as test/reference/bias.py
-- (--predicted) defines them.
--
-- search_path is pinned (pg_catalog first, so no object in another schema can
-- stand in for a built-in; pg_temp last, so no temporary relation can stand in
-- for a catalog) and the extension's own helpers are called schema-qualified.
-- ---------------------------------------------------------------------------

-- Internal: the distinct non-NULL values of a column as text, at most lim of them
-- (lim + 1 are read, so a caller can tell "more than lim").
CREATE FUNCTION fairsynth_distinct_values(relation regclass, col text, lim int)
RETURNS text[]
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
  vals text[];
BEGIN
  EXECUTE format('SELECT pg_catalog.array_agg(v ORDER BY v COLLATE "C")
                  FROM (SELECT DISTINCT %1$I::pg_catalog.text AS v FROM %2$s WHERE %1$I IS NOT NULL LIMIT %3$s) s',
                 col, relation, lim + 1)
    INTO vals;
  RETURN coalesce(vals, '{}');
END
$$;

COMMENT ON FUNCTION fairsynth_distinct_values(regclass, text, int) IS
'Internal: up to lim + 1 distinct non-NULL values of column col as text, in byte order (an empty array when there is none).';

-- Post-training bias of a model's predictions across facet, one row per facet value
-- (that group versus all other rows); definitions identical to test/reference/bias.py.
CREATE FUNCTION fairsynth_model_bias(relation regclass, facet text, label text, predicted text,
                                     favorable text DEFAULT NULL, group_by text DEFAULT NULL)
RETURNS TABLE(facet_value text, n bigint, dppl float8, dip float8, dca float8, dcr float8,
              rd float8, sd float8, ad float8, dar float8, drr float8, te float8, cddpl float8)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
  fav text := favorable;
  label_type regtype;
  labels text[];
  preds text[];
  stray text;
  max_values constant int := 20;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM @extschema@.fairsynth_check_column(relation, facet, 'facet');
  PERFORM @extschema@.fairsynth_check_column(relation, label, 'label');
  PERFORM @extschema@.fairsynth_check_column(relation, predicted, 'predicted');
  IF facet = label THEN
    RAISE EXCEPTION 'facet and label must be different columns (both are "%")', facet
      USING ERRCODE = '22023';
  END IF;
  IF predicted IN (facet, label) THEN
    RAISE EXCEPTION 'predicted must differ from facet and label (it is "%")', predicted
      USING ERRCODE = '22023',
            HINT = 'predicted is the column holding the model''s predicted label, scored next to the observed label.';
  END IF;
  IF group_by IS NOT NULL THEN
    PERFORM @extschema@.fairsynth_check_column(relation, group_by, 'group_by');
    IF group_by IN (facet, label, predicted) THEN
      RAISE EXCEPTION 'group_by must differ from facet, label and predicted (it is "%")', group_by
        USING ERRCODE = '22023',
              HINT = 'CDDPL conditions on a third column, e.g. a legitimate explanatory variable.';
    END IF;
  END IF;

  -- label and prediction are classes: a handful of values, the same on both sides
  labels := @extschema@.fairsynth_distinct_values(relation, label, max_values);
  IF cardinality(labels) > max_values THEN
    RAISE EXCEPTION 'label column "%" is continuous (more than % distinct values)', label, max_values
      USING ERRCODE = '22023',
            HINT = format('Bin it into classes first, e.g. a view with CASE WHEN %I >= ... THEN ''high'' ELSE ''low'' END.', label);
  END IF;
  preds := @extschema@.fairsynth_distinct_values(relation, predicted, max_values);
  IF cardinality(preds) > max_values THEN
    RAISE EXCEPTION 'predicted column "%" is continuous (more than % distinct values)', predicted, max_values
      USING ERRCODE = '22023',
            HINT = format('Pass the predicted class, not a score: threshold it, e.g. a view with CASE WHEN %I >= 0.5 THEN ... END, '
                          'using the values of %s.', predicted, label);
  END IF;
  SELECT p INTO stray FROM unnest(preds) p WHERE p <> ALL (labels) ORDER BY p COLLATE "C" LIMIT 1;
  IF stray IS NOT NULL AND cardinality(labels) > 0 THEN
    RAISE EXCEPTION 'predicted value % does not occur in label column "%"', quote_literal(stray), label
      USING ERRCODE = '22023',
            HINT = format('predicted and label must share values (compared as text). Values of %s: %s; of %s: %s.',
                          label, array_to_string(ARRAY(SELECT quote_literal(l) FROM unnest(labels) l), ', '),
                          predicted, array_to_string(ARRAY(SELECT quote_literal(p) FROM unnest(preds) p), ', '));
  END IF;
  IF cardinality(labels) = 0 THEN
    RETURN;  -- no labelled rows: nothing to measure
  END IF;

  SELECT a.atttypid::regtype INTO label_type FROM pg_attribute a
  WHERE a.attrelid = relation AND a.attname = label AND a.attnum > 0 AND NOT a.attisdropped;
  IF fav IS NULL THEN
    fav := @extschema@.fairsynth_default_favorable(relation, label);
  ELSE
    IF label_type = 'boolean'::regtype THEN
      -- true/false/t/f (and the other spellings boolean input accepts) name a boolean label's values
      BEGIN
        fav := fav::boolean::text;
      EXCEPTION WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'favorable value % is not a boolean (label column "%" is boolean)', quote_literal(favorable), label
          USING ERRCODE = '22023', HINT = 'Use true or false (t or f).';
      END;
    END IF;
    IF fav <> ALL (labels) THEN
      RAISE EXCEPTION 'favorable value % does not occur in label column "%"', quote_literal(fav), label
        USING ERRCODE = '22023',
              HINT = 'Values of ' || label || ': ' || array_to_string(ARRAY(SELECT quote_literal(l) FROM unnest(labels) l), ', ') || '.';
    END IF;
  END IF;

  -- one scan and one aggregate per stage: every figure is a function of the
  -- confusion counts of the group (d) and of the rest (a = all - d), and CDDPL
  -- of the counts per (facet value, group); nothing is rescanned per facet value.
  RETURN QUERY EXECUTE format($q$
    WITH base AS (        -- counts per facet value, observed and predicted class, group
      SELECT coalesce(%1$I::pg_catalog.text, 'NULL') COLLATE "C" AS f,
             %2$I::pg_catalog.text = $1 AS y, %3$I::pg_catalog.text = $1 AS p,
             %5$s AS g, pg_catalog.count(*) AS c
      FROM %4$s WHERE %2$I IS NOT NULL AND %3$I IS NOT NULL GROUP BY 1, 2, 3, 4),
    cm AS (               -- confusion counts of each facet value
      SELECT f, pg_catalog.sum(c) AS n,
             coalesce(pg_catalog.sum(c) FILTER (WHERE y AND p), 0) AS tp,
             coalesce(pg_catalog.sum(c) FILTER (WHERE NOT y AND p), 0) AS fp,
             coalesce(pg_catalog.sum(c) FILTER (WHERE NOT y AND NOT p), 0) AS tn,
             coalesce(pg_catalog.sum(c) FILTER (WHERE y AND NOT p), 0) AS fn
      FROM base GROUP BY f),
    tot AS (SELECT pg_catalog.sum(n) AS n, pg_catalog.sum(tp) AS tp, pg_catalog.sum(fp) AS fp,
                   pg_catalog.sum(tn) AS tn, pg_catalog.sum(fn) AS fn FROM cm),
    rate AS (             -- per side (d the group, a the rest) the ratios of bias.py, NULL for x/0
      SELECT cm.f, cm.n::pg_catalog.int8 AS nd, s.*
      FROM cm CROSS JOIN tot
      CROSS JOIN LATERAL (
        SELECT (v.tp + v.fp) / NULLIF(v.n, 0) AS q,
               (v.tp + v.fn) / NULLIF(v.tp + v.fp, 0) AS c,
               (v.tn + v.fp) / NULLIF(v.tn + v.fn, 0) AS r,
               v.tp / NULLIF(v.tp + v.fn, 0) AS tpr,
               v.tn / NULLIF(v.tn + v.fp, 0) AS tnr,
               (v.tp + v.tn) / NULLIF(v.n, 0) AS acc,
               v.tp / NULLIF(v.tp + v.fp, 0) AS ppv,
               v.tn / NULLIF(v.tn + v.fn, 0) AS npv,
               v.fn / NULLIF(v.fp, 0) AS te, v.side
        FROM (VALUES ('d', cm.n::pg_catalog.float8, cm.tp::pg_catalog.float8, cm.fp::pg_catalog.float8,
                      cm.tn::pg_catalog.float8, cm.fn::pg_catalog.float8),
                     ('a', (tot.n - cm.n)::pg_catalog.float8, (tot.tp - cm.tp)::pg_catalog.float8,
                      (tot.fp - cm.fp)::pg_catalog.float8, (tot.tn - cm.tn)::pg_catalog.float8,
                      (tot.fn - cm.fn)::pg_catalog.float8))
             v(side, n, tp, fp, tn, fn)) s
      WHERE tot.n > cm.n),
    m AS (
      SELECT d.f, d.nd,
             a.q - d.q AS dppl, d.q / NULLIF(a.q, 0) AS dip, a.c - d.c AS dca, d.r - a.r AS dcr,
             a.tpr - d.tpr AS rd, d.tnr - a.tnr AS sd, a.acc - d.acc AS ad, a.ppv - d.ppv AS dar,
             d.npv - a.npv AS drr, d.te - a.te AS te
      FROM rate d JOIN rate a ON a.f = d.f AND a.side = 'a' WHERE d.side = 'd'),
    gt AS (               -- groups of group_by with both a favorable and another prediction
      SELECT g IS NULL AS gnull, coalesce(g, '') AS gkey, pg_catalog.sum(c) AS n,
             pg_catalog.sum(c) FILTER (WHERE p) AS n1, pg_catalog.sum(c) FILTER (WHERE NOT p) AS n0
      FROM base WHERE %6$L GROUP BY 1, 2),
    qual AS (SELECT * FROM gt WHERE n1 > 0 AND n0 > 0),
    fg AS (               -- predictions of each facet value per group (NULL: a group too)
      SELECT f, g IS NULL AS gnull, coalesce(g, '') AS gkey,
             coalesce(pg_catalog.sum(c) FILTER (WHERE NOT p), 0) AS d0,
             coalesce(pg_catalog.sum(c) FILTER (WHERE p), 0) AS d1
      FROM base WHERE %6$L GROUP BY 1, 2, 3),
    cdd AS (              -- sum_i n_i DD_i over the groups where d occurs (elsewhere DD_i = 0)
      SELECT fg.f, pg_catalog.sum(qual.n * (fg.d0::pg_catalog.float8 / qual.n0 - fg.d1::pg_catalog.float8 / qual.n1)) AS num
      FROM fg JOIN qual ON qual.gnull = fg.gnull AND qual.gkey = fg.gkey GROUP BY fg.f),
    den AS (SELECT pg_catalog.sum(n)::pg_catalog.float8 AS n FROM qual)
    SELECT m.f::pg_catalog.text, m.nd, m.dppl, m.dip, m.dca, m.dcr, m.rd, m.sd, m.ad, m.dar, m.drr, m.te,
           CASE WHEN %6$L THEN coalesce(cdd.num, 0) / NULLIF(den.n, 0) END
    FROM m CROSS JOIN den LEFT JOIN cdd ON cdd.f = m.f
    ORDER BY m.f COLLATE "C"$q$,
    facet, label, predicted, relation,
    CASE WHEN group_by IS NULL THEN 'NULL::pg_catalog.text' ELSE format('%I::pg_catalog.text', group_by) END,
    group_by IS NOT NULL)
  USING fav;
END
$$;

COMMENT ON FUNCTION fairsynth_model_bias(regclass, text, text, text, text, text) IS
'Post-training bias of a model''s predictions (column predicted, same values as label) across facet, one row per facet value d (d versus all other rows a), '
'ordered by facet_value in byte order. Definitions are those of test/reference/bias.py --predicted (SageMaker Clarify): rows with a NULL label or prediction are ignored, '
'a NULL facet is the group ''NULL'', values are compared as text (a boolean label also takes favorable t/f/true/false); favorable (1) defaults to the least frequent label value, '
'any other value is 0. With q = share predicted 1, c = n(y=1)/n(p=1), r = n(y=0)/n(p=0), TPR, TNR, accuracy, PPV, NPV per side: '
'dppl = q_a - q_d; dip = q_d/q_a; dca = c_a - c_d; dcr = r_d - r_a; rd = TPR_a - TPR_d; sd = TNR_d - TNR_a; ad = ACC_a - ACC_d; dar = PPV_a - PPV_d; '
'drr = NPV_d - NPV_a; te = FN_d/FP_d - FN_a/FP_a; cddpl = CDDL of fairsynth_bias computed on the predictions over the groups of group_by (NULL without group_by). '
'Any figure whose denominator is 0 is NULL. A facet value covering every row is skipped. '
'Errors: 42703 unknown column, 22004 NULL argument, 22023 columns not distinct, label or predicted continuous (more than 20 values), a predicted value absent from the label, favorable value absent.';
