/*
 * model.c: fit the conditional synthesizer and draw values from it.
 *
 * Every modelled column is turned into classes: categories (rare ones merged
 * into one class) or numeric bins (frequent values as single-value bins, the
 * rest as equal-mass intervals, extremes clipped), plus a NULL class.  The
 * balance columns come first in the generation order; every other column
 * gets a tree that predicts its class from the classes of the columns before
 * it.  Values are drawn inside the class: a category's value, or a smoothed
 * draw within a numeric bin, so no numeric value is copied from one row.
 *
 * The whole model is one block of memory addressed by offsets.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "model.h"
#include "tree.h"
#include "text.h"

/*
 * Numeric columns get at most this many bins, plus FS_MAX_CUTS: coarser for
 * synthesis (24 rather than 32 keeps the DCR share where it was before the
 * cuts, at the same overall accuracy on compas), finer for imputation, which
 * returns the caller's own rows.
 */
#define FS_MAX_BINS 24
#define FS_IMPUTE_MAX_BINS 32
/*
 * Values where a categorical column that is a function of a numeric one
 * changes (an age group of an age, a score band of a score): intervals of
 * the numeric column are cut there, so its values and the derived column
 * stay consistent.  At most this many, else the column is no banding.
 */
#define FS_MAX_CUTS 16
/*
 * A column is drawn as a function of an earlier one when its class is the
 * same in every sampled row of each class of that column, and every such
 * class has at least this many rows (fewer would make chance look like a
 * function, and replay rows).
 */
#define FS_DERIVED_MIN_ROWS 10
/*
 * Leaves hold at least FS_MIN_LEAF_SHARE of the sample, within these bounds,
 * and drawing backs off to a node's parent with weight FS_SMOOTHING rows
 * (never to a class the data rules out: tree.c): together they keep leaves
 * from replaying the few rows they hold (measured on compas with quality.py,
 * seeds 1-5: DCR share 0.506 to 0.526, mean 0.513, at overall accuracy
 * 0.984).
 */
#define FS_MIN_LEAF_SHARE 0.03
#define FS_MIN_LEAF_LOW 20
#define FS_MIN_LEAF_HIGH 200
#define FS_MAX_DEPTH 12
/*
 * Every balance combination too small for the population's tree to split off
 * (fewer than min_leaf rows: tree.c, fs_mark_pooled) has a subtree of its
 * own, however few its rows; larger ones stay in the population's subtree,
 * which splits on the balance columns where their rows differ.
 * Below a small combination's top node leaves hold at least the share of the
 * combination's rows that FS_MIN_LEAF_SHARE gives the whole table, and never
 * fewer than FS_GROUP_MIN_LEAF rows: a combination of 30 rows still splits
 * where its own rows differ (the bank rare case: 30 `yes` rows).  Every leaf
 * backs off with prior weight FS_SMOOTHING to its ancestors in the
 * combination, and the combination's top node backs off with the same weight
 * to the node of similar combinations above it, then the population's: a
 * combination of n rows keeps n / (n + 15) of its own distribution (30 rows:
 * two thirds; 1,000 rows: 98.5 %).
 */
#define FS_GROUP_MIN_LEAF 8
/*
 * The outcome-parity tree's leaves hold 1 % of the rows (within the bounds
 * above): its leaf probabilities are mapped per facet, and coarse leaves
 * would leave a facet's rows on either side of a classifier's threshold
 * together (compas by race: |SPD| of a model trained on the output 0.015
 * with 3 % leaves against 0.021 with 1 %, but AUC 0.707 against 0.736).
 */
#define FS_PARITY_LEAF_SHARE 0.01
/* the power of a mapped outcome probability's odds (fs_fit_parity) */
#define FS_PARITY_SHARPEN 3.0
#define FS_SMOOTHING 15.0
/* Imputation draws from small, lightly smoothed leaves (tuned on the
 * missing-priors benchmark of test/bench/run_fairness). */
#define FS_IMPUTE_MIN_LEAF 8
#define FS_IMPUTE_SMOOTHING 1.0
#define FS_IMPUTE_MAX_DEPTH 24

/* Order doubles ascending. */
static int
fs_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* A sample value with its row, for sorting. */
typedef struct FsValRow
{
	double		v;
	int			row;
} FsValRow;

/* The bits of x as an unsigned key in the order of the values (x not NaN). */
static inline uint64
fs_double_order_key(double x)
{
	uint64		bits = fs_double_bits(x);

	return (bits & UINT64CONST(0x8000000000000000)) ? ~bits :
		bits | UINT64CONST(0x8000000000000000);
}

/*
 * Sort value-row pairs by value, stably (rows in ascending order stay so
 * among equal values): a least-significant-byte radix sort that skips the
 * bytes every key shares (most of them, for integers and few distinct
 * values), many times faster than qsort on a fit's columns.
 */
