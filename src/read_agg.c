/*
 * read_agg.c: the read of a relation as a mergeable aggregate state.
 *
 * fairsynth_read(row, columns) is an aggregate whose state holds what
 * fairsynth's read yields (scan.c): the row count, the exact counts of the
 * balance columns' value combinations, a fingerprint of the rows and a
 * uniform sample of at most fairsynth.sample_rows rows.  Every part is
 * order-independent, so states from any split of the rows merge into the
 * state of all of them, whatever the order:
 *   - combinations are keyed by value (the type's dictionary key, scan.c's),
 *     never by a per-process code;
 *   - the fingerprint is the sum (mod 2^64) of the rows' hashes, not a chain;
 *   - the sample is a bottom-k sample: the rows with the k smallest
 *     priorities, a priority being a hash of the row's bytes (identical rows
 *     share one: they are in or out together, which keeps every row's
 *     chance of selection but not independence between copies).
 * Within one node the sampled rows are kept as the row's tuple bytes.  Those
 * are not for another node: a composite datum carries its row type's OID and
 * version, an enum value its label's OID.  So what leaves the node
 * (fairsynth_internal.fairsynth_read_state's final, fairsynth_read_export) is
 * the portable form: every sampled row as its columns' text output, every
 * combination as its values' text, re-formed on the fitting node with that
 * node's own types (fairsynth_read_fit), never by copying tuple bytes.
 * With combine, serialize and deserialize functions, all PARALLEL SAFE,
 * PostgreSQL runs it in parallel workers (Partial / Finalize Aggregate), and
 * Citus can push it down to shards as a partial aggregate.  The final value
 * is a jsonb summary: rows, fingerprint, combinations with their counts (in
 * value order), and the sample's size and priority sum.
 *
 * fs_run (balance.c) still reads through scan.c: switching it to this
 * state changes the sample (bottom-k instead of reservoir) and the
 * fingerprint (a sum instead of a chain), so every seeded output and the
 * model cache's keys; that is left for a change of its own.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"
#include "utils/typcache.h"

#include "fairsynth.h"
#include "args.h"
#include "model.h"
#include "progress.h"
#include "serial.h"
#include "text.h"

PG_FUNCTION_INFO_V1(fairsynth_read_sfunc);
PG_FUNCTION_INFO_V1(fairsynth_read_combine);
PG_FUNCTION_INFO_V1(fairsynth_read_serialize);
PG_FUNCTION_INFO_V1(fairsynth_read_deserialize);
PG_FUNCTION_INFO_V1(fairsynth_read_final);
PG_FUNCTION_INFO_V1(fairsynth_read_export);
PG_FUNCTION_INFO_V1(fairsynth_read_merge);
PG_FUNCTION_INFO_V1(fairsynth_read_fit);
PG_FUNCTION_INFO_V1(fairsynth_read_shards);

#define FS_READ_PRIORITY_SEED UINT64CONST(0x73616d706c65)

/* The first four bytes of a state: rows as tuple bytes, or portable. */
#define FS_READ_NATIVE		0x46535231	/* "FSR1" */
#define FS_READ_PORTABLE	0x46535250	/* "FSRP" */

/* The aggregate's state. */
typedef struct FsReadState
{
	bool		portable;		/* rows and keys as text (fs_read_export) */
	int64		nrows;
	uint64		fingerprint;	/* sum of the rows' hashes */
	FsDict	   *combos;			/* combination key -> count */
	int			ncolumns;		/* the balance columns' names */
	char	  **columns;
	int			cap;			/* sample rows at most */
	int			alloc;			/* sample rows allocated */
	int			nsample;
	uint64	   *prio;			/* max-heap on priority */
	bytea	  **rows;			/* the sampled rows' tuple bytes */
} FsReadState;

/* What the transition function keeps per call site: the balance columns. */
typedef struct FsReadCall
{
	Oid			typid;
	TupleDesc	desc;
	int			nbalance;
	int		   *attno;			/* per balance column: attribute index */
	FsColumn   *cols;			/* per balance column: for its keys */
	int			natts;			/* attributes to deform: up to the last balance column */
	TupleTableSlot *slot;		/* a row, deformed that far */
	StringInfoData key;			/* a row's combination key */
} FsReadCall;

static FsReadState *fs_read_state_new(MemoryContext ctx);
static void fs_read_count(FsReadState *st, const char *key, int len, int64 n);
static void fs_read_sift_down(FsReadState *st, int n, uint64 prio, bytea *row);
static void fs_read_offer(FsReadState *st, uint64 prio, const char *data, Size len);
static FsReadCall *fs_read_call(FunctionCallInfo fcinfo, Oid typid, char **names, int n);
static void fs_read_set_columns(FsReadState *st, ArrayType *columns, MemoryContext ctx);
static MemoryContext fs_read_aggcontext(FunctionCallInfo fcinfo);
static bytea *fs_read_encode(FsReadState *st);
static bytea *fs_read_export_state(FsReadState *st, FsReadCall *call);
static FsReadState *fs_read_decode(bytea *in, MemoryContext ctx);
static FsReadState *fs_read_merge(FsReadState *a, FsReadState *b, MemoryContext ctx);

/* ---------------------------------------------------------------------------
 * State
 * ---------------------------------------------------------------------------
 */

static MemoryContext
fs_read_aggcontext(FunctionCallInfo fcinfo)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called as part of the aggregate fairsynth_read",
						get_func_name(fcinfo->flinfo->fn_oid))));
	return ctx;
}

static FsReadState *
fs_read_state_new(MemoryContext ctx)
{
	MemoryContext old = MemoryContextSwitchTo(ctx);
	FsReadState *st = palloc0(sizeof(FsReadState));

	st->combos = fs_dict_create(64);
	st->cap = fairsynth_sample_rows;
	st->alloc = Max(Min(st->cap, 1024), 1);
	st->prio = palloc(sizeof(uint64) * st->alloc);
	st->rows = palloc(sizeof(bytea *) * st->alloc);
	st->ncolumns = -1;			/* not known before the first row */
	MemoryContextSwitchTo(old);
	return st;
}

