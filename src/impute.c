/*
 * impute.c: fairsynth_impute, every source row with its NULLs filled in.
 *
 * A first read fits, for each column to impute, a tree that predicts the
 * column from every other column, on the rows where it is not NULL.  A second
 * read returns every row; a NULL of an imputed column is replaced by a draw
 * from the leaf the row's other values lead to (a category, or a smoothed
 * value within a numeric bin).  Drawing rather than filling with a mean or a
 * mode keeps the spread of the missing values, and conditioning on the other
 * columns follows missingness that depends on them.  Non-NULL values are
 * never changed.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "args.h"
#include "model.h"
#include "progress.h"

PG_FUNCTION_INFO_V1(fairsynth_impute_typed);

/* Which columns to impute: those named, or every column that has NULLs. */
static bool *
fs_impute_columns(FsSource *src, ArrayType *columns)
{
	bool	   *impute = palloc0(sizeof(bool) * src->ncols);

	if (columns == NULL)
	{
		for (int c = 0; c < src->ncols; c++)
			impute[c] = src->cols[c].nulls > 0 && src->cols[c].nulls < src->nrows &&
				src->cols[c].kind != FS_KEY;
		return impute;
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		char	  **missing;
		int			nmissing = 0;

		fs_require_one_dimensional(columns, "columns");
		deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("columns must name at least one column"),
					 errhint("Pass NULL to impute every column that has NULLs.")));
		/* every misspelled name at once, with the nearest column names */
		missing = palloc(sizeof(char *) * n);
		for (int j = 0; j < n; j++)
		{
			if (nulls[j])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("columns must not contain NULL (element %d)", j + 1)));
			if (fs_find_column(src, TextDatumGetCString(elems[j])) < 0)
				missing[nmissing++] = TextDatumGetCString(elems[j]);
		}
		fs_error_missing_columns(src, missing, nmissing, "column");
		for (int j = 0; j < n; j++)
		{
			char	   *name = TextDatumGetCString(elems[j]);
			int			c = fs_find_column(src, name);	/* found: checked above */

			if (src->cols[c].kind == FS_KEY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" is a key (its values are all distinct), so it cannot be imputed", name),
						 errhint("Keys identify rows; there is nothing to learn about a missing one.")));
			if (src->nrows > 0 && src->cols[c].nulls == src->nrows)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" is NULL in every row of %s; there is nothing to learn from",
								name, src->relname)));
			impute[c] = true;
		}
	}
	return impute;
}

/*
 * A NOTICE when a column to impute has no NULL (named: each such column), or
 * when nothing at all is to be filled: the rows come back unchanged.
 */
static void
fs_impute_notice(FsSource *src, const bool *impute, bool named)
{
	StringInfoData list;
	int			nfull = 0;
	int			nfill = 0;

	initStringInfo(&list);
	for (int c = 0; c < src->ncols; c++)
	{
		if (impute[c] && src->cols[c].nulls == 0)
			appendStringInfo(&list, "%s\"%s\"", nfull++ > 0 ? ", " : "", src->cols[c].name);
		else if (impute[c])
			nfill++;
	}
	if (named && nfull > 0)
		ereport(NOTICE,
				(errmsg("%s %s %s no NULL in %s: nothing to fill%s",
						nfull == 1 ? "column" : "columns", list.data, nfull == 1 ? "has" : "have",
						src->relname, nfill == 0 ? "; the rows are returned unchanged" : " there")));
	else if (nfill == 0)
		ereport(NOTICE,
				(errmsg("relation %s has no NULL in any column fairsynth_impute can fill: the rows are returned unchanged",
						src->relname),
				 errhint("Columns that are NULL in every row, and keys, are never imputed.")));
}

/*
 * Read the relation again and emit every row, with the NULLs of imputed
 * columns drawn from the model given the row's other values.
 */
