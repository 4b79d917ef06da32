/*
 * tree.h: classification trees, the estimator inside model.c (tree.c).
 *
 * Only model.c fits and walks trees; everything else goes through model.h.
 */
#ifndef FAIRSYNTH_TREE_H
#define FAIRSYNTH_TREE_H

#include "model.h"

/* Tree fitting (tree.c): classes is ncols x nrows, column-major. */
typedef struct FsTreeInput
{
	const int32 *classes;
	int			nrows;
	int			ncols;
	const int32 *nclass;		/* per column */
	const bool *ordered;		/* per column: classes have a value order */
	int			target;
	const int  *preds;
	int			npreds;
	int			min_leaf;
	int			group_min_leaf; /* smallest leaf below the group splits */
	double		group_smoothing;	/* prior weight of similar combinations
									 * at a combination's top node */
	int			max_depth;
	int			group_col;		/* split on this column first, or -1 */
	bool		pool;			/* combinations of >= min_leaf rows share
								 * one pooled subtree (tree.c) */
	int			exclude_class;	/* leave out rows of this target class, or -1 */
	const double *target_value; /* per target class: its value (variance
								 * reduction), or NULL (Gini) */
	double		min_gain;		/* a split below the group splits gains at
								 * least this many times the node's Gini
								 * impurity (in rows); 0: any gain */
} FsTreeInput;

extern void fs_tree_fit(FsBuf *buf, const FsTreeInput *in, double smoothing,
						FsTree *tree);
extern int	fs_tree_leaf(const char *base, const FsTree *tree, const int32 *row);
extern int	fs_tree_leaf_in_group(const char *base, const FsTree *tree, int group,
								  const int32 *row);
extern double fs_tree_leaf_share(const char *base, const FsTree *tree, int leaf,
								 int cls);
extern void fs_tree_draw_batch(const char *base, const FsTree *tree,
							   int32 *classes, int stride, int n, int target,
							   int skip, pg_prng_state *rng);

#endif							/* FAIRSYNTH_TREE_H */