static void
fs_sort_valrows(FsValRow *v, int n)
{
	int		   *counts = palloc0(sizeof(int) * 8 * 256);
	FsValRow   *tmp = palloc(sizeof(FsValRow) * Max(n, 1));
	FsValRow   *from = v,
			   *to = tmp;

	for (int i = 0; i < n; i++)
	{
		uint64		key = fs_double_order_key(v[i].v);

		for (int d = 0; d < 8; d++)
			counts[d * 256 + ((key >> (8 * d)) & 0xff)]++;
	}
	for (int d = 0; d < 8; d++)
	{
		int		   *cnt = counts + d * 256;
		int			pos = 0;
		bool		shared = false;

		for (int b = 0; b < 256 && !shared; b++)
			shared = cnt[b] == n;
		if (shared)
			continue;
		for (int b = 0; b < 256; b++)
		{
			int			c = cnt[b];

			cnt[b] = pos;
			pos += c;
		}
		for (int i = 0; i < n; i++)
			to[cnt[(fs_double_order_key(from[i].v) >> (8 * d)) & 0xff]++] = from[i];
		{
			FsValRow   *swap = from;

			from = to;
			to = swap;
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (from != v)
		memcpy(v, from, sizeof(FsValRow) * n);
	pfree(counts);
	pfree(tmp);
}

/* Fill the equal-mass quantile points of sorted values v[0..n). */
static void
fs_bin_quantiles(FsBin *bin, const FsValRow *v, int n)
{
	for (int j = 0; j < FS_BIN_QUANTILES; j++)
	{
		double		pos = (double) j * (n - 1) / (FS_BIN_QUANTILES - 1);
		int			i = (int) floor(pos);
		double		f = pos - i;

		bin->q[j] = i + 1 < n ? v[i].v * (1 - f) + v[i + 1].v * f : v[i].v;
	}
}

/*
 * The values of sorted v[0..n) (numeric column c) at which some categorical
 * column that is a function of c changes its value, ascending, into cuts;
 * returns how many (at most FS_MAX_CUTS).
 */
static int
fs_derived_cuts(FsSource *src, int c, const FsValRow *v, int n, double *cuts)
{
	int			ncuts = 0;

	for (int d = 0; d < src->ncols; d++)
	{
		double		found[FS_MAX_CUTS];
		int			nfound = 0;
		double		prev = NAN;	/* code of the previous run */
		int			span = 0;	/* rows since d last changed */
		bool		function = true;

		if (d == c || src->cols[d].kind != FS_CAT)
			continue;
		for (int i = 0; i < n && function;)
		{
			int			j = i;
			double		code = NAN;

			/* one run of equal values: d must have one code in it */
			for (; j < n && v[j].v == v[i].v; j++)
			{
				double		x = src->sample[(int64) v[j].row * src->ncols + d];

				if (isnan(x))
					continue;
				if (isnan(code))
					code = x;
				else if (x != code)
					function = false;
			}
			if (function && !isnan(code))
			{
				if (!isnan(prev) && code != prev)
				{
					/* a band must hold enough rows not to be chance */
					if (nfound == FS_MAX_CUTS || span < FS_DERIVED_MIN_ROWS)
						function = false;
					else
						found[nfound++] = v[i].v;
					span = 0;
				}
				prev = code;
			}
			span += j - i;
			i = j;
		}
		if (span < FS_DERIVED_MIN_ROWS)
			function = false;
		for (int f = 0; function && f < nfound && ncuts < FS_MAX_CUTS; f++)
		{
			bool		dup = false;

			for (int t = 0; t < ncuts; t++)
				dup = dup || cuts[t] == found[f];
			if (!dup)
				cuts[ncuts++] = found[f];
		}
	}
	qsort(cuts, ncuts, sizeof(double), fs_cmp_double);
	return ncuts;
}

/*
 * Per sampled row (group: its combination's class, of ngroups), the weight
 * that gives every balance combination the same total (a NULL in a balance
 * column is a combination of its own): numeric bins are cut at equal mass of
 * the balanced table the call will generate, not of the source, so a small
 * combination's values get bins of their own (25 rows of late dates among
 * 4,975 early ones would otherwise share one bin whose values are drawn
 * between the early rows' quantiles).  Every bin still holds at least 2k
 * values (fs_fit_bins).
 */
static double *
fs_balanced_weights(const int32 *group, int n, int ngroups)
{
	int		   *count = palloc0(sizeof(int) * ngroups);
	double	   *weight = palloc(sizeof(double) * Max(n, 1));
	int			present = 0;

	for (int r = 0; r < n; r++)
		present += count[group[r]]++ == 0;
	for (int r = 0; r < n; r++)
		weight[r] = (double) n / present / count[group[r]];
	pfree(count);
	return weight;
}

/*
 * Bin numeric column c of the sample: clip to the k-th smallest and largest
 * value, make frequent values single-value bins and split the rest into
 * equal-mass intervals, also cut where a column derived from c changes.
 * Writes each row's class to cls[c * nsample + row].
 */
static void
fs_fit_bins(FsBuf *buf, FsModelColumn *mc, FsSource *src, int c, int32 *cls,
			int k, int max_bins, const double *weight)
{
	int			n = 0;
	FsValRow   *v = palloc(sizeof(FsValRow) * Max(src->nsample, 1));
	FsBin	   *bins = palloc0(sizeof(FsBin) * (max_bins + FS_MAX_CUTS + 1));
	double		cuts[FS_MAX_CUTS];
	int			ncuts;
	int			nbins = 0;
	int			natoms = 0;
	int			nrest = 0;
	double		lo,
				hi;
	int			atom_min;
	int		   *order;
	FsOff		off;
	bool		has_null = false;

	for (int r = 0; r < src->nsample; r++)
	{
		double		x = src->sample[(int64) r * src->ncols + c];

		if (isnan(x))
			has_null = true;
		else
		{
			v[n].v = x;
			v[n].row = r;
			n++;
		}
	}
	fs_sort_valrows(v, n);	/* rows are in ascending order: ties stay so */
	ncuts = fs_derived_cuts(src, c, v, n, cuts);

	/* clip the extremes: no outlier is ever reproduced */
	if (n > 0)
	{
		if (n >= 2 * k)
		{
			lo = v[k - 1].v;
			hi = v[n - k].v;
		}
		else
			lo = hi = v[(n - 1) / 2].v;
		for (int i = 0; i < n; i++)
			v[i].v = Min(Max(v[i].v, lo), hi);
	}

	/* frequent values become single-value bins */
	atom_min = Max(k, (n + max_bins - 1) / max_bins);
	for (int i = 0; i < n;)
	{
		int			j = i;

		while (j < n && v[j].v == v[i].v)
			j++;
		if (j - i >= atom_min && natoms < max_bins / 2)
		{
			bins[nbins].is_atom = 1;
			bins[nbins].count = j - i;
			bins[nbins].q[0] = v[i].v;
			for (int t = i; t < j; t++)
				v[t].row = -1 - v[t].row;	/* mark: belongs to an atom */
			nbins++;
			natoms++;
		}
		i = j;
	}

	/* the remaining values: equal-mass intervals of at least 2k values */
	for (int i = 0; i < n; i++)
		if (v[i].row >= 0)
			nrest++;
	if (nrest > 0)
	{
		int			nint = Min(max_bins - natoms,
							   Max(1, nrest / Max(2 * k, 1)));
		FsValRow   *rest = palloc(sizeof(FsValRow) * nrest);
		int			m = 0;
		int			cut = 0;
		int		   *edges;

		for (int i = 0; i < n; i++)
			if (v[i].row >= 0)
				rest[m++] = v[i];

		/*
		 * Interval edges: equal mass of the rows' weights (equal counts when
		 * unweighted), each interval at least 2k values.
		 */
		edges = palloc(sizeof(int) * (nint + 1));
		edges[0] = 0;
		if (weight == NULL)
			for (int b = 1; b <= nint; b++)
				edges[b] = (int) ((int64) nrest * b / nint);
		else
		{
			double		total = 0,
						acc = 0;
			int			b = 1;

			for (int i = 0; i < nrest; i++)
				total += weight[rest[i].row];
			for (int i = 0; i < nrest && b < nint; i++)
			{
				int			e = i + 1;

				acc += weight[rest[i].row];
				if (acc < total * b / nint)
					continue;
				/*
				 * a derived column's cut within 2k values of the edge takes
				 * its place, so no interval straddles an age group's
				 * boundary by a few values
				 */
				for (int t = 0; t < ncuts; t++)
				{
					int			p = e;

					while (p > 0 && rest[p - 1].v >= cuts[t])
						p--;
					while (p < nrest && rest[p].v < cuts[t])
						p++;
					if (p != e && abs(p - e) < 2 * k)
					{
						e = p;
						break;
					}
				}
				if (e - edges[b - 1] >= 2 * k && nrest - e >= 2 * k)
				{
					edges[b++] = e;
					while (i + 1 < e)
						acc += weight[rest[++i].row];
				}
			}
			nint = b;
			edges[nint] = nrest;
		}
		for (int b = 0; b < nint; b++)
		{
			int			from = edges[b];
			int			end = edges[b + 1];

			/*
			 * pieces of the interval between the derived columns' cuts; a
			 * cut that would leave a piece of fewer than 2k values is not
			 * made (such a piece would replay the few rows in it)
			 */
			while (from < end)
			{
				int			to = end;

				while (cut < ncuts && cuts[cut] <= rest[from].v)
					cut++;
				while (cut < ncuts && cuts[cut] <= rest[end - 1].v)
				{
					for (to = from; rest[to].v < cuts[cut]; to++)
						;
					if (to - from >= 2 * k && end - to >= 2 * k)
						break;
					to = end;
					cut++;
				}
				bins[nbins].count = to - from;
				fs_bin_quantiles(&bins[nbins], rest + from, to - from);
				for (int t = from; t < to; t++)
					cls[(int64) c * src->nsample + rest[t].row] = nbins;
				nbins++;
				from = to;
			}
		}
		pfree(edges);
		pfree(rest);
	}
	for (int b = 0; b < nbins; b++)
		if (bins[b].is_atom)
			for (int i = 0; i < n; i++)
				if (v[i].row < 0 && v[i].v == bins[b].q[0])
					cls[(int64) c * src->nsample + (-1 - v[i].row)] = b;

	/* renumber bins in value order, so splits can cut the number line */
	order = palloc(sizeof(int) * Max(nbins, 1));
	{
		double	   *keys = palloc(sizeof(double) * 2 * Max(nbins, 1));
		int		   *map = palloc(sizeof(int) * Max(nbins, 1));
		FsBin	   *sorted = palloc(sizeof(FsBin) * Max(nbins, 1));

		for (int b = 0; b < nbins; b++)
		{
			keys[2 * b] = bins[b].q[0];
			keys[2 * b + 1] = b;
		}
		qsort(keys, nbins, 2 * sizeof(double), fs_cmp_double);
		for (int j = 0; j < nbins; j++)
		{
			order[j] = (int) keys[2 * j + 1];
			map[order[j]] = j;
			sorted[j] = bins[order[j]];
		}
		for (int r = 0; r < src->nsample; r++)
		{
			int32	   *x = &cls[(int64) c * src->nsample + r];

			*x = isnan(src->sample[(int64) r * src->ncols + c]) ? nbins : map[*x];
		}
		memcpy(bins, sorted, sizeof(FsBin) * nbins);
	}

	mc->nclass = nbins + (has_null || nbins == 0 ? 1 : 0);
	mc->null_class = has_null || nbins == 0 ? nbins : -1;
	off = fs_buf_alloc(buf, sizeof(FsBin) * Max(nbins, 1));
	memcpy(FS_AT(buf->data, off, FsBin), bins, sizeof(FsBin) * nbins);
	mc->classes = off;
}

/*
 * Classes of categorical column c: every value of a balance column; for other
 * columns, values seen in at least k sampled rows, with rarer ones merged
 * into one class that is emitted as a frequent value.
 */
static void
fs_fit_categories(FsBuf *buf, FsModelColumn *mc, FsSource *src, int c,
				  int32 *cls, int k)
{
	FsColumn   *col = &src->cols[c];
	int			ncodes = fs_dict_size(col->dict);
	int		   *count = palloc0(sizeof(int) * Max(ncodes, 1));
	int		   *map = palloc(sizeof(int) * Max(ncodes, 1));
	bool		has_null = false;
	bool		has_rare = false;
	int			nfreq = 0;
	int64		freq_total = 0;
	FsCategory *cats;
	bool		balance = col->balance_pos >= 0;

	for (int r = 0; r < src->nsample; r++)
	{
		double		x = src->sample[(int64) r * src->ncols + c];

		if (isnan(x))
			has_null = true;
		else
			count[(int) x]++;
	}
	for (int code = 0; code < ncodes; code++)
	{
		if (balance || count[code] >= k)
		{
			map[code] = nfreq++;
			freq_total += count[code];
		}
		else
		{
			map[code] = -1;
			if (count[code] > 0)
				has_rare = true;
		}
	}
	/* every value rare: nothing can be emitted without copying a record */
	if (has_rare && nfreq == 0 && col->notnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every value of column \"%s\" occurs in fewer than fairsynth.rare_threshold (%d) rows",
						col->name, k),
				 errhint("Its values would identify rows. Leave the column out in a view, or lower fairsynth.rare_threshold if the data is not personal.")));
	mc->rare_class = has_rare ? nfreq : -1;
	mc->null_class = has_null ? nfreq + (has_rare ? 1 : 0) : -1;
	mc->nclass = nfreq + (has_rare ? 1 : 0) + (has_null ? 1 : 0);
	if (mc->nclass == 0)
	{
		mc->nclass = 1;
		mc->null_class = 0;
	}

	mc->classes = fs_buf_alloc(buf, sizeof(FsCategory) * mc->nclass);
	for (int code = 0; code < ncodes; code++)
		if (map[code] >= 0)
		{
			int			len;
			const char *key = fs_dict_key(col->dict, code, &len);
			FsOff		koff = fs_buf_alloc(buf, len);

			memcpy(buf->data + koff, key, len);
			cats = FS_AT(buf->data, mc->classes, FsCategory);
			cats[map[code]].key = koff;
			cats[map[code]].len = len;
			cats[map[code]].count = count[code];
		}

	/* the shares of the frequent values, drawn in place of a rare value */
	if (has_rare && nfreq > 0)
	{
		float4	   *cum;
		double		acc = 0;

		mc->frequent = fs_buf_alloc(buf, sizeof(float4) * nfreq);
		cum = FS_AT(buf->data, mc->frequent, float4);
		cats = FS_AT(buf->data, mc->classes, FsCategory);
		for (int j = 0; j < nfreq; j++)
		{
			acc += (double) cats[j].count / freq_total;
			cum[j] = (float4) acc;
		}
		cum[nfreq - 1] = 1.0f;
	}

	for (int r = 0; r < src->nsample; r++)
	{
		double		x = src->sample[(int64) r * src->ncols + c];

		cls[(int64) c * src->nsample + r] =
			isnan(x) ? mc->null_class : (map[(int) x] >= 0 ? map[(int) x] : mc->rare_class);
	}
	/* rare codes: the rare class (codes are never -1 afterwards) */
	for (int code = 0; code < ncodes; code++)
		if (map[code] < 0)
			map[code] = mc->rare_class >= 0 ? mc->rare_class : 0;
	col->class_of_code = map;
	pfree(count);
}

