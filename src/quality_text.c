/*-------------------------------------------------------------------------
 *
 * quality_text.c
 *	  measures of free-text columns (issue 14), after test/reference/text.py
 *
 * A text column of the original whose values the generator would treat as
 * free text (fs_text_looks_free in text.c: mostly distinct, multi-word) is
 * left out of the binned accuracy (its values are not categories) and gets
 * rows of its own instead, each as text.py computes it, NULL read as '':
 *   text_term_accuracy    1 - TVD of term frequencies: the 200 most frequent
 *                         terms of the original, the rest as one; a term is
 *                         a lowercased run of [A-Za-z0-9']
 *   text_char_accuracy    1 - TVD of character frequencies
 *   text_length_accuracy  1 - TVD of lengths (characters) binned at the
 *                         original's unique deciles (numpy "linear")
 *   text_cooc_error       mean |P(b in row | a in row)| difference over the
 *                         ordered pairs of the 20 most frequent terms
 *   text_exact_match      share of synthetic rows whose text equals some
 *                         original row's text (and, with a holdout,
 *                         text_exact_match_holdout: the holdout's share, what
 *                         a faithful and private synthesizer matches)
 * Ties among the most frequent terms go to the first occurrence, as in
 * Python's Counter.most_common.
 *
 * Memory does not grow with the number of rows: the relations are streamed
 * and counted into hash tables of terms, characters and lengths.  The term
 * table keeps at most FSQ_TEXT_MAX_TERMS distinct terms of the original (a
 * term first seen past that is counted with the rest, "_other_"); exact
 * matches are counted by a semi-join in SQL, which spills to disk if needed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "quality.h"
#include "text.h"

#define FSQ_TEXT_MAX_TERMS	(1 << 22)	/* distinct terms counted */
#define FSQ_TEXT_HASH_SEED	UINT64CONST(0x71746578)

/* What one streaming pass over a relation counts. */
typedef enum FsqTextPass
{
	FSQ_TEXT_COUNT,				/* original: terms, characters, lengths */
	FSQ_TEXT_ROWS				/* any: per-row co-occurrence, length bins,
								 * synthetic: terms and characters */
} FsqTextPass;

/* DestReceiver of a pass: every row's free-text columns. */
typedef struct FsqTextReceiver
{
	DestReceiver pub;
	FsqState   *st;
	int			rel;
	FsqTextPass pass;
	MemoryContext cxt;			/* where the counters live and grow */
	MemoryContext rowcxt;
	int64		rows;
} FsqTextReceiver;

/* static prototypes */
static FsqTextHash *fsq_th_create(void);
static int64 fsq_th_find(const FsqTextHash *h, uint64 key);
static int64 fsq_th_add(FsqTextHash *h, uint64 key, int64 n);
static uint64 fsq_term_key(const char *s, int len);
static void fsq_text_row(FsqState *st, FsqTextCol *t, int rel, FsqTextPass pass,
						 const char *s, int len);
static bool fsq_text_receive(TupleTableSlot *slot, DestReceiver *self);
static void fsq_text_startup(DestReceiver *self, int operation, TupleDesc typeinfo);
static void fsq_text_shutdown(DestReceiver *self);
static void fsq_text_scan(FsqState *st, int rel, FsqTextPass pass);
static void fsq_text_tops(FsqTextCol *t);
static void fsq_text_breaks(FsqTextCol *t);
static int	fsq_text_len_code(const FsqTextCol *t, int64 len);
static double fsq_text_exact(FsqState *st, const FsqTextCol *t, int rel);
static void fsq_text_results(FsqTextCol *t);

/* -----------------------------------------------------------------------
 * Hash tables: 64-bit key -> count, entries in order of first occurrence
 * -----------------------------------------------------------------------
 */

