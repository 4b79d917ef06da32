/*
 * generate.c: draw synthetic rows from a fitted model.
 *
 * A plan is made in chunks (fs_chunk_count): within a chunk, combinations
 * are dealt out in random order without replacement (a Fenwick tree over the
 * chunk's remaining counts), so every combination gets exactly its planned
 * rows, rows come out shuffled, and nothing is rejected.  Rows are made a
 * batch at a time (fs_chunk_batch), each handed to a sink: fs_generate's
 * tuplestore (which spills to disk past work_mem), the streaming scan's
 * batch (stream.c) or a parallel worker's queue (parallel.c).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "generate.h"
#include "model.h"
#include "parallel.h"
#include "progress.h"
#include "text.h"

/* How often a row that copies a source row is drawn again. */
#define FS_COPY_RETRIES 32
/* Of those, the first draw new values within the row's classes only. */
#define FS_VALUE_RETRIES 8
#define FS_CHECK_RETRIES 1000	/* draws of a row violating a CHECK constraint */

/* A value known before drawing: a category's, or a single-value bin's. */
typedef struct FsFixedValue
{
	Datum		value;
	double		sig;			/* its signature in the copy guard */
	bool		fixed;			/* false: drawn per row (or NULL) */
} FsFixedValue;

/* A row of a batch: its combination and its place in dealt order. */
typedef struct FsDealt
{
	int32		combo;
	int32		row;
} FsDealt;

/* Combinations up to which a batch is sorted by counting, not by qsort. */
#define FS_COUNTING_SORT_MAX (8 * FS_BATCH_ROWS)

/* Order rows by combination, then by dealt order. */
static int
fs_dealt_order(const void *a, const void *b)
{
	const FsDealt *x = (const FsDealt *) a;
	const FsDealt *y = (const FsDealt *) b;

	if (x->combo != y->combo)
		return x->combo < y->combo ? -1 : 1;
	return x->row < y->row ? -1 : (x->row > y->row ? 1 : 0);
}

/*
 * Sort n dealt rows (in dealt order) by combination, stably: by counting
 * into bucket (k + 1 ints) when there is one, else by qsort.
 */
static void
fs_sort_dealt(FsDealt *dealt, int n, int k, int *bucket)
{
	FsDealt		copy[FS_BATCH_ROWS];

	Assert(n <= FS_BATCH_ROWS);
	if (bucket == NULL)
	{
		qsort(dealt, n, sizeof(FsDealt), fs_dealt_order);
		return;
	}
	memset(bucket, 0, sizeof(int) * (k + 1));
	for (int r = 0; r < n; r++)
		bucket[dealt[r].combo + 1]++;
	for (int c = 1; c <= k; c++)
		bucket[c] += bucket[c - 1];
	memcpy(copy, dealt, sizeof(FsDealt) * n);
	for (int r = 0; r < n; r++)
		dealt[bucket[copy[r].combo]++] = copy[r];
}

/* Seed rng from seed, or from a strong random source when seed is NULL. */
void
fs_seed_rng(pg_prng_state *rng, bool isnull, int64 seed)
{
	if (isnull)
	{
		if (!pg_prng_strong_seed(rng))
			pg_prng_seed(rng, (uint64) GetCurrentTimestamp() ^ (uint64) MyProcPid);
	}
	else
		pg_prng_seed(rng, (uint64) seed);
}

/* Add delta at position i of a Fenwick tree of n counts. */
static void
fs_fenwick_add(int64 *tree, int n, int i, int64 delta)
{
	for (i++; i <= n; i += i & (-i))
		tree[i] += delta;
}

/* The position whose cumulative count range holds r (0-based). */
static int
fs_fenwick_find(const int64 *tree, int n, int64 r)
{
	int			pos = 0;
	int			step = 1;

	while (step * 2 <= n)
		step *= 2;
	for (; step > 0; step /= 2)
		if (pos + step <= n && tree[pos + step] <= r)
		{
			pos += step;
			r -= tree[pos];
		}
	return pos;
}

/*
 * A fresh key value for column col, the i-th of this call: a column fed by a
 * sequence takes its next value, other integers continue after the
 * relation's largest value, uuids are random (version 4, new whatever the
 * seed), text is syn-RUN-N with RUN random per call, fitted to the column's
 * type modifier.
 */
