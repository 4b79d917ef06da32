/*
 * scan.c: describe a relation and read it through the executor.
 *
 * The relation is read with SPI as the calling role, so privileges and
 * row-level security apply to fairsynth exactly as to a SELECT.  One pass
 * keeps a uniform reservoir sample of at most fairsynth.sample_rows rows
 * (the synthesizer learns from it: memory is bounded whatever the table
 * size) and counts every combination of the balance columns' values over all
 * rows (so balancing is exact).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "common/hashfn.h"
#include "catalog/pg_index.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "utils/memutils.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "fairsynth.h"
#include "progress.h"
#include "text.h"

#define FS_FETCH_ROWS 1000
#define FS_MIN_ROWS_FOR_DISTINCT_KEY 20
#define FS_SAMPLE_SEED UINT64CONST(0x66616972)

/* Mark columns that are a single-column primary key or unique index. */
static void
fs_mark_declared_keys(FsSource *src, Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (idx->indisunique && idx->indnatts == 1 && idx->indkey.values[0] > 0 &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			for (int i = 0; i < src->ncols; i++)
				if (src->cols[i].attnum == idx->indkey.values[0])
					src->cols[i].declared_key = true;
		}
		ReleaseSysCache(tup);
	}
	list_free(indexes);
}

/* Find the column named name, or -1. */
int
fs_find_column(FsSource *src, const char *name)
{
	for (int i = 0; i < src->ncols; i++)
		if (strcmp(src->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* Make column c a balance column (the combinations are built over them). */
static void
fs_add_balance(FsSource *src, int c, const char *argname)
{
	FsColumn   *col = &src->cols[c];

	if (col->balance_pos >= 0)
		ereport(ERROR,
				(errcode(src->outcome == c ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_DUPLICATE_COLUMN),
				 errmsg(src->outcome == c ? "outcome column \"%s\" is also a balance column"
						: "column \"%s\" is named more than once in %s",
						col->name, argname),
				 src->outcome == c ? errhint("The outcome is made independent of the balance columns; it cannot be one of them.") : 0));
	if (col->generated)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" is generated from other columns (GENERATED ALWAYS AS ... STORED), so it cannot be balanced",
						col->name),
				 errhint("Balance the columns it is computed from, or a view that has its values as an ordinary column.")));
	if (col->kind == FS_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" is a key (%s), so it cannot be balanced",
						col->name, col->exprstate != NULL ? "its values come from a sequence" :
						col->type == FS_UUID ? "uuid" : "primary key or unique"),
				 errhint("Balance columns and outcomes are categories shared by many rows, such as race or gender.")));
	col->balance_pos = src->nbalance;
	col->kind = FS_CAT;
	src->balance[src->nbalance++] = c;
}

/*
 * Fill src with the relation's columns, the balance columns named in columns
 * (NULL: none) and the outcome (NULL: none), which is kept as the last
 * balance column.  Errors name the offending value.
 */
