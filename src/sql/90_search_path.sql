
-- ---------------------------------------------------------------------------
-- Pinned search_path (issue #13).  Every SQL and plpgsql function of the
-- extension runs with search_path = pg_catalog, <extension schema>, pg_temp,
-- whatever the caller's search_path: a look-alike function, operator or type
-- in a schema the caller searches first (or a better-matching overload in any
-- schema) can never replace a built-in or one of fairsynth's own helpers.
-- pg_temp comes last so that temporary objects are never picked for names
-- (functions and operators are never looked up in pg_temp at all).  The
-- generators in C are not pinned: they resolve the name of the text form's
-- relation with the caller's search_path, as a SELECT would, and their own
-- queries use qualified names only.
--
-- The internal helpers (schema fairsynth_internal, src/sql/01_internal_schema.sql)
-- are not on this path: every call of one is qualified,
-- fairsynth_internal.f(...), so a look-alike can never stand in for it and a
-- helper can never be found by a caller's unqualified name.
--
-- This file comes last in the install script and pins every SQL and plpgsql
-- function the script created, in either schema, so a function added later is
-- pinned too (sql/search_path.sql checks it).
-- ---------------------------------------------------------------------------

DO $pin$
DECLARE
  f regprocedure;
BEGIN
  -- (the script runs with search_path = @extschema@, pg_catalog comes first)
  FOR f IN
    SELECT p.oid
    FROM pg_depend d
    JOIN pg_proc p ON p.oid = d.objid
    JOIN pg_language l ON l.oid = p.prolang
    WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
      AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'fairsynth')
      AND d.deptype = 'e' AND l.lanname IN ('sql', 'plpgsql')
    ORDER BY p.oid
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, @extschema@, pg_temp', f);
  END LOOP;
END
$pin$;
