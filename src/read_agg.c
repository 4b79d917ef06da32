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
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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
PG_FUNCTION_INFO_V1(fairsynth_read_merge);
PG_FUNCTION_INFO_V1(fairsynth_read_fit);

#define FS_READ_PRIORITY_SEED UINT64CONST(0x73616d706c65)

/* The aggregate's state. */
typedef struct FsReadState
{
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
} FsReadCall;

static FsReadState *fs_read_state_new(MemoryContext ctx);
static void fs_read_count(FsReadState *st, const char *key, int len, int64 n);
static void fs_read_offer(FsReadState *st, uint64 prio, const char *data, Size len);
static FsReadCall *fs_read_call(FunctionCallInfo fcinfo, Oid typid, char **names, int n);
static void fs_read_set_columns(FsReadState *st, ArrayType *columns, MemoryContext ctx);
static MemoryContext fs_read_aggcontext(FunctionCallInfo fcinfo);
static bytea *fs_read_encode(FsReadState *st);
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

/* Offer a row of priority prio to the bottom-k sample (a max-heap). */
static void
fs_read_offer(FsReadState *st, uint64 prio, const char *data, Size len)
{
	bytea	   *row;
	int			i;

	if (st->cap <= 0 || (st->nsample == st->cap && prio >= st->prio[0]))
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
	i = 0;
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					big = i;
		uint64		bp = prio;

		if (l < st->nsample && st->prio[l] > bp)
			big = l, bp = st->prio[l];
		if (r < st->nsample && st->prio[r] > bp)
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
		if (ARR_NDIM(columns) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("columns must be a one-dimensional array")));
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
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = call;
	return call;
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
	Datum	   *values;
	bool	   *isnull;
	StringInfoData key;
	const char *data;
	Size		len;
	uint64		h;
	MemoryContext old;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);	/* a NULL row (an outer join's): not a row */
	td = PG_GETARG_HEAPTUPLEHEADER(1);
	if (st->ncolumns < 0)
		fs_read_set_columns(st, PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), aggctx);
	call = fs_read_call(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 1),
						st->columns, st->ncolumns);

	/* the row's bytes past the header: null bitmap and data */
	data = (const char *) td + offsetof(HeapTupleHeaderData, t_bits);
	len = HeapTupleHeaderGetDatumLength(td) - offsetof(HeapTupleHeaderData, t_bits);
	h = fs_hash_bytes(data, len, 0);
	st->nrows++;
	st->fingerprint += h;

	/* the combination, by value */
	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	values = palloc(sizeof(Datum) * call->desc->natts);
	isnull = palloc(sizeof(bool) * call->desc->natts);
	heap_deform_tuple(&tuple, call->desc, values, isnull);
	initStringInfo(&key);
	for (int b = 0; b < call->nbalance; b++)
	{
		int			a = call->attno[b];
		int32		klen = -1;
		char		buf[8];
		const char *k = NULL;

		if (!isnull[a])
			klen = fs_datum_key(values[a], &call->cols[b], buf, &k);
		appendBinaryStringInfo(&key, (const char *) &klen, sizeof(klen));
		if (klen > 0)
			appendBinaryStringInfo(&key, k, klen);
	}
	old = MemoryContextSwitchTo(aggctx);
	fs_read_count(st, key.data, key.len, 1);
	fs_read_offer(st, fs_hash_bytes(data, len, FS_READ_PRIORITY_SEED),
				  (const char *) td, HeapTupleHeaderGetDatumLength(td));
	MemoryContextSwitchTo(old);
	pfree(key.data);
	pfree(values);
	pfree(isnull);
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

	/* pq_getmsg* check every length against the message: an error, not a crash */
	buf.data = VARDATA_ANY(in);
	buf.len = VARSIZE_ANY_EXHDR(in);
	buf.maxlen = buf.len;
	buf.cursor = 0;
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
		int			i = 0;

		st->prio[end] = st->prio[0];
		st->rows[end] = st->rows[0];
		for (;;)
		{
			int			l = 2 * i + 1,
						r = l + 1,
						big = i;
			uint64		bp = p;

			if (l < end && st->prio[l] > bp)
				big = l, bp = st->prio[l];
			if (r < end && st->prio[r] > bp)
				big = r;
			if (big == i)
				break;
			st->prio[i] = st->prio[big];
			st->rows[i] = st->rows[big];
			i = big;
		}
		st->prio[i] = p;
		st->rows[i] = row;
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

	if (ARR_NDIM(states) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("states must be a one-dimensional array")));
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
	HeapTupleHeader *rows;
	int			n;
	bytea	   *result;
	bytea	   *out;

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

	n = fs_dict_size(st->combos);
	keys = palloc(sizeof(char *) * Max(n, 1));
	lens = palloc(sizeof(int) * Max(n, 1));
	counts = palloc(sizeof(int64) * Max(n, 1));
	for (int k = 0; k < n; k++)
	{
		keys[k] = (char *) fs_dict_key(st->combos, k, &lens[k]);
		counts[k] = fs_dict_counts(st->combos)[k];
	}
	/* the sample in priority order: the same model whatever the split */
	fs_read_sort_sample(st);
	rows = palloc(sizeof(HeapTupleHeader) * Max(st->nsample, 1));
	for (int r = 0; r < st->nsample; r++)
	{
		/* a copy: the datum's bytes, aligned */
		Size		len = VARSIZE(st->rows[r]) - VARHDRSZ;

		if (len < SizeofHeapTupleHeader)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a sampled row of %s is %zu bytes, shorter than a row header", src.relname, len)));
		rows[r] = palloc(len);
		memcpy(rows[r], VARDATA(st->rows[r]), len);
		/* read on a shard, the row is of the shard's row type: make it the relation's */
		HeapTupleHeaderSetTypeId(rows[r], get_rel_type_id(relid));
		HeapTupleHeaderSetTypMod(rows[r], -1);
	}

	fs_progress_phase(FS_PHASE_READ, -1);
	fs_scan_from_read(&src, st->nrows, n, keys, lens, counts, st->nsample, rows);
	fs_progress_phase(FS_PHASE_FIT, -1);
	model = fs_model_fit(&src, NULL);
	fs_read_key_maxima(&src);
	result = fs_value_write(&src, model, impute);

	MemoryContextSwitchTo(callctx);
	out = palloc(VARSIZE(result));
	memcpy(out, result, VARSIZE(result));
	MemoryContextDelete(workctx);
	PG_RETURN_BYTEA_P(out);
}