/* Add n rows of the combination key. */
static void
fs_read_count(FsReadState *st, const char *key, int len, int64 n)
{
	int			code = fs_dict_lookup(st->combos, key, len, true);

	fs_dict_counts(st->combos)[code] += n - 1;
}

/*
 * Put (prio, row) at the top of the max-heap of the first n sample slots,
 * whose top slot is free, and sift it down to its place.
 */
static void
fs_read_sift_down(FsReadState *st, int n, uint64 prio, bytea *row)
{
	int			i = 0;

	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					big = i;
		uint64		bp = prio;

		if (l < n && st->prio[l] > bp)
			big = l, bp = st->prio[l];
		if (r < n && st->prio[r] > bp)
			big = r;
		if (big == i)
			break;
		st->prio[i] = st->prio[big];
		st->rows[i] = st->rows[big];
		i = big;
	}
	st->prio[i] = prio;
	st->rows[i] = row;
}

/* Whether the bottom-k sample (a max-heap) would keep a row of priority prio. */
static inline bool
fs_read_keeps(const FsReadState *st, uint64 prio)
{
	return st->cap > 0 && !(st->nsample == st->cap && prio >= st->prio[0]);
}

/* Offer a row of priority prio to the bottom-k sample. */
static void
fs_read_offer(FsReadState *st, uint64 prio, const char *data, Size len)
{
	bytea	   *row;
	int			i;

	if (!fs_read_keeps(st, prio))
		return;
	row = palloc(VARHDRSZ + len);
	SET_VARSIZE(row, VARHDRSZ + len);
	memcpy(VARDATA(row), data, len);
	if (st->nsample < st->cap)
	{
		/* grow, then sift up */
		if (st->nsample == st->alloc)
		{
			st->alloc = Min((int64) st->alloc * 2, st->cap);
			st->prio = repalloc(st->prio, sizeof(uint64) * st->alloc);
			st->rows = repalloc(st->rows, sizeof(bytea *) * st->alloc);
		}
		i = st->nsample++;
		while (i > 0 && st->prio[(i - 1) / 2] < prio)
		{
			st->prio[i] = st->prio[(i - 1) / 2];
			st->rows[i] = st->rows[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		st->prio[i] = prio;
		st->rows[i] = row;
		return;
	}
	/* replace the largest, then sift down */
	pfree(st->rows[0]);
	fs_read_sift_down(st, st->nsample, prio, row);
}

/* ---------------------------------------------------------------------------
 * Transition
 * ---------------------------------------------------------------------------
 */

/* Keep the names of the balance columns in the state (for the final). */
static void
fs_read_set_columns(FsReadState *st, ArrayType *columns, MemoryContext ctx)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n = 0;
	MemoryContext old;

	if (columns != NULL)
	{
		fs_require_one_dimensional(columns, "columns");
		deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	}
	old = MemoryContextSwitchTo(ctx);
	st->columns = palloc(sizeof(char *) * Max(n, 1));
	for (int b = 0; b < n; b++)
	{
		if (nulls[b])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("columns must not contain NULL (element %d)", b + 1)));
		st->columns[b] = TextDatumGetCString(elems[b]);
	}
	st->ncolumns = n;
	MemoryContextSwitchTo(old);
}

/* The balance columns names of the row type typid, per call site. */
static FsReadCall *
fs_read_call(FunctionCallInfo fcinfo, Oid typid, char **names, int n)
{
	FsReadCall *call = (FsReadCall *) fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (call != NULL && call->typid == typid)
		return call;
	if (typid == RECORDOID || !type_is_rowtype(typid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fairsynth_read needs rows of a table's or view's row type, not %s",
						format_type_be(typid)),
				 errhint("Aggregate the rows of a table or of a view of the query: CREATE VIEW v AS SELECT ...; SELECT fairsynth_read(v, ARRAY['col']) FROM v;")));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	call = palloc0(sizeof(FsReadCall));
	call->typid = typid;
	call->desc = lookup_rowtype_tupdesc_copy(typid, -1);
	call->nbalance = n;
	call->attno = palloc(sizeof(int) * Max(n, 1));
	call->cols = palloc0(sizeof(FsColumn) * Max(n, 1));
	for (int b = 0; b < n; b++)
	{
		char	   *name = pstrdup(names[b]);

		call->attno[b] = -1;
		for (int a = 0; a < call->desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(call->desc, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
				call->attno[b] = a;
		}
		if (call->attno[b] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" does not exist in row type %s",
							name, format_type_be(typid))));
		call->cols[b].name = name;
		call->cols[b].typid = TupleDescAttr(call->desc, call->attno[b])->atttypid;
		call->cols[b].typmod = TupleDescAttr(call->desc, call->attno[b])->atttypmod;
		call->cols[b].type = fs_type_of(call->cols[b].typid, name);
		call->cols[b].kind = FS_CAT;
		/* as fairsynth_balance's balance columns (scan.c) */
		if (call->cols[b].type == FS_UUID)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is a key (uuid), so it cannot be balanced", name),
					 errhint("Balance columns and outcomes are categories shared by many rows, such as race or gender.")));
	}
	for (int b = 0; b < n; b++)
		call->natts = Max(call->natts, call->attno[b] + 1);
	call->slot = MakeSingleTupleTableSlot(call->desc, &TTSOpsHeapTuple);
	initStringInfo(&call->key);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = call;
	return call;
}

/*
 * Add a row to st: its bytes past the header (null bitmap and data, data and
 * len, which the fingerprint and the sample's priority hash), its balance
 * columns deformed in slot (at least call->natts attributes), and the row as
 * a composite datum of call's row type, made by make_datum(arg) only when the
 * sample keeps it.  st's memory is in ctx.
 */