/*
 * If the class of column order[j] is a function of the class of an earlier
 * column order[i] (i < j) over every sampled row, with at least
 * FS_DERIVED_MIN_ROWS rows in each class of order[i] that occurs, record the
 * map in the column's model.  The tree is still fitted: it draws where the
 * map cannot (a class of order[i] the sample never had, such as a balance
 * value outside the sample; with impute, a class the map takes to NULL).
 */
static void
fs_find_derivation(FsBuf *buf, FsOff cols_off, const int32 *cls, const int *nclass,
				   int nrows, const int32 *order, int j)
{
	int			t = order[j];
	const int32 *tc = cls + (int64) t * nrows;
	FsModelColumn *mc = FS_AT(buf->data, cols_off, FsModelColumn) + t;

	mc->derived_from = -1;
	if (nclass[t] < 2)
		return;
	for (int i = 0; i < j; i++)
	{
		int			x = order[i];
		const int32 *xc = cls + (int64) x * nrows;
		int32	   *map = palloc(sizeof(int32) * nclass[x]);
		int		   *rows = palloc0(sizeof(int) * nclass[x]);
		bool		function = true;
		int			distinct = 0;

		for (int b = 0; b < nclass[x]; b++)
			map[b] = -1;
		for (int r = 0; r < nrows && function; r++)
		{
			if (map[xc[r]] < 0)
				map[xc[r]] = tc[r];
			else if (map[xc[r]] != tc[r])
				function = false;
			rows[xc[r]]++;
		}
		for (int b = 0; function && b < nclass[x]; b++)
			if (rows[b] > 0 && rows[b] < FS_DERIVED_MIN_ROWS)
				function = false;
		/* a column that takes one class only is no derivation */
		for (int b = 0; function && b < nclass[x]; b++)
			distinct += map[b] >= 0 && map[b] != map[xc[0]];
		if (function && distinct > 0)
		{
			FsOff		off = fs_buf_alloc(buf, sizeof(int32) * nclass[x]);

			memcpy(buf->data + off, map, sizeof(int32) * nclass[x]);
			mc = FS_AT(buf->data, cols_off, FsModelColumn) + t;
			mc->derived_from = x;
			mc->derived_map = off;
			pfree(map);
			pfree(rows);
			return;
		}
		pfree(map);
		pfree(rows);
	}
}

