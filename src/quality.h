/*-------------------------------------------------------------------------
 *
 * quality.h
 *	  shared declarations of the fairsynth_quality wing (src/quality*.c)
 *
 * Limits, the state fairsynth_quality accumulates, and the functions one
 * file of the wing calls in another.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FAIRSYNTH_QUALITY_H
#define FAIRSYNTH_QUALITY_H

#include "postgres.h"

#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "tcop/dest.h"

#define FSQ_BINS		10		/* quantile bins / most frequent values kept */
#define FSQ_SPIKE		10		/* code of the first spike (numeric columns) */
#define FSQ_CODES		22		/* codes per column: 10 bins, 10 spikes, other, NULL */
#define FSQ_OTHER		20		/* code of "_other_" */
#define FSQ_NULL		21		/* code of NULL in numeric columns */
#define FSQ_SAMPLE		5000	/* rows per relation for privacy metrics */
#define FSQ_BATCH		1000	/* rows per scroll-cursor fetch */
#define FSQ_MAX_DISTINCT (1 << 20)	/* exact pandas tie order up to this */
#define FSQ_MEM_DISTINCT (1 << 17)	/* distinct values counted in memory */
#define FSQ_MEM_TOTAL	(1 << 20)	/* ... over all columns together */
#define FSQ_MEM_BYTES	(32 * 1024 * 1024)	/* ... and their text */
#define FSQ_MAX_COLUMNS	200		/* pair counters grow with its square */
#define FSQ_TEXT_TOP_TERMS 200	/* free text: terms of text_term_accuracy */
#define FSQ_TEXT_TOP_PAIRS 20	/* ... and of text_cooc_error */

/* discriminator (gradient-boosted depth-2 trees on binned features) */
#define FSQ_GB_BINS		32		/* quantile bins / top values per feature */
#define FSQ_GB_CODES	(FSQ_GB_BINS + 2)
#define FSQ_GB_ROUNDS	60
#define FSQ_GB_RATE		0.2
#define FSQ_GB_LAMBDA	1.0
#define FSQ_GB_MINLEAF	20
#define FSQ_GB_FOLDS	5

/* utility (trtr_auc, tstr_auc): the same trees, more of them, slower */
#define FSQ_UT_SAMPLE	20000	/* rows per relation */
#define FSQ_UT_ROUNDS	150
#define FSQ_UT_RATE		0.15

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
	int			nspikes;		/* numeric: values binned on their own */
	double		spikes[FSQ_BINS];	/* ... ascending */
	int64		spike_rows[FSQ_BINS];	/* ... rows of the original holding each */
	int64		nvalid;			/* non-NULL values in the original */
	int64		nnull;			/* NULLs in the original */
	int64		maxcount;		/* rows of the most frequent value (-1: unknown) */
	bool		key;			/* a key: left out of every metric */
	bool		freetext;		/* free text: measured by quality_text.c */
	struct FsqDistinct *dist;	/* distinct values of the original */
} FsqColumn;

/* a reservoir sample of encoded rows of one relation */
typedef struct FsqSample
{
	int			size;			/* rows it can hold */
	int			n;				/* rows held */
	int64		seen;			/* rows offered */
	double	   *num;			/* n x nnum values, NaN = NULL */
	uint64	   *cat;			/* n x ncat hashes of the text output */
	pg_prng_state prng;
} FsqSample;

/* 64-bit key -> count, entries in order of first occurrence (quality_text.c) */
typedef struct FsqTextHash
{
	int64		n;				/* entries */
	int64		alloc;
	int64		nslots;			/* a power of 2 */
	int64	   *slots;			/* entry + 1, 0 = empty */
	uint64	   *keys;
	int64	   *counts;
} FsqTextHash;

/* a free-text column and its measures (quality_text.c); [0] original, [1] other */
typedef struct FsqTextCol
{
	char	   *name;
	char	   *expr;			/* SQL expression reading the column */
	FsqTextHash *terms;			/* terms of the original */
	FsqTextHash *lens;			/* lengths (characters) of the original */
	FsqTextHash *chars[2];		/* characters */
	int32	   *toppos;			/* per term entry: rank among the 200, or -1 */
	int32	   *pairpos;		/* ... among the 20, or -1 */
	int			ntop;
	int			npairs;
	int64		termtotal[2];	/* term occurrences */
	int64		topcount[2][FSQ_TEXT_TOP_TERMS];	/* ... of the 200 most frequent */
	int64		cooc_a[2][FSQ_TEXT_TOP_PAIRS];	/* rows with term a */
	int64		cooc_ab[2][FSQ_TEXT_TOP_PAIRS][FSQ_TEXT_TOP_PAIRS]; /* ... and term b */
	int			nbreaks;		/* unique length deciles of the original */
	double		breaks[FSQ_BINS + 1];
	int64		lenbin[2][FSQ_BINS + 1];	/* rows per length bin */
	int64		rows[2];
	double		term_accuracy;
	double		char_accuracy;
	double		length_accuracy;
	double		cooc_error;
	bool		cooc_null;		/* a single term: no pair */
	double		exact_match;
	double		exact_match_holdout;
} FsqTextCol;

