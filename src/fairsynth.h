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
 *   generate.c draw rows from the model, chunk by chunk (generate.h), and
 *             hand them out as a relation;
 *   parallel.c make chunks in parallel workers;
 *   stream.c  in FROM, a custom scan that streams the chunks as they come.
 */
#ifndef FAIRSYNTH_H
#define FAIRSYNTH_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "common/pg_prng.h"
#include "utils/jsonb.h"
#include "utils/guc.h"
#include "utils/relcache.h"
#include "utils/tuplestore.h"

/* GUCs (fairsynth.c) */
extern int	fairsynth_max_combinations;
extern int	fairsynth_max_rows;
extern int	fairsynth_rare_threshold;
extern int	fairsynth_sample_rows;
extern int	fairsynth_max_sample_rows;
extern void fs_check_settings(void);
extern void fs_define_int(const char *name, const char *short_desc,
						  const char *long_desc, int *var, int boot, int min,
						  int max, GucContext context, int flags);

/* sanitizer build support (asan.c; empty unless built with make ASAN=1) */
extern void fs_asan_init(void);
#ifdef FAIRSYNTH_ASAN
extern void fs_asan_entry(void);
/* run stmt; an error leaving it cleans the stack it abandoned (asan.c) */
#define FS_ASAN_CALL(stmt) \
	do { \
		PG_TRY(); \
		{ \
			stmt; \
		} \
		PG_CATCH(); \
		{ \
			fs_asan_entry(); \
			PG_RE_THROW(); \
		} \
		PG_END_TRY(); \
	} while (0)
#else
#define fs_asan_entry() ((void) 0)
#define FS_ASAN_CALL(stmt) do { stmt; } while (0)
#endif

/* How a column takes part in the model. */
typedef enum FsKind
{
	FS_CAT,						/* categorical: a dictionary of values */
	FS_NUM,						/* numeric, date or time: bins, smoothed */
	FS_KEY,						/* key: not modelled, fresh values */
	FS_TEXTFREE					/* free text: token n-grams (text.c) */
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
	/* keys.c: columns whose values are not data */
	bool		generated;		/* GENERATED ALWAYS AS (...) STORED: computed
								 * from the generated row (type FS_UUID: never
								 * read as a value) */
	Oid			seqid;			/* the sequence an identity column or a
								 * nextval() default draws from, or 0 */
	void	   *exprstate;		/* ExprState of the default (sequence keys)
								 * or of the generation expression */
	int64		seq_row;		/* row (1-based) seq_value was drawn for */
	Datum		seq_value;
	void	   *shard_keys;		/* shard_keys.c: keys of one Citus shard, or NULL */
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
	bool		free_text_given;	/* free text named by the call (text.c) */
	int64		nrows;			/* rows of the whole relation */
	uint64		fingerprint;	/* hash of every row read, in order */
	int			nsample;		/* rows kept in the sample */
	double	   *sample;			/* nsample x ncols; NaN is NULL; codes for
								 * categorical columns */
	/* exact counts of the balance columns' observed combinations */
	int			ncombos;
	int32	   *combo_codes;	/* ncombos x nbalance codes, -1 = NULL */
	int64	   *combo_counts;
	void	   *keys;			/* keys.c: the generated columns' state */
} FsSource;

extern void fs_describe_relation(FsSource *src, Oid relid, ArrayType *columns,
								 const char *outcome);
extern void fs_scan_relation(FsSource *src, bool sample);
extern int	fs_find_column(FsSource *src, const char *name);
extern void fs_scan_from_read(FsSource *src, int64 nrows, int ncombos, char **keys,
							  const int *lens, const int64 *counts, int nsample,
							  Datum **rowvalues, bool **rownulls);
extern void fs_read_key_maxima(FsSource *src);
extern char *fs_select_all(FsSource *src);

/* Sequence keys, generated columns and helpful errors (keys.c). */
extern void fs_keys_describe(FsSource *src, Relation rel);
extern Datum fs_sequence_next(FsColumn *col, int64 i);
extern Datum fs_int_key_datum(FsColumn *col, int64 v, bool overflow, int64 after);
extern void fs_fill_generated(FsSource *src, Datum *values, bool *nulls);
extern uint64 fs_key_random(void);
extern void fs_check_select_privilege(Oid relid, const char *relname);

/* The integer keys of a Citus shard's rows (shard_keys.c). */
extern void fs_shard_keys_set(FsSource *src, const char *column, int64 after,
							  int32 hash_min, int32 hash_max,
							  int nnode, const int32 *node_mins, const int32 *node_maxs);
extern Datum fs_shard_key_next(FsColumn *col, int64 i);
extern char *fs_column_suggestions(FsSource *src, const char *name);
extern void fs_error_missing_columns(FsSource *src, char **names, int n,
									 const char *what);

/* Argument checks shared by the SQL functions (balance.c; more in args.h). */
extern Oid	fs_relation_of_row_type(FunctionCallInfo fcinfo);
extern FsType fs_type_of(Oid typid, const char *colname);
extern int *fs_output_map(FsSource *src, TupleDesc outdesc, bool named);
extern bool fs_type_supported(Oid typid);

/* Value conversion (value.c). */
extern bool fs_is_categorical_type(FsType t);
extern double fs_datum_to_double(Datum d, FsColumn *col);
extern int	fs_datum_key(Datum d, FsColumn *col, char *buf, const char **key);
extern int	fs_key_compare(const char *a, int la, const char *b, int lb, FsColumn *col);
extern Datum fs_double_to_datum(double v, FsColumn *col);
extern Datum fs_key_to_datum(const char *key, int len, FsColumn *col);
extern char *fs_key_to_text(const char *key, int len, FsColumn *col);

/* A fitted model: one block of memory (model.h). */
typedef struct FsModel FsModel;

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

/* The cache key of src's model, and a kept model's columns (balance.c). */
extern void fs_model_key(FsSource *src, FsModelKey *key);
extern void fs_adopt_model_columns(FsSource *src, const FsModel *m);

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
	bool		additive;		/* rows to append to the source */
	int64	   *whole_counts;	/* one part of a plan (sample.c): the whole
								 * plan's counts; NULL: counts */
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
/* A uniform double in [0, 1) from the 53 high bits of a random word. */
static inline double
fs_bits01(uint64 bits)
{
	return (double) (bits >> 11) * (1.0 / 9007199254740992.0);
}

static inline double
fs_rand01(pg_prng_state *rng)
{
	return fs_bits01(pg_prng_uint64(rng));
}

/* One value of a column from its class (generate.c); false if NULL. */
extern bool fs_value_of_class(FsSource *src, const FsModel *m, int c, int cls,
							  pg_prng_state *rng, Datum *value);

/* Seeding (generate.c). */
extern void fs_seed_rng(pg_prng_state *rng, bool isnull, int64 seed);

#endif							/* FAIRSYNTH_H */