static Datum
fs_fresh_key(FsColumn *col, int64 i, uint32 run, pg_prng_state *rng)
{
	/* a Citus shard's keys (keys.c) */
	if (col->shard_keys != NULL)
		return fs_shard_key_next(col, i);
	/* a sequence's next value; a generated column: fs_fill_generated (keys.c) */
	if (col->exprstate != NULL)
		return col->generated ? (Datum) 0 : fs_sequence_next(col, i);
	switch (col->type)
	{
		case FS_UUID:
			{
				pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
				/* random whatever the seed: a uuid is new in every call */
				uint64		a = pg_prng_uint64(rng) ^ fs_key_random();
				uint64		b = pg_prng_uint64(rng) ^ fs_key_random();

				memcpy(u->data, &a, 8);
				memcpy(u->data + 8, &b, 8);
				u->data[6] = (u->data[6] & 0x0f) | 0x40;	/* version 4 */
				u->data[8] = (u->data[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
				return UUIDPGetDatum(u);
			}
		case FS_TEXT:
			{
				Datum		d = PointerGetDatum(cstring_to_text(psprintf("syn-%08x-" INT64_FORMAT,
																		  run, i + 1)));

				/* "value too long" if the key does not fit varchar(n) or char(n) */
				if (col->typid == VARCHAROID && col->typmod >= 0)
					d = DirectFunctionCall3(varchar, d, Int32GetDatum(col->typmod), BoolGetDatum(false));
				else if (col->typid == BPCHAROID && col->typmod >= 0)
					d = DirectFunctionCall3(bpchar, d, Int32GetDatum(col->typmod), BoolGetDatum(false));
				return d;
			}
		default:
			{
				int64		start = col->has_max ? col->max_int : 0;
				int64		v;
				bool		overflow = pg_add_s64_overflow(start, i + 1, &v);

				return fs_int_key_datum(col, v, overflow, start);
			}
	}
}

/*
 * The value of modelled column c for class cls; false if NULL.  With sig, also
 * the value's signature in the copy guard (its class, or its number).
 */
static bool
fs_value_and_signature(FsSource *src, const FsModel *m, int c, int cls,
					   pg_prng_state *rng, Datum *value, double *sig)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;
	FsColumn   *col = &src->cols[c];
	const FsCategory *cat;

	if (cls == mc->null_class)
	{
		if (sig)
			*sig = FS_SIG_NULL;
		return false;
	}
	if (mc->kind == FS_NUM)
	{
		double		v = fs_model_draw_value(m, c, cls, rng);

		*value = fs_double_to_datum(v, col);
		if (sig)
			*sig = mc->is_integer ? rint(v) : v;
		return true;
	}
	if (cls == mc->rare_class)
	{
		/* a rare value is never emitted: draw a frequent one instead */
		const float4 *cum = FS_AT(m, mc->frequent, float4);
		double		u = fs_rand01(rng);
		int			j = 0;

		if (mc->frequent == 0)
		{
			if (sig)
				*sig = FS_SIG_NULL;
			return false;		/* no frequent value at all: NULL */
		}
		while (j < mc->rare_class - 1 && u >= cum[j])
			j++;
		cls = j;
	}
	cat = FS_AT(m, mc->classes, FsCategory) + cls;
	*value = fs_key_to_datum((const char *) m + cat->key, cat->len, col);
	if (sig)
		*sig = cls;
	return true;
}

/* The value of modelled column c for class cls; false if NULL. */
bool
fs_value_of_class(FsSource *src, const FsModel *m, int c, int cls,
				  pg_prng_state *rng, Datum *value)
{
	return fs_value_and_signature(src, m, c, cls, rng, value, NULL);
}

/*
 * The copy guard: the keys of the rows the model learned from (ascending, in
 * the model), behind a bitmap of 32 bits per key (at most 2^26 bits) that
 * answers "not a copy" for most rows with one memory access.
 */
typedef struct FsCopyGuard
{
	const uint64 *keys;
	int			nkeys;
	uint64	   *bits;			/* bit (key >> shift) set for every key */
	int			shift;
} FsCopyGuard;

/* The rows a synthetic row must not equal, by how often they occur. */
typedef struct FsCopyGuards
{
	FsCopyGuard rare;			/* rows fewer than rare_threshold rows share */
	FsCopyGuard common;			/* the others */
} FsCopyGuards;

/* A copy guard of the nkeys ascending keys at keys. */
static FsCopyGuard
fs_copy_guard(const uint64 *keys, int nkeys)
{
	FsCopyGuard guard;
	int			log2bits = 12;

	while (log2bits < 26 && ((int64) 1 << log2bits) < (int64) 32 * nkeys)
		log2bits++;
	guard.keys = keys;
	guard.nkeys = nkeys;
	guard.bits = palloc0(sizeof(uint64) * (((int64) 1 << log2bits) / 64));
	guard.shift = 64 - log2bits;
	for (int i = 0; i < guard.nkeys; i++)
	{
		uint64		bit = guard.keys[i] >> guard.shift;

		guard.bits[bit / 64] |= UINT64CONST(1) << (bit % 64);
	}
	return guard;
}

/* Whether key is the key of a row the model learned from. */
static inline bool
fs_guard_holds(const FsCopyGuard *guard, uint64 key)
{
	uint64		bit = key >> guard->shift;
	int			lo = 0,
				hi = guard->nkeys;

	if (!((guard->bits[bit / 64] >> (bit % 64)) & 1))
		return false;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (guard->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < guard->nkeys && guard->keys[lo] == key;
}

/*
 * With impute, a column whose every value is rare can only be NULL (a rare
 * value is never emitted): an error naming it, as for a NOT NULL column.
 */
static void
fs_check_imputable(FsSource *src, const FsModel *m)
{
	for (int c = 0; c < src->ncols; c++)
	{
		const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;

		if (mc->kind == FS_CAT && mc->rare_class == 0 && src->cols[c].balance_pos < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("impute cannot fill column \"%s\": every value occurs in fewer than fairsynth.rare_threshold (%d) rows",
							src->cols[c].name, fairsynth_rare_threshold),
					 errhint("Its values would identify rows. Leave the column out in a view, or lower fairsynth.rare_threshold if the data is not personal.")));
	}
}

/*
 * Draw the classes of n rows (classes: FS_CLASS_STRIDE rows) for the columns
 * of the generation order from position from on, each for the whole batch.
 */
static void
fs_draw_from(const FsModel *m, int from, int32 *classes, int n, bool impute,
			 pg_prng_state *rng)
{
	const int32 *order = FS_AT(m, m->order, int32);

	for (int j = from; j < m->ncols && order[j] >= 0; j++)
		fs_model_draw_classes(m, order[j], classes, n, impute, rng);
}

/* Tries to find a row whose drawn outcome is the planned one. */
#define FS_PARITY_TRIES 64

/*
 * What generating needs besides the plan's counts and the random stream:
 * made once per call (fs_generator_begin), by the leader and by every
 * parallel worker alike, then used for chunk after chunk.
 */
struct FsGenerator
{
	FsSource   *src;
	FsModel    *m;
	bool		impute;
	TupleDesc	outdesc;
	const int  *outmap;
	uint32		run;			/* text keys of this call */
	uint64		base;			/* the streams of chunks > 0 */
	int			k;				/* combinations */
	int64	   *tree;			/* Fenwick tree of a chunk's remaining counts */
	int			stride;
	int32	   *classes;
	FsDealt    *dealt;
	int		   *slot;
	int		   *bucket;
	int32	   *codes;
	Datum	   *colval;
	bool	   *colnull;
	Datum	   *values;
	bool	   *nulls;
	MemoryContext rowctx;
	FsFixedValue **fixed;
	FsCopyGuards guard;
	double	   *sig;
	int			nmodelled;		/* columns drawn after the balance columns */
	FsChecks   *checks;
	FsParity   *parity;
	/* the chunk being made (fs_chunk_start, fs_chunk_batch) */
	pg_prng_state chunk_rng;	/* the stream of a chunk > 0 */
	pg_prng_state *rng;			/* its stream: chunk_rng or the call's */
	int64		total;			/* its rows */
	int64		first;			/* its first row */
	int64		done;			/* of them made */
};

/*
 * Set up generating plan's rows from m into rows of outdesc, attribute i
 * taken from source column outmap[i] (-1: NULL, for dropped columns); with
 * impute, no modelled column is NULL unless it was NULL in every row.  run
 * names this call's text keys, base seeds the streams of chunks after the
 * first (fs_generation_streams).
 */
FsGenerator *
fs_generator_begin(FsSource *src, FsModel *m, FsPlan *plan, bool impute,
				   TupleDesc outdesc, const int *outmap, uint32 run, uint64 base)
{
	FsGenerator *g = palloc0(sizeof(FsGenerator));
	int			ncols = src->ncols;
	int			k = plan->ncombos;
	const int32 *order = FS_AT(m, m->order, int32);

	g->src = src;
	g->m = m;
	g->impute = impute;
	g->outdesc = outdesc;
	g->outmap = outmap;
	g->run = run;
	g->base = base;
	g->k = k;
	g->tree = palloc0(sizeof(int64) * (k + 1));
	g->stride = FS_CLASS_STRIDE(ncols);
	g->classes = palloc0(sizeof(int32) * g->stride * FS_BATCH_ROWS);
	g->dealt = palloc(sizeof(FsDealt) * FS_BATCH_ROWS);
	g->slot = palloc(sizeof(int) * FS_BATCH_ROWS);
	g->bucket = k <= FS_COUNTING_SORT_MAX ? palloc(sizeof(int) * (k + 1)) : NULL;
	g->codes = palloc0(sizeof(int32) * Max(src->nbalance, 1));
	g->colval = palloc(sizeof(Datum) * ncols);
	g->colnull = palloc(sizeof(bool) * ncols);
	g->values = palloc(sizeof(Datum) * Max(outdesc->natts, 1));
	g->nulls = palloc(sizeof(bool) * Max(outdesc->natts, 1));
	g->rowctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth row",
									  ALLOCSET_DEFAULT_SIZES);
	g->fixed = palloc0(sizeof(FsFixedValue *) * ncols);
	g->sig = palloc(sizeof(double) * ncols);
	g->checks = fs_checks_prepare(src);
	g->parity = impute ? NULL : fs_model_parity_prepare(src, m, plan);

	if (impute)
		fs_check_imputable(src, m);
	g->guard.rare = fs_copy_guard(FS_AT(m, m->guard, uint64), m->nguard);
	g->guard.common = fs_copy_guard(FS_AT(m, m->guard, uint64) + m->nguard,
									m->nguard_common);
	while (src->nbalance + g->nmodelled < ncols &&
		   order[src->nbalance + g->nmodelled] >= 0)
		g->nmodelled++;

	/*
	 * the value of every category and single-value bin, made once: most
	 * columns' values come from here
	 */
	for (int c = 0; c < ncols; c++)
	{
		const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;

		/* (a key column's one class is never fixed: its values are fresh) */
		g->fixed[c] = palloc0(sizeof(FsFixedValue) * Max(mc->nclass, 1));
		if (mc->kind == FS_KEY || mc->kind == FS_TEXTFREE)
			continue;
		for (int j = 0; j < mc->nclass; j++)
		{
			FsFixedValue *f = &g->fixed[c][j];

			if (j == mc->null_class || j == mc->rare_class)
				continue;
			if (mc->kind == FS_CAT)
			{
				const FsCategory *cat = FS_AT(m, mc->classes, FsCategory) + j;

				f->value = fs_key_to_datum((const char *) m + cat->key, cat->len,
										   &src->cols[c]);
				f->sig = j;
				f->fixed = true;
			}
			else if (FS_AT(m, mc->classes, FsBin)[j].is_atom)
				f->fixed = fs_value_and_signature(src, m, c, j, NULL, &f->value, &f->sig);
		}
	}
	return g;
}

