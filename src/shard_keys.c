/*
 * shard_keys.c: the integer keys of a Citus shard's rows.
 *
 * fairsynth_balance_into writes a destination hash-distributed by an
 * integer key of the model straight into its shards: each shard's part of
 * the plan (fairsynth_sample_shard) takes as keys the integers after the
 * largest key of the source and the destination, in order, whose hash (the
 * column type's hash function, as Citus hashes a distribution column) falls
 * in the shard's range.  Every row of a part belongs to its shard and the
 * parts of two shards never share a key.
 *
 * A shard of S shards keeps one candidate in S, so finding its keys alone
 * hashes S candidates per key.  A node fills its shards one after another
 * in one backend (fairsynth_fill_shards), and then tells each call the hash
 * ranges of all of them: a call hashes the candidates once for all of them
 * and queues the other shards' keys (as gaps, about 2 bytes a key) in a
 * pool that their calls take theirs from before hashing on.  A shard's keys
 * are the same either way, in the same order.  A pool's queues take at
 * most work_mem; beyond that, every shard goes on alone from where the pool
 * stopped.
 * Pools live until the transaction ends (at most FS_KEY_POOLS of them); a
 * shard whose queue was already taken (a second call for it) finds its keys
 * alone.
 *
 * Worked example: shards A = [-2^31, -1] and B = [0, 2^31 - 1] of a node,
 * keys after 100.  Say 101 and 104 hash into A, 102 and 103 into B.  The
 * call for A hashes 101 (A's first key: handed on), 102 and 103 (queued for
 * B), 104 (A's second).  The call for B then takes 102 and 103 without
 * hashing, and hashes on from 105 when it needs a third key.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "fairsynth.h"

/* Shards of a table at most (Citus allows 64000): bounds a shard's range. */
#define FS_SHARD_MAX_SHARDS 65536
/* Pools of a transaction at most. */
#define FS_KEY_POOLS 4

/* ---------------------------------------------------------------------------
 * Pools
 * ---------------------------------------------------------------------------
 */

/*
 * The keys queued for one shard of a pool, as gaps: key i = key i-1 + gap
 * (key -1: after).  A gap is one unit, or when it exceeds PG_UINT16_MAX,
 * a 0 unit (never a gap) and the gap's high and low 16 bits.
 */
typedef struct FsKeyQueue
{
	uint16	   *gaps;
	int64		len;			/* units */
	int64		cap;
	int64		pos;			/* the next unit to take */
	int64		last;			/* the last key queued */
	bool		taken;			/* a call took (or is taking) its keys */
} FsKeyQueue;

/* A node's hash range and its queue, sorted by the range (fs_range_cmp). */
typedef struct FsKeyRange
{
	int32		min;
	int32		max;
	int			queue;
} FsKeyRange;

/* The candidates of a node's shards, hashed once. */
typedef struct FsKeyPool
{
	int64		after;			/* the keys follow this value */
	int			nranges;
	int32	   *mins;			/* the shards' hash ranges, in fill order */
	int32	   *maxs;
	FsKeyRange *sorted;			/* the same, by range: found by bisection */
	FsKeyQueue *queues;			/* one per range, in fill order */
	int64		scanned;		/* candidates up to this one are queued */
	int64		units;			/* units the queues hold room for, in all */
	bool		full;			/* queues no more: shards go on alone */
} FsKeyPool;

/* The keys of one shard: candidates after, kept when their hash is in range. */
typedef struct FsShardKeys
{
	FmgrInfo	hash;			/* the type's hash function, as Citus hashes */
	bool		builtin;		/* it is hashint2/4/8: computed inline */
	Oid			collation;
	int32		hash_min;
	int32		hash_max;
	int64		after;			/* the keys follow this value */
	int64		next;			/* the last candidate tried (or taken) */
	int64		row;			/* row (1-based) value was taken for */
	Datum		value;
	FsKeyPool  *pool;			/* keys from this pool's queue, or NULL */
	int			queue;
} FsShardKeys;

static MemoryContext fs_pool_cxt = NULL;	/* the transaction's pools */
static FsKeyPool *fs_pools[FS_KEY_POOLS];
static int	fs_npools = 0;

static uint32 fs_hash_int(int64 v);
static int	fs_range_cmp(const void *a, const void *b);
static FsKeyRange *fs_node_ranges(int nranges, const int32 *mins, const int32 *maxs);
static void fs_pools_forget(void *arg);
static FsKeyPool *fs_key_pool(int64 after, int nranges, const int32 *mins,
							  const int32 *maxs);
