/*
 * parallel.h: generating a plan's chunks in parallel workers (parallel.c).
 */
#ifndef FAIRSYNTH_PARALLEL_H
#define FAIRSYNTH_PARALLEL_H

#include "fairsynth.h"
#include "model.h"
#include "executor/tuptable.h"

/* fairsynth.parallel_workers: workers a call may start to generate rows. */
#define FS_PARALLEL_WORKERS_DEFAULT 2
#define FS_PARALLEL_WORKERS_MIN 0
#define FS_PARALLEL_WORKERS_MAX 64

/* fairsynth.parallel_min_rows: rows from which a call generates in parallel. */
#define FS_PARALLEL_MIN_ROWS_DEFAULT 262144
#define FS_PARALLEL_MIN_ROWS_MIN 0
#define FS_PARALLEL_MIN_ROWS_MAX INT_MAX

extern PGDLLIMPORT int fairsynth_parallel_workers;
extern PGDLLIMPORT int fairsynth_parallel_min_rows;

typedef struct FsParallel FsParallel;

extern void fs_parallel_init(void);
extern FsParallel *fs_parallel_begin(FsSource *src, FsModel *m, FsPlan *plan,
									 bool impute, TupleDesc outdesc,
									 const int *outmap, uint32 run,
									 uint64 base, int nchunks);
extern bool fs_relation_parallel_safe(Oid relid);
extern int	fs_parallel_launched(FsParallel *par);
extern int	fs_parallel_worker_of(FsParallel *par, int j);
extern void fs_parallel_receive(FsParallel *par, int w, int j,
								TupleTableSlot *slot);
extern bool fs_parallel_take(FsParallel *par, int j, int64 first, int64 total,
							 Tuplestorestate *store);
extern void fs_parallel_end(FsParallel *par);

#endif							/* FAIRSYNTH_PARALLEL_H */