/*
 * Chunks: a plan of more than FS_CHUNK_ROWS rows is made in
 * ceil(total / FS_CHUNK_ROWS) chunks (at most FS_MAX_CHUNKS).  Chunk j of J
 * holds of every combination with count n the rows floor(n (j+1) / J) -
 * floor(n j / J), so the chunks add up to exactly the plan and each has the
 * plan's mix; chunk 0 continues the call's random stream, chunk j > 0 has a
 * stream of its own (fs_chunk_start), and a chunk's integer keys follow the
 * rows of the chunks before it.  A chunk's rows thus depend only on the
 * plan, the model, the stream and j: the leader or a parallel worker
 * (parallel.c) makes the same rows.  For example, counts (5, 2) in J = 2
 * chunks: chunk 0 holds (2, 1) and is rows 0-2, chunk 1 holds (3, 1) and is
 * rows 3-6.
 */
int
fs_chunk_count(const FsPlan *plan)
{
	int64		n = (plan->total + FS_CHUNK_ROWS - 1) / FS_CHUNK_ROWS;

	return (int) Max(1, Min(n, FS_MAX_CHUNKS));
}

/*
 * The counts of chunk j of nchunks of plan into counts (plan->ncombos);
 * returns the chunk's first row, its total into *total.
 */
int64
fs_chunk_counts(const FsPlan *plan, int j, int nchunks, int64 *counts,
				int64 *total)
{
	int64		first = 0;

	*total = 0;
	for (int c = 0; c < plan->ncombos; c++)
	{
		int64		lo = (int64) ((__int128) plan->counts[c] * j / nchunks);
		int64		hi = (int64) ((__int128) plan->counts[c] * (j + 1) / nchunks);

		counts[c] = hi - lo;
		*total += hi - lo;
		first += lo;
	}
	return first;
}

