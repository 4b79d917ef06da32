/*
 * parallel.c: generating a plan's chunks in parallel workers.
 *
 * A plan of several chunks (generate.h: a chunk's rows depend only on the
 * plan, the model, the call's streams and the chunk's number) is made by
 * fairsynth.parallel_workers parallel workers, as a parallel index build
 * does (a ParallelContext: the workers restore the leader's snapshot,
 * transaction, role and settings, and join its lock group):
 *
 *   leader                              worker w of W
 *   ------                              -------------
 *   model -> value (serial.c), plan,    value -> model, as fairsynth_sample
 *   streams into the DSM; launch        makes chunks 1 + w, 1 + w + W, ...
 *   makes chunk 0 itself                sends each row as a minimal tuple
 *   takes chunk j from queue (j-1) % W  through a queue of its own, in
 *   in order, into the tuplestore;      chunk order (blocking when full)
 *   makes it itself when that worker
 *   did not start
 *
 * So the output is the serial output row for row, whatever number of
 * workers started, and exact counts hold.  The workers read no table: the
 * value holds what the read learned.  They write nothing either.
 *
 * Not in parallel (the leader makes every chunk): in a parallel worker;
 * under fairsynth.parallel_min_rows rows; with a key fed by a sequence
 * (nextval is not allowed during a parallel operation); with a CHECK
 * constraint or generated column whose expression calls a function that is
 * not PARALLEL SAFE (the workers evaluate them).
 *
 * Errors: a worker's error is raised in the leader (the parallel machinery
 * forwards it); an error or cancel in the leader ends the workers with the
 * transaction or subtransaction.
 */
#include "postgres.h"

#include <limits.h>

#include "access/parallel.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/memutils.h"

#include "generate.h"
#include "parallel.h"
#include "progress.h"
#include "serial.h"

int			fairsynth_parallel_workers = FS_PARALLEL_WORKERS_DEFAULT;
int			fairsynth_parallel_min_rows = FS_PARALLEL_MIN_ROWS_DEFAULT;

/*
 * Bytes of each worker's queue of rows: more than a chunk of typical rows
 * (65536 of 130 bytes), so that while the leader takes one worker's chunk
 * the others make their next.
 */
#define FS_PARALLEL_QUEUE_SIZE (16 * 1024 * 1024)

/* Keys of the DSM's table of contents. */
#define FS_KEY_SHARED	UINT64CONST(0xF500000000000001)
#define FS_KEY_VALUE	UINT64CONST(0xF500000000000002)
#define FS_KEY_COUNTS	UINT64CONST(0xF500000000000003)
#define FS_KEY_OUTMAP	UINT64CONST(0xF500000000000004)
#define FS_KEY_TUPDESC	UINT64CONST(0xF500000000000005)
#define FS_KEY_QUEUES	UINT64CONST(0xF500000000000006)

/* What every worker reads from the DSM besides the value and the arrays. */
typedef struct FsParallelShared
{
	Oid			relid;
	bool		impute;
	bool		additive;
	bool		has_whole;		/* COUNTS also holds the whole plan's counts */
	int			ncombos;
	int64		total;
	int			nchunks;
	int			nworkers;		/* planned: chunk j > 0 is worker (j-1) % this */
	uint64		base;			/* streams of chunks > 0 */
	uint32		run;			/* text keys */
} FsParallelShared;

/* What describes the output's rows: its type and attributes. */
typedef struct FsSharedTupdesc
{
	Oid			typid;
	int32		typmod;
	int			natts;
	char		attrs[FLEXIBLE_ARRAY_MEMBER];	/* natts fixed parts */
} FsSharedTupdesc;

/* The leader's side of a parallel run. */
struct FsParallel
{
	ParallelContext *pcxt;
	int			nworkers;		/* planned */
	int			nlaunched;
	shm_mq_handle **queues;		/* the leader's end of each worker's queue */
	TupleTableSlot *slot;
};

PGDLLEXPORT void fs_parallel_worker_main(dsm_segment *seg, shm_toc *toc);

static bool fs_function_not_parallel_safe(Oid funcid, void *context);
static bool fs_expr_not_parallel_safe(Node *node, void *context);
static Size fs_tupdesc_size(TupleDesc desc);
static void *fs_tupdesc_put(void *space, TupleDesc desc);
static TupleDesc fs_tupdesc_get(const FsSharedTupdesc *sd);
static void fs_queue_sink(void *arg, Datum *values, bool *nulls);

/* ---------------------------------------------------------------------------
 * Settings
 * ---------------------------------------------------------------------------
 */

