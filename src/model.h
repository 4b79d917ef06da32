/*
 * model.h: the synthesizer's one seam: the fitted model's block format and
 * the interface through which the reader's rows are fitted and the
 * generator's rows drawn (model.c, with the trees of tree.c).
 *
 * The estimator.  Every modelled column becomes classes (categories with the
 * rare ones merged, or numeric bins) and gets a classification tree that
 * predicts its class from the columns before it in the generation order:
 * the balance columns first.  A combination too small for the population's
 * tree to split off is split off first and has a subtree of its own however
 * few its rows; the larger ones share a pooled subtree with the balance
 * columns among its predictors, and class weights that keep each one's own
 * shares (tree.c).  A small combination's leaves back off to its ancestors,
 * then to similar combinations and the population, with prior weight
 * FS_SMOOTHING rows at every level (model.c gives the constants and the
 * measurements behind them).  Values are drawn within a class.  A second estimator would fill the
 * same block header and answer the same four calls below; the reader
 * (scan.c), the planner (plan.c) and the generator's loop (generate.c) see
 * nothing else.
 *
 * The block (block.h), from offset 0:
 *
 *   FsModel                 header: magic "FSM8", size, counts, offsets
 *   FsModelColumn[ncols]    per column: kind, classes, its FsTree
 *   int32[ncols]            generation order (-1 past the modelled columns)
 *   per column              FsCategory[] + value bytes, or FsBin[];
 *                           free text: an FsTextModel (text.h), its
 *                           leaf tree and n-gram tables
 *   per tree                FsNode[nnodes], FsDraw[]/FsAlias[] per node,
 *                           FsStart[] per combination (a pooled one's
 *                           float4[nclass] class weights), FsRule[] + bitsets
 *   uint64[]                the copy guard's row keys (rare, then common)
 *   parity                  a tree and float4[nfacet * nnodes]
 *
 * Every reference inside is an FsOff from the block's start, so the block
 * is valid wherever it is copied.  Example: column 3's tree's root node is
 *   FS_AT(m, FS_AT(m, m->cols, FsModelColumn)[3].tree.nodes, FsNode)[0]
 * and its leaf distribution FS_AT(m, node.dist, FsDraw)[0 .. node.ndist).
 */
#ifndef FAIRSYNTH_MODEL_H
#define FAIRSYNTH_MODEL_H

#include "fairsynth.h"
#include "block.h"

/*
 * A predictor class that never occurs with a target class in the fitted rows
 * although chance would have made them meet (a rule of the data: no two-year
 * recidivism without recidivism): a draw of that target class for a row of
 * that predictor class is drawn again (tree.c).
 */
typedef struct FsRule
{
	int32		pred;			/* the predictor column */
	int32		npred;			/* its classes */
	FsOff		never;			/* bit b * nclass + c: class b of pred never
								 * has target class c */
	FsOff		rows;			/* int32[npred]: fitted rows of each class
								 * of pred, the evidence behind its rules */
} FsRule;

/* One fitted classification tree, inside a model block (tree.c). */
typedef struct FsTree
{
	int32		nnodes;
	int32		depth;			/* longest path from a walk's start to a leaf */
	FsOff		starts;			/* FsStart per balance combination: where
								 * its walk starts, past the splits on the
								 * combination; 0: walks start at the root */
	FsOff		nodes;			/* FsNode[nnodes], node 0 the root */
	int32		nclass;			/* classes of the target */
	int32		nrules;
	FsOff		rules;			/* FsRule[nrules] */
} FsTree;

struct FsModel
{
	uint32		magic;
	uint32		size;			/* bytes of the whole block */
	int32		ncols;
	int32		nbalance;
	int32		ncombos;		/* combinations of the balance columns */
	double		smoothing;		/* prior weight of a node's parent */
	FsOff		cols;			/* FsModelColumn[ncols] */
	FsOff		order;			/* int32[ncols]: generation order */
	FsOff		guard;			/* uint64[nguard + nguard_common]: the copy
								 * guard's keys (generate.c) of the distinct
								 * rows fitted on, those that fewer than
								 * fairsynth.rare_threshold rows share first,
								 * then the others; each part ascending */
	int32		nguard;
	int32		nguard_common;
	int32		nfitted;		/* rows the model was fitted on */
	/*
	 * Outcome parity (a binary outcome balanced with other columns): the
	 * outcome is decided after the other columns, by a tree on all of them
	 * whose leaf probabilities are mapped, per combination of the other
	 * balance columns (a facet), onto the distribution over all rows
	 * (generate.c); parity_col -1: none.
	 */
	int32		parity_col;
	int32		parity_from;	/* position in the generation order from
								 * which columns follow the outcome: drawn
								 * again once it is decided */
	int32		nfacet;			/* combinations of the other balance columns */
	FsTree		parity_tree;	/* P(outcome code 1 | every other column) */
	FsOff		parity_q;		/* float4[nfacet * parity_tree.nnodes]: per
								 * facet and leaf, the mapped probability,
								 * sharpened (model.c fs_fit_parity) */
};

/*
 * The copy guard's key of a row from its signature: per column the class
 * (categorical) or the value (numeric), FS_SIG_NULL for NULL, 0 for a key.
 * Two different rows share a key with probability about 2^-64 per pair; the
 * only effect would be one row drawn again.
 */
#define FS_SIG_NULL (-1e300)

/*
 * A pair of classes no fitted row has is a rule of the data when the chance
 * of missing it by accident is below e^-FS_STRUCTURAL_ZERO (1 in 1000).
 */
