/*
 * text.h: the text model of free-text columns (text.c).
 *
 * A free-text column (kind FS_TEXTFREE) is not turned into classes: its
 * values are generated token by token from word n-grams (trigram, bigram,
 * unigram, Witten-Bell back-off) learned from the fitted rows, separately per
 * leaf of a tree on the row's other columns, inside a group of its context
 * columns (the balance columns and the label-like columns that tell most
 * about the text), backing off to the group, then to all rows.  The model
 * lives inside the model block (FsModelColumn.classes is the offset of its
 * FsTextModel), addressed by offsets like everything else there.
 */
#ifndef FAIRSYNTH_TEXT_H
#define FAIRSYNTH_TEXT_H

#include "model.h"

/* Context columns a text is conditioned on, at most. */
#define FS_TEXT_MAX_CTX 3

/* Special tokens: start of text (context only), end of text, a rare token. */
#define FS_TEXT_BOS 0
#define FS_TEXT_END 1
#define FS_TEXT_UNK 2
#define FS_TEXT_FIRST_TOKEN 3

/* Clusters of texts the leaf tree predicts, at most (text.c). */
#define FS_TEXT_CLUSTERS 8

/* Quantile points of a group's text lengths (text.c). */
#define FS_TEXT_LEN_POINTS 33

/* One token of the vocabulary: its bytes (leading whitespace included). */
typedef struct FsTextToken
{
	FsOff		key;
	int32		len;
	int32		starts_word;	/* first byte a word character (no space before) */
	int32		ends_word;		/* last byte a word character */
	int32		shape_len;		/* a rare number's shape: digits to emit,
								 * the first the key's last byte; -1: a rare
								 * word's shape, its pattern (a: lower, A:
								 * upper, 9: digit) after the whitespace;
								 * else 0 */
} FsTextToken;

/* One n-gram context: group, order and history; its successors. */
typedef struct FsTextCtx
{
	int32		group;			/* a group, ngroups (all rows), or
								 * ngroups + 1 + a leaf */
	int32		order;			/* 1, 2 or 3 */
	int32		w1;				/* the token two back (order 3), else -1 */
	int32		w2;				/* the token one back (order >= 2), else -1 */
	int32		total;			/* occurrences of the context, pruned included */
	int32		types;			/* distinct successors, pruned included */
	int32		first;			/* first FsTextSucc */
	int32		nsucc;			/* successors kept */
} FsTextCtx;

/* A successor of a context, with the cumulative count up to and with it. */
typedef struct FsTextSucc
{
	int32		tok;
	int32		cum;
} FsTextSucc;

/* What the model knows of one group of context classes, or of one leaf. */
typedef struct FsTextGroup
{
	int32		rows;			/* fitted rows with a text */
	float4		null_share;		/* share of its rows whose text is NULL */
	float4		len_q[FS_TEXT_LEN_POINTS];	/* byte lengths, equal-mass points */
} FsTextGroup;

typedef struct FsTextModel
{
	int32		ntokens;		/* vocabulary, special tokens included */
	FsOff		tokens;			/* FsTextToken[ntokens] */
	int32		nctx_cols;
	int32		ctx_cols[FS_TEXT_MAX_CTX];	/* columns the text depends on */
	int32		ctx_nclass[FS_TEXT_MAX_CTX];
	int32		ngroups;		/* product of ctx_nclass; group ngroups is
								 * every row */
	FsOff		groups;			/* FsTextGroup[ngroups + 1 + nleaves]: the
								 * groups, all rows, the leaves */
	/*
	 * The leaf tree (text.c): predicts the text's cluster from the row's
	 * other columns, split first on the group (its group column is the slot
	 * FS_GROUP_COL(ncols) of a row; a start per group); nnodes 0: none.
	 */
	FsTree		tree;
	int32		nleaves;		/* leaves with n-grams of their own */
	FsOff		leaf_of;		/* int32[tree.nnodes]: a node's leaf (its
								 * n-grams are group ngroups + 1 + leaf), or
								 * -1: its group's own n-grams */
	int32		nctx;
	FsOff		ctx;			/* FsTextCtx[nctx] */
	int32		nslots;			/* power of two */
	FsOff		slots;			/* int32[nslots]: ctx index, -1 empty */
	FsOff		succ;			/* FsTextSucc[] */
	int32		nrare;
	FsOff		rare;			/* uint64[nrare] ascending: hashes of texts
								 * fewer than rare_threshold rows have */
	int32		nrare_terms;
	FsOff		rare_terms;		/* uint64[nrare_terms] ascending: hashes of
								 * the rare terms, never emitted */
	FsOff		letters;		/* int32[27 * 27]: letter bigrams of rare
								 * words, cumulative per row (26: edge) */
	int32		max_chars;		/* varchar(n) / char(n): n, else -1 */
} FsTextModel;

extern void fs_text_choose(FsSource *src, ArrayType *free_text);
extern void fs_text_detect(FsSource *src);
extern bool fs_text_looks_free(int64 values, int64 distinct, double words);
extern int	fs_text_count_words(const char *s, int len);
extern FsOff fs_text_fit(FsBuf *buf, FsSource *src, int c, const int32 *cls,
						 const int32 *nclass);
extern bool fs_text_draw(FsSource *src, const FsModel *m, int c,
						 const int32 *cls, bool impute, pg_prng_state *rng,
						 Datum *value);

#endif							/* FAIRSYNTH_TEXT_H */
