/*
 * stream.h: the typed generators in FROM as a streaming custom scan
 * (stream.c).
 */
#ifndef FAIRSYNTH_STREAM_H
#define FAIRSYNTH_STREAM_H

#include "fmgr.h"

extern void fs_stream_init(void);

#endif							/* FAIRSYNTH_STREAM_H */
