/*
 * stream.c: fairsynth_balance, fairsynth_synthesize and fairsynth_sample in
 * FROM as a streaming scan.
 *
 * PostgreSQL runs a set-returning function in FROM to its end into a
 * tuplestore first, which for millions of rows spills them to a temporary
 * file and reads them back before the first row goes on.  For the typed
 * generators this module offers the planner a custom scan instead
 * (set_rel_pathlist_hook), which hands rows on as they are made: the call
 * is prepared (read, fit, plan) when the executor starts the scan, and the
 * plan's chunks (generate.h) are made here a batch of rows at a time, or
 * taken from parallel workers' queues (parallel.c) row by row, without a
 * copy: a row made here as a virtual slot pointing at the batch's values
 * (the table's insert forms its tuple from them, once), a worker's row as
 * the scan's row itself (a minimal tuple) when nothing filters or projects
 * it, else in the scan's virtual slot pointing into it.  The rows are those
 * of the function, in its order.
 *
 * Workers are started only when the whole statement runs in parallel mode:
 * the planner found it safe for parallel query (a SELECT or CREATE TABLE AS
 * without parallel-unsafe functions, not a cursor) and this scan asked for
 * parallel mode, which it does when its relation's keys are not fed by a
 * sequence (nextval is not allowed in parallel mode).  Otherwise the
 * leader makes every chunk, without a tuplestore.
 *
 * The scan is offered when the call is the only function of its FROM item,
 * without ORDINALITY, its arguments use no column of another FROM item and
 * no correlated subquery, the row type has no dropped column, and the row is
 * not referenced as a whole (SELECT t FROM f(...) t: the function scan makes
 * that value).  Arguments are evaluated once, at the scan's start; those
 * that use a value the statement computes while it runs (an uncorrelated
 * subquery's, such as a model read from a table, or an outer query's) are
 * evaluated at the first row, and again on a rescan when that value
 * changed.  Such a call is prepared inside the statement's run, too late
 * for parallel mode, so its chunks are all made here.  It
 * checks EXECUTE on the function as the function scan does.  A rescan makes
 * the same rows again (the same streams; fresh keys from sequences, uuids
 * and text keys are new, as in every call).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/sysattr.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "generate.h"
#include "parallel.h"
#include "progress.h"
#include "stream.h"

/* The generators the scan streams. */
typedef enum FsStreamKind
{
	FS_STREAM_NONE,
	FS_STREAM_BALANCE,			/* fairsynth_balance(anyelement, ...) */
	FS_STREAM_SYNTHESIZE,		/* fairsynth_synthesize(anyelement, ...) */
	FS_STREAM_SAMPLE,			/* fairsynth_sample */
	FS_STREAM_SAMPLE_SHARD		/* fairsynth_internal.fairsynth_sample_shard */
} FsStreamKind;

/* The rows of a prepared call, one at a time. */
typedef struct FsStream
{
	FsCall	   *call;
	TupleDesc	outdesc;
	FsGenerator *g;
	pg_prng_state rng;			/* chunk 0's stream */
	int			nchunks;
	int			j;				/* the chunk being handed on; -1: none yet */
	int64	   *counts;
	int64		first;			/* the chunk's first row */
	int64		total;			/* its rows */
	int64		done;			/* of them handed on */
	int			worker;			/* whose queue holds it; -1: made here */
	FsBatchSink batch;			/* rows made here: the generator's last batch */
	int			next;			/* its row handed on next */
	TupleTableSlot *mslot;		/* a worker's row as it comes, a minimal tuple */
	FsParallel *par;
} FsStream;

/* The scan's state. */
typedef struct FsScanState
{
	CustomScanState css;
	FuncExpr   *fexpr;
	List	   *args;			/* its arguments' ExprStates */
	bool		lazy;			/* prepared at the first row (fs_prepare_call) */
	Bitmapset  *argparams;		/* the PARAM_EXEC values the arguments use */
	MemoryContext streamctx;	/* the stream's memory, until it stops */
	MemoryContext workctx;		/* the call's memory, until the scan ends */
	FsCall	   *call;
	TupleDesc	outdesc;		/* the relation's row type */
	FsStream   *stream;
	TupleTableSlot *rowslot;	/* where rows made here go: virtual */
	int			nchunks;		/* of the last stream, for EXPLAIN ANALYZE */
	int			nlaunched;		/* its workers */
} FsScanState;

