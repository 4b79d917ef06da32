-- fairsynth upgrade script 0.1.0 -> 0.2.0 (generated: this prelude, then every
-- src/sql/*.sql fragment but the header with CREATE turned into CREATE OR
-- REPLACE, then src/upgrade/0.1.0--0.2.0.post.sql; see the Makefile).
\echo Use "ALTER EXTENSION fairsynth UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Functions of 0.1.0 that 0.2.0 does not have under the same name and
-- arguments go first: the internal helpers (0.2.0 keeps them in the schema
-- fairsynth_internal) and the public functions whose arguments grew
-- (fairsynth_balance, fairsynth_synthesize: free_text; fairsynth_quality:
-- label, favorable; fairsynth_report: balance, outcome, predicted).  The
-- functions whose arguments are unchanged are replaced in place below (same
-- oid), so views and other objects built on them stay.  A view built on one
-- whose arguments grew cannot stay (its call is bound to the old function):
-- the update stops and names it, and nothing has changed.
-- ---------------------------------------------------------------------------
DO $pre$
DECLARE
  keep constant text[] := ARRAY[
    'fairsynth_profile(regclass, text[])',
    'fairsynth_bias(regclass, text, text, text, text)',
    'fairsynth_impute(anyelement, text[], bigint)',
    'fairsynth_models()',
    'fairsynth_models_reset()',
    'fairsynth_support(internal)'];   -- dropped at the end, once nothing uses it
  f record;
  users text;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS fn, format('%s(%s)', p.proname, oidvectortypes(p.proargtypes)) AS ident
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_proc p ON p.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
      AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'fairsynth')
      AND d.deptype = 'e'
    ORDER BY p.oid
  LOOP
    CONTINUE WHEN f.ident = ANY (keep);
    SELECT string_agg(DISTINCT CASE WHEN r.oid IS NOT NULL   -- a view's rule: the view
                                    THEN pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, 0)
                                    ELSE pg_catalog.pg_describe_object(u.classid, u.objid, u.objsubid) END, ', ')
      INTO users
    FROM pg_catalog.pg_depend u
    LEFT JOIN pg_catalog.pg_rewrite r ON u.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = u.objid
    WHERE u.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND u.refobjid = f.fn::pg_catalog.oid
      AND u.deptype = 'n'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend m WHERE m.classid = u.classid AND m.objid = u.objid
                      AND m.deptype = 'e');
    IF users IS NOT NULL THEN
      RAISE EXCEPTION 'fairsynth 0.2.0 replaces %, and % depends on it', f.fn, users
        USING ERRCODE = '2BP01',
              HINT = 'Drop it, run ALTER EXTENSION fairsynth UPDATE again and create it again: '
                     'the same call works in 0.2.0 (the new arguments have defaults).';
    END IF;
    EXECUTE format('DROP FUNCTION %s', f.fn);
  END LOOP;
END
$pre$;