static void
fs_read_add(FsReadState *st, FsReadCall *call, const char *data, Size len,
			TupleTableSlot *slot, HeapTupleHeader (*make_datum) (void *),
			void *arg, MemoryContext ctx)
{
	StringInfo	key = &call->key;
	uint64		h = fs_hash_bytes(data, len, 0);
	uint64		prio;
	MemoryContext old;

	st->nrows++;
	st->fingerprint += h;

	/* the combination, by value */
	resetStringInfo(key);
	for (int b = 0; b < call->nbalance; b++)
	{
		int			a = call->attno[b];
		int32		klen = -1;
		char		buf[8];
		const char *k = NULL;

		if (!slot->tts_isnull[a])
			klen = fs_datum_key(slot->tts_values[a], &call->cols[b], buf, &k);
		appendBinaryStringInfo(key, (const char *) &klen, sizeof(klen));
		if (klen > 0)
			appendBinaryStringInfo(key, k, klen);
	}
	old = MemoryContextSwitchTo(ctx);
	fs_read_count(st, key->data, key->len, 1);
	prio = fs_hash_bytes(data, len, FS_READ_PRIORITY_SEED);
	if (fs_read_keeps(st, prio))
	{
		HeapTupleHeader td;

		MemoryContextSwitchTo(old);
		td = make_datum(arg);
		MemoryContextSwitchTo(ctx);
		fs_read_offer(st, prio, (const char *) td, HeapTupleHeaderGetDatumLength(td));
	}
	MemoryContextSwitchTo(old);
}

/* make_datum of the transition: the argument is the row datum itself. */
static HeapTupleHeader
fs_read_datum_given(void *arg)
{
	return (HeapTupleHeader) arg;
}

/* fairsynth_read_sfunc(state internal, row anyelement, columns text[]) */
Datum
fairsynth_read_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = fs_read_aggcontext(fcinfo);
	FsReadState *st = PG_ARGISNULL(0) ? fs_read_state_new(aggctx) :
		(FsReadState *) PG_GETARG_POINTER(0);
	HeapTupleHeader td;
	HeapTupleData tuple;
	FsReadCall *call;
	TupleTableSlot *slot;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);	/* a NULL row (an outer join's): not a row */
	if (st->ncolumns < 0)
		fs_read_set_columns(st, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), aggctx);
	/* the argument's type is checked before its datum is read as a row */
	call = fs_read_call(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 1),
						st->columns, st->ncolumns);
	td = PG_GETARG_HEAPTUPLEHEADER(1);

	/* only as far as the last balance column, into buffers kept per call */
	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	slot = call->slot;
	ExecStoreHeapTuple(&tuple, slot, false);
	slot_getsomeattrs(slot, call->natts);
	/* the row's bytes past the header: null bitmap and data */
	fs_read_add(st, call, (const char *) td + offsetof(HeapTupleHeaderData, t_bits),
				HeapTupleHeaderGetDatumLength(td) - offsetof(HeapTupleHeaderData, t_bits),
				slot, fs_read_datum_given, td, aggctx);
	ExecClearTuple(slot);
	PG_RETURN_POINTER(st);
}

/* ---------------------------------------------------------------------------
 * Combine, serialize, deserialize
 * ---------------------------------------------------------------------------
 */

/* fairsynth_read_combine(a internal, b internal) */
Datum
fairsynth_read_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = fs_read_aggcontext(fcinfo);
	FsReadState *a = PG_ARGISNULL(0) ? NULL : (FsReadState *) PG_GETARG_POINTER(0);
	FsReadState *b = PG_ARGISNULL(1) ? NULL : (FsReadState *) PG_GETARG_POINTER(1);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = fs_read_state_new(aggctx);
	PG_RETURN_POINTER(fs_read_merge(a, b, aggctx));
}

/* Merge state b into state a (in a's context ctx). */
static FsReadState *
fs_read_merge(FsReadState *a, FsReadState *b, MemoryContext ctx)
{
	MemoryContext old = MemoryContextSwitchTo(ctx);

	if (a->nrows == 0 && a->nsample == 0 && fs_dict_size(a->combos) == 0)
		a->portable = b->portable;
	else if (b->nrows > 0 && a->portable != b->portable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge a fairsynth_read state of this node with a portable one"),
				 errhint("Merge states made by fairsynth_internal.fairsynth_read_state or fairsynth_read_merge only.")));
	if (a->ncolumns < 0 && b->ncolumns >= 0)
	{
		a->ncolumns = b->ncolumns;
		a->columns = palloc(sizeof(char *) * Max(b->ncolumns, 1));
		for (int i = 0; i < b->ncolumns; i++)
			a->columns[i] = pstrdup(b->columns[i]);
	}
	a->nrows += b->nrows;
	a->fingerprint += b->fingerprint;
	for (int i = 0; i < fs_dict_size(b->combos); i++)
	{
		int			len;
		const char *key = fs_dict_key(b->combos, i, &len);

		fs_read_count(a, key, len, fs_dict_counts(b->combos)[i]);
	}
	for (int i = 0; i < b->nsample; i++)
		fs_read_offer(a, b->prio[i], VARDATA(b->rows[i]), VARSIZE(b->rows[i]) - VARHDRSZ);
	MemoryContextSwitchTo(old);
	return a;
}

/* fairsynth_read_serialize(internal) RETURNS bytea */
Datum
fairsynth_read_serialize(PG_FUNCTION_ARGS)
{
	FsReadState *st = (FsReadState *) PG_GETARG_POINTER(0);

	(void) fs_read_aggcontext(fcinfo);
	PG_RETURN_BYTEA_P(fs_read_encode(st));
}

/* The state as bytes (the serialized form, also fairsynth_read_state's). */
static bytea *
fs_read_encode(FsReadState *st)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->portable ? FS_READ_PORTABLE : FS_READ_NATIVE);
	pq_sendint64(&buf, st->nrows);
	pq_sendint64(&buf, (int64) st->fingerprint);
	pq_sendint32(&buf, st->cap);
	pq_sendint32(&buf, st->ncolumns);
	for (int i = 0; i < st->ncolumns; i++)
		pq_sendstring(&buf, st->columns[i]);
	pq_sendint32(&buf, fs_dict_size(st->combos));
	for (int i = 0; i < fs_dict_size(st->combos); i++)
	{
		int			len;
		const char *key = fs_dict_key(st->combos, i, &len);

		pq_sendint32(&buf, len);
		pq_sendbytes(&buf, key, len);
		pq_sendint64(&buf, fs_dict_counts(st->combos)[i]);
	}
	pq_sendint32(&buf, st->nsample);
	for (int i = 0; i < st->nsample; i++)
	{
		pq_sendint64(&buf, (int64) st->prio[i]);
		pq_sendint32(&buf, VARSIZE(st->rows[i]) - VARHDRSZ);
		pq_sendbytes(&buf, VARDATA(st->rows[i]), VARSIZE(st->rows[i]) - VARHDRSZ);
	}
	return pq_endtypsend(&buf);
}

