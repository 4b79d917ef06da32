
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
CREATE FUNCTION fairsynth_internal.fairsynth_distinct_values(relation regclass, col text, lim int)
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

COMMENT ON FUNCTION fairsynth_internal.fairsynth_distinct_values(regclass, text, int) IS
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
  PERFORM fairsynth_internal.fairsynth_check_column(relation, facet, 'facet');
  PERFORM fairsynth_internal.fairsynth_check_column(relation, label, 'label');
  PERFORM fairsynth_internal.fairsynth_check_column(relation, predicted, 'predicted');
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
    PERFORM fairsynth_internal.fairsynth_check_column(relation, group_by, 'group_by');
    IF group_by IN (facet, label, predicted) THEN
      RAISE EXCEPTION 'group_by must differ from facet, label and predicted (it is "%")', group_by
        USING ERRCODE = '22023',
              HINT = 'CDDPL conditions on a third column, e.g. a legitimate explanatory variable.';
    END IF;
  END IF;

  -- label and prediction are classes: a handful of values, the same on both sides
  labels := fairsynth_internal.fairsynth_distinct_values(relation, label, max_values);
  IF cardinality(labels) > max_values THEN
    RAISE EXCEPTION 'label column "%" is continuous (more than % distinct values)', label, max_values
      USING ERRCODE = '22023',
            HINT = format('Bin it into classes first, e.g. a view with CASE WHEN %I >= ... THEN ''high'' ELSE ''low'' END.', label);
  END IF;
  preds := fairsynth_internal.fairsynth_distinct_values(relation, predicted, max_values);
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
    fav := fairsynth_internal.fairsynth_default_favorable(relation, label);
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

  -- Aggregates and window functions only, no join: every figure is a function of
  -- the confusion counts of the group (d) and of the rest (a = all - d), CDDPL of
  -- the counts per (facet value, group) and per group; each stage is one hash
  -- aggregate or one sort, whatever the planner thinks the row counts are.
  RETURN QUERY EXECUTE format($q$
    WITH fg AS (          -- confusion counts per facet value and group (NULL: a group too)
      SELECT f, g, pg_catalog.count(*) FILTER (WHERE y AND p) AS tp, pg_catalog.count(*) FILTER (WHERE NOT y AND p) AS fp,
             pg_catalog.count(*) FILTER (WHERE NOT y AND NOT p) AS tn, pg_catalog.count(*) FILTER (WHERE y AND NOT p) AS fn
      FROM (SELECT coalesce(%1$I::pg_catalog.text, 'NULL') COLLATE "C" AS f, %5$s AS g,
                   %2$I::pg_catalog.text = $1 AS y, %3$I::pg_catalog.text = $1 AS p
            FROM %4$s WHERE %2$I IS NOT NULL AND %3$I IS NOT NULL) o
      GROUP BY f, g),
    fgw AS (              -- predicted favorable (n1) and other (n0) per group
      SELECT fg.*, pg_catalog.sum(tp + fp) OVER w AS n1, pg_catalog.sum(tn + fn) OVER w AS n0
      FROM fg WINDOW w AS (PARTITION BY g)),
    pf AS (               -- per facet value: its confusion counts and sum_i n_i DD_i over
                          -- the groups i with both predictions (DD_i = 0 where d is absent)
      SELECT f, pg_catalog.sum(tp)::pg_catalog.float8 AS tp, pg_catalog.sum(fp)::pg_catalog.float8 AS fp,
             pg_catalog.sum(tn)::pg_catalog.float8 AS tn, pg_catalog.sum(fn)::pg_catalog.float8 AS fn,
             pg_catalog.sum((n0 + n1) * ((tn + fn)::pg_catalog.float8 / n0 - (tp + fp)::pg_catalog.float8 / n1))
               FILTER (WHERE n0 > 0 AND n1 > 0) AS num,
             pg_catalog.sum(tp + fp + tn + fn) FILTER (WHERE n0 > 0 AND n1 > 0) AS qualified
      FROM fgw GROUP BY f),
    s AS (                -- both sides: d the facet value, a the rest
      SELECT f, tp + fp + tn + fn AS nd, tp AS tpd, fp AS fpd, tn AS tnd, fn AS fnd,
             pg_catalog.sum(tp) OVER () - tp AS tpa, pg_catalog.sum(fp) OVER () - fp AS fpa,
             pg_catalog.sum(tn) OVER () - tn AS tna, pg_catalog.sum(fn) OVER () - fn AS fna,
             num, pg_catalog.sum(qualified) OVER ()::pg_catalog.float8 AS den
      FROM pf),
    r AS (                -- the ratios of bias.py per side, NULL for x/0
      SELECT f, nd, num, den,
             (tpd + fpd) / NULLIF(nd, 0) AS qd, (tpa + fpa) / NULLIF(tpa + fpa + tna + fna, 0) AS qa,
             (tpd + fnd) / NULLIF(tpd + fpd, 0) AS cd, (tpa + fna) / NULLIF(tpa + fpa, 0) AS ca,
             (tnd + fpd) / NULLIF(tnd + fnd, 0) AS rd, (tna + fpa) / NULLIF(tna + fna, 0) AS ra,
             tpd / NULLIF(tpd + fnd, 0) AS tprd, tpa / NULLIF(tpa + fna, 0) AS tpra,
             tnd / NULLIF(tnd + fpd, 0) AS tnrd, tna / NULLIF(tna + fpa, 0) AS tnra,
             (tpd + tnd) / NULLIF(nd, 0) AS accd, (tpa + tna) / NULLIF(tpa + fpa + tna + fna, 0) AS acca,
             tpd / NULLIF(tpd + fpd, 0) AS ppvd, tpa / NULLIF(tpa + fpa, 0) AS ppva,
             tnd / NULLIF(tnd + fnd, 0) AS npvd, tna / NULLIF(tna + fna, 0) AS npva,
             fnd / NULLIF(fpd, 0) AS ted, fna / NULLIF(fpa, 0) AS tea
      FROM s WHERE tpa + fpa + tna + fna > 0)
    SELECT f::pg_catalog.text, nd::pg_catalog.int8, qa - qd, qd / NULLIF(qa, 0), ca - cd, rd - ra,
           tpra - tprd, tnrd - tnra, acca - accd, ppva - ppvd, npvd - npva, ted - tea,
           CASE WHEN %6$L THEN coalesce(num, 0) / NULLIF(den, 0) END
    FROM r ORDER BY f COLLATE "C"$q$,
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