/* Define the settings of parallel generation (called by _PG_init). */
void
fs_parallel_init(void)
{
	fs_define_int("fairsynth.parallel_workers",
				  "Parallel workers a fairsynth call may start to generate rows.",
				  "0 generates in the calling backend only. The workers come from max_parallel_workers; the rows are the same whatever number start.",
				  &fairsynth_parallel_workers, FS_PARALLEL_WORKERS_DEFAULT,
				  FS_PARALLEL_WORKERS_MIN, FS_PARALLEL_WORKERS_MAX,
				  PGC_USERSET, 0);
	fs_define_int("fairsynth.parallel_min_rows",
				  "Rows from which a fairsynth call generates in parallel workers.",
				  "Calls generating fewer rows (or at most one chunk of 65536 rows) generate in the calling backend.",
				  &fairsynth_parallel_min_rows, FS_PARALLEL_MIN_ROWS_DEFAULT,
				  FS_PARALLEL_MIN_ROWS_MIN, FS_PARALLEL_MIN_ROWS_MAX,
				  PGC_USERSET, 0);
}

/* ---------------------------------------------------------------------------
 * The output's row type in the DSM (TupleDescCopy takes only RECORD types)
 * ---------------------------------------------------------------------------
 */

static Size
fs_tupdesc_size(TupleDesc desc)
{
	return offsetof(FsSharedTupdesc, attrs) + (Size) ATTRIBUTE_FIXED_PART_SIZE * desc->natts;
}

static void *
fs_tupdesc_put(void *space, TupleDesc desc)
{
	FsSharedTupdesc *sd = space;

	sd->typid = desc->tdtypeid;
	sd->typmod = desc->tdtypmod;
	sd->natts = desc->natts;
	for (int a = 0; a < desc->natts; a++)
		memcpy(sd->attrs + (Size) ATTRIBUTE_FIXED_PART_SIZE * a, TupleDescAttr(desc, a),
			   ATTRIBUTE_FIXED_PART_SIZE);
	return sd;
}

static TupleDesc
fs_tupdesc_get(const FsSharedTupdesc *sd)
{
	TupleDesc	desc = CreateTemplateTupleDesc(sd->natts);

	for (int a = 0; a < sd->natts; a++)
		memcpy(TupleDescAttr(desc, a), sd->attrs + (Size) ATTRIBUTE_FIXED_PART_SIZE * a,
			   ATTRIBUTE_FIXED_PART_SIZE);
	desc->tdtypeid = sd->typid;
	desc->tdtypmod = sd->typmod;
	return desc;
}

/* ---------------------------------------------------------------------------
 * Whether the workers may generate
 * ---------------------------------------------------------------------------
 */

static bool
fs_function_not_parallel_safe(Oid funcid, void *context)
{
	return func_parallel(funcid) != PROPARALLEL_SAFE;
}

static bool
fs_expr_not_parallel_safe(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, fs_function_not_parallel_safe, context))
		return true;
	return expression_tree_walker(node, fs_expr_not_parallel_safe, context);
}

/*
 * Whether the expressions generating relid's rows evaluates (CHECK
 * constraints, generated columns, defaults of keys) call only PARALLEL SAFE
 * functions, and no column is an identity column.
 */
bool
fs_relation_parallel_safe(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	bool		safe = true;

	for (int i = 0; constr != NULL && safe && i < constr->num_check; i++)
		safe = !fs_expr_not_parallel_safe(stringToNode(constr->check[i].ccbin), NULL);
	/* defaults too: a key fed by a sequence calls nextval, not allowed */
	for (int i = 0; constr != NULL && safe && i < constr->num_defval; i++)
		safe = !fs_expr_not_parallel_safe(stringToNode(constr->defval[i].adbin), NULL);
	for (int a = 0; safe && a < RelationGetDescr(rel)->natts; a++)
		safe = TupleDescAttr(RelationGetDescr(rel), a)->attidentity == '\0';
	relation_close(rel, AccessShareLock);
	return safe;
}

/* ---------------------------------------------------------------------------
 * Leader
 * ---------------------------------------------------------------------------
 */

/*
 * Start the workers for the nchunks chunks of plan, or return NULL when the
 * call generates alone (see the file header).  The arguments are
 * fs_generate's, with the call's run (text keys) and base (chunk streams).
 */
