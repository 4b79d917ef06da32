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
 * With balance combinations (FsTreeInput.group_col) the tree first splits
 * them apart, most alike together; a combination of fewer than min_leaf
 * rows grows a subtree of its own below its node, and the others are drawn
 * from one pooled subtree grown from all their rows (fs_mark_pooled), with
 * per-combination class weights (fs_pooled_ratios).
 *
 * Per node and predictor the cost is O(rows + classes present), never
 * O(classes of predictor x classes of target), so high-cardinality columns
 * stay cheap.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "tree.h"

/* Draws a pooled combination's class weights may reject in a row, at most. */
#define FS_RATIO_TRIES 16

/* Rows walked down a tree together. */
#define FS_DRAW_BATCH 64

/* The pooled subtree's minimum leaf over the tree's (fs_grow_pooled) */
#define FS_POOLED_LEAF_SCALE (2.0 / 3.0)

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
	bool	   *pooled;			/* per combination: drawn from the pooled
								 * subtree (fs_mark_pooled), or NULL */
	int			npooled;		/* rows of pooled combinations */
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
			FsOff		roff;

			memcpy(g->buf->data + off, never, (cells + 7) / 8);
			roff = fs_buf_alloc(g->buf, sizeof(int32) * in->nclass[p]);
			memcpy(g->buf->data + roff, rows_of, sizeof(int32) * in->nclass[p]);
			rules[tree->nrules].pred = p;
			rules[tree->nrules].npred = in->nclass[p];
			rules[tree->nrules].never = off;
			rules[tree->nrules].rows = roff;
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

/*
 * Put the rows the tree fits (those whose target is not in->exclude_class;
 * with pooled, only the pooled combinations') in g->rows, ascending, and
 * their target classes in g->tcls; returns how many.
 */
static int
fs_take_rows(FsGrow *g, const bool *pooled)
{
	const FsTreeInput *in = g->in;
	int			n = 0;

	for (int r = 0; r < in->nrows; r++)
	{
		int32		c = fs_cls(in, r, in->target);

		if ((in->exclude_class < 0 || c != in->exclude_class) &&
			(pooled == NULL || pooled[fs_cls(in, r, in->group_col)]))
		{
			g->tcls[n] = c;
			g->rows[n++] = r;
		}
	}
	return n;
}

/*
 * Mark the combinations drawn from the pooled subtree: those with at least
 * min_leaf fitted rows, enough for a tree of all such rows, which has the
 * balance columns among its predictors like any other column, to give them
 * leaves of their own wherever their rows differ (and fs_pooled_ratios keeps
 * each one's class shares where it does not).  Smaller combinations are
 * invisible to such a tree and get subtrees of their own, whose structure
 * comes from their own rows (fs_grow).  Why not a subtree for every
 * combination: one of a few hundred rows that shares the population's
 * dependencies relearns them from its own rows alone, noisily, and loses
 * them (compas balanced on race x sex, Caucasian women, 458 rows: the
 * correlation of priors_count with decile_score is 0.395 in the source, 0.24
 * from a subtree of their own, 0.36-0.37 from the pooled one).
 */
