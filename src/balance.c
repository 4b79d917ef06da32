/*
 * balance.c: the SQL-callable generators fairsynth_balance and
 * fairsynth_synthesize.
 *
 * Each call reads the relation, fits the model, plans the counts
 * (fs_prepare) and materializes the rows (a materialize-mode set-returning
 * function).  The typed forms take a NULL of the relation's row type and
 * return that type, so views, materialized views and CREATE TABLE AS see the
 * relation's columns; in FROM the planner streams them instead (stream.c,
 * through fs_balance_call).
 */
#include "postgres.h"

#include <sys/resource.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "fairsynth.h"
#include "args.h"
#include "generate.h"
#include "model.h"
#include "progress.h"
#include "text.h"

PG_FUNCTION_INFO_V1(fairsynth_balance_typed);
PG_FUNCTION_INFO_V1(fairsynth_balance_named);
PG_FUNCTION_INFO_V1(fairsynth_synthesize_typed);

/* What a generator call asks for. */
typedef struct FsRequest
{
	Oid			relid;
	ArrayType  *columns;		/* NULL: synthesize without balancing */
	bool		additive;
	bool		num_rows_given;
	int64		num_rows;
	Jsonb	   *target;
	bool		seed_isnull;
	int64		seed;
	char	   *outcome;		/* outcome column for parity, or NULL */
	bool		impute;			/* synthetic rows carry no NULL */
	ArrayType  *free_text;		/* free-text columns, NULL: detected */
	bool		named;			/* output follows a column definition list */
} FsRequest;

/*
 * Map every attribute of the output descriptor to a source column; in the
 * named form the column definition list must match the relation.
 */
int *
fs_output_map(FsSource *src, TupleDesc outdesc, bool named)
{
	int		   *map = palloc(sizeof(int) * Max(outdesc->natts, 1));
	int			next = 0;

	for (int a = 0; a < outdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(outdesc, a);

		map[a] = -1;
		if (att->attisdropped)
			continue;
		if (named)
		{
			if (next >= src->ncols || att->atttypid != src->cols[next].typid)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column definition list does not match relation %s at column %d",
								src->relname, a + 1),
						 errhint("List the relation's columns with their types in order, or use the typed form fairsynth_balance(NULL::%s, ...).",
								 src->relname)));
			/*
			 * a narrower type modifier (varchar(2) for varchar(10)) would
			 * let values out of its range: it must be the relation's, or none
			 */
			if (att->atttypmod >= 0 && att->atttypmod != src->cols[next].typmod)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column definition list declares column \"%s\" as %s, but column \"%s\" of relation %s is %s",
								NameStr(att->attname),
								format_type_with_typemod(att->atttypid, att->atttypmod),
								src->cols[next].name, src->relname,
								format_type_with_typemod(src->cols[next].typid,
														 src->cols[next].typmod)),
						 errhint("Declare it as in the relation or without a type modifier, or use the typed form fairsynth_balance(NULL::%s, ...).",
								 src->relname)));
			map[a] = next++;
		}
		else
		{
			for (int c = 0; c < src->ncols; c++)
				if (strcmp(src->cols[c].name, NameStr(att->attname)) == 0)
					map[a] = c;
			/* the row type was read before the lock: a rewrite may change it */
			if (map[a] >= 0 && att->atttypid != src->cols[map[a]].typid)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of relation %s changed type to %s during the call",
								NameStr(att->attname), src->relname,
								format_type_be(src->cols[map[a]].typid)),
						 errhint("Run the call again.")));
		}
	}
	if (named && next != src->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column definition list has %d columns but relation %s has %d",
						next, src->relname, src->ncols),
				 errhint("Use the typed form fairsynth_balance(NULL::%s, ...).", src->relname)));
	return map;
}

/* CPU seconds this backend has used. */
static double
fs_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * The cache key of the model src calls for.  The shape has the columns' kinds
 * as described, before the read makes all-distinct columns keys: that is a
 * function of the rows, which the fingerprint covers, so the key can be made
 * (without fingerprint) before the read.
 */
void
fs_model_key(FsSource *src, FsModelKey *key)
{
	StringInfoData shape;

	memset(key, 0, sizeof(FsModelKey));
	key->relid = src->relid;
	key->userid = GetUserId();
	key->fingerprint = src->fingerprint;
	key->nrows = src->nrows;
	key->sample_rows = fairsynth_sample_rows;
	key->rare_threshold = fairsynth_rare_threshold;
	initStringInfo(&shape);
	for (int c = 0; c < src->ncols; c++)
		appendStringInfo(&shape, "%d:%u:%d:%d:%d:%d;", src->cols[c].attnum,
						 src->cols[c].typid, src->cols[c].typmod,
						 (int) src->cols[c].described_kind, src->cols[c].balance_pos,
						 (int) src->cols[c].notnull);
	appendStringInfo(&shape, "outcome %d free_text %d", src->outcome,
					 (int) src->free_text_given);
	key->shape = shape.data;
}

