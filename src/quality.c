/*-------------------------------------------------------------------------
 *
 * quality.c
 *	  fairsynth_quality(): fidelity and privacy of a synthetic relation
 *
 * Accuracy (fidelity) follows test/reference/quality.py exactly: every column
 * is binned on the ORIGINAL relation only (10 quantile bins for numeric
 * columns, the 10 most frequent values for the others, "_other_" for the
 * rest, NULL a value of its own) and accuracy is 1 - total variation distance
 * of the binned univariate and pairwise joint distributions.  The relations
 * are streamed through SPI into a DestReceiver that keeps only counters, so
 * every row counts and memory does not grow with the number of rows.  The
 * original is read twice: once to count its distinct values (which give the
 * quantiles and the most frequent values), once to bin it.
 *
 * Privacy (distance to closest record share, exact matches, nearest-neighbour
 * distance ratio) and the discriminator AUC work on reservoir samples of at
 * most FSQ_SAMPLE rows per relation, drawn with pg_prng seeded by the "seed"
 * argument, so the result is the same for the same seed and the same data.
 *
 * Every relation is read through SPI as the calling role, so privileges and
 * row-level security apply.
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

PG_FUNCTION_INFO_V1(fairsynth_quality);

#define FSQ_BINS		10		/* quantile bins / most frequent values kept */
#define FSQ_CODES		12		/* bin codes per column: 10 bins, other, NULL */
#define FSQ_OTHER		10		/* code of "_other_" */
#define FSQ_NULL		11		/* code of NULL in numeric columns */
#define FSQ_SAMPLE		5000	/* rows per relation for privacy metrics */
#define FSQ_BATCH		1000	/* rows per scroll-cursor fetch */
#define FSQ_MAX_DISTINCT (1 << 20)	/* exact pandas tie order up to this */
#define FSQ_MEM_DISTINCT (1 << 17)	/* distinct values counted in memory */
#define FSQ_MEM_TOTAL	(1 << 20)	/* ... over all columns together */
#define FSQ_MEM_BYTES	(32 * 1024 * 1024)	/* ... and their text */
#define FSQ_MAX_COLUMNS	200		/* pair counters grow with its square */

/* discriminator (gradient-boosted depth-2 trees on binned features) */
#define FSQ_GB_BINS		32		/* quantile bins / top values per feature */
#define FSQ_GB_CODES	(FSQ_GB_BINS + 2)
#define FSQ_GB_ROUNDS	60
#define FSQ_GB_RATE		0.2
#define FSQ_GB_LAMBDA	1.0
#define FSQ_GB_MINLEAF	20
#define FSQ_GB_FOLDS	5

#define REL_ORIG		0
#define REL_SYN			1
#define REL_HOLD		2

/* one column of the original relation and its binning */
typedef struct FsqColumn
{
	char	   *name;			/* attribute name */
	Oid			typid;			/* attribute type */
	bool		numeric;		/* numeric (or date/time via epoch)? */
	int			slot;			/* index among numeric or categorical cols */
	char	   *expr;			/* SQL expression reading the column */
	int			nbreaks;		/* numeric: unique quantile breaks */
	double		breaks[FSQ_BINS + 1];
	int			ncats;			/* categorical: values kept */
	char	   *cats[FSQ_BINS];
	int			catlens[FSQ_BINS];
	bool		is_text;		/* text-like: use the bytes, no output call */
	FmgrInfo	outinfo;		/* categorical: output function */
	int64		nvalid;			/* non-NULL values in the original */
	struct FsqDistinct *dist;	/* distinct values of the original */
} FsqColumn;

/* a reservoir sample of encoded rows of one relation */
typedef struct FsqSample
{
	int			n;				/* rows held */
	int64		seen;			/* rows offered */
	double	   *num;			/* n x nnum values, NaN = NULL */
	uint64	   *cat;			/* n x ncat hashes of the text output */
	pg_prng_state prng;
} FsqSample;

/* everything fairsynth_quality accumulates */
typedef struct FsqState
{
	int			ncols;
	FsqColumn  *cols;
	int			nnum;
	int			ncat;
	int			npairs;
	const char *relname[3];
	int64		nrows[3];
	int64	   *uni[3];			/* ncols x FSQ_CODES counts */
	int64	   *biv[3];			/* npairs x FSQ_CODES^2 counts */
	FsqSample	sample[3];
	int64		distinct_total; /* see FsqDistinct */
	int64		distinct_bytes;
} FsqState;

/* a relation's column names and types as SELECT * shows them */
typedef struct FsqDesc
{
	int			natts;
	char	  **names;
	Oid		   *types;
} FsqDesc;

/* Return the quoted, if needed schema-qualified, name of a relation. */
static const char *
fsq_relname(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

/* Read the column names and types of a relation through SPI. */
static FsqDesc
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
static void
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

/* Is this type binned numerically (numbers, and dates and times via epoch)? */
static bool
fsq_type_numeric(Oid typid, bool *epoch)
{
	*epoch = false;
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return true;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			*epoch = true;
			return true;
		default:
			return false;
	}
}

/* Fill in the columns of the original relation and their SQL expressions. */
static void
fsq_init_columns(FsqState *st)
{
	FsqDesc		d = fsq_describe(st->relname[REL_ORIG]);
	int			c;

	if (d.natts == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no columns", st->relname[REL_ORIG])));
	if (d.natts > FSQ_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("relation %s has %d columns, more than the %d fairsynth_quality compares",
						st->relname[REL_ORIG], d.natts, FSQ_MAX_COLUMNS),
				 errhint("Compare views that select the columns of interest.")));
	st->ncols = d.natts;
	st->cols = palloc0(sizeof(FsqColumn) * d.natts);
	st->nnum = st->ncat = 0;
	for (c = 0; c < d.natts; c++)
	{
		FsqColumn  *col = &st->cols[c];
		const char *qname = quote_identifier(d.names[c]);
		bool		epoch;

		col->name = d.names[c];
		col->typid = d.types[c];
		col->numeric = fsq_type_numeric(col->typid, &epoch);
		if (col->numeric)
		{
			col->slot = st->nnum++;
			/*
			 * NaN is missing, as in pandas; so are the infinities (as
			 * everywhere else in fairsynth): they have no place on the
			 * number line, and would turn the min-max scaling of the
			 * privacy metrics into NaN.
			 */
			if (epoch)
				col->expr = psprintf("NULLIF(NULLIF(extract(epoch FROM %s)::float8, "
									 "'Infinity'::float8), '-Infinity'::float8)", qname);
			else
				col->expr = psprintf("NULLIF(NULLIF(NULLIF(%s::float8, 'NaN'::float8), "
									 "'Infinity'::float8), '-Infinity'::float8)", qname);
		}
		else
		{
			Oid			outfunc;
			bool		isvarlena;

			col->slot = st->ncat++;
			col->expr = pstrdup(qname);
			switch (getBaseType(col->typid))
			{
				case TEXTOID:
				case VARCHAROID:
				case BPCHAROID:
					col->is_text = true;
					break;
				default:
					col->is_text = false;
			}
			getTypeOutputInfo(col->typid, &outfunc, &isvarlena);
			fmgr_info(outfunc, &col->outinfo);
		}
	}
	st->npairs = st->ncols * (st->ncols - 1) / 2;
}

/* Run a query returning exactly one row; error out otherwise. */
static HeapTuple
fsq_one_row(const char *query, TupleDesc *desc)
{
	int			ret = SPI_execute(query, true, 0);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of \"%s\"", query);
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