static set_rel_pathlist_hook_type fs_prev_set_rel_pathlist = NULL;

static FsStreamKind fs_stream_kind(Oid funcid);
static bool fs_exec_param_walker(Node *node, void *context);
static void fs_set_rel_pathlist_body(PlannerInfo *root, RelOptInfo *rel, Index rti,
								RangeTblEntry *rte);
static Plan *fs_plan_stream_body(PlannerInfo *root, RelOptInfo *rel,
							CustomPath *best_path, List *tlist, List *clauses,
							List *custom_plans);
static Node *fs_create_stream_state(CustomScan *cscan);
static void fs_begin_stream_body(CustomScanState *node, EState *estate, int eflags);
static void fs_prepare_call(FsScanState *state);
static TupleTableSlot *fs_exec_stream_body(CustomScanState *node);
static TupleTableSlot *fs_stream_next_slot(ScanState *ss);
static bool fs_stream_recheck(ScanState *ss, TupleTableSlot *slot);
static void fs_end_stream_body(CustomScanState *node);
static void fs_rescan_stream_body(CustomScanState *node);
static void fs_stop_stream(FsScanState *state);
static void fs_forget_call(FsScanState *state);
static void fs_explain_stream(CustomScanState *node, List *ancestors,
							  ExplainState *es);
static FsStream *fs_stream_begin(FsCall *call, TupleDesc outdesc, bool parallel);
static TupleTableSlot *fs_stream_next(FsStream *s, TupleTableSlot *rowslot,
									  TupleTableSlot *scanslot);
static void fs_stream_end(FsStream *s);

static void fs_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
								RangeTblEntry *rte);
static Plan *fs_plan_stream(PlannerInfo *root, RelOptInfo *rel,
							CustomPath *best_path, List *tlist, List *clauses,
							List *custom_plans);
static void fs_begin_stream(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *fs_exec_stream(CustomScanState *node);
static void fs_end_stream(CustomScanState *node);
static void fs_rescan_stream(CustomScanState *node);

static const CustomPathMethods fs_path_methods = {
	.CustomName = "FairsynthStream",
	.PlanCustomPath = fs_plan_stream,
};

static const CustomScanMethods fs_scan_methods = {
	.CustomName = "FairsynthStream",
	.CreateCustomScanState = fs_create_stream_state,
};

static const CustomExecMethods fs_exec_methods = {
	.CustomName = "FairsynthStream",
	.BeginCustomScan = fs_begin_stream,
	.ExecCustomScan = fs_exec_stream,
	.EndCustomScan = fs_end_stream,
	.ReScanCustomScan = fs_rescan_stream,
	.ExplainCustomScan = fs_explain_stream,
};

/* Install the planner hook and the scan (called by _PG_init). */
void
fs_stream_init(void)
{
	RegisterCustomScanMethods(&fs_scan_methods);
	fs_prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = fs_set_rel_pathlist;
}

/* ---------------------------------------------------------------------------
 * Entries: the hook and the callbacks, each its body in FS_ASAN_CALL (in the
 * sanitizer build an error leaving the body cleans the stack it abandoned;
 * a plain call otherwise)
 * ---------------------------------------------------------------------------
 */

static void
fs_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					RangeTblEntry *rte)
{
	if (fs_prev_set_rel_pathlist)
		fs_prev_set_rel_pathlist(root, rel, rti, rte);
	FS_ASAN_CALL(fs_set_rel_pathlist_body(root, rel, rti, rte));
}

static Plan *
fs_plan_stream(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			   List *tlist, List *clauses, List *custom_plans)
{
	Plan	   *volatile plan = NULL;

	FS_ASAN_CALL(plan = fs_plan_stream_body(root, rel, best_path, tlist, clauses,
											custom_plans));
	return plan;
}

