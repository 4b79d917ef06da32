-- Pinned search_path (issue #13): with fairsynth in its own schema and a
-- caller whose search_path puts a schema owned by another (non-superuser)
-- role first, even before pg_catalog, none of the look-alike functions and
-- operators planted there runs inside profile, bias, quality or report.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION fairsynth;
CREATE SCHEMA fs_ext;
CREATE EXTENSION fairsynth SCHEMA fs_ext;
RESET client_min_messages;

-- every SQL and plpgsql function of the extension is pinned
SELECT l.lanname, count(*) AS functions,
       count(*) FILTER (WHERE p.proconfig = ARRAY['search_path=pg_catalog, fs_ext, pg_temp']) AS pinned
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'fairsynth'
GROUP BY l.lanname ORDER BY l.lanname;
-- the helpers are in fairsynth_internal, not in fs_ext
SELECT n.nspname, count(*) AS functions
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'fairsynth'
GROUP BY n.nspname ORDER BY n.nspname;

CREATE ROLE regress_fairsynth_mallory;
CREATE SCHEMA shared AUTHORIZATION regress_fairsynth_mallory;
CREATE TABLE sp_t (g text, label text, v int, grp text);
INSERT INTO sp_t SELECT (ARRAY['a', 'b', 'c'])[1 + i % 3], CASE WHEN i % 4 = 0 THEN 'yes' ELSE 'no' END,
                        i % 37, 'k' || (i % 2)
FROM generate_series(1, 300) i;
CREATE TABLE sp_syn AS SELECT * FROM sp_t WHERE v % 2 = 0;
GRANT SELECT ON sp_t, sp_syn TO PUBLIC;

-- mallory plants look-alikes of fairsynth's helpers and of built-ins (exact
-- or better-matching signatures): each one raises if it ever runs
SET ROLE regress_fairsynth_mallory;
CREATE FUNCTION shared.trap(what text) RETURNS void LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'planted % ran', what; END $$;
CREATE FUNCTION shared.fairsynth_check_column(relation regclass, name text, argname text)
RETURNS void LANGUAGE sql AS $$ SELECT shared.trap('fairsynth_check_column') $$;
CREATE FUNCTION shared.fairsynth_columns(relation regclass, columns text[])
RETURNS TABLE(ord int, column_name text, attnum int2, type_name text, binnable boolean)
LANGUAGE plpgsql AS $$ BEGIN PERFORM shared.trap('fairsynth_columns'); END $$;
CREATE FUNCTION shared.fairsynth_html(s text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('fairsynth_html'); RETURN '<script>'; END $$;
CREATE FUNCTION shared.fairsynth_bar(share float8) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('fairsynth_bar'); RETURN ''; END $$;
CREATE FUNCTION shared.format(text, regclass) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('format(text, regclass)'); RETURN ''; END $$;
CREATE FUNCTION shared.format(text, text, regclass) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('format(text, text, regclass)'); RETURN ''; END $$;
CREATE FUNCTION shared.quote_literal(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('quote_literal'); RETURN ''; END $$;
CREATE FUNCTION shared.coalesce_trap(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('operator = (text, text)'); RETURN true; END $$;
CREATE OPERATOR shared.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shared.coalesce_trap);
CREATE FUNCTION shared.ln(float8) RETURNS float8 LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('ln'); RETURN 0; END $$;
CREATE FUNCTION shared.count_trap(bigint, float8) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN PERFORM shared.trap('operator / (bigint, float8)'); RETURN 0; END $$;
CREATE OPERATOR shared./ (LEFTARG = bigint, RIGHTARG = float8, FUNCTION = shared.count_trap);
RESET ROLE;

SET search_path = shared, pg_catalog, fs_ext, public;
-- the traps are live: unqualified calls in this search_path reach them
SELECT 'a'::text = 'a'::text;
SELECT format('%s', 'sp_t'::regclass);
SELECT fairsynth_html('<b>');

-- none of them runs inside fairsynth
SELECT column_name, count(*), sum(count) FROM fs_ext.fairsynth_profile('sp_t') GROUP BY 1 ORDER BY 1;
SELECT facet_value, n, round(dpl::numeric, 4) AS dpl, round(cddl::numeric, 4) AS cddl
FROM fs_ext.fairsynth_bias('sp_t', 'g', 'label', group_by => 'grp');
SELECT facet_value, n FROM fs_ext.fairsynth_bias('sp_t', 'g', 'label', favorable => 'yes');
SELECT count(*) > 0 AS has_metrics FROM fs_ext.fairsynth_quality('sp_t', 'sp_syn');
SELECT length(html) > 1000 AS rendered, strpos(html, '<script>') AS script_at
FROM fs_ext.fairsynth_report('sp_t', 'sp_syn', NULL, 'g', 'label') html;
-- the generators in C resolve the text form's name with the caller's path
SELECT count(*) FROM fs_ext.fairsynth_balance('sp_t', ARRAY['g'], seed => 1)
  AS t(g text, label text, v int, grp text);
-- errors still name the relation
SELECT * FROM fs_ext.fairsynth_bias('sp_t', 'nope', 'label');
RESET search_path;

DROP TABLE sp_t, sp_syn;
SET client_min_messages = warning;
DROP SCHEMA shared CASCADE;
RESET client_min_messages;
DROP ROLE regress_fairsynth_mallory;
SET client_min_messages = warning;
DROP EXTENSION fairsynth;
DROP SCHEMA fs_ext;
CREATE EXTENSION fairsynth;
RESET client_min_messages;