/* numpy's linspace(0, 1, 11)[i] * 100 / 100, as pandas passes it to numpy */
static double
fsq_quantile_level(int i)
{
	volatile double q;

	if (i == FSQ_BINS)
		q = 1.0;
	else
		q = (double) i * (1.0 / FSQ_BINS);
	q = q * 100.0;
	q = q / 100.0;
	return q;
}

/* numpy's _lerp(a, b, t) */
static double
fsq_lerp(double a, double b, double t)
{
	double		diff = b - a;

	if (t >= 0.5)
		return b - diff * (1 - t);
	return a + diff * t;
}

/* qsort comparator for doubles */
static int
fsq_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The 0-based positions of the order statistics numpy interpolates between
 * for the quantile breaks of n sorted values: pos[2i] and pos[2i + 1].
 */
static void
fsq_break_positions(int64 n, int64 *pos)
{
	int			i;

	for (i = 0; i <= FSQ_BINS; i++)
	{
		double		virt = (double) (n - 1) * fsq_quantile_level(i);
		int64		prev = (int64) floor(virt);

		if (virt >= n - 1)
			prev = n - 1;
		else if (virt < 0)
			prev = 0;
		pos[2 * i] = prev;
		pos[2 * i + 1] = Min(prev + 1, n - 1);
	}
}

/*
 * Set the breaks of a numeric column from the order statistics at the
 * positions of fsq_break_positions, as pandas' Series.quantile (numpy
 * "linear") followed by np.unique.
 */
static void
fsq_set_breaks(FsqColumn *col, int64 n, const double *stat)
{
	double		br[FSQ_BINS + 1];
	int			i;

	for (i = 0; i <= FSQ_BINS; i++)
	{
		double		virt = (double) (n - 1) * fsq_quantile_level(i);

		if (virt >= n - 1 || virt < 0)
			br[i] = stat[2 * i];
		else
			br[i] = fsq_lerp(stat[2 * i], stat[2 * i + 1], virt - floor(virt));
	}
	qsort(br, FSQ_BINS + 1, sizeof(double), fsq_cmp_double);
	col->nbreaks = 0;
	for (i = 0; i <= FSQ_BINS; i++)
		if (col->nbreaks == 0 || br[i] != col->breaks[col->nbreaks - 1])
			col->breaks[col->nbreaks++] = br[i];
}

/*
 * Quantile breaks of numeric columns with too many distinct values to count
 * in memory: the order statistics come from one percentile_disc query.
 */
static void
fsq_sql_breaks(FsqState *st)
{
	StringInfoData q;
	TupleDesc	desc;
	HeapTuple	tup;
	bool		isnull;
	bool		any = false;
	int64		pos[2 * (FSQ_BINS + 1)];
	int			c,
				i,
				k;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT 1");
	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		if (!col->numeric || col->dist != NULL || col->nvalid == 0)
			continue;
		any = true;
		fsq_break_positions(col->nvalid, pos);
		appendStringInfoString(&q, ", percentile_disc('{");
		/* (k + 0.5) / n makes percentile_disc return 0-based row k */
		for (i = 0; i < 2 * (FSQ_BINS + 1); i++)
			appendStringInfo(&q, "%s%.17g", i ? "," : "",
							 ((double) pos[i] + 0.5) / (double) col->nvalid);
		appendStringInfo(&q, "}'::float8[]) WITHIN GROUP (ORDER BY %s)", col->expr);
	}
	appendStringInfo(&q, " FROM %s", st->relname[REL_ORIG]);
	if (!any)
		return;
	tup = fsq_one_row(q.data, &desc);
	k = 2;
	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;
		double		stat[2 * (FSQ_BINS + 1)];

		if (!col->numeric || col->dist != NULL || col->nvalid == 0)
			continue;
		arr = DatumGetArrayTypeP(SPI_getbinval(tup, desc, k++, &isnull));
		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, &nulls, &nelems);
		if (nelems != 2 * (FSQ_BINS + 1))
			elog(ERROR, "unexpected percentile_disc result");
		for (i = 0; i < nelems; i++)
			stat[i] = DatumGetFloat8(elems[i]);
		fsq_set_breaks(col, col->nvalid, stat);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Distinct values of one column of the original with their counts, in order
 * of first occurrence (open addressing on a 64-bit hash).  Gives up, setting
 * overflow and freeing its arrays, beyond FSQ_MEM_DISTINCT values, or when
 * all columns together reach FSQ_MEM_TOTAL values or FSQ_MEM_BYTES of text.
 */
typedef struct FsqDistinct
{
	int64		n;				/* entries */
	int64		alloc;			/* entries allocated */
	int64		nslots;			/* hash slots, a power of 2 */
	int64	   *slots;			/* entry + 1, 0 = empty */
	uint64	   *hashes;
	int64	   *counts;
	double	   *values;			/* numeric columns */
	char	  **strs;			/* categorical columns */
	int		   *lens;
	int64		bytes;
	bool		overflow;
	MemoryContext cxt;			/* where entries are allocated */
	int64	   *total;			/* values counted by all columns */
	int64	   *total_bytes;	/* text kept by all columns */
} FsqDistinct;

/* Create an empty distinct-value table. */
static FsqDistinct *
fsq_distinct_create(bool numeric, int64 *total, int64 *total_bytes)
{
	FsqDistinct *d = palloc0(sizeof(FsqDistinct));

	d->cxt = CurrentMemoryContext;
	d->total = total;
	d->total_bytes = total_bytes;
	d->alloc = 256;
	d->nslots = 512;
	d->slots = palloc0(sizeof(int64) * d->nslots);
	d->hashes = palloc(sizeof(uint64) * d->alloc);
	d->counts = palloc(sizeof(int64) * d->alloc);
	if (numeric)
		d->values = palloc(sizeof(double) * d->alloc);
	else
	{
		d->strs = palloc(sizeof(char *) * d->alloc);
		d->lens = palloc(sizeof(int) * d->alloc);
	}
	return d;
}

/* Hash of a double's value (-0 and 0 alike). */
static inline uint64
fsq_hash_double(double v)
{
	if (v == 0)
		v = 0;					/* -0 = 0 */
	return fs_hash_bytes(&v, sizeof(v), 0);
}

/* Count one value (numeric v, or text s of length len) in the table. */
static void
fsq_distinct_add(FsqDistinct *d, uint64 h, double v, const char *s, int len)
{
	int64		mask = d->nslots - 1;
	int64		i = (int64) (h & (uint64) mask);
	int64		e;

	for (;;)
	{
		e = d->slots[i] - 1;
		if (e < 0)
			break;
		if (d->hashes[e] == h &&
			(d->strs == NULL ? d->values[e] == v :
			 (d->lens[e] == len && memcmp(d->strs[e], s, len) == 0)))
		{
			d->counts[e]++;
			return;
		}
		i = (i + 1) & mask;
	}
	if (d->n >= FSQ_MEM_DISTINCT || *d->total >= FSQ_MEM_TOTAL ||
		*d->total_bytes + len + 1 > FSQ_MEM_BYTES)
	{
		/* give up on this column: its binning will come from SQL */
		d->overflow = true;
		*d->total -= d->n;
		*d->total_bytes -= d->bytes;
		if (d->strs != NULL)
		{
			for (e = 0; e < d->n; e++)
				pfree(d->strs[e]);
			pfree(d->strs);
			pfree(d->lens);
		}
		else
			pfree(d->values);
		pfree(d->slots);
		pfree(d->hashes);
		pfree(d->counts);
		d->n = 0;
		d->bytes = 0;
		return;
	}
	if (d->n == d->alloc)
	{
		d->alloc *= 2;
		d->hashes = repalloc(d->hashes, sizeof(uint64) * d->alloc);
		d->counts = repalloc(d->counts, sizeof(int64) * d->alloc);
		if (d->strs == NULL)
			d->values = repalloc(d->values, sizeof(double) * d->alloc);
		else
		{
			d->strs = repalloc(d->strs, sizeof(char *) * d->alloc);
			d->lens = repalloc(d->lens, sizeof(int) * d->alloc);
		}
	}
	e = d->n++;
	(*d->total)++;
	d->hashes[e] = h;
	d->counts[e] = 1;
	if (d->strs == NULL)
		d->values[e] = v;
	else
	{
		d->strs[e] = MemoryContextAlloc(d->cxt, len + 1);
		memcpy(d->strs[e], s, len);
		d->strs[e][len] = '\0';
		d->lens[e] = len;
		d->bytes += len + 1;
		*d->total_bytes += len + 1;
	}
	d->slots[i] = e + 1;
	if (d->n * 2 > d->nslots)
	{
		/* grow and rehash */
		pfree(d->slots);
		d->nslots *= 2;
		mask = d->nslots - 1;
		d->slots = MemoryContextAllocZero(d->cxt, sizeof(int64) * d->nslots);
		for (e = 0; e < d->n; e++)
		{
			i = (int64) (d->hashes[e] & (uint64) mask);
			while (d->slots[i] != 0)
				i = (i + 1) & mask;
			d->slots[i] = e + 1;
		}
	}
}