/* fairsynth_read_deserialize(bytea, internal) RETURNS internal */
Datum
fairsynth_read_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = fs_read_aggcontext(fcinfo);

	PG_RETURN_POINTER(fs_read_decode(PG_GETARG_BYTEA_PP(0), aggctx));
}

/* A state from its bytes, in ctx: a malformed one is an error, never a crash. */
static FsReadState *
fs_read_decode(bytea *in, MemoryContext ctx)
{
	StringInfoData buf;
	FsReadState *st = fs_read_state_new(ctx);
	MemoryContext old = MemoryContextSwitchTo(ctx);
	int			n;
	int32		form;

	/* pq_getmsg* check every length against the message: an error, not a crash */
	buf.data = VARDATA_ANY(in);
	buf.len = VARSIZE_ANY_EXHDR(in);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	form = pq_getmsgint(&buf, 4);
	if (form != FS_READ_NATIVE && form != FS_READ_PORTABLE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("not a fairsynth_read state (it starts with 0x%08x)", (unsigned int) form)));
	st->portable = (form == FS_READ_PORTABLE);
	st->nrows = pq_getmsgint64(&buf);
	st->fingerprint = (uint64) pq_getmsgint64(&buf);
	st->cap = pq_getmsgint(&buf, 4);
	st->ncolumns = pq_getmsgint(&buf, 4);
	if (st->ncolumns < -1 || st->ncolumns > MaxHeapAttributeNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fairsynth_read state names %d columns", st->ncolumns)));
	st->columns = palloc(sizeof(char *) * Max(st->ncolumns, 1));
	for (int i = 0; i < st->ncolumns; i++)
		st->columns[i] = pstrdup(pq_getmsgstring(&buf));
	n = pq_getmsgint(&buf, 4);
	for (int i = 0; i < n; i++)
	{
		int			len = pq_getmsgint(&buf, 4);
		const char *key = pq_getmsgbytes(&buf, len);

		fs_read_count(st, key, len, pq_getmsgint64(&buf));
	}
	n = pq_getmsgint(&buf, 4);
	for (int i = 0; i < n; i++)
	{
		uint64		prio = (uint64) pq_getmsgint64(&buf);
		int			len = pq_getmsgint(&buf, 4);

		fs_read_offer(st, prio, pq_getmsgbytes(&buf, len), len);
	}
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	return st;
}

/* ---------------------------------------------------------------------------
 * Final
 * ---------------------------------------------------------------------------
 */

/* Order combination keys by their text (for a stable summary). */
static int
fs_read_text_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* fairsynth_read_final(internal, anyelement, text[]) RETURNS jsonb */
Datum
fairsynth_read_final(PG_FUNCTION_ARGS)
{
	FsReadState *st = PG_ARGISNULL(0) ? NULL : (FsReadState *) PG_GETARG_POINTER(0);
	FsReadCall *call;
	StringInfoData out;
	char	  **items;
	int			n;
	uint64		psum = 0;

	(void) fs_read_aggcontext(fcinfo);
	if (st == NULL || st->ncolumns < 0)
		PG_RETURN_NULL();
	call = fs_read_call(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 1),
						st->columns, st->ncolumns);
	n = fs_dict_size(st->combos);
	items = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		int			len;
		const char *key = fs_dict_key(st->combos, i, &len);
		StringInfoData item;
		int			pos = 0;

		initStringInfo(&item);
		appendStringInfoString(&item, "{\"values\": [");
		for (int b = 0; b < call->nbalance; b++)
		{
			int32		klen;

			memcpy(&klen, key + pos, sizeof(klen));
			pos += sizeof(klen);
			if (b > 0)
				appendStringInfoString(&item, ", ");
			if (klen < 0)
				appendStringInfoString(&item, "null");
			else
			{
				escape_json(&item, fs_key_to_text(key + pos, klen, &call->cols[b]));
				pos += klen;
			}
		}
		appendStringInfo(&item, "], \"rows\": " INT64_FORMAT "}", fs_dict_counts(st->combos)[i]);
		items[i] = item.data;
	}
	qsort(items, n, sizeof(char *), fs_read_text_cmp);
	for (int i = 0; i < st->nsample; i++)
		psum += st->prio[i];

	initStringInfo(&out);
	appendStringInfo(&out, "{\"rows\": " INT64_FORMAT ", \"fingerprint\": \"%016llx\", "
					 "\"sample_rows\": %d, \"sample_priority_sum\": \"%016llx\", \"combinations\": [",
					 st->nrows, (unsigned long long) st->fingerprint, st->nsample,
					 (unsigned long long) psum);
	for (int i = 0; i < n; i++)
		appendStringInfo(&out, "%s%s", i > 0 ? ", " : "", items[i]);
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/* ---------------------------------------------------------------------------
 * The portable form (what leaves the node)
 * ---------------------------------------------------------------------------
 */

/*
 * fairsynth_read_export(internal, anyelement, text[]) RETURNS bytea: the
 * final function of fairsynth_internal.fairsynth_read_state.  The state with
 * every combination as its values' text (per balance column an int32 length,
 * -1 for NULL, then the text) and every sampled row as its columns' text (an
 * int16 count of the row type's columns, dropped ones left out, then per
 * column an int32 length, -1 for NULL, then the text output): nothing in it
 * depends on this node's OIDs, catalog versions or alignment.
 */
Datum
fairsynth_read_export(PG_FUNCTION_ARGS)
{
	FsReadState *st = PG_ARGISNULL(0) ? NULL : (FsReadState *) PG_GETARG_POINTER(0);
	FsReadCall *call;

	(void) fs_read_aggcontext(fcinfo);
	if (st == NULL || st->ncolumns < 0)
		PG_RETURN_NULL();
	if (st->portable)
		PG_RETURN_BYTEA_P(fs_read_encode(st));
	call = fs_read_call(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 1),
						st->columns, st->ncolumns);
	PG_RETURN_BYTEA_P(fs_read_export_state(st, call));
}