void
fs_describe_relation(FsSource *src, Oid relid, ArrayType *columns,
					 const char *outcome)
{
	const char *argname = "columns";

	Relation	rel;
	TupleDesc	desc;
	char		relkind = get_rel_relkind(relid);
	int		   *unsupported;
	int			nunsupported = 0;

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view, materialized view or foreign table",
						get_rel_name(relid))));

	fs_check_settings();
	memset(src, 0, sizeof(FsSource));
	src->relid = relid;
	src->outcome = -1;
	src->relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  get_rel_name(relid));
	/* before anything else: a clear error, not the read's internal query */
	fs_check_select_privilege(relid, src->relname);

	rel = relation_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	src->cols = palloc0(sizeof(FsColumn) * desc->natts);
	unsupported = palloc0(sizeof(int) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		FsColumn   *col;

		if (att->attisdropped)
			continue;
		col = &src->cols[src->ncols++];
		col->name = pstrdup(NameStr(att->attname));
		col->attnum = att->attnum;
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		col->notnull = att->attnotnull;
		/* a generated column is computed, never read as a value (keys.c) */
		if (att->attgenerated)
			col->type = FS_UUID;
		else if (fs_type_supported(att->atttypid))
			col->type = fs_type_of(att->atttypid, col->name);
		else
			unsupported[nunsupported++] = src->ncols - 1;
		col->balance_pos = -1;
		col->granule = USECS_PER_DAY;
	}
	if (src->ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no columns", src->relname)));
	/* every column of an unsupported type at once */
	if (nunsupported == 1)
		(void) fs_type_of(src->cols[unsupported[0]].typid, src->cols[unsupported[0]].name);
	else if (nunsupported > 1)
	{
		StringInfoData list;

		initStringInfo(&list);
		for (int j = 0; j < nunsupported; j++)
			appendStringInfo(&list, "%s\"%s\" (%s)", j > 0 ? ", " : "",
							 src->cols[unsupported[j]].name,
							 format_type_be(src->cols[unsupported[j]].typid));
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%d columns of relation %s have types fairsynth does not support: %s",
						nunsupported, src->relname, list.data),
				 errhint("Supported types are text, varchar, char, boolean, smallint, integer, bigint, real, double precision, numeric, date, timestamp, timestamptz, enums and uuid. Balance a view that leaves these columns out or casts them.")));
	}
	if (rel->rd_rel->relhasindex)
		fs_mark_declared_keys(src, rel);

	for (int i = 0; i < src->ncols; i++)
	{
		FsColumn   *col = &src->cols[i];

		/* keys get fresh values; other unique columns are modelled */
		if (col->type == FS_UUID ||
			(col->declared_key && (col->type == FS_TEXT || col->type == FS_INT2 ||
								   col->type == FS_INT4 || col->type == FS_INT8)))
			col->kind = FS_KEY;
		else
			col->kind = fs_is_categorical_type(col->type) ? FS_CAT : FS_NUM;
	}
	/* sequence-fed and generated columns are keys too (keys.c) */
	fs_keys_describe(src, rel);
	/* keep the lock: the columns must not change before the read */
	relation_close(rel, NoLock);

	src->balance = palloc(sizeof(int) * (src->ncols + 1));
	if (columns != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		char	  **missing;
		int			nmissing = 0;

		deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must name at least one column", argname),
					 errhint("For a synthetic copy without balancing use fairsynth_synthesize().")));
		/* every misspelled name at once, with the nearest column names */
		missing = palloc(sizeof(char *) * (n + 1));
		for (int j = 0; j < n; j++)
		{
			if (nulls[j])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s must not contain NULL (element %d)", argname, j + 1)));
			if (fs_find_column(src, TextDatumGetCString(elems[j])) < 0)
				missing[nmissing++] = TextDatumGetCString(elems[j]);
		}
		if (outcome != NULL && fs_find_column(src, outcome) < 0 && nmissing > 0)
			missing[nmissing++] = pstrdup(outcome);
		fs_error_missing_columns(src, missing, nmissing, "column");
		for (int j = 0; j < n; j++)
			fs_add_balance(src, fs_find_column(src, TextDatumGetCString(elems[j])), argname);
	}
	if (outcome != NULL)
	{
		int			c = fs_find_column(src, outcome);

		if (c < 0)
			fs_error_missing_columns(src, (char **) &outcome, 1, "outcome column");
		src->outcome = c;
		fs_add_balance(src, c, "columns");
	}
	for (int i = 0; i < src->ncols; i++)
		src->cols[i].described_kind = src->cols[i].kind;
}

/* Compare two balance keys of a column by value (for a stable code order). */
static FsColumn *fs_sort_col;
static FsDict *fs_sort_dict;

static int
fs_key_cmp(const void *a, const void *b)
{
	int			la,
				lb;
	const char *ka = fs_dict_key(fs_sort_dict, *(const int *) a, &la);
	const char *kb = fs_dict_key(fs_sort_dict, *(const int *) b, &lb);

	return fs_key_compare(ka, la, kb, lb, fs_sort_col);
}