/* Sort helper: a distinct numeric value and its count. */
typedef struct FsqValueCount
{
	double		value;
	int64		count;
} FsqValueCount;

/* qsort comparator by value */
static int
fsq_cmp_valuecount(const void *a, const void *b)
{
	double		x = ((const FsqValueCount *) a)->value;
	double		y = ((const FsqValueCount *) b)->value;

	return (x > y) - (x < y);
}

/* Quantile breaks of a numeric column from its distinct-value counts. */
static void
fsq_distinct_breaks(FsqColumn *col)
{
	FsqDistinct *d = col->dist;
	FsqValueCount *vc = palloc(sizeof(FsqValueCount) * Max(d->n, 1));
	int64		pos[2 * (FSQ_BINS + 1)];
	double		stat[2 * (FSQ_BINS + 1)];
	int64		e;
	int			i;

	if (col->nvalid == 0)
		return;
	for (e = 0; e < d->n; e++)
	{
		vc[e].value = d->values[e];
		vc[e].count = d->counts[e];
	}
	qsort(vc, d->n, sizeof(FsqValueCount), fsq_cmp_valuecount);
	/* counts become cumulative: vc[e].count = rows with value <= vc[e] */
	for (e = 1; e < d->n; e++)
		vc[e].count += vc[e - 1].count;
	fsq_break_positions(col->nvalid, pos);
	for (i = 0; i < 2 * (FSQ_BINS + 1); i++)
	{
		int64		lo = 0,
					hi = d->n - 1;

		/* first e with cumulative count > pos[i] */
		while (lo < hi)
		{
			int64		mid = (lo + hi) / 2;

			if (vc[mid].count > pos[i])
				hi = mid;
			else
				lo = mid + 1;
		}
		stat[i] = vc[lo].value;
	}
	fsq_set_breaks(col, col->nvalid, stat);
	pfree(vc);
}

#define FSQ_ISWAP(a,b) do { int64 t_ = (a); (a) = (b); (b) = t_; } while (0)

/* numpy 1.24's aheapsort for int64 (fallback of its introsort) */
static void
fsq_np_aheapsort(const int64 *v, int64 *tosort, int64 n)
{
	int64	   *a = tosort - 1;
	int64		i,
				j,
				l,
				tmp;

	for (l = n >> 1; l > 0; --l)
	{
		tmp = a[l];
		for (i = l, j = l << 1; j <= n;)
		{
			if (j < n && v[a[j]] < v[a[j + 1]])
				j += 1;
			if (v[tmp] < v[a[j]])
			{
				a[i] = a[j];
				i = j;
				j += j;
			}
			else
				break;
		}
		a[i] = tmp;
	}
	for (; n > 1;)
	{
		tmp = a[n];
		a[n] = a[1];
		n -= 1;
		for (i = 1, j = 2; j <= n;)
		{
			if (j < n && v[a[j]] < v[a[j + 1]])
				j++;
			if (v[tmp] < v[a[j]])
			{
				a[i] = a[j];
				i = j;
				j += j;
			}
			else
				break;
		}
		a[i] = tmp;
	}
}

/*
 * numpy 1.24's argsort(kind="quicksort") for int64, reproduced step by step
 * so that ties among value counts are broken exactly as pandas does.
 */
static void
fsq_np_aquicksort(const int64 *v, int64 *tosort, int64 num)
{
	int64	   *pl = tosort;
	int64	   *pr = tosort + num - 1;
	int64	   *stack[128];
	int64	  **sptr = stack;
	int64	   *pm,
			   *pi,
			   *pj,
			   *pk,
				vi,
				vp;
	int			depth[128];
	int		   *psdepth = depth;
	int			cdepth = 0;
	uint64		unum = (uint64) num;

	while (unum >>= 1)
		cdepth++;
	cdepth *= 2;
	for (;;)
	{
		if (cdepth < 0)
		{
			fsq_np_aheapsort(v, pl, pr - pl + 1);
			goto stack_pop;
		}
		while ((pr - pl) > 15)
		{
			pm = pl + ((pr - pl) >> 1);
			if (v[*pm] < v[*pl])
				FSQ_ISWAP(*pm, *pl);
			if (v[*pr] < v[*pm])
				FSQ_ISWAP(*pr, *pm);
			if (v[*pm] < v[*pl])
				FSQ_ISWAP(*pm, *pl);
			vp = v[*pm];
			pi = pl;
			pj = pr - 1;
			FSQ_ISWAP(*pm, *pj);
			for (;;)
			{
				do
					++pi;
				while (v[*pi] < vp);
				do
					--pj;
				while (vp < v[*pj]);
				if (pi >= pj)
					break;
				FSQ_ISWAP(*pi, *pj);
			}
			pk = pr - 1;
			FSQ_ISWAP(*pi, *pk);
			if (pi - pl < pr - pi)
			{
				*sptr++ = pi + 1;
				*sptr++ = pr;
				pr = pi - 1;
			}
			else
			{
				*sptr++ = pl;
				*sptr++ = pi - 1;
				pl = pi + 1;
			}
			*psdepth++ = --cdepth;
		}
		for (pi = pl + 1; pi <= pr; ++pi)
		{
			vi = *pi;
			vp = v[vi];
			pj = pi;
			pk = pi - 1;
			while (pj > pl && vp < v[*pk])
				*pj-- = *pk--;
			*pj = vi;
		}
stack_pop:
		if (sptr == stack)
			break;
		pr = *(--sptr);
		pl = *(--sptr);
		cdepth = *(--psdepth);
	}
}

/*
 * Positions (in order of first occurrence) of the FSQ_BINS values pandas'
 * value_counts().head(FSQ_BINS) keeps, given the counts in that order:
 * pandas reverses the counts, argsorts them with numpy's quicksort, maps the
 * result back and reverses it.  Returns how many, positions ascending.
 */
