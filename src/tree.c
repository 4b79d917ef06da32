/*
 * tree.c: classification trees that predict one column's class from the
 * classes of the columns generated before it.
 *
 * Growth is CART with the Gini criterion, or with variance reduction when the
 * target's classes carry values (imputing a number).  A split sends a set of predictor
 * classes left: for ordered predictors (numeric bins) a prefix in value
 * order, for categorical predictors a prefix in order of the node's majority
 * class share, which is the optimal subset for two target classes and a good
 * one otherwise.  Every node keeps its class distribution, so drawing from a
 * leaf can back off towards its ancestors (smoothing: rare leaves do not
 * reproduce the few rows they hold).
 *
 * Per node and predictor the cost is O(rows + classes present), never
 * O(classes of predictor x classes of target), so high-cardinality columns
 * stay cheap.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "tree.h"

/* Rows walked down a tree together. */
#define FS_DRAW_BATCH 64

/* Working state of one tree's growth. */
typedef struct FsGrow
{
	const FsTreeInput *in;
	FsBuf	   *buf;
	FsNode	   *nodes;
	int			nnodes;
	int			cap;
	int			nc;				/* target classes */
	int		   *rows;			/* row indices, partitioned in place */
	int		   *tmp;			/* rows (or their target classes) bucketed by
								 * predictor class */
	int32	   *tcls;			/* target class of rows[i], partitioned with
								 * rows */
	int32	   *ttmp;			/* tcls being partitioned */
	int64		best_nl;		/* rows the best split sends left */
	int64	   *pc;				/* parent class counts */
	int64	   *lc;				/* left class counts during a sweep */
	int		   *tot;			/* per predictor class: rows */
	int		   *maj;			/* per predictor class: rows of the majority
								 * class */
	double	   *ysum;			/* per predictor class: sum of target values
								 * (regression) */
	int		   *start;			/* per predictor class: bucket start */
	int		   *present;		/* predictor classes present, in sweep order */
	double	   *key;			/* per predictor class: sort key */
	int		   *best_set;		/* best split's left classes */
	int			best_nset;
	int			min_leaf;		/* rows a leaf needs in the current subtree */
	int32	   *hist;			/* per predictor class and target class:
								 * rows (FS_HIST_CELLS), zero between uses */
} FsGrow;

/*
 * A predictor whose classes x target classes fit in this many cells, and
 * are few next to the node's rows, is swept from a table of counts instead
 * of row by row.
 */
#define FS_HIST_CELLS 65536

/* The class of row r in column c. */
static inline int32
fs_cls(const FsTreeInput *in, int r, int c)
{
	return in->classes[(int64) c * in->nrows + r];
}

/* Order predictor classes by fs_sort_key, then by class (qsort). */
static const double *fs_sort_key;

