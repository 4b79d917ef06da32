/*
 * generate.h: row generation (generate.c) in chunks, for parallel.c.
 *
 * fs_generate makes a plan's rows into a tuplestore.  Underneath, a plan is
 * cut into chunks whose rows depend only on the plan, the model, the call's
 * streams and the chunk's number (see fs_chunk_count), so that the leader
 * and parallel workers make the same rows; an FsGenerator holds what making
 * any chunk needs, and each row goes to a sink.
 */
#ifndef FAIRSYNTH_GENERATE_H
#define FAIRSYNTH_GENERATE_H

#include "fairsynth.h"
#include "model.h"

/* Rows generated together, column by column (fs_chunk_batch). */
#define FS_BATCH_ROWS 512
/* Rows of a chunk: plans up to this size are one chunk. */
#define FS_CHUNK_ROWS 65536
/* Chunks of a plan at most (larger plans have larger chunks). */
#define FS_MAX_CHUNKS (1 << 20)

typedef struct FsGenerator FsGenerator;

/* A call prepared for generating (balance.c, sample.c): read, fitted, planned. */
typedef struct FsCall
{
	FsSource	src;
	FsModel    *model;
	FsPlan	   *plan;
	bool		impute;
	int		   *outmap;			/* output attribute -> source column */
	pg_prng_state rng;			/* the call's stream, before any row */
	double		tprep;			/* CPU time when prepared (DEBUG lines) */
} FsCall;

extern FsCall *fs_balance_call(FunctionCallInfo fcinfo, TupleDesc outdesc,
							   MemoryContext workctx, bool synthesize);
extern FsCall *fs_sample_call(FunctionCallInfo fcinfo, TupleDesc outdesc,
							  MemoryContext workctx, bool shard);

/* Where a generated row goes: values and nulls of the output's attributes. */
typedef void (*FsRowSink) (void *arg, Datum *values, bool *nulls);

/* fs_store_sink's argument: a tuplestore of rows of desc. */
typedef struct FsStoreSink
{
	Tuplestorestate *store;
	TupleDesc	desc;
} FsStoreSink;

/* fs_batch_sink's argument: a batch's rows, natts values each. */
typedef struct FsBatchSink
{
	Datum	   *values;			/* FS_BATCH_ROWS * natts */
	bool	   *nulls;
	int			natts;
	int			n;				/* rows in it */
} FsBatchSink;

extern FsGenerator *fs_generator_begin(FsSource *src, FsModel *m, FsPlan *plan,
									   bool impute, TupleDesc outdesc,
									   const int *outmap, uint32 run, uint64 base);
extern int	fs_generation_streams(const FsSource *src, const FsPlan *plan,
								  pg_prng_state *rng, uint32 *run, uint64 *base);
extern int	fs_chunk_count(const FsPlan *plan);
extern int64 fs_chunk_counts(const FsPlan *plan, int j, int nchunks,
							 int64 *counts, int64 *total);
extern void fs_chunk_start(FsGenerator *g, int j, pg_prng_state *call_rng,
						   const int64 *counts, int64 total, int64 first);
extern int	fs_chunk_batch(FsGenerator *g, FsRowSink sink, void *sink_arg,
						   bool progress);
extern void fs_generate_chunk(FsGenerator *g, int j, pg_prng_state *call_rng,
							  const int64 *counts, int64 total, int64 first,
							  FsRowSink sink, void *sink_arg, bool progress);
extern void fs_store_sink(void *arg, Datum *values, bool *nulls);
extern void fs_batch_sink(void *arg, Datum *values, bool *nulls);

#endif							/* FAIRSYNTH_GENERATE_H */