/* The portable form of native state st, whose rows are of call's row type. */
static bytea *
fs_read_export_state(FsReadState *st, FsReadCall *call)
{
	FsReadState *out;
	TupleDesc	desc;
	FmgrInfo   *outfn;
	Datum	   *values;
	bool	   *isnull;
	int			nlive = 0;

	desc = call->desc;

	out = fs_read_state_new(CurrentMemoryContext);
	out->portable = true;
	out->nrows = st->nrows;
	out->fingerprint = st->fingerprint;
	out->cap = st->cap;
	out->ncolumns = st->ncolumns;
	out->columns = st->columns;

	/* the combinations, by their values' text */
	for (int i = 0; i < fs_dict_size(st->combos); i++)
	{
		int			len;
		const char *key = fs_dict_key(st->combos, i, &len);
		StringInfoData tkey;
		int			pos = 0;

		initStringInfo(&tkey);
		for (int b = 0; b < call->nbalance; b++)
		{
			int32		klen;
			int32		tlen = -1;
			char	   *text = NULL;

			memcpy(&klen, key + pos, sizeof(klen));
			pos += sizeof(klen);
			if (klen >= 0)
			{
				text = fs_key_to_text(key + pos, klen, &call->cols[b]);
				tlen = strlen(text);
				pos += klen;
			}
			{
				/* the length in network byte order: the key crosses nodes */
				uint32		nlen = pg_hton32((uint32) tlen);

				appendBinaryStringInfo(&tkey, (const char *) &nlen, sizeof(nlen));
			}
			if (tlen > 0)
				appendBinaryStringInfo(&tkey, text, tlen);
		}
		fs_read_count(out, tkey.data, tkey.len, fs_dict_counts(st->combos)[i]);
		pfree(tkey.data);
	}

	/* the sampled rows, by their columns' text */
	outfn = palloc(sizeof(FmgrInfo) * Max(desc->natts, 1));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		Oid			fn;
		bool		isvarlena;

		if (att->attisdropped)
			continue;
		nlive++;
		getTypeOutputInfo(att->atttypid, &fn, &isvarlena);
		fmgr_info(fn, &outfn[a]);
	}
	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	for (int r = 0; r < st->nsample; r++)
	{
		Size		len = VARSIZE(st->rows[r]) - VARHDRSZ;
		HeapTupleHeader td = palloc(len);	/* aligned for deforming */
		HeapTupleData tuple;
		StringInfoData row;

		memcpy(td, VARDATA(st->rows[r]), len);
		if (HeapTupleHeaderGetTypeId(td) != call->typid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a sampled row is of type %s, the aggregate's argument of %s",
							format_type_be(HeapTupleHeaderGetTypeId(td)), format_type_be(call->typid))));
		tuple.t_len = len;
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = td;
		heap_deform_tuple(&tuple, desc, values, isnull);
		initStringInfo(&row);
		pq_sendint16(&row, nlive);
		for (int a = 0; a < desc->natts; a++)
		{
			if (TupleDescAttr(desc, a)->attisdropped)
				continue;
			if (isnull[a])
				pq_sendint32(&row, -1);
			else
			{
				char	   *text = OutputFunctionCall(&outfn[a], values[a]);
				int			tlen = strlen(text);

				pq_sendint32(&row, tlen);
				pq_sendbytes(&row, text, tlen);
				pfree(text);
			}
		}
		fs_read_offer(out, st->prio[r], row.data, row.len);
		pfree(row.data);
		pfree(td);
		if (r % 1024 == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return fs_read_encode(out);
}

/* ---------------------------------------------------------------------------
 * Merging serialized states and fitting from them (fairsynth_balance_into)
 * ---------------------------------------------------------------------------
 */

/* Sort the sample rows by priority (the heap's order depends on the merges). */
static void
fs_read_sort_sample(FsReadState *st)
{
	/* insertion into a sorted run, by a heap sort on the max-heap */
	for (int end = st->nsample - 1; end > 0; end--)
	{
		uint64		p = st->prio[end];
		bytea	   *row = st->rows[end];

		st->prio[end] = st->prio[0];
		st->rows[end] = st->rows[0];
		fs_read_sift_down(st, end, p, row);
	}
}

/* The non-NULL states of a bytea[], merged into one in ctx (NULL: none). */
static FsReadState *
fs_read_merge_array(ArrayType *states, MemoryContext ctx)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	FsReadState *volatile all = NULL;

	fs_require_one_dimensional(states, "states");
	deconstruct_array(states, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		FsReadState *volatile st = NULL;

		if (nulls[i])
			continue;			/* a shard without rows */
		/* a malformed state (truncated, altered) is corrupted data */
		PG_TRY();
		{
			st = fs_read_decode(DatumGetByteaPP(elems[i]), ctx);
		}
		PG_CATCH();
		{
			ErrorData  *err;

			MemoryContextSwitchTo(ctx);
			err = CopyErrorData();
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("read state %d of %d is malformed: %s", i + 1, n, err->message),
					 errhint("Pass states made by fairsynth_internal.fairsynth_read_state or fairsynth_read_merge, unaltered.")));
		}
		PG_END_TRY();
		all = all == NULL ? st : fs_read_merge(all, st, ctx);
	}
	return all;
}

/*
 * fairsynth_internal.fairsynth_read_merge(states bytea[]) RETURNS bytea: the
 * states of fairsynth_internal.fairsynth_read_state (e.g. one per shard of a
 * worker) merged into one, as the combine function does.
 */
