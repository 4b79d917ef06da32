/*
 * text.c: free-text columns, learned and generated token by token.
 *
 * A text column whose values are mostly distinct and multi-word (messages,
 * notes, reviews) would be a dictionary of rare values to the category model,
 * every one of them merged away.  Instead its values are split into tokens (a
 * run of word characters [A-Za-z0-9'] or of other non-space bytes, with the
 * whitespace before it, so that concatenating tokens gives the text back) and
 * a word trigram model with Witten-Bell back-off (trigram, bigram, unigram)
 * is counted per group of the row's context columns: the balance columns and
 * the label-like columns that change the text's words most.  A group backs
 * off to the unigrams of all rows, and a group with too few rows uses all
 * rows' model.  A generated text starts at two start tokens and stops at the
 * end token, so lengths follow the learned ones.
 *
 * Within a group, the text follows the rest of its row through the leaf
 * tree.  The terms whose presence depends on some other column (a chi-square
 * excess over chance) are clustered by the direction of that dependence
 * (words of low ratings, of high ratings, of dear items rated low...); a
 * text's target is the kind of such terms it holds most, or none; and a
 * classification tree (tree.c), split first on the group, predicts the
 * target from the row's other categorical and binned numeric columns, so a
 * text follows a 1-5 rating or an interaction of columns that is no context
 * column.  Leaves hold at least FS_TEXT_LEAF_MIN_ROWS texts and splits must
 * gain clearly more than chance.  Each leaf that is not its whole group gets
 * n-grams, lengths and a NULL share of its own; a generated row walks the
 * tree on the classes already drawn for its other columns (the text is drawn
 * after them) and its text backs off from the leaf's trigram, bigram and
 * unigram to the group's unigrams, then all rows'.  A table whose texts no
 * column tells about gets no leaf: its texts are drawn as without the tree.
 *
 * Privacy: a token seen in fewer than fairsynth.rare_threshold fitted rows is
 * not in the vocabulary and is never emitted (phone numbers, codes, names); a
 * token is never glued to a word before it (which could spell a rare term);
 * and a text equal to one that fewer than rare_threshold fitted rows have is
 * drawn again.  Texts many rows share may recur at their natural rate.
 *
 * Everything the generator needs is one FsTextModel inside the model block,
 * addressed by offsets (no pointers), so the model can be copied to shared
 * memory as is.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "fairsynth.h"
#include "args.h"
#include "text.h"
#include "tree.h"

/* ----------------------------------------------------------------
 * Limits and tuning
 * ---------------------------------------------------------------- */

/*
 * Automatic detection: a text column is free text when, over its non-NULL
 * sampled values, at least this share is distinct and the values have at
 * least this many words on average, with at least FS_TEXT_MIN_ROWS values.
 */
#define FS_TEXT_MIN_DISTINCT 0.5
#define FS_TEXT_MIN_WORDS 2.0
#define FS_TEXT_MIN_ROWS 20

/*
 * Memory bounds.  Texts are learned and generated up to FS_TEXT_MAX_TOKENS
 * tokens (longer fitted texts are learned from their start); the fit reads at
 * most FS_TEXT_MAX_FIT_TOKENS tokens in all (4 bytes each); the vocabulary
 * keeps the FS_TEXT_MAX_VOCAB tokens most rows have; and the n-gram table
 * keeps at most FS_TEXT_MAX_NGRAMS successor entries (8 bytes each, plus
 * their contexts): past it, the rarest trigram, then bigram entries are
 * pruned and their mass goes to the lower order.  A model is then at most a
 * few tens of MB whatever the texts, typically far less (sms: about 2 MB).
 */
#define FS_TEXT_MAX_TOKENS 400
#define FS_TEXT_MAX_FIT_TOKENS (4 * 1024 * 1024)
#define FS_TEXT_MAX_VOCAB 16384
#define FS_TEXT_MAX_NGRAMS (512 * 1024)

/*
 * Context columns: candidates have 2 to FS_TEXT_MAX_CTX_CLASSES classes; the
 * product of the chosen columns' classes stays within FS_TEXT_MAX_GROUPS; a
 * non-balance column is chosen when it moves the distribution of the text's
 * FS_TEXT_SCORE_TOKENS most common tokens by at least FS_TEXT_MIN_SCORE
 * (row-weighted total variation between a class and all rows).
 */
#define FS_TEXT_MAX_CTX_CLASSES 24
#define FS_TEXT_MAX_GROUPS 64
#define FS_TEXT_SCORE_TOKENS 256
#define FS_TEXT_MIN_SCORE 0.10
/* A group with fewer fitted texts than this is generated from all rows. */
#define FS_TEXT_MIN_GROUP_ROWS 20

/*
 * The leaf tree (fs_text_targets, fs_text_fit_tree).  The
 * FS_TEXT_CLUSTER_TOKENS most common tokens are tested against every
 * predictor column: a token tells about a column when the chi-square
 * statistic of its presence against the column's classes exceeds its
 * degrees of freedom by FS_TEXT_CHANCE_SD standard deviations (sqrt(2 dof)).
 * Telling tokens are clustered by the direction of their residuals over the
 * predictors' classes (at most FS_TEXT_CLUSTER_DIMS classes in all) into at
 * most FS_TEXT_CLUSTERS - 1 kinds (text.h), in at most FS_TEXT_CLUSTER_ITERS
 * rounds.  The tree's leaves hold at least FS_TEXT_LEAF_MIN_ROWS texts and
 * at least 1 / FS_TEXT_MAX_LEAVES of them, so at most FS_TEXT_MAX_LEAVES
 * leaves have n-grams of their own (the group splits above them add none: a
 * group that is one leaf uses its group's n-grams; and each text is counted
 * in one leaf, so the leaves at most double the n-grams, which
 * FS_TEXT_MAX_NGRAMS bounds anyway); the tree is at most FS_TEXT_LEAF_DEPTH
 * splits deep below the group, and a split must gain FS_TEXT_LEAF_MIN_GAIN
 * times the node's Gini impurity (in rows): a cut of a column independent
 * of the text gains about one impurity by chance, the best of a few dozen
 * cuts a few (texts of generated reviews paired with other rows' columns, 5
 * pairings: no split, output equal to the model without the tree).
 */
#define FS_TEXT_CLUSTER_TOKENS 1024
#define FS_TEXT_CLUSTER_ITERS 10
#define FS_TEXT_CLUSTER_DIMS 512
#define FS_TEXT_LEAF_MIN_ROWS 50
#define FS_TEXT_MAX_LEAVES 64
#define FS_TEXT_LEAF_DEPTH 8
#define FS_TEXT_LEAF_MIN_GAIN 10.0
#define FS_TEXT_CHANCE_SD 3.0

/*
 * A rare token of at least FS_TEXT_SHAPE_MIN_DIGITS digits only (a phone
 * number, a code) is learned as its shape: its whitespace, first digit and
 * number of digits.  A shape of at least rare_threshold rows is a token whose
 * every emission is a fresh number of that shape (never a rare number of the
 * fitted rows), so spam keeps its numbers without repeating anyone's.
 */
#define FS_TEXT_SHAPE_MIN_DIGITS 3
/* Rare words longer than this have no shape: they are dropped. */
#define FS_TEXT_MAX_PATTERN 24
/* Spellings of a fresh word tried before the word is left out. */
#define FS_TEXT_FRESH_RETRIES 16
/*
 * Lengths: a text is generated towards a length drawn from its group's
 * FS_TEXT_LEN_POINTS quantile points of byte lengths (the k-th shortest to
 * the k-th longest): the end token is refused before it (up to
 * FS_TEXT_TOKEN_RETRIES draws) and the text ends once it is reached.
 */
/* Draws of a token that would glue onto the word before it. */
#define FS_TEXT_TOKEN_RETRIES 8
/* Draws of a whole text that equals a rare fitted text, before an error. */
#define FS_TEXT_RETRIES 64

#define FS_TEXT_HASH_SEED UINT64CONST(0x74657874)	/* "text" */

/* ----------------------------------------------------------------
 * Tokens
 * ---------------------------------------------------------------- */

static inline bool
fs_is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		ch == '\v' || ch == '\f';
}

/* A term character of the reference measures: [A-Za-z0-9']. */
static inline bool
fs_is_word(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '\'';
}

/*
 * The end of the token starting at pos of s[0..len): the whitespace before
 * it, then a run of word bytes or a run of other non-space bytes (multibyte
 * characters are never split: their bytes are all "other").  Trailing
 * whitespace is a token of its own.
 */
