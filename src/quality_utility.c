/*-------------------------------------------------------------------------
 *
 * quality_utility.c
 *	  utility: what a classifier trained on a relation learns
 *
 * trtr_auc (train real, test real) and tstr_auc (train synthetic, test
 * real): the gradient-boosted classifier of quality_gb.c learns "label =
 * favorable" from every other column (keys left out) on the reservoir
 * sample (FSQ_UT_SAMPLE rows) of the original, or of the synthetic relation,
 * and is scored by ROC AUC on the sample of the holdout, the rows neither
 * has seen.  The
 * yardstick is test/reference/tstr.py (sklearn's HistGradientBoosting):
 * the classifiers differ, the AUCs agree within a few thousandths to a few
 * hundredths.  A NULL label is not the favorable value, as in tstr.py.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "fairsynth.h"
#include "quality.h"

/* static prototypes */
static char *fsq_least_frequent(FsqState *st, const FsqColumn *col);
static bool fsq_label_value(FsqState *st, const FsqLabel *lab, const FsqRowRef *r);

/* -----------------------------------------------------------------------
 * The label
 * -----------------------------------------------------------------------
 */

/* The least frequent non-NULL value of a column of the original, as text. */
static char *
fsq_least_frequent(FsqState *st, const FsqColumn *col)
{
	StringInfoData q;
	int			ret;
	char	   *v;

	initStringInfo(&q);
	appendStringInfo(&q,
					 "SELECT s.v FROM (SELECT %s AS v, count(*) AS n FROM %s GROUP BY 1) s "
					 "WHERE s.v IS NOT NULL ORDER BY s.n, s.v::text COLLATE \"C\" LIMIT 1",
					 col->expr, st->relname[REL_ORIG]);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	v = SPI_processed == 1 ?
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
	SPI_freetuptable(SPI_tuptable);
	return v;
}

/*
 * Find the label column among the columns compared and the favorable value
 * as the samples hold it (a number, or the hash of the value's text as its
 * output function prints it: "true" names the boolean t).  Without a
 * favorable value, the least frequent one (as fairsynth_bias does).
 */
void
fsq_label_init(FsqState *st, const char *label, const char *favorable, FsqLabel *lab)
{
	const FsqColumn *col = NULL;
	StringInfoData q;
	const char *fav = favorable;
	int			c,
				ret;
	bool		found;

	for (c = 0; c < st->ncols; c++)
		if (strcmp(st->cols[c].name, label) == 0)
			col = &st->cols[c];
	if (col == NULL)
	{
		FsqDesc		d = fsq_describe(st->relname[REL_ORIG]);

		for (c = 0; c < d.natts; c++)
			if (strcmp(d.names[c], label) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("label column \"%s\" of relation %s is a key", label,
								st->relname[REL_ORIG]),
						 errdetail("Its values are all distinct (or a primary key or unique index says so): there is no class to learn."),
						 errhint("Name a column of classes, such as an outcome.")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("label column \"%s\" does not exist in relation %s", label,
						st->relname[REL_ORIG])));
	}
	lab->col = (int) (col - st->cols);
	lab->numeric = col->numeric;

	if (fav == NULL)
	{
		fav = fsq_least_frequent(st, col);
		if (fav == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("label column \"%s\" of relation %s has only NULLs", label,
							st->relname[REL_ORIG])));
	}
	if (col->numeric)
	{
		/* dates and times are compared as their epoch, like the column */
		if (getBaseType(col->typid) == DATEOID || getBaseType(col->typid) == TIMESTAMPOID ||
			getBaseType(col->typid) == TIMESTAMPTZOID)
		{
			Oid			typinput,
						typioparam;
			StringInfoData e;
			TupleDesc	desc;
			Datum		d;
			int			r;
			bool		isnull;

			getTypeInputInfo(col->typid, &typinput, &typioparam);
			(void) OidInputFunctionCall(typinput, (char *) fav, typioparam, -1);
			initStringInfo(&e);
			appendStringInfo(&e, "SELECT extract(epoch FROM %s::%s)::float8",
							 quote_literal_cstr(fav), format_type_be(col->typid));
			r = SPI_execute(e.data, true, 1);
			if (r != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(r));
			desc = SPI_tuptable->tupdesc;
			d = SPI_getbinval(SPI_tuptable->vals[0], desc, 1, &isnull);
			lab->num = DatumGetFloat8(d);
			SPI_freetuptable(SPI_tuptable);
		}
		else
		{
			char	   *end;

			(void) strtod(fav, &end);
			while (*end == ' ')
				end++;
			if (end == fav || *end != '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("favorable value \"%s\" is not a number, but label column \"%s\" is numeric",
								fav, label),
						 errhint("Name the value as the column holds it, e.g. favorable => '1'.")));
			lab->num = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(fav)));
		}
	}
	else
	{
		Oid			typinput,
					typioparam,
					typoutput;
		bool		isvarlena;
		char	   *canon;

		/* the value as the column's output function prints it */
		getTypeInputInfo(col->typid, &typinput, &typioparam);
		getTypeOutputInfo(col->typid, &typoutput, &isvarlena);
		canon = OidOutputFunctionCall(typoutput,
									  OidInputFunctionCall(typinput, (char *) fav,
														   typioparam, -1));
		lab->hash = hash_bytes_extended((const unsigned char *) canon, strlen(canon), 0);
		fav = canon;
	}

	/* the value must occur in the original */
	initStringInfo(&q);
	if (col->numeric)
		appendStringInfo(&q, "SELECT EXISTS (SELECT FROM %s WHERE %s = %.17g::float8)",
						 st->relname[REL_ORIG], col->expr, lab->num);
	else
		appendStringInfo(&q, "SELECT EXISTS (SELECT FROM %s WHERE %s = %s::%s)",
						 st->relname[REL_ORIG], col->expr, quote_literal_cstr(fav),
						 format_type_be(col->typid));
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &found));
	SPI_freetuptable(SPI_tuptable);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("favorable value \"%s\" does not occur in label column \"%s\" of relation %s",
						fav, label, st->relname[REL_ORIG]),
				 errhint("Name a value of the label column as it is written in it.")));
	lab->favorable = pstrdup(fav);
}