Datum
fairsynth_read_merge(PG_FUNCTION_ARGS)
{
	FsReadState *all = fs_read_merge_array(PG_GETARG_ARRAYTYPE_P(0), CurrentMemoryContext);

	if (all == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(fs_read_encode(all));
}

/* A combination's portable key, with its place in the state's dictionary. */
typedef struct FsReadKey
{
	const char *key;
	int			len;
	int			code;
} FsReadKey;

/* Order portable keys by their bytes, a shorter prefix first. */
static int
fs_read_key_cmp(const void *a, const void *b)
{
	const FsReadKey *x = (const FsReadKey *) a;
	const FsReadKey *y = (const FsReadKey *) b;
	int			c = memcmp(x->key, y->key, Min(x->len, y->len));

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* A value of type typid from its text output (len bytes, not terminated). */
static Datum
fs_read_input(Oid typid, int32 typmod, const char *text, int len)
{
	Oid			fn;
	Oid			ioparam;

	getTypeInputInfo(typid, &fn, &ioparam);
	return OidInputFunctionCall(fn, pnstrdup(text, len), ioparam, typmod);
}

/*
 * fairsynth_internal.fairsynth_read_fit(states bytea[], relation anyelement,
 *     columns text[], outcome text, impute boolean, free_text text[])
 * RETURNS bytea: fairsynth_fit's model value, fitted from the merged read
 * states of the relation (fairsynth_read_state over columns || outcome, run
 * anywhere: on Citus, on the shards) instead of reading the relation.  The
 * sample is the bottom-k sample of the states, not fairsynth_fit's
 * reservoir, so the model (not the counts) differs from fairsynth_fit's.
 */
Datum
fairsynth_read_fit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	ArrayType  *columns = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	char	   *outcome = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	ArrayType  *free_text = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	bool		impute;
	MemoryContext callctx = CurrentMemoryContext;
	MemoryContext workctx;
	FsReadState *st;
	FsSource	src;
	FsModel    *model;
	char	  **keys;
	int		   *lens;
	int64	   *counts;
	FsReadKey  *order;
	TupleDesc	desc;
	FmgrInfo   *infn;
	Oid		   *ioparam;
	int			nlive = 0;
	Datum	  **rowvalues;
	bool	  **rownulls;
	int			n;

	fs_require_arg(fcinfo, 0, "states");
	relid = fs_relation_of_arg(fcinfo, 1);
	fs_require_arg(fcinfo, 4, "impute");
	impute = PG_GETARG_BOOL(4);

	workctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth read fit",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(workctx);
	fs_progress_begin(relid, workctx);
	fs_describe_relation(&src, relid, columns, outcome);
	fs_text_choose(&src, free_text);

	st = fs_read_merge_array(PG_GETARG_ARRAYTYPE_P(0), workctx);
	if (st == NULL || st->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no rows to learn from", src.relname),
				 errhint("fairsynth needs at least one row that the current role can read.")));
	/* the states must count the balance columns, outcome last */
	if (st->ncolumns != src.nbalance)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the read states count %d columns, %s balances %d",
						st->ncolumns, src.relname, src.nbalance),
				 errhint("Read with fairsynth_read_state(t, columns || outcome).")));
	for (int b = 0; b < src.nbalance; b++)
		if (strcmp(st->columns[b], src.cols[src.balance[b]].name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the read states count column \"%s\" where \"%s\" is balanced",
							st->columns[b], src.cols[src.balance[b]].name),
					 errhint("Read with fairsynth_read_state(t, columns || outcome).")));

	if (!st->portable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the read states of %s are not in the portable form", src.relname),
				 errhint("Read with fairsynth_internal.fairsynth_read_state, merge with fairsynth_read_merge.")));

	/*
	 * the combinations: the values' text, as this node's keys, in the order
	 * of their text (the dictionary's order depends on the merges): the same
	 * model whatever the split of the rows
	 */
	n = fs_dict_size(st->combos);
	{
		/* the counts add up to the rows, and the sample is some of them */
		int64		total = 0;

		for (int k = 0; k < n; k++)
		{
			int64		c = fs_dict_counts(st->combos)[k];

			if (c <= 0 || c > st->nrows)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("a combination in the read states of %s counts " INT64_FORMAT " rows of " INT64_FORMAT,
								src.relname, c, st->nrows),
						 errhint("Pass states made by fairsynth_internal.fairsynth_read_state or fairsynth_read_merge, unaltered.")));
			total += c;
		}
		if (total != st->nrows || st->nsample > st->nrows)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the read states of %s count " INT64_FORMAT " rows, their combinations " INT64_FORMAT " and their sample %d",
							src.relname, st->nrows, total, st->nsample),
					 errhint("Pass states made by fairsynth_internal.fairsynth_read_state or fairsynth_read_merge, unaltered.")));
	}
	keys = palloc(sizeof(char *) * Max(n, 1));
	lens = palloc(sizeof(int) * Max(n, 1));
	counts = palloc(sizeof(int64) * Max(n, 1));
	order = palloc(sizeof(FsReadKey) * Max(n, 1));
	for (int k = 0; k < n; k++)
	{
		order[k].key = fs_dict_key(st->combos, k, &order[k].len);
		order[k].code = k;
	}
	qsort(order, n, sizeof(FsReadKey), fs_read_key_cmp);
	for (int k = 0; k < n; k++)
	{
		int			tlen = order[k].len;
		const char *tkey = order[k].key;
		StringInfoData key;
		int			pos = 0;

		initStringInfo(&key);
		for (int b = 0; b < src.nbalance; b++)
		{
			FsColumn   *col = &src.cols[src.balance[b]];
			int32		vlen;
			int32		klen = -1;
			char		buf[8];
			const char *kbytes = NULL;

			if (pos + (int) sizeof(vlen) > tlen)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("a combination in the read states of %s has fewer values than the %d balance columns",
								src.relname, src.nbalance)));
			memcpy(&vlen, tkey + pos, sizeof(vlen));
			vlen = (int32) pg_ntoh32((uint32) vlen);
			pos += sizeof(vlen);
			if (vlen >= 0)
			{
				Datum		d;

				if (vlen > tlen - pos)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("a combination in the read states of %s is truncated", src.relname)));
				d = fs_read_input(col->typid, col->typmod, tkey + pos, vlen);
				klen = fs_datum_key(d, col, buf, &kbytes);
				pos += vlen;
			}
			appendBinaryStringInfo(&key, (const char *) &klen, sizeof(klen));
			if (klen > 0)
				appendBinaryStringInfo(&key, kbytes, klen);
		}
		if (pos != tlen)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a combination in the read states of %s has more values than the %d balance columns",
							src.relname, src.nbalance)));
		keys[k] = key.data;
		lens[k] = key.len;
		counts[k] = fs_dict_counts(st->combos)[order[k].code];
	}

	/* the sample in priority order (the same whatever the split), as values of this node's types */
	fs_read_sort_sample(st);
	desc = lookup_rowtype_tupdesc_copy(get_rel_type_id(relid), -1);
	infn = palloc(sizeof(FmgrInfo) * Max(desc->natts, 1));
	ioparam = palloc(sizeof(Oid) * Max(desc->natts, 1));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		Oid			fn;

		if (att->attisdropped)
			continue;
		nlive++;
		getTypeInputInfo(att->atttypid, &fn, &ioparam[a]);
		fmgr_info(fn, &infn[a]);
	}
	rowvalues = palloc(sizeof(Datum *) * Max(st->nsample, 1));
	rownulls = palloc(sizeof(bool *) * Max(st->nsample, 1));
	for (int r = 0; r < st->nsample; r++)
	{
		StringInfoData row;
		int			ncol;

		row.data = VARDATA(st->rows[r]);
		row.len = VARSIZE(st->rows[r]) - VARHDRSZ;
		row.maxlen = row.len;
		row.cursor = 0;
		rowvalues[r] = palloc(sizeof(Datum) * Max(desc->natts, 1));
		rownulls[r] = palloc(sizeof(bool) * Max(desc->natts, 1));
		/* the column count first (an int16 in network order): another row type */
		ncol = row.len >= 2 ? ((unsigned char) row.data[0] << 8) | (unsigned char) row.data[1] : -1;
		if (ncol != nlive)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("sampled row %d of the read states has %d columns, %s has %d",
							r + 1, ncol, src.relname, nlive),
					 errhint("Read the relation itself, whose columns must be the same on every node.")));
		PG_TRY();
		{
			(void) pq_getmsgint(&row, 2);
			for (int a = 0; a < desc->natts; a++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, a);
				int			vlen;

				rownulls[r][a] = true;
				rowvalues[r][a] = (Datum) 0;
				if (att->attisdropped)
					continue;
				vlen = pq_getmsgint(&row, 4);
				if (vlen < 0)
					continue;
				rowvalues[r][a] = InputFunctionCall(&infn[a],
													pnstrdup(pq_getmsgbytes(&row, vlen), vlen),
													ioparam[a], att->atttypmod);
				rownulls[r][a] = false;
			}
			pq_getmsgend(&row);
		}
		PG_CATCH();
		{
			ErrorData  *err;

			MemoryContextSwitchTo(workctx);
			err = CopyErrorData();
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("sampled row %d of the read states of %s is malformed: %s", r + 1, src.relname, err->message),
					 errhint("Pass states made by fairsynth_internal.fairsynth_read_state or fairsynth_read_merge, unaltered.")));
		}
		PG_END_TRY();
		if (r % 1024 == 0)
			CHECK_FOR_INTERRUPTS();
	}

	fs_progress_phase(FS_PHASE_READ, -1);
	fs_scan_from_read(&src, st->nrows, n, keys, lens, counts, st->nsample, rowvalues, rownulls);
	fs_progress_phase(FS_PHASE_FIT, -1);
	model = fs_model_fit(&src, NULL);
	PG_RETURN_BYTEA_P(fs_value_finish(&src, model, impute, callctx, workctx));
}