/*
 * The streams of a call, drawn from its stream rng before any row, the same
 * whoever generates: run (its text keys: new when the seed or the data
 * differ) and, for a plan of several chunks, base (chunks > 0).  Returns the
 * plan's chunks.
 */
int
fs_generation_streams(const FsSource *src, const FsPlan *plan,
					  pg_prng_state *rng, uint32 *run, uint64 *base)
{
	int			nchunks = fs_chunk_count(plan);

	*run = (uint32) (pg_prng_uint64(rng) ^ src->fingerprint ^ (src->fingerprint >> 32) ^ fs_key_random());
	*base = nchunks > 1 ? pg_prng_uint64(rng) : 0;
	return nchunks;
}

/*
 * Start making chunk j: counts[c] rows of combination c (total in all), its
 * first row first (for keys).  Chunk 0 continues the call's stream call_rng
 * (after fs_generation_streams); chunk j > 0 has a stream of its own, from
 * the generator's base and j (call_rng may then be NULL, as in a parallel
 * worker).  fs_chunk_batch then makes its rows.
 */
void
fs_chunk_start(FsGenerator *g, int j, pg_prng_state *call_rng,
			   const int64 *counts, int64 total, int64 first)
{
	g->rng = call_rng;
	if (j > 0)
	{
		pg_prng_seed(&g->chunk_rng, hash_combine64(g->base, (uint64) j));
		g->rng = &g->chunk_rng;
	}
	Assert(g->rng != NULL);
	memset(g->tree, 0, sizeof(int64) * (g->k + 1));
	for (int c = 0; c < g->k; c++)
		fs_fenwick_add(g->tree, g->k, c, counts[c]);
	g->total = total;
	g->first = first;
	g->done = 0;
}