/*
 * Take from a reused model what the read learns from its sample: which
 * columns are keys, numeric scales and timestamp units (the same as a read
 * with the sample would find: the model's rows are these rows).
 */
void
fs_adopt_model_columns(FsSource *src, const FsModel *m)
{
	for (int c = 0; c < src->ncols; c++)
	{
		const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;

		src->cols[c].kind = (FsKind) mc->kind;
		src->cols[c].max_scale = mc->max_scale;
		src->cols[c].granule = mc->granule;
	}
}

/*
 * Prepare a generator request for rows of outdesc: read the relation (or
 * take its kept model), fit, plan the counts, into *call.
 */
static void
fs_prepare(FsRequest *req, TupleDesc outdesc, FsCall *call)
{
	FsSource   *src = &call->src;
	FsModel    *model;
	FsPlan	   *plan;
	FsModelKey	key;
	bool		cached;
	bool		expected;
	double		t0,
				tscan;

	fs_seed_rng(&call->rng, req->seed_isnull, req->seed);
	fs_describe_relation(src, req->relid, req->columns, req->outcome);
	fs_text_choose(src, req->free_text);
	if (req->additive && req->num_rows_given)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_rows cannot be given in additive mode"),
				 errhint("Additive mode returns exactly the rows that balance the source; use mode => 'full' to choose the size.")));
	/* a wrong size fails before the relation is read */
	if (!req->additive && req->num_rows_given)
		fs_check_num_rows(req->num_rows);
	call->outmap = fs_output_map(src, outdesc, req->named);
	call->impute = req->impute;

	/*
	 * With a model of this relation kept, bet that the rows have not changed
	 * and read them without the sample the fit would need; if they have,
	 * read them again with it.
	 */
	t0 = fs_cpu_seconds();
	fs_progress_phase(FS_PHASE_READ, -1);
	fs_model_key(src, &key);
	expected = fs_cache_expects(&key);
	fs_scan_relation(src, !expected);
	key.fingerprint = src->fingerprint;
	key.nrows = src->nrows;
	model = fs_cache_lookup(&key);
	if (model != NULL && (model->ncols != src->ncols || model->nbalance != src->nbalance))
		model = NULL;			/* the key guarantees this; never trust it blindly */
	if (model == NULL && expected)
	{
		fs_describe_relation(src, req->relid, req->columns, req->outcome);
		fs_text_choose(src, req->free_text);
		fs_scan_relation(src, true);
		key.fingerprint = src->fingerprint;
		key.nrows = src->nrows;
	}
	if (model != NULL || expected)
		fs_cache_bet(&key, model != NULL);
	tscan = fs_cpu_seconds();
	plan = fs_plan_make(src, req->additive, req->num_rows, req->num_rows_given,
						req->target);
	cached = model != NULL;
	if (cached)
		fs_adopt_model_columns(src, model);
	else
	{
		fs_progress_phase(FS_PHASE_FIT, -1);
		model = fs_model_fit(src, NULL);
		fs_cache_store(&key, model);
	}
	fs_read_key_maxima(src);
	call->tprep = fs_cpu_seconds();
	if (plan->unseen > 0)
		ereport(NOTICE,
				(errmsg("%d of %d combinations never occur in %s; their rows are extrapolated by the model",
						plan->unseen, plan->ncombos, src->relname)));
	ereport(DEBUG1,
			(errmsg("fairsynth: read " INT64_FORMAT " rows%s in %.3f s, %s %d rows in %.3f s, model %u bytes (CPU time)",
					src->nrows, !expected ? "" : cached ? " without a sample" : " twice (no kept model matched them)",
					tscan - t0, cached ? "reused the model of" : "fitted on",
					model->nfitted, call->tprep - tscan, model->size)));
	call->model = model;
	call->plan = plan;
	fs_progress_phase(FS_PHASE_GENERATE, plan->total);
}

