/*
 * block.c: the offset-addressed block a fitted model lives in (block.h).
 */
#include "postgres.h"

#include "block.h"

/* An empty block with room for initial bytes. */
void
fs_buf_init(FsBuf *buf, Size initial)
{
	buf->cap = Max(initial, 64);
	buf->len = 0;
	buf->data = palloc(buf->cap);
}

/* Reserve size bytes (8-aligned, zeroed) in buf; returns their offset. */
FsOff
fs_buf_alloc(FsBuf *buf, Size size)
{
	Size		off = MAXALIGN(buf->len);

	size = MAXALIGN(Max(size, 1));
	if (off + size > buf->cap)
	{
		Size		newcap = Max(buf->cap * 2, off + size);

		buf->data = repalloc_huge(buf->data, newcap);
		buf->cap = newcap;
	}
	if (off + size > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fairsynth model would exceed 4 GB"),
				 errhint("Lower fairsynth.sample_rows.")));
	memset(buf->data + off, 0, size);
	buf->len = off + size;
	return (FsOff) off;
}