static bool fs_key_pool_take(FsShardKeys *k, int64 *key);
static bool fs_key_pool_push(FsKeyPool *pool, int q, int64 key);

/*
 * hashint2/hashint4/hashint8 of v (a value of the column's type): those of
 * int2 and int4 hash the value as a 32-bit integer; int8's folds the high
 * half into the low one first, which leaves a value of int4's range as it
 * is, so one formula serves all three (the TAP test compares with Citus's
 * worker_hash).
 */
static inline uint32
fs_hash_int(int64 v)
{
	uint32		lohalf = (uint32) v;
	uint32		hihalf = (uint32) (v >> 32);

	lohalf ^= (v >= 0) ? hihalf : ~hihalf;
	return hash_bytes_uint32(lohalf);
}

/* qsort: ranges by their lower end. */
static int
fs_range_cmp(const void *a, const void *b)
{
	const FsKeyRange *x = (const FsKeyRange *) a;
	const FsKeyRange *y = (const FsKeyRange *) b;

	return x->min < y->min ? -1 : x->min > y->min ? 1 : 0;
}

/*
 * A node's ranges mins/maxs sorted by range (palloc'd); an error when two
 * overlap, so that each candidate belongs to one shard at most.
 */
static FsKeyRange *
fs_node_ranges(int nranges, const int32 *mins, const int32 *maxs)
{
	FsKeyRange *sorted = palloc(sizeof(FsKeyRange) * nranges);

	for (int q = 0; q < nranges; q++)
	{
		sorted[q].min = mins[q];
		sorted[q].max = maxs[q];
		sorted[q].queue = q;
	}
	qsort(sorted, nranges, sizeof(FsKeyRange), fs_range_cmp);
	for (int r = 1; r < nranges; r++)
		if (sorted[r].min <= sorted[r - 1].max)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node hash ranges [%d, %d] and [%d, %d] overlap",
							sorted[r - 1].min, sorted[r - 1].max, sorted[r].min, sorted[r].max),
					 errhint("Pass the shardminvalue and shardmaxvalue of the Citus shards the node fills, in order.")));
	return sorted;
}

/* The transaction's pools are gone (its memory is reset). */
static void
fs_pools_forget(void *arg)
{
	fs_pool_cxt = NULL;
	fs_npools = 0;
}

/*
 * The pool of keys after after for the shards of ranges mins/maxs (in the
 * order they are filled), made when the transaction has none yet (an error
 * when the ranges overlap); NULL when it has FS_KEY_POOLS others.
 */
static FsKeyPool *
fs_key_pool(int64 after, int nranges, const int32 *mins, const int32 *maxs)
{
	FsKeyPool  *pool;
	FsKeyRange *sorted;

	for (int p = 0; p < fs_npools; p++)
	{
		pool = fs_pools[p];
		if (pool->after == after && pool->nranges == nranges &&
			memcmp(pool->mins, mins, sizeof(int32) * nranges) == 0 &&
			memcmp(pool->maxs, maxs, sizeof(int32) * nranges) == 0)
			return pool;
	}
	sorted = fs_node_ranges(nranges, mins, maxs);
	if (fs_npools >= FS_KEY_POOLS)
	{
		pfree(sorted);
		return NULL;
	}
	if (fs_pool_cxt == NULL)
	{
		MemoryContextCallback *cb;

		fs_pool_cxt = AllocSetContextCreate(TopTransactionContext, "fairsynth shard keys",
											ALLOCSET_DEFAULT_SIZES);
		cb = MemoryContextAlloc(fs_pool_cxt, sizeof(MemoryContextCallback));
		cb->func = fs_pools_forget;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(fs_pool_cxt, cb);
	}
	pool = MemoryContextAllocZero(fs_pool_cxt, sizeof(FsKeyPool));
	pool->after = after;
	pool->nranges = nranges;
	pool->mins = MemoryContextAlloc(fs_pool_cxt, sizeof(int32) * nranges);
	pool->maxs = MemoryContextAlloc(fs_pool_cxt, sizeof(int32) * nranges);
	memcpy(pool->mins, mins, sizeof(int32) * nranges);
	memcpy(pool->maxs, maxs, sizeof(int32) * nranges);
	pool->sorted = MemoryContextAlloc(fs_pool_cxt, sizeof(FsKeyRange) * nranges);
	memcpy(pool->sorted, sorted, sizeof(FsKeyRange) * nranges);
	pfree(sorted);
	pool->queues = MemoryContextAllocZero(fs_pool_cxt, sizeof(FsKeyQueue) * nranges);
	for (int q = 0; q < nranges; q++)
		pool->queues[q].last = after;
	pool->scanned = after;
	fs_pools[fs_npools++] = pool;
	elog(DEBUG2, "fairsynth: the keys of %d shards are found together", nranges);
	return pool;
}

