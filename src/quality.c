/*-------------------------------------------------------------------------
 *
 * quality.c
 *	  fairsynth_quality(): the SQL entry
 *
 * fairsynth_quality() compares a synthetic relation with the original one (and
 * a holdout): the wing of files it calls is
 *   quality_scan.c     describe relations and stream their rows;
 *   quality_bin.c      binning on the original and accuracy (1 - TVD);
 *   quality_privacy.c  DCR share, exact matches and NNDR on samples;
 *   quality_gb.c       the gradient-boosted classifier and the discriminator;
 *   quality_utility.c  trtr_auc / tstr_auc;
 *   quality_text.c     measures of free-text columns (text_*).
 * They share src/quality.h.  A new metric goes in the file of its concern (or
 * a new one) and is emitted here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "quality.h"

PG_FUNCTION_INFO_V1(fairsynth_quality);

/* static prototypes */
static void fsq_emit(ReturnSetInfo *rsinfo, const char *metric, const char *c1,
		 const char *c2, double value, bool isnull);

/* -----------------------------------------------------------------------
 * Result rows
 * -----------------------------------------------------------------------
 */

/* Append one result row. */
static void
fsq_emit(ReturnSetInfo *rsinfo, const char *metric, const char *c1,
		 const char *c2, double value, bool isnull)
{
	Datum		values[4];
	bool		nulls[4] = {false, c1 == NULL, c2 == NULL, isnull};

	values[0] = CStringGetTextDatum(metric);
	values[1] = c1 ? CStringGetTextDatum(c1) : (Datum) 0;
	values[2] = c2 ? CStringGetTextDatum(c2) : (Datum) 0;
	values[3] = Float8GetDatum(value);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* -----------------------------------------------------------------------
 * SQL entry
 * -----------------------------------------------------------------------
 */

/*
 * fairsynth_quality(original, synthetic, holdout DEFAULT NULL, seed DEFAULT 0,
 *					 label DEFAULT NULL, favorable DEFAULT NULL)
 * returns one row per metric: accuracy per column and column pair, overall
 * accuracy, and with a holdout the accuracy ceiling, the privacy metrics
 * and the discriminator AUC; with a label too, trtr_auc and tstr_auc (their
 * column_name is the label).
 */
Datum
fairsynth_quality(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FsqState	st;
	bool		has_holdout = !PG_ARGISNULL(2);
	const char *label = PG_NARGS() > 4 && !PG_ARGISNULL(4) ? text_to_cstring(PG_GETARG_TEXT_PP(4)) : NULL;
	const char *favorable = PG_NARGS() > 5 && !PG_ARGISNULL(5) ? text_to_cstring(PG_GETARG_TEXT_PP(5)) : NULL;
	FsqLabel	lab;
	int64		seed;
	double		mu,
				mb,
				overall;
	int			c,
				c2,
				p,
				rel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s relation must not be NULL", PG_ARGISNULL(0) ? "original" : "synthetic")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("seed must not be NULL")));
	seed = PG_GETARG_INT64(3);
	if (favorable != NULL && label == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("favorable value \"%s\" given without a label", favorable),
				 errhint("Name the label column too: label => 'column', favorable => 'value'.")));
	if (label != NULL && !has_holdout)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label \"%s\" needs a holdout", label),
				 errdetail("trtr_auc and tstr_auc score classifiers on real rows that neither the original nor the synthetic relation contains."),
				 errhint("Keep some real rows apart before synthesizing and pass them as holdout.")));

	InitMaterializedSRF(fcinfo, 0);

	memset(&st, 0, sizeof(st));
	st.utility = label != NULL;
	st.relid = PG_GETARG_OID(0);
	st.relname[REL_ORIG] = fsq_relname(PG_GETARG_OID(0));
	st.relname[REL_SYN] = fsq_relname(PG_GETARG_OID(1));
	st.relname[REL_HOLD] = has_holdout ? fsq_relname(PG_GETARG_OID(2)) : NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	fsq_init_columns(&st);

	/*
	 * Binning on the original only: count its distinct values in one pass;
	 * columns with too many of them are binned from SQL aggregates instead.
	 */
	for (c = 0; c < st.ncols; c++)
		st.cols[c].dist = fsq_distinct_create(st.cols[c].numeric,
											  &st.distinct_total,
											  &st.distinct_bytes);
	fsq_declared_keys(&st);
	fsq_scan(&st, REL_ORIG, FSQ_PASS_DISTINCT);
	for (c = 0; c < st.ncols; c++)
	{
		FsqColumn  *col = &st.cols[c];

		if (col->key)
			continue;
		if (col->dist->overflow)
			col->dist = NULL;
		else if (col->numeric)
			fsq_distinct_breaks(col);
		else
			fsq_distinct_top(col);
	}
	fsq_text_detect(&st);
	fsq_sql_breaks(&st);
	for (c = 0; c < st.ncols; c++)
	{
		FsqColumn  *col = &st.cols[c];

		if (col->numeric || col->dist != NULL || col->key || col->freetext)
			continue;
		/* a key found in SQL needs no most frequent values */
		if (fsq_sql_all_distinct(&st, col))
			col->key = true;
		else
			fsq_top_values(&st, col);
	}

	/* keys are left out; the other relations need the columns that are left */
	fsq_drop_keys(&st);
	fsq_check_columns(&st, st.relname[REL_SYN], "synthetic");
	if (has_holdout)
		fsq_check_columns(&st, st.relname[REL_HOLD], "holdout");
	if (label != NULL)
		fsq_label_init(&st, label, favorable, &lab);

	for (rel = 0; rel < 3; rel++)
	{
		if (rel == REL_HOLD && !has_holdout)
			continue;
		fsq_alloc_rel(&st, rel, seed);
		fsq_scan(&st, rel, FSQ_PASS_BIN);
	}

	fsq_text_measure(&st, has_holdout);

	/* accuracy of the synthetic relation */
	for (c = 0; c < st.ncols; c++)
		fsq_emit(rsinfo, "accuracy_univariate", st.cols[c].name, NULL,
				 fsq_accuracy(st.uni[REL_ORIG] + c * FSQ_CODES, st.nrows[REL_ORIG],
							  st.uni[REL_SYN] + c * FSQ_CODES, st.nrows[REL_SYN],
							  FSQ_CODES), false);
	p = 0;
	for (c = 0; c < st.ncols; c++)
		for (c2 = c + 1; c2 < st.ncols; c2++, p++)
			fsq_emit(rsinfo, "accuracy_bivariate", st.cols[c].name, st.cols[c2].name,
					 fsq_accuracy(st.biv[REL_ORIG] + (int64) p * FSQ_CODES * FSQ_CODES,
								  st.nrows[REL_ORIG],
								  st.biv[REL_SYN] + (int64) p * FSQ_CODES * FSQ_CODES,
								  st.nrows[REL_SYN], FSQ_CODES * FSQ_CODES), false);
	overall = fsq_overall(&st, REL_SYN, &mu, &mb);
	fsq_emit(rsinfo, "accuracy_univariate", NULL, NULL, mu, false);
	fsq_emit(rsinfo, "accuracy_bivariate", NULL, NULL, mb, false);
	fsq_emit(rsinfo, "accuracy_overall", NULL, NULL, overall, false);

	/* free-text columns */
	for (c = 0; c < st.ntexts; c++)
	{
		FsqTextCol *t = &st.texts[c];

		fsq_emit(rsinfo, "text_term_accuracy", t->name, NULL, t->term_accuracy, false);
		fsq_emit(rsinfo, "text_char_accuracy", t->name, NULL, t->char_accuracy, false);
		fsq_emit(rsinfo, "text_length_accuracy", t->name, NULL, t->length_accuracy, false);
		fsq_emit(rsinfo, "text_cooc_error", t->name, NULL, t->cooc_error, t->cooc_null);
		fsq_emit(rsinfo, "text_exact_match", t->name, NULL, t->exact_match, false);
		if (has_holdout)
			fsq_emit(rsinfo, "text_exact_match_holdout", t->name, NULL,
					 t->exact_match_holdout, false);
	}

	if (has_holdout)
	{
		double		dcr,
					exact,
					nndr,
					auc;
		bool		nndr_null,
					auc_null;

		fsq_emit(rsinfo, "accuracy_ceiling", NULL, NULL,
				 fsq_overall(&st, REL_HOLD, &mu, &mb), false);
		fsq_privacy(&st, &dcr, &exact, &nndr, &nndr_null);
		fsq_emit(rsinfo, "dcr_share", NULL, NULL, dcr, false);
		fsq_emit(rsinfo, "exact_match", NULL, NULL, exact, false);
		fsq_emit(rsinfo, "nndr_p5", NULL, NULL, nndr, nndr_null);
		auc = fsq_discriminator(&st, seed, &auc_null);
		fsq_emit(rsinfo, "discriminator_auc", NULL, NULL, auc, auc_null);
		if (label != NULL)
		{
			auc = fsq_utility_auc(&st, REL_ORIG, &lab, &auc_null);
			fsq_emit(rsinfo, "trtr_auc", label, NULL, auc, auc_null);
			auc = fsq_utility_auc(&st, REL_SYN, &lab, &auc_null);
			fsq_emit(rsinfo, "tstr_auc", label, NULL, auc, auc_null);
		}
	}

	SPI_finish();
	return (Datum) 0;
}