static void
fs_begin_stream(CustomScanState *node, EState *estate, int eflags)
{
	FS_ASAN_CALL(fs_begin_stream_body(node, estate, eflags));
}

static TupleTableSlot *
fs_exec_stream(CustomScanState *node)
{
	TupleTableSlot *volatile slot = NULL;

	FS_ASAN_CALL(slot = fs_exec_stream_body(node));
	return slot;
}

static void
fs_end_stream(CustomScanState *node)
{
	FS_ASAN_CALL(fs_end_stream_body(node));
}

static void
fs_rescan_stream(CustomScanState *node)
{
	FS_ASAN_CALL(fs_rescan_stream_body(node));
}

/* ---------------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------------
 */

/*
 * Which typed generator of this module funcid is, by its C symbol in this
 * module's library (pg_proc's prosrc and probin: a function pointer from
 * another lookup need not compare equal); FS_STREAM_NONE: another function.
 */
static FsStreamKind
fs_stream_kind(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	FsStreamKind kind = FS_STREAM_NONE;
	Datum		d;
	bool		isnull;

	if (!HeapTupleIsValid(tuple))
		return FS_STREAM_NONE;
	if (((Form_pg_proc) GETSTRUCT(tuple))->prolang == ClanguageId)
	{
		char	   *probin;
		const char *base;
		char	   *prosrc;

		d = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_probin, &isnull);
		probin = isnull ? NULL : TextDatumGetCString(d);
		base = probin ? last_dir_separator(probin) : NULL;
		base = base ? base + 1 : probin;
		d = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);
		prosrc = isnull ? NULL : TextDatumGetCString(d);
		if (base != NULL && prosrc != NULL &&
			(strcmp(base, "fairsynth") == 0 || strcmp(base, "fairsynth" DLSUFFIX) == 0))
		{
			if (strcmp(prosrc, "fairsynth_balance_typed") == 0)
				kind = FS_STREAM_BALANCE;
			else if (strcmp(prosrc, "fairsynth_synthesize_typed") == 0)
				kind = FS_STREAM_SYNTHESIZE;
			else if (strcmp(prosrc, "fairsynth_sample") == 0)
				kind = FS_STREAM_SAMPLE;
			else if (strcmp(prosrc, "fairsynth_sample_shard") == 0)
				kind = FS_STREAM_SAMPLE_SHARD;
		}
	}
	ReleaseSysCache(tuple);
	return kind;
}

/*
 * Whether node uses a value computed during execution (PARAM_EXEC); with
 * context a Bitmapset **, every such value's paramid is added to it.
 */
static bool
fs_exec_param_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
	{
		if (context == NULL)
			return true;
		*(Bitmapset **) context = bms_add_member(*(Bitmapset **) context,
												 ((Param *) node)->paramid);
		return false;
	}
	return expression_tree_walker(node, fs_exec_param_walker, context);
}

/* Offer the streaming scan for a call of a typed generator in FROM. */
static void
fs_set_rel_pathlist_body(PlannerInfo *root, RelOptInfo *rel, Index rti,
					RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *fexpr;
	TupleDesc	desc;
	CustomPath *path;

	fs_asan_entry();
	if (rte->rtekind != RTE_FUNCTION || rte->funcordinality ||
		list_length(rte->functions) != 1 ||
		rel->reloptkind != RELOPT_BASEREL || !bms_is_empty(rel->lateral_relids))
		return;
	rtfunc = linitial_node(RangeTblFunction, rte->functions);
	if (!IsA(rtfunc->funcexpr, FuncExpr))
		return;
	fexpr = (FuncExpr *) rtfunc->funcexpr;
	if (!fexpr->funcretset || fs_stream_kind(fexpr->funcid) == FS_STREAM_NONE)
		return;
	if (contain_var_clause((Node *) fexpr->args) ||
		contain_subplans((Node *) fexpr->args))
		return;
	/* a whole-row reference (t::text) needs the row as a value: not here */
	{
		Bitmapset  *attrs = NULL;
		ListCell   *lc;

		pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
		foreach(lc, rel->baserestrictinfo)
			pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, rel->relid, &attrs);
		if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs))
			return;
	}
	desc = get_expr_result_tupdesc((Node *) fexpr, true);
	if (desc == NULL || desc->natts != rel->max_attr)
		return;
	for (int a = 0; a < desc->natts; a++)
		if (TupleDescAttr(desc, a)->attisdropped)
			return;

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = rel->rows;
	path->path.pathkeys = NIL;
	/* the function scan's costs: only this path is offered */
	if (rel->pathlist != NIL)
	{
		Path	   *fscan = (Path *) linitial(rel->pathlist);

		path->path.startup_cost = fscan->startup_cost;
		path->path.total_cost = fscan->total_cost;
	}
	path->flags = 0;
	path->methods = &fs_path_methods;
	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	add_path(rel, &path->path);
}