/* ---------------------------------------------------------------------------
 * Reading shards directly (fairsynth_balance_into on Citus)
 * ---------------------------------------------------------------------------
 */

/* A shard's row as a composite datum of the source's row type. */
typedef struct FsShardRow
{
	HeapTuple	tuple;			/* the shard's row */
	TupleTableSlot *slot;		/* it, deformed (the general form) */
	TupleDesc	desc;			/* the source's row type */
	int		   *map;			/* source attribute -> shard attribute; NULL: same */
} FsShardRow;

/* make_datum of a shard's row: as ROW(t.*)::source makes it. */
static HeapTupleHeader
fs_read_shard_datum(void *arg)
{
	FsShardRow *r = (FsShardRow *) arg;
	Datum	   *values;
	bool	   *isnull;
	HeapTuple	formed;

	if (r->map == NULL)
		return DatumGetHeapTupleHeader(heap_copy_tuple_as_datum(r->tuple, r->desc));
	slot_getallattrs(r->slot);
	values = palloc(sizeof(Datum) * Max(r->desc->natts, 1));
	isnull = palloc(sizeof(bool) * Max(r->desc->natts, 1));
	for (int a = 0; a < r->desc->natts; a++)
	{
		isnull[a] = r->map[a] < 0 || r->slot->tts_isnull[r->map[a]];
		values[a] = isnull[a] ? (Datum) 0 : r->slot->tts_values[r->map[a]];
	}
	formed = heap_form_tuple(r->desc, values, isnull);
	return DatumGetHeapTupleHeader(heap_copy_tuple_as_datum(formed, r->desc));
}

/* Take attribute keyatt (int2, int4 or int8 of desc; -1: none) of slot into the largest. */
static void
fs_read_key_max(TupleTableSlot *slot, int keyatt, TupleDesc desc, int64 *max,
				bool *has_max)
{
	Oid			typid;
	int64		v;

	if (keyatt < 0 || slot->tts_isnull[keyatt])
		return;
	typid = TupleDescAttr(desc, keyatt)->atttypid;
	v = typid == INT2OID ? DatumGetInt16(slot->tts_values[keyatt]) :
		typid == INT4OID ? DatumGetInt32(slot->tts_values[keyatt]) :
		DatumGetInt64(slot->tts_values[keyatt]);
	*max = *has_max ? Max(*max, v) : v;
	*has_max = true;
}

/*
 * The source's attributes on the shard's (its non-dropped columns in order,
 * as ROW(t.*)::source maps them); NULL when the shard's rows already have the
 * source's layout, so their bytes are the composite's.
 */
