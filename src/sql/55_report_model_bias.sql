
-- ---------------------------------------------------------------------------
-- Report panel (issue #15): post-training bias of a model's predictions by group,
-- original and synthetic, for fairsynth_report(..., predicted => ...).
-- Pinned search_path as in 35_model_bias.sql.
-- ---------------------------------------------------------------------------

-- Internal: inline SVG dumbbell charts of difference metrics per facet value,
-- one panel per metric, before (original) and after (synthetic), on one axis.
CREATE FUNCTION fairsynth_internal.fairsynth_svg_model_bias(facet_values text[], titles text[], subtitles text[],
                                         v_original float8[], v_synthetic float8[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
  k int := coalesce(cardinality(facet_values), 0);
  np int := coalesce(cardinality(titles), 0);
  lx int := 150;
  pw int := 200;
  gap int := 30;
  ty int := 50;
  rowh int := 26;
  m float8;
  out text;
  i int;
  j int;
  y int;
  x0 int;
  xc float8;
  xa float8;
  xb float8;
  va float8;
  vb float8;
  t float8;
  w int;
  h int;
BEGIN
  -- v_original[(i - 1) * np + j] is metric j of facet value i; one axis for all panels
  SELECT greatest(0.1, ceil(max(abs(x)) * 1.15 / 0.1) * 0.1) INTO m
  FROM unnest(v_original || v_synthetic) x WHERE x IS NOT NULL;
  m := coalesce(m, 0.1);
  w := lx + np * pw + (np - 1) * gap + 20;
  h := ty + k * rowh + 36;
  out := format('<svg class="model-bias" xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" '
                'role="img" aria-label="model bias before and after">', w, h, w, h);
  FOR j IN 1 .. np LOOP
    x0 := lx + (j - 1) * (pw + gap);
    xc := x0 + pw / 2.0;
    out := out || format('<text x="%s" y="16" font-size="13" font-weight="600" fill="#323f4b">%s</text>', x0, fairsynth_internal.fairsynth_html(titles[j]))
               || format('<text x="%s" y="32" font-size="11" fill="#7b8794">%s</text>', x0, fairsynth_internal.fairsynth_html(coalesce(subtitles[j], '')))
               || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#e3f9ee"/>',
                         round((xc - pw / 2.0 * 0.05 / m)::numeric, 1), ty, round((pw * 0.05 / m)::numeric, 1), k * rowh)
               || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1"/>', xc, xc, ty - 4, ty + k * rowh + 4);
    FOR i IN -1 .. 1 LOOP
      t := i * m;
      out := out || format('<text x="%s" y="%s" font-size="10" text-anchor="%s" fill="#7b8794">%s</text>',
                           round((xc + i * pw / 2.0)::numeric, 1), ty + k * rowh + 18,
                           CASE i WHEN -1 THEN 'start' WHEN 1 THEN 'end' ELSE 'middle' END, to_char(t, 'FM90.00'));
    END LOOP;
  END LOOP;
  FOR i IN 1 .. k LOOP
    y := ty + (i - 1) * rowh + rowh / 2;
    out := out || format('<text x="%s" y="%s" text-anchor="end" font-size="12" fill="#323f4b"><title>%s</title>%s</text>',
                         lx - 10, y + 4, fairsynth_internal.fairsynth_html(facet_values[i]), fairsynth_internal.fairsynth_html_short(facet_values[i], 22))
               || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#e4e7eb"/>', lx, lx + np * pw + (np - 1) * gap, y, y);
    FOR j IN 1 .. np LOOP
      xc := lx + (j - 1) * (pw + gap) + pw / 2.0;
      va := v_original[(i - 1) * np + j];
      vb := v_synthetic[(i - 1) * np + j];
      xa := xc + greatest(-1, least(1, va / m)) * pw / 2.0;
      xb := xc + greatest(-1, least(1, vb / m)) * pw / 2.0;
      IF xa IS NOT NULL AND xb IS NOT NULL THEN
        out := out || format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#9aa5b1" stroke-width="2"/>',
                             round(xa::numeric, 1), round(xb::numeric, 1), y, y);
      END IF;
      IF xa IS NOT NULL THEN
        out := out || format('<circle cx="%s" cy="%s" r="5" fill="#e8833a"><title>original %s %s</title></circle>',
                             round(xa::numeric, 1), y, fairsynth_internal.fairsynth_html(titles[j]), round(va::numeric, 4));
      END IF;
      IF xb IS NOT NULL THEN
        out := out || format('<circle cx="%s" cy="%s" r="5" fill="#3d6fd6"><title>synthetic %s %s</title></circle>',
                             round(xb::numeric, 1), y, fairsynth_internal.fairsynth_html(titles[j]), round(vb::numeric, 4));
      END IF;
    END LOOP;
  END LOOP;
  RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_svg_model_bias(text[], text[], text[], float8[], float8[]) IS
'Internal: SVG (class "model-bias") with one dumbbell panel per difference metric (titles), one row per facet value, '
'original in orange and synthetic in blue, all panels on one axis centred on 0 with the fair zone |x| <= 0.05 in green; '
'values are given facet value by facet value (v[(i - 1) * #titles + j]); values beyond the axis are drawn at its end, NULL ones not at all.';

-- Internal: the report's section on the bias of a model's predictions (column
-- predicted, scored into both relations) across facet, original and synthetic.
CREATE FUNCTION fairsynth_internal.fairsynth_report_model_bias(original regclass, synthetic regclass, facet text, label text,
                                            predicted text, fav text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
  mb_o jsonb;
  mb_s jsonb;
  note text := '';
  svg text;
  rows_ text;
  fmt constant text := '<td><span class="a">%s</span> → <span class="b">%s</span></td>';
BEGIN
  SELECT jsonb_agg(to_jsonb(x)) INTO mb_o FROM @extschema@.fairsynth_model_bias(original, facet, label, predicted, fav) x;
  BEGIN
    SELECT jsonb_agg(to_jsonb(x)) INTO mb_s FROM @extschema@.fairsynth_model_bias(synthetic, facet, label, predicted, fav) x;
  EXCEPTION WHEN invalid_parameter_value THEN
    mb_s := NULL;
    note := format('The synthetic relation''s predictions cannot be measured: %s', SQLERRM);
  END;

  WITH g AS (            -- the twelve largest groups of the original, original and synthetic figures
    SELECT o, s, row_number() OVER (ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C") AS i
    FROM (SELECT o FROM jsonb_array_elements(coalesce(mb_o, '[]')) o
          ORDER BY (o->>'n')::bigint DESC, o->>'facet_value' COLLATE "C" LIMIT 12) oo
    LEFT JOIN LATERAL (SELECT s FROM jsonb_array_elements(coalesce(mb_s, '[]')) s
                       WHERE s->>'facet_value' = oo.o->>'facet_value') ss ON true),
  v AS (                 -- the charted metrics, facet value by facet value
    SELECT g.i, mt.j, (g.o->>mt.k)::float8 AS vo, (g.s->>mt.k)::float8 AS vs
    FROM g CROSS JOIN (VALUES (1, 'dppl'), (2, 'rd'), (3, 'sd'), (4, 'ad')) mt(j, k))
  SELECT fairsynth_internal.fairsynth_svg_model_bias(
           (SELECT array_agg(g.o->>'facet_value' ORDER BY g.i) FROM g),
           ARRAY['DPPL', 'Recall (RD)', 'Specificity (SD)', 'Accuracy (AD)'],
           ARRAY['predicted q(rest) − q(group)', 'TPR(rest) − TPR(group)', 'TNR(group) − TNR(rest)', 'ACC(rest) − ACC(group)'],
           (SELECT array_agg(v.vo ORDER BY v.i, v.j) FROM v), (SELECT array_agg(v.vs ORDER BY v.i, v.j) FROM v)),
         (SELECT string_agg('<tr><td>' || fairsynth_internal.fairsynth_html(g.o->>'facet_value') || '</td>'
                            || format(fmt, g.o->>'n', coalesce(g.s->>'n', '–'))
                            || (SELECT string_agg(format(fmt,
                                        coalesce(to_char((g.o->>mt.k)::float8, mt.f), '–'),
                                        coalesce(to_char((g.s->>mt.k)::float8, mt.f), '–')), '' ORDER BY mt.j)
                                FROM (VALUES (1, 'dppl', 'FM90.000'), (2, 'dip', 'FM990.000'), (3, 'rd', 'FM90.000'),
                                             (4, 'sd', 'FM90.000'), (5, 'ad', 'FM90.000'), (6, 'dar', 'FM90.000'),
                                             (7, 'drr', 'FM90.000'), (8, 'dca', 'FM9990.000'), (9, 'dcr', 'FM9990.000'),
                                             (10, 'te', 'FM9990.000')) mt(j, k, f))
                            || '</tr>', '' ORDER BY g.i) FROM g)
    INTO svg, rows_;

  RETURN '<section id="model-bias">'
      || format('<h2>Bias of the predictions <code>%s</code> across <code>%s</code></h2>',
                fairsynth_internal.fairsynth_html(predicted), fairsynth_internal.fairsynth_html(facet))
      || format('<p class="lead">A model''s predicted %s (column %s) against the observed one, each %s value (group) against all other rows; '
                'favorable value <code>%s</code>; 0 = parity. Dots: original (orange) and synthetic (blue); the closer to the green band, the fairer.</p>',
                fairsynth_internal.fairsynth_html(label), fairsynth_internal.fairsynth_html(predicted), fairsynth_internal.fairsynth_html(facet),
                coalesce(fairsynth_internal.fairsynth_html(fav), '(none: no labelled rows)'))
      || CASE WHEN note <> '' THEN '<p class="note">' || fairsynth_internal.fairsynth_html(note) || '</p>' ELSE '' END
      || '<div class="wide">' || coalesce(svg, '<p class="note">No facet value to compare.</p>')
      || '<div class="legend"><span><i class="sw o"></i>original</span><span><i class="sw s"></i>synthetic</span><span><i class="sw g"></i>fair zone</span></div>'
      || '<table class="m"><thead><tr><th>' || fairsynth_internal.fairsynth_html(facet)
      || '</th><th>rows</th><th>DPPL</th><th>DIP</th><th>RD</th><th>SD</th><th>AD</th><th>DAR</th><th>DRR</th><th>DCA</th><th>DCR</th><th>TE</th></tr></thead><tbody>'
      || coalesce(rows_, '') || '</tbody></table>'
      || '<p class="note">DPPL q̂_rest − q̂_group (q̂ share predicted favorable); DIP q̂_group / q̂_rest; RD recall, SD specificity, AD accuracy, '
      || 'DAR precision and DRR negative predictive value differences; DCA, DCR conditional acceptance and rejection; TE treatment equality (FN/FP). '
      || 'Twelve largest groups shown; every figure comes from fairsynth_model_bias().</p></div></section>';
END
$$;

COMMENT ON FUNCTION fairsynth_internal.fairsynth_report_model_bias(regclass, regclass, text, text, text, text) IS
'Internal: the HTML section of fairsynth_report() on the post-training bias of the predictions in column predicted across facet '
'(fairsynth_model_bias of the original and of the synthetic relation, favorable value fav): dumbbell charts of DPPL, RD, SD and AD with the fair zone, '
'and a table of every figure, for the twelve largest groups of the original. Every text written into the page is HTML-escaped.';