/*
 * The scan's plan: its tuples are the function's columns, as Vars of the
 * FROM item in custom_scan_tlist (scanrelid 0: there is no relation to
 * open); the call in custom_exprs.  It asks for parallel mode when the
 * statement allows it and the relation's rows can be made by workers.
 */
static Plan *
fs_plan_stream_body(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			   List *tlist, List *clauses, List *custom_plans)
{
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	FuncExpr   *fexpr = (FuncExpr *) linitial_node(RangeTblFunction, rte->functions)->funcexpr;
	TupleDesc	desc = get_expr_result_tupdesc((Node *) fexpr, false);
	CustomScan *cscan = makeNode(CustomScan);
	List	   *scan_tlist = NIL;
	Oid			relid = get_typ_typrelid(desc->tdtypeid);
	bool		lazy;

	fs_asan_entry();
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) makeVar(rel->relid, a + 1, att->atttypid,
															  att->atttypmod, att->attcollation, 0),
											 a + 1, pstrdup(NameStr(att->attname)), false));
	}
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = extract_actual_clauses(clauses, false);
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_exprs = list_make1(fexpr);
	/* arguments computed while the statement runs: prepared at the first row */
	lazy = fs_exec_param_walker((Node *) fexpr->args, NULL);
	cscan->custom_private = list_make1(makeInteger(lazy ? 1 : 0));
	cscan->methods = &fs_scan_methods;
	/* a cached plan is planned again when the relation (its row type) changes */
	if (OidIsValid(relid))
		root->glob->relationOids = lappend_oid(root->glob->relationOids, relid);
	/* a lazy call is prepared too late for parallel mode: no workers */
	if (!lazy && root->glob->parallelModeOK && fairsynth_parallel_workers > 0 &&
		OidIsValid(relid) && fs_relation_parallel_safe(relid))
		root->glob->parallelModeNeeded = true;
	return &cscan->scan.plan;
}

/* ---------------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------------
 */

