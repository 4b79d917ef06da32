/*
 * stream.h: the typed generators in FROM as a streaming custom scan
 * (stream.c).
 */
#ifndef FAIRSYNTH_STREAM_H
#define FAIRSYNTH_STREAM_H

#include "fmgr.h"

extern void fs_stream_init(void);

/* The functions the scan streams (balance.c, sample.c). */
extern Datum fairsynth_balance_typed(PG_FUNCTION_ARGS);
extern Datum fairsynth_synthesize_typed(PG_FUNCTION_ARGS);
extern Datum fairsynth_sample(PG_FUNCTION_ARGS);
extern Datum fairsynth_sample_shard(PG_FUNCTION_ARGS);

#endif							/* FAIRSYNTH_STREAM_H */
