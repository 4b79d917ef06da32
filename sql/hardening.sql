-- Hardening (issue #13): each defect the audit found, from its reproducer.
\set SHOW_CONTEXT never

-- (4) fairsynth_bias is linear in the facet values: 600 facet x 599 label
-- values took 118 s with a correlated subquery per facet value
CREATE TABLE h_wide AS
  SELECT 'f' || (i % 600) AS f, 'l' || (i % 599) AS l FROM generate_series(1, 1200) i;
SET statement_timeout = '60s';
SELECT count(*), sum(n), round(avg(dpl)::numeric, 6) AS dpl, round(avg(kl)::numeric, 6) AS kl
FROM fairsynth_bias('h_wide', 'f', 'l');
RESET statement_timeout;
DROP TABLE h_wide;
