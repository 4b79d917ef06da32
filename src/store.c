/*
 * store.c: fitted models in shared memory, shared by every session.
 *
 * With fairsynth in shared_preload_libraries, fairsynth.model_store_size of
 * shared memory holds fitted models, so a model is fitted once per version of
 * the data, not once per session (a materialized view refreshed every night,
 * dbt runs, connection pools).  Without preloading, or with the size 0, the
 * backend-local cache of cache.c is all there is; nothing else changes.
 *
 * A stored model is reused under exactly the rules of cache.c: the relation,
 * the role, the settings, the fingerprint of every row the caller has just
 * read and the relation's shape must all be equal.  So a stored model never
 * serves a role other than the one that fitted it, and never outlives a
 * change to the rows that role can read.
 *
 * Layout: an FsStoreHeader with FS_STORE_ENTRIES entries, then an arena of
 * model_store_size bytes.  Each entry's bytes (its shape string, then the
 * model block, which is pointer-free) are one contiguous piece of the arena;
 * pieces are packed from the arena's start, so the free space is always one
 * piece at the end.  Storing a model that does not fit evicts the least
 * recently used entries, then packs the rest to the front.
 *
 * Locking: one LWLock (tranche "fairsynth") guards the header, every entry
 * and the arena.  Lookups (they count hits, move the LRU clock and copy the
 * model out), stores and resets hold it exclusively; fairsynth_models()
 * holds it shared, only to copy the entries, and so does fs_store_expects(),
 * only to compare keys.  It is held across nothing but
 * memcmp/memcpy/memmove of the store's own memory, the allocation of a
 * lookup's copy (which may fail softly) and reading the clock; never across
 * catalog access, output or another lock.  Copies of at most a few MB make
 * the hold time a fraction of a millisecond next to the scan every call does.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "catalog/pg_authid.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "fairsynth.h"
#include "model.h"

/* Models the store can hold, whatever their sizes. */
#define FS_STORE_ENTRIES 64

typedef struct FsStoreEntry
{
	bool		used;
	Oid			relid;
	Oid			userid;
	uint64		fingerprint;
	int64		nrows;
	int			sample_rows;
	int			rare_threshold;
	Size		off;			/* arena offset of the shape string */
	Size		shape_len;		/* bytes of the shape, with its NUL */
	Size		model_size;		/* bytes of the model, after the shape */
	uint64		last_used;		/* LRU clock */
	int64		hits;
	TimestampTz stored_at;
	TimestampTz used_at;		/* last stored or reused */
} FsStoreEntry;

typedef struct FsStoreHeader
{
	LWLock	   *lock;
	uint64		clock;
	Size		arena_size;
	Size		arena_used;		/* pieces are packed in [0, arena_used) */
	FsStoreEntry entries[FS_STORE_ENTRIES];
} FsStoreHeader;

/* kB of shared memory for models (fairsynth.model_store_size). */
int			fairsynth_model_store_size = 16384;

static FsStoreHeader *fs_store = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Bytes of shared memory the store needs. */
static Size
fs_store_memsize(void)
{
	return add_size(MAXALIGN(sizeof(FsStoreHeader)),
					mul_size((Size) fairsynth_model_store_size, 1024));
}

/* The arena's first byte. */
static char *
fs_store_arena(void)
{
	return (char *) fs_store + MAXALIGN(sizeof(FsStoreHeader));
}

/* Ask for the store's shared memory and lock (shmem_request_hook). */
static void
fs_store_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(fs_store_memsize());
	RequestNamedLWLockTranche("fairsynth", 1);
}

