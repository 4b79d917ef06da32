/*-------------------------------------------------------------------------
 *
 * quality_bin.c
 *	  binning and accuracy (fidelity)
 *
 * Accuracy (fidelity) follows test/reference/quality.py (version 2) exactly.
 * Key columns of the original (all values distinct and non-NULL, or a
 * single-column primary key or unique index) are left out of every metric;
 * free-text columns (quality_text.c) are measured there, not binned.
 * Every other column is binned on the ORIGINAL relation only: a numeric
 * column with at most 10 distinct values gets one bin per value; otherwise
 * every spike (a value held by at least 10 % of its non-NULL rows) is a bin
 * of its own and the other values are cut at the unique deciles of those
 * other values; values outside, and unseen values of a few-valued column,
 * are "_other_".  Other columns keep their 10 most frequent values, the rest
 * is "_other_"; NULL is a value of its own.  Accuracy is 1 - total variation
 * distance of the binned univariate and pairwise joint distributions.
 *
 * The relations are streamed (quality_scan.c) into counters, so every row
 * counts and memory does not grow with the number of rows.  The original is
 * read twice: once to count its distinct values (which give keys, spikes,
 * quantiles and the most frequent values), once to bin it.  Columns with too
 * many distinct values to count in memory get the same from SQL aggregates.
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
static bool fsq_type_numeric(Oid typid, bool *epoch);
static HeapTuple fsq_one_row(const char *query, TupleDesc *desc);
static double fsq_quantile_level(int i);
static void fsq_break_positions(int64 n, int64 *pos);
static void fsq_set_breaks(FsqColumn *col, int64 n, const double *stat);
static void fsq_distinct_add(FsqDistinct *d, uint64 h, double v, const char *s, int len);
static int fsq_cmp_valuecount(const void *a, const void *b);
static void fsq_np_aheapsort(const int64 *v, int64 *tosort, int64 n);
static void fsq_np_aquicksort(const int64 *v, int64 *tosort, int64 num);
static int fsq_pandas_top(const int64 *counts, int64 ncounts, int64 *pos);
static inline bool fsq_is_spike(int64 count, int64 nvalid);
static int64 fsq_rest_rows(const FsqColumn *col);
static void fsq_sql_spikes(FsqState *st, FsqColumn *col);
static void fsq_offer(FsqState *st, FsqReceiver *r, FsqSample *smp);

/* -----------------------------------------------------------------------
 * Columns of the original and their SQL expressions
 * -----------------------------------------------------------------------
 */

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
void
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

/* -----------------------------------------------------------------------
 * Quantile breaks (numpy / pandas arithmetic)
 * -----------------------------------------------------------------------
 */

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
double
fsq_lerp(double a, double b, double t)
{
	double		diff = b - a;

	if (t >= 0.5)
		return b - diff * (1 - t);
	return a + diff * t;
}

/* qsort comparator for doubles */
int
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
 * Spikes of a numeric column with too many distinct values to count in
 * memory, from its most frequent values: the FSQ_BINS + 1 most frequent
 * tell whether there are at most FSQ_BINS values, which are spikes, and
 * whether every value is distinct (col->maxcount).
 */
static void
fsq_sql_spikes(FsqState *st, FsqColumn *col)
{
	StringInfoData q;
	int			ret;
	uint64		r;

	initStringInfo(&q);
	appendStringInfo(&q, "SELECT s.x, count(*) FROM (SELECT %s AS x FROM %s) s "
					 "WHERE s.x IS NOT NULL GROUP BY s.x ORDER BY 2 DESC, 1 LIMIT %d",
					 col->expr, st->relname[REL_ORIG], FSQ_BINS + 1);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	col->nspikes = 0;
	col->maxcount = 0;
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		double		v = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r],
													 SPI_tuptable->tupdesc, 1, &isnull));
		int64		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													SPI_tuptable->tupdesc, 2, &isnull));

		col->maxcount = Max(col->maxcount, n);
		if (SPI_processed <= FSQ_BINS || fsq_is_spike(n, col->nvalid))
		{
			int			k = col->nspikes++;

			/* keep them ascending */
			while (k > 0 && col->spikes[k - 1] > v)
			{
				col->spikes[k] = col->spikes[k - 1];
				col->spike_rows[k] = col->spike_rows[k - 1];
				k--;
			}
			col->spikes[k] = v;
			col->spike_rows[k] = n;
		}
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Bins of numeric columns with too many distinct values to count in memory:
 * the spikes from fsq_sql_spikes, the order statistics of the other values
 * from one percentile_disc query.
 */