/* Order 64-bit keys ascending. */
static int
fs_cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * The copy guard's keys of the rare sampled rows (cls: their classes),
 * ascending, into the model: a synthetic row with one of them would copy a
 * row that fewer than fairsynth.rare_threshold fitted rows share, which could
 * identify someone (generate.c draws it again).  A row that many real rows
 * share identifies nobody and comes out at its natural rate: guarding it
 * too would under-produce every common profile (bank's categorical columns:
 * 87 % of real holdout rows equal a training row).  Categorical columns sign
 * with their class (a rare value's class is never generated), numeric ones
 * with their value.
 */
static void
fs_fit_guard(FsBuf *buf, FsSource *src, const int32 *cls)
{
	FsOff		off = fs_buf_alloc(buf, sizeof(uint64) * Max(src->nsample, 1));
	double	   *sig = palloc(sizeof(double) * src->ncols);
	FsModel    *m;
	uint64	   *keys;
	uint64	   *common;
	int			nkeys = 0;
	int			ncommon = 0;

	for (int r = 0; r < src->nsample; r++)
	{
		for (int c = 0; c < src->ncols; c++)
		{
			double		v = src->sample[(int64) r * src->ncols + c];

			if (src->cols[c].kind == FS_KEY || src->cols[c].kind == FS_TEXTFREE)
				sig[c] = 0;		/* free text has a guard of its own (text.c) */
			else if (isnan(v))
				sig[c] = FS_SIG_NULL;
			else if (src->cols[c].kind == FS_CAT)
				sig[c] = cls[(int64) c * src->nsample + r];
			else
				sig[c] = v;
		}
		FS_AT(buf->data, off, uint64)[r] = fs_guard_key(sig, src->ncols);
	}
	keys = FS_AT(buf->data, off, uint64);
	qsort(keys, src->nsample, sizeof(uint64), fs_cmp_uint64);
	/*
	 * the distinct keys, those of rare rows first (a row many rows share is
	 * no one's), then the common ones: both ascending
	 */
	common = palloc(sizeof(uint64) * Max(src->nsample, 1));
	for (int i = 0; i < src->nsample;)
	{
		int			j = i;

		while (j < src->nsample && keys[j] == keys[i])
			j++;
		if (j - i < fairsynth_rare_threshold)
			keys[nkeys++] = keys[i];
		else
			common[ncommon++] = keys[i];
		i = j;
	}
	memcpy(keys + nkeys, common, sizeof(uint64) * ncommon);
	pfree(common);
	m = FS_AT(buf->data, 0, FsModel);
	m->guard = off;
	m->nguard = nkeys;
	m->nguard_common = ncommon;
	pfree(sig);
}

/*
 * Whether the classes of columns a and b (na and nb classes) obey a broad
 * rule of the data: a pair of classes that no fitted row has although
 * independence would have given it more than FS_CONSEQUENCE_SHARE of the
 * rows and more than FS_STRUCTURAL_ZERO rows (a miss chance below 1 in
 * 1000): two-year recidivism never without recidivism.  A rare class missing
 * a pair (a charge of 20 rows, none reoffending) is no such rule.
 */
#define FS_CONSEQUENCE_SHARE 0.01
static bool
fs_rule_between(const int32 *cls, int nrows, int a, int na, int b, int nb)
{
	int64		cells = (int64) na * nb;
	int32	   *count;
	int		   *rows_a;
	int		   *rows_b;
	bool		rule = false;

	if (cells > 1 << 20 || nrows == 0)
		return false;
	count = palloc0(sizeof(int32) * cells);
	rows_a = palloc0(sizeof(int) * na);
	rows_b = palloc0(sizeof(int) * nb);
	for (int r = 0; r < nrows; r++)
	{
		int			x = cls[(int64) a * nrows + r];
		int			y = cls[(int64) b * nrows + r];

		count[(int64) x * nb + y]++;
		rows_a[x]++;
		rows_b[y]++;
	}
	for (int x = 0; x < na && !rule; x++)
		for (int y = 0; y < nb && !rule; y++)
			rule = count[(int64) x * nb + y] == 0 &&
				(double) rows_a[x] * rows_b[y] / nrows >
				Max(FS_STRUCTURAL_ZERO, FS_CONSEQUENCE_SHARE * nrows);
	pfree(count);
	pfree(rows_a);
	pfree(rows_b);
	return rule;
}

/* Order (probability, row) pairs by probability. */
static int
fs_cmp_valrow(const void *a, const void *b)
{
	const FsValRow *x = (const FsValRow *) a;
	const FsValRow *y = (const FsValRow *) b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/*
 * q with its odds raised to the power FS_PARITY_SHARPEN and multiplied by
 * exp(shift) (fs_fit_parity): 1 / (1 + exp(-(k logit q + shift))).
 */
static double
fs_parity_sharpen(double q, double shift)
{
	if (q <= 0 || q >= 1)
		return q;
	return 1 / (1 + exp(-(FS_PARITY_SHARPEN * log(q / (1 - q)) + shift)));
}

/*
 * Sharpen facet f's mapped probabilities q[0..nnodes) in place, with the
 * shift that keeps their mean over the facet's rows (rows[leaf] of them in
 * each leaf): the mean is what the plan's outcome counts say, and a
 * sharpened mean away from it would tilt the rows kept for one outcome
 * towards the features of that outcome.
 */
static void
fs_parity_sharpen_facet(float4 *q, const double *rows, int nnodes)
{
	double		n = 0,
				mean = 0,
				lo = -20,
				hi = 20;

	for (int id = 0; id < nnodes; id++)
	{
		n += rows[id];
		mean += rows[id] * q[id];
	}
	if (n > 0)
	{
		mean /= n;
		/* the sharpened mean grows with the shift: bisect */
		for (int it = 0; it < 60; it++)
		{
			double		mid = (lo + hi) / 2,
						m = 0;

			for (int id = 0; id < nnodes; id++)
				if (rows[id] > 0)
					m += rows[id] * fs_parity_sharpen(q[id], mid);
			if (m / n < mean)
				lo = mid;
			else
				hi = mid;
		}
	}
	else
		lo = hi = 0;
	for (int id = 0; id < nnodes; id++)
		q[id] = (float4) fs_parity_sharpen(q[id], (lo + hi) / 2);
}

/*
 * Outcome parity that a model trained on the output learns.
 *
 * Balancing the outcome's counts per group is not enough: if the outcome's
 * rows are drawn first and the other columns follow them, each group's
 * features still predict its old rate, and a classifier trained on the rows
 * gives the groups different rates again.  So the outcome is decided after
 * the other columns: a tree on every other column (the facets included)
 * gives p = P(outcome = code 1 | row); within each facet f (combination of
 * the other balance columns) p is mapped onto the distribution of p over all
 * rows: q_f(p) = F_all^-1(F_f(p)), averaged over the share of f's rows that
 * hold p (a leaf's rows tie).  Every facet's rows then carry the same
 * distribution of outcome probabilities, and a row keeps its rank within
 * its facet: the model a user trains sees each facet's likelier rows as
 * likelier, at the overall rate.
 *
 * Worked example: two facets of 4 rows each, leaf probabilities
 * f = A: 0.1 0.1 0.5 0.9, f = B: 0.1 0.3 0.3 0.3.  All 8 sorted:
 * 0.1 0.1 0.1 0.3 0.3 0.3 0.5 0.9, so F_all^-1 over the eighths.  A's leaf
 * 0.1 holds A's shares [0, 1/2): the mean of F_all^-1 there is the mean of
 * 0.1 0.1 0.1 0.3 = 0.15; A's 0.5 holds [1/2, 3/4): (0.3 + 0.3) / 2 = 0.3;
 * A's 0.9 holds [3/4, 1): (0.5 + 0.9) / 2 = 0.7.  B's 0.1 holds [0, 1/4):
 * 0.1; B's 0.3 holds [1/4, 1): mean of 0.1 0.3 0.3 0.3 0.5 0.9 = 0.4.  Both
 * facets now average 0.3, the overall rate, and keep their order.
 *
 * Then each mapped q is sharpened: its odds raised to the power
 * FS_PARITY_SHARPEN and multiplied by the one factor per facet that keeps the
 * facet's mean (over its fitted rows), q' = 1 / (1 + exp(-(k logit q +
 * shift_f))).  A classifier fitted with the usual shrinkage (few, shallow
 * trees, early stopping) learns only part of a facet's shift when every
 * row's outcome is a coin of probability near one half: measured on compas
 * by sex (seeds 4-9, so that the benchmark's seeds 1-3 stay unseen), the
 * trained model still gave men 0.051 more positive decisions with q, 0.027
 * with k = 2 and 0.008 with k = 3, and its AUC on the real holdout rose
 * (0.721 to 0.733), as rows whose outcome their features decide teach the
 * ranking with less noise.  The shift matters in additive mode: without it
 * the sharpened mean falls below the rate the plan keeps rows at, the rows
 * kept for the outcome then lean towards its features, and a facet's added
 * rows look riskier than its real ones (compas by sex, additive: |SPD| 0.048
 * without the shift, 0.029 with it).  Sharpening keeps every row's rank
 * within its facet, and as the facets' distributions of q are equal, so are
 * their sharpened ones.  The price: within a facet the outcome depends more
 * on the other columns than in the source (P(outcome | row) is more
 * extreme); the outcome's counts per facet do not move.
 *
 * Only for a binary outcome balanced with at least one other column; the
 * generator draws rows and keeps those whose Bernoulli(q) outcome matches
 * the plan (generate.c), so the plan's exact counts still hold.
 */
static void
fs_fit_parity(FsBuf *buf, FsSource *src, const int32 *cls, const int32 *nclass,
			  const bool *ordered, const int *order, int norder, double smoothing,
			  int min_leaf)
{
	int			ncols = src->ncols;
	int			stride = FS_CLASS_STRIDE(ncols);
	int			y = src->outcome;
	int			ny = fs_dict_size(src->cols[y].dict);
	int		   *preds = palloc(sizeof(int) * norder);
	int			npreds = 0;
	FsTreeInput in;
	FsTree		tree;
	int			ncombos;
	int			nfacet;
	bool	   *consequence;
	int			from;
	int		   *leaf_of;
	int			nall = 0;
	int		   *facet;
	double	   *prefix;			/* prefix[i]: sum of the i smallest p */
	int32	   *row;
	float4	   *q;
	FsOff		qoff;
	FsModel    *m;

	/* the outcome is the last balance column: a combination is facet * ny + y */
	ncombos = nclass[FS_GROUP_COL(ncols)] - 1;
	nfacet = ncombos / ny;

	/*
	 * Consequences of the outcome: columns bound to it by a rule of the data
	 * (recidivism, given two-year recidivism), and columns bound by a rule to
	 * a consequence (violent recidivism, given recidivism).  They say what
	 * the outcome is rather than predict it: the outcome is decided before
	 * them, from the columns before the first of them in generation order,
	 * and they are drawn again once it is (generate.c).  A model trained
	 * without them then sees every facet at the same rate.
	 */
	consequence = palloc0(sizeof(bool) * ncols);
	consequence[y] = true;
	for (bool grew = true; grew;)
	{
		grew = false;
		for (int j = src->nbalance; j < norder; j++)
		{
			int			c = order[j];

			if (consequence[c])
				continue;
			for (int d = 0; d < ncols && !consequence[c]; d++)
				if (consequence[d] && src->cols[d].kind != FS_KEY &&
					fs_rule_between(cls, src->nsample, d, nclass[d], c, nclass[c]))
					consequence[c] = grew = true;
		}
	}
	from = norder;
	for (int j = src->nbalance; j < norder && from == norder; j++)
		if (consequence[order[j]])
			from = j;
	for (int i = 0; i < from; i++)
		if (order[i] != y)
			preds[npreds++] = order[i];
	for (int c = 0; c < ncols; c++)
		if (consequence[c])
			elog(DEBUG1, "fairsynth: column \"%s\" follows the outcome", src->cols[c].name);
	pfree(consequence);

	memset(&in, 0, sizeof(in));
	in.classes = cls;
	in.nrows = src->nsample;
	in.ncols = ncols;
	in.nclass = nclass;
	in.ordered = ordered;
	in.target = y;
	in.preds = preds;
	in.npreds = npreds;
	in.min_leaf = min_leaf;
	in.group_min_leaf = min_leaf;
	in.max_depth = FS_MAX_DEPTH;
	in.group_col = -1;
	in.pool = false;
	in.group_smoothing = smoothing;
	/* rows without an outcome teach nothing about it */
	in.exclude_class = nclass[y] > ny ? ny : -1;
	in.target_value = NULL;
	in.min_gain = 0;
	fs_tree_fit(buf, &in, smoothing, &tree);

	/* every fitted row's facet and leaf (rows with a NULL balance value: none) */
	leaf_of = palloc(sizeof(int) * Max(src->nsample, 1));
	facet = palloc(sizeof(int) * Max(src->nsample, 1));
	row = palloc0(sizeof(int32) * stride);
	for (int r = 0; r < src->nsample; r++)
	{
		int			combo = cls[(int64) FS_GROUP_COL(ncols) * src->nsample + r];

		if (combo >= ncombos)
			continue;
		for (int c = 0; c < stride; c++)
			row[c] = cls[(int64) c * src->nsample + r];
		leaf_of[nall] = fs_tree_leaf(buf->data, &tree, row);
		facet[nall] = combo / ny;
		nall++;
	}

	qoff = fs_buf_alloc(buf, sizeof(float4) * (Size) nfacet * Max(tree.nnodes, 1));
	q = FS_AT(buf->data, qoff, float4);
	{
		/* per leaf: its probability */
		double	   *pleaf = palloc(sizeof(double) * Max(tree.nnodes, 1));
		FsValRow   *sorted = palloc(sizeof(FsValRow) * Max(nall, 1));
		FsValRow   *mine = palloc(sizeof(FsValRow) * Max(nall, 1));

		for (int id = 0; id < tree.nnodes; id++)
			pleaf[id] = fs_tree_leaf_share(buf->data, &tree, id, 1);
		for (int i = 0; i < nall; i++)
		{
			sorted[i].v = pleaf[leaf_of[i]];
			sorted[i].row = i;
		}
		qsort(sorted, nall, sizeof(FsValRow), fs_cmp_valrow);
		prefix = palloc(sizeof(double) * (nall + 1));
		prefix[0] = 0;
		for (int i = 0; i < nall; i++)
			prefix[i + 1] = prefix[i] + sorted[i].v;

		for (int f = 0; f < nfacet; f++)
		{
			int			n = 0;

			CHECK_FOR_INTERRUPTS();
			for (int i = 0; i < nall; i++)
				if (facet[i] == f)
				{
					mine[n].v = pleaf[leaf_of[i]];
					mine[n].row = leaf_of[i];
					n++;
				}
			qsort(mine, n, sizeof(FsValRow), fs_cmp_valrow);
			for (int id = 0; id < tree.nnodes; id++)
			{
				/* the facet's shares below and at the leaf's probability */
				int			below = 0,
							at = 0;
				double		a,
							b,
							ia,
							ib,
							sum;

				if (!FS_IS_LEAF(FS_AT(buf->data, tree.nodes, FsNode), id))
					continue;
				if (n == 0 || nall == 0)
				{
					q[(Size) f * tree.nnodes + id] = (float4) pleaf[id];
					continue;
				}
				while (below < n && mine[below].v < pleaf[id])
					below++;
				while (below + at < n && mine[below + at].v == pleaf[id])
					at++;
				a = (double) below / n;
				b = (double) (below + at) / n;
				if (at == 0)
				{
					/* a leaf the facet never reaches: the point value */
					int			k = Min((int) (a * nall), nall - 1);

					q[(Size) f * tree.nnodes + id] = (float4) sorted[k].v;
					continue;
				}
				/* mean of F_all^-1 over [a, b): partial sums at both ends */
				ia = a * nall;
				ib = b * nall;
				sum = prefix[(int) floor(ib)] - prefix[(int) floor(ia)];
				sum -= (ia - floor(ia)) * sorted[Min((int) floor(ia), nall - 1)].v;
				if (floor(ib) < nall)
					sum += (ib - floor(ib)) * sorted[(int) floor(ib)].v;
				q[(Size) f * tree.nnodes + id] = (float4) (sum / (ib - ia));
			}
		}
		{
			/* per facet and leaf: its fitted rows there */
			double	   *rows = palloc0(sizeof(double) * Max((Size) nfacet * tree.nnodes, 1));

			for (int i = 0; i < nall; i++)
				rows[(Size) facet[i] * tree.nnodes + leaf_of[i]] += 1;
			for (int f = 0; f < nfacet; f++)
				fs_parity_sharpen_facet(q + (Size) f * tree.nnodes,
										rows + (Size) f * tree.nnodes, tree.nnodes);
			pfree(rows);
		}
		pfree(pleaf);
		pfree(sorted);
		pfree(mine);
		pfree(prefix);
	}
	m = FS_AT(buf->data, 0, FsModel);
	m->parity_col = y;
	m->parity_from = from;
	m->nfacet = nfacet;
	m->parity_tree = tree;
	m->parity_q = qoff;
	pfree(leaf_of);
	pfree(facet);
	pfree(row);
	pfree(preds);
}

/*
 * Outcome parity at generation (fs_fit_parity above): how the outcome of a
 * row is decided after its other columns.
 */
struct FsParity
{
	int			col;			/* the outcome column */
	int			ny;				/* its values (2) */
	double	   *rate;			/* per facet: the source's share of code 1 */
	double	   *boost;			/* per facet, additive mode: source rows per
								 * added row (the added rows must move the
								 * union, not only themselves) */
	const float4 *q;			/* per facet and leaf: mapped probability */
};

FsParity *
fs_model_parity_prepare(FsSource *src, const FsModel *m, const FsPlan *plan)
{
	FsParity   *par;
	double	   *n0,
			   *n1;
	double		t0 = 0,
				t1 = 0;

	if (m->parity_col < 0)
		return NULL;
	par = palloc0(sizeof(FsParity));
	par->col = m->parity_col;
	par->ny = fs_dict_size(src->cols[par->col].dict);
	par->rate = palloc0(sizeof(double) * m->nfacet);
	par->boost = palloc0(sizeof(double) * m->nfacet);
	par->q = FS_AT(m, m->parity_q, float4);
	n0 = palloc0(sizeof(double) * m->nfacet);
	n1 = palloc0(sizeof(double) * m->nfacet);
	for (int i = 0; i < src->ncombos; i++)
	{
		int			combo = fs_combo_encode(src, &src->combo_codes[i * src->nbalance]);

		if (combo < 0)
			continue;
		if (combo % par->ny == 1)
			n1[combo / par->ny] += src->combo_counts[i];
		else
			n0[combo / par->ny] += src->combo_counts[i];
	}
	for (int f = 0; f < m->nfacet; f++)
	{
		t0 += n0[f];
		t1 += n1[f];
	}
	for (int f = 0; f < m->nfacet; f++)
	{
		double		added = 0;

		par->rate[f] = n0[f] + n1[f] > 0 ? n1[f] / (n0[f] + n1[f]) :
			(t0 + t1 > 0 ? t1 / (t0 + t1) : 0.5);
		if (plan->additive)
		{
			for (int y = 0; y < par->ny; y++)
				added += (plan->whole_counts ? plan->whole_counts :
						  plan->counts)[f * par->ny + y];
			par->boost[f] = added > 0 ? (n0[f] + n1[f]) / added : 0;
		}
	}
	pfree(n0);
	pfree(n1);
	return par;
}

/*
 * Before the other columns of row (combination combo) are drawn: its
 * outcome as the facet's source rows have it, so the columns follow the
 * facet's own mix.
 */
void
fs_model_parity_begin(const FsParity *par, int32 *row, int stride, int combo,
				pg_prng_state *rng)
{
	int			f = combo / par->ny;
	int			y = fs_rand01(rng) < par->rate[f] ? 1 : 0;

	row[par->col] = y;
	row[stride - 1] = f * par->ny + y;
}

/*
 * After they are drawn: whether the outcome drawn from the row's mapped
 * probability is the planned one (combo's); the row is restored to combo.
 */
bool
fs_model_parity_accept(const FsParity *par, const FsModel *m, int32 *row, int stride,
				 int combo, pg_prng_state *rng)
{
	int			f = combo / par->ny;
	int			leaf = fs_tree_leaf((const char *) m, &m->parity_tree, row);
	double		q = par->q[(Size) f * m->parity_tree.nnodes + leaf];
	int			y;

	if (par->boost[f] > 0)
	{
		double		p = fs_tree_leaf_share((const char *) m, &m->parity_tree, leaf, 1);

		q = Min(Max(q + par->boost[f] * (q - p), 0), 1);
	}
	y = fs_rand01(rng) < q ? 1 : 0;
	row[par->col] = combo % par->ny;
	row[stride - 1] = combo;
	return y == combo % par->ny;
}

/* Position in the generation order from which columns follow the outcome. */
int
fs_model_parity_from(const FsModel *m)
{
	return m->parity_col >= 0 ? m->parity_from : m->ncols;
}

/*
 * Fit the synthesizer to the sample of src.  Normally every non-balance
 * column gets a tree on the columns before it; for imputation (impute not
 * NULL) each column with impute[c] gets a tree on every other column, fitted
 * on the rows where it is not NULL.
 */
FsModel *
fs_model_fit(FsSource *src, const bool *impute)
{
	FsBuf		buf;
	FsOff		moff;
	int			ncols = src->ncols;
	int			stride = FS_CLASS_STRIDE(ncols);
	int32	   *cls = palloc0(sizeof(int32) * (Size) Max(src->nsample, 1) * stride);
	int32	   *nclass = palloc0(sizeof(int32) * stride);
	bool	   *ordered = palloc0(sizeof(bool) * stride);
	int			ncombos = 1;
	int32	   *codes;
	int		   *order = palloc(sizeof(int) * ncols);
	int			norder = 0;
	/*
	 * Imputation returns the source's own rows, so it needs no protection
	 * from them: every value is kept and leaves are small.
	 */
	int			k = impute ? 1 : fairsynth_rare_threshold;
	double		smoothing = impute ? FS_IMPUTE_SMOOTHING : FS_SMOOTHING;
	FsOff		cols_off;
	FsOff		order_off;
	FsModel    *m;
	double	   *weight;

	fs_buf_init(&buf, 8192);
	moff = fs_buf_alloc(&buf, sizeof(FsModel));
	if (moff != 0)
		elog(ERROR, "fairsynth model header must start the block");
	cols_off = fs_buf_alloc(&buf, sizeof(FsModelColumn) * ncols);
	order_off = fs_buf_alloc(&buf, sizeof(int32) * ncols);

	/* generation order: balance columns, then the others as in the table */
	for (int b = 0; b < src->nbalance; b++)
		order[norder++] = src->balance[b];
	for (int c = 0; c < ncols; c++)
		if (src->cols[c].balance_pos < 0 && src->cols[c].kind != FS_KEY &&
			src->cols[c].kind != FS_TEXTFREE)
			order[norder++] = c;

	/*
	 * the combination of the balance columns of every row (a balance
	 * column's classes are its codes, then the NULL class); NULL: ncombos
	 */
	for (int b = 0; b < src->nbalance; b++)
		ncombos *= fs_dict_size(src->cols[src->balance[b]].dict);
	nclass[FS_GROUP_COL(ncols)] = ncombos + 1;
	codes = palloc(sizeof(int32) * Max(src->nbalance, 1));
	for (int r = 0; r < src->nsample; r++)
	{
		int			combo;

		for (int b = 0; b < src->nbalance; b++)
		{
			double		x = src->sample[(int64) r * ncols + src->balance[b]];

			codes[b] = isnan(x) ? -1 : (int32) x;
		}
		combo = fs_combo_encode(src, codes);
		cls[(int64) FS_GROUP_COL(ncols) * src->nsample + r] = combo < 0 ? ncombos : combo;
	}
	pfree(codes);

	weight = impute == NULL && src->nbalance > 0 && src->nsample > 0 ?
		fs_balanced_weights(cls + (int64) FS_GROUP_COL(ncols) * src->nsample,
							src->nsample, ncombos + 1) : NULL;
	for (int c = 0; c < ncols; c++)
	{
		FsColumn   *col = &src->cols[c];
		FsModelColumn *mc;
		FsModelColumn tmp;

		memset(&tmp, 0, sizeof(tmp));
		tmp.kind = col->kind;
		tmp.type = col->type;
		tmp.null_class = -1;
		tmp.rare_class = -1;
		tmp.derived_from = -1;
		tmp.is_integer = (col->type == FS_INT2 || col->type == FS_INT4 ||
						  col->type == FS_INT8 || col->type == FS_DATE);
		tmp.max_scale = col->max_scale;
		tmp.granule = col->granule;
		if (col->kind == FS_CAT)
			fs_fit_categories(&buf, &tmp, src, c, cls, col->balance_pos >= 0 ? 1 : k);
		else if (col->kind == FS_NUM)
		{
			fs_fit_bins(&buf, &tmp, src, c, cls, k,
						impute ? FS_IMPUTE_MAX_BINS : FS_MAX_BINS, weight);
			ordered[c] = true;
		}
		else
			tmp.nclass = 1;
		nclass[c] = tmp.nclass;
		mc = FS_AT(buf.data, cols_off, FsModelColumn) + c;
		*mc = tmp;
	}

	if (impute == NULL)
		fs_fit_guard(&buf, src, cls);

	/* columns that are functions of an earlier one follow it exactly */
	for (int j = src->nbalance; impute == NULL && j < norder; j++)
		fs_find_derivation(&buf, cols_off, cls, nclass, src->nsample, order, j);

	/* one tree per non-balance column, on the columns before it */
	for (int j = src->nbalance; j < norder; j++)
	{
		FsTreeInput in;
		FsTree		tree;
		FsModelColumn *mc;
		int		   *others = NULL;
		double	   *values = NULL;

		CHECK_FOR_INTERRUPTS();
		if (impute != NULL && !impute[order[j]])
			continue;
		in.classes = cls;
		in.nrows = src->nsample;
		in.ncols = ncols;
		in.nclass = nclass;
		in.ordered = ordered;
		in.target = order[j];
		in.preds = order;
		in.npreds = j;
		in.min_leaf = impute ? FS_IMPUTE_MIN_LEAF :
			Min(Max((int) (src->nsample * FS_MIN_LEAF_SHARE), FS_MIN_LEAF_LOW),
				FS_MIN_LEAF_HIGH);
		in.group_min_leaf = FS_GROUP_MIN_LEAF;
		in.group_smoothing = smoothing;
		in.max_depth = impute ? FS_IMPUTE_MAX_DEPTH : FS_MAX_DEPTH;
		in.group_col = src->nbalance > 0 ? FS_GROUP_COL(ncols) : -1;
		in.pool = src->outcome < 0;
		in.exclude_class = -1;
		in.target_value = NULL;
		in.min_gain = 0;
		if (impute != NULL)
		{
			/* every other column predicts; rows where the target is NULL are left out */
			others = palloc(sizeof(int) * norder);
			in.npreds = 0;
			for (int i = 0; i < norder; i++)
				if (i != j)
					others[in.npreds++] = order[i];
			in.preds = others;
			in.exclude_class = FS_AT(buf.data, cols_off, FsModelColumn)[order[j]].null_class;
			/* a number is imputed by variance reduction on its bins' middles */
			if (ordered[order[j]])
			{
				const FsModelColumn *mc = FS_AT(buf.data, cols_off, FsModelColumn) + order[j];
				const FsBin *bins = FS_AT(buf.data, mc->classes, FsBin);

				values = palloc0(sizeof(double) * mc->nclass);
				for (int b = 0; b < mc->nclass; b++)
					if (b != mc->null_class)
						values[b] = bins[b].is_atom ? bins[b].q[0] : bins[b].q[FS_BIN_QUANTILES / 2];
				in.target_value = values;
			}
		}
		fs_tree_fit(&buf, &in, smoothing, &tree);
		if (others)
			pfree(others);
		if (values)
			pfree(values);
		mc = FS_AT(buf.data, cols_off, FsModelColumn) + order[j];
		mc->tree = tree;
	}

	/* free-text columns: token models conditioned on the row (text.c) */
	for (int c = 0; c < ncols; c++)
		if (src->cols[c].kind == FS_TEXTFREE)
		{
			FsOff		toff = fs_text_fit(&buf, src, c, cls, nclass);

			FS_AT(buf.data, cols_off, FsModelColumn)[c].classes = toff;
		}

	/* outcome parity: a binary outcome balanced with other columns */
	FS_AT(buf.data, 0, FsModel)->parity_col = -1;
	if (impute == NULL && src->outcome >= 0 && src->nbalance >= 2 &&
		fs_dict_size(src->cols[src->outcome].dict) == 2)
		fs_fit_parity(&buf, src, cls, nclass, ordered, order, norder, smoothing,
					  Min(Max((int) (src->nsample * FS_PARITY_LEAF_SHARE), FS_MIN_LEAF_LOW),
						  FS_MIN_LEAF_HIGH));

	m = FS_AT(buf.data, 0, FsModel);
	m->cols = cols_off;
	m->order = order_off;
	m->magic = FS_MODEL_MAGIC;
	m->ncols = ncols;
	m->nbalance = src->nbalance;
	m->ncombos = ncombos;
	m->nfitted = src->nsample;
	m->smoothing = smoothing;
	memcpy(FS_AT(buf.data, m->order, int32), order, sizeof(int32) * norder);
	for (int j = norder; j < ncols; j++)
		FS_AT(buf.data, m->order, int32)[j] = -1;
	m->size = (uint32) buf.len;

	pfree(cls);
	pfree(nclass);
	pfree(ordered);
	pfree(order);
	return m;
}

/*
 * The class of a value of modelled column col: its category (a value the
 * sample never saw counts as rare), or the nearest numeric bin; NULL is the
 * NULL class, or the first class for a column that had no NULL.
 */
int
fs_model_class_of(const FsModel *m, FsSource *src, int col, Datum value,
				  bool isnull)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + col;
	FsColumn   *c = &src->cols[col];

	if (isnull || mc->kind == FS_TEXTFREE)
		return mc->null_class >= 0 ? mc->null_class : 0;
	if (mc->kind == FS_CAT)
	{
		char		buf[8];
		const char *key;
		int			len = fs_datum_key(value, c, buf, &key);
		int			code = len < 0 ? -1 : fs_dict_lookup(c->dict, key, len, false);

		if (len < 0)
			return mc->null_class >= 0 ? mc->null_class : 0;

		if (code >= 0)
			return c->class_of_code[code];
		return mc->rare_class >= 0 ? mc->rare_class : 0;
	}
	else
	{
		const FsBin *bins = FS_AT(m, mc->classes, FsBin);
		int			nbins = mc->nclass - (mc->null_class >= 0 ? 1 : 0);
		double		v = fs_datum_to_double(value, c);
		int			best = 0;
		double		best_dist = INFINITY;

		for (int b = 0; b < nbins; b++)
		{
			double		lo = bins[b].q[0];
			double		hi = bins[b].is_atom ? lo : bins[b].q[FS_BIN_QUANTILES - 1];
			double		dist = v < lo ? lo - v : (v > hi ? v - hi : 0);

			/* an atom holds its value exactly; prefer it over an interval */
			if (dist < best_dist || (dist == best_dist && bins[b].is_atom))
			{
				best = b;
				best_dist = dist;
			}
		}
		return nbins > 0 ? best : 0;
	}
}

/*
 * Draw the class of column col for n rows, given the classes drawn before it
 * (classes is n rows of FS_CLASS_STRIDE(ncols), row-major); with impute,
 * never the NULL class (unless the column was NULL in every row).
 */
void
fs_model_draw_classes(const FsModel *m, int col, int32 *classes, int n,
					  bool impute, pg_prng_state *rng)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + col;

	int			stride = FS_CLASS_STRIDE(m->ncols);
	int			skip = impute ? mc->null_class : -1;

	if (mc->derived_from >= 0)
	{
		/*
		 * A function of an earlier column follows it; only a row whose class
		 * there the map does not know (none in the fitted rows) walks the
		 * tree.
		 */
		const int32 *map = FS_AT(m, mc->derived_map, int32);

		for (int r = 0; r < n; r++)
		{
			int32	   *row = classes + (int64) r * stride;
			int32		t = map[row[mc->derived_from]];

			if (t >= 0 && !(impute && t == mc->null_class))
				row[col] = t;
			else
				fs_tree_draw_batch((const char *) m, &mc->tree, row, stride, 1,
								   col, skip, rng);
		}
		return;
	}
	fs_tree_draw_batch((const char *) m, &mc->tree, classes, stride, n, col,
					   skip, rng);
}

/*
 * Draw a numeric value within bin cls of column col: the bin's value, or a
 * point of the piecewise-uniform distribution between its quantiles.
 */
double
fs_model_draw_value(const FsModel *m, int col, int cls, pg_prng_state *rng)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + col;
	const FsBin *bin = FS_AT(m, mc->classes, FsBin) + cls;
	int			piece;
	double		x;

	if (bin->is_atom)
		return bin->q[0];
	piece = (int) pg_prng_uint64_range(rng, 0, FS_BIN_QUANTILES - 2);
	x = bin->q[piece] + fs_rand01(rng) * (bin->q[piece + 1] - bin->q[piece]);
	if (mc->is_integer)
	{
		/* round within the piece, so integers keep their spread */
		x = floor(x + fs_rand01(rng));
		x = Min(Max(x, ceil(bin->q[0])), floor(bin->q[FS_BIN_QUANTILES - 1]));
	}
	return x;
}
