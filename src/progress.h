/*
 * progress.h: what a long fairsynth call is doing, for other sessions
 * (progress.c).
 */
#ifndef FAIRSYNTH_PROGRESS_H
#define FAIRSYNTH_PROGRESS_H

#include "postgres.h"

/* The phases of a call, in order. */
typedef enum FsPhase
{
	FS_PHASE_READ = 1,			/* reading the relation */
	FS_PHASE_FIT,				/* fitting the model */
	FS_PHASE_GENERATE			/* drawing rows */
} FsPhase;

extern int	fairsynth_progress_interval;

extern void fs_progress_init(void);
extern void fs_progress_begin(Oid relid, MemoryContext callctx);
extern void fs_progress_phase(FsPhase phase, int64 rows_total);
extern void fs_progress_update(int64 rows_done);

#endif							/* FAIRSYNTH_PROGRESS_H */