FsParallel *
fs_parallel_begin(FsSource *src, FsModel *m, FsPlan *plan, bool impute,
				  TupleDesc outdesc, const int *outmap, uint32 run,
				  uint64 base, int nchunks)
{
	int			nworkers = Min(fairsynth_parallel_workers, nchunks - 1);
	FsParallel *par;
	ParallelContext *pcxt;
	FsParallelShared *shared;
	bytea	   *value;
	Size		ncounts = (Size) plan->ncombos * (plan->whole_counts ? 2 : 1);
	char	   *queues;
	int64	   *counts;

	if (nworkers <= 0 || plan->total < fairsynth_parallel_min_rows ||
		IsParallelWorker() || !IsUnderPostmaster)
		return NULL;
	for (int c = 0; c < src->ncols; c++)
		if (src->cols[c].kind == FS_KEY &&
			((src->cols[c].exprstate != NULL && !src->cols[c].generated) ||
			 src->cols[c].shard_keys != NULL))
			return NULL;		/* a sequence's or a shard's keys: in order, here */
	if (!fs_relation_parallel_safe(src->relid))
		return NULL;

	value = fs_value_write(src, m, impute);

	EnterParallelMode();
	pcxt = CreateParallelContext("$libdir/fairsynth", "fs_parallel_worker_main",
								   nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(FsParallelShared));
	shm_toc_estimate_chunk(&pcxt->estimator, VARSIZE(value));
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(int64) * Max(ncounts, 1));
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(int) * Max(outdesc->natts, 1));
	shm_toc_estimate_chunk(&pcxt->estimator, fs_tupdesc_size(outdesc));
	shm_toc_estimate_chunk(&pcxt->estimator, (Size) FS_PARALLEL_QUEUE_SIZE * nworkers);
	shm_toc_estimate_keys(&pcxt->estimator, 6);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no DSM to be had: generate alone */
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return NULL;
	}

	shared = shm_toc_allocate(pcxt->toc, sizeof(FsParallelShared));
	shared->relid = src->relid;
	shared->impute = impute;
	shared->additive = plan->additive;
	shared->has_whole = plan->whole_counts != NULL;
	shared->ncombos = plan->ncombos;
	shared->total = plan->total;
	shared->nchunks = nchunks;
	shared->nworkers = nworkers;
	shared->base = base;
	shared->run = run;
	shm_toc_insert(pcxt->toc, FS_KEY_SHARED, shared);

	shm_toc_insert(pcxt->toc, FS_KEY_VALUE,
				   memcpy(shm_toc_allocate(pcxt->toc, VARSIZE(value)), value, VARSIZE(value)));
	counts = shm_toc_allocate(pcxt->toc, sizeof(int64) * Max(ncounts, 1));
	memcpy(counts, plan->counts, sizeof(int64) * plan->ncombos);
	if (plan->whole_counts)
		memcpy(counts + plan->ncombos, plan->whole_counts, sizeof(int64) * plan->ncombos);
	shm_toc_insert(pcxt->toc, FS_KEY_COUNTS, counts);
	shm_toc_insert(pcxt->toc, FS_KEY_OUTMAP,
				   memcpy(shm_toc_allocate(pcxt->toc, sizeof(int) * Max(outdesc->natts, 1)),
						  outmap, sizeof(int) * outdesc->natts));
	shm_toc_insert(pcxt->toc, FS_KEY_TUPDESC,
				   fs_tupdesc_put(shm_toc_allocate(pcxt->toc, fs_tupdesc_size(outdesc)),
								  outdesc));

	par = palloc0(sizeof(FsParallel));
	par->pcxt = pcxt;
	par->nworkers = nworkers;
	par->queues = palloc0(sizeof(shm_mq_handle *) * nworkers);
	queues = shm_toc_allocate(pcxt->toc, (Size) FS_PARALLEL_QUEUE_SIZE * nworkers);
	for (int w = 0; w < nworkers; w++)
	{
		shm_mq	   *mq = shm_mq_create(queues + (Size) FS_PARALLEL_QUEUE_SIZE * w,
									   FS_PARALLEL_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		par->queues[w] = shm_mq_attach(mq, pcxt->seg, NULL);
	}
	shm_toc_insert(pcxt->toc, FS_KEY_QUEUES, queues);

	LaunchParallelWorkers(pcxt);
	par->nlaunched = pcxt->nworkers_launched;
	/* a worker that does not start detaches its queue: no wait on it forever */
	for (int w = 0; w < par->nlaunched; w++)
		shm_mq_set_handle(par->queues[w], pcxt->worker[w].bgwhandle);
	par->slot = MakeSingleTupleTableSlot(outdesc, &TTSOpsMinimalTuple);
	ereport(DEBUG1,
			(errmsg("fairsynth: generating %d chunks with %d of %d parallel workers",
					nchunks, par->nlaunched, nworkers)));
	return par;
}

/* How many workers started. */
int
fs_parallel_launched(FsParallel *par)
{
	return par->nlaunched;
}

/* The worker whose queue holds chunk j's rows, or -1: the leader makes it. */
int
fs_parallel_worker_of(FsParallel *par, int j)
{
	int			w;

	if (j == 0)
		return -1;
	w = (j - 1) % par->nworkers;
	return w < par->nlaunched ? w : -1;
}

/*
 * Store the next row of worker w's queue in slot (a minimal tuple slot of
 * the output's row type), valid until the next call; j names the chunk in
 * an error.
 */