/*
 * Make the next batch of the chunk started (at most FS_BATCH_ROWS rows), each
 * row handed to sink, and return its rows: 0 when the chunk is done.  The
 * values of a batch's rows stay valid until the next call, so a sink may
 * keep pointers to them (fs_batch_sink).  Rows are made one column at a
 * time for the whole batch, so each tree stays in cache while it is walked.
 * With progress, the call's progress is reported as the chunk's first row +
 * rows done.
 */
int
fs_chunk_batch(FsGenerator *g, FsRowSink sink, void *sink_arg, bool progress)
{
	pg_prng_state *rng = g->rng;
	FsSource   *src = g->src;
	FsModel    *m = g->m;
	bool		impute = g->impute;
	TupleDesc	outdesc = g->outdesc;
	const int  *outmap = g->outmap;
	int			ncols = src->ncols;
	int			k = g->k;
	int64	   *tree = g->tree;
	int			stride = g->stride;
	int32	   *classes = g->classes;
	FsDealt    *dealt = g->dealt;
	int		   *slot = g->slot;
	int32	   *codes = g->codes;
	Datum	   *colval = g->colval;
	bool	   *colnull = g->colnull;
	Datum	   *values = g->values;
	bool	   *nulls = g->nulls;
	FsFixedValue **fixed = g->fixed;
	double	   *sig = g->sig;
	FsChecks   *checks = g->checks;
	FsParity   *parity = g->parity;
	MemoryContext oldctx;
	int64		first = g->first;
	int64		done = g->done;
	int64		remaining = g->total - done;
	int			n = (int) Min(FS_BATCH_ROWS, remaining);

	/* the last batch's values are no longer needed */
	MemoryContextReset(g->rowctx);
	if (n == 0)
		return 0;
	CHECK_FOR_INTERRUPTS();
	/* balance columns: the next combinations, dealt without replacement */
	for (int r = 0; r < n; r++)
	{
		dealt[r].combo = fs_fenwick_find(tree, k,
										 (int64) pg_prng_uint64_range(rng, 0, remaining - 1));
		dealt[r].row = r;
		fs_fenwick_add(tree, k, dealt[r].combo, -1);
		remaining--;
	}
	/*
	 * Rows are drawn sorted by combination, so tree walks go only as deep
	 * as their combinations' subtrees; they are emitted in dealt order.
	 */
	fs_sort_dealt(dealt, n, k, g->bucket);
	for (int i = 0; i < n; i++)
	{
		slot[dealt[i].row] = i;
		fs_combo_decode(src, dealt[i].combo, codes);
		for (int b = 0; b < src->nbalance; b++)
			classes[i * stride + src->balance[b]] = codes[b];
		classes[i * stride + FS_GROUP_COL(ncols)] = dealt[i].combo;
	}
	/* every other column in generation order, for the whole batch */
	if (parity)
		for (int i = 0; i < n; i++)
			fs_model_parity_begin(parity, &classes[i * stride], stride,
								  dealt[i].combo, rng);
	fs_draw_from(m, src->nbalance, classes, n, impute, rng);
	/* parity: keep a row whose outcome, decided last, is the planned one */
	for (int i = 0; parity && i < n; i++)
	{
		int32	   *row = &classes[i * stride];
		int			combo = dealt[i].combo;
		bool		ok = fs_model_parity_accept(parity, m, row, stride, combo, rng);

		for (int tries = 0; !ok; tries++)
		{
			if (tries < FS_PARITY_TRIES)
				fs_model_parity_begin(parity, row, stride, combo, rng);
			fs_draw_from(m, src->nbalance, row, 1, impute, rng);
			/* out of tries: the row as its combination has it */
			ok = tries >= FS_PARITY_TRIES ||
				fs_model_parity_accept(parity, m, row, stride, combo, rng);
		}
	}
	/* parity: the outcome's consequences follow the outcome decided */
	if (parity)
		fs_draw_from(m, fs_model_parity_from(m), classes, n, impute, rng);

	oldctx = MemoryContextSwitchTo(g->rowctx);
	for (int r = 0; r < n; r++)
	{
		int32	   *cls = &classes[slot[r] * stride];

		for (int attempt = 0;; attempt++)
		{
			uint64		key;
			const char *violated;
			bool		free_values = false;	/* a value drawn within a bin */

			for (int c = 0; c < ncols; c++)
			{
				FsColumn   *col = &src->cols[c];

				colnull[c] = false;
				sig[c] = 0;
				if (col->kind == FS_KEY)
					colval[c] = fs_fresh_key(col, first + done + r, g->run, rng);
				else if (col->kind == FS_TEXTFREE)
					colnull[c] = !fs_text_draw(src, m, c, cls, impute, rng, &colval[c]);
				else if (fixed[c][cls[c]].fixed)
				{
					colval[c] = fixed[c][cls[c]].value;
					sig[c] = fixed[c][cls[c]].sig;
				}
				else
				{
					colnull[c] = !fs_value_and_signature(src, m, c, cls[c], rng,
														 &colval[c], &sig[c]);
					free_values = free_values ||
						(col->kind == FS_NUM && !colnull[c]);
				}
			}
			fs_fill_generated(src, colval, colnull);
			/*
			 * A copy of a rare row the model learned from: draw the row
			 * again, until it is no copy of any row.  Rows many rows share
			 * are kept at their natural rate; the rows that replace rare
			 * copies are new rows, as a real holdout's unseen rows are,
			 * not more of the common ones (which would raise the exact
			 * match rate above a holdout's).
			 */
			key = fs_guard_key(sig, ncols);
			/* a row its table would reject: draw it again, a bounded number of times */
			violated = checks ? fs_checks_violated(checks, colval, colnull, ncols) : NULL;
			if (violated != NULL && attempt >= FS_CHECK_RETRIES)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("no row satisfying check constraint \"%s\" of relation %s in %d draws",
								violated, src->relname, FS_CHECK_RETRIES + 1),
						 errhint("The model rarely makes rows that satisfy it; balance a view without the columns it involves, or drop the constraint.")));
			if (violated == NULL &&
				(attempt >= FS_COPY_RETRIES ||
				 (!fs_guard_holds(&g->guard.rare, key) &&
				  (attempt == 0 || !fs_guard_holds(&g->guard.common, key)))))
				break;
			/*
			 * First new values within the same classes (a number drawn
			 * again within its bin): every class's share stays as drawn,
			 * so a spike that a rare row happens to hold (an amount of 0
			 * on a given day) keeps its share.  Only a row whose classes
			 * alone make it a copy draws classes again: from a random
			 * column of the generation order on, so the redraws that
			 * leave a rare row do not pile onto the common profiles of
			 * the first columns.
			 */
			if (free_values && attempt < FS_VALUE_RETRIES)
				continue;
			fs_draw_from(m, src->nbalance +
						 (int) pg_prng_uint64_range(rng, 0, Max(g->nmodelled - 1, 0)),
						 cls, 1, impute, rng);
		}
		for (int a = 0; a < outdesc->natts; a++)
		{
			if (outmap[a] < 0)
			{
				values[a] = (Datum) 0;
				nulls[a] = true;
			}
			else
			{
				values[a] = colval[outmap[a]];
				nulls[a] = colnull[outmap[a]];
			}
		}
		sink(sink_arg, values, nulls);
	}
	MemoryContextSwitchTo(oldctx);
	g->done = done + n;
	if (progress)
		fs_progress_update(first + g->done);
	return n;
}