/* Run a generator request and return its rows. */
static Datum
fs_run(FunctionCallInfo fcinfo, FsRequest *req)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext workctx;
	MemoryContext oldctx;
	FsCall		call = {0};

	InitMaterializedSRF(fcinfo, req->named ? MAT_SRF_USE_EXPECTED_DESC : 0);

	workctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth",
									ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(workctx);
	/* seen from other sessions until workctx goes, by error or cancel too */
	fs_progress_begin(req->relid, workctx);

	fs_prepare(req, rsinfo->setDesc, &call);
	fs_generate(&call.src, call.model, call.plan, call.impute, rsinfo->setDesc,
				call.outmap, rsinfo->setResult, &call.rng);
	ereport(DEBUG1,
			(errmsg("fairsynth: generated " INT64_FORMAT " rows in %.3f s (CPU time)",
					call.plan->total, fs_cpu_seconds() - call.tprep)));

	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(workctx);
	return (Datum) 0;
}

/* Fill the arguments shared by both forms of fairsynth_balance. */
static void
fs_balance_args(FunctionCallInfo fcinfo, FsRequest *req)
{
	fs_require_arg(fcinfo, 1, "columns");
	req->columns = PG_GETARG_ARRAYTYPE_P(1);
	fs_require_one_dimensional(req->columns, "columns");
	req->additive = fs_parse_mode(fcinfo, 2);
	req->num_rows_given = !PG_ARGISNULL(3);
	req->num_rows = req->num_rows_given ? PG_GETARG_INT64(3) : 0;
	req->target = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	req->seed_isnull = PG_ARGISNULL(5);
	req->seed = req->seed_isnull ? 0 : PG_GETARG_INT64(5);
	req->outcome = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	fs_require_arg(fcinfo, 7, "impute");
	req->impute = PG_GETARG_BOOL(7);
	req->free_text = PG_NARGS() > 8 && !PG_ARGISNULL(8) ? PG_GETARG_ARRAYTYPE_P(8) : NULL;
}

/* fairsynth_balance(relation anyelement, ...) RETURNS SETOF anyelement */
Datum
fairsynth_balance_typed(PG_FUNCTION_ARGS)
{
	FsRequest	req = {0};

	req.relid = fs_relation_of_arg(fcinfo, 0);
	fs_balance_args(fcinfo, &req);
	return fs_run(fcinfo, &req);
}

/* fairsynth_balance(relation text, ...) RETURNS SETOF record */
Datum
fairsynth_balance_named(PG_FUNCTION_ARGS)
{
	FsRequest	req = {0};
	List	   *names;

	fs_require_arg(fcinfo, 0, "relation");
	names = textToQualifiedNameList(PG_GETARG_TEXT_PP(0));
	req.relid = RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, false);
	req.named = true;
	fs_balance_args(fcinfo, &req);
	return fs_run(fcinfo, &req);
}

/* Fill the arguments of fairsynth_synthesize. */
static void
fs_synthesize_args(FunctionCallInfo fcinfo, FsRequest *req)
{
	req->num_rows_given = !PG_ARGISNULL(1);
	req->num_rows = req->num_rows_given ? PG_GETARG_INT64(1) : 0;
	req->seed_isnull = PG_ARGISNULL(2);
	req->seed = req->seed_isnull ? 0 : PG_GETARG_INT64(2);
	fs_require_arg(fcinfo, 3, "impute");
	req->impute = PG_GETARG_BOOL(3);
	req->free_text = PG_NARGS() > 4 && !PG_ARGISNULL(4) ? PG_GETARG_ARRAYTYPE_P(4) : NULL;
}

/* fairsynth_synthesize(relation anyelement, ...) RETURNS SETOF anyelement */
Datum
fairsynth_synthesize_typed(PG_FUNCTION_ARGS)
{
	FsRequest	req = {0};

	req.relid = fs_relation_of_arg(fcinfo, 0);
	fs_synthesize_args(fcinfo, &req);
	return fs_run(fcinfo, &req);
}

/*
 * A call of the typed fairsynth_balance or (synthesize) fairsynth_synthesize
 * (fcinfo's arguments) prepared for rows of outdesc, the relation's row
 * type, without generating: for the streaming scan (stream.c).  Its
 * progress is shown until workctx goes.
 */
FsCall *
fs_balance_call(FunctionCallInfo fcinfo, TupleDesc outdesc, MemoryContext workctx,
				bool synthesize)
{
	FsRequest	req = {0};
	FsCall	   *call = palloc0(sizeof(FsCall));

	req.relid = fs_relation_of_arg(fcinfo, 0);
	if (synthesize)
		fs_synthesize_args(fcinfo, &req);
	else
		fs_balance_args(fcinfo, &req);
	fs_progress_begin(req.relid, workctx);
	fs_prepare(&req, outdesc, call);
	return call;
}
