/*-------------------------------------------------------------------------
 *
 * quality_gb.c
 *	  the classifier: gradient-boosted depth-2 trees, AUC, discriminator
 *
 * A small gradient-boosted classifier (logistic loss, depth-2 trees, Newton
 * leaves) on binned features, its ROC AUC, and the discriminator built on it:
 * the out-of-fold AUC of telling synthetic sample rows from original ones.
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
static int fsq_cmp_ratio(const void *a, const void *b);
static FsqSplit fsq_best_split(const FsqGbData *d, const int *rows, int nrows,
			   const double *g, const double *h);
static double fsq_leaf(const int *rows, int nrows, const double *g, const double *h, double rate);
static int fsq_cmp_scored(const void *a, const void *b);
static int fsq_cmp_uint64(const void *a, const void *b);
static int fsq_cmp_hashcount(const void *a, const void *b);

/* -----------------------------------------------------------------------
 * Trees
 * -----------------------------------------------------------------------
 */

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
fsq_leaf(const int *rows, int nrows, const double *g, const double *h, double rate)
{
	double		gs = 0,
				hs = 0;
	int			i;

	for (i = 0; i < nrows; i++)
	{
		gs += g[rows[i]];
		hs += h[rows[i]];
	}
	return -rate * gs / (hs + FSQ_GB_LAMBDA);
}

/* Does row r go to the left child of this split? */
static inline bool
fsq_goes_left(const FsqGbData *d, const FsqSplit *s, int r)
{
	return (s->left >> d->x[(int64) r * d->nf + s->feature]) & 1;
}

/*
 * Fit "rounds" gradient-boosted depth-2 trees (logistic loss, learning rate
 * "rate") on the training rows and set the scores (log-odds) of every row,
 * training and test, in "score".
 */
void
fsq_boost(const FsqGbData *d, const int *train, int ntrain,
		  const int *test, int ntest, double *score, int rounds, double rate)
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

	for (round = 0; round < rounds; round++)
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
			leaf[k] = fsq_leaf(part[k], npart[k], g, h, rate);
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

/* -----------------------------------------------------------------------
 * Area under the ROC curve
 * -----------------------------------------------------------------------
 */

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
double
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

/* -----------------------------------------------------------------------
 * Discriminator
 * -----------------------------------------------------------------------
 */

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
 * Binned features of n sample rows for the classifier: every column but
 * "skip" (-1: none), numeric ones cut at up to FSQ_GB_BINS quantiles (NULL a
 * code of its own), the others coded by their FSQ_GB_BINS most frequent
 * values (the rest one code).  Cuts and frequent values come from the first
 * nfit rows; d->y is left zero for the caller.
 */
void
fsq_gb_features(FsqState *st, const FsqRowRef *rows, int n, int nfit, int skip,
				FsqGbData *d)
{
	int			c,
				f,
				i,
				k;

	d->n = n;
	d->nf = st->ncols - (skip >= 0 ? 1 : 0);
	d->x = palloc(sizeof(uint8) * Max(d->n * d->nf, 1));
	d->ncodes = palloc(sizeof(int) * Max(d->nf, 1));
	d->ordered = palloc(sizeof(bool) * Max(d->nf, 1));
	d->y = palloc0(sizeof(double) * Max(d->n, 1));

	for (c = 0, f = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];

		if (c == skip)
			continue;

		if (col->numeric)
		{
			double	   *v = palloc(sizeof(double) * Max(nfit, 1));
			double		cut[FSQ_GB_BINS];
			int			nv = 0,
						ncut = 0;

			for (i = 0; i < nfit; i++)
			{
				double		x = FSQ_NUM(st, &rows[i], col);

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
			for (i = 0; i < n; i++)
			{
				double		x = FSQ_NUM(st, &rows[i], col);
				int			code = 0;

				if (isnan(x))
					code = ncut + 1;
				else
					while (code < ncut && x >= cut[code])
						code++;
				d->x[(int64) i * d->nf + f] = (uint8) code;
			}
			d->ncodes[f] = ncut + 2;
			d->ordered[f] = true;
			pfree(v);
		}
		else
		{
			uint64	   *hv = palloc(sizeof(uint64) * Max(nfit, 1));
			FsqHashCount *hc = palloc(sizeof(FsqHashCount) * Max(nfit, 1));
			int			nh = 0,
						ntop;

			for (i = 0; i < nfit; i++)
				hv[i] = FSQ_CAT(st, &rows[i], col);
			qsort(hv, nfit, sizeof(uint64), fsq_cmp_uint64);
			for (i = 0; i < nfit; i++)
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
			for (i = 0; i < n; i++)
			{
				uint64		x = FSQ_CAT(st, &rows[i], col);
				int			code = ntop;

				for (k = 0; k < ntop; k++)
					if (hc[k].hash == x)
					{
						code = k;
						break;
					}
				d->x[(int64) i * d->nf + f] = (uint8) code;
			}
			d->ncodes[f] = ntop + 1;
			d->ordered[f] = false;
			pfree(hv);
			pfree(hc);
		}
		f++;
	}
}

/*
 * Out-of-fold AUC of a classifier telling synthetic rows (label 1) from
 * original rows (label 0): stratified FSQ_GB_FOLDS-fold cross-validation of
 * gradient-boosted depth-2 trees on equal-sized samples of both relations.
 */
double
fsq_discriminator(FsqState *st, int64 seed, bool *isnull)
{
	FsqGbData	d;
	FsqSample  *so = &st->sample[REL_ORIG];
	FsqSample  *ss = &st->sample[REL_SYN];
	int			m = Min(so->n, ss->n);
	int		   *sel[2];
	FsqRowRef  *rows;
	int		   *fold;
	double	   *score;
	double		auc;
	pg_prng_state prng;
	int			i,
				k,
				f;

	*isnull = m < 2 * FSQ_GB_FOLDS;
	if (*isnull)
		return 0;
	pg_prng_seed(&prng, (uint64) seed ^ UINT64CONST(0x9E3779B97F4A7C15));
	sel[0] = fsq_subsample(&prng, so->n, m);
	sel[1] = fsq_subsample(&prng, ss->n, m);

	rows = palloc(sizeof(FsqRowRef) * 2 * m);
	for (i = 0; i < 2 * m; i++)
	{
		rows[i].sample = i < m ? so : ss;
		rows[i].row = sel[i < m ? 0 : 1][i % m];
	}
	fsq_gb_features(st, rows, 2 * m, 2 * m, -1, &d);
	for (i = 0; i < d.n; i++)
		d.y[i] = i < m ? 0 : 1;

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
		fsq_boost(&d, train, ntrain, test, ntest, tmp, FSQ_GB_ROUNDS, FSQ_GB_RATE);
		for (i = 0; i < ntest; i++)
			score[test[i]] = tmp[test[i]];
		pfree(train);
		pfree(test);
		pfree(tmp);
	}
	auc = fsq_auc(score, d.y, d.n);
	return auc;
}
