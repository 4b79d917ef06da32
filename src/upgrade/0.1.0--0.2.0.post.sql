
-- ---------------------------------------------------------------------------
-- 0.1.0's planner support function: every generator uses
-- fairsynth_internal.fairsynth_support now.
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.fairsynth_support(internal);