/*
 * Renumber a balance column's codes in value order, so results do not depend
 * on the order rows were read in; returns the old-to-new code map.
 */
static int *
fs_sort_dictionary(FsColumn *col)
{
	int			n = fs_dict_size(col->dict);
	int		   *order = palloc(sizeof(int) * n);
	int		   *map = palloc(sizeof(int) * n);
	FsDict	   *sorted = fs_dict_create(n);
	int64	   *oldcounts = fs_dict_counts(col->dict);

	for (int i = 0; i < n; i++)
		order[i] = i;
	fs_sort_col = col;
	fs_sort_dict = col->dict;
	qsort(order, n, sizeof(int), fs_key_cmp);
	for (int i = 0; i < n; i++)
	{
		int			len;
		const char *key = fs_dict_key(col->dict, order[i], &len);

		map[order[i]] = fs_dict_lookup(sorted, key, len, true);
		fs_dict_counts(sorted)[map[order[i]]] = oldcounts[order[i]];
	}
	col->dict = sorted;
	return map;
}

/* Store one row of the relation as row slot of the sample. */
static void
fs_sample_row(FsSource *src, double *row, Datum *values, bool *isnull,
			  const int32 *bcodes)
{
	for (int i = 0; i < src->ncols; i++)
	{
		FsColumn   *col = &src->cols[i];

		if (isnull[i])
			row[i] = NAN;
		else if (col->balance_pos >= 0)
			row[i] = bcodes[col->balance_pos] < 0 ? NAN : bcodes[col->balance_pos];
		else if (col->type == FS_UUID)
			row[i] = 0;
		else if (fs_is_categorical_type(col->type))
		{
			char		buf[8];
			const char *key;
			int			len = fs_datum_key(values[i], col, buf, &key);

			row[i] = fs_dict_lookup(col->dict, key, len, true);
		}
		else
			row[i] = fs_datum_to_double(values[i], col);
	}
}

/*
 * Stop reading as soon as the balance columns' values make more combinations
 * than fairsynth.max_combinations: memory stays bounded by that limit.
 */
static void
fs_check_combinations(FsSource *src)
{
	double		k = 1;

	for (int b = 0; b < src->nbalance; b++)
		k *= Max(fs_dict_size(src->cols[src->balance[b]].dict), 1);
	if (k > fairsynth_max_combinations)
	{
		char		atleast[32];

		/* exact up to 10^15, then three significant digits, never 300 */
		snprintf(atleast, sizeof(atleast), k < 1e15 ? "%.0f" : "%.3g", k);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("balancing on %s would make at least %s combinations, more than fairsynth.max_combinations (%d)",
						fs_balance_names(src), atleast, fairsynth_max_combinations),
				 errhint("Balance on fewer columns, bin a column in a view, or raise fairsynth.max_combinations.")));
	}
}

/*
 * The code of a balance column's value (key: its len key bytes), counted
 * once more; a value new to the column may make too many combinations.
 */
static int
fs_balance_code(FsSource *src, FsColumn *col, const char *key, int len)
{
	int			before = fs_dict_size(col->dict);
	int			code = fs_dict_lookup(col->dict, key, len, true);

	if (fs_dict_size(col->dict) > before)
		fs_check_combinations(src);
	return code;
}

/*
 * The largest value of every integer key over the whole relation (fresh keys
 * continue after it), read with one more query: an index makes it instant.
 */
void
fs_read_key_maxima(FsSource *src)
{
	for (int i = 0; i < src->ncols; i++)
	{
		FsColumn   *col = &src->cols[i];
		char	   *sql;
		bool		isnull;
		Datum		d;

		if (col->kind != FS_KEY || col->exprstate != NULL ||
			!(col->type == FS_INT2 || col->type == FS_INT4 || col->type == FS_INT8))
			continue;
		/* qualified: the caller's search_path must not pick another max */
		sql = psprintf("SELECT pg_catalog.max(%s)::pg_catalog.int8 FROM %s",
					   quote_identifier(col->name), src->relname);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read the largest value of column \"%s\"", col->name);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			col->max_int = DatumGetInt64(d);
			col->has_max = true;
		}
		SPI_finish();
	}
}