static FsqTextHash *
fsq_th_create(void)
{
	FsqTextHash *h = palloc0(sizeof(FsqTextHash));

	h->alloc = 256;
	h->nslots = 512;
	h->slots = palloc0(sizeof(int64) * h->nslots);
	h->keys = palloc(sizeof(uint64) * h->alloc);
	h->counts = palloc(sizeof(int64) * h->alloc);
	return h;
}

/* The entry of key, or -1. */
static int64
fsq_th_find(const FsqTextHash *h, uint64 key)
{
	int64		mask = h->nslots - 1;
	int64		i = (int64) (key * UINT64CONST(0x9E3779B97F4A7C15) >> 17) & mask;

	for (;;)
	{
		int64		e = h->slots[i] - 1;

		if (e < 0)
			return -1;
		if (h->keys[e] == key)
			return e;
		i = (i + 1) & mask;
	}
}

/* Add n to the count of key (a new entry if needed); its entry. */
static int64
fsq_th_add(FsqTextHash *h, uint64 key, int64 n)
{
	int64		mask = h->nslots - 1;
	int64		i = (int64) (key * UINT64CONST(0x9E3779B97F4A7C15) >> 17) & mask;
	int64		e;

	for (;;)
	{
		e = h->slots[i] - 1;
		if (e < 0)
			break;
		if (h->keys[e] == key)
		{
			h->counts[e] += n;
			return e;
		}
		i = (i + 1) & mask;
	}
	if (h->n == h->alloc)
	{
		h->alloc *= 2;
		h->keys = repalloc_huge(h->keys, sizeof(uint64) * h->alloc);
		h->counts = repalloc_huge(h->counts, sizeof(int64) * h->alloc);
	}
	e = h->n++;
	h->keys[e] = key;
	h->counts[e] = n;
	h->slots[i] = e + 1;
	if (h->n * 2 > h->nslots)
	{
		pfree(h->slots);
		h->nslots *= 2;
		mask = h->nslots - 1;
		h->slots = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * h->nslots);
		memset(h->slots, 0, sizeof(int64) * h->nslots);
		for (int64 k = 0; k < h->n; k++)
		{
			i = (int64) (h->keys[k] * UINT64CONST(0x9E3779B97F4A7C15) >> 17) & mask;
			while (h->slots[i] != 0)
				i = (i + 1) & mask;
			h->slots[i] = k + 1;
		}
	}
	return e;
}

/* -----------------------------------------------------------------------
 * Which columns are free text
 * -----------------------------------------------------------------------
 */

/*
 * After the distinct-value pass over the original: mark the text columns
 * (not declared keys) that the generator would treat as free text, by
 * text.c's rule over all their non-NULL values (in memory, else in SQL).
 * A free-text column is measured here, not binned, even if all distinct.
 */