/*
 * Make chunk j (see fs_chunk_start), every row handed to sink.
 */
void
fs_generate_chunk(FsGenerator *g, int j, pg_prng_state *call_rng,
				  const int64 *counts, int64 total, int64 first,
				  FsRowSink sink, void *sink_arg, bool progress)
{
	fs_chunk_start(g, j, call_rng, counts, total, first);
	while (fs_chunk_batch(g, sink, sink_arg, progress) > 0)
		;
}

/*
 * A row into a batch (arg: an FsBatchSink): its values as they are, by
 * reference, valid until the generator makes its next batch.
 */
void
fs_batch_sink(void *arg, Datum *values, bool *nulls)
{
	FsBatchSink *b = (FsBatchSink *) arg;

	Assert(b->n < FS_BATCH_ROWS);
	memcpy(b->values + (size_t) b->n * b->natts, values, sizeof(Datum) * b->natts);
	memcpy(b->nulls + (size_t) b->n * b->natts, nulls, sizeof(bool) * b->natts);
	b->n++;
}

/* A row into a tuplestore (arg: an FsStoreSink). */
void
fs_store_sink(void *arg, Datum *values, bool *nulls)
{
	FsStoreSink *s = (FsStoreSink *) arg;

	tuplestore_putvalues(s->store, s->desc, values, nulls);
}

