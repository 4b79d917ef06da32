/*
 * sample.c: a fitted model as a value: fairsynth_fit and fairsynth_sample.
 *
 * fairsynth_fit reads and fits exactly as fairsynth_balance does (same read,
 * same model, kept models reused) and returns the model as a bytea
 * (serial.c).  fairsynth_sample plans and generates from such a value
 * without reading the relation: with the same arguments and seed, its rows
 * are fairsynth_balance's (keys drawn from sequences and random uuids or
 * text keys excepted: they are new in every call).  The relation argument
 * gives the row type, which must be the one the model was fitted on.
 *
 * part/parts split one plan's exact counts into parts disjoint shares: the
 * plan's rows, in combination order, are cut into parts consecutive runs of
 * equal length (within one row), and part p generates the p-th; so parts
 * generated anywhere add up to exactly the planned counts.  Each part has a
 * random stream of its own (from seed, part and parts) and integer keys of
 * its own (after those of the parts before it).
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "args.h"
#include "generate.h"
#include "model.h"
#include "tree.h"
#include "progress.h"
#include "serial.h"
#include "text.h"

PG_FUNCTION_INFO_V1(fairsynth_fit);
PG_FUNCTION_INFO_V1(fairsynth_sample);
PG_FUNCTION_INFO_V1(fairsynth_sample_shard);
PG_FUNCTION_INFO_V1(fairsynth_model_keys);

static void fs_plan_part(FsPlan *plan, int part, int parts, int64 *first);
static Datum fs_sample_rows(FunctionCallInfo fcinfo, bool shard);

/* ---------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------------
 */

/*
 * Keep part of parts of plan: the plan's rows in combination order, cut
 * into parts runs of equal length; *first is the part's first row.
 */
static void
fs_plan_part(FsPlan *plan, int part, int parts, int64 *first)
{
	int64		lo = (int64) ((__int128) plan->total * (part - 1) / parts);
	int64		hi = (int64) ((__int128) plan->total * part / parts);
	int64		at = 0;

	*first = lo;
	if (parts == 1)
		return;
	plan->whole_counts = palloc(sizeof(int64) * plan->ncombos);
	memcpy(plan->whole_counts, plan->counts, sizeof(int64) * plan->ncombos);
	for (int c = 0; c < plan->ncombos; c++)
	{
		int64		from = Max(at, lo);
		int64		to = Min(at + plan->whole_counts[c], hi);

		at += plan->whole_counts[c];
		plan->counts[c] = Max(to - from, 0);
	}
	plan->total = hi - lo;
}

/* ---------------------------------------------------------------------------
 * fairsynth_fit
 * ---------------------------------------------------------------------------
 */

/*
 * fairsynth_fit(relation anyelement, columns text[], outcome text,
 *               impute boolean, free_text text[]) RETURNS bytea
 */
Datum
fairsynth_fit(PG_FUNCTION_ARGS)
{
	Oid			relid = fs_relation_of_arg(fcinfo, 0);
	ArrayType  *columns = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	char	   *outcome = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	ArrayType  *free_text = PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4);
	bool		impute;
	MemoryContext callctx = CurrentMemoryContext;
	MemoryContext workctx;
	FsSource	src;
	FsModelKey	key;
	FsModel    *model;

	fs_require_arg(fcinfo, 3, "impute");
	impute = PG_GETARG_BOOL(3);
	if (columns != NULL)
		fs_require_one_dimensional(columns, "columns");

	workctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth fit",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(workctx);
	fs_progress_begin(relid, workctx);

	/* the read and the fit of fs_run (balance.c), with the sample always */
	fs_describe_relation(&src, relid, columns, outcome);
	fs_text_choose(&src, free_text);
	fs_model_key(&src, &key);
	fs_progress_phase(FS_PHASE_READ, -1);
	fs_scan_relation(&src, true);
	key.fingerprint = src.fingerprint;
	key.nrows = src.nrows;
	model = fs_cache_lookup(&key);
	if (model != NULL && (model->ncols != src.ncols || model->nbalance != src.nbalance))
		model = NULL;
	if (model != NULL)
		fs_adopt_model_columns(&src, model);
	else
	{
		fs_progress_phase(FS_PHASE_FIT, -1);
		model = fs_model_fit(&src, NULL);
		fs_cache_store(&key, model);
	}
	PG_RETURN_BYTEA_P(fs_value_finish(&src, model, impute, callctx, workctx));
}