/*
 * Whether the sampled values of column c are all distinct and non-NULL: a
 * category column of a table that fits the sample has as many values as
 * rows; otherwise the values (or codes) go into a hash set that stops at the
 * first repeat (for most columns, within a few rows).
 */
static bool
fs_all_distinct(FsSource *src, int c)
{
	int			n = src->nsample;
	int			cap = 64;
	uint64	   *set;
	bool		distinct = true;

	if (n < FS_MIN_ROWS_FOR_DISTINCT_KEY)
		return false;
	/* a dictionary that never saw a row leave the sample has its values */
	if (src->cols[c].dict != NULL && src->nrows == n)
		return fs_dict_size(src->cols[c].dict) == n;
	while (cap < 2 * n)
		cap *= 2;
	/* a value's bits, plus one so that 0 marks an empty slot */
	set = palloc0(sizeof(uint64) * cap);
	for (int r = 0; r < n && distinct; r++)
	{
		double		x = src->sample[(int64) r * src->ncols + c];
		uint64		bits;
		uint32		i;

		if (isnan(x))
		{
			distinct = false;
			break;
		}
		bits = fs_double_bits(x) + 1;
		i = (uint32) fs_hash_bytes(&bits, sizeof(bits), 0) & (cap - 1);
		while (set[i] != 0 && set[i] != bits)
			i = (i + 1) & (cap - 1);
		distinct = set[i] == 0;
		set[i] = bits;
	}
	pfree(set);
	return distinct;
}

/* The query that reads every column of the relation, identifiers quoted. */
char *
fs_select_all(FsSource *src)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < src->ncols; i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(src->cols[i].name));
	appendStringInfo(&sql, " FROM %s", src->relname);
	return sql.data;
}

/* The state of one read of the relation. */
typedef struct FsScanState
{
	DestReceiver pub;			/* receives the rows of the query */
	FsSource   *src;
	pg_prng_state rng;			/* reservoir sampling */
	MemoryContext rowctx;		/* reset every FS_FETCH_ROWS rows */
	int32	   *bcodes;			/* the row's balance codes */
	FsDict	   *combos;			/* observed combinations of balance codes */
	int64		seen;
	int			cap;			/* fairsynth.sample_rows */
	int			alloc;			/* sample rows allocated */
	int			last_balance;	/* highest column index of a balance column */
} FsScanState;

