/*
 * fairsynth.h: shared declarations of the fairsynth extension.
 *
 * The pipeline of every generating function is
 *   scan.c    read the relation through SPI as the calling role into a
 *             bounded reservoir sample plus exact counts of the balance
 *             columns' value combinations;
 *   model.c   fit a conditional synthesizer (one classification tree per
 *             column, conditioned on the columns before it) into one
 *             pointer-free block (offsets, never pointers);
 *   plan.c    turn mode, num_rows and target into exact per-combination
 *             row counts;
 *   generate.c draw rows from the model and hand them out as a relation.
 */
#ifndef FAIRSYNTH_H
#define FAIRSYNTH_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "common/pg_prng.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

/* GUCs (fairsynth.c) */
extern int	fairsynth_max_combinations;
extern int	fairsynth_max_rows;
extern int	fairsynth_rare_threshold;
extern int	fairsynth_sample_rows;
extern int	fairsynth_max_sample_rows;

/* sanitizer build support (asan.c; empty unless built with make ASAN=1) */
extern void fs_asan_init(void);

/* How a column takes part in the model. */
typedef enum FsKind
{
	FS_CAT,						/* categorical: a dictionary of values */
	FS_NUM,						/* numeric, date or time: bins, smoothed */
	FS_KEY						/* key: not modelled, fresh values */
} FsKind;

/* The storage type of a column, which fixes how values are encoded. */
typedef enum FsType
{
	FS_TEXT,					/* text, varchar, char */
	FS_BOOL,
	FS_ENUM,
	FS_INT2,
	FS_INT4,
	FS_INT8,
	FS_FLOAT4,
	FS_FLOAT8,
	FS_NUMERIC,
	FS_DATE,
	FS_TIMESTAMP,
	FS_TIMESTAMPTZ,
	FS_UUID
} FsType;

/* A byte-key dictionary mapping values to dense codes (dict.c). */
typedef struct FsDict FsDict;

extern uint64 fs_hash_bytes(const void *p, int len, uint64 seed);

/* The bits of x, with -0 as 0 (equal doubles, equal bits; x not NaN). */
static inline uint64
fs_double_bits(double x)
{
	uint64		bits;

	if (x == 0)
		x = 0;
	memcpy(&bits, &x, sizeof(bits));
	return bits;
}
extern FsDict *fs_dict_create(int initial);
extern int	fs_dict_lookup(FsDict *d, const char *key, int len, bool add);
extern int	fs_dict_size(FsDict *d);
extern const char *fs_dict_key(FsDict *d, int code, int *len);
extern int64 *fs_dict_counts(FsDict *d);

/* One column of the source relation, as read. */
typedef struct FsColumn
{
	char	   *name;
	AttrNumber	attnum;			/* in the relation */
	Oid			typid;
	int32		typmod;
	bool		notnull;
	FsType		type;
	FsKind		kind;
	FsKind		described_kind; /* kind before the read found keys among the
								 * columns whose values are all distinct */
	int			balance_pos;	/* position in the balance list, or -1 */
	bool		declared_key;	/* single-column primary key or unique index */
	FsDict	   *dict;			/* categorical and balance columns */
	int			max_scale;		/* numeric: largest scale seen */
	int64		max_int;		/* integer keys: largest value, if has_max */
	bool		has_max;
	int64		granule;		/* timestamps: coarsest unit all values share */
	int64		nulls;			/* NULLs over the whole relation */
	int		   *class_of_code;	/* categorical: dictionary code -> model class */
} FsColumn;

/* What the scan of a relation yields (scan.c). */
typedef struct FsSource
{
	Oid			relid;
	char	   *relname;		/* quoted, qualified as needed */
	int			ncols;
	FsColumn   *cols;
	int			nbalance;
	int		   *balance;		/* column index of each balance column; the
								 * outcome, if any, is the last of them */
	int			outcome;		/* column index of the outcome, or -1 */
	int64		nrows;			/* rows of the whole relation */
	uint64		fingerprint;	/* hash of every row read, in order */
	int			nsample;		/* rows kept in the sample */
	double	   *sample;			/* nsample x ncols; NaN is NULL; codes for
								 * categorical columns */
	/* exact counts of the balance columns' observed combinations */
	int			ncombos;
	int32	   *combo_codes;	/* ncombos x nbalance codes, -1 = NULL */
	int64	   *combo_counts;
} FsSource;

extern void fs_describe_relation(FsSource *src, Oid relid, ArrayType *columns,
								 const char *outcome);
extern void fs_scan_relation(FsSource *src, bool sample);
extern void fs_read_key_maxima(FsSource *src);
extern char *fs_select_all(FsSource *src);

/* Argument checks shared by the SQL functions (balance.c). */
extern Oid	fs_relation_of_row_type(FunctionCallInfo fcinfo);
extern void fs_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern FsType fs_type_of(Oid typid, const char *colname);

/* Value conversion (value.c). */
extern bool fs_is_categorical_type(FsType t);
extern double fs_datum_to_double(Datum d, FsColumn *col);
extern int	fs_datum_key(Datum d, FsColumn *col, char *buf, const char **key);
extern int	fs_key_compare(const char *a, int la, const char *b, int lb, FsColumn *col);
extern Datum fs_double_to_datum(double v, FsColumn *col);
extern Datum fs_key_to_datum(const char *key, int len, FsColumn *col);
extern char *fs_key_to_text(const char *key, int len, FsColumn *col);