/* ---------------------------------------------------------------------------
 * fairsynth_sample
 * ---------------------------------------------------------------------------
 */

/*
 * Prepare fairsynth_sample's call (fcinfo's arguments) for rows of outdesc
 * into *call: the value opened, the plan made and cut to the part.
 */
static void
fs_sample_prepare(FunctionCallInfo fcinfo, TupleDesc outdesc, FsCall *call,
				  MemoryContext workctx, bool shard)
{
	Oid			relid;
	bytea	   *value;
	bool		num_rows_given = !PG_ARGISNULL(2);
	int64		num_rows = num_rows_given ? PG_GETARG_INT64(2) : 0;
	bool		additive;
	Jsonb	   *target = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	bool		seed_isnull = PG_ARGISNULL(5);
	int64		seed = seed_isnull ? 0 : PG_GETARG_INT64(5);
	int32		part,
				parts;
	int64		first;
	FsValueInfo info;
	FsSource   *src = &call->src;
	FsPlan	   *plan;
	int			nnode;
	int			nmaxs;
	int32	   *node_mins;
	int32	   *node_maxs;

	fs_require_arg(fcinfo, 0, "model");
	relid = fs_relation_of_arg(fcinfo, 1);
	additive = fs_parse_mode(fcinfo, 3);
	fs_require_arg(fcinfo, 6, "part");
	fs_require_arg(fcinfo, 7, "parts");
	part = PG_GETARG_INT32(6);
	parts = PG_GETARG_INT32(7);
	if (parts < 1 || part < 1 || part > parts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("part %d of %d parts is not a part: part must be between 1 and parts, parts at least 1",
						part, parts)));
	if (additive && num_rows_given)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_rows cannot be given in additive mode"),
				 errhint("Additive mode returns exactly the rows that balance the source; use mode => 'full' to choose the size.")));
	if (!additive && num_rows_given)
		fs_check_num_rows(num_rows);
	value = PG_GETARG_BYTEA_PP(0);

	fs_progress_begin(relid, workctx);
	call->model = fs_value_model(value, relid, &info, src);
	call->impute = info.impute;
	plan = fs_plan_make(src, additive, num_rows, num_rows_given, target);
	if (plan->unseen > 0 && part == 1)
		ereport(NOTICE,
				(errmsg("%d of %d combinations never occur in %s; their rows are extrapolated by the model",
						plan->unseen, plan->ncombos, src->relname)));
	fs_plan_part(plan, part, parts, &first);
	call->plan = plan;

	/* one part: a stream and integer keys of its own */
	if (parts == 1 || seed_isnull)
		fs_seed_rng(&call->rng, seed_isnull, seed);
	else
		pg_prng_seed(&call->rng, hash_combine64((uint64) seed,
												((uint64) parts << 32) | (uint32) part));
	for (int c = 0; c < src->ncols && first > 0; c++)
	{
		FsColumn   *col = &src->cols[c];

		if (col->kind == FS_KEY && col->exprstate == NULL &&
			(col->type == FS_INT2 || col->type == FS_INT4 || col->type == FS_INT8))
		{
			if (pg_add_s64_overflow(col->has_max ? col->max_int : 0, first, &col->max_int))
				col->max_int = PG_INT64_MAX;	/* fresh keys: no room, an error */
			col->has_max = true;
		}
	}

	/* fairsynth_sample_shard: the keys of one Citus shard */
	if (shard)
	{
		fs_require_arg(fcinfo, 8, "key_column");
		fs_require_arg(fcinfo, 9, "key_after");
		fs_require_arg(fcinfo, 10, "hash_min");
		fs_require_arg(fcinfo, 11, "hash_max");
		nnode = fs_int4_array_arg(fcinfo, 12, "node_hash_mins", &node_mins);
		nmaxs = fs_int4_array_arg(fcinfo, 13, "node_hash_maxs", &node_maxs);
		if (nmaxs != nnode)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("node_hash_mins has %d elements and node_hash_maxs %d",
							nnode, nmaxs),
					 errhint("Pass one minimum and one maximum for every shard the node fills.")));
		fs_shard_keys_set(src, text_to_cstring(PG_GETARG_TEXT_PP(8)), PG_GETARG_INT64(9),
						  PG_GETARG_INT32(10), PG_GETARG_INT32(11),
						  nnode, node_mins, node_maxs);
	}

	call->outmap = fs_output_map(src, outdesc, false);
	fs_progress_phase(FS_PHASE_GENERATE, plan->total);
}