/* Is the label of a sample row the favorable value? */
static bool
fsq_label_value(FsqState *st, const FsqLabel *lab, const FsqRowRef *r)
{
	const FsqColumn *col = &st->cols[lab->col];

	if (lab->numeric)
		return FSQ_NUM(st, r, col) == lab->num;
	return FSQ_CAT(st, r, col) == lab->hash;
}

/* -----------------------------------------------------------------------
 * Train on one relation, test on the holdout
 * -----------------------------------------------------------------------
 */

/*
 * ROC AUC on the holdout sample of the classifier trained on the sample of
 * relation rel; NULL (isnull) when either side has only one class.
 */
double
fsq_utility_auc(FsqState *st, int rel, const FsqLabel *lab, bool *isnull)
{
	const FsqSample *tr = &st->usample[rel];
	const FsqSample *ho = &st->usample[REL_HOLD];
	int			n = tr->n + ho->n;
	FsqRowRef  *rows = palloc(sizeof(FsqRowRef) * Max(n, 1));
	int		   *train = palloc(sizeof(int) * Max(tr->n, 1));
	int		   *test = palloc(sizeof(int) * Max(ho->n, 1));
	double	   *score = palloc(sizeof(double) * Max(n, 1));
	FsqGbData	d;
	double		pos_train = 0,
				pos_test = 0,
				auc;
	int			i;

	for (i = 0; i < n; i++)
	{
		rows[i].sample = i < tr->n ? tr : ho;
		rows[i].row = i < tr->n ? i : i - tr->n;
	}
	fsq_gb_features(st, rows, n, tr->n, lab->col, &d);
	for (i = 0; i < n; i++)
	{
		d.y[i] = fsq_label_value(st, lab, &rows[i]) ? 1 : 0;
		if (i < tr->n)
		{
			train[i] = i;
			pos_train += d.y[i];
		}
		else
		{
			test[i - tr->n] = i;
			pos_test += d.y[i];
		}
	}
	*isnull = pos_train == 0 || pos_train == tr->n || pos_test == 0 || pos_test == ho->n;
	if (*isnull)
		return 0;
	fsq_boost(&d, train, tr->n, test, ho->n, score, FSQ_UT_ROUNDS, FSQ_UT_RATE);
	auc = fsq_auc(score + tr->n, d.y + tr->n, ho->n);
	pfree(rows);
	pfree(train);
	pfree(test);
	pfree(score);
	return auc;
}