void
fs_parallel_receive(FsParallel *par, int w, int j, TupleTableSlot *slot)
{
	Size		nbytes;
	void	   *data;

	if (shm_mq_receive(par->queues[w], &nbytes, &data, false) != SHM_MQ_SUCCESS)
	{
		/* its error, if it raised one, comes first */
		WaitForParallelWorkersToFinish(par->pcxt);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("fairsynth parallel worker %d ended before its rows of chunk %d", w, j)));
	}
	ExecStoreMinimalTuple((MinimalTuple) data, slot, false);
}

/*
 * If a worker makes chunk j (total rows, the first of them first), move its
 * rows into store and return true; false: the leader makes it.
 */
bool
fs_parallel_take(FsParallel *par, int j, int64 first, int64 total,
				 Tuplestorestate *store)
{
	int			w = fs_parallel_worker_of(par, j);

	if (w < 0)
		return false;
	for (int64 i = 0; i < total; i++)
	{
		fs_parallel_receive(par, w, j, par->slot);
		tuplestore_puttupleslot(store, par->slot);
		if ((i & 4095) == 4095)
			fs_progress_update(first + i + 1);
	}
	fs_progress_update(first + total);
	return true;
}

/* Wait for the workers to end and leave parallel mode. */
void
fs_parallel_end(FsParallel *par)
{
	ExecDropSingleTupleTableSlot(par->slot);
	/* a worker still sending (the scan stopped early) sees this and stops */
	for (int w = 0; w < par->nworkers; w++)
		shm_mq_detach(par->queues[w]);
	WaitForParallelWorkersToFinish(par->pcxt);
	DestroyParallelContext(par->pcxt);
	ExitParallelMode();
}

/* ---------------------------------------------------------------------------
 * Worker
 * ---------------------------------------------------------------------------
 */

/* A worker's queue: where its rows go. */
typedef struct FsQueueSink
{
	shm_mq_handle *mqh;
	TupleDesc	desc;
	bool		stopped;		/* the leader stopped reading */
} FsQueueSink;

/* A row into the worker's queue, as a minimal tuple. */
static void
fs_queue_sink(void *arg, Datum *values, bool *nulls)
{
	FsQueueSink *q = (FsQueueSink *) arg;
	MinimalTuple tup;

	if (q->stopped)
		return;
	tup = heap_form_minimal_tuple(q->desc, values, nulls);
	/* the leader detached: it needs no more rows (a LIMIT, or its error) */
	if (shm_mq_send(q->mqh, tup->t_len, tup, false, false) != SHM_MQ_SUCCESS)
		q->stopped = true;
}

/*
 * A worker: rebuild the model from the value as fairsynth_sample does, and
 * make this worker's chunks into its queue.
 */
void
fs_parallel_worker_main(dsm_segment *seg, shm_toc *toc)
{
	FsParallelShared *shared = shm_toc_lookup(toc, FS_KEY_SHARED, false);
	bytea	   *value = shm_toc_lookup(toc, FS_KEY_VALUE, false);
	int64	   *counts = shm_toc_lookup(toc, FS_KEY_COUNTS, false);
	int		   *outmap = shm_toc_lookup(toc, FS_KEY_OUTMAP, false);
	TupleDesc	desc = fs_tupdesc_get(shm_toc_lookup(toc, FS_KEY_TUPDESC, false));
	char	   *queues = shm_toc_lookup(toc, FS_KEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (queues + (Size) FS_PARALLEL_QUEUE_SIZE * ParallelWorkerNumber);
	shm_mq_handle *mqh;
	FsValueInfo info;
	FsSource	src;
	FsModel    *model;
	FsPlan		plan = {0};
	FsGenerator *g;
	int64	   *chunk = palloc(sizeof(int64) * Max(shared->ncombos, 1));
	FsQueueSink sink = {0};

	fs_asan_entry();
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);

	model = fs_value_model(value, shared->relid, &info, &src);

	plan.ncombos = shared->ncombos;
	plan.counts = counts;
	plan.total = shared->total;
	plan.additive = shared->additive;
	plan.whole_counts = shared->has_whole ? counts + shared->ncombos : NULL;

	g = fs_generator_begin(&src, model, &plan, shared->impute, desc, outmap,
						   shared->run, shared->base);
	sink.mqh = mqh;
	sink.desc = desc;
	for (int j = 1 + ParallelWorkerNumber;
		 j < shared->nchunks && !sink.stopped; j += shared->nworkers)
	{
		int64		total;
		int64		first = fs_chunk_counts(&plan, j, shared->nchunks, chunk, &total);

		/* (chunk 0, the call's stream, is the leader's) */
		fs_generate_chunk(g, j, NULL, chunk, total, first, fs_queue_sink, &sink, false);
	}
	shm_mq_detach(mqh);
}