/* everything fairsynth_quality accumulates */
typedef struct FsqState
{
	int			ncols;
	FsqColumn  *cols;
	int			nnum;
	int			ncat;
	int			npairs;
	Oid			relid;			/* the original */
	const char *relname[3];
	int64		nrows[3];
	int64	   *uni[3];			/* ncols x FSQ_CODES counts */
	int64	   *biv[3];			/* npairs x FSQ_CODES^2 counts */
	FsqSample	sample[3];		/* privacy and discriminator */
	bool		utility;		/* trtr_auc / tstr_auc asked for */
	FsqSample	usample[3];		/* ... their larger samples */
	int			ntexts;			/* free-text columns, not in cols */
	FsqTextCol *texts;
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

/* a row of a reservoir sample */
typedef struct FsqRowRef
{
	const FsqSample *sample;
	int			row;
} FsqRowRef;

/* the label of trtr_auc / tstr_auc and its favorable value */
typedef struct FsqLabel
{
	int			col;			/* index in FsqState.cols */
	bool		numeric;
	double		num;			/* favorable value of a numeric label */
	uint64		hash;			/* ... hash of its text otherwise */
	char	   *favorable;		/* as text */
} FsqLabel;

/* a numeric / categorical (hash) value of a column in a sample row */
#define FSQ_NUM(st, r, col) \
	((r)->sample->num[(int64) (r)->row * (st)->nnum + (col)->slot])
#define FSQ_CAT(st, r, col) \
	((r)->sample->cat[(int64) (r)->row * (st)->ncat + (col)->slot])

/* quality_scan.c */
extern const char *fsq_relname(Oid relid);
extern FsqDesc fsq_describe(const char *relname);
extern void fsq_check_columns(FsqState *st, const char *relname, const char *role);
extern void fsq_scan(FsqState *st, int rel, FsqPass pass);

/* quality_bin.c */
extern void fsq_init_columns(FsqState *st);
extern double fsq_lerp(double a, double b, double t);
extern int fsq_cmp_double(const void *a, const void *b);
extern void fsq_sql_breaks(FsqState *st);
extern FsqDistinct *fsq_distinct_create(bool numeric, int64 *total, int64 *total_bytes);
extern void fsq_distinct_breaks(FsqColumn *col);
extern void fsq_distinct_top(FsqColumn *col);
extern void fsq_top_values(FsqState *st, FsqColumn *col);
extern void fsq_alloc_rel(FsqState *st, int rel, int64 seed);
extern void fsq_row_distinct(FsqReceiver *r, TupleTableSlot *slot);
extern void fsq_row_bin(FsqReceiver *r, TupleTableSlot *slot);
extern double fsq_accuracy(const int64 *a, int64 na, const int64 *b, int64 nb, int len);
extern double fsq_overall(FsqState *st, int rel, double *mu, double *mb);
extern void fsq_declared_keys(FsqState *st);
extern bool fsq_sql_all_distinct(FsqState *st, const FsqColumn *col);
extern void fsq_drop_keys(FsqState *st);

/* quality_privacy.c */
extern int *fsq_subsample(pg_prng_state *prng, int r, int n);
extern void fsq_privacy(FsqState *st, double *dcr, double *exact, double *nndr, bool *nndr_null);

/* quality_gb.c */
extern void fsq_boost(const FsqGbData *d, const int *train, int ntrain,
		  const int *test, int ntest, double *score, int rounds, double rate);
extern void fsq_gb_features(FsqState *st, const FsqRowRef *rows, int n, int nfit, int skip,
				FsqGbData *d);
extern double fsq_auc(const double *score, const double *y, int n);
extern double fsq_discriminator(FsqState *st, int64 seed, bool *isnull);

/* quality_utility.c */
extern void fsq_label_init(FsqState *st, const char *label, const char *favorable,
						   FsqLabel *lab);
extern double fsq_utility_auc(FsqState *st, int rel, const FsqLabel *lab, bool *isnull);

/* quality_text.c */
extern void fsq_text_detect(FsqState *st);
extern void fsq_text_measure(FsqState *st, bool has_holdout);

#endif							/* FAIRSYNTH_QUALITY_H */
