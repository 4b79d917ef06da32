-- A model on a model: rows per combination of the balanced table.
{{ config(materialized='view') }}

SELECT race, sex, count(*) AS n
FROM {{ ref('compas_balanced') }}
GROUP BY race, sex