static int
fsq_pandas_top(const int64 *counts, int64 ncounts, int64 *pos)
{
	int64	   *rev = palloc(sizeof(int64) * Max(ncounts, 1));
	int64	   *perm = palloc(sizeof(int64) * Max(ncounts, 1));
	int64		r;
	int			npos = 0,
				i,
				j;

	for (r = 0; r < ncounts; r++)
	{
		rev[r] = counts[ncounts - 1 - r];
		perm[r] = r;
	}
	if (ncounts > 1)
		fsq_np_aquicksort(rev, perm, ncounts);
	for (r = 0; r < ncounts && npos < FSQ_BINS; r++)
		pos[npos++] = ncounts - 1 - perm[ncounts - 1 - r];
	for (i = 1; i < npos; i++)
		for (j = i; j > 0 && pos[j - 1] > pos[j]; j--)
		{
			int64		t = pos[j];

			pos[j] = pos[j - 1];
			pos[j - 1] = t;
		}
	pfree(rev);
	pfree(perm);
	return npos;
}

/* Kept values of a categorical column from its distinct-value counts. */
static void
fsq_distinct_top(FsqColumn *col)
{
	int64		pos[FSQ_BINS];
	int			i;

	col->ncats = fsq_pandas_top(col->dist->counts, col->dist->n, pos);
	for (i = 0; i < col->ncats; i++)
	{
		col->cats[i] = col->dist->strs[pos[i]];
		col->catlens[i] = col->dist->lens[pos[i]];
	}
}

/*
 * Kept values of a categorical column with too many distinct values to
 * count in memory, like pandas' value_counts().head(10) (see fsq_pandas_top)
 * from a GROUP BY in first-occurrence order read through a scroll cursor.
 * Above FSQ_MAX_DISTINCT distinct values ties go to the first occurrence.
 */
