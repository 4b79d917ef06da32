/*
 * cache.c: a backend-local cache of fitted models.
 *
 * Fitting dominates the cost of a call on small and medium tables, and a
 * model depends only on the rows it was fitted on.  Every call still reads
 * the relation as the calling role; the model is reused only when the
 * relation, the role, the balance columns, the fitting settings and a
 * fingerprint of every row read (a 64-bit hash over the rows in scan order)
 * are all equal, and so is the relation's shape (every column's number,
 * type, type modifier, kind as described before the read, balance position
 * and NOT NULL: a new column or a dropped index changes it).  So a cached model never outlives a change
 * to the data or the table and never serves a role that could not read the
 * very same rows.
 *
 * When a model of the relation, role, settings and shape is kept (here or in
 * the store), the read skips the sample the fit would need, betting that the
 * rows have not changed: everything a call takes from the sample besides the
 * fit (the copy guard's keys, which columns are keys, numeric scales,
 * timestamp units) is in the model.  If no kept model has the rows' key, the
 * call reads them again with the sample and fits; a backend that lost that
 * bet on a relation stops betting on it until a read with the sample finds
 * its model kept.
 *
 * The cache holds FS_CACHE_ENTRIES models in TopMemoryContext and evicts the
 * least recently used one.  Behind it, when fairsynth is preloaded, the
 * shared model store of store.c keeps models for every session under the
 * same key: a lookup that misses here asks the store, a model fitted here is
 * put in both.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "model.h"

#define FS_CACHE_ENTRIES 4

typedef struct FsCacheEntry
{
	FsModelKey	key;
	uint64		last_used;
	FsModel    *model;			/* in TopMemoryContext; NULL if empty */
} FsCacheEntry;

static FsCacheEntry fs_cache[FS_CACHE_ENTRIES];
static uint64 fs_cache_clock = 0;

/*
 * Relations (and roles) on which this backend's last bet that the rows had
 * not changed was lost: a table that changes between calls would otherwise
 * be read twice by every call.
 */
#define FS_LOST_BETS 8
typedef struct FsLostBet
{
	Oid			relid;
	Oid			userid;
} FsLostBet;

static FsLostBet fs_lost_bets[FS_LOST_BETS];
static int	fs_nlost_bets = 0;

/* The index of key's relation and role among the lost bets, or -1. */
static int
fs_lost_bet_index(const FsModelKey *key)
{
	for (int i = 0; i < fs_nlost_bets; i++)
		if (fs_lost_bets[i].relid == key->relid && fs_lost_bets[i].userid == key->userid)
			return i;
	return -1;
}

/*
 * Record how a read went for key's relation: won means its rows' model was
 * kept (whether or not the read bet on it), lost means a bet failed.
 */
void
fs_cache_bet(const FsModelKey *key, bool won)
{
	int			i = fs_lost_bet_index(key);

	if (won && i >= 0)
		fs_lost_bets[i] = fs_lost_bets[--fs_nlost_bets];
	else if (!won && i < 0)
	{
		/* forget the oldest when full */
		if (fs_nlost_bets == FS_LOST_BETS)
			memmove(fs_lost_bets, fs_lost_bets + 1, sizeof(FsLostBet) * --fs_nlost_bets);
		fs_lost_bets[fs_nlost_bets].relid = key->relid;
		fs_lost_bets[fs_nlost_bets].userid = key->userid;
		fs_nlost_bets++;
	}
}

/* Whether two keys are equal. */
static bool
fs_key_equal(const FsModelKey *a, const FsModelKey *b)
{
	return a->relid == b->relid && a->userid == b->userid &&
		a->fingerprint == b->fingerprint && a->nrows == b->nrows &&
		a->sample_rows == b->sample_rows && a->rare_threshold == b->rare_threshold &&
		strcmp(a->shape, b->shape) == 0;
}

static void fs_cache_local_put(const FsModelKey *key, const FsModel *model);

/* The cached model for key, copied into the current context, or NULL. */
FsModel *
fs_cache_lookup(const FsModelKey *key)
{
	FsModel    *shared;

	for (int i = 0; i < FS_CACHE_ENTRIES; i++)
	{
		FsCacheEntry *e = &fs_cache[i];

		if (e->model != NULL && fs_key_equal(&e->key, key))
		{
			FsModel    *copy = palloc_extended(e->model->size, MCXT_ALLOC_HUGE);

			memcpy(copy, e->model, e->model->size);
			e->last_used = ++fs_cache_clock;
			return copy;
		}
	}
	shared = fs_store_lookup(key);
	if (shared != NULL)
		fs_cache_local_put(key, shared);
	return shared;
}

/*
 * Whether a model of key's relation, role, settings and shape is kept here or
 * in the shared store, whatever rows it was fitted on: then the next read may
 * skip the sample, betting that the rows have not changed (fs_run reads them
 * again, with the sample, if they have).
 */
bool
fs_cache_expects(const FsModelKey *key)
{
	if (fs_lost_bet_index(key) >= 0)
		return false;
	for (int i = 0; i < FS_CACHE_ENTRIES; i++)
	{
		const FsModelKey *k = &fs_cache[i].key;

		if (fs_cache[i].model != NULL && k->relid == key->relid &&
			k->userid == key->userid && k->sample_rows == key->sample_rows &&
			k->rare_threshold == key->rare_threshold &&
			strcmp(k->shape, key->shape) == 0)
			return true;
	}
	return fs_store_expects(key);
}

/* Keep a copy of model under key here and in the shared store. */
void
fs_cache_store(const FsModelKey *key, const FsModel *model)
{
	fs_cache_local_put(key, model);
	fs_store_put(key, model);
}

/* Keep a copy of model under key here, evicting the least recently used entry. */
static void
fs_cache_local_put(const FsModelKey *key, const FsModel *model)
{
	FsCacheEntry *victim = &fs_cache[0];
	FsModel    *copy;
	char	   *shape;

	for (int i = 0; i < FS_CACHE_ENTRIES; i++)
	{
		if (fs_cache[i].model == NULL)
		{
			victim = &fs_cache[i];
			break;
		}
		if (fs_cache[i].last_used < victim->last_used)
			victim = &fs_cache[i];
	}
	copy = MemoryContextAllocExtended(TopMemoryContext, model->size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	shape = MemoryContextStrdup(TopMemoryContext, key->shape);
	if (copy == NULL)
		return;					/* caching is an optimisation only */
	memcpy(copy, model, model->size);
	if (victim->model != NULL)
	{
		pfree(victim->model);
		pfree(victim->key.shape);
	}
	victim->key = *key;
	victim->key.shape = shape;
	victim->model = copy;
	victim->last_used = ++fs_cache_clock;
}