/* Take one row: count its balance combination, maybe keep it in the sample. */
static bool
fs_scan_receive(TupleTableSlot *tslot, DestReceiver *self)
{
	FsScanState *st = (FsScanState *) self;
	FsSource   *src = st->src;
	int			ncols = src->ncols;
	MemoryContext oldctx = MemoryContextSwitchTo(st->rowctx);
	bool		shouldfree;
	HeapTuple	tuple = ExecFetchSlotHeapTuple(tslot, false, &shouldfree);
	Datum	   *values;
	bool	   *isnull;
	int64		slot;

	/* the fingerprint covers the row's null bitmap and data */
	src->fingerprint = hash_combine64(src->fingerprint,
									  fs_hash_bytes(tuple->t_data->t_bits,
													tuple->t_len - offsetof(HeapTupleHeaderData, t_bits),
													0));
	/* a tuple without a null bitmap that has every column has no NULL */
	if (HeapTupleHasNulls(tuple) || HeapTupleHeaderGetNatts(tuple->t_data) < ncols)
		for (int i = 0; i < ncols; i++)
			if (heap_attisnull(tuple, i + 1, tslot->tts_tupleDescriptor))
				src->cols[i].nulls++;
	if (shouldfree)
		heap_freetuple(tuple);

	/* balance columns: every row */
	slot_getsomeattrs(tslot, st->last_balance + 1);
	values = tslot->tts_values;
	isnull = tslot->tts_isnull;
	for (int b = 0; b < src->nbalance; b++)
	{
		int			c = src->balance[b];
		FsColumn   *col = &src->cols[c];

		if (isnull[c])
			st->bcodes[b] = -1;
		else
		{
			char		buf[8];
			const char *key;
			int			len = fs_datum_key(values[c], col, buf, &key);

			st->bcodes[b] = len < 0 ? -1 :	/* NaN or infinite: missing */
				fs_balance_code(src, col, key, len);
		}
	}
	if (src->nbalance > 0)
		fs_dict_lookup(st->combos, (const char *) st->bcodes,
					   sizeof(int32) * src->nbalance, true);

	/* reservoir sample (algorithm R) */
	slot = -1;
	if (st->seen < st->cap)
	{
		if (st->seen == st->alloc)
		{
			st->alloc = Min((int64) st->alloc * 2, st->cap);
			src->sample = repalloc_huge(src->sample,
										sizeof(double) * (Size) st->alloc * ncols);
		}
		slot = st->seen;
	}
	else if (st->cap > 0)
	{
		slot = (int64) pg_prng_uint64_range(&st->rng, 0, (uint64) st->seen);
		if (slot >= st->cap)
			slot = -1;
	}
	if (slot >= 0)
	{
		slot_getallattrs(tslot);
		fs_sample_row(src, src->sample + slot * ncols, tslot->tts_values,
					  tslot->tts_isnull, st->bcodes);
	}

	MemoryContextSwitchTo(oldctx);
	if (++st->seen % FS_FETCH_ROWS == 0)
	{
		MemoryContextReset(st->rowctx);
		CHECK_FOR_INTERRUPTS();
		fs_progress_update(st->seen);
	}
	return true;
}

/* DestReceiver callbacks with nothing to do. */
static void
fs_scan_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
fs_scan_shutdown(DestReceiver *self)
{
}

static void
fs_scan_destroy(DestReceiver *self)
{
}

/*
 * What every read ends with, whatever made it (fs_scan_relation here,
 * fs_scan_from_read for a merged fairsynth_read state): the row count, the
 * balance columns' codes in value order with the observed combinations
 * (combos: keys of nbalance codes, counted), and key and free-text detection
 * on the sample.
 */
static void
fs_scan_finish(FsSource *src, FsDict *combos, int64 seen, int nsample, bool sample)
{
	int			ncols = src->ncols;

	src->nrows = seen;
	src->nsample = nsample;
	if (seen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has no rows to learn from", src->relname),
				 errhint("fairsynth needs at least one row that the current role can read.")));

	/* balance columns: codes in value order, and the observed combinations */
	for (int b = 0; b < src->nbalance; b++)
	{
		FsColumn   *col = &src->cols[src->balance[b]];
		int		   *map;

		if (fs_dict_size(col->dict) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("balance column \"%s\" is NULL in every row of %s",
							col->name, src->relname)));
		map = fs_sort_dictionary(col);
		for (int r = 0; r < src->nsample; r++)
		{
			double	   *v = &src->sample[(int64) r * ncols + src->balance[b]];

			if (!isnan(*v))
				*v = map[(int) *v];
		}
		if (b == 0)
		{
			src->ncombos = fs_dict_size(combos);
			src->combo_codes = palloc(sizeof(int32) * src->ncombos * src->nbalance);
			src->combo_counts = palloc(sizeof(int64) * src->ncombos);
			for (int k = 0; k < src->ncombos; k++)
			{
				int			len;
				const char *key = fs_dict_key(combos, k, &len);

				memcpy(&src->combo_codes[k * src->nbalance], key, len);
				src->combo_counts[k] = fs_dict_counts(combos)[k];
			}
		}
		for (int k = 0; k < src->ncombos; k++)
		{
			int32	   *code = &src->combo_codes[k * src->nbalance + b];

			if (*code >= 0)
				*code = map[*code];
		}
	}

	/* columns whose sampled values are all distinct are keys */
	for (int i = 0; i < ncols && sample; i++)
	{
		FsColumn   *col = &src->cols[i];

		if (col->kind != FS_KEY && col->balance_pos < 0 &&
			(col->type == FS_TEXT || col->type == FS_INT2 ||
			 col->type == FS_INT4 || col->type == FS_INT8) &&
			fs_all_distinct(src, i))
			col->kind = FS_KEY;
	}
	/* mostly distinct, multi-word text columns are free text (text.c) */
	if (sample)
		fs_text_detect(src);
}