static Node *
fs_create_stream_state(CustomScan *cscan)
{
	FsScanState *state = palloc0(sizeof(FsScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &fs_exec_methods;
	state->fexpr = linitial_node(FuncExpr, cscan->custom_exprs);
	return (Node *) state;
}

/*
 * Start the scan: check EXECUTE and the row type, and prepare the call
 * (fs_prepare_call) now, before the statement enters parallel mode (the read
 * runs queries); a call whose arguments use values computed while the
 * statement runs (a subquery's, an outer query's) is prepared at its first
 * row instead, when they are known.
 */
static void
fs_begin_stream_body(CustomScanState *node, EState *estate, int eflags)
{
	FsScanState *state = (FsScanState *) node;
	FuncExpr   *fexpr = state->fexpr;
	TupleDesc	scandesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	AclResult	aclresult;

	fs_asan_entry();
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/*
	 * Nothing evaluates the scan's own rows (no filter, no projection): hand
	 * on the rows as they come, with no copy: those made here as the values
	 * of a virtual slot, those of a worker as minimal tuples in the scan
	 * slot.  This runs before the parent node is initialized, so it sees that
	 * the kind of slot varies.  Otherwise every row goes to the (virtual)
	 * scan slot.
	 */
	state->rowslot = node->ss.ss_ScanTupleSlot;
	if (node->ss.ps.qual == NULL && node->ss.ps.ps_ProjInfo == NULL)
	{
		state->rowslot = ExecAllocTableSlot(&estate->es_tupleTable, scandesc,
											&TTSOpsVirtual);
		node->ss.ss_ScanTupleSlot = ExecAllocTableSlot(&estate->es_tupleTable, scandesc,
													   &TTSOpsMinimalTuple);
		node->ss.ps.scanops = &TTSOpsMinimalTuple;
		node->ss.ps.scanopsfixed = true;
		node->ss.ps.scanopsset = true;
		node->ss.ps.resultops = &TTSOpsMinimalTuple;
		node->ss.ps.resultopsfixed = false;
		node->ss.ps.resultopsset = true;
	}
	/* EXECUTE on the function, as the function scan checks it */
	aclresult = pg_proc_aclcheck(fexpr->funcid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(fexpr->funcid));
	InvokeFunctionExecuteHook(fexpr->funcid);

	/* the row type as the statement was planned: it may have changed since */
	state->outdesc = get_expr_result_tupdesc((Node *) fexpr, false);
	if (state->outdesc->natts != scandesc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the row type %s changed since the statement was planned",
						format_type_be(state->outdesc->tdtypeid)),
				 errhint("Run the statement again.")));
	for (int a = 0; a < scandesc->natts; a++)
		if (TupleDescAttr(state->outdesc, a)->atttypid != TupleDescAttr(scandesc, a)->atttypid ||
			TupleDescAttr(state->outdesc, a)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the row type %s changed since the statement was planned",
							format_type_be(state->outdesc->tdtypeid)),
					 errhint("Run the statement again.")));

	state->args = ExecInitExprList(fexpr->args, &node->ss.ps);
	state->lazy = intVal(linitial(((CustomScan *) node->ss.ps.plan)->custom_private)) != 0;
	fs_exec_param_walker((Node *) fexpr->args, &state->argparams);
	if (!state->lazy)
		fs_prepare_call(state);
}

/*
 * Evaluate the call's arguments and read, fit and plan (balance, synthesize)
 * or open the model and plan (sample), into the scan's work memory.
 */
