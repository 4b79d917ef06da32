/*-------------------------------------------------------------------------
 *
 * quality_scan.c
 *	  reading relations: columns as SELECT * shows them, streaming passes
 *
 * Describes the relations fairsynth_quality compares (their columns by name and
 * type) and streams each one through SPI into a DestReceiver, which hands every
 * row to the binning code (quality_bin.c) and keeps nothing else, so memory does
 * not grow with the number of rows.  Every relation is read as the calling role,
 * so privileges and row-level security apply.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "quality.h"

/* static prototypes */
static bool fsq_receive(TupleTableSlot *slot, DestReceiver *self);
static void fsq_startup(DestReceiver *self, int operation, TupleDesc typeinfo);
static void fsq_shutdown(DestReceiver *self);

/* -----------------------------------------------------------------------
 * Relations and their columns
 * -----------------------------------------------------------------------
 */

/* Return the quoted, if needed schema-qualified, name of a relation. */
const char *
fsq_relname(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

/* Read the column names and types of a relation through SPI. */
FsqDesc
fsq_describe(const char *relname)
{
	FsqDesc		d;
	StringInfoData q;
	TupleDesc	td;
	int			i,
				ret;

	initStringInfo(&q);
	appendStringInfo(&q, "SELECT * FROM %s LIMIT 0", relname);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed on %s: %s", relname, SPI_result_code_string(ret));
	td = SPI_tuptable->tupdesc;
	d.natts = 0;
	d.names = palloc(sizeof(char *) * Max(td->natts, 1));
	d.types = palloc(sizeof(Oid) * Max(td->natts, 1));
	for (i = 0; i < td->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(td, i);

		if (att->attisdropped)
			continue;
		d.names[d.natts] = pstrdup(NameStr(att->attname));
		d.types[d.natts] = att->atttypid;
		d.natts++;
	}
	SPI_freetuptable(SPI_tuptable);
	return d;
}

/* Check that a relation has every column of the original with its type. */
void
fsq_check_columns(FsqState *st, const char *relname, const char *role)
{
	FsqDesc		d = fsq_describe(relname);
	int			c,
				i;

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		for (i = 0; i < d.natts; i++)
			if (strcmp(d.names[i], col->name) == 0)
				break;
		if (i == d.natts)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation %s does not exist in %s relation %s",
							col->name, st->relname[REL_ORIG], role, relname),
					 errhint("The synthetic and holdout relations need every column of the original relation, with the same name and type; extra columns are ignored.")));
		if (d.types[i] != col->typid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s in relation %s but type %s in %s relation %s",
							col->name, format_type_be(col->typid), st->relname[REL_ORIG],
							format_type_be(d.types[i]), role, relname),
					 errhint("Cast the column, for example in a view, so that both relations use the same type.")));
	}
}

/* -----------------------------------------------------------------------
 * Streaming passes
 * -----------------------------------------------------------------------
 */

/* receiveSlot callback: one row of a streaming pass */
static bool
fsq_receive(TupleTableSlot *slot, DestReceiver *self)
{
	FsqReceiver *r = (FsqReceiver *) self;
	MemoryContext oldcxt;

	slot_getallattrs(slot);
	oldcxt = MemoryContextSwitchTo(r->rowcxt);
	if (r->pass == FSQ_PASS_DISTINCT)
		fsq_row_distinct(r, slot);
	else
		fsq_row_bin(r, slot);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(r->rowcxt);
	r->st->nrows[r->rel]++;
	if ((r->st->nrows[r->rel] & 1023) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

/* rStartup callback: nothing to do */
static void
fsq_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

/* rShutdown / rDestroy callback: nothing to do */
static void
fsq_shutdown(DestReceiver *self)
{
}

/*
 * Stream one relation through SPI into a DestReceiver, so that rows are
 * neither copied nor accumulated: the memory used does not depend on the
 * relation's size.
 */
void
fsq_scan(FsqState *st, int rel, FsqPass pass)
{
	StringInfoData q;
	SPIExecuteOptions opts;
	FsqReceiver r;
	int			c,
				ret;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (c = 0; c < st->ncols; c++)
		appendStringInfo(&q, "%s%s", c ? ", " : "", st->cols[c].expr);
	appendStringInfo(&q, " FROM %s", st->relname[rel]);

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = fsq_receive;
	r.pub.rStartup = fsq_startup;
	r.pub.rShutdown = fsq_shutdown;
	r.pub.rDestroy = fsq_shutdown;
	r.pub.mydest = DestNone;
	r.st = st;
	r.rel = rel;
	r.pass = pass;
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "fairsynth_quality row",
									 ALLOCSET_SMALL_SIZES);
	r.codes = palloc(sizeof(int) * st->ncols);
	r.nv = palloc(sizeof(double) * Max(st->nnum, 1));
	r.sv = palloc(sizeof(char *) * Max(st->ncat, 1));
	r.sl = palloc(sizeof(int) * Max(st->ncat, 1));
	st->nrows[rel] = 0;

	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = &r.pub;
	ret = SPI_execute_extended(q.data, &opts);
	if (ret < 0)
		elog(ERROR, "SPI_execute_extended failed on %s: %s",
			 st->relname[rel], SPI_result_code_string(ret));
	MemoryContextDelete(r.rowcxt);
	if (st->nrows[rel] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s is empty", st->relname[rel]),
				 errhint("fairsynth_quality needs at least one row in every relation it compares.")));
}