/*
 * Read the relation: count rows and balance combinations exactly, and with
 * sample keep a uniform sample of at most fairsynth.sample_rows rows (and
 * make the columns whose sampled values are all distinct keys).  The rows go
 * straight from the executor to fs_scan_receive, never copied into a result
 * set.
 */
void
fs_scan_relation(FsSource *src, bool sample)
{
	FsScanState st;
	SPIExecuteOptions options;
	int			ncols = src->ncols;
	int			save_nestlevel;
	int			rc;

	memset(&st, 0, sizeof(st));
	st.pub.receiveSlot = fs_scan_receive;
	st.pub.rStartup = fs_scan_startup;
	st.pub.rShutdown = fs_scan_shutdown;
	st.pub.rDestroy = fs_scan_destroy;
	st.pub.mydest = DestNone;
	st.src = src;
	if (sample && fairsynth_sample_rows > fairsynth_max_sample_rows)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("fairsynth.sample_rows (%d) is above fairsynth.max_sample_rows (%d)",
						fairsynth_sample_rows, fairsynth_max_sample_rows),
				 errhint("Fitting takes about 24 bytes per sampled cell; a superuser can raise fairsynth.max_sample_rows.")));
	st.cap = sample ? fairsynth_sample_rows : 0;
	st.alloc = Min(st.cap, 1024);
	st.bcodes = palloc(sizeof(int32) * Max(src->nbalance, 1));
	st.last_balance = -1;
	for (int b = 0; b < src->nbalance; b++)
		st.last_balance = Max(st.last_balance, src->balance[b]);
	st.combos = fs_dict_create(64);
	st.rowctx = AllocSetContextCreate(CurrentMemoryContext, "fairsynth scan row",
									  ALLOCSET_DEFAULT_SIZES);
	/* the sample depends on the data only, never on the caller's seed */
	pg_prng_seed(&st.rng, FS_SAMPLE_SEED);
	for (int i = 0; i < ncols; i++)
		if (src->cols[i].kind == FS_CAT || src->cols[i].balance_pos >= 0 ||
			fs_is_categorical_type(src->cols[i].type))
			src->cols[i].dict = fs_dict_create(64);
	src->sample = palloc(sizeof(double) * (Size) st.alloc * ncols);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a synchronized scan would start anywhere: same seed, same rows */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("synchronize_seqscans", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	memset(&options, 0, sizeof(options));

	/*
	 * Not read-only: SPI takes a fresh snapshot for the read, after
	 * fs_describe_relation's AccessShareLock, so a concurrent rewrite (ALTER
	 * TABLE ... TYPE) is waited for and its rows are seen, as by a SELECT;
	 * the calling statement's older snapshot would see none of them.
	 */
	options.read_only = false;
	options.dest = &st.pub;
	rc = SPI_execute_extended(fs_select_all(src), &options);
	/* a SELECT whose rows go to a receiver of type DestNone reports UTILITY */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "reading %s failed: %s", src->relname, SPI_result_code_string(rc));
	AtEOXact_GUC(true, save_nestlevel);
	SPI_finish();
	MemoryContextDelete(st.rowctx);

	fs_scan_finish(src, st.combos, st.seen, (int) Min(st.seen, st.cap), sample);
}

/*
 * Fill src as fs_scan_relation does, from a read made elsewhere: a merged
 * fairsynth_read state (read_agg.c), e.g. one per Citus worker.  nrows rows;
 * ncombos combination keys (per balance column in src's order: an int32
 * length, -1 for NULL, then the value's key bytes) with their row counts;
 * nsample sampled rows as values and NULL flags per attribute of the
 * relation (attnum - 1; read_agg.c re-forms them with this node's types).  A
 * column's NULL count is estimated from the sample (it decides imputation
 * only); everything else is exact.
 */
