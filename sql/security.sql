-- fairsynth reads as the calling role: privileges and row-level security apply,
-- and a cached model never serves a role that could not read the same rows
\set SHOW_CONTEXT never
CREATE ROLE regress_fairsynth_reader;
CREATE TABLE security_t (g text, h text, v int);
INSERT INTO security_t SELECT CASE WHEN i % 3 = 0 THEN 'open' ELSE 'secret' END,
                              'h' || (i % 2), i % 10
FROM generate_series(1, 300) i;

-- no SELECT privilege: an error naming the relation and the role, before any read
SET ROLE regress_fairsynth_reader;
SELECT count(*) FROM fairsynth_balance(NULL::security_t, ARRAY['h'], seed => 1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- row-level security: the role only learns from (and balances) the rows it can see
GRANT SELECT ON security_t TO regress_fairsynth_reader;
ALTER TABLE security_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY security_open ON security_t TO regress_fairsynth_reader USING (g = 'open');
-- the owner fits (and caches) a model on every row first
SELECT g, count(*) FROM fairsynth_balance(NULL::security_t, ARRAY['h'], seed => 1)
GROUP BY g ORDER BY g;
SET ROLE regress_fairsynth_reader;
SELECT g, count(*) FROM fairsynth_balance(NULL::security_t, ARRAY['h'], seed => 1)
GROUP BY g ORDER BY g;
SELECT g, h, count(*) FROM fairsynth_balance(NULL::security_t, ARRAY['g', 'h'], seed => 1)
GROUP BY g, h ORDER BY g, h;
RESET ROLE;

-- the functions are not SECURITY DEFINER
SELECT proname, prosecdef, provolatile, proparallel FROM pg_proc
WHERE proname IN ('fairsynth_balance', 'fairsynth_synthesize') ORDER BY proname, pronargs, prorettype;

-- identifiers are quoted: odd names work and cannot inject SQL
CREATE TABLE "security odd; DROP TABLE security_t; --" ("Group" text, "v""q" int);
INSERT INTO "security odd; DROP TABLE security_t; --" SELECT CASE WHEN i % 5 = 0 THEN 'A' ELSE 'b' END, i % 4
FROM generate_series(1, 50) i;
SELECT "Group", count(*) FROM fairsynth_balance(NULL::"security odd; DROP TABLE security_t; --", ARRAY['Group'], seed => 1)
GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM security_t;

DROP TABLE "security odd; DROP TABLE security_t; --";
DROP TABLE security_t;
DROP ROLE regress_fairsynth_reader;