static void
fsq_top_values(FsqState *st, FsqColumn *col)
{
	StringInfoData inner,
				q;
	SPIPlanPtr	plan;
	Portal		portal;
	int64	   *counts;
	int64		ncounts = 0,
				alloc = 1024;
	bool		overflow = false;
	int64		pos[FSQ_BINS];
	int			npos = 0,
				i,
				j;

	initStringInfo(&inner);
	appendStringInfo(&inner,
					 "SELECT s.v, count(*) AS c, min(s.rn) AS f FROM "
					 "(SELECT CASE WHEN %s IS NULL THEN 'NULL' ELSE format('%%s', %s) END AS v, "
					 "row_number() OVER () AS rn FROM %s) s GROUP BY s.v",
					 col->expr, col->expr, st->relname[REL_ORIG]);
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT t.c, t.v FROM (%s) t ORDER BY t.f", inner.data);

	plan = SPI_prepare_cursor(q.data, 0, NULL, CURSOR_OPT_SCROLL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	counts = palloc(sizeof(int64) * alloc);
	for (;;)
	{
		uint64		r;

		SPI_scroll_cursor_fetch(portal, FETCH_FORWARD, FSQ_BATCH);
		if (SPI_processed == 0)
			break;
		for (r = 0; r < SPI_processed && !overflow; r++)
		{
			bool		isnull;

			if (ncounts == FSQ_MAX_DISTINCT)
			{
				overflow = true;
				break;
			}
			if (ncounts == alloc)
			{
				alloc *= 2;
				counts = repalloc(counts, sizeof(int64) * alloc);
			}
			counts[ncounts++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
															SPI_tuptable->tupdesc,
															1, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
		if (overflow)
			break;
	}

	if (overflow)
	{
		/* too many distinct values: ties by first occurrence */
		int			ret;

		SPI_cursor_close(portal);
		resetStringInfo(&q);
		appendStringInfo(&q, "SELECT t.v FROM (%s) t ORDER BY t.c DESC, t.f LIMIT %d",
						 inner.data, FSQ_BINS);
		ret = SPI_execute(q.data, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		col->ncats = (int) SPI_processed;
		for (i = 0; i < col->ncats; i++)
			col->cats[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		SPI_freetuptable(SPI_tuptable);
	}
	else
	{
		npos = fsq_pandas_top(counts, ncounts, pos);
		/* fetch the values at these positions, in ascending position order */
		for (i = 0; i < npos; i++)
		{
			int64		p = pos[i];

			SPI_scroll_cursor_fetch(portal, FETCH_ABSOLUTE, p + 1);
			if (SPI_processed != 1)
				elog(ERROR, "could not refetch value %lld of column \"%s\"",
					 (long long) p, col->name);
			col->cats[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			SPI_freetuptable(SPI_tuptable);
		}
		col->ncats = npos;
		SPI_cursor_close(portal);
	}
	/* SPI_getvalue allocates in the SPI context, which lives until the end */
	for (j = 0; j < col->ncats; j++)
	{
		if (col->cats[j] == NULL)
			col->cats[j] = pstrdup("NULL");
		col->catlens[j] = strlen(col->cats[j]);
	}
	pfree(counts);
	SPI_freeplan(plan);
}

/* Bin code of a numeric value (NaN = NULL), as pd.cut(include_lowest). */
static inline int
fsq_numeric_code(const FsqColumn *col, double v)
{
	int			k;

	if (isnan(v))
		return FSQ_NULL;
	if (col->nbreaks == 0 || v < col->breaks[0] || v > col->breaks[col->nbreaks - 1])
		return FSQ_OTHER;
	if (col->nbreaks == 1)
		return 0;
	for (k = 1; k < col->nbreaks; k++)
		if (v <= col->breaks[k])
			return k - 1;
	return FSQ_OTHER;
}

/* Bin code of a categorical value given its text output ("NULL" for NULL). */
static inline int
fsq_category_code(const FsqColumn *col, const char *s, int len)
{
	int			k;

	for (k = 0; k < col->ncats; k++)
		if (col->catlens[k] == len && memcmp(col->cats[k], s, len) == 0)
			return k;
	return FSQ_OTHER;
}

/* Text of a categorical value as its output function prints it. */
static inline const char *
fsq_text(const FsqColumn *col, Datum value, bool isnull, int *len)
{
	const char *s;

	if (isnull)
	{
		/* pandas: fillna("NULL") */
		*len = 4;
		return "NULL";
	}
	if (col->is_text)
	{
		text	   *t = DatumGetTextPP(value);

		*len = VARSIZE_ANY_EXHDR(t);
		return VARDATA_ANY(t);
	}
	s = OutputFunctionCall((FmgrInfo *) &col->outinfo, value);
	*len = strlen(s);
	return s;
}

/* Allocate the counters and the reservoir of one relation. */
static void
fsq_alloc_rel(FsqState *st, int rel, int64 seed)
{
	FsqSample  *s = &st->sample[rel];

	st->uni[rel] = MemoryContextAllocHuge(CurrentMemoryContext,
										  sizeof(int64) * st->ncols * FSQ_CODES);
	memset(st->uni[rel], 0, sizeof(int64) * st->ncols * FSQ_CODES);
	st->biv[rel] = MemoryContextAllocHuge(CurrentMemoryContext,
										  sizeof(int64) * Max(st->npairs, 1) * FSQ_CODES * FSQ_CODES);
	memset(st->biv[rel], 0, sizeof(int64) * Max(st->npairs, 1) * FSQ_CODES * FSQ_CODES);
	s->n = 0;
	s->seen = 0;
	s->num = palloc(sizeof(double) * FSQ_SAMPLE * Max(st->nnum, 1));
	s->cat = palloc(sizeof(uint64) * FSQ_SAMPLE * Max(st->ncat, 1));
	/* same stream for every relation, like pandas' sample(random_state=seed) */
	pg_prng_seed(&s->prng, (uint64) seed);
}

/* What a streaming pass over a relation does with each row. */
typedef enum FsqPass
{
	FSQ_PASS_DISTINCT,			/* count the distinct values (original) */
	FSQ_PASS_BIN				/* bin counts and reservoir sample */
} FsqPass;

/* DestReceiver that consumes the rows of a streaming pass one by one. */
typedef struct FsqReceiver
{
	DestReceiver pub;
	FsqState   *st;
	int			rel;
	FsqPass		pass;
	MemoryContext rowcxt;
	int		   *codes;
	double	   *nv;
	const char **sv;
	int		   *sl;
} FsqReceiver;

/* Count the distinct values of every column of one row of the original. */
static void
fsq_row_distinct(FsqReceiver *r, TupleTableSlot *slot)
{
	FsqState   *st = r->st;
	int			c;

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		bool		isnull = slot->tts_isnull[c];

		if (col->numeric)
		{
			double		v;

			if (isnull)
				continue;
			v = DatumGetFloat8(slot->tts_values[c]);
			col->nvalid++;
			if (!col->dist->overflow)
				fsq_distinct_add(col->dist, fsq_hash_double(v), v, NULL, 0);
		}
		else if (!col->dist->overflow)
		{
			int			len;
			const char *s = fsq_text(col, slot->tts_values[c], isnull, &len);

			fsq_distinct_add(col->dist,
							 fs_hash_bytes(s, len, 0),
							 0, s, len);
		}
	}
}

/* Bin one row into the counters and offer it to the reservoir (algorithm R). */
static void
fsq_row_bin(FsqReceiver *r, TupleTableSlot *slot)
{
	FsqState   *st = r->st;
	FsqSample  *smp = &st->sample[r->rel];
	int64	   *uni = st->uni[r->rel];
	int64	   *biv = st->biv[r->rel];
	int		   *codes = r->codes;
	int			c,
				i,
				j,
				sl;
	int64		p;

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		bool		isnull = slot->tts_isnull[c];

		if (col->numeric)
		{
			double		v = isnull ? NAN : DatumGetFloat8(slot->tts_values[c]);

			codes[c] = fsq_numeric_code(col, v);
			r->nv[col->slot] = v;
		}
		else
		{
			r->sv[col->slot] = fsq_text(col, slot->tts_values[c], isnull,
										&r->sl[col->slot]);
			codes[c] = fsq_category_code(col, r->sv[col->slot], r->sl[col->slot]);
		}
	}

	for (c = 0; c < st->ncols; c++)
		uni[c * FSQ_CODES + codes[c]]++;
	p = 0;
	for (i = 0; i < st->ncols; i++)
	{
		int64	   *row = biv + p * FSQ_CODES * FSQ_CODES + codes[i] * FSQ_CODES;

		for (j = i + 1; j < st->ncols; j++, row += FSQ_CODES * FSQ_CODES)
			row[codes[j]]++;
		p += st->ncols - i - 1;
	}

	smp->seen++;
	if (smp->n < FSQ_SAMPLE)
		sl = smp->n++;
	else
	{
		uint64		k = pg_prng_uint64_range(&smp->prng, 0, smp->seen - 1);

		sl = k < FSQ_SAMPLE ? (int) k : -1;
	}
	if (sl >= 0)
	{
		memcpy(smp->num + (int64) sl * st->nnum, r->nv, sizeof(double) * st->nnum);
		for (c = 0; c < st->ncat; c++)
			smp->cat[(int64) sl * st->ncat + c] =
				hash_bytes_extended((const unsigned char *) r->sv[c], r->sl[c], 0);
	}
}

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
static void
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

/* 1 - total variation distance between two count vectors. */
static double
fsq_accuracy(const int64 *a, int64 na, const int64 *b, int64 nb, int len)
{
	double		tvd = 0;
	int			k;

	for (k = 0; k < len; k++)
		tvd += fabs((double) a[k] / (double) na - (double) b[k] / (double) nb);
	return 1.0 - 0.5 * tvd;
}

/* Overall accuracy (mean univariate + mean bivariate) / 2 of one relation. */
static double
fsq_overall(FsqState *st, int rel, double *mu, double *mb)
{
	double		su = 0,
				sb = 0;
	int			c,
				p;

	for (c = 0; c < st->ncols; c++)
		su += fsq_accuracy(st->uni[REL_ORIG] + c * FSQ_CODES, st->nrows[REL_ORIG],
						   st->uni[rel] + c * FSQ_CODES, st->nrows[rel], FSQ_CODES);
	for (p = 0; p < st->npairs; p++)
		sb += fsq_accuracy(st->biv[REL_ORIG] + (int64) p * FSQ_CODES * FSQ_CODES,
						   st->nrows[REL_ORIG],
						   st->biv[rel] + (int64) p * FSQ_CODES * FSQ_CODES,
						   st->nrows[rel], FSQ_CODES * FSQ_CODES);
	*mu = su / st->ncols;
	*mb = st->npairs > 0 ? sb / st->npairs : 1.0;
	return (*mu + *mb) / 2;
}

/* Pick n of the first r slots of a sample uniformly (partial Fisher-Yates). */
static int *
fsq_subsample(pg_prng_state *prng, int r, int n)
{
	int		   *idx = palloc(sizeof(int) * Max(r, 1));
	int			i;

	for (i = 0; i < r; i++)
		idx[i] = i;
	for (i = 0; i < n; i++)
	{
		int			j = (int) pg_prng_uint64_range(prng, i, r - 1);
		int			t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
	return idx;
}

/* Encoded sample rows for nearest-neighbour search. */
typedef struct FsqEnc
{
	int			n;
	double	   *num;			/* n x nnum, min-max scaled */
	uint64	   *cat;			/* n x ncat */
} FsqEnc;

/* Squared distance, giving up (returning > bound) once it exceeds bound. */
static inline double
fsq_dist2(const FsqEnc *a, int i, const FsqEnc *b, int j, int nnum, int ncat,
		  double bound)
{
	const double *x = a->num + (int64) i * nnum;
	const double *y = b->num + (int64) j * nnum;
	const uint64 *u = a->cat + (int64) i * ncat;
	const uint64 *w = b->cat + (int64) j * ncat;
	double		d = 0;
	int			k;

	for (k = 0; k < nnum; k++)
	{
		double		t = x[k] - y[k];

		d += t * t;
	}
	if (d > bound)
		return d;
	for (k = 0; k < ncat; k++)
	{
		/* one-hot vectors of two different values differ in two places */
		if (u[k] != w[k])
		{
			d += 2.0;
			if (d > bound)
				return d;
		}
	}
	return d;
}

/* numpy.percentile(x, p) with linear interpolation; sorts x. */
static double
fsq_percentile(double *x, int n, double p)
{
	double		virt = (double) (n - 1) * (p / 100.0);
	int			prev;

	qsort(x, n, sizeof(double), fsq_cmp_double);
	if (virt >= n - 1)
		return x[n - 1];
	if (virt < 0)
		return x[0];
	prev = (int) floor(virt);
	return fsq_lerp(x[prev], x[prev + 1], virt - prev);
}

/*
 * dcr_share, exact_match and nndr_p5 on equal-sized samples (at most
 * FSQ_SAMPLE rows) of the original, the holdout and the synthetic relation.
 */
static void
fsq_privacy(FsqState *st, double *dcr, double *exact, double *nndr, bool *nndr_null)
{
	static const int rels[3] = {REL_ORIG, REL_HOLD, REL_SYN};
	FsqEnc		enc[3];
	int			n = FSQ_SAMPLE;
	int		   *sel[3];
	double	   *ratio;
	double		share = 0;
	int			nexact = 0;
	int			k,
				i,
				j;

	for (k = 0; k < 3; k++)
		n = Min(n, st->sample[rels[k]].n);
	for (k = 0; k < 3; k++)
	{
		FsqSample  *s = &st->sample[rels[k]];

		sel[k] = fsq_subsample(&s->prng, s->n, n);
		enc[k].n = n;
		enc[k].num = palloc(sizeof(double) * n * Max(st->nnum, 1));
		enc[k].cat = palloc(sizeof(uint64) * n * Max(st->ncat, 1));
		for (i = 0; i < n; i++)
			memcpy(enc[k].cat + (int64) i * st->ncat,
				   s->cat + (int64) sel[k][i] * st->ncat, sizeof(uint64) * st->ncat);
	}
	/* min-max scaling and NULL -> mean over the three samples together */
	for (j = 0; j < st->nnum; j++)
	{
		double		lo = INFINITY,
					hi = -INFINITY,
					sum = 0,
					mean,
					range;
		int64		cnt = 0;

		for (k = 0; k < 3; k++)
			for (i = 0; i < n; i++)
			{
				double		v = st->sample[rels[k]].num[(int64) sel[k][i] * st->nnum + j];

				if (isnan(v))
					continue;
				lo = Min(lo, v);
				hi = Max(hi, v);
				sum += v;
				cnt++;
			}
		if (cnt == 0)
			lo = hi = mean = 0;
		else
			mean = sum / cnt;
		range = hi > lo ? hi - lo : 1.0;
		for (k = 0; k < 3; k++)
			for (i = 0; i < n; i++)
			{
				double		v = st->sample[rels[k]].num[(int64) sel[k][i] * st->nnum + j];

				if (isnan(v))
					v = mean;
				enc[k].num[(int64) i * st->nnum + j] = (v - lo) / range;
			}
	}

	ratio = palloc(sizeof(double) * n);
	for (i = 0; i < n; i++)
	{
		double		t1 = INFINITY,
					t2 = INFINITY,
					h1 = INFINITY,
					dt,
					dh;

		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < n; j++)
		{
			double		d = fsq_dist2(&enc[2], i, &enc[0], j, st->nnum, st->ncat, t2);

			if (d < t1)
			{
				t2 = t1;
				t1 = d;
			}
			else if (d < t2)
				t2 = d;
		}
		for (j = 0; j < n; j++)
		{
			double		d = fsq_dist2(&enc[2], i, &enc[1], j, st->nnum, st->ncat, h1);

			if (d < h1)
				h1 = d;
		}
		dt = sqrt(t1);
		dh = sqrt(h1);
		if (dt < dh)
			share += 1;
		else if (dt == dh)
			share += 0.5;
		if (dt == 0)
			nexact++;
		ratio[i] = n > 1 ? dt / Max(sqrt(t2), 1e-12) : 0;
	}
	*dcr = share / n;
	*exact = (double) nexact / n;
	*nndr_null = n < 2;
	*nndr = n < 2 ? 0 : fsq_percentile(ratio, n, 5);
}

/* One split of a tree node: rows whose code is in "left" go left. */
typedef struct FsqSplit
{
	int			feature;		/* -1: no split */
	uint64		left;			/* bit mask of codes going left */
	double		gain;
} FsqSplit;

/* Binned discriminator data: n rows, nf features, codes row-major. */
typedef struct FsqGbData
{
	int			n;
	int			nf;
	uint8	   *x;
	int		   *ncodes;
	bool	   *ordered;
	double	   *y;
} FsqGbData;

/* Sort helper: a code and its gradient ratio. */
typedef struct FsqRatio
{
	int			code;
	double		ratio;
} FsqRatio;

/* qsort comparator by ratio then code */
static int
fsq_cmp_ratio(const void *a, const void *b)
{
	const FsqRatio *x = a;
	const FsqRatio *y = b;

	if (x->ratio != y->ratio)
		return x->ratio < y->ratio ? -1 : 1;
	return x->code - y->code;
}

/*
 * Best Newton-gain split of the given rows: ordered features split at a
 * threshold of their bin order, categorical ones at a threshold of the
 * gradient ratio order (optimal for a binary partition).
 */
static FsqSplit
fsq_best_split(const FsqGbData *d, const int *rows, int nrows,
			   const double *g, const double *h)
{
	FsqSplit	best = {-1, 0, 0};
	double		G[FSQ_GB_CODES],
				H[FSQ_GB_CODES];
	int			C[FSQ_GB_CODES];
	FsqRatio	order[FSQ_GB_CODES];
	double		gt = 0,
				ht = 0,
				parent;
	int			f,
				i,
				b;

	for (i = 0; i < nrows; i++)
	{
		gt += g[rows[i]];
		ht += h[rows[i]];
	}
	parent = gt * gt / (ht + FSQ_GB_LAMBDA);
	for (f = 0; f < d->nf; f++)
	{
		int			nb = d->ncodes[f];
		int			no = 0;
		double		gl = 0,
					hl = 0;
		int			cl = 0;
		uint64		mask = 0;

		memset(G, 0, sizeof(G));
		memset(H, 0, sizeof(H));
		memset(C, 0, sizeof(C));
		for (i = 0; i < nrows; i++)
		{
			int			r = rows[i];
			int			code = d->x[(int64) r * d->nf + f];

			G[code] += g[r];
			H[code] += h[r];
			C[code]++;
		}
		for (b = 0; b < nb; b++)
		{
			if (C[b] == 0)
				continue;
			order[no].code = b;
			order[no].ratio = d->ordered[f] ? b : G[b] / (H[b] + 1e-12);
			no++;
		}
		if (!d->ordered[f])
			qsort(order, no, sizeof(FsqRatio), fsq_cmp_ratio);
		for (b = 0; b < no - 1; b++)
		{
			int			code = order[b].code;
			double		gain;

			gl += G[code];
			hl += H[code];
			cl += C[code];
			mask |= UINT64CONST(1) << code;
			if (cl < FSQ_GB_MINLEAF || nrows - cl < FSQ_GB_MINLEAF)
				continue;
			gain = gl * gl / (hl + FSQ_GB_LAMBDA) +
				(gt - gl) * (gt - gl) / (ht - hl + FSQ_GB_LAMBDA) - parent;
			if (gain > best.gain + 1e-12)
			{
				best.feature = f;
				best.left = mask;
				best.gain = gain;
			}
		}
	}
	return best;
}

/* Leaf value -G / (H + lambda), shrunk by the learning rate. */
static double
fsq_leaf(const int *rows, int nrows, const double *g, const double *h)
{
	double		gs = 0,
				hs = 0;
	int			i;

	for (i = 0; i < nrows; i++)
	{
		gs += g[rows[i]];
		hs += h[rows[i]];
	}
	return -FSQ_GB_RATE * gs / (hs + FSQ_GB_LAMBDA);
}

/* Does row r go to the left child of this split? */
static inline bool
fsq_goes_left(const FsqGbData *d, const FsqSplit *s, int r)
{
	return (s->left >> d->x[(int64) r * d->nf + s->feature]) & 1;
}

/*
 * Fit gradient-boosted depth-2 trees (logistic loss) on the training rows
 * and add their scores for every row (training and test) into "score".
 */
static void
fsq_boost(const FsqGbData *d, const int *train, int ntrain,
		  const int *test, int ntest, double *score)
{
	double	   *g = palloc(sizeof(double) * d->n);
	double	   *h = palloc(sizeof(double) * d->n);
	int		   *left = palloc(sizeof(int) * Max(ntrain, 1));
	int		   *right = palloc(sizeof(int) * Max(ntrain, 1));
	int		   *part[4];
	int			npart[4];
	double		pos = 0,
				base;
	int			round,
				i,
				k;

	for (k = 0; k < 4; k++)
		part[k] = palloc(sizeof(int) * Max(ntrain, 1));
	for (i = 0; i < ntrain; i++)
		pos += d->y[train[i]];
	base = log((pos + 0.5) / (ntrain - pos + 0.5));
	for (i = 0; i < ntrain; i++)
		score[train[i]] = base;
	for (i = 0; i < ntest; i++)
		score[test[i]] = base;

	for (round = 0; round < FSQ_GB_ROUNDS; round++)
	{
		FsqSplit	root,
					child[2];
		double		leaf[4];
		int			nl = 0,
					nr = 0;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < ntrain; i++)
		{
			int			r = train[i];
			double		p = 1.0 / (1.0 + exp(-score[r]));

			g[r] = p - d->y[r];
			h[r] = Max(p * (1 - p), 1e-6);
		}
		root = fsq_best_split(d, train, ntrain, g, h);
		if (root.feature < 0)
			break;
		for (i = 0; i < ntrain; i++)
		{
			if (fsq_goes_left(d, &root, train[i]))
				left[nl++] = train[i];
			else
				right[nr++] = train[i];
		}
		child[0] = fsq_best_split(d, left, nl, g, h);
		child[1] = fsq_best_split(d, right, nr, g, h);
		memset(npart, 0, sizeof(npart));
		for (k = 0; k < 2; k++)
		{
			int		   *rows = k == 0 ? left : right;
			int			nrows = k == 0 ? nl : nr;

			for (i = 0; i < nrows; i++)
			{
				int			leafno = 2 * k;

				if (child[k].feature >= 0 && !fsq_goes_left(d, &child[k], rows[i]))
					leafno++;
				part[leafno][npart[leafno]++] = rows[i];
			}
		}
		for (k = 0; k < 4; k++)
			leaf[k] = fsq_leaf(part[k], npart[k], g, h);
		for (k = 0; k < 2; k++)
		{
			const int  *rows = k == 0 ? train : test;
			int			nrows = k == 0 ? ntrain : ntest;

			for (i = 0; i < nrows; i++)
			{
				int			r = rows[i];
				int			leafno = fsq_goes_left(d, &root, r) ? 0 : 2;
				int			c = leafno / 2;

				if (child[c].feature >= 0 && !fsq_goes_left(d, &child[c], r))
					leafno++;
				score[r] += leaf[leafno];
			}
		}
	}
	pfree(g);
	pfree(h);
	pfree(left);
	pfree(right);
	for (k = 0; k < 4; k++)
		pfree(part[k]);
}

/* Sort helper for the AUC: a score and its row. */
typedef struct FsqScored
{
	double		score;
	int			row;
} FsqScored;

/* qsort comparator by score then row */
static int
fsq_cmp_scored(const void *a, const void *b)
{
	const FsqScored *x = a;
	const FsqScored *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return x->row - y->row;
}

/* Area under the ROC curve of scores for labels y (Mann-Whitney, ties 1/2). */
static double
fsq_auc(const double *score, const double *y, int n)
{
	FsqScored  *s = palloc(sizeof(FsqScored) * n);
	double		ranksum = 0,
				npos = 0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		s[i].score = score[i];
		s[i].row = i;
		npos += y[i];
	}
	qsort(s, n, sizeof(FsqScored), fsq_cmp_scored);
	for (i = 0; i < n; i = j)
	{
		double		avg;
		int			t;

		for (j = i; j < n && s[j].score == s[i].score; j++)
			;
		avg = (i + 1 + j) / 2.0;
		for (t = i; t < j; t++)
			if (y[s[t].row] > 0)
				ranksum += avg;
	}
	pfree(s);
	if (npos == 0 || npos == n)
		return 0.5;
	return (ranksum - npos * (npos + 1) / 2) / (npos * (n - npos));
}

/* qsort comparator for uint64 */
static int
fsq_cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/* Sort helper: a hash and how often it occurs. */
typedef struct FsqHashCount
{
	uint64		hash;
	int			count;
} FsqHashCount;

/* qsort comparator by count descending then hash */
static int
fsq_cmp_hashcount(const void *a, const void *b)
{
	const FsqHashCount *x = a;
	const FsqHashCount *y = b;

	if (x->count != y->count)
		return y->count - x->count;
	return (x->hash > y->hash) - (x->hash < y->hash);
}

/*
 * Out-of-fold AUC of a classifier telling synthetic rows (label 1) from
 * original rows (label 0): stratified FSQ_GB_FOLDS-fold cross-validation of
 * gradient-boosted depth-2 trees on equal-sized samples of both relations.
 */
static double
fsq_discriminator(FsqState *st, int64 seed, bool *isnull)
{
	FsqGbData	d;
	FsqSample  *so = &st->sample[REL_ORIG];
	FsqSample  *ss = &st->sample[REL_SYN];
	int			m = Min(so->n, ss->n);
	int		   *sel[2];
	int		   *fold;
	double	   *score;
	double		auc;
	pg_prng_state prng;
	int			c,
				i,
				k,
				f;

	*isnull = m < 2 * FSQ_GB_FOLDS;
	if (*isnull)
		return 0;
	pg_prng_seed(&prng, (uint64) seed ^ UINT64CONST(0x9E3779B97F4A7C15));
	sel[0] = fsq_subsample(&prng, so->n, m);
	sel[1] = fsq_subsample(&prng, ss->n, m);

	d.n = 2 * m;
	d.nf = st->ncols;
	d.x = palloc(sizeof(uint8) * d.n * d.nf);
	d.ncodes = palloc(sizeof(int) * d.nf);
	d.ordered = palloc(sizeof(bool) * d.nf);
	d.y = palloc(sizeof(double) * d.n);
	for (i = 0; i < d.n; i++)
		d.y[i] = i < m ? 0 : 1;

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		if (col->numeric)
		{
			double	   *v = palloc(sizeof(double) * d.n);
			double		cut[FSQ_GB_BINS];
			int			nv = 0,
						ncut = 0;

			for (i = 0; i < d.n; i++)
			{
				FsqSample  *s = i < m ? so : ss;
				double		x = s->num[(int64) sel[i < m ? 0 : 1][i % m] * st->nnum + col->slot];

				if (!isnan(x))
					v[nv++] = x;
			}
			qsort(v, nv, sizeof(double), fsq_cmp_double);
			for (k = 1; k < FSQ_GB_BINS && nv > 0; k++)
			{
				double		x = v[(int64) k * nv / FSQ_GB_BINS];

				if (ncut == 0 || x > cut[ncut - 1])
					cut[ncut++] = x;
			}
			for (i = 0; i < d.n; i++)
			{
				FsqSample  *s = i < m ? so : ss;
				double		x = s->num[(int64) sel[i < m ? 0 : 1][i % m] * st->nnum + col->slot];
				int			code = 0;

				if (isnan(x))
					code = ncut + 1;
				else
					while (code < ncut && x >= cut[code])
						code++;
				d.x[(int64) i * d.nf + c] = (uint8) code;
			}
			d.ncodes[c] = ncut + 2;
			d.ordered[c] = true;
			pfree(v);
		}
		else
		{
			uint64	   *hv = palloc(sizeof(uint64) * d.n);
			FsqHashCount *hc = palloc(sizeof(FsqHashCount) * d.n);
			int			nh = 0,
						ntop;

			for (i = 0; i < d.n; i++)
			{
				FsqSample  *s = i < m ? so : ss;

				hv[i] = s->cat[(int64) sel[i < m ? 0 : 1][i % m] * st->ncat + col->slot];
			}
			qsort(hv, d.n, sizeof(uint64), fsq_cmp_uint64);
			for (i = 0; i < d.n; i++)
			{
				if (nh > 0 && hc[nh - 1].hash == hv[i])
					hc[nh - 1].count++;
				else
				{
					hc[nh].hash = hv[i];
					hc[nh].count = 1;
					nh++;
				}
			}
			qsort(hc, nh, sizeof(FsqHashCount), fsq_cmp_hashcount);
			ntop = Min(nh, FSQ_GB_BINS);
			for (i = 0; i < d.n; i++)
			{
				FsqSample  *s = i < m ? so : ss;
				uint64		x = s->cat[(int64) sel[i < m ? 0 : 1][i % m] * st->ncat + col->slot];
				int			code = ntop;

				for (k = 0; k < ntop; k++)
					if (hc[k].hash == x)
					{
						code = k;
						break;
					}
				d.x[(int64) i * d.nf + c] = (uint8) code;
			}
			d.ncodes[c] = ntop + 1;
			d.ordered[c] = false;
			pfree(hv);
			pfree(hc);
		}
	}

	/* stratified folds */
	fold = palloc(sizeof(int) * d.n);
	for (k = 0; k < 2; k++)
	{
		int		   *perm = fsq_subsample(&prng, m, m);

		for (i = 0; i < m; i++)
			fold[k * m + perm[i]] = i % FSQ_GB_FOLDS;
		pfree(perm);
	}
	score = palloc(sizeof(double) * d.n);
	for (f = 0; f < FSQ_GB_FOLDS; f++)
	{
		int		   *train = palloc(sizeof(int) * d.n);
		int		   *test = palloc(sizeof(int) * d.n);
		double	   *tmp = palloc(sizeof(double) * d.n);
		int			ntrain = 0,
					ntest = 0;

		for (i = 0; i < d.n; i++)
		{
			if (fold[i] == f)
				test[ntest++] = i;
			else
				train[ntrain++] = i;
		}
		fsq_boost(&d, train, ntrain, test, ntest, tmp);
		for (i = 0; i < ntest; i++)
			score[test[i]] = tmp[test[i]];
		pfree(train);
		pfree(test);
		pfree(tmp);
	}
	auc = fsq_auc(score, d.y, d.n);
	return auc;
}

/* Append one result row. */
static void
fsq_emit(ReturnSetInfo *rsinfo, const char *metric, const char *c1,
		 const char *c2, double value, bool isnull)
{
	Datum		values[4];
	bool		nulls[4] = {false, c1 == NULL, c2 == NULL, isnull};

	values[0] = CStringGetTextDatum(metric);
	values[1] = c1 ? CStringGetTextDatum(c1) : (Datum) 0;
	values[2] = c2 ? CStringGetTextDatum(c2) : (Datum) 0;
	values[3] = Float8GetDatum(value);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * fairsynth_quality(original, synthetic, holdout DEFAULT NULL, seed DEFAULT 0)
 * returns one row per metric: accuracy per column and column pair, overall
 * accuracy, and with a holdout the accuracy ceiling, the privacy metrics
 * and the discriminator AUC.
 */
Datum
fairsynth_quality(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FsqState	st;
	bool		has_holdout = !PG_ARGISNULL(2);
	int64		seed;
	double		mu,
				mb,
				overall;
	int			c,
				c2,
				p,
				rel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s relation must not be NULL", PG_ARGISNULL(0) ? "original" : "synthetic")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("seed must not be NULL")));
	seed = PG_GETARG_INT64(3);

	InitMaterializedSRF(fcinfo, 0);

	memset(&st, 0, sizeof(st));
	st.relname[REL_ORIG] = fsq_relname(PG_GETARG_OID(0));
	st.relname[REL_SYN] = fsq_relname(PG_GETARG_OID(1));
	st.relname[REL_HOLD] = has_holdout ? fsq_relname(PG_GETARG_OID(2)) : NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	fsq_init_columns(&st);
	fsq_check_columns(&st, st.relname[REL_SYN], "synthetic");
	if (has_holdout)
		fsq_check_columns(&st, st.relname[REL_HOLD], "holdout");

	/*
	 * Binning on the original only: count its distinct values in one pass;
	 * columns with too many of them are binned from SQL aggregates instead.
	 */
	for (c = 0; c < st.ncols; c++)
		st.cols[c].dist = fsq_distinct_create(st.cols[c].numeric,
											  &st.distinct_total,
											  &st.distinct_bytes);
	fsq_scan(&st, REL_ORIG, FSQ_PASS_DISTINCT);
	for (c = 0; c < st.ncols; c++)
	{
		FsqColumn  *col = &st.cols[c];

		if (col->dist->overflow)
			col->dist = NULL;
		else if (col->numeric)
			fsq_distinct_breaks(col);
		else
			fsq_distinct_top(col);
	}
	fsq_sql_breaks(&st);
	for (c = 0; c < st.ncols; c++)
		if (!st.cols[c].numeric && st.cols[c].dist == NULL)
			fsq_top_values(&st, &st.cols[c]);

	for (rel = 0; rel < 3; rel++)
	{
		if (rel == REL_HOLD && !has_holdout)
			continue;
		fsq_alloc_rel(&st, rel, seed);
		fsq_scan(&st, rel, FSQ_PASS_BIN);
	}

	/* accuracy of the synthetic relation */
	for (c = 0; c < st.ncols; c++)
		fsq_emit(rsinfo, "accuracy_univariate", st.cols[c].name, NULL,
				 fsq_accuracy(st.uni[REL_ORIG] + c * FSQ_CODES, st.nrows[REL_ORIG],
							  st.uni[REL_SYN] + c * FSQ_CODES, st.nrows[REL_SYN],
							  FSQ_CODES), false);
	p = 0;
	for (c = 0; c < st.ncols; c++)
		for (c2 = c + 1; c2 < st.ncols; c2++, p++)
			fsq_emit(rsinfo, "accuracy_bivariate", st.cols[c].name, st.cols[c2].name,
					 fsq_accuracy(st.biv[REL_ORIG] + (int64) p * FSQ_CODES * FSQ_CODES,
								  st.nrows[REL_ORIG],
								  st.biv[REL_SYN] + (int64) p * FSQ_CODES * FSQ_CODES,
								  st.nrows[REL_SYN], FSQ_CODES * FSQ_CODES), false);
	overall = fsq_overall(&st, REL_SYN, &mu, &mb);
	fsq_emit(rsinfo, "accuracy_univariate", NULL, NULL, mu, false);
	fsq_emit(rsinfo, "accuracy_bivariate", NULL, NULL, mb, false);
	fsq_emit(rsinfo, "accuracy_overall", NULL, NULL, overall, false);

	if (has_holdout)
	{
		double		dcr,
					exact,
					nndr,
					auc;
		bool		nndr_null,
					auc_null;

		fsq_emit(rsinfo, "accuracy_ceiling", NULL, NULL,
				 fsq_overall(&st, REL_HOLD, &mu, &mb), false);
		fsq_privacy(&st, &dcr, &exact, &nndr, &nndr_null);
		fsq_emit(rsinfo, "dcr_share", NULL, NULL, dcr, false);
		fsq_emit(rsinfo, "exact_match", NULL, NULL, exact, false);
		fsq_emit(rsinfo, "nndr_p5", NULL, NULL, nndr, nndr_null);
		auc = fsq_discriminator(&st, seed, &auc_null);
		fsq_emit(rsinfo, "discriminator_auc", NULL, NULL, auc, auc_null);
	}

	SPI_finish();
	return (Datum) 0;
}
