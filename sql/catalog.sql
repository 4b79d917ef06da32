-- A tidy catalog (issue #11): the extension's schema holds the documented
-- functions only; the helpers live in fairsynth_internal, a schema of the
-- extension's own, reachable (USAGE, EXECUTE) but on nobody's search_path.
\set SHOW_CONTEXT never

-- only the documented functions (and the view fairsynth_progress)
\df fairsynth*
\dv fairsynth*

-- the internal schema belongs to the extension, is owned by the installing
-- role, grants USAGE to PUBLIC and is not on the default search_path
SELECT n.nspname, pg_describe_object(d.classid, d.objid, d.objsubid) AS member,
       n.nspacl::text LIKE '%=U/%' AS public_usage,
       n.nspname = ANY (current_schemas(true)) AS on_search_path
FROM pg_namespace n
JOIN pg_depend d ON d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fairsynth');

-- every function of the extension is in one of its two schemas; helpers are
-- executable by PUBLIC except the planner support function
SELECT n.nspname, count(*) AS functions,
       count(*) FILTER (WHERE has_function_privilege('public', p.oid, 'EXECUTE')) AS public_execute,
       string_agg(p.proname, ', ' ORDER BY p.proname)
         FILTER (WHERE NOT has_function_privilege('public', p.oid, 'EXECUTE')) AS not_public
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fairsynth')
GROUP BY n.nspname ORDER BY n.nspname;

-- an unqualified helper name is unknown to callers
SELECT fairsynth_bar(0.5);

-- a role without any grant uses the public functions (they reach the helpers)
CREATE TABLE cat_t (g text, label text, v int);
INSERT INTO cat_t SELECT (ARRAY['a', 'b'])[1 + i % 2], CASE WHEN i % 3 = 0 THEN 'yes' ELSE 'no' END, i % 7
FROM generate_series(1, 60) i;
CREATE ROLE regress_fairsynth_plain;
GRANT SELECT ON cat_t TO regress_fairsynth_plain;
SET ROLE regress_fairsynth_plain;
SELECT column_name, value, count, bar FROM fairsynth_profile('cat_t', ARRAY['g']);
SELECT facet_value, n FROM fairsynth_bias('cat_t', 'g', 'label');
SELECT length(fairsynth_report('cat_t', 'cat_t', facet => 'g', label => 'label')) > 1000 AS report;
RESET ROLE;

-- found by the fuzz suite: NULL arguments of the binning helper name the
-- argument (22004), not a syntax error of its query
\set VERBOSITY default
SELECT * FROM fairsynth_internal.fairsynth_bins('cat_t', NULL, 'g');
SELECT * FROM fairsynth_internal.fairsynth_bins(NULL, 'cat_t', 'g');
SELECT * FROM fairsynth_internal.fairsynth_bins('cat_t', 'cat_t', NULL);
SELECT * FROM fairsynth_internal.fairsynth_bins('cat_t', 'cat_t', 'g', 0);
SELECT * FROM fairsynth_internal.fairsynth_bin_expr('cat_t', NULL);
SELECT * FROM fairsynth_internal.fairsynth_bins('cat_t', 'cat_t', 'g');
-- a quoted relation name is quoted once in messages
CREATE TABLE "Cat T" ("Col" int);
SELECT * FROM fairsynth_bias('"Cat T"', 'nope', 'Col');
SELECT * FROM fairsynth_profile('"Cat T"', ARRAY['nope']);
-- bars of absurd shares
SELECT s, fairsynth_internal.fairsynth_bar(s) AS bar
FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', 1e308, -1e308, 2]::float8[]) s;

DROP TABLE cat_t, "Cat T";
DROP ROLE regress_fairsynth_plain;