/* Attach to the store, creating it in the postmaster (shmem_startup_hook). */
static void
fs_store_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	fs_store = ShmemInitStruct("fairsynth model store", fs_store_memsize(), &found);
	if (!found)
	{
		memset(fs_store, 0, sizeof(FsStoreHeader));
		fs_store->lock = &(GetNamedLWLockTranche("fairsynth"))->lock;
		fs_store->arena_size = (Size) fairsynth_model_store_size * 1024;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* When preloaded: define the store's setting and, unless it is 0, its hooks. */
void
fs_store_init(void)
{
	/* a server-start setting cannot be defined by a library loaded later */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("fairsynth.model_store_size",
							"Shared memory for fitted models, shared by every session.",
							"Needs fairsynth in shared_preload_libraries; 0 turns the shared store off (each session then keeps its own few models).",
							&fairsynth_model_store_size, 16384, 0, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
	if (fairsynth_model_store_size == 0)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = fs_store_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = fs_store_startup;
}

/*
 * Whether entry e holds the model of key (with any_rows, of key's relation,
 * role, settings and shape whatever rows it was fitted on), in this library's
 * model format (a library installed over a running server must not read an
 * older one's).
 */
static bool
fs_store_matches(const FsStoreEntry *e, const FsModelKey *key, bool any_rows)
{
	uint32		magic;

	if (!(e->used && e->relid == key->relid && e->userid == key->userid &&
		  (any_rows || (e->fingerprint == key->fingerprint && e->nrows == key->nrows)) &&
		  e->sample_rows == key->sample_rows &&
		  e->rare_threshold == key->rare_threshold &&
		  e->shape_len == strlen(key->shape) + 1 &&
		  memcmp(fs_store_arena() + e->off, key->shape, e->shape_len) == 0 &&
		  e->model_size >= sizeof(FsModel)))
		return false;
	/* the model follows its shape string, so it may be unaligned */
	memcpy(&magic, fs_store_arena() + e->off + e->shape_len + offsetof(FsModel, magic),
		   sizeof(magic));
	return magic == FS_MODEL_MAGIC;
}

/* The stored model for key, copied into the current context, or NULL. */
FsModel *
fs_store_lookup(const FsModelKey *key)
{
	FsModel    *copy = NULL;

	if (fs_store == NULL)
		return NULL;
	LWLockAcquire(fs_store->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FS_STORE_ENTRIES; i++)
	{
		FsStoreEntry *e = &fs_store->entries[i];

		if (fs_store_matches(e, key, false))
		{
			copy = palloc_extended(e->model_size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
			if (copy != NULL)
			{
				memcpy(copy, fs_store_arena() + e->off + e->shape_len, e->model_size);
				e->last_used = ++fs_store->clock;
				e->used_at = GetCurrentTimestamp();
				e->hits++;
			}
			break;
		}
	}
	LWLockRelease(fs_store->lock);
	return copy;
}

/* Whether the store holds a model of key's relation, role, settings and shape. */
bool
fs_store_expects(const FsModelKey *key)
{
	bool		found = false;

	if (fs_store == NULL)
		return false;
	LWLockAcquire(fs_store->lock, LW_SHARED);
	for (int i = 0; i < FS_STORE_ENTRIES && !found; i++)
		found = fs_store_matches(&fs_store->entries[i], key, true);
	LWLockRelease(fs_store->lock);
	return found;
}

/* Order entries by arena offset, used ones first. */
static int
fs_entry_offset_order(const void *a, const void *b)
{
	const FsStoreEntry *x = *(FsStoreEntry *const *) a;
	const FsStoreEntry *y = *(FsStoreEntry *const *) b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return 0;
}

/* Move every used entry's piece to the front of the arena, in order. */
static void
fs_store_pack(void)
{
	FsStoreEntry *live[FS_STORE_ENTRIES];
	int			n = 0;
	Size		at = 0;

	for (int i = 0; i < FS_STORE_ENTRIES; i++)
		if (fs_store->entries[i].used)
			live[n++] = &fs_store->entries[i];
	qsort(live, n, sizeof(FsStoreEntry *), fs_entry_offset_order);
	for (int i = 0; i < n; i++)
	{
		Size		len = MAXALIGN(live[i]->shape_len + live[i]->model_size);

		if (live[i]->off != at)
			memmove(fs_store_arena() + at, fs_store_arena() + live[i]->off, len);
		live[i]->off = at;
		at += len;
	}
	fs_store->arena_used = at;
}

/*
 * Keep a copy of model under key, evicting least recently used models as
 * needed; a model larger than the whole store is not kept.
 */
void
fs_store_put(const FsModelKey *key, const FsModel *model)
{
	Size		shape_len = strlen(key->shape) + 1;
	Size		need = MAXALIGN(shape_len + model->size);
	FsStoreEntry *slot = NULL;

	if (fs_store == NULL || need > fs_store->arena_size)
		return;
	LWLockAcquire(fs_store->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FS_STORE_ENTRIES; i++)
		if (fs_store_matches(&fs_store->entries[i], key, false))
		{
			/* another session stored it meanwhile */
			LWLockRelease(fs_store->lock);
			return;
		}
	for (;;)
	{
		Size		live = 0;
		FsStoreEntry *oldest = NULL;

		slot = NULL;
		for (int i = 0; i < FS_STORE_ENTRIES; i++)
		{
			FsStoreEntry *e = &fs_store->entries[i];

			if (!e->used)
			{
				if (slot == NULL)
					slot = e;
				continue;
			}
			live += MAXALIGN(e->shape_len + e->model_size);
			if (oldest == NULL || e->last_used < oldest->last_used)
				oldest = e;
		}
		if (slot != NULL && fs_store->arena_size - live >= need)
			break;
		Assert(oldest != NULL);
		oldest->used = false;
	}
	if (fs_store->arena_size - fs_store->arena_used < need)
		fs_store_pack();
	slot->off = fs_store->arena_used;
	memcpy(fs_store_arena() + slot->off, key->shape, shape_len);
	memcpy(fs_store_arena() + slot->off + shape_len, model, model->size);
	fs_store->arena_used += need;
	slot->relid = key->relid;
	slot->userid = key->userid;
	slot->fingerprint = key->fingerprint;
	slot->nrows = key->nrows;
	slot->sample_rows = key->sample_rows;
	slot->rare_threshold = key->rare_threshold;
	slot->shape_len = shape_len;
	slot->model_size = model->size;
	slot->last_used = ++fs_store->clock;
	slot->hits = 0;
	slot->stored_at = slot->used_at = GetCurrentTimestamp();
	slot->used = true;
	LWLockRelease(fs_store->lock);
}

/* Error out unless the store exists (functions that only make sense with it). */
static void
fs_store_require(const char *function)
{
	if (fs_store != NULL)
		return;
	if (fairsynth_model_store_size == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs the shared model store, and fairsynth.model_store_size is 0", function),
				 errhint("Set fairsynth.model_store_size above 0 and restart the server.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s needs fairsynth to be loaded via shared_preload_libraries", function),
			 errhint("Add fairsynth to shared_preload_libraries in postgresql.conf and restart the server; without it every session fits and caches its own models.")));
}

PG_FUNCTION_INFO_V1(fairsynth_models);

/* One row per stored model the caller may see (its own, or all with pg_read_all_stats). */
Datum
fairsynth_models(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FsStoreEntry entries[FS_STORE_ENTRIES];
	Oid			me = GetUserId();
	bool		see_all;

	fs_store_require("fairsynth_models()");
	see_all = has_privs_of_role(me, ROLE_PG_READ_ALL_STATS);
	InitMaterializedSRF(fcinfo, 0);
	/* a copy of the entries: no catalog access or output while locked */
	LWLockAcquire(fs_store->lock, LW_SHARED);
	memcpy(entries, fs_store->entries, sizeof(entries));
	LWLockRelease(fs_store->lock);
	for (int i = 0; i < FS_STORE_ENTRIES; i++)
	{
		FsStoreEntry e = entries[i];
		Datum		values[8];
		bool		nulls[8] = {0};

		if (!e.used || !(see_all || e.userid == me))
			continue;
		values[0] = ObjectIdGetDatum(e.relid);
		values[1] = ObjectIdGetDatum(e.userid);
		values[2] = Int64GetDatum(e.nrows);
		values[3] = Int32GetDatum(e.sample_rows);
		values[4] = Int64GetDatum((int64) e.model_size);
		values[5] = Int64GetDatum(e.hits);
		values[6] = TimestampTzGetDatum(e.stored_at);
		values[7] = TimestampTzGetDatum(e.used_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(fairsynth_models_reset);

/* Drop the caller's stored models (a superuser's: all); returns how many. */
Datum
fairsynth_models_reset(PG_FUNCTION_ARGS)
{
	int64		dropped = 0;
	Oid			me = GetUserId();
	bool		drop_all;

	fs_store_require("fairsynth_models_reset()");
	drop_all = superuser();
	LWLockAcquire(fs_store->lock, LW_EXCLUSIVE);
	for (int i = 0; i < FS_STORE_ENTRIES; i++)
	{
		FsStoreEntry *e = &fs_store->entries[i];

		if (e->used && (drop_all || e->userid == me))
		{
			e->used = false;
			dropped++;
		}
	}
	fs_store_pack();
	LWLockRelease(fs_store->lock);
	PG_RETURN_INT64(dropped);
}