static int
fs_token_end(const char *s, int len, int pos)
{
	const unsigned char *u = (const unsigned char *) s;
	bool		word;

	while (pos < len && fs_is_space(u[pos]))
		pos++;
	if (pos == len)
		return pos;
	word = fs_is_word(u[pos]);
	while (pos < len && !fs_is_space(u[pos]) && fs_is_word(u[pos]) == word)
		pos++;
	return pos;
}

/* Words (runs of non-space bytes) of s[0..len). */
int
fs_text_count_words(const char *s, int len)
{
	int			n = 0;

	for (int i = 0; i < len; i++)
		if (!fs_is_space((unsigned char) s[i]) &&
			(i == 0 || fs_is_space((unsigned char) s[i - 1])))
			n++;
	return n;
}

static inline uint64
fs_text_hash(const char *s, int len)
{
	return fs_hash_bytes(s, len, FS_TEXT_HASH_SEED);
}

/* The hash of the term of word bytes s[0..len), lowercased. */
static uint64
fs_text_term_hash(const char *s, int len)
{
	char		small[64] = {0};
	char	   *low = len <= 64 ? small : palloc(len);
	uint64		h;

	for (int i = 0; i < len; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + ('a' - 'A') : s[i];
	h = fs_text_hash(low, len);
	if (low != small)
		pfree(low);
	return h;
}

/* The index of a letter (either case) in the letter bigrams, else -1. */
static inline int
fs_letter_index(unsigned char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a';
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	return -1;
}

/* ----------------------------------------------------------------
 * Which columns are free text
 * ---------------------------------------------------------------- */

/*
 * Apply the free_text argument of a call, right after the relation is
 * described: NULL leaves the choice to the data (fs_text_detect); an array
 * makes exactly the columns it names free text.  Errors name the column.
 */
void
fs_text_choose(FsSource *src, ArrayType *free_text)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	src->free_text_given = free_text != NULL;
	if (free_text == NULL)
		return;
	fs_require_one_dimensional(free_text, "free_text");
	deconstruct_array(free_text, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int j = 0; j < n; j++)
	{
		char	   *name;
		int			c;

		if (nulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("free_text must not contain NULL (element %d)", j + 1)));
		name = TextDatumGetCString(elems[j]);
		c = fs_find_column(src, name);
		if (c < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("free_text column \"%s\" does not exist in relation %s",
							name, src->relname)));
		if (src->cols[c].type != FS_TEXT)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("free_text column \"%s\" has type %s, not a text type",
							name, format_type_be(src->cols[c].typid)),
					 errhint("Only text, varchar and char columns can be free text.")));
		if (src->cols[c].balance_pos >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("free_text column \"%s\" is also a balance column or the outcome",
							name),
					 errhint("Balance columns are categories; leave the column out of free_text.")));
		src->cols[c].kind = FS_TEXTFREE;
		src->cols[c].described_kind = FS_TEXTFREE;
	}
}

/*
 * After the read, without a free_text argument: make every text column whose
 * sampled values are mostly distinct and multi-word free text (also one the
 * read made a key for being all distinct; a declared key stays a key).
 */
void
fs_text_detect(FsSource *src)
{
	/* a column named in free_text stays free text, even if all distinct */
	for (int c = 0; c < src->ncols; c++)
		if (src->cols[c].described_kind == FS_TEXTFREE)
			src->cols[c].kind = FS_TEXTFREE;
	if (src->free_text_given)
		return;
	for (int c = 0; c < src->ncols; c++)
	{
		FsColumn   *col = &src->cols[c];
		int			ncodes;
		bool	   *seen;
		int			values = 0;
		int			distinct = 0;
		double		words = 0;

		if (col->type != FS_TEXT || col->balance_pos >= 0 || col->dict == NULL ||
			col->described_kind == FS_KEY || col->kind == FS_TEXTFREE)
			continue;
		ncodes = fs_dict_size(col->dict);
		seen = palloc0(sizeof(bool) * Max(ncodes, 1));
		for (int r = 0; r < src->nsample; r++)
		{
			double		x = src->sample[(int64) r * src->ncols + c];
			int			len;
			const char *s;

			if (isnan(x))
				continue;
			values++;
			if (!seen[(int) x])
			{
				seen[(int) x] = true;
				distinct++;
			}
			s = fs_dict_key(col->dict, (int) x, &len);
			words += fs_text_count_words(s, len);
		}
		pfree(seen);
		if (fs_text_looks_free(values, distinct, words))
			col->kind = FS_TEXTFREE;
	}
}

/*
 * The detection rule, shared with fairsynth_quality (quality_text.c): are
 * values non-NULL texts, distinct of them and words in all, free text?
 */
bool
fs_text_looks_free(int64 values, int64 distinct, double words)
{
	return values >= FS_TEXT_MIN_ROWS &&
		distinct >= FS_TEXT_MIN_DISTINCT * values &&
		words >= FS_TEXT_MIN_WORDS * values;
}

/* ----------------------------------------------------------------
 * Fitting
 * ---------------------------------------------------------------- */

/* An n-gram while counting: context, successor, occurrences. */
typedef struct FsNgram
{
	int32		group;
	int32		order;
	int32		w1;
	int32		w2;
	int32		next;
	int32		count;
} FsNgram;

static int
fs_ngram_cmp(const void *a, const void *b)
{
	const FsNgram *x = (const FsNgram *) a;
	const FsNgram *y = (const FsNgram *) b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->w1 != y->w1)
		return x->w1 < y->w1 ? -1 : 1;
	if (x->w2 != y->w2)
		return x->w2 < y->w2 ? -1 : 1;
	return (x->next > y->next) - (x->next < y->next);
}

static int
fs_uint64_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

static int
fs_int32_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* Token codes by rows having them, most first (ties: code). */
static const int64 *fs_sort_df;

