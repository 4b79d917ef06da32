-- Versions (issue #11): CREATE EXTENSION fairsynth VERSION '0.1.0' loads the
-- 0.1.0 script against today's library, ALTER EXTENSION fairsynth UPDATE
-- brings it to 0.2.0, and the catalog is then that of a fresh 0.2.0 install:
-- every member object, function definition (with its pinned search_path),
-- privilege and comment.
\set SHOW_CONTEXT never
SET client_min_messages = warning;

-- the objects of the installed version, as text
CREATE FUNCTION pg_temp.fs_catalog() RETURNS TABLE(kind text, object text, detail text)
LANGUAGE sql AS $$
  WITH m AS (
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fairsynth'))
  SELECT 'member', pg_describe_object(m.classid, m.objid, 0), NULL FROM m
  UNION ALL
  SELECT 'function', p.oid::regprocedure::text,
         CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END
           || E'\nacl: ' || coalesce(p.proacl::text, 'default')
           || E'\ncomment: ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
  FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  UNION ALL
  SELECT 'relation', c.oid::regclass::text,
         c.relkind::text || ' ' || coalesce(pg_get_viewdef(c.oid), '') || E'\nacl: ' || coalesce(c.relacl::text, 'default')
           || E'\ncomment: ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
  FROM m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  UNION ALL
  SELECT 'schema', n.nspname, coalesce(n.nspacl::text, 'default') || E'\ncomment: '
           || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
  FROM m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
$$;

SELECT extversion FROM pg_extension WHERE extname = 'fairsynth';
SELECT name, version, installed FROM pg_available_extension_versions
WHERE name = 'fairsynth' ORDER BY version;
SELECT * FROM pg_extension_update_paths('fairsynth') WHERE path IS NOT NULL ORDER BY source, target;
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.fs_catalog();
SELECT kind, count(*) FROM fresh GROUP BY kind ORDER BY kind;

-- a table and a view on a function 0.2.0 keeps (its arguments are unchanged)
CREATE TABLE up_t (g text, label text, v int);
INSERT INTO up_t SELECT (ARRAY['a', 'b', 'c'])[1 + i % 3], CASE WHEN i % 4 = 0 THEN 'yes' ELSE 'no' END, i % 9
FROM generate_series(1, 300) i;

DROP EXTENSION fairsynth;
CREATE EXTENSION fairsynth VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'fairsynth';
-- 0.1.0 runs against today's library
SELECT g, count(*) FROM fairsynth_balance(NULL::up_t, ARRAY['g'], seed => 1) GROUP BY g ORDER BY g;
SELECT count(*) FROM fairsynth_synthesize(NULL::up_t, num_rows => 50, seed => 1);
SELECT count(*) > 0 AS has FROM fairsynth_quality('up_t', 'up_t');
SELECT count(*) FROM fairsynth_profile('up_t', ARRAY['g']);
SELECT proname FROM pg_proc WHERE proname = 'fairsynth_bar';
CREATE VIEW up_bias AS SELECT facet_value, n FROM fairsynth_bias('up_t', 'g', 'label');

-- a view on a function whose arguments grow stops the update, named, changing nothing
CREATE VIEW up_balanced AS SELECT * FROM fairsynth_balance(NULL::up_t, ARRAY['g'], seed => 1);
\set VERBOSITY default
ALTER EXTENSION fairsynth UPDATE;
\set VERBOSITY terse
SELECT extversion FROM pg_extension WHERE extname = 'fairsynth';
DROP VIEW up_balanced;

ALTER EXTENSION fairsynth UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'fairsynth';

-- the catalog of the updated extension is that of a fresh install
SELECT 'only in fresh' AS side, kind, object FROM (SELECT * FROM fresh EXCEPT SELECT * FROM pg_temp.fs_catalog()) a
UNION ALL
SELECT 'only in updated', kind, object FROM (SELECT * FROM pg_temp.fs_catalog() EXCEPT SELECT * FROM fresh) b
ORDER BY 1, 2, 3;
-- (the comparison sees a difference: a changed comment and privilege)
BEGIN;
COMMENT ON FUNCTION fairsynth_profile(regclass, text[]) IS 'changed';
REVOKE EXECUTE ON FUNCTION fairsynth_internal.fairsynth_bar(float8) FROM PUBLIC;
SELECT kind, object FROM (SELECT * FROM pg_temp.fs_catalog() EXCEPT SELECT * FROM fresh) b ORDER BY 1, 2;
ROLLBACK;

-- and it works: the view kept across the update, the new arguments, the helpers
SELECT * FROM up_bias ORDER BY facet_value;
SELECT g, count(*) FROM fairsynth_balance(NULL::up_t, ARRAY['g'], seed => 1, outcome => 'label') GROUP BY g ORDER BY g;
SELECT count(*) > 0 AS has FROM fairsynth_quality('up_t', 'up_t', 'up_t', label => 'label') WHERE metric = 'trtr_auc';
SELECT length(fairsynth_report('up_t', 'up_t', facet => 'g', label => 'label', balance => ARRAY['g'])) > 1000 AS report;
SELECT count(*) FROM fairsynth_progress;
SELECT fairsynth_internal.fairsynth_bar(0.5);

DROP VIEW up_bias;
DROP TABLE up_t;
RESET client_min_messages;