void
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

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		if (col->numeric && col->dist == NULL && col->nvalid > 0 && !col->key)
			fsq_sql_spikes(st, col);
	}

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT 1");
	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		int64		nrest;

		if (!col->numeric || col->dist != NULL || col->nvalid == 0 || col->key)
			continue;
		nrest = fsq_rest_rows(col);
		if (nrest == 0 || col->maxcount == 1)
			continue;			/* no other values, or a key */
		any = true;
		fsq_break_positions(nrest, pos);
		appendStringInfoString(&q, ", percentile_disc('{");
		/* (k + 0.5) / n makes percentile_disc return 0-based row k */
		for (i = 0; i < 2 * (FSQ_BINS + 1); i++)
			appendStringInfo(&q, "%s%.17g", i ? "," : "",
							 ((double) pos[i] + 0.5) / (double) nrest);
		appendStringInfo(&q, "}'::float8[]) WITHIN GROUP (ORDER BY %s)", col->expr);
		if (col->nspikes > 0)
		{
			appendStringInfo(&q, " FILTER (WHERE %s <> ALL('{", col->expr);
			for (k = 0; k < col->nspikes; k++)
				appendStringInfo(&q, "%s%.17g", k ? "," : "", col->spikes[k]);
			appendStringInfoString(&q, "}'::float8[]))");
		}
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
		int64		nrest;
		double		stat[2 * (FSQ_BINS + 1)];

		if (!col->numeric || col->dist != NULL || col->nvalid == 0 || col->key)
			continue;
		nrest = fsq_rest_rows(col);
		if (nrest == 0 || col->maxcount == 1)
			continue;
		arr = DatumGetArrayTypeP(SPI_getbinval(tup, desc, k++, &isnull));
		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, &nulls, &nelems);
		if (nelems != 2 * (FSQ_BINS + 1))
			elog(ERROR, "unexpected percentile_disc result");
		for (i = 0; i < nelems; i++)
			stat[i] = DatumGetFloat8(elems[i]);
		fsq_set_breaks(col, nrest, stat);
	}
	SPI_freetuptable(SPI_tuptable);
}

/* -----------------------------------------------------------------------
 * Distinct values of the original
 * -----------------------------------------------------------------------
 */

/* Create an empty distinct-value table. */
FsqDistinct *
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

/* Is a value held by enough rows of the original to be a bin of its own? */
static inline bool
fsq_is_spike(int64 count, int64 nvalid)
{
	/* pandas: value_counts(normalize=True) >= 1.0 / bins */
	return (double) count / (double) nvalid >= 1.0 / FSQ_BINS;
}

/* Rows of the original whose value is neither NULL nor a spike. */
static int64
fsq_rest_rows(const FsqColumn *col)
{
	int64		n = col->nvalid;
	int			k;

	for (k = 0; k < col->nspikes; k++)
		n -= col->spike_rows[k];
	return n;
}

/*
 * Bins of a numeric column from its distinct-value counts (reference
 * version 2): at most FSQ_BINS distinct values give one bin per value;
 * otherwise every spike (a value held by at least 1/FSQ_BINS of the non-NULL
 * rows) is a bin of its own and the other values are cut at the unique
 * quantile breaks of those other values.
 */