/*
 * Generate plan->total rows into store, in rows of outdesc (attribute i from
 * source column outmap[i], -1: NULL); with impute, no modelled column is NULL
 * unless it was NULL in every row.  A plan of several chunks is made by
 * parallel workers when parallel.c allows it, else here, chunk after chunk:
 * the same rows in the same order either way.
 */
void
fs_generate(FsSource *src, FsModel *m, FsPlan *plan, bool impute,
			TupleDesc outdesc, const int *outmap, Tuplestorestate *store,
			pg_prng_state *rng)
{
	uint32		run;
	uint64		base;
	int			nchunks = fs_generation_streams(src, plan, rng, &run, &base);
	FsGenerator *g = fs_generator_begin(src, m, plan, impute, outdesc, outmap, run, base);
	int64	   *counts = palloc(sizeof(int64) * Max(plan->ncombos, 1));
	FsStoreSink sink = {store, outdesc};
	FsParallel *par = NULL;

	if (nchunks > 1)
		par = fs_parallel_begin(src, m, plan, impute, outdesc, outmap, run, base,
								nchunks);
	for (int j = 0; j < nchunks; j++)
	{
		int64		total;
		int64		first = fs_chunk_counts(plan, j, nchunks, counts, &total);

		if (par != NULL && fs_parallel_take(par, j, first, total, store))
			continue;
		fs_generate_chunk(g, j, rng, counts, total, first, fs_store_sink, &sink, true);
	}
	if (par != NULL)
		fs_parallel_end(par);
	MemoryContextDelete(g->rowctx);
}