static void
fs_prepare_call(FsScanState *state)
{
	FuncExpr   *fexpr = state->fexpr;
	int			nargs = list_length(fexpr->args);
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	FunctionCallInfo fcinfo;
	FmgrInfo   *flinfo;
	MemoryContext oldctx;
	ListCell   *lc;
	int			i = 0;
	FsStreamKind kind;

	state->workctx = AllocSetContextCreate(state->css.ss.ps.state->es_query_cxt,
										   "fairsynth stream", ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(state->workctx);
	flinfo = palloc0(sizeof(FmgrInfo));
	fmgr_info_cxt(fexpr->funcid, flinfo, state->workctx);
	flinfo->fn_expr = (Node *) fexpr;
	fcinfo = palloc0(SizeForFunctionCallInfo(nargs));
	InitFunctionCallInfoData(*fcinfo, flinfo, nargs, fexpr->inputcollid, NULL, NULL);
	/* the values live in workctx, with the call that keeps pointers to them */
	foreach(lc, state->args)
	{
		fcinfo->args[i].value = ExecEvalExpr((ExprState *) lfirst(lc), econtext,
											 &fcinfo->args[i].isnull);
		i++;
	}

	kind = fs_stream_kind(fexpr->funcid);
	switch (kind)
	{
		case FS_STREAM_SAMPLE:
		case FS_STREAM_SAMPLE_SHARD:
			state->call = fs_sample_call(fcinfo, state->outdesc, state->workctx,
										 kind == FS_STREAM_SAMPLE_SHARD);
			break;
		case FS_STREAM_BALANCE:
		case FS_STREAM_SYNTHESIZE:
			state->call = fs_balance_call(fcinfo, state->outdesc, state->workctx,
										  kind == FS_STREAM_SYNTHESIZE);
			break;
		default:
			elog(ERROR, "function %u is not a fairsynth generator", fexpr->funcid);
	}
	MemoryContextSwitchTo(oldctx);
}

static TupleTableSlot *
fs_exec_stream_body(CustomScanState *node)
{
	return ExecScan(&node->ss, fs_stream_next_slot, fs_stream_recheck);
}

/* The next row into the scan slot; an empty slot at the end. */
static TupleTableSlot *
fs_stream_next_slot(ScanState *ss)
{
	FsScanState *state = (FsScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;

	if (state->stream == NULL)
	{
		MemoryContext oldctx;

		fs_asan_entry();
		if (state->call == NULL)
			fs_prepare_call(state);
		/* the stream's own memory: a rescan starts another */
		state->streamctx = AllocSetContextCreate(state->workctx, "fairsynth stream rows",
												 ALLOCSET_DEFAULT_SIZES);
		oldctx = MemoryContextSwitchTo(state->streamctx);

		/* workers only for a call prepared before parallel mode began */
		state->stream = fs_stream_begin(state->call, state->outdesc, !state->lazy);
		MemoryContextSwitchTo(oldctx);
		state->nchunks = state->stream->nchunks;
		state->nlaunched = state->stream->par ? fs_parallel_launched(state->stream->par) : 0;
	}
	slot = fs_stream_next(state->stream, state->rowslot, slot);
	return slot != NULL ? slot : ExecClearTuple(ss->ss_ScanTupleSlot);
}

static bool
fs_stream_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

/* Stop the scan's stream, if any (its workers end). */
static void
fs_stop_stream(FsScanState *state)
{
	fs_asan_entry();
	if (state->stream != NULL)
		fs_stream_end(state->stream);
	state->stream = NULL;
	if (state->streamctx != NULL)
		MemoryContextDelete(state->streamctx);
	state->streamctx = NULL;
}

/* Forget the prepared call and its memory (fs_prepare_call makes them). */
static void
fs_forget_call(FsScanState *state)
{
	if (state->workctx != NULL)
		MemoryContextDelete(state->workctx);
	state->workctx = NULL;
	state->call = NULL;
}

static void
fs_end_stream_body(CustomScanState *node)
{
	FsScanState *state = (FsScanState *) node;

	fs_stop_stream(state);
	fs_forget_call(state);
}

/*
 * Again from the first row: the same streams, the same rows; a lazy call
 * whose arguments changed is prepared again, with them.
 */
static void
fs_rescan_stream_body(CustomScanState *node)
{
	FsScanState *state = (FsScanState *) node;

	fs_stop_stream(state);
	if (state->lazy && bms_overlap(node->ss.ps.chgParam, state->argparams))
		fs_forget_call(state);
	ExecScanReScan(&node->ss);
}

/* EXPLAIN ANALYZE: the chunks and the workers that made them. */
static void
fs_explain_stream(CustomScanState *node, List *ancestors, ExplainState *es)
{
	FsScanState *state = (FsScanState *) node;

	if (!es->analyze || state->nchunks == 0)
		return;
	ExplainPropertyInteger("Chunks", NULL, state->nchunks, es);
	ExplainPropertyInteger("Workers Launched", NULL, state->nlaunched, es);
}

/* ---------------------------------------------------------------------------
 * The stream of a prepared call
 * ---------------------------------------------------------------------------
 */

/*
 * Start handing on call's rows (of outdesc), drawing from a copy of its
 * stream what fs_generate draws, in the same order; with parallel workers
 * when parallel is true and the statement runs in parallel mode.
 */
static FsStream *
fs_stream_begin(FsCall *call, TupleDesc outdesc, bool parallel)
{
	FsStream   *s = palloc0(sizeof(FsStream));
	FsSource   *src = &call->src;
	uint32		run;
	uint64		base;

	s->call = call;
	s->outdesc = outdesc;
	s->rng = call->rng;			/* a copy: a rescan starts again from it */
	s->nchunks = fs_generation_streams(src, call->plan, &s->rng, &run, &base);
	s->g = fs_generator_begin(src, call->model, call->plan, call->impute, outdesc,
							  call->outmap, run, base);
	s->counts = palloc(sizeof(int64) * Max(call->plan->ncombos, 1));
	s->j = -1;
	s->batch.natts = outdesc->natts;
	s->batch.values = palloc(sizeof(Datum) * FS_BATCH_ROWS * Max(outdesc->natts, 1));
	s->batch.nulls = palloc(sizeof(bool) * FS_BATCH_ROWS * Max(outdesc->natts, 1));
	s->mslot = MakeSingleTupleTableSlot(outdesc, &TTSOpsMinimalTuple);
	/* workers only when the whole statement is in parallel mode */
	if (parallel && s->nchunks > 1 && IsInParallelMode() && !IsParallelWorker())
		s->par = fs_parallel_begin(src, call->model, call->plan, call->impute,
								   outdesc, call->outmap, run, base, s->nchunks);
	return s;
}

/*
 * The next row, NULL at the end: a row made here in rowslot (virtual, its
 * values those of the generator's batch), a worker's row in scanslot (as a
 * minimal tuple when scanslot takes them, else as values).
 */
static TupleTableSlot *
fs_stream_next(FsStream *s, TupleTableSlot *rowslot, TupleTableSlot *scanslot)
{
	TupleTableSlot *slot;

	while (s->j < 0 || s->done >= s->total)
	{
		if (s->j + 1 >= s->nchunks)
		{
			/* the end: the workers are done, parallel mode is left now */
			if (s->par != NULL)
				fs_parallel_end(s->par);
			s->par = NULL;
			return NULL;
		}
		s->j++;
		s->first = fs_chunk_counts(s->call->plan, s->j, s->nchunks, s->counts, &s->total);
		s->done = 0;
		s->worker = s->par != NULL ? fs_parallel_worker_of(s->par, s->j) : -1;
		if (s->worker >= 0)
			break;
		fs_chunk_start(s->g, s->j, &s->rng, s->counts, s->total, s->first);
		s->batch.n = s->next = 0;
	}
	if (s->worker < 0)
	{
		/* a row made here: the next of the batch, made when it is used up */
		size_t		at;

		if (s->next >= s->batch.n)
		{
			s->batch.n = s->next = 0;
			if (fs_chunk_batch(s->g, fs_batch_sink, &s->batch, false) == 0)
				elog(ERROR, "fairsynth: chunk %d holds fewer rows than planned", s->j);
		}
		at = (size_t) s->next++ * s->batch.natts;
		slot = rowslot;
		ExecClearTuple(slot);
		memcpy(slot->tts_values, s->batch.values + at, sizeof(Datum) * s->batch.natts);
		memcpy(slot->tts_isnull, s->batch.nulls + at, sizeof(bool) * s->batch.natts);
		ExecStoreVirtualTuple(slot);
	}
	else if (scanslot->tts_ops == &TTSOpsMinimalTuple)
	{
		/* the row itself (see fs_begin_stream) */
		slot = scanslot;
		fs_parallel_receive(s->par, s->worker, s->j, slot);
	}
	else
	{
		/* the scan's (virtual) slot points into the row, valid until the next */
		slot = scanslot;
		fs_parallel_receive(s->par, s->worker, s->j, s->mslot);
		slot_getallattrs(s->mslot);
		ExecClearTuple(slot);
		memcpy(slot->tts_values, s->mslot->tts_values, sizeof(Datum) * s->outdesc->natts);
		memcpy(slot->tts_isnull, s->mslot->tts_isnull, sizeof(bool) * s->outdesc->natts);
		ExecStoreVirtualTuple(slot);
	}
	s->done++;
	if ((s->done & 4095) == 0 || s->done == s->total)
	{
		CHECK_FOR_INTERRUPTS();
		fs_progress_update(s->first + s->done);
	}
	return slot;
}

/* Stop: end the workers, if any. */
static void
fs_stream_end(FsStream *s)
{
	if (s->par != NULL)
		fs_parallel_end(s->par);
	s->par = NULL;
	ExecDropSingleTupleTableSlot(s->mslot);
}