/*
 * Queue key for the shard of queue q; false, queueing nothing, when its
 * queue would need room past work_mem.
 */
static bool
fs_key_pool_push(FsKeyPool *pool, int q, int64 key)
{
	FsKeyQueue *queue = &pool->queues[q];
	int64		gap = key - queue->last;	/* below 2^32: fs_key_pool_take */

	if (queue->len + 3 > queue->cap)
	{
		int64		cap = Max(queue->cap * 2, 16);

		if ((pool->units + cap - queue->cap) * sizeof(uint16) > (Size) work_mem * 1024)
			return false;
		queue->gaps = queue->gaps == NULL ?
			MemoryContextAlloc(fs_pool_cxt, sizeof(uint16) * cap) :
			repalloc_huge(queue->gaps, sizeof(uint16) * cap);
		pool->units += cap - queue->cap;
		queue->cap = cap;
	}
	if (gap <= PG_UINT16_MAX)
		queue->gaps[queue->len++] = (uint16) gap;
	else
	{
		queue->gaps[queue->len++] = 0;
		queue->gaps[queue->len++] = (uint16) (gap >> 16);
		queue->gaps[queue->len++] = (uint16) gap;
	}
	queue->last = key;
	return true;
}

/*
 * The next key of k's shard from its pool into key: its queue's next, else
 * the next candidate the pool hashes (queueing those of the other shards).
 * False when the pool is full and k's queue is used up: k then
 * goes on alone, after the last candidate the pool hashed.
 */