void
fsq_text_detect(FsqState *st)
{
	for (int c = 0; c < st->ncols; c++)
	{
		FsqColumn  *col = &st->cols[c];
		int64		values,
					distinct;
		double		words = 0;

		if (!col->is_text || col->key)
			continue;
		if (col->dist != NULL && !col->dist->overflow)
		{
			/* NULL was counted as the text "NULL": one value, one word */
			values = st->nrows[REL_ORIG] - col->nnull;
			distinct = col->dist->n - (col->nnull > 0 ? 1 : 0);
			for (int64 e = 0; e < col->dist->n; e++)
				words += (double) col->dist->counts[e] *
					fs_text_count_words(col->dist->strs[e], col->dist->lens[e]);
			words -= col->nnull;
		}
		else
		{
			StringInfoData q;
			bool		isnull;
			int			ret;

			initStringInfo(&q);
			appendStringInfo(&q,
							 "SELECT count(%s)::int8, count(DISTINCT %s)::int8, "
							 "coalesce(sum(regexp_count(%s, '[^ \\t\\n\\r\\v\\f]+')), 0)::float8 "
							 "FROM %s",
							 col->expr, col->expr, col->expr, st->relname[REL_ORIG]);
			ret = SPI_execute(q.data, true, 0);
			if (ret != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
			values = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			distinct = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			words = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
			SPI_freetuptable(SPI_tuptable);
		}
		col->freetext = fs_text_looks_free(values, distinct, words);
	}
}

/* -----------------------------------------------------------------------
 * Streaming passes
 * -----------------------------------------------------------------------
 */

/* The key of a term: its bytes s[0..len), lowercased, hashed. */
static uint64
fsq_term_key(const char *s, int len)
{
	char		small[128];
	char	   *low = len <= (int) sizeof(small) ? small : palloc(len);
	uint64		h;

	for (int i = 0; i < len; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + ('a' - 'A') : s[i];
	h = fs_hash_bytes(low, len, FSQ_TEXT_HASH_SEED);
	if (low != small)
		pfree(low);
	return h;
}

/* A term character of text.py: [A-Za-z0-9'] (after lowercasing). */
static inline bool
fsq_term_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '\'';
}

/* Count one text (NULL as '') of relation rel. */
static void
fsq_text_row(FsqState *st, FsqTextCol *t, int rel, FsqTextPass pass,
			 const char *s, int len)
{
	int			side = rel == REL_ORIG ? 0 : 1;
	bool		count_terms = pass == FSQ_TEXT_COUNT || rel != REL_ORIG;
	uint32		present = 0;
	int64		chars = 0;
	int			i = 0;

	/* characters (and the length in characters) */
	while (i < len)
	{
		int			w = pg_mblen(s + i);
		uint64		key = 0;

		w = Min(w, len - i);
		if (count_terms)
		{
			for (int k = 0; k < w; k++)
				key = (key << 8) | (unsigned char) s[i + k];
			fsq_th_add(t->chars[side], key | ((uint64) w << 56), 1);
		}
		chars++;
		i += w;
	}
	if (pass == FSQ_TEXT_COUNT)
		fsq_th_add(t->lens, (uint64) chars, 1);
	else
		t->lenbin[side][fsq_text_len_code(t, chars)]++;

	/* terms */
	i = 0;
	while (i < len)
	{
		int			start;
		uint64		key;
		int64		e;

		if (!fsq_term_char((unsigned char) s[i]))
		{
			i++;
			continue;
		}
		start = i;
		while (i < len && fsq_term_char((unsigned char) s[i]))
			i++;
		key = fsq_term_key(s + start, i - start);
		if (pass == FSQ_TEXT_COUNT)
		{
			t->termtotal[0]++;
			if (t->terms->n < FSQ_TEXT_MAX_TERMS)
				fsq_th_add(t->terms, key, 1);
			else if ((e = fsq_th_find(t->terms, key)) >= 0)
				t->terms->counts[e]++;
			continue;
		}
		e = fsq_th_find(t->terms, key);
		if (rel != REL_ORIG)
		{
			t->termtotal[1]++;
			if (e >= 0 && t->toppos[e] >= 0)
				t->topcount[1][t->toppos[e]]++;
		}
		if (e >= 0 && t->pairpos[e] >= 0)
			present |= (uint32) 1 << t->pairpos[e];
	}

	/* co-occurrence of the most frequent terms within the row */
	if (pass == FSQ_TEXT_ROWS)
		for (int a = 0; a < t->npairs; a++)
		{
			if (!(present & ((uint32) 1 << a)))
				continue;
			t->cooc_a[side][a]++;
			for (int b = 0; b < t->npairs; b++)
				if (present & ((uint32) 1 << b))
					t->cooc_ab[side][a][b]++;
		}
	(void) st;
}

/* receiveSlot callback: the free-text columns of one row */
static bool
fsq_text_receive(TupleTableSlot *slot, DestReceiver *self)
{
	FsqTextReceiver *r = (FsqTextReceiver *) self;
	MemoryContext oldcxt;

	slot_getallattrs(slot);
	oldcxt = MemoryContextSwitchTo(r->rowcxt);
	for (int k = 0; k < r->st->ntexts; k++)
	{
		const char *s = "";
		int			len = 0;

		if (!slot->tts_isnull[k])
		{
			text	   *v = DatumGetTextPP(slot->tts_values[k]);

			s = VARDATA_ANY(v);
			len = VARSIZE_ANY_EXHDR(v);
		}
		MemoryContextSwitchTo(r->cxt);
		fsq_text_row(r->st, &r->st->texts[k], r->rel, r->pass, s, len);
		MemoryContextSwitchTo(r->rowcxt);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(r->rowcxt);
	if ((++r->rows & 1023) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

/* rStartup callback: nothing to do */
static void
fsq_text_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

/* rShutdown / rDestroy callback: nothing to do */
static void
fsq_text_shutdown(DestReceiver *self)
{
}

/* Stream the free-text columns of one relation through one pass. */
static void
fsq_text_scan(FsqState *st, int rel, FsqTextPass pass)
{
	StringInfoData q;
	SPIExecuteOptions opts;
	FsqTextReceiver r;
	int			ret;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int k = 0; k < st->ntexts; k++)
		appendStringInfo(&q, "%s%s::text", k ? ", " : "", st->texts[k].expr);
	appendStringInfo(&q, " FROM %s", st->relname[rel]);

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = fsq_text_receive;
	r.pub.rStartup = fsq_text_startup;
	r.pub.rShutdown = fsq_text_shutdown;
	r.pub.rDestroy = fsq_text_shutdown;
	r.pub.mydest = DestNone;
	r.st = st;
	r.rel = rel;
	r.pass = pass;
	r.cxt = CurrentMemoryContext;
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "fairsynth_quality text row",
									 ALLOCSET_SMALL_SIZES);
	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = &r.pub;
	ret = SPI_execute_extended(q.data, &opts);
	if (ret < 0)
		elog(ERROR, "SPI_execute_extended failed on %s: %s",
			 st->relname[rel], SPI_result_code_string(ret));
	MemoryContextDelete(r.rowcxt);
	st->texts[0].rows[rel == REL_ORIG ? 0 : 1] = r.rows;
	for (int k = 1; k < st->ntexts; k++)
		st->texts[k].rows[rel == REL_ORIG ? 0 : 1] = r.rows;
}

/* -----------------------------------------------------------------------
 * Most frequent terms, length bins
 * -----------------------------------------------------------------------
 */

static const int64 *fsq_sort_counts;

/* qsort comparator: count descending, then first occurrence */
static int
fsq_cmp_term(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	if (fsq_sort_counts[x] != fsq_sort_counts[y])
		return fsq_sort_counts[x] > fsq_sort_counts[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* The 200 and the 20 most frequent terms of the original. */
static void
fsq_text_tops(FsqTextCol *t)
{
	int64		n = t->terms->n;
	int64	   *order = palloc(sizeof(int64) * Max(n, 1));

	for (int64 e = 0; e < n; e++)
		order[e] = e;
	fsq_sort_counts = t->terms->counts;
	qsort(order, n, sizeof(int64), fsq_cmp_term);
	t->toppos = palloc(sizeof(int32) * Max(n, 1));
	t->pairpos = palloc(sizeof(int32) * Max(n, 1));
	for (int64 e = 0; e < n; e++)
		t->toppos[e] = t->pairpos[e] = -1;
	t->ntop = (int) Min(n, FSQ_TEXT_TOP_TERMS);
	t->npairs = (int) Min(n, FSQ_TEXT_TOP_PAIRS);
	for (int k = 0; k < t->ntop; k++)
	{
		t->toppos[order[k]] = k;
		t->topcount[0][k] = t->terms->counts[order[k]];
		if (k < t->npairs)
			t->pairpos[order[k]] = k;
	}
	pfree(order);
}

/* qsort comparator for uint64 */
static int
fsq_cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * Breaks of the original's lengths: np.unique(np.quantile(lengths,
 * np.linspace(0, 1, 11))) ("linear": virtual index (n - 1) q).
 */
static void
fsq_text_breaks(FsqTextCol *t)
{
	FsqTextHash *h = t->lens;
	uint64	   *lens = palloc(sizeof(uint64) * Max(h->n, 1));
	int64	   *cum = palloc(sizeof(int64) * Max(h->n, 1));
	int64		n = 0;
	double		br[FSQ_BINS + 1];

	for (int64 e = 0; e < h->n; e++)
		lens[e] = h->keys[e];
	qsort(lens, h->n, sizeof(uint64), fsq_cmp_uint64);
	for (int64 e = 0; e < h->n; e++)
	{
		n += h->counts[fsq_th_find(h, lens[e])];
		cum[e] = n;				/* rows with a length <= lens[e] */
	}
	for (int i = 0; i <= FSQ_BINS; i++)
	{
		double		q = i == FSQ_BINS ? 1.0 : (double) i * (1.0 / FSQ_BINS);
		double		virt = (double) (n - 1) * q;
		int64		prev = (int64) floor(virt);
		int64		pos[2];
		double		v[2];

		if (virt >= n - 1)
			prev = n - 1;
		else if (virt < 0)
			prev = 0;
		pos[0] = prev;
		pos[1] = Min(prev + 1, n - 1);
		for (int k = 0; k < 2; k++)
		{
			int64		e = 0;

			while (cum[e] <= pos[k])
				e++;
			v[k] = (double) lens[e];
		}
		if (virt >= n - 1 || virt < 0)
			br[i] = v[0];
		else
			br[i] = fsq_lerp(v[0], v[1], virt - floor(virt));
	}
	t->nbreaks = 0;
	for (int i = 0; i <= FSQ_BINS; i++)
		if (t->nbreaks == 0 || br[i] != t->breaks[t->nbreaks - 1])
			t->breaks[t->nbreaks++] = br[i];
	pfree(lens);
	pfree(cum);
}

/* np.digitize(len, breaks[1:-1]): the inner breaks at or below len. */
static int
fsq_text_len_code(const FsqTextCol *t, int64 len)
{
	int			code = 0;

	for (int i = 1; i < t->nbreaks - 1; i++)
		if (t->breaks[i] <= (double) len)
			code++;
	return code;
}

/* -----------------------------------------------------------------------
 * Exact matches
 * -----------------------------------------------------------------------
 */

/* Share of rel's rows whose text (NULL as '') equals an original row's. */
static double
fsq_text_exact(FsqState *st, const FsqTextCol *t, int rel)
{
	StringInfoData q;
	bool		isnull;
	double		share;
	int			ret;

	initStringInfo(&q);
	appendStringInfo(&q,
					 "SELECT avg((EXISTS (SELECT FROM %s o "
					 "WHERE coalesce(o.%s::text, '') COLLATE \"C\" = coalesce(s.%s::text, '') COLLATE \"C\"))::int)::float8 "
					 "FROM %s s",
					 st->relname[REL_ORIG], t->expr, t->expr, st->relname[rel]);
	ret = SPI_execute(q.data, true, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	share = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return isnull ? 0 : share;
}

/* -----------------------------------------------------------------------
 * The measures
 * -----------------------------------------------------------------------
 */

/* 1 - TVD, and the co-occurrence error, from the counts of both sides. */
static void
fsq_text_results(FsqTextCol *t)
{
	double		tvd = 0,
				s0,
				s1,
				sum = 0;
	int64		top0 = 0,
				top1 = 0;

	/* terms: the most frequent of the original, the rest as one */
	s0 = t->termtotal[0] ? (double) t->termtotal[0] : 1;
	s1 = t->termtotal[1] ? (double) t->termtotal[1] : 1;
	for (int k = 0; k < t->ntop; k++)
	{
		tvd += fabs(t->topcount[0][k] / s0 - t->topcount[1][k] / s1);
		top0 += t->topcount[0][k];
		top1 += t->topcount[1][k];
	}
	tvd += fabs((t->termtotal[0] - top0) / s0 - (t->termtotal[1] - top1) / s1);
	t->term_accuracy = 1 - 0.5 * tvd;

	/* characters */
	s0 = s1 = 0;
	for (int64 e = 0; e < t->chars[0]->n; e++)
		s0 += t->chars[0]->counts[e];
	for (int64 e = 0; e < t->chars[1]->n; e++)
		s1 += t->chars[1]->counts[e];
	s0 = s0 ? s0 : 1;
	s1 = s1 ? s1 : 1;
	tvd = 0;
	for (int64 e = 0; e < t->chars[0]->n; e++)
	{
		int64		f = fsq_th_find(t->chars[1], t->chars[0]->keys[e]);

		tvd += fabs(t->chars[0]->counts[e] / s0 -
					(f >= 0 ? t->chars[1]->counts[f] : 0) / s1);
	}
	for (int64 e = 0; e < t->chars[1]->n; e++)
		if (fsq_th_find(t->chars[0], t->chars[1]->keys[e]) < 0)
			tvd += t->chars[1]->counts[e] / s1;
	t->char_accuracy = 1 - 0.5 * tvd;

	/* lengths */
	s0 = t->rows[0] ? (double) t->rows[0] : 1;
	s1 = t->rows[1] ? (double) t->rows[1] : 1;
	tvd = 0;
	for (int k = 0; k <= FSQ_BINS; k++)
		tvd += fabs(t->lenbin[0][k] / s0 - t->lenbin[1][k] / s1);
	t->length_accuracy = 1 - 0.5 * tvd;

	/* co-occurrence: P(b | a) over ordered pairs a != b */
	t->cooc_null = t->npairs == 1;
	for (int a = 0; a < t->npairs; a++)
		for (int b = 0; b < t->npairs; b++)
		{
			double		p0,
						p1;

			if (a == b)
				continue;
			p0 = t->cooc_a[0][a] ? (double) t->cooc_ab[0][a][b] / t->cooc_a[0][a] : 0;
			p1 = t->cooc_a[1][a] ? (double) t->cooc_ab[1][a][b] / t->cooc_a[1][a] : 0;
			sum += fabs(p0 - p1);
		}
	t->cooc_error = t->npairs > 1 ? sum / (t->npairs * (t->npairs - 1)) : 0;
}

/*
 * Measure every free-text column of st (fsq_drop_keys moved them to
 * st->texts): two passes over the original, one over the synthetic
 * relation, and the exact matches of the synthetic relation and the
 * holdout (if any).
 */
void
fsq_text_measure(FsqState *st, bool has_holdout)
{
	if (st->ntexts == 0)
		return;
	for (int k = 0; k < st->ntexts; k++)
	{
		FsqTextCol *t = &st->texts[k];

		t->terms = fsq_th_create();
		t->lens = fsq_th_create();
		t->chars[0] = fsq_th_create();
		t->chars[1] = fsq_th_create();
	}
	fsq_text_scan(st, REL_ORIG, FSQ_TEXT_COUNT);
	for (int k = 0; k < st->ntexts; k++)
	{
		fsq_text_tops(&st->texts[k]);
		fsq_text_breaks(&st->texts[k]);
	}
	fsq_text_scan(st, REL_ORIG, FSQ_TEXT_ROWS);
	fsq_text_scan(st, REL_SYN, FSQ_TEXT_ROWS);
	for (int k = 0; k < st->ntexts; k++)
	{
		FsqTextCol *t = &st->texts[k];

		fsq_text_results(t);
		t->exact_match = fsq_text_exact(st, t, REL_SYN);
		if (has_holdout)
			t->exact_match_holdout = fsq_text_exact(st, t, REL_HOLD);
	}
}