static void
fs_mark_pooled(FsGrow *g, int nrows)
{
	const FsTreeInput *in = g->in;
	int			ngroups = in->nclass[in->group_col];
	int		   *count = palloc0(sizeof(int) * ngroups);

	g->pooled = palloc0(sizeof(bool) * ngroups);
	for (int i = 0; i < nrows; i++)
		count[fs_cls(in, g->rows[i], in->group_col)]++;
	g->npooled = 0;
	for (int k = 0; k < ngroups; k++)
		if (count[k] >= in->min_leaf)
		{
			g->pooled[k] = true;
			g->npooled += count[k];
		}
	pfree(count);
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

	/*
	 * the top node whose rows all share one balance combination (none in the
	 * pooled subtree, where combinations mix)
	 */
	pure = parent_pure || !below_groups;
	if (in->group_col >= 0 && !parent_pure && !below_groups)
		for (int i = lo + 1; i < hi && pure; i++)
			pure = fs_cls(in, g->rows[i], in->group_col) == fs_cls(in, g->rows[lo], in->group_col);
	g->nodes[id].group_root = pure && !parent_pure && parent >= 0;

	memset(g->pc, 0, sizeof(int64) * g->nc);
	for (int i = lo; i < hi; i++)
		g->pc[g->tcls[i]]++;
	fs_store_dist(g, &g->nodes[id], g->pc, m);

	/*
	 * a pooled combination's own node stays a leaf: its rows are drawn from
	 * the pooled subtree, and the node is only what smaller combinations
	 * split from it back off through
	 */
	if (pure && !parent_pure && in->group_col >= 0 && g->pooled != NULL &&
		g->pooled[fs_cls(in, g->rows[lo], in->group_col)])
		return id;

	/*
	 * groups first: each balance combination gets its own node, however few
	 * its rows (a split on the group column needs one row on each side); the
	 * group splits form a hierarchy of similar combinations, which a small
	 * combination's leaves back off to (fs_smooth_leaves); a pooled one's node
	 * stayed a leaf above
	 */
	if (in->group_col >= 0 && !pure && !below_groups)
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
 * Grow the pooled subtree, a root of its own (it backs off to nothing
 * above it), from the rows of every pooled combination; returns its root.
 * Its leaves hold FS_POOLED_LEAF_SCALE of the minimum leaf: a leaf there is
 * shared by several combinations, so each one's rows in it are fewer than
 * a leaf of a tree of its own would hold, and its dependencies need the
 * finer leaves to show (compas balanced on race x sex, combinations of 300+
 * rows: the largest mean difference of the within-group correlations and
 * rates from the source's, seeds 4-9 so that the benchmark's 1-3 stay
 * unseen, 0.079 with full-size leaves, 0.065 with two thirds).
 */
static int
fs_grow_pooled(FsGrow *g, int nrows)
{
	const FsTreeInput *in = g->in;
	int			n = fs_take_rows(g, g->pooled);

	Assert(n == g->npooled && n <= nrows);
	g->min_leaf = Max((int) (in->min_leaf * FS_POOLED_LEAF_SCALE), 1);
	return fs_grow(g, 0, n, -1, 0, false, true, in->preds, in->npreds);
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
				const bool *pooled, int pooled_root, int32 *depth)
{
	FsOff		off = fs_buf_alloc(buf, sizeof(FsStart) * ngroups);

	*depth = 0;
	for (int k = 0; k < ngroups; k++)
	{
		int			id = 0;

		if (pooled_root >= 0 && pooled[k])
		{
			FS_AT(buf->data, off, FsStart)[k].node = pooled_root;
			FS_AT(buf->data, off, FsStart)[k].depth = fs_depth(nodes, pooled_root);
			*depth = Max(*depth, FS_AT(buf->data, off, FsStart)[k].depth);
			continue;
		}
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

/*
 * A pooled combination's class weights (FsStart.ratio).  The pooled subtree
 * splits on a combination only where that pays at the whole tree's leaf
 * size, so a combination's share of a class can drift towards its
 * neighbours' (compas on race x sex: two-year recidivism among
 * African-American women 0.39 in the source, 0.46 from the pooled subtree
 * alone).  Walking every fitted row of combination k down the subtree gives
 * pred[c], the rows of class c the subtree predicts for k; count[c] is how
 * many it has.  A class drawn from the subtree is kept with probability
 * proportional to
 *
 *     ratio[c] = (count[c] + s q[c]) / (pred[c] + s q[c]),  q = pred / n_k
 *
 * (s the smoothing weight: a class few rows show is corrected less), one
 * step of iterative proportional fitting: the combination gets its own
 * shares back, and the dependencies on the row's other columns stay the
 * subtree's.  Example: k has 500 rows, the subtree predicts 230 recidivists
 * (q = 0.46), it has 197: ratio = (197 + 6.9) / (230 + 6.9) = 0.86 for
 * recidivism, (303 + 8.1) / (270 + 8.1) = 1.12 against; scaled to max 1:
 * 0.77 and 1.
 */
static void
fs_pooled_ratios(FsGrow *g, double smoothing, int pooled_root, FsOff starts_off)
{
	const FsTreeInput *in = g->in;
	int			ngroups = in->nclass[in->group_col];
	int			nc = g->nc;
	int		   *slot = palloc(sizeof(int) * ngroups);
	int			nslots = 0;
	double	   *pred;
	double	   *count;
	int		   *rows;

	for (int k = 0; k < ngroups; k++)
		slot[k] = g->pooled[k] ? nslots++ : -1;
	pred = palloc0(sizeof(double) * nslots * nc);
	count = palloc0(sizeof(double) * nslots * nc);
	rows = palloc0(sizeof(int) * nslots);
	for (int r = 0; r < in->nrows; r++)
	{
		int			s = slot[fs_cls(in, r, in->group_col)];
		int			c = fs_cls(in, r, in->target);
		int			id = pooled_root;
		const FsDraw *d;
		double		prev = 0;

		if (s < 0 || (in->exclude_class >= 0 && c == in->exclude_class))
			continue;
		CHECK_FOR_INTERRUPTS();
		while (!FS_IS_LEAF(g->nodes, id))
			id = g->nodes[id].child[fs_in_set(g->buf->data, &g->nodes[id],
											  (uint32) fs_cls(in, r, g->nodes[id].test))];
		d = FS_AT(g->buf->data, g->nodes[id].dist, FsDraw);
		for (int j = 0; j < g->nodes[id].ndist; j++)
		{
			pred[(int64) s * nc + d[j].cls] += d[j].cum - prev;
			prev = d[j].cum;
		}
		count[(int64) s * nc + c] += 1;
		rows[s]++;
	}
	for (int k = 0; k < ngroups; k++)
	{
		int			s = slot[k];
		FsOff		off;
		float4	   *ratio;
		double		top = 0;

		if (s < 0)
			continue;
		off = fs_buf_alloc(g->buf, sizeof(float4) * nc);
		ratio = FS_AT(g->buf->data, off, float4);
		for (int c = 0; c < nc; c++)
		{
			double		p = pred[(int64) s * nc + c];
			double		prior = smoothing * p / Max(rows[s], 1);
			double		x = p > 0 ? (count[(int64) s * nc + c] + prior) / (p + prior) : 0;

			ratio[c] = (float4) x;
			top = Max(top, x);
		}
		for (int c = 0; c < nc; c++)
			ratio[c] = top > 0 ? (float4) (ratio[c] / top) : 1.0f;
		FS_AT(g->buf->data, starts_off, FsStart)[k].ratio = off;
	}
	pfree(slot);
	pfree(pred);
	pfree(count);
	pfree(rows);
}

/* Fit a tree for in->target; its nodes are appended to buf. */
void
fs_tree_fit(FsBuf *buf, const FsTreeInput *in, double smoothing, FsTree *tree)
{
	FsGrow		g;
	int			maxnb = 1;
	int			nrows;
	int			pooled_root = -1;

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
	nrows = fs_take_rows(&g, NULL);
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
	if (in->group_col >= 0 && in->pool)
		fs_mark_pooled(&g, nrows);
	fs_grow(&g, 0, nrows, -1, 0, false, false, in->preds, in->npreds);
	if (g.npooled > 0)
		pooled_root = fs_grow_pooled(&g, nrows);
	fs_smooth_leaves(&g, smoothing);
	if (in->group_col >= 0)
		tree->starts = fs_group_starts(buf, g.nodes, in->group_col,
									   in->nclass[in->group_col], g.pooled,
									   pooled_root, &tree->depth);
	else
		tree->depth = fs_depth(g.nodes, 0);
	if (pooled_root >= 0)
		fs_pooled_ratios(&g, smoothing, pooled_root, tree->starts);

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
	if (g.pooled)
		pfree(g.pooled);
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
fs_alias_draw_bits(const FsAlias *t, int n, uint64 bits)
{
	double		u = fs_bits01(bits) * n;
	int			i = Min((int) u, n - 1);
	int32		keep = -(int32) ((u - i) < t[i].prob);

	return (t[i].cls & keep) | (t[i].alias & ~keep);
}

static inline int
fs_alias_draw(const FsAlias *t, int n, pg_prng_state *rng)
{
	return fs_alias_draw_bits(t, n, pg_prng_uint64(rng));
}

/*
 * Whether a class drawn with the random word bits is kept under its class
 * weight w: the 11 low bits, which the alias draw leaves unused, are a
 * second uniform (in steps of 1/2048, fine for a weight), so the usual keep
 * costs no draw of its own.
 */
static inline bool
fs_keep_class(uint64 bits, float4 w)
{
	return (double) (bits & 2047) * (1.0 / 2048.0) < w;
}

/* Whether rule forbids target class cls after class b of its predictor. */
static inline bool
fs_rule_forbids(const char *base, const FsRule *rule, int nclass, int32 b, int cls)
{
	const uint8 *never = (const uint8 *) (base + rule->never);
	int64		bit = (int64) b * nclass + cls;

	return (never[bit / 8] >> (bit % 8)) & 1;
}

/* Whether target class cls breaks one of the rules for the row's classes. */
static inline bool
fs_breaks_rule(const char *base, const FsRule *rules, int nrules, int nclass,
			   const int32 *row, int cls)
{
	for (int i = 0; i < nrules; i++)
		if (fs_rule_forbids(base, &rules[i], nclass, row[rules[i].pred], cls))
			return true;
	return false;
}

/*
 * When every class breaks a rule for the row (pairwise rules can contradict
 * each other for a row unlike any fitted one), the class of the root's
 * distribution (other than skip) whose strongest broken rule has the least
 * evidence: a rule of predictor class b against target class c rests on
 * rows_b x -ln(1 - share_c), how surely chance would have shown the pair.
 * Example (a generated table balanced on g, whose group d has 25 rows, none
 * of them with note 'paid'): a row of d without the flag and with an amount
 * may have no note 'flagged' (no row without the flag has it, 3,931 rows of
 * evidence), no NULL note (no row with an amount has one, about 200 rows per
 * amount bin) and no 'paid' (d's 25 rows): it gets 'paid', so the rules that
 * many rows back hold, and only d's, from few rows, gives.
 */
static int
fs_least_broken(const char *base, const FsNode *root, const FsRule *rules,
				int nrules, int nclass, const int32 *row, int skip, int cls)
{
	const FsDraw *d = (const FsDraw *) (base + root->dist);
	double		best = HUGE_VAL;
	double		prev = 0;

	for (int j = 0; j < root->ndist; j++)
	{
		double		share = Min(d[j].cum - prev, 0.999999);
		double		worst = 0;

		prev = d[j].cum;
		if (d[j].cls == skip)
			continue;
		for (int i = 0; i < nrules; i++)
		{
			int32		b = row[rules[i].pred];

			if (fs_rule_forbids(base, &rules[i], nclass, b, d[j].cls))
				worst = Max(worst, ((const int32 *) (base + rules[i].rows))[b] * -log1p(-share));
		}
		if (worst < best)
		{
			best = worst;
			cls = d[j].cls;
		}
	}
	return cls;
}

/*
 * A class of leaf's distribution that breaks no rule for the row (other than
 * skip): up to 16 draws from the leaf; then a draw among the permitted
 * classes of the leaf's distribution, in their proportions, or if it has
 * none, of the nearest ancestor's that has (a small combination's leaf may
 * lack the one class a rule leaves: a row without the flag needs the note a
 * row without the flag has); if no node has one, fs_least_broken.
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
			return fs_least_broken(base, node, rules, nrules, nclass, row, skip, cls);
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
		const float4 *ratio = NULL;

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
			if (starts[group].ratio != 0)
				ratio = (const float4 *) (base + starts[group].ratio);
			for (int r = 0; r < cnt; r++)
				ids[r] = starts[group].node;
		}
		else
			memset(ids, 0, sizeof(int32) * cnt);
		for (int level = 0; level < levels; level++)
		{
			int32		moved = 0;	/* a leaf is its own child: all at leaves */

			for (int r = 0; r < cnt; r++)
			{
				const FsNode *node = &nodes[ids[r]];
				int32		next = node->child[fs_in_set(base, node, (uint32) rows[r * stride + node->test])];

				moved |= next ^ ids[r];
				ids[r] = next;
			}
			if (moved == 0)
				break;
		}
		for (int r = 0; r < cnt; r++)
		{
			const FsNode *leaf = &nodes[ids[r]];
			uint64		bits = pg_prng_uint64(rng);
			int			cls = fs_alias_draw_bits((const FsAlias *) (base + leaf->alias),
												 leaf->ndist, bits);

			/* a pooled combination keeps its own class shares */
			if (ratio != NULL)
				for (int tries = 0; tries < FS_RATIO_TRIES &&
					 !fs_keep_class(bits, ratio[cls]); tries++)
				{
					bits = pg_prng_uint64(rng);
					cls = fs_alias_draw_bits((const FsAlias *) (base + leaf->alias),
											 leaf->ndist, bits);
				}

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
