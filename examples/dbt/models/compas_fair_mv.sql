-- Demographic parity kept as a materialized view (dbt >= 1.6 on PostgreSQL:
-- materialized='materialized_view'); the same seed and data give the same rows
-- on every refresh.
{{ config(materialized='materialized_view') }}

SELECT *
FROM fairsynth_balance(NULL::{{ source('raw', 'compas') }}, ARRAY['race'],
                       outcome => 'two_year_recid', seed => 1)
