-- fairsynth benchmark: generator of large compas-like tables with planted bias.
--
-- Pure SQL/PL/pgSQL (no extension, no Python), deterministic for a given seed:
--
--   \i test/bench/gen_compas_like.sql
--   SELECT fairsynth_bench_make_table('compas_big', 1000000, 0.42);
--
-- creates (or replaces) a table with the same 18 columns and types as compas
-- (see test/bench/README.md for the distribution of each column) and returns its
-- row count.  1,000,000 rows take a few seconds.  The result is the same for the
-- same (n, seed): every random() call happens in one sequential query after
-- setseed(seed) (random() is parallel restricted, so no worker ever draws).

CREATE OR REPLACE FUNCTION fairsynth_bench_make_table(name text, n bigint, seed float8 DEFAULT 0.42)
RETURNS bigint
LANGUAGE plpgsql
AS $fn$
DECLARE
    rows bigint;
BEGIN
    IF seed < -1 OR seed > 1 THEN
        RAISE EXCEPTION 'seed must be in [-1, 1] (setseed), got %', seed;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS %I', name);
    PERFORM setseed(seed);
    -- Layers are separated by OFFSET 0 so that each random() is drawn exactly once
    -- per row and then reused (a pulled-up subquery could duplicate volatile calls).
    EXECUTE format($q$
    CREATE TABLE %I AS
    WITH charges(k, descr, degree) AS (
        -- the 25 most frequent charges of compas, in order, with their usual degree;
        -- ranks past these are a long tail of synthetic offense codes
        SELECT o - 1, d, g FROM unnest(
            ARRAY['Battery', 'arrest case no charge', 'Possession of Cocaine',
                  'Grand Theft in the 3rd Degree', 'Driving While License Revoked',
                  'Driving Under The Influence', 'Felony Battery (Dom Strang)',
                  'Grand Theft (Motor Vehicle)', 'Pos Cannabis W/Intent Sel/Del',
                  'Possess Cannabis/20 Grams Or Less', 'Felony Driving While Lic Suspd',
                  'Burglary Unoccupied Dwelling', 'Burglary Conveyance Unoccup',
                  'Possession of Cannabis', 'DUI Property Damage/Injury',
                  'Poss3,4 Methylenedioxymethcath', 'Driving License Suspended',
                  'Felony Petit Theft', 'Aggrav Battery w/Deadly Weapon',
                  'Aggravated Assault W/Dead Weap', 'Resist Officer w/Violence',
                  'Susp Drivers Lic 1st Offense', 'DUI Level 0.15 Or Minor In Veh',
                  'Uttering a Forged Instrument', 'Battery on Law Enforc Officer'],
            ARRAY['M','F','F','F','F','M','F','F','F','M','F','F','F','F','M',
                  'F','M','F','F','F','F','M','M','F','F'])
            WITH ORDINALITY AS u(d, g, o)
    ),
    l1 AS NOT MATERIALIZED (   -- uniform draws, one per use (inlined: no 1M-row tuplestore)
        SELECT random() AS r_race, random() AS r_sex, random() AS a1, random() AS a2,
               random() AS r_j1, random() AS r_j2, random() AS r_j3,
               random() AS r_p0, random() AS r_p, random() AS r_days, random() AS r_days2,
               random() AS r_ch, random() AS r_nd, random() AS r_z, random() AS r_dec,
               random() AS r_vdec, random() AS r_rec, random() AS r_isr, random() AS r_vio
        FROM generate_series(1, %s::bigint)
        OFFSET 0
    ),
    l2 AS (   -- demographics: planted race and sex imbalance
        SELECT l1.*,
               CASE WHEN r_race < 0.5123  THEN 'African-American'
                    WHEN r_race < 0.8525  THEN 'Caucasian'
                    WHEN r_race < 0.9408  THEN 'Hispanic'
                    WHEN r_race < 0.9931  THEN 'Other'
                    WHEN r_race < 0.99754 THEN 'Asian'
                    ELSE 'Native American' END AS race,
               CASE WHEN r_sex < 0.8066 THEN 'Male' ELSE 'Female' END AS sex,
               least(96, 18 + floor(-8.6 * (ln(1 - a1) + ln(1 - a2))))::int AS age
        FROM l1
        OFFSET 0
    ),
    l3 AS (   -- race/sex effects (the planted bias) and criminal history
        SELECT l2.*,
               -- float8, not numeric: numeric arithmetic would make this several times slower
               CASE race WHEN 'African-American' THEN 0.45 WHEN 'Caucasian' THEN 0.0
                         WHEN 'Hispanic' THEN -0.1 WHEN 'Other' THEN -0.2
                         WHEN 'Asian' THEN -0.4 ELSE 0.6 END::float8 AS rb,
               CASE WHEN age < 25 THEN 2.0 WHEN age > 45 THEN 0.4 ELSE 0.9 END::float8 AS jf
        FROM l2
        OFFSET 0
    ),
    l4 AS (
        SELECT l3.*,
               CASE WHEN r_j1 < 0.032 * jf * (1 + rb) THEN 1 + floor(-0.9 * ln(r_j1 / (0.032 * jf * (1 + rb)) + 1e-9)) ELSE 0 END::int AS juv_fel_count,
               CASE WHEN r_j2 < 0.046 * jf * (1 + rb) THEN 1 + floor(-0.9 * ln(r_j2 / (0.046 * jf * (1 + rb)) + 1e-9)) ELSE 0 END::int AS juv_misd_count,
               CASE WHEN r_j3 < 0.058 * jf * (1 + rb) THEN 1 + floor(-1.0 * ln(r_j3 / (0.058 * jf * (1 + rb)) + 1e-9)) ELSE 0 END::int AS juv_other_count,
               CASE WHEN r_p0 < greatest(0.05, 0.34 - 0.22 * rb + CASE WHEN age < 25 THEN 0.15 ELSE 0 END) THEN 0
                    ELSE least(38, 1 + floor(-ln(1 - r_p) * (3.9 + 4.0 * rb)
                                             * CASE WHEN age < 25 THEN 0.45 WHEN age > 45 THEN 1.1 ELSE 1.0 END))
               END::int AS priors_count,
               CASE WHEN r_days < 0.0426 THEN NULL
                    WHEN r_days < 0.57 THEN -1
                    WHEN r_days < 0.753 THEN 0
                    WHEN r_days2 < 0.75 THEN greatest(-414, -(1 + floor(-15 * ln(1 - (r_days - 0.753) / 0.247))))
                    ELSE least(1057, 1 + floor(-60 * ln(1 - (r_days - 0.753) / 0.247)))
               END::int AS days_b_screening_arrest,
               -- log-uniform rank: P(k) ~ 1/(k+1), 420 distinct charges
               (floor(exp(r_ch * ln(421.0))) - 1)::int AS k,
               ln((0.000001 + 0.999998 * r_z) / (1 - (0.000001 + 0.999998 * r_z))) AS eps_z,
               ln((0.000001 + 0.999998 * r_dec) / (1 - (0.000001 + 0.999998 * r_dec))) AS eps_dec,
               ln((0.000001 + 0.999998 * r_vdec) / (1 - (0.000001 + 0.999998 * r_vdec))) AS eps_vdec
        FROM l3
        OFFSET 0
    ),
    l5 AS (   -- latent risk: history, age, and the planted race and sex effect
        SELECT l4.*,
               -0.95::float8 + 0.14::float8 * least(priors_count, 20)
                     + 0.5 * (juv_fel_count + juv_misd_count + juv_other_count > 0)::int
                     - 0.035 * (age - 35) + 0.55 * rb
                     + CASE WHEN sex = 'Male' THEN 0.25 ELSE -0.25 END
                     + 0.35 * eps_z AS z
        FROM l4
        OFFSET 0
    ),
    l6 AS (
        SELECT l5.*,
               least(10, 1 + floor(10 / (1 + exp(-(z - 0.45 + 0.5 * rb + 0.5 * eps_dec)))))::int AS decile_score,
               least(10, 1 + floor(10 / (1 + exp(-(z - 1.0 + 0.45 * (age < 25)::int + 0.45 * eps_dec + 0.3 * eps_vdec)))))::int AS v_decile_score,
               (r_rec < 1 / (1 + exp(-z)))::int AS two_year_recid
        FROM l5
        OFFSET 0
    ),
    l7 AS (
        SELECT l6.*,
               CASE WHEN two_year_recid = 1 OR r_isr < 0.056 THEN 1 ELSE 0 END AS is_recid
        FROM l6
        OFFSET 0
    )
    SELECT sex, age,
           CASE WHEN age < 25 THEN 'Less than 25' WHEN age <= 45 THEN '25 - 45'
                ELSE 'Greater than 45' END AS age_cat,
           race, juv_fel_count, juv_misd_count, juv_other_count, priors_count,
           days_b_screening_arrest,
           coalesce(c.degree, CASE WHEN (l7.k * 37) %% 100 < 35 THEN 'M' ELSE 'F' END) AS c_charge_degree,
           CASE WHEN r_nd < 0.004 THEN NULL
                ELSE coalesce(c.descr, 'Offense code ' || lpad(l7.k::text, 3, '0')) END AS c_charge_desc,
           decile_score,
           CASE WHEN decile_score <= 4 THEN 'Low' WHEN decile_score <= 7 THEN 'Medium'
                ELSE 'High' END AS score_text,
           v_decile_score,
           CASE WHEN v_decile_score <= 4 THEN 'Low' WHEN v_decile_score <= 7 THEN 'Medium'
                ELSE 'High' END AS v_score_text,
           is_recid,
           (is_recid = 1 AND r_vio < 0.236 + 0.08 * (age < 25)::int)::int AS is_violent_recid,
           two_year_recid
    FROM l7 LEFT JOIN charges c ON c.k = l7.k
    $q$, name, n);
    EXECUTE format('SELECT count(*) FROM %I', name) INTO rows;
    EXECUTE format('ANALYZE %I', name);
    RETURN rows;
END
$fn$;
