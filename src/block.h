/*
 * block.h: a growing block of memory whose parts are addressed by byte
 * offsets from its start (block.c).
 *
 * A fitted model is one such block (model.h): no pointers inside, so it can
 * be copied into shared memory, stored as bytea and read back as it is.
 * Parts are 8-byte aligned and zeroed; an offset stays valid when the block
 * grows (a pointer would not: take one with FS_AT after the last allocation).
 */
#ifndef FAIRSYNTH_BLOCK_H
#define FAIRSYNTH_BLOCK_H

#include "postgres.h"

/* A byte offset from a block's start; 0 means "none" (the header is there). */
typedef uint32 FsOff;

/* The object of the given type at offset off of the block at base. */
#define FS_AT(base, off, type) ((type *) ((char *) (base) + (off)))

typedef struct FsBuf
{
	char	   *data;
	Size		len;
	Size		cap;
} FsBuf;

extern void fs_buf_init(FsBuf *buf, Size initial);
extern FsOff fs_buf_alloc(FsBuf *buf, Size size);

#endif							/* FAIRSYNTH_BLOCK_H */
