
-- ---------------------------------------------------------------------------
-- Fidelity and privacy of a synthetic relation (src/quality.c), as defined in
-- test/reference/quality.py (version 2).
-- ---------------------------------------------------------------------------

-- STABLE: only reads.  PARALLEL RESTRICTED: it may read the caller's temporary
-- tables, so it runs in the leader.  The reservoir samples depend on the scan
-- order, so a scan must never start in the middle by joining a concurrent one.
CREATE FUNCTION fairsynth_quality(
    original regclass,
    synthetic regclass,
    holdout regclass DEFAULT NULL,
    seed bigint DEFAULT 0,
    label text DEFAULT NULL,
    favorable text DEFAULT NULL)
RETURNS TABLE(metric text, column_name text, column_name2 text, value float8)
AS 'MODULE_PATHNAME', 'fairsynth_quality'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 200
SET synchronize_seqscans = off;

COMMENT ON FUNCTION fairsynth_quality(regclass, regclass, regclass, bigint, text, text) IS
'Accuracy of synthetic against original (1 - total variation distance of the binned columns and column pairs, and overall; key columns are left out, with a NOTICE); with a holdout also the accuracy ceiling, DCR share, exact-match share, NNDR 5th percentile and the cross-validated discriminator AUC (raw, 0.5 = indistinguishable). A free-text column (mostly distinct, multi-word values, as the generator detects them) is not binned: it gets text_term_accuracy, text_char_accuracy, text_length_accuracy, text_cooc_error and text_exact_match (with a holdout also text_exact_match_holdout), as test/reference/text.py computes them. With a holdout and a label: trtr_auc and tstr_auc, the ROC AUC on the holdout of a gradient-boosted classifier of label = favorable (default: its least frequent value) trained on the original and on the synthetic relation (the utility of the synthetic rows; see test/reference/tstr.py). Privacy and utility figures sample at most 5000 rows per relation, seeded by seed.';
