-- A balanced training table: fairsynth_balance is a set-returning function, so
-- the model is an ordinary SELECT.  The typed NULL gives the row type (the
-- source's columns and types); fairsynth reads the relation that type belongs
-- to, so pass the source relation itself.
{{ config(materialized='table') }}

SELECT *
FROM fairsynth_balance(NULL::{{ source('raw', 'compas') }}, ARRAY['race', 'sex'], seed => 42)