static int *
fs_read_shard_map(TupleDesc shard, TupleDesc source)
{
	int		   *map = palloc(sizeof(int) * Max(source->natts, 1));
	bool		same = shard->natts == source->natts;
	int			s = 0;

	for (int a = 0; a < source->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(source, a);

		map[a] = -1;
		if (att->attisdropped)
		{
			same = false;
			continue;
		}
		while (s < shard->natts && TupleDescAttr(shard, s)->attisdropped)
		{
			same = false;
			s++;
		}
		if (s >= shard->natts || TupleDescAttr(shard, s)->atttypid != att->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a shard's columns are not those of row type %s", format_type_be(source->tdtypeid))));
		if (s != a || TupleDescAttr(shard, s)->attlen != att->attlen ||
			TupleDescAttr(shard, s)->attalign != att->attalign)
			same = false;
		map[a] = s++;
	}
	if (same)
	{
		pfree(map);
		return NULL;
	}
	return map;
}

/*
 * fairsynth_internal.fairsynth_read_shards(shards text[], relation anyelement,
 *     columns text[], key_column text) RETURNS text
 *
 * What fairsynth_read_state's portable form of the rows of the tables shards
 * (this node's shards of a distributed source, of relation's row type) is,
 * read by a heap scan of each instead of the executor's ROW(t.*)::relation
 * per row: the same state (a shard's row bytes are the composite's when its
 * layout is the source's; else the composite is made), as its text form
 * ('\x...', empty without rows), then a space and the largest key_column
 * (empty when NULL or no row).  The caller reads as itself: SELECT on every
 * shard; a shard with row-level security enabled for it is an error (read
 * it through fairsynth_read_state, which the executor filters).
 */
Datum
fairsynth_read_shards(PG_FUNCTION_ARGS)
{
	ArrayType  *shards;
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 1);
	char	   *keycol = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	FsReadState *st = fs_read_state_new(CurrentMemoryContext);
	FsReadCall *call;
	int			keyatt = -1;
	int			deform;
	bool		has_max = false;
	int64		keymax = 0;
	Datum	   *names;
	bool	   *nulls;
	int			nshards;
	StringInfoData out;

	fs_require_arg(fcinfo, 0, "shards");
	shards = PG_GETARG_ARRAYTYPE_P(0);
	fs_require_one_dimensional(shards, "shards");
	fs_read_set_columns(st, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), CurrentMemoryContext);
	call = fs_read_call(fcinfo, typid, st->columns, st->ncolumns);
	if (keycol != NULL)
	{
		for (int a = 0; a < call->desc->natts; a++)
			if (!TupleDescAttr(call->desc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(call->desc, a)->attname), keycol) == 0)
				keyatt = a;
		if (keyatt < 0 ||
			!(TupleDescAttr(call->desc, keyatt)->atttypid == INT2OID ||
			  TupleDescAttr(call->desc, keyatt)->atttypid == INT4OID ||
			  TupleDescAttr(call->desc, keyatt)->atttypid == INT8OID))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key_column \"%s\" is not an integer column of %s", keycol, format_type_be(typid))));
	}
	deform = Max(call->natts, keyatt + 1);

	deconstruct_array(shards, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &nshards);
	for (int i = 0; i < nshards; i++)
	{
		Oid			relid;
		Relation	rel;
		AclResult	aclresult;
		TableScanDesc scan;
		TupleTableSlot *slot;
		FsShardRow	row;
		int64		n = 0;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("shards must not contain NULL")));
		relid = RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(DatumGetTextPP(names[i]))),
								 AccessShareLock, false);
		aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, get_relkind_objtype(get_rel_relkind(relid)), get_rel_name(relid));
		if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("row-level security is enabled on %s", get_rel_name(relid)),
					 errhint("Read it with fairsynth_internal.fairsynth_read_state, through the executor.")));
		rel = table_open(relid, NoLock);
		if (rel->rd_rel->relkind != RELKIND_RELATION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s is not a table", get_rel_name(relid))));
		row.desc = call->desc;
		row.map = fs_read_shard_map(RelationGetDescr(rel), call->desc);
		slot = table_slot_create(rel, NULL);
		row.slot = slot;
		scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		should_free;
			HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
			HeapTupleHeader td = NULL;

			if ((++n & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			row.tuple = tuple;
			slot_getsomeattrs(slot, row.map ? RelationGetDescr(rel)->natts : deform);
			if (row.map != NULL || HeapTupleHasExternal(tuple))
			{
				/* the composite ROW(t.*)::source makes, hashed as such */
				TupleTableSlot *vslot = call->slot;

				td = fs_read_shard_datum(&row);
				{
					HeapTupleData t;

					t.t_len = HeapTupleHeaderGetDatumLength(td);
					ItemPointerSetInvalid(&t.t_self);
					t.t_tableOid = InvalidOid;
					t.t_data = td;
					ExecStoreHeapTuple(&t, vslot, false);
					slot_getsomeattrs(vslot, deform);
					fs_read_key_max(vslot, keyatt, call->desc, &keymax, &has_max);
					fs_read_add(st, call, (const char *) td + offsetof(HeapTupleHeaderData, t_bits),
								t.t_len - offsetof(HeapTupleHeaderData, t_bits),
								vslot, fs_read_datum_given, td, CurrentMemoryContext);
					ExecClearTuple(vslot);
				}
				pfree(td);
			}
			else
			{
				/* the shard's row bytes are the composite's */
				fs_read_key_max(slot, keyatt, call->desc, &keymax, &has_max);
				fs_read_add(st, call, (const char *) tuple->t_data + offsetof(HeapTupleHeaderData, t_bits),
							tuple->t_len - offsetof(HeapTupleHeaderData, t_bits),
							slot, fs_read_shard_datum, &row, CurrentMemoryContext);
			}
			if (should_free)
				heap_freetuple(tuple);
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		table_close(rel, NoLock);
	}

	initStringInfo(&out);
	if (st->nrows > 0)
	{
		bytea	   *exported = fs_read_export_state(st, call);

		appendStringInfoString(&out, DatumGetCString(DirectFunctionCall1(byteaout, PointerGetDatum(exported))));
	}
	appendStringInfoChar(&out, ' ');
	if (has_max)
		appendStringInfo(&out, INT64_FORMAT, keymax);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