/*
 * The fitted model: one palloc'd block addressed by byte offsets from its
 * start, so it can be copied to shared memory or stored as bytea as is.
 */
typedef uint32 FsOff;

#define FS_AT(model, off, type) ((type *) ((char *) (model) + (off)))

typedef struct FsModel
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
} FsModel;

/*
 * The copy guard's key of a row from its signature: per column the class
 * (categorical) or the value (numeric), FS_SIG_NULL for NULL, 0 for a key.
 * Two different rows share a key with probability about 2^-64 per pair; the
 * only effect would be one row drawn again.
 */
#define FS_SIG_NULL (-1e300)
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

#define FS_MODEL_MAGIC 0x46534D35	/* "FSM5" */

/* Where the walks of one balance combination start in a tree. */
typedef struct FsStart
{
	int32		node;			/* first node that does not split on the
								 * combination */
	int32		depth;			/* longest path from node to a leaf */
} FsStart;

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

typedef struct FsModelColumn
{
	int32		kind;			/* FsKind */
	int32		type;			/* FsType */
	int32		nclass;			/* classes incl. the NULL class */
	int32		null_class;		/* class that means NULL, or -1 */
	int32		rare_class;		/* class that merges rare values, or -1 */
	int32		is_integer;		/* numeric values must be whole */
	FsOff		classes;		/* categorical: FsCategory[nclass];
								 * numeric: FsBin[nclass] */
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

/* A growing block whose parts are addressed by offsets (model.c). */
typedef struct FsBuf
{
	char	   *data;
	Size		len;
	Size		cap;
} FsBuf;

extern FsOff fs_buf_alloc(FsBuf *buf, Size size);

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
	int			exclude_class;	/* leave out rows of this target class, or -1 */
	const double *target_value; /* per target class: its value (variance
								 * reduction), or NULL (Gini) */
} FsTreeInput;

extern void fs_tree_fit(FsBuf *buf, const FsTreeInput *in, double smoothing,
						FsTree *tree);
extern void fs_tree_draw_batch(const char *base, const FsTree *tree,
							   int32 *classes, int stride, int n, int target,
							   int skip, pg_prng_state *rng);

extern FsModel *fs_model_fit(FsSource *src, const bool *impute);
extern int	fs_model_class_of(const FsModel *m, FsSource *src, int col,
							  Datum value, bool isnull);
extern void fs_model_draw_classes(const FsModel *m, int col, int32 *classes,
								  int n, bool impute, pg_prng_state *rng);
extern double fs_model_draw_value(const FsModel *m, int col, int cls,
								  pg_prng_state *rng);

/* What a fitted model depends on (cache.c). */
typedef struct FsModelKey
{
	Oid			relid;
	Oid			userid;
	uint64		fingerprint;	/* hash of every row read, in order */
	int64		nrows;
	int			sample_rows;
	int			rare_threshold;
	char	   *shape;			/* every column's attnum, type, typmod, kind
								 * as described (before the read finds keys),
								 * balance position and NOT NULL */
} FsModelKey;

extern FsModel *fs_cache_lookup(const FsModelKey *key);
extern bool fs_cache_expects(const FsModelKey *key);
extern void fs_cache_bet(const FsModelKey *key, bool won);
extern void fs_cache_store(const FsModelKey *key, const FsModel *model);

/* The same models in shared memory, for every session (store.c). */
extern int	fairsynth_model_store_size;
extern void fs_store_init(void);
extern FsModel *fs_store_lookup(const FsModelKey *key);
extern bool fs_store_expects(const FsModelKey *key);
extern void fs_store_put(const FsModelKey *key, const FsModel *model);

/* Exact row counts per combination of balance values (plan.c). */
typedef struct FsPlan
{
	int			ncombos;		/* K: the cartesian product */
	int64	   *counts;			/* rows to generate per combination */
	int64		total;
	int			unseen;			/* combinations absent from the source */
} FsPlan;

extern FsPlan *fs_plan_make(FsSource *src, bool additive, int64 num_rows,
							bool num_rows_given, Jsonb *target);
extern void fs_combo_decode(FsSource *src, int combo, int32 *codes);
extern int	fs_combo_encode(FsSource *src, const int32 *codes);
extern char *fs_balance_names(FsSource *src);
extern void fs_check_num_rows(int64 n);

/* Row generation (generate.c). */
/* check.c: CHECK constraints on generated rows */
typedef struct FsChecks FsChecks;
extern FsChecks *fs_checks_prepare(FsSource *src);
extern const char *fs_checks_violated(FsChecks *chk, const Datum *values,
									  const bool *nulls, int ncols);

extern void fs_generate(FsSource *src, FsModel *model, FsPlan *plan,
						bool impute, TupleDesc outdesc, const int *outmap,
						Tuplestorestate *store, pg_prng_state *rng);

/* A uniform double in [0, 1): pg_prng_double without the libm call. */
static inline double
fs_rand01(pg_prng_state *rng)
{
	return (double) (pg_prng_uint64(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* One value of a column from its class (generate.c); false if NULL. */
extern bool fs_value_of_class(FsSource *src, const FsModel *m, int c, int cls,
							  pg_prng_state *rng, Datum *value);

/* Seeding (generate.c). */
extern void fs_seed_rng(pg_prng_state *rng, bool isnull, int64 seed);

#endif							/* FAIRSYNTH_H */