void
fsq_distinct_breaks(FsqColumn *col)
{
	FsqDistinct *d = col->dist;
	FsqValueCount *vc = palloc(sizeof(FsqValueCount) * Max(d->n, 1));
	int64		pos[2 * (FSQ_BINS + 1)];
	double		stat[2 * (FSQ_BINS + 1)];
	int64		e,
				m,
				nrest;
	int			i;

	col->nspikes = 0;
	col->nbreaks = 0;
	col->maxcount = 0;
	if (col->nvalid == 0)
		return;
	for (e = 0; e < d->n; e++)
	{
		vc[e].value = d->values[e];
		vc[e].count = d->counts[e];
		col->maxcount = Max(col->maxcount, d->counts[e]);
	}
	qsort(vc, d->n, sizeof(FsqValueCount), fsq_cmp_valuecount);
	/* spikes (every value of a few-valued column) leave the rest */
	m = 0;
	for (e = 0; e < d->n; e++)
	{
		if (d->n <= FSQ_BINS || fsq_is_spike(vc[e].count, col->nvalid))
		{
			col->spikes[col->nspikes] = vc[e].value;
			col->spike_rows[col->nspikes] = vc[e].count;
			col->nspikes++;
		}
		else
			vc[m++] = vc[e];
	}
	nrest = fsq_rest_rows(col);
	if (m == 0)
	{
		pfree(vc);
		return;
	}
	/* counts become cumulative: vc[e].count = rest rows with value <= vc[e] */
	for (e = 1; e < m; e++)
		vc[e].count += vc[e - 1].count;
	fsq_break_positions(nrest, pos);
	for (i = 0; i < 2 * (FSQ_BINS + 1); i++)
	{
		int64		lo = 0,
					hi = m - 1;

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
	fsq_set_breaks(col, nrest, stat);
	pfree(vc);
}

/* -----------------------------------------------------------------------
 * Most frequent values, with pandas tie order
 * -----------------------------------------------------------------------
 */

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
void
fsq_distinct_top(FsqColumn *col)
{
	int64		pos[FSQ_BINS];
	int			i;

	col->ncats = fsq_pandas_top(col->dist->counts, col->dist->n, pos);
	col->maxcount = 0;
	for (i = 0; i < col->dist->n; i++)
		col->maxcount = Max(col->maxcount, col->dist->counts[i]);
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
void
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
		appendStringInfo(&q, "SELECT t.v, t.c FROM (%s) t ORDER BY t.c DESC, t.f LIMIT %d",
						 inner.data, FSQ_BINS);
		ret = SPI_execute(q.data, true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		col->ncats = (int) SPI_processed;
		if (col->ncats > 0)
		{
			bool		isnull;

			col->maxcount = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 2, &isnull));
		}
		for (i = 0; i < col->ncats; i++)
			col->cats[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		SPI_freetuptable(SPI_tuptable);
	}
	else
	{
		col->maxcount = 0;
		for (i = 0; i < ncounts; i++)
			col->maxcount = Max(col->maxcount, counts[i]);
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

/* -----------------------------------------------------------------------
 * Bin codes
 * -----------------------------------------------------------------------
 */

/*
 * Bin code of a numeric value (NaN = NULL): a spike's own code, else as
 * pd.cut(include_lowest) on the breaks; "_other_" outside them.
 */
static inline int
fsq_numeric_code(const FsqColumn *col, double v)
{
	int			k;

	if (isnan(v))
		return FSQ_NULL;
	for (k = 0; k < col->nspikes; k++)
		if (v == col->spikes[k])
			return FSQ_SPIKE + k;
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
void
fsq_alloc_rel(FsqState *st, int rel, int64 seed)
{
	FsqSample  *s = &st->sample[rel];

	st->uni[rel] = MemoryContextAllocHuge(CurrentMemoryContext,
										  sizeof(int64) * st->ncols * FSQ_CODES);
	memset(st->uni[rel], 0, sizeof(int64) * st->ncols * FSQ_CODES);
	st->biv[rel] = MemoryContextAllocHuge(CurrentMemoryContext,
										  sizeof(int64) * Max(st->npairs, 1) * FSQ_CODES * FSQ_CODES);
	memset(st->biv[rel], 0, sizeof(int64) * Max(st->npairs, 1) * FSQ_CODES * FSQ_CODES);
	s->size = FSQ_SAMPLE;
	s->n = 0;
	s->seen = 0;
	s->num = palloc(sizeof(double) * FSQ_SAMPLE * Max(st->nnum, 1));
	s->cat = palloc(sizeof(uint64) * FSQ_SAMPLE * Max(st->ncat, 1));
	/* same stream for every relation, like pandas' sample(random_state=seed) */
	pg_prng_seed(&s->prng, (uint64) seed);
	if (st->utility)
	{
		s = &st->usample[rel];
		s->size = FSQ_UT_SAMPLE;
		s->n = 0;
		s->seen = 0;
		s->num = MemoryContextAllocHuge(CurrentMemoryContext,
										sizeof(double) * FSQ_UT_SAMPLE * Max(st->nnum, 1));
		s->cat = MemoryContextAllocHuge(CurrentMemoryContext,
										sizeof(uint64) * FSQ_UT_SAMPLE * Max(st->ncat, 1));
		pg_prng_seed(&s->prng, (uint64) seed ^ UINT64CONST(0x7574696C69747921));
	}
}

/* Offer the current row to a reservoir sample (algorithm R). */
static void
fsq_offer(FsqState *st, FsqReceiver *r, FsqSample *smp)
{
	int			sl,
				c;

	smp->seen++;
	if (smp->n < smp->size)
		sl = smp->n++;
	else
	{
		uint64		k = pg_prng_uint64_range(&smp->prng, 0, smp->seen - 1);

		sl = k < (uint64) smp->size ? (int) k : -1;
	}
	if (sl >= 0)
	{
		memcpy(smp->num + (int64) sl * st->nnum, r->nv, sizeof(double) * st->nnum);
		for (c = 0; c < st->ncat; c++)
			smp->cat[(int64) sl * st->ncat + c] =
				hash_bytes_extended((const unsigned char *) r->sv[c], r->sl[c], 0);
	}
}

/* -----------------------------------------------------------------------
 * One row of a streaming pass
 * -----------------------------------------------------------------------
 */

/* Count the distinct values of every column of one row of the original. */
void
fsq_row_distinct(FsqReceiver *r, TupleTableSlot *slot)
{
	FsqState   *st = r->st;
	int			c;

	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		bool		isnull = slot->tts_isnull[c];

		if (col->key)
			continue;			/* declared: nothing to count */
		if (isnull)
			col->nnull++;
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

/* Bin one row into the counters and offer it to the reservoir samples. */
void
fsq_row_bin(FsqReceiver *r, TupleTableSlot *slot)
{
	FsqState   *st = r->st;
	FsqSample  *smp = &st->sample[r->rel];
	int64	   *uni = st->uni[r->rel];
	int64	   *biv = st->biv[r->rel];
	int		   *codes = r->codes;
	int			c,
				i,
				j;
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

	fsq_offer(st, r, smp);
	if (st->utility)
		fsq_offer(st, r, &st->usample[r->rel]);
}

/* -----------------------------------------------------------------------
 * Accuracy: 1 - total variation distance
 * -----------------------------------------------------------------------
 */

/* 1 - total variation distance between two count vectors. */
double
fsq_accuracy(const int64 *a, int64 na, const int64 *b, int64 nb, int len)
{
	double		tvd = 0;
	int			k;

	for (k = 0; k < len; k++)
		tvd += fabs((double) a[k] / (double) na - (double) b[k] / (double) nb);
	return 1.0 - 0.5 * tvd;
}

/* Overall accuracy (mean univariate + mean bivariate) / 2 of one relation. */
double
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

/* -----------------------------------------------------------------------
 * Key columns
 * -----------------------------------------------------------------------
 */

/*
 * Mark the columns of the original that a single-column primary key or unique
 * index declares keys: their values need not even be counted.
 */
void
fsq_declared_keys(FsqState *st)
{
	StringInfoData q;
	int			c,
				ret;
	uint64		r;

	initStringInfo(&q);
	appendStringInfo(&q,
					 "SELECT a.attname::text FROM pg_catalog.pg_index i "
					 "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
					 "AND a.attnum = i.indkey[0] "
					 "WHERE i.indrelid = %u AND i.indisunique AND i.indnkeyatts = 1 "
					 "AND i.indkey[0] > 0 AND i.indpred IS NULL", st->relid);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		for (c = 0; c < st->ncols; c++)
			if (strcmp(st->cols[c].name, name) == 0)
				st->cols[c].key = true;
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Are the values of a column of the original with too many distinct values
 * to count in memory all distinct and non-NULL?  Asked before its most
 * frequent values are looked for, which would be slow for a key.
 */
bool
fsq_sql_all_distinct(FsqState *st, const FsqColumn *col)
{
	StringInfoData q;
	bool		isnull,
				result;
	int			ret;

	if (col->nnull > 0 || st->nrows[REL_ORIG] < 2)
		return false;
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT count(DISTINCT %s) = count(*) FROM %s",
					 col->expr, st->relname[REL_ORIG]);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result && !isnull;
}

/*
 * Leave the key columns of the original out of every metric, as reference
 * version 2 does: columns whose values are all distinct and non-NULL (a
 * serial id, a uuid, a unique code), and columns with a single-column
 * unique index or primary key.  They carry no distribution: every synthetic
 * value is "new", which would read as accuracy 0, a perfect discriminator
 * and no privacy.  A NOTICE names them.  Needs fsq_declared_keys and the
 * distinct-value pass.
 */
void
fsq_drop_keys(FsqState *st)
{
	StringInfoData names;
	int			c,
				m;

	initStringInfo(&names);
	m = 0;
	st->nnum = st->ncat = 0;
	st->ntexts = 0;
	st->texts = palloc0(sizeof(FsqTextCol) * st->ncols);
	for (c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		if (col->freetext)
		{
			/* measured by quality_text.c, not binned */
			st->texts[st->ntexts].name = col->name;
			st->texts[st->ntexts].expr = col->expr;
			st->ntexts++;
			continue;
		}
		col->key = col->key ||
			(st->nrows[REL_ORIG] > 1 && col->nnull == 0 && col->maxcount == 1);
		if (col->key)
		{
			appendStringInfo(&names, "%s%s", names.len ? ", " : "",
							 quote_identifier(col->name));
			continue;
		}
		col->slot = col->numeric ? st->nnum++ : st->ncat++;
		if (m != c)
			st->cols[m] = *col;
		m++;
	}
	if (m == 0 && st->ntexts > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no column besides free text (%s) and keys",
						st->relname[REL_ORIG], st->texts[0].name),
				 errdetail("Free-text columns are measured against the other columns' binned distribution."),
				 errhint("Compare relations that have at least one column that is neither free text nor a key.")));
	if (m == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has only key columns (%s)", st->relname[REL_ORIG], names.data),
				 errdetail("A key column (all values distinct, or a primary key or unique index) has no distribution to compare."),
				 errhint("Compare relations that have at least one column besides their keys.")));
	if (names.len > 0)
		ereport(NOTICE,
				(errmsg("fairsynth_quality leaves key columns of %s out of every metric: %s",
						st->relname[REL_ORIG], names.data),
				 errdetail("Their values are all distinct (or a primary key or unique index says so), so they have no distribution to compare.")));
	st->ncols = m;
	st->npairs = m * (m - 1) / 2;
}