static bool
fs_key_pool_take(FsShardKeys *k, int64 *key)
{
	FsKeyPool  *pool = k->pool;
	FsKeyQueue *mine = &pool->queues[k->queue];

	if (mine->pos < mine->len)
	{
		int64		gap = mine->gaps[mine->pos++];

		if (gap == 0)
		{
			gap = ((int64) mine->gaps[mine->pos] << 16) | mine->gaps[mine->pos + 1];
			mine->pos += 2;
		}
		*key = k->next + gap;
		return true;
	}
	/* used up: none queued is needed again */
	pool->units -= mine->cap;
	if (mine->gaps != NULL)
		pfree(mine->gaps);
	mine->gaps = NULL;
	mine->len = mine->pos = mine->cap = 0;
	/*
	 * Hash on, until a candidate of this shard, or until the pool is full:
	 * a queue would need room past work_mem, or the candidates reach 2^32
	 * past after (so every gap queued fits in 32 bits).  A full pool hashes
	 * no further.
	 */
	while (!pool->full)
	{
		int64		c;
		int32		h;
		int			lo,
					hi;

		/* before the candidate is counted as hashed: none is ever skipped */
		if ((pool->scanned & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (pg_add_s64_overflow(pool->scanned, 1, &c) ||
			c - pool->after >= (int64) PG_UINT32_MAX)
			break;
		h = (int32) fs_hash_int(c);
		/* the last range starting at or below h, if h is in it */
		lo = 0;
		hi = pool->nranges;
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (pool->sorted[mid].min <= h)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && h <= pool->sorted[lo - 1].max)
		{
			int			q = pool->sorted[lo - 1].queue;

			if (q == k->queue)
			{
				pool->scanned = c;
				mine->last = c;
				*key = c;
				return true;
			}
			if (!fs_key_pool_push(pool, q, c))
				break;			/* no room: c is left to its shard */
		}
		/* counted once queued: an error while queueing leaves it to hash again */
		pool->scanned = c;
	}
	if (!pool->full)
	{
		pool->full = true;
		elog(DEBUG2, "fairsynth: the shard key pool is full after %lld candidates; shards go on alone",
			 (long long) (pool->scanned - pool->after));
	}
	k->next = pool->scanned;
	k->pool = NULL;
	return false;
}

/* ---------------------------------------------------------------------------
 * A shard's keys
 * ---------------------------------------------------------------------------
 */

/*
 * Make integer key column column of src take the keys of the shard whose
 * hash range is [hash_min, hash_max]: the integers after after, in order,
 * whose hash (the column type's hash function, which Citus applies to a
 * hash-distributed column) falls in the range.  node_mins/node_maxs
 * (nnode ranges, or none) are the ranges of every shard this backend fills,
 * in order, this one among them: their keys are then found together.
 */
void
fs_shard_keys_set(FsSource *src, const char *column, int64 after,
				  int32 hash_min, int32 hash_max,
				  int nnode, const int32 *node_mins, const int32 *node_maxs)
{
	FsColumn   *col = NULL;
	FsShardKeys *k;
	TypeCacheEntry *tce;

	for (int c = 0; c < src->ncols; c++)
		if (strcmp(src->cols[c].name, column) == 0)
			col = &src->cols[c];
	if (col == NULL || col->kind != FS_KEY || col->generated ||
		!(col->type == FS_INT2 || col->type == FS_INT4 || col->type == FS_INT8))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of %s is not an integer key of the model", column, src->relname),
				 errhint("Shard keys are drawn for an integer key column (a serial id, say) only.")));
	/* a shard of at most FS_SHARD_MAX_SHARDS: keys are found in bounded time */
	if ((int64) hash_max - hash_min + 1 < (INT64CONST(1) << 32) / FS_SHARD_MAX_SHARDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hash range [%d, %d] is narrower than a shard of %d shards",
						hash_min, hash_max, FS_SHARD_MAX_SHARDS),
				 errhint("Pass a Citus shard's shardminvalue and shardmaxvalue.")));
	tce = lookup_type_cache(col->typid, TYPECACHE_HASH_PROC_FINFO);
	if (!OidIsValid(tce->hash_proc))
		elog(ERROR, "type %s has no hash function", format_type_be(col->typid));
	k = palloc0(sizeof(FsShardKeys));
	fmgr_info_copy(&k->hash, &tce->hash_proc_finfo, CurrentMemoryContext);
	k->builtin = tce->hash_proc == F_HASHINT2 || tce->hash_proc == F_HASHINT4 ||
		tce->hash_proc == F_HASHINT8;
	k->collation = InvalidOid;	/* integers: no collation */
	k->hash_min = hash_min;
	k->hash_max = hash_max;
	k->after = after;
	k->next = after;

	/*
	 * The node's shards, this one among them: the pool of their keys (their
	 * ranges may not overlap: each candidate is one shard's), unless this
	 * shard's queue was taken already.
	 */
	if (nnode > 0)
	{
		int			mine = -1;

		for (int q = 0; q < nnode && mine < 0; q++)
			if (node_mins[q] == hash_min && node_maxs[q] == hash_max)
				mine = q;
		if (mine < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("hash range [%d, %d] is not among the node's hash ranges", hash_min, hash_max),
					 errhint("Pass the shardminvalue and shardmaxvalue of the Citus shards the node fills, in order.")));
		k->queue = mine;
	}
	if (k->builtin && nnode > 1)
	{
		k->pool = fs_key_pool(after, nnode, node_mins, node_maxs);
		if (k->pool != NULL && k->pool->queues[k->queue].taken)
			k->pool = NULL;
		if (k->pool != NULL)
			k->pool->queues[k->queue].taken = true;
	}
	col->shard_keys = k;
}

/*
 * The key of row i (0-based) of the shard's part: the next candidate in
 * range; redraws of the same row keep it.
 */
Datum
fs_shard_key_next(FsColumn *col, int64 i)
{
	FsShardKeys *k = (FsShardKeys *) col->shard_keys;

	if (k->row == i + 1)
		return k->value;
	k->row = i + 1;
	if (k->pool != NULL)
	{
		int64		key;

		if (fs_key_pool_take(k, &key))
		{
			k->next = key;
			k->value = fs_int_key_datum(col, key, false, k->after);
			return k->value;
		}
	}
	for (;;)
	{
		bool		overflow = pg_add_s64_overflow(k->next, 1, &k->next);
		int32		h;

		if ((k->next & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (k->builtin)
		{
			/* hashed inline; the Datum only for the key kept (or the overflow's error) */
			if (!overflow)
			{
				h = (int32) fs_hash_int(k->next);
				if (h < k->hash_min || h > k->hash_max)
					continue;
			}
			k->value = fs_int_key_datum(col, k->next, overflow, k->after);
			return k->value;
		}
		k->value = fs_int_key_datum(col, k->next, overflow, k->after);
		h = DatumGetInt32(FunctionCall1Coll(&k->hash, k->collation, k->value));
		if (h >= k->hash_min && h <= k->hash_max)
			return k->value;
	}
}