static int
fs_df_cmp(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (fs_sort_df[x] != fs_sort_df[y])
		return fs_sort_df[x] > fs_sort_df[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* The slot of a context in the model's hash table. */
static inline uint32
fs_ctx_hash(int32 group, int32 order, int32 w1, int32 w2)
{
	int32		key[4] = {group, order, w1, w2};

	return (uint32) fs_hash_bytes(key, sizeof(key), 0);
}

/*
 * Score of candidate context column x: how much its classes move the
 * distribution of the top tokens (row-weighted total variation distance).
 */
static double
fs_ctx_score(const int32 *xcls, int nclass, const int32 *rows_of, int nrows,
			 const int32 *seq, const int64 *seq_start, const int32 *vid,
			 int ntop)
{
	double	   *cnt = palloc0(sizeof(double) * (nclass + 1) * ntop);
	double	   *tot = palloc0(sizeof(double) * (nclass + 1));
	int		   *nr = palloc0(sizeof(int) * (nclass + 1));
	double		score = 0;

	for (int i = 0; i < nrows; i++)
	{
		int			b = xcls[rows_of[i]];

		nr[b]++;
		for (int64 t = seq_start[i]; t < seq_start[i + 1]; t++)
		{
			int			v = vid[seq[t]] - FS_TEXT_FIRST_TOKEN;

			if (v >= 0 && v < ntop)
			{
				cnt[b * ntop + v]++;
				cnt[nclass * ntop + v]++;
				tot[b]++;
				tot[nclass]++;
			}
		}
	}
	for (int b = 0; b < nclass && tot[nclass] > 0; b++)
	{
		double		d = 0;

		if (tot[b] == 0)
			continue;
		for (int v = 0; v < ntop; v++)
			d += fabs(cnt[b * ntop + v] / tot[b] - cnt[nclass * ntop + v] / tot[nclass]);
		score += (double) nr[b] / nrows * 0.5 * d;
	}
	pfree(cnt);
	pfree(tot);
	pfree(nr);
	return score;
}

/* The dot product of a and b (a token's profile, a centre), n dimensions. */
static double
fs_text_dot(const double *a, const double *b, int n)
{
	double		dot = 0;

	for (int d = 0; d < n; d++)
		dot += a[d] * b[d];
	return dot;
}

/*
 * The target the leaf tree predicts for each of the ntext texts (token codes
 * seq[seq_start[i] .. seq_start[i+1]), of sampled rows rows_of[i]): which
 * kind of the terms that the other columns tell about it holds most.
 *
 * Each of the FS_TEXT_CLUSTER_TOKENS most common vocabulary tokens is tested
 * against each of the npreds predictor columns preds (cls: classes per
 * column, column-major over n rows): the chi-square statistic of its
 * presence against the column's classes, less what chance gives (its
 * degrees of freedom plus FS_TEXT_CHANCE_SD standard deviations).  A token
 * with an excess against some column tells about it; its profile is its
 * standardized residuals per class of every column it tells about
 * (FS_TEXT_CLUSTER_DIMS classes at most, columns taken in table order), so
 * that tokens of low ratings point one way and tokens of high ratings
 * another, however often each occurs.  The telling tokens are clustered by
 * the direction of their profiles (spherical k-means weighted by the excess,
 * farthest-first start from the strongest token: deterministic) into at
 * most FS_TEXT_CLUSTERS - 1 kinds, and a text's target is the kind whose
 * tokens in it have the largest excess in all, or "none" (the last class)
 * when it has no telling token.  Returns the kinds made (target classes:
 * kinds + 1), 0 when no token tells about any column.
 */
static int
fs_text_targets(const int32 *seq, const int64 *seq_start, int ntext,
				const int32 *vid, int nvocab, const int32 *rows_of,
				const int32 *cls, int n, const int *preds, int npreds,
				const int32 *nclass, int32 *target)
{
	int			nf = Min(nvocab, FS_TEXT_CLUSTER_TOKENS);
	int			kmax = FS_TEXT_CLUSTERS - 1;
	int			nk = 0;
	int			ndims = 0;
	int32	   *df = palloc0(sizeof(int32) * Max(nf, 1));
	int32	   *last = palloc(sizeof(int32) * Max(nf, 1));
	double	   *weight = palloc0(sizeof(double) * Max(nf, 1));
	double	   *prof = palloc0(sizeof(double) * (Size) Max(nf, 1) * FS_TEXT_CLUSTER_DIMS);
	int32	   *kind = palloc(sizeof(int32) * Max(nf, 1));
	double	   *cen = palloc0(sizeof(double) * (Size) kmax * FS_TEXT_CLUSTER_DIMS);
	double	   *best_cos = palloc(sizeof(double) * Max(nf, 1));
	double	   *score = palloc(sizeof(double) * (kmax + 1));
	int64	   *fstart = palloc(sizeof(int64) * (ntext + 1));
	int32	   *feat = NULL;
	int64		nnz = 0;
	int			ntelling = 0;

	/* the distinct tokens of every text (pass 0 counts them) */
	fstart[0] = 0;
	for (int pass = 0; pass < 2; pass++)
	{
		for (int f = 0; f < nf; f++)
			last[f] = -1;
		nnz = 0;
		for (int i = 0; i < ntext; i++)
		{
			for (int64 t = seq_start[i]; t < seq_start[i + 1]; t++)
			{
				int			f = vid[seq[t]] - FS_TEXT_FIRST_TOKEN;

				if (f >= 0 && f < nf && last[f] != i)
				{
					last[f] = i;
					if (pass == 0)
						df[f]++;
					else
						feat[nnz] = f;
					nnz++;
				}
			}
			fstart[i + 1] = nnz;
			if (i % 1024 == 0)
				CHECK_FOR_INTERRUPTS();
		}
		if (pass == 0)
			feat = palloc(sizeof(int32) * Max(nnz, 1));
	}

	/* per column: every token's excess and residuals */
	for (int p = 0; p < npreds; p++)
	{
		int			x = preds[p];
		int			nb = nclass[x];
		const int32 *xcls = cls + (int64) x * n;
		int32	   *tab;
		int32	   *nrow;
		int			present = 0;

		if (ndims + nb > FS_TEXT_CLUSTER_DIMS)
			continue;
		tab = palloc0(sizeof(int32) * (Size) nb * Max(nf, 1));
		nrow = palloc0(sizeof(int32) * nb);
		for (int i = 0; i < ntext; i++)
		{
			int			b = xcls[rows_of[i]];

			nrow[b]++;
			for (int64 q = fstart[i]; q < fstart[i + 1]; q++)
				tab[(Size) b * nf + feat[q]]++;
		}
		for (int b = 0; b < nb; b++)
			present += nrow[b] > 0;
		for (int f = 0; f < nf && present > 1; f++)
		{
			double		share = (double) df[f] / ntext;
			double		chi2 = 0;
			int			dof = present - 1;
			double		excess;

			if (share >= 1)
				continue;		/* in every text: tells nothing */
			for (int b = 0; b < nb; b++)
				if (nrow[b] > 0)
				{
					double		e = nrow[b] * share;
					double		d = tab[(Size) b * nf + f] - e;

					chi2 += d * d / (e * (1 - share));
				}
			/* chance gives dof on average, give or take sqrt(2 dof) */
			excess = chi2 - dof - FS_TEXT_CHANCE_SD * sqrt(2.0 * dof);
			if (excess <= 0)
				continue;
			weight[f] = Max(weight[f], excess / ntext);
			for (int b = 0; b < nb; b++)
				if (nrow[b] > 0)
				{
					double		e = nrow[b] * share;

					prof[(Size) f * FS_TEXT_CLUSTER_DIMS + ndims + b] =
						(tab[(Size) b * nf + f] - e) / sqrt(e * (1 - share));
				}
		}
		ndims += nb;
		pfree(tab);
		pfree(nrow);
		CHECK_FOR_INTERRUPTS();
	}

	/* the telling tokens' profiles as directions */
	for (int f = 0; f < nf; f++)
	{
		double	   *pf = &prof[(Size) f * FS_TEXT_CLUSTER_DIMS];
		double		sq = 0;

		kind[f] = -1;
		for (int d = 0; d < ndims; d++)
			sq += pf[d] * pf[d];
		if (weight[f] <= 0 || sq <= 0)
		{
			weight[f] = 0;
			continue;
		}
		for (int d = 0; d < ndims; d++)
			pf[d] /= sqrt(sq);
		ntelling++;
	}

	/* farthest-first start: the strongest token, then the least covered */
	for (int f = 0; f < nf; f++)
		best_cos[f] = -2;
	while (nk < kmax && ntelling > 0)
	{
		int			pick = -1;
		double		far = 1e-9;

		for (int f = 0; f < nf; f++)
			if (weight[f] > 0)
			{
				double		dist = nk == 0 ? 1 : weight[f] * (1 - best_cos[f]);

				if (nk == 0 ? (pick < 0 || weight[f] > weight[pick]) : dist > far)
				{
					pick = f;
					far = dist;
				}
			}
		if (pick < 0)
			break;				/* every telling token points like a centre */
		memcpy(&cen[(Size) nk * FS_TEXT_CLUSTER_DIMS], &prof[(Size) pick * FS_TEXT_CLUSTER_DIMS],
			   sizeof(double) * ndims);
		for (int f = 0; f < nf; f++)
			if (weight[f] > 0)
				best_cos[f] = Max(best_cos[f],
								  fs_text_dot(&prof[(Size) f * FS_TEXT_CLUSTER_DIMS],
											  &cen[(Size) nk * FS_TEXT_CLUSTER_DIMS], ndims));
		nk++;
	}

	/* rounds: each token to its nearest centre, centres to their tokens' mean */
	for (int iter = 0; iter < FS_TEXT_CLUSTER_ITERS && nk > 0; iter++)
	{
		int			moved = 0;

		for (int f = 0; f < nf; f++)
		{
			int			best = 0;
			double		bdot = -INFINITY;

			if (weight[f] <= 0)
				continue;
			for (int k = 0; k < nk; k++)
			{
				double		dot = fs_text_dot(&prof[(Size) f * FS_TEXT_CLUSTER_DIMS],
											  &cen[(Size) k * FS_TEXT_CLUSTER_DIMS], ndims);

				if (dot > bdot)
				{
					best = k;
					bdot = dot;
				}
			}
			moved += kind[f] != best;
			kind[f] = best;
		}
		if (moved == 0)
			break;
		for (int k = 0; k < nk; k++)
		{
			double	   *ck = &cen[(Size) k * FS_TEXT_CLUSTER_DIMS];
			double		sq = 0;

			memset(ck, 0, sizeof(double) * ndims);
			for (int f = 0; f < nf; f++)
				if (weight[f] > 0 && kind[f] == k)
					for (int d = 0; d < ndims; d++)
						ck[d] += weight[f] * prof[(Size) f * FS_TEXT_CLUSTER_DIMS + d];
			for (int d = 0; d < ndims; d++)
				sq += ck[d] * ck[d];
			for (int d = 0; d < ndims && sq > 0; d++)
				ck[d] /= sqrt(sq);
		}
		CHECK_FOR_INTERRUPTS();
	}

	/* each text: the kind of most excess among its tokens, or none */
	for (int i = 0; i < ntext; i++)
	{
		int			best = nk;

		for (int k = 0; k <= nk; k++)
			score[k] = 0;
		for (int64 q = fstart[i]; q < fstart[i + 1]; q++)
			if (kind[feat[q]] >= 0)
				score[kind[feat[q]]] += weight[feat[q]];
		for (int k = 0; k < nk; k++)
			if (score[k] > 0 && (best == nk || score[k] > score[best]))
				best = k;
		target[i] = best;
	}

	pfree(df);
	pfree(last);
	pfree(weight);
	pfree(prof);
	pfree(kind);
	pfree(cen);
	pfree(best_cos);
	pfree(score);
	pfree(fstart);
	pfree(feat);
	return nk;
}

/*
 * Fit the leaf tree of free-text column c into buf (see the file's header):
 * the texts' targets (fs_text_targets) predicted from the other categorical
 * and numeric columns that are neither balance nor context columns, split
 * first on the group (group_of, ngroups classes).  Sets *tree (nnodes 0: no
 * tree, when nothing predicts, no term depends on a predictor or the texts
 * are too few for two leaves) and leaf_row[r],
 * per sampled row, its leaf index, or -1 where the row's leaf is its whole
 * group; returns the leaves with an index, and their node ids in *leaf_node
 * (palloc'd).
 */
static int
fs_text_fit_tree(FsBuf *buf, FsSource *src, int c, const int32 *cls,
				 const int32 *nclass, const int32 *group_of, int ngroups,
				 const int *ctx_cols, int nctx_cols, const int32 *rows_of,
				 int ntext, const int32 *seq, const int64 *seq_start,
				 const int32 *vid, int nvocab, FsTree *tree, int32 *leaf_row,
				 int32 **leaf_node)
{
	int			ncols = src->ncols;
	int			n = src->nsample;
	int			min_leaf = Max(FS_TEXT_LEAF_MIN_ROWS,
							   (ntext + FS_TEXT_MAX_LEAVES - 1) / FS_TEXT_MAX_LEAVES);
	int		   *preds = palloc(sizeof(int) * Max(ncols, 1));
	int			npreds = 0;
	int32	   *fit;
	int32	   *fnclass;
	bool	   *fordered;
	int32	   *target;
	int32	   *row;
	int32	   *index_of;
	int			ntargets;		/* the kinds and none */
	int			nleaves = 0;
	FsTreeInput in;

	memset(tree, 0, sizeof(FsTree));
	*leaf_node = NULL;
	for (int r = 0; r < n; r++)
		leaf_row[r] = -1;
	for (int x = 0; x < ncols; x++)
	{
		bool		ctx = false;

		for (int j = 0; j < nctx_cols; j++)
			ctx = ctx || ctx_cols[j] == x;
		if (x != c && !ctx && src->cols[x].balance_pos < 0 &&
			(src->cols[x].kind == FS_CAT || src->cols[x].kind == FS_NUM) &&
			nclass[x] >= 2)
			preds[npreds++] = x;
	}
	if (npreds == 0 || ntext < 2 * min_leaf)
	{
		pfree(preds);
		return 0;
	}

	/* the texts' targets: no tree if no column tells about the terms */
	target = palloc(sizeof(int32) * ntext);
	ntargets = fs_text_targets(seq, seq_start, ntext, vid, nvocab, rows_of,
							   cls, n, preds, npreds, nclass, target) + 1;
	if (ntargets < 2)
	{
		pfree(preds);
		pfree(target);
		return 0;
	}

	/* the rows' classes, the group and the target (NULL texts: left out) */
	fit = palloc(sizeof(int32) * (Size) (ncols + 2) * n);
	memcpy(fit, cls, sizeof(int32) * (Size) ncols * n);
	memcpy(fit + (int64) ncols * n, group_of, sizeof(int32) * n);
	for (int r = 0; r < n; r++)
		fit[(int64) (ncols + 1) * n + r] = ntargets;
	for (int i = 0; i < ntext; i++)
		fit[(int64) (ncols + 1) * n + rows_of[i]] = target[i];
	fnclass = palloc(sizeof(int32) * (ncols + 2));
	fordered = palloc0(sizeof(bool) * (ncols + 2));
	memcpy(fnclass, nclass, sizeof(int32) * ncols);
	fnclass[ncols] = ngroups;
	fnclass[ncols + 1] = ntargets + 1;
	for (int x = 0; x < ncols; x++)
		fordered[x] = src->cols[x].kind == FS_NUM;

	memset(&in, 0, sizeof(in));
	in.classes = fit;
	in.nrows = n;
	in.ncols = ncols + 2;
	in.nclass = fnclass;
	in.ordered = fordered;
	in.target = ncols + 1;
	in.preds = preds;
	in.npreds = npreds;
	in.min_leaf = min_leaf;
	in.group_min_leaf = min_leaf;
	in.group_smoothing = 0;
	in.max_depth = FS_TEXT_LEAF_DEPTH;
	in.group_col = FS_GROUP_COL(ncols);
	in.exclude_class = ntargets;
	in.target_value = NULL;
	in.min_gain = FS_TEXT_LEAF_MIN_GAIN;
	fs_tree_fit(buf, &in, 0, tree);

	/* every row's leaf; a leaf that is its whole group has no index */
	index_of = palloc(sizeof(int32) * tree->nnodes);
	*leaf_node = palloc(sizeof(int32) * tree->nnodes);
	for (int id = 0; id < tree->nnodes; id++)
		index_of[id] = -1;
	row = palloc(sizeof(int32) * FS_CLASS_STRIDE(ncols));
	for (int r = 0; r < n; r++)
	{
		int			g = group_of[r];
		int			leaf;

		if (r % 4096 == 0)
			CHECK_FOR_INTERRUPTS();
		for (int x = 0; x <= ncols; x++)
			row[x] = fit[(int64) x * n + r];
		leaf = fs_tree_leaf_in_group(buf->data, tree, g, row);
		if (leaf == FS_AT(buf->data, tree->starts, FsStart)[g].node)
			continue;
		if (index_of[leaf] < 0)
		{
			(*leaf_node)[nleaves] = leaf;
			index_of[leaf] = nleaves++;
		}
		leaf_row[r] = index_of[leaf];
	}
	pfree(preds);
	pfree(fit);
	pfree(fnclass);
	pfree(fordered);
	pfree(target);
	pfree(row);
	pfree(index_of);
	return nleaves;
}

/*
 * Fit the text model of free-text column c on the sample (cls: every
 * column's class per sampled row, column-major, as model.c has them; nclass
 * per column) into buf; returns its offset.
 */
FsOff
fs_text_fit(FsBuf *buf, FsSource *src, int c, const int32 *cls,
			const int32 *nclass)
{
	FsColumn   *col = &src->cols[c];
	int			n = src->nsample;
	int			k = fairsynth_rare_threshold;
	FsDict	   *tokdict = fs_dict_create(1024);
	int64		df_cap = 1024;
	int64	   *df = palloc0(sizeof(int64) * df_cap);
	int32	   *last_row = palloc(sizeof(int32) * df_cap);
	int64		seq_cap = 4096;
	int32	   *seq = palloc(sizeof(int32) * seq_cap);	/* token codes */
	int64	   *seq_start = palloc(sizeof(int64) * (n + 1));
	int32	   *rows_of = palloc(sizeof(int32) * Max(n, 1));	/* text rows */
	int			ntext = 0;
	int			ncodes;
	int		   *order;
	int32	   *vid;
	int			nvocab;
	int			ctx_cols[FS_TEXT_MAX_CTX];
	int			nctx_cols = 0;
	int			ngroups = 1;
	int32	   *group_of;
	FsTree		tree;
	int			nleaves;
	int32	   *leaf_row;		/* per sampled row: its leaf, or -1 */
	int32	   *leaf_node;		/* per leaf: its node */
	int			nsets;			/* groups, all rows, leaves */
	int32	   *grows;
	int32	   *gnulls;
	FsDict	   *ngrams;
	FsNgram    *ng;
	int			nng;
	int64	   *text_count;
	uint64	   *rare;
	int			nrare = 0;
	FsDict	   *shapedict;
	int32	   *shape_of;
	int32	   *shape_vid;
	int			rare_terms_cap = 64;
	uint64	   *rare_terms = palloc(sizeof(uint64) * rare_terms_cap);
	int			nrare_terms = 0;
	int32	   *lens;
	float4	   *group_lens;
	int32		letters[27 * 27] = {0};
	FsOff		moff;
	FsTextModel *tm;
	int			nkept;
	int			nctx;

	/* ---- tokenize every sampled text; rows having each token ---- */
	seq_start[0] = 0;
	for (int r = 0; r < n; r++)
	{
		double		x = src->sample[(int64) r * src->ncols + c];
		const char *s;
		int			len;
		int			ntok = 0;

		if (isnan(x))
			continue;
		s = fs_dict_key(col->dict, (int) x, &len);
		for (int pos = 0; pos < len && ntok < FS_TEXT_MAX_TOKENS &&
			 seq_start[ntext] + ntok < FS_TEXT_MAX_FIT_TOKENS;)
		{
			int			end = fs_token_end(s, len, pos);
			int			code = fs_dict_lookup(tokdict, s + pos, end - pos, true);

			if (code >= df_cap)
			{
				df = repalloc_huge(df, sizeof(int64) * df_cap * 2);
				memset(df + df_cap, 0, sizeof(int64) * df_cap);
				last_row = repalloc_huge(last_row, sizeof(int32) * df_cap * 2);
				df_cap *= 2;
			}
			if (df[code] == 0 || last_row[code] != r)
			{
				df[code]++;
				last_row[code] = r;
			}
			if (seq_start[ntext] + ntok >= seq_cap)
			{
				seq_cap *= 2;
				seq = repalloc_huge(seq, sizeof(int32) * seq_cap);
			}
			seq[seq_start[ntext] + ntok++] = code;
			pos = end;
		}
		rows_of[ntext] = r;
		seq_start[ntext + 1] = seq_start[ntext] + ntok;
		ntext++;
		if (ntext % 1024 == 0)
			CHECK_FOR_INTERRUPTS();
	}

	/* ---- vocabulary: tokens of at least k rows, the most common first ---- */
	ncodes = fs_dict_size(tokdict);
	order = palloc(sizeof(int) * Max(ncodes, 1));
	for (int i = 0; i < ncodes; i++)
		order[i] = i;
	fs_sort_df = df;
	qsort(order, ncodes, sizeof(int), fs_df_cmp);
	vid = palloc(sizeof(int32) * Max(ncodes, 1));
	nvocab = 0;
	for (int i = 0; i < ncodes; i++)
	{
		int			code = order[i];

		if (df[code] >= k && nvocab < FS_TEXT_MAX_VOCAB)
			vid[code] = FS_TEXT_FIRST_TOKEN + nvocab++;
		else
			vid[code] = FS_TEXT_UNK;
	}

	/*
	 * ---- rare words: their shapes, tokens when rows enough have them ----
	 * A rare word is learned as its shape (the whitespace before it, and
	 * for a number its first digit and length, else its pattern of lower and
	 * upper case letters, digits and apostrophes); its letters go into the
	 * letter bigrams fresh words are spelled from, its lowercase term into
	 * the terms never emitted.
	 */
	shapedict = fs_dict_create(64);
	shape_of = palloc(sizeof(int32) * Max(ncodes, 1));
	for (int code = 0; code < ncodes; code++)
	{
		int			len;
		const char *tk = fs_dict_key(tokdict, code, &len);
		int			ws = 0;
		bool		digits = true;
		char		key[64 + FS_TEXT_MAX_PATTERN];
		int			keep;
		int			klen;

		shape_of[code] = -1;
		if (vid[code] != FS_TEXT_UNK)
			continue;
		while (ws < len && fs_is_space((unsigned char) tk[ws]))
			ws++;
		if (ws == len || !fs_is_word((unsigned char) tk[ws]))
			continue;			/* rare punctuation or symbols: dropped */
		for (int i = ws; i < len && digits; i++)
			digits = tk[i] >= '0' && tk[i] <= '9';
		/* a fresh word must never be one of these */
		if (nrare_terms == rare_terms_cap)
		{
			rare_terms_cap *= 2;
			rare_terms = repalloc_huge(rare_terms, sizeof(uint64) * rare_terms_cap);
		}
		rare_terms[nrare_terms++] = fs_text_term_hash(tk + ws, len - ws);
		for (int i = ws, prev = 26; i <= len; i++)
		{
			int			ch = i == len ? 26 : fs_letter_index((unsigned char) tk[i]);

			if (ch < 0)
				continue;
			letters[prev * 27 + ch]++;
			prev = ch;
		}
		keep = Min(ws, 60);
		memcpy(key, tk + ws - keep, keep);
		if (digits && len - ws >= FS_TEXT_SHAPE_MIN_DIGITS && len - ws <= 255)
		{
			/* the first digit and the length */
			key[keep] = tk[ws];
			key[keep + 1] = (char) (len - ws);
			key[keep + 2] = 1;
			klen = keep + 3;
		}
		else if (len - ws <= FS_TEXT_MAX_PATTERN)
		{
			for (int i = ws; i < len; i++)
				key[keep + i - ws] = (tk[i] >= 'a' && tk[i] <= 'z') ? 'a' :
					(tk[i] >= 'A' && tk[i] <= 'Z') ? 'A' : tk[i] == '\'' ? '\'' : '9';
			key[keep + len - ws] = 2;
			klen = keep + len - ws + 1;
		}
		else
			continue;
		shape_of[code] = fs_dict_lookup(shapedict, key, klen, true);
	}
	{
		int			nshapes = fs_dict_size(shapedict);
		int32	   *sdf = palloc0(sizeof(int32) * Max(nshapes, 1));
		int32	   *slast = palloc(sizeof(int32) * Max(nshapes, 1));

		shape_vid = palloc(sizeof(int32) * Max(nshapes, 1));
		for (int i = 0; i < nshapes; i++)
			slast[i] = -1;
		for (int i = 0; i < ntext; i++)
			for (int64 t = seq_start[i]; t < seq_start[i + 1]; t++)
			{
				int			sh = shape_of[seq[t]];

				if (sh >= 0 && slast[sh] != i)
				{
					sdf[sh]++;
					slast[sh] = i;
				}
			}
		for (int i = 0; i < nshapes; i++)
			shape_vid[i] = sdf[i] >= k && nvocab < FS_TEXT_MAX_VOCAB ?
				FS_TEXT_FIRST_TOKEN + nvocab++ : FS_TEXT_UNK;
		for (int code = 0; code < ncodes; code++)
			if (shape_of[code] >= 0)
				vid[code] = shape_vid[shape_of[code]];
		pfree(sdf);
		pfree(slast);
	}

	/* ---- context columns: balance columns, then the most telling ---- */
	for (int b = 0; b < src->nbalance && nctx_cols < FS_TEXT_MAX_CTX; b++)
	{
		int			x = src->balance[b];

		if (nclass[x] >= 2 && ngroups * nclass[x] <= FS_TEXT_MAX_GROUPS)
		{
			ctx_cols[nctx_cols++] = x;
			ngroups *= nclass[x];
		}
	}
	for (;;)
	{
		int			best = -1;
		double		best_score = FS_TEXT_MIN_SCORE;

		if (nctx_cols == FS_TEXT_MAX_CTX || ntext == 0)
			break;
		for (int x = 0; x < src->ncols; x++)
		{
			bool		chosen = false;
			double		score;

			if (x == c || src->cols[x].balance_pos >= 0 ||
				(src->cols[x].kind != FS_CAT && src->cols[x].kind != FS_NUM) ||
				nclass[x] < 2 || nclass[x] > FS_TEXT_MAX_CTX_CLASSES ||
				ngroups * nclass[x] > FS_TEXT_MAX_GROUPS)
				continue;
			for (int j = 0; j < nctx_cols; j++)
				chosen = chosen || ctx_cols[j] == x;
			if (chosen)
				continue;
			score = fs_ctx_score(cls + (int64) x * n, nclass[x], rows_of, ntext,
								 seq, seq_start, vid,
								 Min(nvocab, FS_TEXT_SCORE_TOKENS));
			if (score >= best_score)
			{
				best = x;
				best_score = score;
			}
		}
		if (best < 0)
			break;
		ctx_cols[nctx_cols++] = best;
		ngroups *= nclass[best];
	}

	/* ---- group of every sampled row ---- */
	group_of = palloc(sizeof(int32) * Max(n, 1));
	for (int r = 0; r < n; r++)
	{
		int			g = 0;

		for (int j = 0; j < nctx_cols; j++)
			g = g * nclass[ctx_cols[j]] + cls[(int64) ctx_cols[j] * n + r];
		group_of[r] = g;
	}

	/* ---- the leaf of every sampled row (only in a group of enough texts) ---- */
	leaf_row = palloc(sizeof(int32) * Max(n, 1));
	nleaves = fs_text_fit_tree(buf, src, c, cls, nclass, group_of, ngroups,
							   ctx_cols, nctx_cols, rows_of, ntext, seq, seq_start,
							   vid, nvocab, &tree, leaf_row, &leaf_node);
	nsets = ngroups + 1 + nleaves;

	/* ---- texts and NULLs per group, over all rows, per leaf ---- */
	grows = palloc0(sizeof(int32) * nsets);
	gnulls = palloc0(sizeof(int32) * nsets);
	for (int r = 0; r < n; r++)
		if (!isnan(src->sample[(int64) r * src->ncols + c]))
			grows[group_of[r]]++;
	for (int r = 0; r < n; r++)
	{
		bool		isnull = isnan(src->sample[(int64) r * src->ncols + c]);

		if (grows[group_of[r]] < FS_TEXT_MIN_GROUP_ROWS)
			leaf_row[r] = -1;	/* its group is generated from all rows */
		if (isnull)
			gnulls[group_of[r]]++;
		(isnull ? gnulls : grows)[ngroups]++;
		if (leaf_row[r] >= 0)
			(isnull ? gnulls : grows)[ngroups + 1 + leaf_row[r]]++;
	}

	/* ---- length quantiles per group, over all rows, per leaf ---- */
	lens = palloc(sizeof(int32) * Max(ntext, 1));
	group_lens = palloc0(sizeof(float4) * nsets * FS_TEXT_LEN_POINTS);
	for (int g = 0; g < nsets; g++)
	{
		int			m = 0;

		for (int i = 0; i < ntext; i++)
			if (g == ngroups || (g < ngroups && group_of[rows_of[i]] == g) ||
				(g > ngroups && leaf_row[rows_of[i]] == g - ngroups - 1))
			{
				int			len;

				(void) fs_dict_key(col->dict, (int) src->sample[(int64) rows_of[i] * src->ncols + c], &len);
				lens[m++] = len;
			}
		if (m == 0)
			continue;
		qsort(lens, m, sizeof(int32), fs_int32_cmp);
		for (int j = 0; j < FS_TEXT_LEN_POINTS; j++)
		{
			/* from the k-th shortest to the k-th longest: no one's extreme */
			int			lo = m >= 2 * k ? k - 1 : (m - 1) / 2;
			int			hi = m >= 2 * k ? m - k : (m - 1) / 2;
			double		pos = lo + (double) j * (hi - lo) / (FS_TEXT_LEN_POINTS - 1);
			int			i0 = (int) floor(pos);
			double		f = pos - i0;

			group_lens[g * FS_TEXT_LEN_POINTS + j] = (float4)
				(i0 + 1 <= hi ? lens[i0] * (1 - f) + lens[i0 + 1] * f : lens[i0]);
		}
	}

	/*
	 * ---- n-grams per group, over all rows (group ngroups), per leaf ----
	 * (without context columns the one group is all rows)
	 */
	ngrams = fs_dict_create(4096);
	for (int i = 0; i < ntext; i++)
	{
		int32		sets[3] = {nctx_cols > 0 ? group_of[rows_of[i]] : ngroups,
			ngroups, leaf_row[rows_of[i]] >= 0 ? ngroups + 1 + leaf_row[rows_of[i]] : -1};
		int32		w1 = FS_TEXT_BOS,
					w2 = FS_TEXT_BOS;

		for (int64 t = seq_start[i]; t <= seq_start[i + 1]; t++)
		{
			int32		next = t < seq_start[i + 1] ? vid[seq[t]] : FS_TEXT_END;

			/* a rare token is never a successor; contexts with one are never met */
			if (next != FS_TEXT_UNK && w1 != FS_TEXT_UNK && w2 != FS_TEXT_UNK)
			{
				for (int pass = 0; pass < 3; pass++)
				{
					if (sets[pass] < 0 || (pass == 1 && nctx_cols == 0))
						continue;
					/* a group's rows in leaves back off to its unigrams only */
					for (int order3 = 1; order3 <= (pass == 0 && sets[2] >= 0 ? 1 : 3); order3++)
					{
						int32		key[5] = {sets[pass], order3, order3 == 3 ? w1 : -1,
						order3 >= 2 ? w2 : -1, next};

						fs_dict_lookup(ngrams, (const char *) key, sizeof(key), true);
					}
				}
			}
			w1 = w2;
			w2 = next;
		}
		if (i % 256 == 0)
			CHECK_FOR_INTERRUPTS();
	}
	nng = fs_dict_size(ngrams);
	ng = palloc(sizeof(FsNgram) * Max(nng, 1));
	for (int i = 0; i < nng; i++)
	{
		int			len;
		const int32 *key = (const int32 *) fs_dict_key(ngrams, i, &len);

		ng[i].group = key[0];
		ng[i].order = key[1];
		ng[i].w1 = key[2];
		ng[i].w2 = key[3];
		ng[i].next = key[4];
		ng[i].count = (int32) fs_dict_counts(ngrams)[i];
	}
	qsort(ng, nng, sizeof(FsNgram), fs_ngram_cmp);

	/*
	 * Bound the table: drop the rarest trigram, then bigram, then group
	 * unigram entries until it fits (count <= t marked by a negative count;
	 * their contexts keep their totals, so the mass goes to lower orders).
	 */
	nkept = nng;
	for (int t = 1; nkept > FS_TEXT_MAX_NGRAMS; t++)
		for (int ord = 3; ord >= 1 && nkept > FS_TEXT_MAX_NGRAMS; ord--)
			for (int i = 0; i < nng; i++)
				if (ng[i].order == ord && ng[i].count > 0 && ng[i].count <= t &&
					!(ord == 1 && ng[i].group == ngroups))
				{
					ng[i].count = -ng[i].count;
					nkept--;
				}

	/* ---- texts fewer than k rows have: never generated ---- */
	text_count = palloc0(sizeof(int64) * Max(fs_dict_size(col->dict), 1));
	for (int i = 0; i < ntext; i++)
		text_count[(int) src->sample[(int64) rows_of[i] * src->ncols + c]]++;
	rare = palloc(sizeof(uint64) * Max(ntext, 1));
	for (int code = 0; code < fs_dict_size(col->dict); code++)
		if (text_count[code] > 0 && text_count[code] < k)
		{
			int			len;
			const char *s = fs_dict_key(col->dict, code, &len);

			rare[nrare++] = fs_text_hash(s, len);
		}
	qsort(rare, nrare, sizeof(uint64), fs_uint64_cmp);

	/* ---- write the model ---- */
	moff = fs_buf_alloc(buf, sizeof(FsTextModel));
	{
		FsOff		toff = fs_buf_alloc(buf, sizeof(FsTextToken) * (FS_TEXT_FIRST_TOKEN + nvocab));
		FsOff		goff = fs_buf_alloc(buf, sizeof(FsTextGroup) * nsets);
		FsOff		roff = fs_buf_alloc(buf, sizeof(uint64) * Max(nrare, 1));

		tm = FS_AT(buf->data, moff, FsTextModel);
		tm->ntokens = FS_TEXT_FIRST_TOKEN + nvocab;
		tm->tokens = toff;
		tm->groups = goff;
		tm->rare = roff;
		tm->nrare = nrare;
		memcpy(buf->data + roff, rare, sizeof(uint64) * nrare);
	}
	for (int code = 0; code < ncodes; code++)
		if (vid[code] >= FS_TEXT_FIRST_TOKEN)
		{
			int			len;
			const char *s = fs_dict_key(tokdict, code, &len);
			FsOff		koff = fs_buf_alloc(buf, len);
			FsTextToken *tok;

			memcpy(buf->data + koff, s, len);
			tok = FS_AT(buf->data, FS_AT(buf->data, moff, FsTextModel)->tokens, FsTextToken) + vid[code];
			tok->key = koff;
			tok->len = len;
			tok->starts_word = len > 0 && fs_is_word((unsigned char) s[0]);
			tok->ends_word = len > 0 && fs_is_word((unsigned char) s[len - 1]);
		}
	for (int sh = 0; sh < fs_dict_size(shapedict); sh++)
		if (shape_vid[sh] >= FS_TEXT_FIRST_TOKEN)
		{
			int			len;
			const char *key = fs_dict_key(shapedict, sh, &len);
			FsTextToken *tok;

			bool		number = key[len - 1] == 1;
			int			klen = number ? len - 2 : len - 1;
			FsOff		koff = fs_buf_alloc(buf, klen);

			memcpy(buf->data + koff, key, klen);
			tok = FS_AT(buf->data, FS_AT(buf->data, moff, FsTextModel)->tokens, FsTextToken) + shape_vid[sh];
			tok->key = koff;
			tok->len = klen;
			tok->starts_word = !fs_is_space((unsigned char) key[0]);
			tok->ends_word = true;
			tok->shape_len = number ? (unsigned char) key[len - 2] : -1;
		}
	qsort(rare_terms, nrare_terms, sizeof(uint64), fs_uint64_cmp);
	{
		FsOff		off = fs_buf_alloc(buf, sizeof(uint64) * Max(nrare_terms, 1));

		memcpy(buf->data + off, rare_terms, sizeof(uint64) * nrare_terms);
		tm = FS_AT(buf->data, moff, FsTextModel);
		tm->rare_terms = off;
		tm->nrare_terms = nrare_terms;
		off = fs_buf_alloc(buf, sizeof(int32) * 27 * 27);
		tm = FS_AT(buf->data, moff, FsTextModel);
		tm->letters = off;
		/* cumulative per row: the letter after letter r (26: a word's edge) */
		for (int r = 0; r < 27; r++)
			for (int ch = 0, acc = 0; ch < 27; ch++)
			{
				acc += letters[r * 27 + ch];
				FS_AT(buf->data, off, int32)[r * 27 + ch] = acc;
			}
	}
	{
		FsTextGroup *groups;

		tm = FS_AT(buf->data, moff, FsTextModel);
		groups = FS_AT(buf->data, tm->groups, FsTextGroup);
		for (int g = 0; g < nsets; g++)
		{
			groups[g].rows = grows[g];
			groups[g].null_share = grows[g] + gnulls[g] > 0 ?
				(float4) gnulls[g] / (grows[g] + gnulls[g]) : 0;
			memcpy(groups[g].len_q, group_lens + g * FS_TEXT_LEN_POINTS,
				   sizeof(float4) * FS_TEXT_LEN_POINTS);
		}
		tm->nctx_cols = nctx_cols;
		for (int j = 0; j < nctx_cols; j++)
		{
			tm->ctx_cols[j] = ctx_cols[j];
			tm->ctx_nclass[j] = nclass[ctx_cols[j]];
		}
		tm->ngroups = ngroups;
		tm->tree = tree;
		tm->nleaves = nleaves;
		tm->max_chars = (col->typid == VARCHAROID || col->typid == BPCHAROID) &&
			col->typmod >= (int32) VARHDRSZ ? col->typmod - (int32) VARHDRSZ : -1;
	}

	/* the leaf of every node of the leaf tree */
	if (tree.nnodes > 0)
	{
		FsOff		off = fs_buf_alloc(buf, sizeof(int32) * tree.nnodes);
		int32	   *leaf_of = FS_AT(buf->data, off, int32);

		for (int id = 0; id < tree.nnodes; id++)
			leaf_of[id] = -1;
		for (int l = 0; l < nleaves; l++)
			leaf_of[leaf_node[l]] = l;
		FS_AT(buf->data, moff, FsTextModel)->leaf_of = off;
	}

	/* contexts and their kept successors, in sorted order */
	nctx = 0;
	for (int i = 0; i < nng; i++)
		if (i == 0 || fs_ngram_cmp(&(FsNgram) {ng[i].group, ng[i].order, ng[i].w1, ng[i].w2, 0, 0},
								   &(FsNgram) {ng[i - 1].group, ng[i - 1].order, ng[i - 1].w1, ng[i - 1].w2, 0, 0}) != 0)
			nctx++;
	{
		FsOff		coff = fs_buf_alloc(buf, sizeof(FsTextCtx) * Max(nctx, 1));
		FsOff		soff = fs_buf_alloc(buf, sizeof(FsTextSucc) * Max(nkept, 1));
		int			nslots = 16;
		FsOff		sloff;
		FsTextCtx  *ctx;
		FsTextSucc *succ;
		int32	   *slots;
		int			ci = -1;
		int			si = 0;

		while (nslots < 2 * nctx)
			nslots *= 2;
		sloff = fs_buf_alloc(buf, sizeof(int32) * nslots);
		tm = FS_AT(buf->data, moff, FsTextModel);
		tm->ctx = coff;
		tm->nctx = nctx;
		tm->succ = soff;
		tm->slots = sloff;
		tm->nslots = nslots;
		ctx = FS_AT(buf->data, coff, FsTextCtx);
		succ = FS_AT(buf->data, soff, FsTextSucc);
		slots = FS_AT(buf->data, sloff, int32);
		for (int s = 0; s < nslots; s++)
			slots[s] = -1;
		for (int i = 0; i < nng; i++)
		{
			int			cnt = ng[i].count;

			if (ci < 0 || ctx[ci].group != ng[i].group || ctx[ci].order != ng[i].order ||
				ctx[ci].w1 != ng[i].w1 || ctx[ci].w2 != ng[i].w2)
			{
				uint32		h;

				ci++;
				ctx[ci].group = ng[i].group;
				ctx[ci].order = ng[i].order;
				ctx[ci].w1 = ng[i].w1;
				ctx[ci].w2 = ng[i].w2;
				ctx[ci].first = si;
				h = fs_ctx_hash(ng[i].group, ng[i].order, ng[i].w1, ng[i].w2) & (nslots - 1);
				while (slots[h] >= 0)
					h = (h + 1) & (nslots - 1);
				slots[h] = ci;
			}
			ctx[ci].total += Abs(cnt);
			ctx[ci].types++;
			if (cnt > 0)
			{
				succ[si].tok = ng[i].next;
				succ[si].cum = (ctx[ci].nsucc > 0 ? succ[si - 1].cum : 0) + cnt;
				ctx[ci].nsucc++;
				si++;
			}
		}
	}

	pfree(df);
	pfree(last_row);
	pfree(seq);
	pfree(seq_start);
	pfree(rows_of);
	pfree(order);
	pfree(vid);
	pfree(group_of);
	pfree(grows);
	pfree(gnulls);
	pfree(ng);
	pfree(text_count);
	pfree(rare);
	pfree(rare_terms);
	pfree(shape_of);
	pfree(shape_vid);
	pfree(lens);
	pfree(group_lens);
	pfree(leaf_row);
	if (leaf_node)
		pfree(leaf_node);
	return moff;
}

/* ----------------------------------------------------------------
 * Generation
 * ---------------------------------------------------------------- */

/* The context of group, order and history, or NULL. */
static const FsTextCtx *
fs_text_ctx(const FsModel *m, const FsTextModel *tm, int32 group, int32 order,
			int32 w1, int32 w2)
{
	const int32 *slots = FS_AT(m, tm->slots, int32);
	const FsTextCtx *ctx = FS_AT(m, tm->ctx, FsTextCtx);
	uint32		h = fs_ctx_hash(group, order, w1, w2) & (tm->nslots - 1);

	while (slots[h] >= 0)
	{
		const FsTextCtx *x = &ctx[slots[h]];

		if (x->group == group && x->order == order && x->w1 == w1 && x->w2 == w2)
			return x;
		h = (h + 1) & (tm->nslots - 1);
	}
	return NULL;
}

/* A successor of ctx drawn by its counts. */
static int32
fs_text_pick(const FsModel *m, const FsTextModel *tm, const FsTextCtx *ctx,
			 pg_prng_state *rng)
{
	const FsTextSucc *s = FS_AT(m, tm->succ, FsTextSucc) + ctx->first;
	int32		u = (int32) pg_prng_uint64_range(rng, 0, s[ctx->nsucc - 1].cum - 1);
	int			lo = 0,
				hi = ctx->nsucc - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (s[mid].cum <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return s[lo].tok;
}

/*
 * The next token after w1 w2 in group g (ngroups: all rows) and leaf set
 * (its n-gram group, or -1): Witten-Bell back-off, drawn as the mixture it is
 * (at each order, a successor seen after the context with probability kept /
 * (total + types), else the next lower order): trigram, bigram and unigram
 * of the leaf, or else of the group; then the unigrams of the group (after a
 * leaf) and of all rows.
 */
static int32
fs_text_next(const FsModel *m, const FsTextModel *tm, int32 g, int32 leaf,
			 int32 w1, int32 w2, pg_prng_state *rng)
{
	int32		top = leaf >= 0 ? leaf : g;
	int32		levels[5][4] = {
		{top, 3, w1, w2}, {top, 2, -1, w2}, {top, 1, -1, -1}
	};
	int			nlevels = 3;
	const FsTextCtx *last = NULL;

	if (leaf >= 0 && g != tm->ngroups)
	{
		levels[nlevels][0] = g;
		levels[nlevels][1] = 1;
		levels[nlevels][2] = levels[nlevels][3] = -1;
		nlevels++;
	}
	if (top != tm->ngroups)
	{
		levels[nlevels][0] = tm->ngroups;
		levels[nlevels][1] = 1;
		levels[nlevels][2] = levels[nlevels][3] = -1;
		nlevels++;
	}
	for (int l = 0; l < nlevels; l++)
	{
		const FsTextCtx *ctx;

		ctx = fs_text_ctx(m, tm, levels[l][0], levels[l][1], levels[l][2], levels[l][3]);
		if (ctx == NULL || ctx->nsucc == 0)
			continue;
		last = ctx;
		if (fs_rand01(rng) * (ctx->total + ctx->types) <
			FS_AT(m, tm->succ, FsTextSucc)[ctx->first + ctx->nsucc - 1].cum)
			return fs_text_pick(m, tm, ctx, rng);
	}
	/* the lowest order reached takes the rest of the mass */
	return last != NULL ? fs_text_pick(m, tm, last, rng) : FS_TEXT_END;
}

/* Whether hash is one of the n ascending hashes at rare. */
static bool
fs_text_is_rare(const uint64 *rare, int n, uint64 hash)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (rare[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && rare[lo] == hash;
}

/* A letter after letter prev by the letter bigrams of the rare words. */
static int
fs_text_letter(const int32 *cum, int prev, pg_prng_state *rng)
{
	const int32 *row = cum + prev * 27;
	int32		u;
	int			ch = 0;

	/* a letter, never the edge (26): the length is the shape's */
	if (row[25] == 0)
		row = cum + 26 * 27;
	if (row[25] == 0)
		return (int) pg_prng_uint64_range(rng, 0, 25);
	u = (int32) pg_prng_uint64_range(rng, 0, row[25] - 1);
	while (row[ch] <= u)
		ch++;
	return ch;
}

/*
 * Append token tok to out: its bytes, or for a shape a fresh word of that
 * shape that is no rare term of the fitted rows (a number: the first digit,
 * then random digits; a word: letters from the letter bigrams in the
 * pattern's case).  False, with out unchanged, if no such word was found.
 */
static bool
fs_text_emit(const FsModel *m, const FsTextModel *tm, const FsTextToken *tok,
			 StringInfo out, pg_prng_state *rng)
{
	const char *key = (const char *) m + tok->key;
	const int32 *cum = FS_AT(m, tm->letters, int32);
	int			start = out->len;
	int			ws = 0;

	if (tok->shape_len == 0)
	{
		appendBinaryStringInfo(out, key, tok->len);
		return true;
	}
	while (ws < tok->len && fs_is_space((unsigned char) key[ws]))
		ws++;
	for (int attempt = 0; attempt < FS_TEXT_FRESH_RETRIES; attempt++)
	{
		out->len = start;
		out->data[start] = '\0';
		appendBinaryStringInfo(out, key, ws);
		if (tok->shape_len > 0)
		{
			appendStringInfoChar(out, key[ws]);
			for (int i = 1; i < tok->shape_len; i++)
				appendStringInfoChar(out, (char) ('0' + pg_prng_uint64_range(rng, 0, 9)));
		}
		else
		{
			int			prev = 26;

			for (int i = ws; i < tok->len; i++)
			{
				char		p = key[i];

				if (p == 'a' || p == 'A')
				{
					prev = fs_text_letter(cum, prev, rng);
					appendStringInfoChar(out, (char) ((p == 'a' ? 'a' : 'A') + prev));
				}
				else if (p == '9')
					appendStringInfoChar(out, (char) ('0' + pg_prng_uint64_range(rng, 0, 9)));
				else
					appendStringInfoChar(out, p);
			}
		}
		if (!fs_text_is_rare(FS_AT(m, tm->rare_terms, uint64), tm->nrare_terms,
							 fs_text_term_hash(out->data + start + ws,
											   out->len - start - ws)))
			return true;
	}
	out->len = start;
	out->data[start] = '\0';
	return false;
}

/*
 * Draw the value of free-text column c for a row whose other columns have
 * classes cls (one row of FS_CLASS_STRIDE(ncols)); false if NULL (never with
 * impute, unless the column was NULL in every fitted row).
 */
bool
fs_text_draw(FsSource *src, const FsModel *m, int c, const int32 *cls,
			 bool impute, pg_prng_state *rng, Datum *value)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;
	const FsTextModel *tm = FS_AT(m, mc->classes, FsTextModel);
	const FsTextGroup *groups = FS_AT(m, tm->groups, FsTextGroup);
	const FsTextToken *tokens = FS_AT(m, tm->tokens, FsTextToken);
	int32		g = 0;
	int32		leaf = -1;		/* the leaf's n-gram group, or -1 */
	const FsTextGroup *own;		/* the leaf's or group's lengths, NULLs */
	StringInfoData out;

	for (int j = 0; j < tm->nctx_cols && g >= 0; j++)
	{
		int32		x = cls[tm->ctx_cols[j]];

		g = x >= 0 && x < tm->ctx_nclass[j] ? g * tm->ctx_nclass[j] + x : -1;
	}
	/* the leaf of the row's other columns, in a group of enough texts */
	if (tm->tree.nnodes > 0 && g >= 0 &&
		groups[tm->nctx_cols > 0 ? g : tm->ngroups].rows >= FS_TEXT_MIN_GROUP_ROWS)
	{
		int			stride = FS_CLASS_STRIDE(m->ncols);
		int32	   *row = palloc(sizeof(int32) * stride);
		int			node;

		/* the tree's group slot holds the group, not the combination */
		memcpy(row, cls, sizeof(int32) * stride);
		row[FS_GROUP_COL(m->ncols)] = g;
		node = fs_tree_leaf_in_group((const char *) m, &tm->tree, g, row);
		leaf = FS_AT(m, tm->leaf_of, int32)[node];
		if (leaf >= 0 && groups[tm->ngroups + 1 + leaf].rows >= FS_TEXT_MIN_GROUP_ROWS)
			leaf += tm->ngroups + 1;
		else
			leaf = -1;
		pfree(row);
	}
	/* without context columns, every n-gram is counted under all rows */
	if (tm->nctx_cols == 0)
		g = tm->ngroups;
	/* a group too small to learn from (or never seen): all rows */
	if (g < 0 || groups[g].rows < FS_TEXT_MIN_GROUP_ROWS)
		g = tm->ngroups;
	own = &groups[leaf >= 0 ? leaf : g];
	if (groups[tm->ngroups].rows == 0 ||
		(!impute && fs_rand01(rng) < own->null_share))
		return false;

	initStringInfo(&out);
	for (int attempt = 0;; attempt++)
	{
		int32		w1 = FS_TEXT_BOS,
					w2 = FS_TEXT_BOS;
		int			chars = 0;
		double		u = fs_rand01(rng) * (FS_TEXT_LEN_POINTS - 1);
		int			j = Min((int) u, FS_TEXT_LEN_POINTS - 2);
		/* the length this text is generated towards */
		double		target = own->len_q[j] +
			(u - j) * (own->len_q[j + 1] - own->len_q[j]);

		resetStringInfo(&out);
		for (int ntok = 0; ntok < FS_TEXT_MAX_TOKENS && out.len < target; ntok++)
		{
			int32		t = FS_TEXT_END;
			const FsTextToken *tok = NULL;

			for (int tries = 0; tries < FS_TEXT_TOKEN_RETRIES; tries++)
			{
				t = fs_text_next(m, tm, g, leaf, w1, w2, rng);
				tok = t == FS_TEXT_END ? NULL : &tokens[t];
				/* not ending before the length, unless nothing else comes */
				if (t == FS_TEXT_END && tries + 1 < FS_TEXT_TOKEN_RETRIES)
					continue;
				/* never glue a word onto the word before it: a new term */
				if (tok != NULL && tok->starts_word && w2 >= FS_TEXT_FIRST_TOKEN &&
					tokens[w2].ends_word)
				{
					t = FS_TEXT_END;
					continue;
				}
				break;
			}
			if (t == FS_TEXT_END)
				break;
			if (tm->max_chars >= 0)
			{
				int			add = pg_mbstrlen_with_len((const char *) m + tok->key, tok->len) +
					Max(tok->shape_len - 1, 0);

				if (chars + add > tm->max_chars)
					break;
				chars += add;
			}
			if (!fs_text_emit(m, tm, tok, &out, rng))
				continue;
			w1 = w2;
			w2 = t;
		}
		if (!fs_text_is_rare(FS_AT(m, tm->rare, uint64), tm->nrare,
							 fs_text_hash(out.data, out.len)))
			break;
		if (attempt >= FS_TEXT_RETRIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("could not draw a text for column \"%s\" unlike the rare texts of relation %s in %d draws",
							src->cols[c].name, src->relname, FS_TEXT_RETRIES + 1),
					 errhint("The column's texts are too few or too short to recombine; leave it out of free_text, or lower fairsynth.rare_threshold if the data is not personal.")));
		CHECK_FOR_INTERRUPTS();
	}
	*value = fs_key_to_datum(out.data, out.len, &src->cols[c]);
	return true;
}