static void
fs_impute_rows(FsSource *src, FsModel *m, const bool *impute, TupleDesc outdesc,
			   const int *outmap, Tuplestorestate *store, pg_prng_state *rng)
{
	int			ncols = src->ncols;
	int			stride = FS_CLASS_STRIDE(ncols);
	int32	   *classes = palloc0(sizeof(int32) * stride);
	Datum	   *values = palloc(sizeof(Datum) * ncols);
	bool	   *isnull = palloc(sizeof(bool) * ncols);
	Datum	   *outvalues = palloc(sizeof(Datum) * outdesc->natts);
	bool	   *outnulls = palloc(sizeof(bool) * outdesc->natts);
	const FsModelColumn *mcols = FS_AT(m, m->cols, FsModelColumn);
	MemoryContext workctx = CurrentMemoryContext;
	MemoryContext rowctx = AllocSetContextCreate(workctx, "fairsynth impute row",
												 ALLOCSET_DEFAULT_SIZES);
	Portal		portal;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: a snapshot taken after the lock, as for the scan */
	portal = SPI_cursor_open_with_args(NULL, fs_select_all(src), 0, NULL, NULL, NULL,
									   false, CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 t = 0; t < SPI_processed; t++)
		{
			bool		missing = false;

			MemoryContextSwitchTo(rowctx);
			heap_deform_tuple(SPI_tuptable->vals[t], SPI_tuptable->tupdesc, values, isnull);
			for (int c = 0; c < ncols; c++)
				if (impute[c] && isnull[c])
					missing = true;
			if (missing)
			{
				for (int c = 0; c < ncols; c++)
					if (mcols[c].kind != FS_KEY)
						classes[c] = fs_model_class_of(m, src, c, values[c], isnull[c]);
				for (int c = 0; c < ncols; c++)
				{
					if (!impute[c] || !isnull[c] || mcols[c].tree.nnodes == 0)
						continue;
					fs_model_draw_classes(m, c, classes, 1, true, rng);
					isnull[c] = !fs_value_of_class(src, m, c, classes[c], rng, &values[c]);
				}
				/* generated columns follow the values filled in */
				fs_fill_generated(src, values, isnull);
			}
			for (int a = 0; a < outdesc->natts; a++)
			{
				outnulls[a] = outmap[a] < 0 || isnull[outmap[a]];
				outvalues[a] = outnulls[a] ? (Datum) 0 : values[outmap[a]];
			}
			MemoryContextSwitchTo(workctx);
			tuplestore_putvalues(store, outdesc, outvalues, outnulls);
			MemoryContextReset(rowctx);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextSwitchTo(workctx);
	MemoryContextDelete(rowctx);
}

/* fairsynth_impute(relation anyelement, columns text[], seed bigint) RETURNS SETOF anyelement */
Datum
fairsynth_impute_typed(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = fs_relation_of_arg(fcinfo, 0);
	MemoryContext workctx;
	MemoryContext oldctx;
	FsSource	src;
	FsModel    *model;
	pg_prng_state rng;
	bool	   *impute;
	int		   *outmap;
	TupleDesc	outdesc;

	InitMaterializedSRF(fcinfo, 0);
	outdesc = rsinfo->setDesc;
	workctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth impute",
									ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(workctx);
	fs_progress_begin(relid, workctx);

	fs_seed_rng(&rng, PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2));
	fs_describe_relation(&src, relid, NULL, NULL);
	/* check the named columns before reading anything */
	impute = fs_impute_columns(&src, PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1));
	fs_progress_phase(FS_PHASE_READ, -1);
	fs_scan_relation(&src, true);
	/* again: the read may have found more keys (columns of distinct values) */
	impute = fs_impute_columns(&src, PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1));
	fs_impute_notice(&src, impute, !PG_ARGISNULL(1));
	fs_progress_phase(FS_PHASE_FIT, -1);
	model = fs_model_fit(&src, impute);
	fs_progress_phase(FS_PHASE_GENERATE, src.nrows);

	outmap = palloc(sizeof(int) * Max(outdesc->natts, 1));
	for (int a = 0; a < outdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(outdesc, a);

		outmap[a] = -1;
		for (int c = 0; c < src.ncols && !att->attisdropped; c++)
			if (strcmp(src.cols[c].name, NameStr(att->attname)) == 0)
				outmap[a] = c;
	}
	fs_impute_rows(&src, model, impute, outdesc, outmap, rsinfo->setResult, &rng);

	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(workctx);
	return (Datum) 0;
}