void
fs_scan_from_read(FsSource *src, int64 nrows, int ncombos, char **keys,
				  const int *lens, const int64 *counts, int nsample,
				  Datum **rowvalues, bool **rownulls)
{
	int			ncols = src->ncols;
	FsDict	   *combos = fs_dict_create(64);
	int32	   *bcodes = palloc(sizeof(int32) * Max(src->nbalance, 1));
	Datum	   *values = palloc(sizeof(Datum) * Max(ncols, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(ncols, 1));
	int64	   *samplenulls = palloc0(sizeof(int64) * Max(ncols, 1));

	for (int i = 0; i < ncols; i++)
		if (src->cols[i].kind == FS_CAT || src->cols[i].balance_pos >= 0 ||
			fs_is_categorical_type(src->cols[i].type))
			src->cols[i].dict = fs_dict_create(64);

	/* the combinations: every value of a balance column, counted by rows */
	for (int k = 0; k < ncombos; k++)
	{
		int			pos = 0;
		int			code;

		for (int b = 0; b < src->nbalance; b++)
		{
			FsColumn   *col = &src->cols[src->balance[b]];
			int32		klen;

			if (pos + (int) sizeof(klen) > lens[k])
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("a fairsynth_read combination of %s has fewer values than the %d balance columns",
								src->relname, src->nbalance)));
			memcpy(&klen, keys[k] + pos, sizeof(klen));
			pos += sizeof(klen);
			if (klen < 0)
				bcodes[b] = -1;
			else
			{
				if (pos + klen > lens[k])
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("a fairsynth_read combination of %s is truncated", src->relname)));
				bcodes[b] = fs_balance_code(src, col, keys[k] + pos, klen);
				fs_dict_counts(col->dict)[bcodes[b]] += counts[k] - 1;
				pos += klen;
			}
		}
		if (src->nbalance > 0)
		{
			code = fs_dict_lookup(combos, (const char *) bcodes,
								  sizeof(int32) * src->nbalance, true);
			fs_dict_counts(combos)[code] += counts[k] - 1;
		}
	}

	/* the sample */
	src->sample = palloc(sizeof(double) * (Size) Max(nsample, 1) * ncols);
	for (int r = 0; r < nsample; r++)
	{
		Datum	   *all = rowvalues[r];
		bool	   *allnull = rownulls[r];

		for (int i = 0; i < ncols; i++)
		{
			values[i] = all[src->cols[i].attnum - 1];
			isnull[i] = allnull[src->cols[i].attnum - 1];
			if (isnull[i])
				samplenulls[i]++;
		}
		for (int b = 0; b < src->nbalance; b++)
		{
			int			c = src->balance[b];
			FsColumn   *col = &src->cols[c];
			char		buf[8];
			const char *key;
			int			len;

			bcodes[b] = -1;
			if (isnull[c])
				continue;
			len = fs_datum_key(values[c], col, buf, &key);
			if (len >= 0)
				bcodes[b] = fs_dict_lookup(col->dict, key, len, false);
			if (len >= 0 && bcodes[b] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("a sampled row of %s has a value of \"%s\" that no combination counted",
								src->relname, col->name)));
		}
		fs_sample_row(src, src->sample + (int64) r * ncols, values, isnull, bcodes);
	}
	/* NULLs: the sample's share, at least one if the sample has one */
	for (int i = 0; i < ncols && nsample > 0; i++)
	{
		double		est = (double) samplenulls[i] * nrows / nsample;

		src->cols[i].nulls = samplenulls[i] == nsample ? nrows :
			Min((int64) rint(est), nrows - 1);
		if (samplenulls[i] > 0 && src->cols[i].nulls == 0)
			src->cols[i].nulls = 1;
	}
	fs_scan_finish(src, combos, nrows, nsample, true);
}