static int
fs_key_order(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (fs_sort_key[x] != fs_sort_key[y])
		return fs_sort_key[x] < fs_sort_key[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/*
 * Sort the n predictor classes in present by key[class], then by class:
 * insertion sort, as there are few of them (qsort for many).
 */
static void
fs_sort_classes(int *present, int n, const double *key)
{
	if (n > 64)
	{
		fs_sort_key = key;
		qsort(present, n, sizeof(int), fs_key_order);
		return;
	}
	for (int i = 1; i < n; i++)
	{
		int			x = present[i];
		int			j = i;

		while (j > 0 && (key[present[j - 1]] > key[x] ||
						 (key[present[j - 1]] == key[x] && present[j - 1] > x)))
		{
			present[j] = present[j - 1];
			j--;
		}
		present[j] = x;
	}
}

/* Append the node's class distribution (cumulative) to the block. */
static void
fs_store_dist(FsGrow *g, FsNode *node, const int64 *counts, int m)
{
	int			n = 0;
	double		cum = 0;
	FsDraw	   *d;

	for (int c = 0; c < g->nc; c++)
		if (counts[c] > 0)
			n++;
	node->dist = fs_buf_alloc(g->buf, sizeof(FsDraw) * Max(n, 1));
	node->ndist = n;
	d = FS_AT(g->buf->data, node->dist, FsDraw);
	n = 0;
	for (int c = 0; c < g->nc; c++)
		if (counts[c] > 0)
		{
			cum += (double) counts[c] / m;
			d[n].cls = c;
			d[n].cum = (float4) cum;
			n++;
		}
	if (n > 0)
		d[n - 1].cum = 1.0f;
}

/*
 * Whether class b of the node's tested column is in its split set: one word
 * load, from the mask or from the bitset (a select the compiler can make
 * without a branch).
 */
static inline int
fs_in_set(const char *base, const FsNode *node, uint32 b)
{
	const uint64 *word = node->goes_left != 0 ?
		(const uint64 *) (base + node->goes_left) + b / 64 : &node->mask;

	return (int) ((*word >> (b % 64)) & 1);
}

/*
 * Find the best split of rows[lo, hi) and leave it in g->best_set; returns
 * the predictor, or -1 when no split improves the node enough.  With only >=
 * 0 the split is on that column alone; else on one of the nlive predictors in
 * live, and those that take more than one class here go to still (which
 * *nstill counts): a predictor with one class in a node has one in all the
 * nodes below it, so they need not tally it.
 */
static int
fs_best_split(FsGrow *g, int lo, int hi, int only, const int *live, int nlive,
			  int *still, int *nstill)
{
	const FsTreeInput *in = g->in;
	int			m = hi - lo;
	int			major = 0;
	double		sp = 0;
	double		best = only >= 0 ? -1 : 0;
	int			best_pred = -1;
	const double *y = in->target_value;	/* regression: value of each class */
	double		ysum = 0;
	double		impurity;

	for (int c = 0; c < g->nc; c++)
	{
		sp += (double) g->pc[c] * g->pc[c];
		if (g->pc[c] > g->pc[major])
			major = c;
		if (y)
			ysum += g->pc[c] * y[c];
	}
	impurity = 1 - sp / ((double) m * m);
	sp = y ? ysum * ysum / m : sp / m;

	if (nstill)
		*nstill = 0;
	for (int pi = 0; pi < (only >= 0 ? 1 : nlive); pi++)
	{
		int			p = only >= 0 ? only : live[pi];
		int			npresent = 0;
		int			pos = 0;
		int64		nl = 0;
		double		sl = 0,
					sr = sp * m;
		double		penalty = 0;
		bool		hist = !y && (int64) in->nclass[p] * g->nc <= FS_HIST_CELLS &&
			(int64) in->nclass[p] * g->nc <= 4 * (int64) m;

		/* tally the predictor's classes (the hot loop of a fit) */
		{
			const int32 *pcls = in->classes + (int64) p * in->nrows;
			const int  *rows = g->rows;
			const int32 *tcls = g->tcls + lo;	/* target class of rows[lo + i] */
			int		   *tot = g->tot;
			int		   *present = g->present;

			if (y)
				for (int i = 0; i < m; i++)
				{
					int			b = pcls[rows[lo + i]];

					present[npresent] = b;
					npresent += tot[b]++ == 0;
					g->ysum[b] += y[tcls[i]];
				}
			else if (hist)
			{
				int32	   *h = g->hist;
				int			nc = g->nc;

				for (int i = 0; i < m; i++)
				{
					int			b = pcls[rows[lo + i]];

					present[npresent] = b;
					npresent += tot[b]++ == 0;
					h[b * nc + tcls[i]]++;
				}
			}
			else
			{
				int		   *maj = g->maj;

				for (int i = 0; i < m; i++)
				{
					int			b = pcls[rows[lo + i]];

					present[npresent] = b;
					npresent += tot[b]++ == 0;
					maj[b] += tcls[i] == major;
				}
			}
		}
		if (hist)
			for (int j = 0; j < npresent; j++)
				g->maj[g->present[j]] = g->hist[g->present[j] * g->nc + major];
		if (npresent > 1)
		{
			/*
			 * A free partition of b classes gains, by chance alone, about
			 * (b - 1) x the node's impurity (the score is in rows): what the
			 * b-way split of a predictor independent of the target gains in
			 * expectation.  Without this, a categorical column of many
			 * classes wins splits on noise in small nodes (a combination's
			 * subtree) and crowds out the real dependencies.  A cut of
			 * ordered classes has far fewer choices and is not charged.
			 */
			if (!y && only < 0 && !in->ordered[p])
				penalty = impurity * (npresent - 1);
			for (int j = 0; j < npresent; j++)
			{
				int			b = g->present[j];

				g->key[b] = in->ordered[p] ? b :
					y ? g->ysum[b] / g->tot[b] : -(double) g->maj[b] / g->tot[b];
			}
			fs_sort_classes(g->present, npresent, g->key);
			if (!hist)
			{
				/* the target classes of the rows, bucketed by predictor class */
				const int32 *pcls = in->classes + (int64) p * in->nrows;

				for (int j = 0; j < npresent; j++)
				{
					g->start[g->present[j]] = pos;
					pos += g->tot[g->present[j]];
				}
				for (int i = 0; i < m; i++)
					g->tmp[g->start[pcls[g->rows[lo + i]]]++] = g->tcls[lo + i];
			}

			/* sweep: move whole predictor classes from right to left */
			sr = 0;
			for (int c = 0; c < g->nc; c++)
				sr += (double) g->pc[c] * g->pc[c];
			pos = 0;
			for (int j = 0; j < npresent - 1; j++)
			{
				int			b = g->present[j];
				double		score;

				if (y)
				{
					/* variance reduction: sums of the target's values */
					sl += g->ysum[b];
					pos += g->tot[b];
				}
				else if (hist)
				{
					/* the same sums as row by row: k rows of class c at once */
					const int32 *h = &g->hist[b * g->nc];

					for (int c = 0; c < g->nc; c++)
						if (h[c] > 0)
						{
							int64		k = h[c];
							int64		l = g->lc[c];
							int64		rr = g->pc[c] - l;

							sl += (double) (2 * l * k + k * k);
							sr += (double) (-2 * rr * k + k * k);
							g->lc[c] = l + k;
						}
				}
				else
					for (int k = 0; k < g->tot[b]; k++, pos++)
					{
						int			c = g->tmp[pos];
						int64		l = g->lc[c];
						int64		rr = g->pc[c] - l;

						sl += 2.0 * l + 1;
						sr += -2.0 * rr + 1;
						g->lc[c] = l + 1;
					}
				nl += g->tot[b];
				if (nl < g->min_leaf || m - nl < g->min_leaf)
					continue;
				if (y)
					score = sl * sl / nl + (ysum - sl) * (ysum - sl) / (m - nl) - sp;
				else
					score = sl / nl + sr / (m - nl) - sp - penalty;
				if (only >= 0 ? score > best :
					(score > best * (1 + 1e-12) && score > 1e-9 * m &&
					 score >= in->min_gain * impurity))
				{
					best = score;
					best_pred = p;
					g->best_nl = nl;
					g->best_nset = j + 1;
					memcpy(g->best_set, g->present, sizeof(int) * (j + 1));
				}
			}
			if (hist)
				memset(g->lc, 0, sizeof(int64) * g->nc);
			else if (!y)
				for (int i = 0; i < pos; i++)
					g->lc[g->tmp[i]] = 0;
		}
		for (int j = 0; j < npresent; j++)
		{
			if (hist)
				memset(&g->hist[g->present[j] * g->nc], 0, sizeof(int32) * g->nc);
			g->tot[g->present[j]] = 0;
			g->maj[g->present[j]] = 0;
			g->ysum[g->present[j]] = 0;
		}
		if (nstill && npresent > 1)
			still[(*nstill)++] = p;
	}
	return best_pred;
}

/*
 * The rules of the data that a target class breaks: for every predictor, the
 * pairs (predictor class b, target class c) that no row has although rows of
 * class b would have had class c about n_b x share_c times by chance, with a
 * miss chance below e^-FS_STRUCTURAL_ZERO (no two-year recidivism without
 * recidivism).  Counted once per tree over all its rows.
 */
static void
fs_find_rules(FsGrow *g, int nrows, FsTree *tree)
{
	const FsTreeInput *in = g->in;
	int64	   *tcount = palloc0(sizeof(int64) * g->nc);
	FsRule	   *rules = palloc0(sizeof(FsRule) * Max(in->npreds, 1));

	tree->nrules = 0;
	for (int i = 0; i < nrows; i++)
		tcount[g->tcls[i]]++;
	for (int pi = 0; pi < in->npreds; pi++)
	{
		int			p = in->preds[pi];
		int64		cells = (int64) in->nclass[p] * g->nc;
		int32	   *count;
		int		   *rows_of;
		uint8	   *never;		/* bit b * nc + c: FsRule.never */
		bool		any = false;

		CHECK_FOR_INTERRUPTS();
		if (cells > 4 * FS_HIST_CELLS)
			continue;			/* too many pairs to tally: no rules */
		count = palloc0(sizeof(int32) * cells);
		rows_of = palloc0(sizeof(int) * in->nclass[p]);
		never = palloc0((cells + 7) / 8);
		for (int i = 0; i < nrows; i++)
		{
			int			b = fs_cls(in, g->rows[i], p);

			count[(int64) b * g->nc + g->tcls[i]]++;
			rows_of[b]++;
		}
		for (int b = 0; b < in->nclass[p]; b++)
			for (int c = 0; c < g->nc; c++)
				if (count[(int64) b * g->nc + c] == 0 && tcount[c] > 0 &&
					rows_of[b] * -log1p(-Min((double) tcount[c] / nrows, 0.999999)) > FS_STRUCTURAL_ZERO)
				{
					int64		bit = (int64) b * g->nc + c;

					never[bit / 8] |= 1 << (bit % 8);
					any = true;
				}
		if (any)
		{
			FsOff		off = fs_buf_alloc(g->buf, (cells + 7) / 8);

			memcpy(g->buf->data + off, never, (cells + 7) / 8);
			rules[tree->nrules].pred = p;
			rules[tree->nrules].npred = in->nclass[p];
			rules[tree->nrules].never = off;
			tree->nrules++;
		}
		pfree(never);
		pfree(count);
		pfree(rows_of);
	}
	tree->rules = 0;
	if (tree->nrules > 0)
	{
		tree->rules = fs_buf_alloc(g->buf, sizeof(FsRule) * tree->nrules);
		memcpy(g->buf->data + tree->rules, rules, sizeof(FsRule) * tree->nrules);
	}
	pfree(rules);
	pfree(tcount);
}

/* Grow the subtree of rows[lo, hi) under parent; returns its node index. */
static int
fs_grow(FsGrow *g, int lo, int hi, int parent, int depth, bool parent_pure,
		bool below_groups, const int *live, int nlive)
{
	const FsTreeInput *in = g->in;
	int			m = hi - lo;
	int			id;
	int			pred = -1;
	int			nclass_pred;
	FsOff		set;
	uint8	   *bits;
	int			mid;
	int			nright;
	bool		pure;
	int			saved_min_leaf = g->min_leaf;
	int		   *still = NULL;	/* the predictors the children tally, if this
								 * node tallied them */
	int			nstill = 0;

	CHECK_FOR_INTERRUPTS();
	check_stack_depth();

	if (g->nnodes == g->cap)
	{
		g->cap *= 2;
		g->nodes = repalloc_huge(g->nodes, sizeof(FsNode) * g->cap);
	}
	id = g->nnodes++;
	memset(&g->nodes[id], 0, sizeof(FsNode));
	g->nodes[id].test = 0;
	g->nodes[id].child[0] = g->nodes[id].child[1] = id;
	g->nodes[id].parent = parent;
	g->nodes[id].weight = (float4) m;

	/* the top node whose rows all share one balance combination */
	pure = true;
	if (in->group_col >= 0 && !parent_pure)
		for (int i = lo + 1; i < hi && pure; i++)
			pure = fs_cls(in, g->rows[i], in->group_col) == fs_cls(in, g->rows[lo], in->group_col);
	g->nodes[id].group_root = pure && !parent_pure && parent >= 0;

	memset(g->pc, 0, sizeof(int64) * g->nc);
	for (int i = lo; i < hi; i++)
		g->pc[g->tcls[i]]++;
	fs_store_dist(g, &g->nodes[id], g->pc, m);

	/*
	 * groups first: each balance combination gets its own subtree, however
	 * few its rows (a split on the group column needs one row on each side);
	 * the group splits form a hierarchy of similar combinations, which a
	 * small combination's leaves back off to (fs_smooth_leaves)
	 */
	if (in->group_col >= 0 && !pure)
	{
		g->min_leaf = 1;
		pred = fs_best_split(g, lo, hi, in->group_col, NULL, 0, NULL, NULL);
		g->min_leaf = saved_min_leaf;
		if (pred >= 0)
			depth--;			/* group splits do not count towards depth */
	}

	/*
	 * Below the group splits, leaves are as fine relative to the group's rows
	 * as the whole tree's are relative to all rows (at least group_min_leaf):
	 * a small group keeps the dependencies among its columns instead of
	 * drawing them independently from one leaf.
	 */
	if (pred < 0 && in->group_col >= 0 && !below_groups)
	{
		below_groups = true;
		g->min_leaf = Min(in->min_leaf,
						  Max(in->group_min_leaf, (int) ((double) m * in->min_leaf / Max(in->nrows, 1))));
	}
	if (pred < 0 && m >= 2 * g->min_leaf && depth < in->max_depth &&
		g->nodes[id].ndist > 1)
	{
		still = palloc(sizeof(int) * Max(nlive, 1));
		pred = fs_best_split(g, lo, hi, -1, live, nlive, still, &nstill);
	}
	if (pred < 0)
	{
		if (still)
			pfree(still);
		g->min_leaf = saved_min_leaf;
		return id;
	}

	/* the split: a bitset of the predictor classes that go left */
	nclass_pred = in->nclass[pred];
	bits = palloc0((nclass_pred + 7) / 8);
	for (int j = 0; j < g->best_nset; j++)
		bits[g->best_set[j] / 8] |= 1 << (g->best_set[j] % 8);
	/* classes absent here follow the majority of the node's rows */
	if (g->best_nl * 2 >= m)
	{
		uint8	   *seen = palloc0((nclass_pred + 7) / 8);

		for (int i = lo; i < hi; i++)
		{
			int			b = fs_cls(in, g->rows[i], pred);

			seen[b / 8] |= 1 << (b % 8);
		}
		for (int b = 0; b < nclass_pred; b++)
			if (!(seen[b / 8] & (1 << (b % 8))))
				bits[b / 8] |= 1 << (b % 8);
		pfree(seen);
	}

	/*
	 * partition rows and their target classes, stably (row order stays
	 * ascending for cache locality), writing each row to both sides and
	 * advancing one: no branch on the row's side
	 */
	mid = lo;
	nright = 0;
	for (int i = lo; i < hi; i++)
	{
		int			r = g->rows[i];
		int32		c = g->tcls[i];
		int			b = fs_cls(in, r, pred);
		int			left = (bits[b / 8] >> (b % 8)) & 1;

		g->rows[mid] = r;
		g->tcls[mid] = c;
		g->tmp[nright] = r;
		g->ttmp[nright] = c;
		mid += left;
		nright += 1 - left;
	}
	memcpy(g->rows + mid, g->tmp, sizeof(int) * nright);
	memcpy(g->tcls + mid, g->ttmp, sizeof(int32) * nright);

	g->nodes[id].test = pred;
	if (nclass_pred <= 64)
	{
		uint64		mask = 0;

		for (int b = 0; b < nclass_pred; b++)
			if (bits[b / 8] & (1 << (b % 8)))
				mask |= UINT64CONST(1) << b;
		g->nodes[id].mask = mask;
	}
	else
	{
		/* 64-bit words, bit b of the set at bit b % 64 of word b / 64 */
		uint64	   *words;

		set = fs_buf_alloc(g->buf, sizeof(uint64) * ((nclass_pred + 63) / 64));
		words = FS_AT(g->buf->data, set, uint64);
		for (int b = 0; b < nclass_pred; b++)
			if (bits[b / 8] & (1 << (b % 8)))
				words[b / 64] |= UINT64CONST(1) << (b % 64);
		g->nodes[id].goes_left = set;
	}
	pfree(bits);
	{
		/* after a split on the group column the predictors stay as they were */
		const int  *child_live = still ? still : live;
		int			nchild_live = still ? nstill : nlive;
		int			left = fs_grow(g, lo, mid, id, depth + 1, pure, below_groups,
								   child_live, nchild_live);
		int			right = fs_grow(g, mid, hi, id, depth + 1, pure, below_groups,
									child_live, nchild_live);

		g->nodes[id].child[1] = left;
		g->nodes[id].child[0] = right;
	}
	if (still)
		pfree(still);
	g->min_leaf = saved_min_leaf;
	return id;
}

/*
 * A Walker alias table (Vose's construction) of the n non-zero entries of
 * the distribution p[0..nc), appended to buf; returns its offset.
 */
static FsOff
fs_build_alias(FsBuf *buf, const double *p, int nc, int n)
{
	FsOff		off = fs_buf_alloc(buf, sizeof(FsAlias) * Max(n, 1));
	FsAlias    *t = FS_AT(buf->data, off, FsAlias);
	double	   *scaled = palloc(sizeof(double) * Max(n, 1));
	int		   *small = palloc(sizeof(int) * Max(n, 1));
	int		   *large = palloc(sizeof(int) * Max(n, 1));
	int			ns = 0,
				nl = 0,
				j = 0;
	double		total = 0;

	for (int c = 0; c < nc; c++)
		if (p[c] > 0)
		{
			t[j].cls = c;
			t[j].alias = c;
			total += p[c];
			scaled[j++] = p[c];
		}
	for (j = 0; j < n; j++)
	{
		scaled[j] = scaled[j] * n / total;
		if (scaled[j] < 1)
			small[ns++] = j;
		else
			large[nl++] = j;
	}
	while (ns > 0 && nl > 0)
	{
		int			s = small[--ns];
		int			l = large[nl - 1];

		t[s].prob = (float4) scaled[s];
		t[s].alias = t[l].cls;
		scaled[l] -= 1 - scaled[s];
		if (scaled[l] < 1)
		{
			nl--;
			small[ns++] = l;
		}
	}
	while (nl > 0)
		t[large[--nl]].prob = 1.0f;
	while (ns > 0)
		t[small[--ns]].prob = 1.0f;	/* rounding leftovers */
	pfree(scaled);
	pfree(small);
	pfree(large);
	return off;
}

/*
 * Leave out of leaf id's smoothed distribution mix (renormalized) every class
 * the leaf lacks although its parent's share of it would give the leaf's rows
 * that class with near certainty (a miss chance below e^-FS_STRUCTURAL_ZERO):
 * such an absence is a rule of the data (no two-year recidivism without
 * recidivism), which smoothing must not break; a rare class's absence proves
 * nothing and is smoothed over as before.
 */
static void
fs_keep_structural_zeros(FsGrow *g, int id, double *mix)
{
	const FsNode *leaf = &g->nodes[id];
	const FsNode *parent = &g->nodes[leaf->parent];
	const FsDraw *ld = FS_AT(g->buf->data, leaf->dist, FsDraw);
	const FsDraw *pd = FS_AT(g->buf->data, parent->dist, FsDraw);
	double		prev = 0,
				total = 0;
	int			j = 0;

	for (int k = 0; k < parent->ndist; k++)
	{
		int			c = pd[k].cls;
		double		q = pd[k].cum - prev;

		prev = pd[k].cum;
		while (j < leaf->ndist && ld[j].cls < c)
			j++;
		if ((j >= leaf->ndist || ld[j].cls != c) &&
			leaf->weight * -log1p(-Min(q, 0.999999)) > FS_STRUCTURAL_ZERO)
			mix[c] = 0;
	}
	for (int c = 0; c < g->nc; c++)
		total += mix[c];
	if (total > 0)
		for (int c = 0; c < g->nc; c++)
			mix[c] /= total;
}

/*
 * Leave out of a leaf's smoothed distribution mix[0..nc) (renormalized) its
 * least likely classes, as long as together they hold at most FS_LEAF_TAIL of
 * it.  Backing off through similar combinations to the population gives every
 * leaf some share of every class the population has (hundreds, for a charge
 * description), each too small to matter, and a leaf's alias table as long as
 * the column's classes: the model grew to 8.5 MB on a million rows and its
 * draws were bound by cache misses.  order: nc ints of scratch space.
 */
#define FS_LEAF_TAIL 0.002

static void
fs_trim_tail(double *mix, int nc, int *order)
{
	int			n = 0;
	double		dropped = 0,
				total = 0;

	for (int c = 0; c < nc; c++)
		if (mix[c] > 0)
			order[n++] = c;
	if (n <= 16)
		return;					/* short already: nothing to gain */
	fs_sort_classes(order, n, mix);	/* by share, ascending, then by class */
	for (int i = 0; i < n - 1 && dropped + mix[order[i]] <= FS_LEAF_TAIL; i++)
	{
		dropped += mix[order[i]];
		mix[order[i]] = 0;
	}
	if (dropped == 0)
		return;
	for (int c = 0; c < nc; c++)
		total += mix[c];
	for (int c = 0; c < nc; c++)
		mix[c] /= total;
}

/*
 * Give every leaf the mixture of its and its ancestors' distributions that
 * backing off would draw from: stop at a node with probability
 * weight / (weight + smoothing), else go up; the root always stops, and so
 * does the top node of a single balance combination, so a group's rows never
 * borrow from other groups' (a group too small to have such a node shares its
 * leaves with similar groups anyway).
 */
static void
fs_smooth_leaves(FsGrow *g, double smoothing)
{
	double	   *mix = palloc(sizeof(double) * g->nc);
	int		   *order = palloc(sizeof(int) * g->nc);

	for (int id = 0; id < g->nnodes; id++)
	{
		double		reach = 1;
		int			n = 0;
		double		cum = 0;
		FsDraw	   *d;

		if (!FS_IS_LEAF(g->nodes, id))
			continue;
		memset(mix, 0, sizeof(double) * g->nc);
		for (int a = id; a >= 0 && reach > 0; a = g->nodes[a].parent)
		{
			const FsNode *node = &g->nodes[a];
			const FsDraw *nd = FS_AT(g->buf->data, node->dist, FsDraw);
			double		stop = node->parent < 0 ? 1 :
				node->weight / (node->weight + (node->group_root ?
												g->in->group_smoothing : smoothing));
			double		prev = 0;

			for (int j = 0; j < node->ndist; j++)
			{
				mix[nd[j].cls] += reach * stop * (nd[j].cum - prev);
				prev = nd[j].cum;
			}
			reach *= 1 - stop;
		}
		if (g->nodes[id].parent >= 0)
			fs_keep_structural_zeros(g, id, mix);
		/* (balance mode only: without combinations nothing adds the tail) */
		if (g->in->group_col >= 0)
			fs_trim_tail(mix, g->nc, order);
		for (int c = 0; c < g->nc; c++)
			if (mix[c] > 0)
				n++;
		g->nodes[id].dist = fs_buf_alloc(g->buf, sizeof(FsDraw) * Max(n, 1));
		g->nodes[id].ndist = n;
		d = FS_AT(g->buf->data, g->nodes[id].dist, FsDraw);
		n = 0;
		for (int c = 0; c < g->nc; c++)
			if (mix[c] > 0)
			{
				cum += mix[c];
				d[n].cls = c;
				d[n].cum = (float4) cum;
				n++;
			}
		if (n > 0)
			d[n - 1].cum = 1.0f;
		g->nodes[id].alias = fs_build_alias(g->buf, mix, g->nc, n);
	}
	pfree(mix);
	pfree(order);
}

/* Length of the longest path from node id down to a leaf. */
static int
fs_depth(const FsNode *nodes, int id)
{
	int			left,
				right;

	check_stack_depth();
	if (FS_IS_LEAF(nodes, id))
		return 0;
	/* not Max(fs_depth(), fs_depth()): the macro would walk a subtree twice */
	left = fs_depth(nodes, nodes[id].child[1]);
	right = fs_depth(nodes, nodes[id].child[0]);
	return 1 + Max(left, right);
}

/*
 * For every class of the group column, the first node a walk reaches that
 * does not split on the group column and the depth below it (appended to
 * buf); sets *depth to the longest of those paths.
 */
static FsOff
fs_group_starts(FsBuf *buf, const FsNode *nodes, int group_col, int ngroups,
				int32 *depth)
{
	FsOff		off = fs_buf_alloc(buf, sizeof(FsStart) * ngroups);

	*depth = 0;
	for (int k = 0; k < ngroups; k++)
	{
		int			id = 0;

		while (!FS_IS_LEAF(nodes, id) && nodes[id].test == group_col)
		{
			const FsNode *node = &nodes[id];
			int			in_set = fs_in_set(buf->data, node, k);

			id = node->child[in_set];
		}
		FS_AT(buf->data, off, FsStart)[k].node = id;
		FS_AT(buf->data, off, FsStart)[k].depth = fs_depth(nodes, id);
		*depth = Max(*depth, FS_AT(buf->data, off, FsStart)[k].depth);
	}
	return off;
}

/* Fit a tree for in->target; its nodes are appended to buf. */
void
fs_tree_fit(FsBuf *buf, const FsTreeInput *in, double smoothing, FsTree *tree)
{
	FsGrow		g;
	int			maxnb = 1;
	int			nrows = 0;

	memset(&g, 0, sizeof(g));
	g.in = in;
	g.buf = buf;
	g.nc = in->nclass[in->target];
	g.cap = 64;
	g.nodes = palloc(sizeof(FsNode) * g.cap);
	g.rows = palloc(sizeof(int) * Max(in->nrows, 1));
	g.tmp = palloc(sizeof(int) * Max(in->nrows, 1));
	g.tcls = palloc(sizeof(int32) * Max(in->nrows, 1));
	g.ttmp = palloc(sizeof(int32) * Max(in->nrows, 1));
	for (int r = 0; r < in->nrows; r++)
		if (in->exclude_class < 0 || fs_cls(in, r, in->target) != in->exclude_class)
		{
			g.tcls[nrows] = fs_cls(in, r, in->target);
			g.rows[nrows++] = r;
		}
	for (int pi = 0; pi < in->npreds; pi++)
		maxnb = Max(maxnb, in->nclass[in->preds[pi]]);
	if (in->group_col >= 0)
		maxnb = Max(maxnb, in->nclass[in->group_col]);
	g.pc = palloc0(sizeof(int64) * g.nc);
	g.lc = palloc0(sizeof(int64) * g.nc);
	g.tot = palloc0(sizeof(int) * maxnb);
	g.maj = palloc0(sizeof(int) * maxnb);
	g.ysum = palloc0(sizeof(double) * maxnb);
	g.start = palloc0(sizeof(int) * maxnb);
	/* one more: the tally writes a class before it knows it is new */
	g.present = palloc0(sizeof(int) * (maxnb + 1));
	g.key = palloc0(sizeof(double) * maxnb);
	g.best_set = palloc0(sizeof(int) * maxnb);
	g.hist = palloc0(sizeof(int32) * FS_HIST_CELLS);

	g.min_leaf = in->min_leaf;
	memset(tree, 0, sizeof(FsTree));
	tree->nclass = g.nc;
	if (in->exclude_class < 0)
		fs_find_rules(&g, nrows, tree);
	fs_grow(&g, 0, nrows, -1, 0, false, false, in->preds, in->npreds);
	fs_smooth_leaves(&g, smoothing);
	if (in->group_col >= 0)
		tree->starts = fs_group_starts(buf, g.nodes, in->group_col,
									   in->nclass[in->group_col], &tree->depth);
	else
		tree->depth = fs_depth(g.nodes, 0);

	tree->nodes = fs_buf_alloc(buf, sizeof(FsNode) * g.nnodes);
	memcpy(FS_AT(buf->data, tree->nodes, FsNode), g.nodes, sizeof(FsNode) * g.nnodes);
	tree->nnodes = g.nnodes;

	pfree(g.nodes);
	pfree(g.rows);
	pfree(g.tmp);
	pfree(g.tcls);
	pfree(g.ttmp);
	pfree(g.pc);
	pfree(g.lc);
	pfree(g.tot);
	pfree(g.maj);
	pfree(g.ysum);
	pfree(g.start);
	pfree(g.present);
	pfree(g.key);
	pfree(g.best_set);
	pfree(g.hist);
}

/*
 * The class of node's distribution at uniform u, leaving out class skip
 * (-1: none), which is always the highest class and so the last entry;
 * -1 if skip is all there is.
 */
static int
fs_draw_excluding(const char *base, const FsNode *node, int skip, double u)
{
	const FsDraw *d = (const FsDraw *) (base + node->dist);
	int			lo = 0,
				hi = node->ndist - 1;

	if (skip >= 0 && d[hi].cls == skip)
	{
		if (hi == 0)
			return -1;
		hi--;
		u *= d[hi].cum;
	}
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (u < d[mid].cum)
			hi = mid;
		else
			lo = mid + 1;
	}
	return d[lo].cls;
}

/*
 * One draw from a Walker alias table of n entries, in O(1) and without a
 * branch on the random value (a mispredicted branch per draw would cost more
 * than the draw).
 */
static inline int
fs_alias_draw(const FsAlias *t, int n, pg_prng_state *rng)
{
	double		u = fs_rand01(rng) * n;
	int			i = Min((int) u, n - 1);
	int32		keep = -(int32) ((u - i) < t[i].prob);

	return (t[i].cls & keep) | (t[i].alias & ~keep);
}

/* Whether target class cls breaks one of the rules for the row's classes. */
static inline bool
fs_breaks_rule(const char *base, const FsRule *rules, int nrules, int nclass,
			   const int32 *row, int cls)
{
	for (int i = 0; i < nrules; i++)
	{
		const uint8 *never = (const uint8 *) (base + rules[i].never);
		int64		bit = (int64) row[rules[i].pred] * nclass + cls;

		if ((never[bit / 8] >> (bit % 8)) & 1)
			return true;
	}
	return false;
}

/*
 * A class of leaf's distribution that breaks no rule for the row (other than
 * skip): up to 16 draws from the leaf; then a draw among the permitted
 * classes of the leaf's distribution, in their proportions, or if it has
 * none, of the nearest ancestor's that has (a small combination's leaf may
 * lack the one class a rule leaves: a row without the flag needs the note a
 * row without the flag has); cls (the first draw) if no node has one.
 */
static int
fs_draw_within_rules(const char *base, const FsNode *nodes, const FsNode *leaf,
					 const FsRule *rules, int nrules, int nclass,
					 const int32 *row, int skip, int cls, pg_prng_state *rng)
{
	const FsAlias *alias = (const FsAlias *) (base + leaf->alias);

	for (int tries = 0; tries < 16; tries++)
	{
		int			c = fs_alias_draw(alias, leaf->ndist, rng);

		if (c != skip && !fs_breaks_rule(base, rules, nrules, nclass, row, c))
			return c;
	}
	for (const FsNode *node = leaf;; node = &nodes[node->parent])
	{
		const FsDraw *d = (const FsDraw *) (base + node->dist);
		double		permitted = 0,
					prev = 0,
					u;

		for (int j = 0; j < node->ndist; j++)
		{
			if (d[j].cls != skip &&
				!fs_breaks_rule(base, rules, nrules, nclass, row, d[j].cls))
				permitted += d[j].cum - prev;
			prev = d[j].cum;
		}
		if (permitted > 0)
		{
			u = fs_rand01(rng) * permitted;
			prev = 0;
			for (int j = 0; j < node->ndist; j++)
			{
				double		p = d[j].cum - prev;

				prev = d[j].cum;
				if (d[j].cls == skip ||
					fs_breaks_rule(base, rules, nrules, nclass, row, d[j].cls))
					continue;
				if (u < p)
					return d[j].cls;
				u -= p;
				cls = d[j].cls; /* rounding: the last permitted one */
			}
			return cls;
		}
		if (node->parent < 0)
			return cls;
	}
}

/*
 * Draw a class for each of n rows (row r's classes at classes + r * stride)
 * into column target: walk every row down the tree (from its combination's
 * start node when starts is given), one level at a time for
 * all rows so their memory accesses overlap and no branch depends on the
 * data, as deep as the subtree of the rows' combination (rows should come
 * sorted by combination), then draw from the leaf's smoothed distribution, without class skip
 * when skip >= 0 (imputation: never NULL).
 */
void
fs_tree_draw_batch(const char *base, const FsTree *tree, int32 *classes,
				   int stride, int n, int target, int skip, pg_prng_state *rng)
{
	const FsNode *nodes = (const FsNode *) (base + tree->nodes);
	const FsStart *starts = tree->starts ? (const FsStart *) (base + tree->starts) : NULL;
	const FsRule *rules = (const FsRule *) (base + tree->rules);
	int			depth = tree->depth;
	int32		ids[FS_DRAW_BATCH];
	int			cnt;

	for (int from = 0; from < n; from += cnt)
	{
		int32	   *rows = classes + (int64) from * stride;
		int			levels = depth;

		cnt = Min(FS_DRAW_BATCH, n - from);
		if (starts)
		{
			/* one combination at a time (the group column is a row's last slot) */
			int			group = rows[stride - 1];

			for (int r = 1; r < cnt; r++)
				if (rows[r * stride + stride - 1] != group)
				{
					cnt = r;
					break;
				}
			levels = starts[group].depth;
			for (int r = 0; r < cnt; r++)
				ids[r] = starts[group].node;
		}
		else
			memset(ids, 0, sizeof(int32) * cnt);
		for (int level = 0; level < levels; level++)
			for (int r = 0; r < cnt; r++)
			{
				const FsNode *node = &nodes[ids[r]];
				ids[r] = node->child[fs_in_set(base, node, (uint32) rows[r * stride + node->test])];
			}
		for (int r = 0; r < cnt; r++)
		{
			const FsNode *leaf = &nodes[ids[r]];
			int			cls = fs_alias_draw((const FsAlias *) (base + leaf->alias),
											leaf->ndist, rng);

			/* leaving a class out takes a few more draws at most */
			if (unlikely(skip >= 0 && cls == skip))
			{
				for (int tries = 1; tries < 16 && cls == skip; tries++)
					cls = fs_alias_draw((const FsAlias *) (base + leaf->alias),
										leaf->ndist, rng);
				if (cls == skip)
				{
					cls = fs_draw_excluding(base, leaf, skip, fs_rand01(rng));
					if (cls < 0)	/* the leaf knows only the skipped class */
						cls = fs_draw_excluding(base, &nodes[0], skip, fs_rand01(rng));
				}
			}
			/* a class that breaks a rule of the data: draw again */
			if (tree->nrules > 0 && cls >= 0 &&
				fs_breaks_rule(base, rules, tree->nrules, tree->nclass,
							   rows + r * stride, cls))
				cls = fs_draw_within_rules(base, nodes, leaf, rules, tree->nrules,
										   tree->nclass, rows + r * stride,
										   skip, cls, rng);
			rows[r * stride + target] = cls >= 0 ? cls : skip;
		}
	}
}

/*
 * The leaf that the row with classes row (one per column, the group column's
 * last) reaches in a tree without group starts.
 */
int
fs_tree_leaf(const char *base, const FsTree *tree, const int32 *row)
{
	const FsNode *nodes = (const FsNode *) (base + tree->nodes);
	int			id = 0;

	for (int level = 0; level < tree->depth; level++)
		id = nodes[id].child[fs_in_set(base, &nodes[id], (uint32) row[nodes[id].test])];
	return id;
}

/*
 * The leaf that the row with classes row reaches in a tree with group starts,
 * from the start of group (a class of the tree's group column): the walk
 * never reads the row's group slot.
 */
int
fs_tree_leaf_in_group(const char *base, const FsTree *tree, int group,
					  const int32 *row)
{
	const FsNode *nodes = (const FsNode *) (base + tree->nodes);
	const FsStart *start = (const FsStart *) (base + tree->starts) + group;
	int			id = start->node;

	for (int level = 0; level < start->depth; level++)
		id = nodes[id].child[fs_in_set(base, &nodes[id], (uint32) row[nodes[id].test])];
	return id;
}

/* The share of class cls in the (smoothed) distribution of leaf. */
double
fs_tree_leaf_share(const char *base, const FsTree *tree, int leaf, int cls)
{
	const FsNode *node = (const FsNode *) (base + tree->nodes) + leaf;
	const FsDraw *d = (const FsDraw *) (base + node->dist);
	double		prev = 0;

	for (int j = 0; j < node->ndist; j++)
	{
		if (d[j].cls == cls)
			return d[j].cum - prev;
		prev = d[j].cum;
	}
	return 0;
}