#define FS_STRUCTURAL_ZERO 6.9
static inline uint64
fs_guard_key(const double *sig, int ncols)
{
	return fs_hash_bytes(sig, sizeof(double) * ncols, 0);
}

/*
 * Rows of classes have one slot per column plus one for the combination of
 * the balance columns (FS_GROUP_COL), which every tree splits on first.
 */
#define FS_GROUP_COL(ncols) (ncols)
#define FS_CLASS_STRIDE(ncols) ((ncols) + 1)

#define FS_MODEL_MAGIC 0x46534D38	/* "FSM8" */

/* Where the walks of one balance combination start in a tree. */
typedef struct FsStart
{
	int32		node;			/* first node that does not split on the
								 * combination */
	int32		depth;			/* longest path from node to a leaf */
	FsOff		ratio;			/* a pooled combination's float4[nclass]:
								 * a class drawn from the pooled subtree is
								 * kept with probability ratio[class] (its
								 * share in the combination over the share
								 * the subtree gives it, scaled to max 1);
								 * 0: every class kept */
} FsStart;

typedef struct FsModelColumn
{
	int32		kind;			/* FsKind */
	int32		type;			/* FsType */
	int32		nclass;			/* classes incl. the NULL class */
	int32		null_class;		/* class that means NULL, or -1 */
	int32		rare_class;		/* class that merges rare values, or -1 */
	int32		is_integer;		/* numeric values must be whole */
	FsOff		classes;		/* categorical: FsCategory[nclass];
								 * numeric: FsBin[nclass]; free text: its
								 * FsTextModel (text.h) */
	FsOff		frequent;		/* categorical: float4 cumulative shares of
								 * the frequent classes, for the rare class */
	FsTree		tree;			/* nnodes 0 for balance and key columns */
	int32		derived_from;	/* an earlier column this one is a function
								 * of (an age group of an age), or -1 */
	FsOff		derived_map;	/* int32 per class of derived_from: this
								 * column's class, -1 for a class never seen */
	int32		max_scale;		/* numeric: the sample's largest scale */
	int64		granule;		/* timestamps: the sample's coarsest unit */
} FsModelColumn;

typedef struct FsCategory
{
	FsOff		key;			/* bytes of the value */
	int32		len;
	int32		count;
} FsCategory;

/* A numeric bin: a single frequent value, or an interval with quantiles. */
#define FS_BIN_QUANTILES 9
typedef struct FsBin
{
	int32		is_atom;
	int32		count;
	double		q[FS_BIN_QUANTILES];	/* atom: q[0]; interval: equal-mass
										 * quantile points, q[0] lowest */
} FsBin;

/*
 * A tree node.  Walking is branch-free: every step follows
 * child[class of column test is in the split set]; a leaf tests column 0 with
 * an empty set and has itself as both children, so a walk of the tree's depth
 * always ends on the right leaf.  The set is the mask when the tested column
 * has at most 64 classes, else a bitset at goes_left.  A leaf's distribution
 * is already smoothed towards its ancestors.
 */
typedef struct FsNode
{
	int32		test;			/* column whose class decides the split */
	int32		child[2];		/* [1]: class in the set; [0]: not */
	int32		parent;			/* -1 at the root */
	uint64		mask;			/* the set, if the column has <= 64 classes */
	FsOff		goes_left;		/* the set as uint64 words otherwise (class b
								 * is bit b % 64 of word b / 64), or 0 */
	FsOff		dist;			/* FsDraw[ndist], cumulative */
	int32		ndist;
	float4		weight;			/* training rows in the node */
	FsOff		alias;			/* leaves: FsAlias[ndist] of the same
								 * distribution, for draws in O(1) */
	int32		group_root;		/* top node of one balance combination */
} FsNode;

#define FS_IS_LEAF(nodes, id) ((nodes)[id].child[0] == (id))

typedef struct FsDraw
{
	int32		cls;
	float4		cum;
} FsDraw;

/* One slot of a Walker alias table: cls with probability prob, else alias. */
typedef struct FsAlias
{
	float4		prob;
	int32		cls;
	int32		alias;
} FsAlias;


/* ---- the estimator's interface ---- */

/* Fit to src's sample; impute: per column, fit for imputation (else NULL). */
extern FsModel *fs_model_fit(FsSource *src, const bool *impute);

/* The class of a value of modelled column col. */
extern int	fs_model_class_of(const FsModel *m, FsSource *src, int col,
							  Datum value, bool isnull);
/* Classes of column col for n rows given the columns before it. */
extern void fs_model_draw_classes(const FsModel *m, int col, int32 *classes,
								  int n, bool impute, pg_prng_state *rng);
/* A value within class cls of numeric column col. */
extern double fs_model_draw_value(const FsModel *m, int col, int cls,
								  pg_prng_state *rng);


/*
 * Outcome parity (model.c): rows whose outcome is decided after their other
 * columns.  NULL when the model has none.
 */
typedef struct FsParity FsParity;
extern FsParity *fs_model_parity_prepare(FsSource *src, const FsModel *m,
										 const FsPlan *plan);
extern void fs_model_parity_begin(const FsParity *par, int32 *row, int stride,
								  int combo, pg_prng_state *rng);
extern bool fs_model_parity_accept(const FsParity *par, const FsModel *m,
								   int32 *row, int stride, int combo,
								   pg_prng_state *rng);
extern int	fs_model_parity_from(const FsModel *m);

#endif							/* FAIRSYNTH_MODEL_H */
