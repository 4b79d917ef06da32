
-- ---------------------------------------------------------------------------
-- HTML report: balance and fidelity of a synthetic table at a glance (issue #3).
-- ---------------------------------------------------------------------------

-- Internal: escapes text for HTML element content and attribute values.
CREATE FUNCTION fairsynth_internal.fairsynth_html(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT replace(replace(replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                         '"', '&quot;'), '''', '&#39;')
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_html(text) IS
'Internal: escapes & < > " and '' for use in HTML text and attribute values.';

-- Internal: a label shortened to at most n characters (with an ellipsis), escaped.
CREATE FUNCTION fairsynth_internal.fairsynth_html_short(s text, n int)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT fairsynth_internal.fairsynth_html(CASE WHEN s IS NULL THEN 'NULL'
                             WHEN length(s) > n THEN left(s, n - 1) || '…' ELSE s END)
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_html_short(text, int) IS
'Internal: HTML-escaped label cut to n characters with an ellipsis; NULL is shown as NULL.';

-- Internal: the binning of a column of the original relation, as an SQL expression
-- over that column name and the ordered list of its labels.  Made for a page that
-- is shared: numeric and date/time columns with more than 20 distinct values get
-- about 10 quantile ranges whose outer ones are open ('< 25', '≥ 55'), so no real
-- minimum or maximum is shown, and short labels (3 significant digits); other
-- columns keep their topk most frequent values seen in at least
-- fairsynth.rare_threshold rows (numbers with at most 20 values: all of them, in
-- value order), the rest is '(other)'.
CREATE FUNCTION fairsynth_internal.fairsynth_bin_expr(original regclass, col text, topk int DEFAULT 10,
                                   OUT expr text, OUT labels text[])
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
  typ text;
  binnable boolean;
  ndistinct bigint;
  breaks text[];
  short text[];
  k int;
  has_nan boolean;
  rare int := coalesce(current_setting('fairsynth.rare_threshold', true)::int, 5);
BEGIN
  IF original IS NULL OR col IS NULL OR topk IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', CASE WHEN original IS NULL THEN 'original' WHEN col IS NULL THEN 'col' ELSE 'topk' END
      USING ERRCODE = '22004';
  END IF;
  IF topk < 1 THEN
    RAISE EXCEPTION 'topk must be at least 1 (it is %)', topk USING ERRCODE = '22023';
  END IF;
  PERFORM fairsynth_internal.fairsynth_check_column(original, col, 'col');
  SELECT c.type_name, c.binnable INTO typ, binnable
  FROM fairsynth_internal.fairsynth_columns(original, ARRAY[col]) c;
  IF binnable THEN
    EXECUTE format('SELECT count(DISTINCT %I) FROM %s', col, original) INTO ndistinct;
  END IF;
  IF binnable AND ndistinct > 20 THEN
    -- the quantile breaks of fairsynth_profile (NaN left out)
    EXECUTE format($q$
      SELECT ARRAY(SELECT DISTINCT x FROM unnest(p) x ORDER BY x)::text[],
             fairsynth_internal.fairsynth_short_labels(ARRAY(SELECT DISTINCT x FROM unnest(p) x ORDER BY x)),
             EXISTS (SELECT FROM %2$s WHERE %1$I::text = 'NaN')
      FROM (SELECT percentile_disc(ARRAY[0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1])
                   WITHIN GROUP (ORDER BY %1$I) AS p FROM %2$s
            WHERE %1$I::text IS DISTINCT FROM 'NaN') s$q$, col, original)
      INTO breaks, short, has_nan;
    k := cardinality(breaks) - 1;
    IF k < 1 THEN
      labels := ARRAY['(all values)'];
    ELSIF k = 1 THEN
      labels := ARRAY['(all values)'];
    ELSE
      labels := ARRAY['< ' || short[2]]
             || ARRAY(SELECT format('[%s, %s)', short[i], short[i + 1]) FROM generate_series(2, k - 1) i ORDER BY i)
             || ARRAY['≥ ' || short[k]];
    END IF;
    IF has_nan THEN
      labels := labels || 'NaN'::text;
    END IF;
    -- values beyond the original's range fall into the open outer ranges
    expr := format('CASE WHEN %1$I IS NULL THEN NULL %5$s'
                   'ELSE (%3$L::text[])[least(greatest(width_bucket(%1$I::%2$s, %4$L::%2$s[]), 1), %6$s)] END',
                   col, typ, labels::text, breaks::text,
                   CASE WHEN has_nan THEN format('WHEN %I::text = ''NaN'' THEN ''NaN'' ', col) ELSE '' END,
                   greatest(k, 1));
  ELSE
    EXECUTE format($q$
      SELECT array_agg(v ORDER BY %3$s) FROM (
        SELECT %1$I::text AS v, %6$s AS x, count(*) AS n FROM %2$s
        WHERE %1$I IS NOT NULL GROUP BY 1 HAVING count(*) >= %4$s
        ORDER BY count(*) DESC, %1$I::text COLLATE "C" LIMIT %5$s) s$q$,
      col, original, CASE WHEN binnable THEN 'x' ELSE 'n DESC, v COLLATE "C"' END, rare,
      CASE WHEN binnable THEN 20 ELSE topk END,
      CASE WHEN binnable THEN format('min(%I)', col) ELSE 'NULL::int' END)
      INTO labels;
    labels := coalesce(labels, '{}');
    expr := format('CASE WHEN %1$I IS NULL THEN NULL WHEN %1$I::text = ANY (%2$L::text[]) THEN %1$I::text '
                   'ELSE ''(other)'' END', col, labels::text);
  END IF;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_bin_expr(regclass, text, int) IS
'Internal: SQL expression mapping a value of column col to its bin label, and the labels in display order. Numeric and date/time columns with more than 20 distinct values: '
'the quantile ranges of fairsynth_profile with open outer ranges (''< b'', ''≥ b'': no real extreme is shown) and 3-significant-digit labels, NaN its own bin when the original has one; '
'numbers with at most 20 values: each value seen in at least fairsynth.rare_threshold rows, in value order; '
'other columns: the topk most frequent values seen in at least fairsynth.rare_threshold rows, the others ''(other)''; NULL stays NULL.';

-- Internal: counts per bin of a column in the original and the synthetic relation,
-- binned as fairsynth_profile bins the original, in display order.
CREATE FUNCTION fairsynth_internal.fairsynth_bins(original regclass, synthetic regclass, col text, topk int DEFAULT 10)
RETURNS TABLE(ord int, label text, n_original bigint, n_synthetic bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
  b record;
BEGIN
  IF original IS NULL OR synthetic IS NULL OR col IS NULL OR topk IS NULL THEN
    RAISE EXCEPTION '% must not be NULL',
      CASE WHEN original IS NULL THEN 'original' WHEN synthetic IS NULL THEN 'synthetic'
           WHEN col IS NULL THEN 'col' ELSE 'topk' END
      USING ERRCODE = '22004';
  END IF;
  PERFORM fairsynth_internal.fairsynth_check_column(synthetic, col, 'col');
  b := fairsynth_internal.fairsynth_bin_expr(original, col, topk);
  RETURN QUERY EXECUTE format($q$
    WITH o AS (SELECT %1$s AS v, count(*) AS n FROM %2$s GROUP BY 1),
         s AS (SELECT %1$s AS v, count(*) AS n FROM %3$s GROUP BY 1),
         j AS (SELECT v, sum(no)::bigint AS no, sum(ns)::bigint AS ns
               FROM (SELECT v, n AS no, 0 AS ns FROM o UNION ALL SELECT v, 0, n FROM s) u GROUP BY v)
    SELECT (row_number() OVER (ORDER BY coalesce(array_position($1, j.v),
              CASE j.v WHEN '(other)' THEN 100001 WHEN '(out of range)' THEN 100002 ELSE 100003 END)))::int,
           j.v, j.no, j.ns
    FROM j ORDER BY 1$q$, b.expr, original, synthetic)
  USING b.labels;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_bins(regclass, regclass, text, int) IS
'Internal: rows of the original and of the synthetic relation per bin of column col (bins of fairsynth_profile on the original, see fairsynth_bin_expr), '
'in profile order, then (other), (out of range) and NULL.';

-- Internal: colour of a heat-map cell, t in [0, 1] from white to dark blue.
-- Internal: accuracy of each large combination of the balance columns (issue 10):
-- the synthetic rows of the combination against its original rows, 1 - TVD of each
-- of columns binned as the report bins them (fairsynth_bin_expr on the whole
-- original), averaged over columns.  Bounded: only the max_combos largest
-- combinations of at least min_rows (and fairsynth.rare_threshold) original rows,
-- and one pass over each relation per column.  NULL when the synthetic relation
-- has no row of the combination or columns is empty.
CREATE FUNCTION fairsynth_internal.fairsynth_combo_accuracy(original regclass, synthetic regclass,
                                                            balance text[], columns text[],
                                                            min_rows int DEFAULT 30, max_combos int DEFAULT 12)
RETURNS TABLE(combo text, n_original bigint, accuracy float8)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
  rare int := coalesce(current_setting('fairsynth.rare_threshold', true)::int, 5);
  combo_expr text;
  combos text[];
  counts bigint[];
  per text[] := '{}';
  c text;
  b record;
BEGIN
  IF original IS NULL OR synthetic IS NULL OR balance IS NULL OR columns IS NULL
     OR min_rows IS NULL OR max_combos IS NULL THEN
    RAISE EXCEPTION '% must not be NULL',
      CASE WHEN original IS NULL THEN 'original' WHEN synthetic IS NULL THEN 'synthetic'
           WHEN balance IS NULL THEN 'balance' WHEN columns IS NULL THEN 'columns'
           WHEN min_rows IS NULL THEN 'min_rows' ELSE 'max_combos' END
      USING ERRCODE = '22004';
  END IF;
  IF cardinality(balance) = 0 THEN
    RAISE EXCEPTION 'balance must not be an empty array' USING ERRCODE = '22023',
      HINT = 'Pass the columns given to fairsynth_balance.';
  END IF;
  FOREACH c IN ARRAY balance || columns LOOP
    PERFORM fairsynth_internal.fairsynth_check_column(original, c, 'column');
    PERFORM fairsynth_internal.fairsynth_check_column(synthetic, c, 'column');
  END LOOP;
  -- the combination as the report names it
  combo_expr := 'concat_ws('' × '', '
    || array_to_string(ARRAY(SELECT format('coalesce(%I::text, ''NULL'')', x) FROM unnest(balance) x), ', ') || ')';
  EXECUTE format('SELECT array_agg(k ORDER BY n DESC, k COLLATE "C"), array_agg(n ORDER BY n DESC, k COLLATE "C") '
                 'FROM (SELECT %1$s AS k, count(*) AS n FROM %2$s GROUP BY 1 HAVING count(*) >= %3$s '
                 'ORDER BY count(*) DESC, %1$s COLLATE "C" LIMIT %4$s) s',
                 combo_expr, original, greatest(min_rows, rare), max_combos)
    INTO combos, counts;
  IF combos IS NULL THEN
    RETURN;
  END IF;
  -- per column: 1 - TVD of its bins within each combination
  FOREACH c IN ARRAY columns LOOP
    b := fairsynth_internal.fairsynth_bin_expr(original, c);
    per := per || format($q$
      SELECT k, CASE WHEN bool_or(ps IS NULL) THEN NULL ELSE 1 - 0.5 * sum(abs(po - ps)) END AS acc
      FROM (SELECT k, sum(no)::float8 / nullif(sum(sum(no)) OVER w, 0) AS po,
                   sum(ns)::float8 / nullif(sum(sum(ns)) OVER w, 0) AS ps
            FROM (SELECT %1$s AS k, %2$s AS v, 1 AS no, 0 AS ns FROM %3$s WHERE %1$s = ANY ($1)
                  UNION ALL
                  SELECT %1$s, %2$s, 0, 1 FROM %4$s WHERE %1$s = ANY ($1)) u
            GROUP BY k, v WINDOW w AS (PARTITION BY k)) x
      GROUP BY k$q$, combo_expr, b.expr, original, synthetic);
  END LOOP;
  IF cardinality(per) = 0 THEN
    RETURN QUERY SELECT c.k, c.n, NULL::float8 FROM unnest(combos, counts) WITH ORDINALITY c(k, n, o) ORDER BY c.o;
    RETURN;
  END IF;
  RETURN QUERY EXECUTE
    'WITH p AS (' || array_to_string(per, ' UNION ALL ') || '),
          a AS (SELECT p.k, CASE WHEN bool_or(p.acc IS NULL) THEN NULL ELSE avg(p.acc) END AS acc FROM p GROUP BY p.k)
     SELECT c.k, c.n, a.acc FROM unnest($1, $2) WITH ORDINALITY c(k, n, o) LEFT JOIN a ON a.k = c.k ORDER BY c.o'
  USING combos, counts;
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_combo_accuracy(regclass, regclass, text[], text[], int, int) IS
'Internal: for the max_combos largest combinations of the balance columns with at least min_rows (and fairsynth.rare_threshold) original rows, '
'their original rows and the mean over columns of 1 - TVD between the combination''s original and synthetic rows, each column binned as the report bins it; '
'NULL when the synthetic relation has no row of the combination.';

-- The most frequent terms of free-text column col (lowercased runs of letters,
-- digits and apostrophes, as test/reference/text.py counts them) by the rows
-- that hold them, in the original and in the synthetic rows: only terms that
-- at least fairsynth.rare_threshold original rows hold (a term of fewer rows
-- could name someone), the topk most frequent.
CREATE FUNCTION fairsynth_internal.fairsynth_text_terms(original regclass, synthetic regclass, col text, topk int DEFAULT 15)
RETURNS TABLE(term text, n_original bigint, n_synthetic bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  rare int := coalesce(nullif(current_setting('fairsynth.rare_threshold', true), '')::int, 5);
BEGIN
  IF original IS NULL OR synthetic IS NULL OR col IS NULL THEN
    RAISE EXCEPTION '% must not be NULL',
      CASE WHEN original IS NULL THEN 'original' WHEN synthetic IS NULL THEN 'synthetic' ELSE 'col' END
      USING ERRCODE = '22004';
  END IF;
  IF topk IS NULL OR topk < 1 THEN
    RAISE EXCEPTION 'topk must be at least 1, not %', coalesce(topk::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  RETURN QUERY EXECUTE format($q$
    WITH o AS (SELECT m[1] AS t, count(DISTINCT r) AS n
               FROM (SELECT ctid AS r, lower(%3$I::text) AS v FROM %1$s) x,
                    regexp_matches(x.v, '[a-z0-9'']+', 'g') m GROUP BY 1),
         s AS (SELECT m[1] AS t, count(DISTINCT r) AS n
               FROM (SELECT ctid AS r, lower(%3$I::text) AS v FROM %2$s) x,
                    regexp_matches(x.v, '[a-z0-9'']+', 'g') m GROUP BY 1)
    SELECT o.t, o.n, coalesce(s.n, 0) FROM o LEFT JOIN s USING (t)
    WHERE o.n >= %4$s ORDER BY o.n DESC, o.t LIMIT %5$s$q$,
    original, synthetic, col, rare, topk);
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_text_terms(regclass, regclass, text, int) IS
'Internal: the topk most frequent terms of a free-text column with the rows holding them, original and synthetic; only terms of at least fairsynth.rare_threshold original rows.';

CREATE FUNCTION fairsynth_internal.fairsynth_heat_colour(t float8)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN t <= 0 THEN '#ffffff'
         WHEN t < 0.5 THEN format('#%s%s%s',
           lpad(to_hex(round(247 + (107 - 247) * t * 2)::int), 2, '0'),
           lpad(to_hex(round(251 + (174 - 251) * t * 2)::int), 2, '0'),
           lpad(to_hex(round(255 + (214 - 255) * t * 2)::int), 2, '0'))
         ELSE format('#%s%s%s',
           lpad(to_hex(round(107 + (8 - 107) * (least(t, 1) - 0.5) * 2)::int), 2, '0'),
           lpad(to_hex(round(174 + (48 - 174) * (least(t, 1) - 0.5) * 2)::int), 2, '0'),
           lpad(to_hex(round(214 + (107 - 214) * (least(t, 1) - 0.5) * 2)::int), 2, '0')) END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_heat_colour(float8) IS
'Internal: heat-map colour for t in [0, 1]: #f7fbff (0) through #6baed6 (0.5) to #08306b (1); exactly 0 is white.';

-- Internal: a status class for the report ('good', 'warn', 'bad' or 'na').
CREATE FUNCTION fairsynth_internal.fairsynth_status(metric text, v float8)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN v IS NULL OR v = 'NaN' THEN 'na'
    WHEN metric = 'accuracy' THEN CASE WHEN v >= 0.9 THEN 'good' WHEN v >= 0.8 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'dcr_share' THEN CASE WHEN v <= 0.55 THEN 'good' WHEN v <= 0.6 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'exact_match' THEN CASE WHEN v <= 0.01 THEN 'good' WHEN v <= 0.05 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'nndr_p5' THEN CASE WHEN v >= 0.5 THEN 'good' WHEN v >= 0.2 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'discriminator_auc' THEN CASE WHEN v <= 0.6 THEN 'good' WHEN v <= 0.75 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'di' THEN CASE WHEN v BETWEEN 0.8 AND 1.25 THEN 'good' WHEN v BETWEEN 0.6 AND 1.6 THEN 'warn' ELSE 'bad' END
    WHEN metric = 'dpl' THEN CASE WHEN abs(v) <= 0.05 THEN 'good' WHEN abs(v) <= 0.1 THEN 'warn' ELSE 'bad' END
    ELSE 'na' END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_status(text, float8) IS
'Internal: traffic-light class of a report figure: accuracy >= 0.9 good, >= 0.8 fair; dcr_share <= 0.55 good, <= 0.6 fair; exact_match <= 1% good, <= 5% fair; '
'nndr_p5 >= 0.5 good, >= 0.2 fair; discriminator_auc <= 0.6 good, <= 0.75 fair; DI in [0.8, 1.25] good (4/5 rule), in [0.6, 1.6] fair; |DPL| <= 0.05 good, <= 0.1 fair.';

-- Internal: inline SVG bar chart of one column, original and synthetic shares per bin.
CREATE FUNCTION fairsynth_internal.fairsynth_svg_distribution(labels text[], n_original bigint[], n_synthetic bigint[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  to_ float8 := greatest((SELECT sum(x) FROM unnest(n_original) x), 1);
  ts float8 := greatest((SELECT sum(x) FROM unnest(n_synthetic) x), 1);
  mx float8;
  k int := coalesce(cardinality(labels), 0);
  rowh int := 24;
  bx int := 168;
  bw int := 250;
  out text;
  i int;
  po float8;
  ps float8;
  y int;
BEGIN
  SELECT greatest(max(a / to_), max(b / ts), 1e-9) INTO mx
  FROM unnest(n_original, n_synthetic) u(a, b);
  out := format('<svg class="dist" xmlns="http://www.w3.org/2000/svg" width="520" height="%s" '
                'viewBox="0 0 520 %s" role="img" aria-label="distribution">', k * rowh + 6, k * rowh + 6);
  FOR i IN 1 .. k LOOP
    po := n_original[i] / to_;
    ps := n_synthetic[i] / ts;
    y := 3 + (i - 1) * rowh;
    IF i % 2 = 0 THEN
      out := out || format('<rect x="0" y="%s" width="520" height="%s" fill="#f7f9fb"/>', y, rowh);
    END IF;
    out := out || format(
      '<text x="%s" y="%s" text-anchor="end" font-size="12" fill="%s"%s><title>%s</title>%s</text>',
      bx - 8, y + 16, CASE WHEN labels[i] IS NULL OR labels[i] LIKE '(%' THEN '#7b8794' ELSE '#323f4b' END,
      CASE WHEN labels[i] IS NULL THEN ' font-style="italic"' ELSE '' END,
      fairsynth_internal.fairsynth_html(coalesce(labels[i], 'NULL')), fairsynth_internal.fairsynth_html_short(labels[i], 24))
      || format('<rect class="o" x="%s" y="%s" width="%s" height="9" rx="1.5" fill="#e8833a">'
                '<title>original: %s rows (%s%%)</title></rect>',
                bx, y + 3, round((bw * po / mx)::numeric, 1), n_original[i], round((po * 100)::numeric, 2))
      || format('<rect class="s" x="%s" y="%s" width="%s" height="9" rx="1.5" fill="#3d6fd6">'
                '<title>synthetic: %s rows (%s%%)</title></rect>',
                bx, y + 13, round((bw * ps / mx)::numeric, 1), n_synthetic[i], round((ps * 100)::numeric, 2))
      || format('<text x="%s" y="%s" font-size="10.5" fill="#b35c1e">%s%%</text>'
                '<text x="%s" y="%s" font-size="10.5" fill="#2a56b0">%s%%</text>',
                bx + bw + 8, y + 11, to_char(po * 100, 'FM990.0'),
                bx + bw + 8, y + 21, to_char(ps * 100, 'FM990.0'));
  END LOOP;
  RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_svg_distribution(text[], bigint[], bigint[]) IS
'Internal: SVG (class "dist") with one pair of horizontal bars per bin: original (orange, top) and synthetic (blue, bottom) shares, '
'both scaled to the largest share of the two; exact counts in tooltips.';

-- Internal: inline SVG of two heat maps (original, synthetic) of a column pair with
-- a shared colour scale and its legend; cells given as row/column indexes and shares.
CREATE FUNCTION fairsynth_internal.fairsynth_svg_heatmap(row_labels text[], col_labels text[], r int[], c int[],
                                      share_original float8[], share_synthetic float8[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  nr int := coalesce(cardinality(row_labels), 0);
  nc int := coalesce(cardinality(col_labels), 0);
  cw int;
  ch int;
  lx int := 118;     -- left margin (row labels)
  ty int := 96;      -- top margin (titles, column labels)
  gap int := 36;
  gw int;
  gh int;
  mx float8;
  out text;
  g int;
  x0 int;
  i int;
  j int;
  v float8;
  w int;
  h int;
BEGIN
  IF nr = 0 OR nc = 0 THEN
    RETURN '<svg class="heat" xmlns="http://www.w3.org/2000/svg" width="300" height="30" viewBox="0 0 300 30" role="img" aria-label="heat map">'
           '<text x="0" y="20" font-size="12" fill="#7b8794">no rows</text></svg>';
  END IF;
  cw := greatest(12, least(30, 300 / greatest(nc, 1)));
  ch := greatest(12, least(24, 260 / greatest(nr, 1)));
  gw := cw * nc;
  gh := ch * nr;
  SELECT greatest(max(greatest(a, b)), 1e-9) INTO mx FROM unnest(share_original, share_synthetic) u(a, b);
  w := lx + 2 * gw + gap + 20;
  h := ty + gh + 62;
  out := format('<svg class="heat" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="heat map">',
                w, h, w, h);
  FOR g IN 1 .. 2 LOOP
    x0 := lx + (g - 1) * (gw + gap);
    out := out || format('<text x="%s" y="16" font-size="13" font-weight="600" fill="%s">%s</text>',
                         x0, CASE g WHEN 1 THEN '#b35c1e' ELSE '#2a56b0' END,
                         CASE g WHEN 1 THEN 'original' ELSE 'synthetic' END);
    -- background (share 0) and cells
    out := out || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" stroke="#cbd2d9"/>', x0, ty, gw, gh);
    FOR i IN 1 .. coalesce(cardinality(r), 0) LOOP
      v := CASE g WHEN 1 THEN share_original[i] ELSE share_synthetic[i] END;
      CONTINUE WHEN v IS NULL OR v <= 0;
      out := out || format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s × %s: %s%%</title></rect>',
                           x0 + (c[i] - 1) * cw, ty + (r[i] - 1) * ch, cw, ch, fairsynth_internal.fairsynth_heat_colour(v / mx),
                           fairsynth_internal.fairsynth_html(coalesce(row_labels[r[i]], 'NULL')), fairsynth_internal.fairsynth_html(coalesce(col_labels[c[i]], 'NULL')),
                           round((v * 100)::numeric, 2));
    END LOOP;
    -- column labels, rotated
    FOR j IN 1 .. nc LOOP
      out := out || format('<text transform="translate(%s,%s) rotate(-50)" font-size="10" fill="#52606d"><title>%s</title>%s</text>',
                           x0 + (j - 1) * cw + cw / 2 + 3, ty - 5, fairsynth_internal.fairsynth_html(coalesce(col_labels[j], 'NULL')),
                           fairsynth_internal.fairsynth_html_short(col_labels[j], 13));
    END LOOP;
  END LOOP;
  FOR i IN 1 .. nr LOOP
    out := out || format('<text x="%s" y="%s" text-anchor="end" font-size="10" fill="#52606d"><title>%s</title>%s</text>',
                         lx - 6, ty + (i - 1) * ch + ch / 2 + 4, fairsynth_internal.fairsynth_html(coalesce(row_labels[i], 'NULL')),
                         fairsynth_internal.fairsynth_html_short(row_labels[i], 18));
  END LOOP;
  -- colour legend
  out := out || format('<defs><linearGradient id="hg%s" x1="0" x2="1" y1="0" y2="0">'
                       '<stop offset="0" stop-color="#f7fbff"/><stop offset="0.5" stop-color="#6baed6"/>'
                       '<stop offset="1" stop-color="#08306b"/></linearGradient></defs>', md5(row_labels::text || col_labels::text))
              || format('<text x="%s" y="%s" font-size="11" fill="#52606d">share of rows</text>', lx, ty + gh + 30)
              || format('<rect x="%s" y="%s" width="160" height="10" fill="url(#hg%s)" stroke="#cbd2d9"/>',
                        lx + 90, ty + gh + 21, md5(row_labels::text || col_labels::text))
              || format('<text x="%s" y="%s" font-size="10" fill="#52606d">0%%</text>', lx + 90, ty + gh + 44)
              || format('<text x="%s" y="%s" font-size="10" text-anchor="end" fill="#52606d">%s%%</text>',
                        lx + 250, ty + gh + 44, to_char(mx * 100, 'FM990.0'));
  RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_svg_heatmap(text[], text[], int[], int[], float8[], float8[]) IS
'Internal: SVG (class "heat") with the joint distribution of two binned columns in the original and the synthetic relation side by side, '
'cells coloured on one scale (white = no rows, dark blue = the largest cell share of both), with a colour legend.';

-- Internal: inline SVG dumbbell charts of DPL and DI per facet value, before
-- (original) and after (synthetic).
CREATE FUNCTION fairsynth_internal.fairsynth_svg_bias(facet_values text[], dpl_original float8[], dpl_synthetic float8[],
                                   di_original float8[], di_synthetic float8[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  k int := coalesce(cardinality(facet_values), 0);
  lx int := 150;
  pw int := 300;
  gap int := 50;
  ty int := 44;
  rowh int := 26;
  m float8;
  dmax float8;
  out text;
  i int;
  y int;
  x0 int;
  xa float8;
  xb float8;
  t float8;
  w int;
  h int;
BEGIN
  SELECT greatest(0.1, ceil(max(abs(x)) * 1.15 / 0.1) * 0.1) INTO m
  FROM unnest(dpl_original || dpl_synthetic) x;
  m := coalesce(m, 0.1);
  SELECT greatest(2, ceil(max(x) * 1.1 / 0.5) * 0.5) INTO dmax FROM unnest(di_original || di_synthetic) x;
  dmax := coalesce(dmax, 2);
  w := lx + 2 * pw + gap + 20;
  h := ty + k * rowh + 36;
  out := format('<svg class="bias" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="bias before and after">',
                w, h, w, h);
  -- panel 1: DPL, centred on 0
  x0 := lx;
  out := out || format('<text x="%s" y="16" font-size="13" font-weight="600" fill="#323f4b">Difference in positive proportions (DPL)</text>', x0)
             || format('<text x="%s" y="32" font-size="11" fill="#7b8794">q(rest) − q(group); 0 = parity</text>', x0)
             || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#e3f9ee"/>',
                       round((x0 + pw / 2.0 - pw / 2.0 * 0.05 / m)::numeric, 1), ty, round((pw * 0.05 / m)::numeric, 1), k * rowh)
             || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1"/>', x0 + pw / 2, x0 + pw / 2, ty - 4, ty + k * rowh + 4);
  FOR i IN -2 .. 2 LOOP
    t := i * m / 2;
    out := out || format('<text x="%s" y="%s" font-size="10" text-anchor="middle" fill="#7b8794">%s</text>',
                         round((x0 + pw / 2.0 + t / m * pw / 2.0)::numeric, 1), ty + k * rowh + 18, to_char(t, 'FM90.00'));
  END LOOP;
  -- panel 2: DI, 4/5 rule band [0.8, 1.25]
  x0 := lx + pw + gap;
  out := out || format('<text x="%s" y="16" font-size="13" font-weight="600" fill="#323f4b">Disparate impact (DI)</text>', x0)
             || format('<text x="%s" y="32" font-size="11" fill="#7b8794">q(group) / q(rest); green band = 4/5 rule (0.8 – 1.25)</text>', x0)
             || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#e3f9ee"/>',
                       round((x0 + pw * 0.8 / dmax)::numeric, 1), ty, round((pw * 0.45 / dmax)::numeric, 1), k * rowh)
             || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1"/>',
                       round((x0 + pw / dmax)::numeric, 1), round((x0 + pw / dmax)::numeric, 1), ty - 4, ty + k * rowh + 4);
  FOR i IN 0 .. floor(dmax / CASE WHEN dmax <= 2 THEN 0.5 ELSE 1 END)::int LOOP
    t := i * CASE WHEN dmax <= 2 THEN 0.5 ELSE 1 END;
    out := out || format('<text x="%s" y="%s" font-size="10" text-anchor="middle" fill="#7b8794">%s</text>',
                         round((x0 + t / dmax * pw)::numeric, 1), ty + k * rowh + 18, to_char(t, 'FM90.0'));
  END LOOP;
  FOR i IN 1 .. k LOOP
    y := ty + (i - 1) * rowh + rowh / 2;
    out := out || format('<text x="%s" y="%s" text-anchor="end" font-size="12" fill="#323f4b"><title>%s</title>%s</text>',
                         lx - 10, y + 4, fairsynth_internal.fairsynth_html(facet_values[i]), fairsynth_internal.fairsynth_html_short(facet_values[i], 22))
               || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#e4e7eb"/>', lx, lx + 2 * pw + gap, y, y);
    -- DPL dumbbell
    xa := lx + pw / 2.0 + greatest(-1, least(1, dpl_original[i] / m)) * pw / 2.0;
    xb := lx + pw / 2.0 + greatest(-1, least(1, dpl_synthetic[i] / m)) * pw / 2.0;
    IF xa IS NOT NULL AND xb IS NOT NULL THEN
      out := out || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1" stroke-width="2"/>',
                           round(xa::numeric, 1), round(xb::numeric, 1), y, y);
    END IF;
    IF xa IS NOT NULL THEN
      out := out || format('<circle cx="%s" cy="%s" r="5.5" fill="#e8833a"><title>original DPL %s</title></circle>',
                           round(xa::numeric, 1), y, round(dpl_original[i]::numeric, 4));
    END IF;
    IF xb IS NOT NULL THEN
      out := out || format('<circle cx="%s" cy="%s" r="5.5" fill="#3d6fd6"><title>synthetic DPL %s</title></circle>',
                           round(xb::numeric, 1), y, round(dpl_synthetic[i]::numeric, 4));
    END IF;
    -- DI dumbbell
    xa := lx + pw + gap + least(di_original[i], dmax) / dmax * pw;
    xb := lx + pw + gap + least(di_synthetic[i], dmax) / dmax * pw;
    IF xa IS NOT NULL AND xb IS NOT NULL THEN
      out := out || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1" stroke-width="2"/>',
                           round(xa::numeric, 1), round(xb::numeric, 1), y, y);
    END IF;
    IF xa IS NOT NULL THEN
      out := out || format('<circle cx="%s" cy="%s" r="5.5" fill="#e8833a"><title>original DI %s</title></circle>',
                           round(xa::numeric, 1), y, round(di_original[i]::numeric, 4));
    END IF;
    IF xb IS NOT NULL THEN
      out := out || format('<circle cx="%s" cy="%s" r="5.5" fill="#3d6fd6"><title>synthetic DI %s</title></circle>',
                           round(xb::numeric, 1), y, round(di_synthetic[i]::numeric, 4));
    END IF;
  END LOOP;
  RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_svg_bias(text[], float8[], float8[], float8[], float8[]) IS
'Internal: SVG (class "bias") with two dumbbell charts per facet value, DPL (green band |DPL| <= 0.05) and DI (green band = 4/5 rule), '
'original in orange and synthetic in blue; values beyond the axis are drawn at its end.';

-- Internal: inline SVG of the univariate accuracy of every column.
CREATE FUNCTION fairsynth_internal.fairsynth_svg_accuracy(columns text[], accuracy float8[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  k int := coalesce(cardinality(columns), 0);
  lx int := 190;
  bw int := 420;
  rowh int := 20;
  out text;
  i int;
  y int;
  a float8;
  col text;
BEGIN
  out := format('<svg class="acc" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="accuracy per column">',
                lx + bw + 70, k * rowh + 30, lx + bw + 70, k * rowh + 30);
  FOR i IN 1 .. k LOOP
    y := 4 + (i - 1) * rowh;
    a := accuracy[i];
    col := CASE fairsynth_internal.fairsynth_status('accuracy', a) WHEN 'good' THEN '#2f9e77' WHEN 'warn' THEN '#e0a526'
                                               WHEN 'bad' THEN '#d64545' ELSE '#cbd2d9' END;
    out := out || format('<text x="%s" y="%s" text-anchor="end" font-size="12" fill="#323f4b"><title>%s</title>%s</text>',
                         lx - 8, y + 13, fairsynth_internal.fairsynth_html(columns[i]), fairsynth_internal.fairsynth_html_short(columns[i], 26))
               || format('<rect x="%s" y="%s" width="%s" height="13" rx="2" fill="#eef1f4"/>', lx, y + 2, bw)
               || format('<rect x="%s" y="%s" width="%s" height="13" rx="2" fill="%s"/>',
                         lx, y + 2, round((bw * greatest(coalesce(a, 0), 0))::numeric, 1), col)
               || format('<text x="%s" y="%s" font-size="11" fill="#323f4b">%s</text>', lx + bw + 6, y + 13,
                         CASE WHEN a IS NULL THEN 'n/a' ELSE to_char(a * 100, 'FM990.0') || '%' END);
  END LOOP;
  FOR i IN 0 .. 4 LOOP
    out := out || format('<line x1="%s" x2="%s" y1="2" y2="%s" stroke="#ffffff" stroke-opacity="0.7"/>',
                         lx + bw * i / 4, lx + bw * i / 4, k * rowh + 4)
               || format('<text x="%s" y="%s" font-size="10" text-anchor="middle" fill="#7b8794">%s%%</text>',
                         lx + bw * i / 4, k * rowh + 20, 25 * i);
  END LOOP;
  RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_svg_accuracy(text[], float8[]) IS
'Internal: SVG (class "acc") with one bar per column giving its univariate accuracy, coloured green (>= 90%), amber (>= 80%) or red.';

-- Internal: the style sheet of the report.
CREATE FUNCTION fairsynth_internal.fairsynth_report_css()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $css$
SELECT $$
:root{--o:#e8833a;--s:#3d6fd6;--ink:#1f2933;--mute:#616e7c;--line:#e4e7eb}
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:var(--ink);font:14px/1.5 "Inter","Segoe UI",Roboto,"Helvetica Neue","Noto Sans","DejaVu Sans",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:28px 32px 56px}
header{display:flex;justify-content:space-between;align-items:flex-end;gap:24px;border-bottom:3px solid var(--ink);padding-bottom:12px}
h1{font-size:27px;margin:0;letter-spacing:-.01em}
h1 span{color:var(--mute);font-weight:400}
.sub{color:var(--mute)}
code{font:12.5px/1.2 "JetBrains Mono","DejaVu Sans Mono",Menlo,Consolas,monospace;background:#e9edf2;padding:1px 5px;border-radius:4px}
h2{font-size:19px;margin:36px 0 4px}
h2+p.lead{margin-top:0}
p.lead{color:var(--mute);margin:0 0 14px;max-width:900px}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px}
.card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 0 0 1px rgba(16,42,67,.07),0 1px 3px rgba(16,42,67,.06)}
.kpi .l{font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--mute);font-weight:600}
.kpi .v{font-size:30px;font-weight:700;font-variant-numeric:tabular-nums;line-height:1.2;margin:4px 0 2px}
.kpi .n{font-size:12px;color:var(--mute)}
.good{color:#1b7f5f}.warn{color:#b7791f}.bad{color:#c53030}.na{color:#9aa5b1}
.kpi.good{border-top:4px solid #2f9e77}.kpi.warn{border-top:4px solid #e0a526}.kpi.bad{border-top:4px solid #d64545}.kpi.na,.kpi.info{border-top:4px solid #cbd2d9}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.good{background:#e3f9ee}.badge.warn{background:#fff3d6}.badge.bad{background:#fde8e8}.badge.na{background:#eef1f4}
.asked{color:#2a56b0}.badge.asked{background:#e6eefc}.kpi.asked{border-top:4px solid #3d6fd6}
.legend{display:flex;gap:18px;align-items:center;font-size:12.5px;color:var(--mute);margin:6px 0 12px}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;margin-right:6px}
.sw.o{background:var(--o)}.sw.s{background:var(--s)}.sw.g{background:#e3f9ee;border:1px solid #a8e0c6}
.cols{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px;align-items:start}
.col h3{font-size:14.5px;margin:0 0 6px;display:flex;justify-content:space-between;align-items:center;gap:8px}
.col h3 code{font-size:13px}
.col .meta{font-size:12px;color:var(--mute);margin:-4px 0 6px}
.wide{background:#fff;border-radius:10px;padding:16px 18px;margin-bottom:12px;box-shadow:0 0 0 1px rgba(16,42,67,.07),0 1px 3px rgba(16,42,67,.06);overflow-x:auto}
.wide h3{font-size:14.5px;margin:0 0 8px}
svg{display:block;max-width:100%;height:auto}
svg text{font-family:inherit}
table.m{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums;margin-top:10px}
table.m th,table.m td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
table.m th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--mute);font-weight:600}
table.m th:first-child,table.m td:first-child{text-align:left}
table.m td .a{color:#b35c1e}table.m td .b{color:#2a56b0;font-weight:600}
dl.good-means{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;font-size:12.5px;color:var(--mute);margin:12px 0 0}
dl.good-means dt{font-weight:600;color:var(--ink)}dl.good-means dd{margin:0}
.note{font-size:12.5px;color:var(--mute)}
footer{margin-top:40px;padding-top:12px;border-top:1px solid var(--line);font-size:12px;color:var(--mute)}
$$
$css$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_report_css() IS 'Internal: the CSS of fairsynth_report(), self-contained (system fonts only).';

-- An HTML report comparing a synthetic table with its original: summary, bias
-- before and after, fidelity per column and per weakest column pair.
CREATE FUNCTION fairsynth_report(original regclass, synthetic regclass, holdout regclass DEFAULT NULL,
                                 facet text DEFAULT NULL, label text DEFAULT NULL,
                                 favorable text DEFAULT NULL,
                                 balance text[] DEFAULT NULL, outcome text DEFAULT NULL,
                                 predicted text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
AS $$
DECLARE
  cols text[];
  keys text[];
  asked text[];
  other text[];
  rare int := coalesce(current_setting('fairsynth.rare_threshold', true)::int, 5);
  ut_o float8;
  ut_s float8;
  n_combos bigint;
  combo_acc jsonb;
  c text;
  n_o bigint;
  n_s bigint;
  n_h bigint;
  q jsonb;
  text_cols text[];
  q_note text := '';
  fav text := favorable;
  h text := '';
  part text;
  r record;
  b record;
  v float8;
  acc_o float8;
  acc_u float8;
  acc_b float8;
  ceil_ float8;
  bias_o jsonb;
  bias_s jsonb;
  bias_note text := '';
  worst_o float8;
  worst_s float8;
  e1 record;
  e2 record;
BEGIN
  IF original IS NULL OR synthetic IS NULL THEN
    RAISE EXCEPTION '% must not be NULL', CASE WHEN original IS NULL THEN 'original' ELSE 'synthetic' END
      USING ERRCODE = '22004';
  END IF;
  IF (facet IS NULL) <> (label IS NULL) THEN
    RAISE EXCEPTION 'facet and label go together (got only %)', CASE WHEN facet IS NULL THEN 'label' ELSE 'facet' END
      USING ERRCODE = '22023', HINT = 'Pass both to report bias before and after, or neither.';
  END IF;
  IF favorable IS NOT NULL AND label IS NULL THEN
    RAISE EXCEPTION 'favorable % given without facet and label', quote_literal(favorable) USING ERRCODE = '22023';
  END IF;
  IF predicted IS NOT NULL AND label IS NULL THEN
    RAISE EXCEPTION 'predicted "%" given without facet and label', predicted USING ERRCODE = '22023',
      HINT = 'The predictions are measured against the observed label across the facet: pass all three.';
  END IF;
  SELECT array_agg(x.column_name ORDER BY x.ord) INTO cols FROM fairsynth_internal.fairsynth_columns(original, NULL) x;
  IF cols IS NULL THEN
    RAISE EXCEPTION 'relation % has no columns', original USING ERRCODE = '22023';
  END IF;
  -- what the run asked to change: the balance columns and the outcome
  IF cardinality(balance) = 0 THEN
    RAISE EXCEPTION 'balance must not be an empty array' USING ERRCODE = '22023',
      HINT = 'Pass the columns given to fairsynth_balance, or NULL.';
  END IF;
  FOREACH c IN ARRAY coalesce(balance, '{}') LOOP
    PERFORM fairsynth_internal.fairsynth_check_column(original, c, 'balance');
  END LOOP;
  IF outcome IS NOT NULL THEN
    PERFORM fairsynth_internal.fairsynth_check_column(original, outcome, 'outcome');
    IF outcome = ANY (balance) THEN
      RAISE EXCEPTION 'outcome column "%" is also a balance column', outcome USING ERRCODE = '22023',
        HINT = 'Pass the arguments given to fairsynth_balance: the outcome is not one of the balance columns.';
    END IF;
  END IF;
  asked := coalesce(balance, '{}') || CASE WHEN outcome IS NULL THEN '{}'::text[] ELSE ARRAY[outcome] END;
  -- keys identify rows: no value of theirs is shown, and no metric covers them
  keys := fairsynth_internal.fairsynth_key_columns(original);
  cols := ARRAY(SELECT x FROM unnest(cols) WITH ORDINALITY u(x, o) WHERE x <> ALL (keys) ORDER BY o);
  IF cardinality(cols) = 0 THEN
    RAISE EXCEPTION 'relation % has only key columns (%)', original, array_to_string(keys, ', ')
      USING ERRCODE = '22023', HINT = 'Report on a relation with at least one column besides its keys.';
  END IF;
  other := ARRAY(SELECT x FROM unnest(cols) WITH ORDINALITY u(x, o) WHERE x <> ALL (asked) ORDER BY o);
  -- every column of the original must be in the synthetic (and holdout) relation
  FOREACH c IN ARRAY cols LOOP
    PERFORM fairsynth_internal.fairsynth_check_column(synthetic, c, 'synthetic');
    IF holdout IS NOT NULL THEN
      PERFORM fairsynth_internal.fairsynth_check_column(holdout, c, 'holdout');
    END IF;
  END LOOP;
  IF facet IS NOT NULL THEN
    PERFORM fairsynth_internal.fairsynth_check_column(original, facet, 'facet');
    PERFORM fairsynth_internal.fairsynth_check_column(original, label, 'label');
  END IF;
  IF predicted IS NOT NULL THEN
    PERFORM fairsynth_internal.fairsynth_check_column(original, predicted, 'predicted');
  END IF;

  EXECUTE format('SELECT count(*) FROM %s', original) INTO n_o;
  EXECUTE format('SELECT count(*) FROM %s', synthetic) INTO n_s;
  IF holdout IS NOT NULL THEN
    EXECUTE format('SELECT count(*) FROM %s', holdout) INTO n_h;
  END IF;

  -- fidelity and privacy figures (C core); the report still renders without them,
  -- also for an empty relation (which fairsynth_quality rejects)
  IF n_o = 0 OR n_s = 0 OR n_h = 0 THEN
    q_note := format('%s relation is empty: fidelity and privacy figures are missing.',
                     CASE WHEN n_o = 0 THEN 'The original' WHEN n_s = 0 THEN 'The synthetic' ELSE 'The holdout' END);
  ELSE
    IF label IS NOT NULL THEN
      fav := coalesce(fav, fairsynth_internal.fairsynth_default_favorable(original, label));
    END IF;
    BEGIN
      -- with a holdout and a label, also the utility (trtr_auc, tstr_auc)
      EXECUTE 'SELECT jsonb_agg(jsonb_build_object(''metric'', metric, ''c1'', column_name, ''c2'', column_name2, ''v'', value))
               FROM fairsynth_quality($1, $2, $3, 0, $4, $5)'
        INTO q USING original, synthetic, holdout,
                     CASE WHEN holdout IS NOT NULL THEN label END, CASE WHEN holdout IS NOT NULL THEN fav END;
    EXCEPTION WHEN undefined_function THEN
      q := NULL;
      q_note := 'fairsynth_quality() is not available: fidelity and privacy figures are missing.';
    END;
  END IF;
  q := coalesce(q, '[]');
  text_cols := ARRAY(SELECT y->>'c1' FROM jsonb_array_elements(q) y WHERE y->>'metric' = 'text_term_accuracy');
  SELECT (x->>'v')::float8 INTO acc_o FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'accuracy_overall' LIMIT 1;
  SELECT (x->>'v')::float8 INTO acc_u FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'accuracy_univariate' AND x->>'c1' IS NULL LIMIT 1;
  SELECT (x->>'v')::float8 INTO acc_b FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'accuracy_bivariate' AND x->>'c1' IS NULL LIMIT 1;
  SELECT (x->>'v')::float8 INTO ceil_ FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'accuracy_ceiling' LIMIT 1;
  SELECT (x->>'v')::float8 INTO ut_o FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'trtr_auc' LIMIT 1;
  SELECT (x->>'v')::float8 INTO ut_s FROM jsonb_array_elements(q) x WHERE x->>'metric' = 'tstr_auc' LIMIT 1;
  -- the columns asked to change moved on purpose: accuracy is over the other ones
  IF cardinality(asked) > 0 AND q <> '[]' THEN
    SELECT avg((x->>'v')::float8) INTO acc_u FROM jsonb_array_elements(q) x
    WHERE x->>'metric' = 'accuracy_univariate' AND x->>'c1' = ANY (other);
    SELECT coalesce(avg((x->>'v')::float8), 1) INTO acc_b FROM jsonb_array_elements(q) x
    WHERE x->>'metric' = 'accuracy_bivariate' AND x->>'c1' = ANY (other) AND x->>'c2' = ANY (other);
    acc_o := (acc_u + acc_b) / 2;
  END IF;

  -- bias before and after, with the original's favorable value on both sides
  IF facet IS NOT NULL THEN
    fav := coalesce(fav, fairsynth_internal.fairsynth_default_favorable(original, label));
    SELECT jsonb_agg(to_jsonb(x)) INTO bias_o FROM fairsynth_bias(original, facet, label, fav) x;
    BEGIN
      SELECT jsonb_agg(to_jsonb(x)) INTO bias_s FROM fairsynth_bias(synthetic, facet, label, fav) x;
    EXCEPTION WHEN invalid_parameter_value THEN
      bias_s := NULL;
      bias_note := format('The favorable value %s does not occur in the synthetic relation.', quote_literal(fav));
    END;
  END IF;

  -- ---- document head
  h := '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
    || format('<title>fairsynth report: %s vs %s</title>', fairsynth_internal.fairsynth_html(synthetic::text), fairsynth_internal.fairsynth_html(original::text))
    || '<style>' || fairsynth_internal.fairsynth_report_css() || '</style></head><body><main>'
    || '<header><div><h1>fairsynth <span>report</span></h1>'
    || format('<div class="sub">synthetic <code>%s</code> compared with original <code>%s</code>%s</div></div>',
              fairsynth_internal.fairsynth_html(synthetic::text), fairsynth_internal.fairsynth_html(original::text),
              CASE WHEN holdout IS NULL THEN '' ELSE format(', holdout <code>%s</code>', fairsynth_internal.fairsynth_html(holdout::text)) END)
    || '<div class="legend"><span><i class="sw o"></i>original</span><span><i class="sw s"></i>synthetic</span></div></header>';

  -- ---- summary
  h := h || '<section id="summary"><h2>Summary</h2><p class="lead">Fidelity: how closely the synthetic rows reproduce the original distributions. '
         || 'Privacy: whether they copy original rows. Balance: how the label differs across the facet.</p><div class="cards">'
    || format('<div class="card kpi info"><div class="l">Synthetic rows</div><div class="v">%s</div><div class="n">original %s%s · %s columns</div></div>',
              to_char(n_s, 'FM999,999,999,999'), to_char(n_o, 'FM999,999,999,999'),
              CASE WHEN holdout IS NULL THEN '' ELSE ' · holdout ' || to_char(n_h, 'FM999,999,999,999') END,
              cardinality(cols))
    || format('<div class="card kpi %s"><div class="l">Overall accuracy</div><div class="v">%s</div><div class="n">%s%s</div></div>',
              fairsynth_internal.fairsynth_status('accuracy', acc_o), coalesce(to_char(acc_o * 100, 'FM990.0') || '%', 'n/a'),
              CASE WHEN cardinality(asked) > 0 THEN format('over the %s columns not asked to change · ', cardinality(other)) ELSE '' END,
              CASE WHEN ceil_ IS NOT NULL THEN 'ceiling ' || to_char(ceil_ * 100, 'FM990.0') || '% (holdout vs original)'
                   ELSE 'ceiling: needs a holdout' END)
    || format('<div class="card kpi %s"><div class="l">Univariate · bivariate</div><div class="v">%s</div><div class="n">bivariate %s</div></div>',
              fairsynth_internal.fairsynth_status('accuracy', acc_u), coalesce(to_char(acc_u * 100, 'FM990.0') || '%', 'n/a'),
              coalesce(to_char(acc_b * 100, 'FM990.0') || '%', 'n/a'));
  IF facet IS NOT NULL THEN
    SELECT min(CASE WHEN (x->>'di')::float8 < 1 THEN (x->>'di')::float8 ELSE 1 / nullif((x->>'di')::float8, 0) END)
      INTO worst_o FROM jsonb_array_elements(bias_o) x;
    SELECT min(CASE WHEN (x->>'di')::float8 < 1 THEN (x->>'di')::float8 ELSE 1 / nullif((x->>'di')::float8, 0) END)
      INTO worst_s FROM jsonb_array_elements(coalesce(bias_s, '[]')) x;
    h := h || format('<div class="card kpi %s"><div class="l">Worst disparate impact</div>'
                     '<div class="v"><span class="%s">%s</span> <span style="font-size:18px;color:#9aa5b1">→</span> <span class="%s">%s</span></div>'
                     '<div class="n">original → synthetic; %s by %s, min(DI, 1/DI); the 4/5 rule wants ≥ 0.8</div></div>',
                     fairsynth_internal.fairsynth_status('di', worst_s),
                     fairsynth_internal.fairsynth_status('di', worst_o), coalesce(to_char(worst_o, 'FM0.00'), 'n/a'),
                     fairsynth_internal.fairsynth_status('di', worst_s), coalesce(to_char(worst_s, 'FM0.00'), 'n/a'),
                     fairsynth_internal.fairsynth_html(label), fairsynth_internal.fairsynth_html(facet));
  ELSIF cardinality(asked) > 0 THEN
    h := h || format('<div class="card kpi asked"><div class="l">Changed as asked</div><div class="v">%s</div><div class="n">%s; see below</div></div>',
                     cardinality(asked),
                     fairsynth_internal.fairsynth_html(array_to_string(ARRAY(SELECT format('%s', x) FROM unnest(asked) x), ', ')));
  ELSE
    h := h || '<div class="card kpi na"><div class="l">Bias</div><div class="v">–</div><div class="n">pass facet and label to compare</div></div>';
  END IF;
  FOR r IN SELECT * FROM (VALUES (1, 'dcr_share', 'DCR share', 'about 50% is ideal: synthetic rows are no closer to the training rows than to unseen holdout rows'),
                                 (2, 'exact_match', 'Exact matches', 'share of synthetic rows identical to an original row; lower is better'),
                                 (3, 'nndr_p5', 'NNDR (5th pct.)', 'nearest / second-nearest original distance; near 1 is safe, near 0 = copies'),
                                 (4, 'discriminator_auc', 'Discriminator AUC', 'a classifier telling original from synthetic; 50% = indistinguishable'))
                         t(o, metric, title, good) ORDER BY o LOOP
    SELECT (x->>'v')::float8 INTO v FROM jsonb_array_elements(q) x WHERE x->>'metric' = r.metric LIMIT 1;
    h := h || format('<div class="card kpi %s"><div class="l">%s</div><div class="v">%s</div><div class="n">%s</div></div>',
                     fairsynth_internal.fairsynth_status(r.metric, v), r.title,
                     CASE WHEN v IS NULL THEN 'n/a' WHEN r.metric = 'nndr_p5' THEN to_char(v, 'FM0.00')
                          ELSE to_char(v * 100, 'FM990.0') || '%' END,
                     CASE WHEN v IS NULL AND holdout IS NULL THEN 'needs a holdout'
                          WHEN r.metric = 'discriminator_auc' AND cardinality(asked) > 0
                          THEN r.good || '; over every column, so it sees the change asked for too'
                          ELSE r.good END);
  END LOOP;
  IF ut_o IS NOT NULL OR ut_s IS NOT NULL THEN
    h := h || format('<div class="card kpi %s"><div class="l">Utility (AUC on the holdout)</div>'
                     '<div class="v" style="font-size:24px"><span class="%s">%s</span> <span style="font-size:15px;color:#9aa5b1">vs</span> %s</div>'
                     '<div class="n">a classifier of %s = %s trained on the synthetic rows vs on the original rows, scored on the holdout</div></div>',
                     CASE WHEN ut_s IS NULL OR ut_o IS NULL THEN 'na' WHEN ut_s >= ut_o - 0.02 THEN 'good'
                          WHEN ut_s >= ut_o - 0.05 THEN 'warn' ELSE 'bad' END,
                     CASE WHEN ut_s IS NULL OR ut_o IS NULL THEN 'na' WHEN ut_s >= ut_o - 0.02 THEN 'good'
                          WHEN ut_s >= ut_o - 0.05 THEN 'warn' ELSE 'bad' END,
                     coalesce(to_char(ut_s * 100, 'FM990.0') || '%', 'n/a'), coalesce(to_char(ut_o * 100, 'FM990.0') || '%', 'n/a'),
                     fairsynth_internal.fairsynth_html(label), fairsynth_internal.fairsynth_html(fav));
  END IF;
  h := h || '</div><dl class="good-means"><dt>Accuracy</dt><dd>1 − total variation distance between binned original and synthetic distributions '
         || '(univariate per column, bivariate per column pair); 90% or more is good, and no synthesizer beats the ceiling, the accuracy of a holdout sample of the original itself.</dd>'
         || '<dt>Colours</dt><dd><span class="good">green</span> good · <span class="warn">amber</span> fair · <span class="bad">red</span> weak · <span class="na">grey</span> not available</dd></dl>';
  IF q_note <> '' THEN
    h := h || '<p class="note">' || fairsynth_internal.fairsynth_html(q_note) || '</p>';
  END IF;
  IF cardinality(keys) > 0 THEN
    h := h || '<p class="note">' || fairsynth_internal.fairsynth_html(format('Key columns left out (their values identify rows and are never shown): %s.',
                                                          array_to_string(keys, ', '))) || '</p>';
  END IF;
  h := h || '</section>';

  -- ---- what the run asked to change: target against achieved shares
  IF cardinality(asked) > 0 THEN
    h := h || '<section id="asked"><h2>Changed as asked</h2><p class="lead">These columns were asked to change, so differing from the original is the point: '
           || 'balance columns towards equal shares of their values, the outcome towards the same distribution in every combination of them. '
           || 'Target against achieved shares of the synthetic rows.</p><div class="cols">';
    FOREACH c IN ARRAY coalesce(balance, '{}') LOOP
      EXECUTE format($q$
        WITH o AS (SELECT %1$I::text AS v, count(*) AS n FROM %2$s WHERE %1$I IS NOT NULL GROUP BY 1),
             s AS (SELECT %1$I::text AS v, count(*) AS n FROM %3$s WHERE %1$I IS NOT NULL GROUP BY 1),
             k AS (SELECT count(*) AS k, sum(n) AS t FROM o),
             st AS (SELECT sum(n) AS t FROM s)
        SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td><span class="b">%%s</span></td></tr>',
                                 fairsynth_internal.fairsynth_html(CASE WHEN o.n >= %4$s THEN o.v ELSE '(rare)' END),
                                 to_char(100.0 * o.n / k.t, 'FM990.0') || '%%',
                                 to_char(100.0 / k.k, 'FM990.0') || '%%',
                                 coalesce(to_char(100.0 * coalesce(s.n, 0) / nullif(st.t, 0), 'FM990.0') || '%%', '–')),
                          '' ORDER BY o.n DESC, o.v COLLATE "C")
        FROM o CROSS JOIN k CROSS JOIN st LEFT JOIN s USING (v)$q$, c, original, synthetic, rare)
        INTO part;
      h := h || format('<div class="card col"><h3><code>%s</code><span class="badge asked">balanced: changed as asked</span></h3>', fairsynth_internal.fairsynth_html(c))
             || '<table class="m"><thead><tr><th>value</th><th>original</th><th>target</th><th>synthetic</th></tr></thead><tbody>'
             || coalesce(part, '') || '</tbody></table></div>';
    END LOOP;
    IF outcome IS NOT NULL THEN
      -- the outcome's share per combination of the balance columns
      EXECUTE format($q$
        WITH o AS (SELECT %1$I::text AS v, count(*) AS n FROM %2$s WHERE %1$I IS NOT NULL GROUP BY 1),
             sc AS (SELECT %4$s AS combo, %1$I::text AS v, count(*) AS n FROM %3$s WHERE %1$I IS NOT NULL GROUP BY 1, 2),
             oc AS (SELECT %4$s AS combo, %1$I::text AS v, count(*) AS n FROM %2$s WHERE %1$I IS NOT NULL GROUP BY 1, 2),
             ss AS (SELECT v, min(share) AS lo, max(share) AS hi FROM
                      (SELECT combo, v, n::float8 / sum(n) OVER (PARTITION BY combo) AS share FROM sc) x GROUP BY v),
             os AS (SELECT v, min(share) AS lo, max(share) AS hi FROM
                      (SELECT combo, v, n::float8 / sum(n) OVER (PARTITION BY combo) AS share,
                              sum(n) OVER (PARTITION BY combo) AS cn FROM oc) x
                    WHERE cn >= %5$s GROUP BY v)
        SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td><span class="b">%%s</span></td></tr>',
                                 fairsynth_internal.fairsynth_html(CASE WHEN o.n >= %5$s THEN o.v ELSE '(rare)' END),
                                 to_char(100 * os.lo, 'FM990.0') || '–' || to_char(100 * os.hi, 'FM990.0') || '%%',
                                 to_char(100.0 * o.n / ot.t, 'FM990.0') || '%%',
                                 coalesce(to_char(100 * ss.lo, 'FM990.0') || '–' || to_char(100 * ss.hi, 'FM990.0') || '%%', '–')),
                          '' ORDER BY o.n DESC, o.v COLLATE "C"),
               (SELECT count(DISTINCT combo) FROM sc)
        FROM o CROSS JOIN (SELECT sum(n) AS t FROM o) ot LEFT JOIN os USING (v) LEFT JOIN ss USING (v)$q$,
        outcome, original, synthetic,
        CASE WHEN balance IS NULL THEN '1'
             ELSE 'ROW(' || array_to_string(ARRAY(SELECT format('%I', x) FROM unnest(balance) x), ', ') || ')::text' END,
        rare)
        INTO part, n_combos;
      h := h || format('<div class="card col"><h3><code>%s</code><span class="badge asked">outcome: changed as asked</span></h3>', fairsynth_internal.fairsynth_html(outcome))
             || format('<div class="meta">share of each value within the %s combinations of the balance columns (lowest–highest); '
                       'target: the original''s overall share in every combination; original ranges leave out combinations of fewer than %s rows</div>', coalesce(n_combos, 0), rare)
             || '<table class="m"><thead><tr><th>value</th><th>original</th><th>target</th><th>synthetic</th></tr></thead><tbody>'
             || coalesce(part, '') || '</tbody></table></div>';
    END IF;
    h := h || '</div>';
    IF cardinality(balance) > 0 THEN
      -- accuracy within the largest combinations, over the other columns
      -- (free text, measured by its own rows of fairsynth_quality, left out)
      SELECT jsonb_object_agg(a.combo, a.accuracy) INTO combo_acc
      FROM fairsynth_internal.fairsynth_combo_accuracy(original, synthetic, balance,
             ARRAY(SELECT x FROM unnest(other) WITH ORDINALITY u(x, o)
                   WHERE x NOT IN (SELECT y->>'c1' FROM jsonb_array_elements(q) y
                                   WHERE y->>'metric' = 'text_term_accuracy')
                   ORDER BY o)) a;
      -- rows per combination of the balance columns: target against achieved
      EXECUTE format($q$
        WITH o AS (SELECT %3$s AS combo, count(*) AS n%5$s FROM %1$s GROUP BY 1),
             s AS (SELECT %3$s AS combo, count(*) AS n%5$s FROM %2$s GROUP BY 1),
             j AS (SELECT combo, o.n AS no, o.f AS fo, s.n AS ns, s.f AS fs FROM o FULL JOIN s USING (combo)),
             t AS (SELECT count(*) AS k, sum(ns) AS ts FROM j)
        SELECT string_agg(format('<tr><td>%%s</td><td>%%s</td><td>%%s</td><td><span class="b">%%s</span></td>%%s%%s</tr>',
                                 CASE WHEN coalesce(j.no, 0) >= %4$s THEN fairsynth_internal.fairsynth_html(j.combo) ELSE '(rare combination)' END,
                                 coalesce(j.no, 0), to_char(t.ts::numeric / t.k, 'FM999,999,990.0'), coalesce(j.ns, 0),
                                 CASE WHEN %6$L THEN format('<td>%%s</td><td><span class="b">%%s</span></td>',
                                        CASE WHEN coalesce(j.no, 0) >= %4$s
                                             THEN coalesce(to_char(100.0 * j.fo / nullif(j.no, 0), 'FM990.0') || '%%', '–')
                                             ELSE '–' END,
                                        coalesce(to_char(100.0 * j.fs / nullif(j.ns, 0), 'FM990.0') || '%%', '–'))
                                      ELSE '' END,
                                 CASE WHEN $1 ? j.combo AND jsonb_typeof($1 -> j.combo) = 'number'
                                      THEN format('<td class="%%s">%%s</td>',
                                                  fairsynth_internal.fairsynth_status('accuracy', ($1 ->> j.combo)::float8),
                                                  to_char(100 * ($1 ->> j.combo)::float8, 'FM990.0') || '%%')
                                      ELSE '<td>–</td>' END),
                          '' ORDER BY j.no DESC NULLS LAST, j.combo COLLATE "C")
        FROM j CROSS JOIN t$q$,
        original, synthetic,
        'concat_ws('' × '', ' || array_to_string(ARRAY(SELECT format('coalesce(%I::text, ''NULL'')', x) FROM unnest(balance) x), ', ') || ')',
        rare,
        CASE WHEN outcome IS NOT NULL AND label = outcome AND fav IS NOT NULL
             THEN format(', count(*) FILTER (WHERE %I::text = %L) AS f', outcome, fav) ELSE ', NULL::bigint AS f' END,
        outcome IS NOT NULL AND label = outcome AND fav IS NOT NULL)
        INTO part USING coalesce(combo_acc, '{}');
      h := h || '<div class="wide" style="margin-top:12px"><h3>Rows per combination of ' || fairsynth_internal.fairsynth_html(array_to_string(balance, ' × ')) || '</h3>'
             || '<table class="m"><thead><tr><th>combination</th><th>original</th><th>target</th><th>synthetic</th>'
             || CASE WHEN outcome IS NOT NULL AND label = outcome AND fav IS NOT NULL
                     THEN format('<th>%s = %s original</th><th>synthetic</th>', fairsynth_internal.fairsynth_html(outcome), fairsynth_internal.fairsynth_html(fav)) ELSE '' END
             || '<th>accuracy</th></tr></thead><tbody>' || coalesce(part, '') || '</tbody></table>'
             || format('<p class="note">Target: equal rows per combination. Combinations of fewer than %s original rows are not named, nor their outcome share (nor in the ranges above). '
                       'Accuracy: the combination''s synthetic rows against its original rows, 1 − TVD of each other column (binned as above), averaged; '
                       'for the 12 largest combinations of at least %s original rows.</p></div>', rare, greatest(30, rare));
    END IF;
    h := h || '</section>';
  END IF;

  -- ---- bias before and after
  IF facet IS NOT NULL THEN
    h := h || '<section id="bias">' || format('<h2>Bias of <code>%s</code> across <code>%s</code></h2>', fairsynth_internal.fairsynth_html(label), fairsynth_internal.fairsynth_html(facet))
           || format('<p class="lead">Each %s value (group) against all other rows; favorable label value <code>%s</code>%s. '
                     'q = share of rows with the favorable label. Dots: original (orange) and synthetic (blue); the closer to the green band, the fairer.</p>',
                     fairsynth_internal.fairsynth_html(facet), coalesce(fairsynth_internal.fairsynth_html(fav), '(none: no labelled rows)'),
                     CASE WHEN favorable IS NULL AND fav IS NOT NULL THEN ' (the least frequent one)' ELSE '' END);
    IF bias_note <> '' THEN
      h := h || '<p class="note">' || fairsynth_internal.fairsynth_html(bias_note) || '</p>';
    END IF;
    SELECT fairsynth_internal.fairsynth_svg_bias(array_agg(o->>'facet_value' ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C"),
                              array_agg((o->>'dpl')::float8 ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C"),
                              array_agg((s->>'dpl')::float8 ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C"),
                              array_agg((o->>'di')::float8 ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C"),
                              array_agg((s->>'di')::float8 ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C")),
           string_agg(format('<tr><td>%s</td><td><span class="a">%s</span> → <span class="b">%s</span></td>'
                             '<td><span class="a">%s</span> → <span class="b">%s</span></td><td><span class="a">%s</span> → <span class="b">%s</span></td>'
                             '<td><span class="a">%s</span> → <span class="b">%s</span></td><td><span class="a">%s</span> → <span class="b">%s</span></td>'
                             '<td><span class="a">%s</span> → <span class="b">%s</span></td><td><span class="a">%s</span> → <span class="b">%s</span></td></tr>',
                             fairsynth_internal.fairsynth_html(o->>'facet_value'), o->>'n', coalesce(s->>'n', '–'),
                             coalesce(to_char((o->>'ci')::float8, 'FM90.000'), '–'), coalesce(to_char((s->>'ci')::float8, 'FM90.000'), '–'),
                             coalesce(to_char((o->>'dpl')::float8, 'FM90.000'), '–'), coalesce(to_char((s->>'dpl')::float8, 'FM90.000'), '–'),
                             coalesce(to_char((o->>'di')::float8, 'FM990.000'), '–'), coalesce(to_char((s->>'di')::float8, 'FM990.000'), '–'),
                             coalesce(to_char((o->>'kl')::float8, 'FM90.0000'), '–'), coalesce(to_char((s->>'kl')::float8, 'FM90.0000'), '–'),
                             coalesce(to_char((o->>'js')::float8, 'FM90.0000'), '–'), coalesce(to_char((s->>'js')::float8, 'FM90.0000'), '–'),
                             coalesce(to_char((o->>'tvd')::float8, 'FM90.0000'), '–'), coalesce(to_char((s->>'tvd')::float8, 'FM90.0000'), '–')),
                      '' ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C")
      INTO part, c
    FROM (SELECT o FROM jsonb_array_elements(coalesce(bias_o, '[]')) o WHERE (o->>'n')::bigint >= rare
          ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C" LIMIT 12) oo
    LEFT JOIN LATERAL (SELECT s FROM jsonb_array_elements(coalesce(bias_s, '[]')) s WHERE s->>'facet_value' = oo.o->>'facet_value') ss ON true;
    c := regexp_replace(c, '>-(0\.0+)<', '>\1<', 'g');  -- no "-0.000"
    h := h || '<div class="wide">' || coalesce(part, '<p class="note">No facet value to compare.</p>')
           || '<div class="legend"><span><i class="sw o"></i>original</span><span><i class="sw s"></i>synthetic</span><span><i class="sw g"></i>fair zone</span></div>'
           || '<table class="m"><thead><tr><th>' || fairsynth_internal.fairsynth_html(facet) || '</th><th>rows</th><th>CI</th><th>DPL</th><th>DI</th><th>KL</th><th>JS</th><th>TVD</th></tr></thead><tbody>'
           || coalesce(c, '') || '</tbody></table>'
           || '<p class="note">CI class imbalance (n_rest − n_group)/(n_rest + n_group); DPL q_rest − q_group; DI q_group / q_rest; KL, JS, TVD divergences of the label distributions. '
           || format('Twelve largest groups shown, none of fewer than %s rows (fairsynth.rare_threshold); every figure comes from fairsynth_bias().</p></div></section>', rare);
  END IF;
  IF predicted IS NOT NULL THEN  -- the model's predictions, scored into both relations
    h := h || fairsynth_internal.fairsynth_report_model_bias(original, synthetic, facet, label, predicted, fav);
  END IF;

  -- ---- fidelity per column and weakest pairs
  h := h || '<section id="fidelity"><h2>Fidelity</h2><p class="lead">Univariate accuracy of every column (1 − TVD of its binned distribution)'
         || CASE WHEN cardinality(asked) > 0 THEN ' not asked to change' ELSE '' END || '.</p><div class="wide">';
  SELECT fairsynth_internal.fairsynth_svg_accuracy(array_agg(u.col ORDER BY u.o), array_agg(u.a ORDER BY u.o)) INTO part
  FROM (SELECT t.col, t.o, (SELECT (x->>'v')::float8 FROM jsonb_array_elements(q) x
                            WHERE x->>'metric' = 'accuracy_univariate' AND x->>'c1' = t.col LIMIT 1) AS a
        FROM unnest(other) WITH ORDINALITY t(col, o)) u;
  h := h || part || '</div>';
  h := h || '<h2 style="font-size:16px;margin-top:22px">Weakest column pairs</h2><p class="lead">Joint distributions of the three column pairs with the lowest bivariate accuracy, binned as below; one colour scale per pair.</p>';
  part := '';
  FOR r IN SELECT x->>'c1' AS c1, x->>'c2' AS c2, (x->>'v')::float8 AS a
           FROM jsonb_array_elements(q) x
           WHERE x->>'metric' = 'accuracy_bivariate' AND x->>'c1' = ANY (other) AND x->>'c2' = ANY (other)
           ORDER BY (x->>'v')::float8, x->>'c1', x->>'c2' LIMIT 3 LOOP
    e1 := fairsynth_internal.fairsynth_bin_expr(original, r.c1, 8);
    e2 := fairsynth_internal.fairsynth_bin_expr(original, r.c2, 8);
    EXECUTE format($q$
      WITH o AS (SELECT %1$s AS a, %2$s AS b, count(*)::float8 / %5$s AS p FROM %3$s GROUP BY 1, 2),
           s AS (SELECT %1$s AS a, %2$s AS b, count(*)::float8 / %6$s AS p FROM %4$s GROUP BY 1, 2),
           j AS (SELECT a, b, sum(po) AS po, sum(ps) AS ps
                 FROM (SELECT a, b, p AS po, 0 AS ps FROM o UNION ALL SELECT a, b, 0, p FROM s) u GROUP BY a, b),
           ra AS (SELECT a, row_number() OVER (ORDER BY coalesce(array_position($1, a), CASE a WHEN '(other)' THEN 100001
                             WHEN '(out of range)' THEN 100002 ELSE 100003 END))::int AS i FROM (SELECT DISTINCT a FROM j) d),
           rb AS (SELECT b, row_number() OVER (ORDER BY coalesce(array_position($2, b), CASE b WHEN '(other)' THEN 100001
                             WHEN '(out of range)' THEN 100002 ELSE 100003 END))::int AS i FROM (SELECT DISTINCT b FROM j) d)
      SELECT fairsynth_internal.fairsynth_svg_heatmap((SELECT array_agg(a ORDER BY i) FROM ra), (SELECT array_agg(b ORDER BY i) FROM rb),
                                   array_agg(ra.i ORDER BY ra.i, rb.i), array_agg(rb.i ORDER BY ra.i, rb.i),
                                   array_agg(j.po ORDER BY ra.i, rb.i), array_agg(j.ps ORDER BY ra.i, rb.i))
      FROM j JOIN ra ON ra.a IS NOT DISTINCT FROM j.a JOIN rb ON rb.b IS NOT DISTINCT FROM j.b$q$,
      e1.expr, e2.expr, original, synthetic, greatest(n_o, 1), greatest(n_s, 1))
      INTO c USING e1.labels, e2.labels;
    part := part || format('<div class="wide"><h3><code>%s</code> × <code>%s</code> <span class="badge %s">bivariate accuracy %s</span></h3>',
                           fairsynth_internal.fairsynth_html(r.c1), fairsynth_internal.fairsynth_html(r.c2), fairsynth_internal.fairsynth_status('accuracy', r.a),
                           coalesce(to_char(r.a * 100, 'FM990.0') || '%', 'n/a'))
                 || c || '</div>';
  END LOOP;
  h := h || CASE WHEN part = '' THEN '<p class="note">No bivariate accuracy available.</p>' ELSE part END || '</section>';

  -- ---- every column, original and synthetic side by side
  h := h || '<section id="columns"><h2>Distributions</h2><p class="lead">Every column binned on the original '
         || '(about 10 quantile ranges for numeric and date/time columns with more than 20 values, the outer ones open, else the 10 most frequent values and (other)); '
         || format('the same bins for the synthetic rows. Values seen in fewer than %s rows are never shown.</p>', rare)
         || '<div class="legend"><span><i class="sw o"></i>original</span><span><i class="sw s"></i>synthetic</span><span>share of rows per bin</span></div><div class="cols">';
  FOREACH c IN ARRAY cols LOOP
    IF c = ANY (text_cols) THEN
      -- free text: its most frequent terms (of enough rows), side by side
      SELECT fairsynth_internal.fairsynth_svg_distribution(array_agg(t.term ORDER BY t.n_original DESC, t.term),
                                        array_agg(t.n_original ORDER BY t.n_original DESC, t.term),
                                        array_agg(t.n_synthetic ORDER BY t.n_original DESC, t.term)) AS svg
        INTO b
      FROM fairsynth_internal.fairsynth_text_terms(original, synthetic, c, 15) t;
      SELECT (x->>'v')::float8 INTO v FROM jsonb_array_elements(q) x
      WHERE x->>'metric' = 'text_term_accuracy' AND x->>'c1' = c LIMIT 1;
      h := h || format('<div class="card col"><h3><code>%s</code><span class="badge %s" title="term accuracy (fairsynth_quality)">%s</span></h3>',
                       fairsynth_internal.fairsynth_html(c), fairsynth_internal.fairsynth_status('accuracy', v),
                       coalesce(to_char(v * 100, 'FM990.0') || '% terms', 'n/a'))
             || format('<div class="meta">free text: its 15 most frequent terms by the rows that hold them (terms of fewer than %s rows never shown)</div>', rare)
             || coalesce(b.svg, '<p class="note">No term is held by enough rows to show.</p>') || '</div>';
      CONTINUE;
    END IF;
    SELECT fairsynth_internal.fairsynth_svg_distribution(array_agg(x.label ORDER BY x.ord), array_agg(x.n_original ORDER BY x.ord),
                                      array_agg(x.n_synthetic ORDER BY x.ord)) AS svg,
           1 - 0.5 * sum(abs(x.n_original::float8 / greatest(n_o, 1) - x.n_synthetic::float8 / greatest(n_s, 1))) AS acc
      INTO b
    FROM fairsynth_internal.fairsynth_bins(original, synthetic, c, 10) x;
    SELECT (x->>'v')::float8 INTO v FROM jsonb_array_elements(q) x
    WHERE x->>'metric' = 'accuracy_univariate' AND x->>'c1' = c LIMIT 1;
    IF c = ANY (asked) THEN
      h := h || format('<div class="card col"><h3><code>%s</code><span class="badge asked" title="%s">changed as asked</span></h3>',
                       fairsynth_internal.fairsynth_html(c), CASE WHEN c = outcome THEN 'the outcome of the balancing' ELSE 'a balance column' END)
             || b.svg || '</div>';
      CONTINUE;
    END IF;
    h := h || format('<div class="card col"><h3><code>%s</code><span class="badge %s" title="%s">%s</span></h3>',
                     fairsynth_internal.fairsynth_html(c), fairsynth_internal.fairsynth_status('accuracy', coalesce(v, b.acc)),
                     CASE WHEN v IS NULL THEN 'accuracy on these bins' ELSE 'univariate accuracy (fairsynth_quality)' END,
                     coalesce(to_char(coalesce(v, b.acc) * 100, 'FM990.0') || '%', 'n/a'))
           || b.svg || '</div>';
  END LOOP;
  h := h || '</div></section>';
  h := h || '<footer>Generated by <code>fairsynth_report()</code>. Fidelity and privacy from <code>fairsynth_quality()</code>, bias from '
         || '<code>fairsynth_bias()</code>, bins from <code>fairsynth_profile()</code>. Self-contained: no scripts, no external resources.</footer>'
         || '</main></body></html>';
  RETURN h;
END
$$;

COMMENT ON FUNCTION fairsynth_report(regclass, regclass, regclass, text, text, text, text[], text, text) IS
'One self-contained HTML document (inline CSS and SVG, no script, no external resource) comparing synthetic with original: '
'a summary (rows, columns, overall/univariate/bivariate accuracy with the holdout ceiling, privacy figures DCR share, exact matches, NNDR, discriminator AUC with what good means), '
'when facet and label are given the bias metrics of fairsynth_bias before (original) and after (synthetic) as dumbbell charts (DPL, DI) and a table, '
'using the original''s favorable value (default: its least frequent label value) on both sides; '
'when predicted names a column of predicted labels (a model scored into both relations) the post-training bias of fairsynth_model_bias before and after (DPPL, RD, SD, AD charts and a table); '
'the univariate accuracy of every column, heat maps of the 3 column pairs with the lowest bivariate accuracy, '
'and for every column the original and synthetic distributions side by side over fairsynth_profile''s bins of the original (one <svg class="dist"> per column). '
'Fidelity and privacy figures come from fairsynth_quality(original, synthetic, holdout); without it the report still renders, saying so. '
'balance and outcome (the arguments given to fairsynth_balance) mark the columns asked to change: they are shown as changed as asked, with target against achieved shares, '
'and accuracy and the weakest pairs cover the other columns. With a holdout and a label, the utility (trtr_auc, tstr_auc of fairsynth_quality). '
'The page is meant to be shared: key columns are left out, numeric ranges have open outer bounds (no real minimum or maximum) and 3-significant-digit labels, '
'and no value seen in fewer than fairsynth.rare_threshold rows is shown.';
