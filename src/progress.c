/*
 * progress.c: what a long fairsynth call is doing, seen from other sessions.
 *
 * A call reports its phase (read, fit, generate) and its rows done of rows
 * planned.  With fairsynth in shared_preload_libraries every backend has one
 * slot of a MaxBackends-sized array in shared memory (indexed by
 * MyBackendId), and the view fairsynth_progress shows the slots in use.
 * Without preloading there is no shared memory: a call that runs longer than
 * fairsynth.progress_interval instead sends a NOTICE line with its progress,
 * at most once per interval (so client_min_messages = notice shows them).
 *
 * Locking: each slot has its own spinlock, taken by its backend to write the
 * slot (once per batch of rows: a few stores) and by a reader to copy it; it
 * is held across nothing but those stores and copies.  A slot is cleared
 * when the call ends, by error or cancellation too: a reset callback of the
 * call's memory context, which every abort deletes, clears it.
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_authid.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "progress.h"

PG_FUNCTION_INFO_V1(fairsynth_progress);

/* Seconds between progress NOTICEs without preloading; 0: none. */
int			fairsynth_progress_interval = 10;

typedef struct FsProgressSlot
{
	slock_t		mutex;
	int			pid;			/* 0: no call running */
	Oid			relid;
	Oid			userid;
	int			phase;
	int64		rows_done;
	int64		rows_total;		/* -1: unknown */
	TimestampTz started;
} FsProgressSlot;

static FsProgressSlot *fs_progress_slots = NULL;
static int	fs_progress_nslots = 0;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's call, if one runs. */
static bool fs_active = false;
static Oid	fs_relid;
static int	fs_phase;
static int64 fs_total;
static TimestampTz fs_started;
static TimestampTz fs_last_notice;
static MemoryContextCallback fs_end_callback;

static const char *const fs_phase_names[] = {"starting", "read", "fit", "generate"};

/* Bytes of shared memory the slots need. */
static Size
fs_progress_memsize(void)
{
	return mul_size(MaxBackends, sizeof(FsProgressSlot));
}

/* Ask for the slots' shared memory (shmem_request_hook). */
static void
fs_progress_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(fs_progress_memsize());
}

/* Attach to the slots, creating them in the postmaster (shmem_startup_hook). */
static void
fs_progress_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	fs_progress_slots = ShmemInitStruct("fairsynth progress", fs_progress_memsize(), &found);
	fs_progress_nslots = MaxBackends;
	if (!found)
	{
		memset(fs_progress_slots, 0, fs_progress_memsize());
		for (int i = 0; i < MaxBackends; i++)
			SpinLockInit(&fs_progress_slots[i].mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Define the setting and, when preloaded, the shared memory hooks (_PG_init). */
void
fs_progress_init(void)
{
	DefineCustomIntVariable("fairsynth.progress_interval",
							"Seconds between progress NOTICEs of a long call, when fairsynth is not preloaded.",
							"With fairsynth in shared_preload_libraries the view fairsynth_progress shows every call's progress instead. 0 turns the NOTICEs off.",
							&fairsynth_progress_interval, 10, 0, 3600,
							PGC_USERSET, GUC_UNIT_S, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = fs_progress_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = fs_progress_startup;
}

/* This backend's slot, or NULL without preloading. */
static FsProgressSlot *
fs_my_slot(void)
{
	if (fs_progress_slots == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > fs_progress_nslots)
		return NULL;
	return &fs_progress_slots[MyBackendId - 1];
}

/* Write this backend's state into its slot (pid 0: none). */
static void
fs_progress_publish(int64 rows_done, bool clear)
{
	FsProgressSlot *slot = fs_my_slot();

	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->pid = clear ? 0 : MyProcPid;
	slot->relid = fs_relid;
	slot->userid = GetUserId();
	slot->phase = fs_phase;
	slot->rows_done = rows_done;
	slot->rows_total = fs_total;
	slot->started = fs_started;
	SpinLockRelease(&slot->mutex);
}

/* The call's memory context goes away (end, error or cancel): clear. */
static void
fs_progress_end(void *arg)
{
	if (!fs_active)
		return;
	fs_active = false;
	fs_progress_publish(0, true);
}

/*
 * A call on relid starts; it ends when callctx (a context of the call's own)
 * is deleted or reset.
 */
void
fs_progress_begin(Oid relid, MemoryContext callctx)
{
	if (fs_active)
		return;					/* a call inside a call: the outer one's */
	fs_active = true;
	fs_relid = relid;
	fs_phase = 0;
	fs_total = -1;
	fs_started = fs_last_notice = GetCurrentTimestamp();
	fs_end_callback.func = fs_progress_end;
	fs_end_callback.arg = NULL;
	MemoryContextRegisterResetCallback(callctx, &fs_end_callback);
	fs_progress_publish(0, false);
}

/* The call enters a phase of rows_total rows (-1: unknown). */
void
fs_progress_phase(FsPhase phase, int64 rows_total)
{
	if (!fs_active)
		return;
	fs_phase = phase;
	fs_total = rows_total;
	fs_progress_publish(0, false);
}

/*
 * rows_done of the phase's rows are done: into the slot, or without
 * preloading a NOTICE once per fairsynth.progress_interval.
 */
void
fs_progress_update(int64 rows_done)
{
	TimestampTz now;

	if (!fs_active)
		return;
	if (fs_progress_slots != NULL)
	{
		fs_progress_publish(rows_done, false);
		return;
	}
	if (fairsynth_progress_interval <= 0)
		return;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(fs_last_notice, now, fairsynth_progress_interval * 1000))
		return;
	fs_last_notice = now;
	if (fs_total >= 0)
		ereport(NOTICE,
				(errmsg("fairsynth: %s " INT64_FORMAT " of " INT64_FORMAT " rows (%.0f%%) of %s after %.0f s",
						fs_phase_names[fs_phase], rows_done, fs_total,
						fs_total > 0 ? 100.0 * rows_done / fs_total : 100.0,
						get_rel_name(fs_relid) ? get_rel_name(fs_relid) : "?",
						(now - fs_started) / 1e6)));
	else
		ereport(NOTICE,
				(errmsg("fairsynth: %s " INT64_FORMAT " rows of %s after %.0f s",
						fs_phase_names[fs_phase], rows_done,
						get_rel_name(fs_relid) ? get_rel_name(fs_relid) : "?",
						(now - fs_started) / 1e6)));
}

/*
 * fairsynth_progress(): the calls running now, one row per backend: the
 * caller's own, every role's for members of pg_read_all_stats.  Empty
 * without preloading.
 */
Datum
fairsynth_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < fs_progress_nslots && fs_progress_slots != NULL; i++)
	{
		FsProgressSlot copy;
		Datum		values[6];
		bool		nulls[6] = {0};

		SpinLockAcquire(&fs_progress_slots[i].mutex);
		copy = fs_progress_slots[i];
		SpinLockRelease(&fs_progress_slots[i].mutex);
		if (copy.pid == 0 || (!all && copy.userid != GetUserId()))
			continue;
		values[0] = Int32GetDatum(copy.pid);
		values[1] = ObjectIdGetDatum(copy.relid);
		values[2] = CStringGetTextDatum(fs_phase_names[copy.phase]);
		values[3] = Int64GetDatum(copy.rows_done);
		values[4] = Int64GetDatum(copy.rows_total);
		nulls[4] = copy.rows_total < 0;
		values[5] = TimestampTzGetDatum(copy.started);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
