/*-------------------------------------------------------------------------
 *
 * quality_privacy.c
 *	  privacy distances: DCR share, exact matches, NNDR
 *
 * Privacy (distance to closest record share, exact matches, nearest-neighbour
 * distance ratio) and the discriminator AUC work on reservoir samples of at
 * most FSQ_SAMPLE rows per relation, drawn with pg_prng seeded by the "seed"
 * argument, so the result is the same for the same seed and the same data.
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
static double fsq_percentile(double *x, int n, double p);

/* -----------------------------------------------------------------------
 * Samples
 * -----------------------------------------------------------------------
 */

/* Pick n of the first r slots of a sample uniformly (partial Fisher-Yates). */
int *
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

/* -----------------------------------------------------------------------
 * Distances
 * -----------------------------------------------------------------------
 */

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

/* -----------------------------------------------------------------------
 * Privacy metrics
 * -----------------------------------------------------------------------
 */

/*
 * dcr_share, exact_match and nndr_p5 on equal-sized samples (at most
 * FSQ_SAMPLE rows) of the original, the holdout and the synthetic relation.
 */
void
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