/*
 * fairsynth_sample's call prepared for rows of outdesc without generating:
 * for the streaming scan (stream.c).  Its progress is shown until workctx
 * goes.
 */
FsCall *
fs_sample_call(FunctionCallInfo fcinfo, TupleDesc outdesc, MemoryContext workctx,
			   bool shard)
{
	FsCall	   *call = palloc0(sizeof(FsCall));

	fs_sample_prepare(fcinfo, outdesc, call, workctx, shard);
	return call;
}

/*
 * fairsynth_sample(model bytea, relation anyelement, num_rows bigint,
 *                  mode text, target jsonb, seed bigint, part int, parts int)
 * RETURNS SETOF anyelement
 */
Datum
fairsynth_sample(PG_FUNCTION_ARGS)
{
	return fs_sample_rows(fcinfo, false);
}

/*
 * fairsynth_internal.fairsynth_sample_shard(model, relation, num_rows, mode,
 *     target, seed, part, parts, key_column text, key_after bigint,
 *     hash_min int, hash_max int) RETURNS SETOF anyelement
 *
 * fairsynth_sample's part, with the integer key key_column drawn after
 * key_after so that every row hashes into [hash_min, hash_max]: the rows of
 * one shard of a Citus table distributed by that key (balance_into).
 */
Datum
fairsynth_sample_shard(PG_FUNCTION_ARGS)
{
	return fs_sample_rows(fcinfo, true);
}

/*
 * fairsynth_internal.fairsynth_model_keys(model bytea, relation anyelement)
 * RETURNS text[]: the model's integer key columns (fresh values, never
 * modelled), in column order.
 */
Datum
fairsynth_model_keys(PG_FUNCTION_ARGS)
{
	Oid			relid;
	FsValueInfo info;
	FsSource	src;
	char	  **names;
	int			n = 0;
	Datum	   *elems;

	fs_require_arg(fcinfo, 0, "model");
	relid = fs_relation_of_arg(fcinfo, 1);
	fs_value_model(PG_GETARG_BYTEA_PP(0), relid, &info, &src);
	names = palloc(sizeof(char *) * Max(src.ncols, 1));
	for (int c = 0; c < src.ncols; c++)
		if (src.cols[c].kind == FS_KEY && !src.cols[c].generated &&
			(src.cols[c].type == FS_INT2 || src.cols[c].type == FS_INT4 ||
			 src.cols[c].type == FS_INT8))
			names[n++] = src.cols[c].name;
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The rows of fairsynth_sample or (shard) fairsynth_sample_shard, materialized. */
static Datum
fs_sample_rows(FunctionCallInfo fcinfo, bool shard)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldctx;
	MemoryContext workctx;
	FsCall		call = {0};

	InitMaterializedSRF(fcinfo, 0);
	workctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth sample",
									ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(workctx);
	fs_sample_prepare(fcinfo, rsinfo->setDesc, &call, workctx, shard);
	fs_generate(&call.src, call.model, call.plan, call.impute, rsinfo->setDesc,
				call.outmap, rsinfo->setResult, &call.rng);

	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(workctx);
	return (Datum) 0;
}
