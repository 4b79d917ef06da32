/*
 * serial.h: a fitted model as a value (serial.c, sample.c).
 *
 * fairsynth_fit returns a bytea that carries everything generation needs:
 * the model block (FsModel, as fitted), and what today comes from the read
 * of the relation (FsSource): the columns' kinds and units, the balance
 * columns' dictionaries with their counts, the exact combination counts, the
 * row count, the fingerprint, integer keys' largest values, and the row
 * type's signature (names, types with modifiers).  fairsynth_sample turns it
 * back into an FsSource and an FsModel, after checking its format version
 * and checksum and validating every offset and size inside the block.
 */
#ifndef FAIRSYNTH_SERIAL_H
#define FAIRSYNTH_SERIAL_H

#include "fairsynth.h"
#include "model.h"

/* The first bytes of a model value: "FSMV". */
#define FS_VALUE_MAGIC 0x564D5346
/* Bumped whenever the value's layout or FS_MODEL_MAGIC changes. */
#define FS_VALUE_VERSION 3

/* What a model value holds besides the source and the block. */
typedef struct FsValueInfo
{
	bool		impute;			/* fitted with impute: samples carry no NULL */
	char	  **balance_names;	/* balance columns in order, outcome excluded */
	int			nbalance_named;
	char	   *outcome;		/* outcome column, or NULL */
} FsValueInfo;

extern bytea *fs_value_write(FsSource *src, const FsModel *m, bool impute);
extern bytea *fs_value_finish(FsSource *src, const FsModel *m, bool impute,
							  MemoryContext callctx, MemoryContext workctx);
extern void fs_value_read_header(bytea *value, Oid relid, FsValueInfo *info);
extern FsModel *fs_value_read(bytea *value, FsSource *src);
extern FsModel *fs_value_model(bytea *value, Oid relid, FsValueInfo *info,
							   FsSource *src);

/* Validation of a model block from outside (model_check.c). */
extern void fs_model_validate(const FsModel *m, Size size);

#endif							/* FAIRSYNTH_SERIAL_H */
