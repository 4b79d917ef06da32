/*
 * plan.c: exact row counts per combination of the balance columns.
 *
 * The combinations are the cartesian product of every balance column's
 * observed non-NULL values, numbered in mixed radix (the first column varies
 * slowest).  The target share of a combination is the product of its
 * values' per-column shares: uniform, or as the target argument names them.
 * Counts are exact: shares times the total, rounded by largest remainder.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "fairsynth.h"

/* Codes of combination combo, one per balance column. */
void
fs_combo_decode(FsSource *src, int combo, int32 *codes)
{
	for (int b = src->nbalance - 1; b >= 0; b--)
	{
		int			n = fs_dict_size(src->cols[src->balance[b]].dict);

		codes[b] = combo % n;
		combo /= n;
	}
}

/* Index of the combination of codes, or -1 if a code is NULL (-1). */
int
fs_combo_encode(FsSource *src, const int32 *codes)
{
	int			combo = 0;

	for (int b = 0; b < src->nbalance; b++)
	{
		if (codes[b] < 0)
			return -1;
		combo = combo * fs_dict_size(src->cols[src->balance[b]].dict) + codes[b];
	}
	return combo;
}

/* The names of the balance columns, for messages. */
char *
fs_balance_names(FsSource *src)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int b = 0; b < src->nbalance; b++)
		appendStringInfo(&s, "%s%s", b > 0 ? ", " : "", src->cols[src->balance[b]].name);
	return s.data;
}

/* Error out unless n is a possible number of rows to generate. */
void
fs_check_num_rows(int64 n)
{
	if (n < 1 || n > fairsynth_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_rows must be between 1 and %d, not " INT64_FORMAT,
						fairsynth_max_rows, n),
				 errhint("fairsynth.max_rows sets the upper bound.")));
}

/*
 * Set shares[b][v] from the target for column b: named values get their
 * share, the others split the rest in proportion to their counts.
 */
static void
fs_column_shares(FsSource *src, int b, JsonbContainer *spec, double *share)
{
	FsColumn   *col = &src->cols[src->balance[b]];
	int			n = fs_dict_size(col->dict);
	int64	   *counts = fs_dict_counts(col->dict);
	bool	   *named = palloc0(sizeof(bool) * n);
	double		named_sum = 0;
	int64		rest_count = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (spec == NULL)
	{
		int64		total = 0;

		/* uniform; the outcome keeps its overall distribution */
		for (int i = 0; i < n; i++)
			total += counts[i];
		for (int i = 0; i < n; i++)
			share[i] = src->balance[b] == src->outcome ? (double) counts[i] / total : 1.0 / n;
		return;
	}

	it = JsonbIteratorInit(spec);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			int			code = -1;
			double		x;

			if (v.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target share of value \"%s\" of column \"%s\" must be a number",
								key, col->name),
						 errhint("Write shares as numbers, e.g. {\"%s\": {\"%s\": 0.5}}.",
								 col->name, key)));
			x = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												   NumericGetDatum(v.val.numeric)));
			/* a boolean value may be named true/false/t/f/yes/no/on/off/1/0 */
			if (col->type == FS_BOOL)
				key = pstrdup(DatumGetBool(DirectFunctionCall1(boolin, CStringGetDatum(key))) ? "t" : "f");
			for (int i = 0; i < n && code < 0; i++)
			{
				int			len;
				const char *k = fs_dict_key(col->dict, i, &len);

				if (strcmp(fs_key_to_text(k, len, col), key) == 0)
					code = i;
			}
			if (code < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target names value \"%s\" of column \"%s\", which does not occur in %s",
								key, col->name, src->relname),
						 errhint("Name values exactly as they are written in the column.")));
			if (!(x >= 0 && x <= 1))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target share %g of value \"%s\" of column \"%s\" must be between 0 and 1",
								x, key, col->name)));
			named[code] = true;
			share[code] = x;
			named_sum += x;
		}
	}
	if (named_sum > 1 + 1e-9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target shares of column \"%s\" sum to %g, more than 1",
						col->name, named_sum)));
	for (int i = 0; i < n; i++)
		if (!named[i])
			rest_count += counts[i];
	if (rest_count == 0 && fabs(named_sum - 1) > 1e-9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target shares of column \"%s\" sum to %g, but name every value",
						col->name, named_sum),
				 errhint("When every value is named the shares must sum to 1.")));
	for (int i = 0; i < n; i++)
		if (!named[i])
			share[i] = (1 - named_sum) * counts[i] / rest_count;
	pfree(named);
}

/* The per-column target container of column name, checking the target. */
static JsonbContainer *
fs_target_of(FsSource *src, Jsonb *target, int b)
{
	JsonbValue	k;
	JsonbValue *v;
	char	   *name = src->cols[src->balance[b]].name;

	if (target == NULL)
		return NULL;
	k.type = jbvString;
	k.val.string.val = name;
	k.val.string.len = strlen(name);
	v = findJsonbValueFromContainer(&target->root, JB_FOBJECT, &k);
	if (v == NULL)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target for column \"%s\" must be an object of value shares", name),
				 errhint("For example {\"%s\": {\"some value\": 0.5}}.", name)));
	return v->val.binary.data;
}

/* Check that the target names only balance columns. */
static void
fs_check_target_columns(FsSource *src, Jsonb *target)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(target) || JB_ROOT_IS_SCALAR(target))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must be a JSON object keyed by balance column"),
				 errhint("For example {\"income\": {\">50K\": 0.5}}.")));
	it = JsonbIteratorInit(&target->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			char	   *name = pnstrdup(v.val.string.val, v.val.string.len);
			bool		found = false;

			for (int b = 0; b < src->nbalance; b++)
				if (strcmp(src->cols[src->balance[b]].name, name) == 0)
					found = true;
			if (!found)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target names column \"%s\", which is neither a balance column nor the outcome",
								name),
						 errhint("The balance columns are: %s.", fs_balance_names(src))));
		}
	}
}

/* Order indices by descending fractional part, then ascending index. */
static const double *fs_frac;

static int
fs_frac_order(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (fs_frac[x] != fs_frac[y])
		return fs_frac[x] > fs_frac[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Round shares * total to integers summing to total (largest remainder). */
static void
fs_round_counts(const double *want, int n, int64 total, int64 *counts)
{
	int64		sum = 0;
	double	   *frac = palloc(sizeof(double) * Max(n, 1));
	int		   *order = palloc(sizeof(int) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		counts[i] = (int64) floor(want[i] + 1e-9);
		frac[i] = want[i] - counts[i];
		order[i] = i;
		sum += counts[i];
	}
	fs_frac = frac;
	qsort(order, n, sizeof(int), fs_frac_order);
	for (int j = 0; j < n && sum < total; j++, sum++)
		counts[order[j]]++;
	pfree(frac);
	pfree(order);
}

/*
 * Round want (ngroups x k cells, the outcome's k values varying fastest) to
 * integers summing to total so that every group (combination of the other
 * balance columns) gets its own largest-remainder count: equal groups stay
 * equal, whatever the ties between cells.  The outcome's totals are rounded
 * too: each group's remaining rows go to its cells of largest remainder,
 * and ties (as between equal groups) to the outcome values furthest from
 * their totals, so those stay within rounding of their targets as well.
 */
static void
fs_round_counts_outcome(const double *want, int ngroups, int k, int64 total,
						int64 *counts)
{
	double	   *gwant = palloc0(sizeof(double) * Max(ngroups, 1));
	double	   *owant = palloc0(sizeof(double) * Max(k, 1));
	int64	   *grows = palloc(sizeof(int64) * Max(ngroups, 1));
	int64	   *orows = palloc(sizeof(int64) * Max(k, 1));
	double	   *gleft = palloc(sizeof(double) * Max(ngroups, 1));
	int		   *order = palloc(sizeof(int) * Max(ngroups, 1));

	for (int g = 0; g < ngroups; g++)
		for (int o = 0; o < k; o++)
		{
			gwant[g] += want[g * k + o];
			owant[o] += want[g * k + o];
		}
	fs_round_counts(gwant, ngroups, total, grows);
	fs_round_counts(owant, k, total, orows);
	/* start from the floors; grows and orows become what is left to give */
	for (int g = 0; g < ngroups; g++)
		for (int o = 0; o < k; o++)
		{
			counts[g * k + o] = (int64) floor(want[g * k + o] + 1e-9);
			grows[g] -= counts[g * k + o];
			orows[o] -= counts[g * k + o];
		}
	/* groups with the most rows left first */
	for (int g = 0; g < ngroups; g++)
	{
		gleft[g] = (double) grows[g];
		order[g] = g;
	}
	fs_frac = gleft;
	qsort(order, ngroups, sizeof(int), fs_frac_order);
	for (int j = 0; j < ngroups; j++)
	{
		int			g = order[j];

		for (int64 r = 0; r < grows[g]; r++)
		{
			int			best = -1;

			/*
			 * a cell wanted at all, then the largest remainder (as the
			 * cell's own rounding would), then on a tie the outcome value
			 * most short of its total
			 */
			for (int o = 0; o < k; o++)
			{
				double		w = want[g * k + o];
				double		bw = want[g * k + best < 0 ? 0 : g * k + best];
				double		f = w - floor(w + 1e-9);
				double		bf = bw - floor(bw + 1e-9);

				if (best < 0 ||
					((w > 0) != (bw > 0) ? w > 0 :
					 fabs(f - bf) > 1e-9 ? f > bf : orows[o] > orows[best]))
					best = o;
			}
			counts[g * k + best]++;
			orows[best]--;
		}
	}
	pfree(gwant);
	pfree(owant);
	pfree(grows);
	pfree(orows);
	pfree(gleft);
	pfree(order);
}

/*
 * Amplification: a combination with fewer than FS_AMPLIFY_SOURCE_ROWS source
 * rows that becomes at least FS_AMPLIFY_FACTOR times as many synthetic rows
 * is named in a NOTICE (the FS_AMPLIFY_NOTICES largest factors, then a
 * count), with its source rows, its synthetic rows and their ratio.
 */
#define FS_AMPLIFY_SOURCE_ROWS 30
#define FS_AMPLIFY_FACTOR 10
#define FS_AMPLIFY_NOTICES 5

/* Order combinations by descending factor, then ascending index. */
static const double *fs_factor;

static int
fs_factor_order(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (fs_factor[x] != fs_factor[y])
		return fs_factor[x] > fs_factor[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* The values of combination combo, as col = 'value', ... */
static char *
fs_combo_text(FsSource *src, int combo)
{
	int32	   *codes = palloc(sizeof(int32) * Max(src->nbalance, 1));
	StringInfoData s;

	initStringInfo(&s);
	fs_combo_decode(src, combo, codes);
	for (int b = 0; b < src->nbalance; b++)
	{
		FsColumn   *col = &src->cols[src->balance[b]];
		int			len;
		const char *key = fs_dict_key(col->dict, codes[b], &len);

		appendStringInfo(&s, "%s%s = %s", b > 0 ? ", " : "", quote_identifier(col->name),
						 quote_literal_cstr(fs_key_to_text(key, len, col)));
	}
	pfree(codes);
	return s.data;
}

/*
 * Tell the caller which combinations few source rows stand for many
 * synthetic rows of (have: source rows per combination), and in additive
 * mode how much the rows grow the relation.
 */
static void
fs_plan_notices(FsSource *src, FsPlan *plan, const int64 *have, bool additive)
{
	double	   *factor = palloc(sizeof(double) * plan->ncombos);
	int		   *amplified = palloc(sizeof(int) * plan->ncombos);
	int			n = 0;

	for (int c = 0; c < plan->ncombos; c++)
	{
		factor[c] = have[c] > 0 ? (double) plan->counts[c] / have[c] : 0;
		if (have[c] > 0 && have[c] < FS_AMPLIFY_SOURCE_ROWS &&
			factor[c] >= FS_AMPLIFY_FACTOR)
			amplified[n++] = c;
	}
	fs_factor = factor;
	qsort(amplified, n, sizeof(int), fs_factor_order);
	if (n > 0)
	{
		StringInfoData list;

		initStringInfo(&list);
		for (int j = 0; j < Min(n, FS_AMPLIFY_NOTICES); j++)
		{
			int			c = amplified[j];

			appendStringInfo(&list, "%s%s" INT64_FORMAT " row%s -> " INT64_FORMAT " (%.1fx)",
							 j > 0 ? "; " : "",
							 src->nbalance > 0 ? psprintf("%s: ", fs_combo_text(src, c)) : "",
							 have[c], have[c] == 1 ? "" : "s", plan->counts[c], factor[c]);
		}
		if (n > FS_AMPLIFY_NOTICES)
			appendStringInfo(&list, "; and %d more", n - FS_AMPLIFY_NOTICES);
		ereport(NOTICE,
				(src->nbalance == 0 ?
				 errmsg("relation %s has fewer than %d rows and becomes at least %d times as many synthetic rows: %s",
						src->relname, FS_AMPLIFY_SOURCE_ROWS, FS_AMPLIFY_FACTOR, list.data) :
				 errmsg("%s of fewer than %d rows in %s become%s at least %d times as many %ssynthetic rows: %s",
						n == 1 ? "1 combination" : psprintf("%d combinations", n),
						FS_AMPLIFY_SOURCE_ROWS, src->relname, n == 1 ? "s" : "",
						FS_AMPLIFY_FACTOR, additive ? "added " : "", list.data),
				 errhint("Synthetic rows built from so few source rows repeat what little those rows show; merge rare values in a view, or choose a milder target.")));
	}
	if (additive)
		ereport(NOTICE,
				(errmsg("additive mode adds " INT64_FORMAT " rows to the " INT64_FORMAT " rows of %s: " INT64_FORMAT " rows, %.2f times the relation",
						plan->total, src->nrows, src->relname, plan->total + src->nrows,
						(double) (plan->total + src->nrows) / Max(src->nrows, 1))));
	pfree(factor);
	pfree(amplified);
}

/*
 * Plan how many rows each combination gets: full mode makes num_rows rows
 * (default: the source's row count) in the target shares; additive mode adds
 * the fewest rows that bring source plus rows to the target shares.
 */
FsPlan *
fs_plan_make(FsSource *src, bool additive, int64 num_rows, bool num_rows_given,
			 Jsonb *target)
{
	FsPlan	   *plan = palloc0(sizeof(FsPlan));
	double		k = 1;
	double	  **shares;
	double	   *joint;
	int64	   *have;
	int32	   *codes = palloc(sizeof(int32) * Max(src->nbalance, 1));

	plan->additive = additive;

	/* the read already stopped if this exceeds fairsynth.max_combinations */
	for (int b = 0; b < src->nbalance; b++)
		k *= fs_dict_size(src->cols[src->balance[b]].dict);
	plan->ncombos = (int) k;

	if (target != NULL)
		fs_check_target_columns(src, target);
	shares = palloc(sizeof(double *) * Max(src->nbalance, 1));
	for (int b = 0; b < src->nbalance; b++)
	{
		shares[b] = palloc(sizeof(double) * fs_dict_size(src->cols[src->balance[b]].dict));
		fs_column_shares(src, b, fs_target_of(src, target, b), shares[b]);
	}
	joint = palloc(sizeof(double) * plan->ncombos);
	for (int c = 0; c < plan->ncombos; c++)
	{
		fs_combo_decode(src, c, codes);
		joint[c] = 1;
		for (int b = 0; b < src->nbalance; b++)
			joint[c] *= shares[b][codes[b]];
	}

	/* source rows per combination (rows with a NULL balance value: none) */
	have = palloc0(sizeof(int64) * plan->ncombos);
	if (src->nbalance == 0)
		have[0] = src->nrows;
	for (int i = 0; i < src->ncombos; i++)
	{
		int			c = fs_combo_encode(src, &src->combo_codes[i * src->nbalance]);

		if (c >= 0)
			have[c] += src->combo_counts[i];
	}
	for (int c = 0; c < plan->ncombos; c++)
		if (have[c] == 0)
			plan->unseen++;

	plan->counts = palloc0(sizeof(int64) * plan->ncombos);
	if (!additive)
	{
		double	   *want = palloc(sizeof(double) * plan->ncombos);
		int64		n = num_rows_given ? num_rows : src->nrows;

		fs_check_num_rows(n);
		for (int c = 0; c < plan->ncombos; c++)
			want[c] = joint[c] * n;
		if (src->outcome >= 0 && src->nbalance > 1)
		{
			int			k = fs_dict_size(src->cols[src->outcome].dict);

			fs_round_counts_outcome(want, plan->ncombos / k, k, n, plan->counts);
		}
		else
			fs_round_counts(want, plan->ncombos, n, plan->counts);
		plan->total = n;
	}
	else
	{
		double		t = 0;
		int64		total;
		int64		sum = 0;
		double	   *want = palloc(sizeof(double) * plan->ncombos);
		int64	   *final = palloc(sizeof(int64) * plan->ncombos);

		/* the smallest total in which every combination keeps its rows */
		for (int c = 0; c < plan->ncombos; c++)
		{
			if (have[c] > 0 && joint[c] <= 0)
			{
				fs_combo_decode(src, c, codes);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("additive mode cannot reach a target share of 0 for a combination the source has rows of"),
						 errhint("Additive mode never removes rows; use mode => 'full' for this target.")));
			}
			if (have[c] > 0)
				t = Max(t, have[c] / joint[c]);
		}
		/* far beyond fairsynth.max_rows there is nothing to compute exactly */
		if (t - src->nrows > 2.0 * fairsynth_max_rows)
		{
			char		about[32];

			/* exact up to 10^15, then three significant digits, never 300 */
			snprintf(about, sizeof(about), t - src->nrows < 1e15 ? "%.0f" : "%.3g",
					 t - src->nrows);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("additive balancing on %s needs about %s rows, more than fairsynth.max_rows (%d)",
							fs_balance_names(src), about, fairsynth_max_rows),
					 errhint("Use mode => 'full' with num_rows, choose a milder target, or raise fairsynth.max_rows.")));
		}
		total = (int64) ceil(t - 1e-9);
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			sum = 0;
			for (int c = 0; c < plan->ncombos; c++)
			{
				want[c] = joint[c] * total;
				final[c] = Max(have[c], (int64) floor(want[c] + 1e-9));
				sum += final[c];
			}
			if (sum <= total)
				break;
			total = sum;
		}
		/* hand the remaining rows out by largest remainder */
		for (int c = 0; c < plan->ncombos; c++)
			want[c] = Max(want[c] - final[c], 0);
		{
			int64	   *extra = palloc0(sizeof(int64) * plan->ncombos);

			fs_round_counts(want, plan->ncombos, total - sum, extra);
			for (int c = 0; c < plan->ncombos; c++)
				final[c] += extra[c];
		}
		plan->total = 0;
		for (int c = 0; c < plan->ncombos; c++)
		{
			plan->counts[c] = final[c] - have[c];
			plan->total += plan->counts[c];
		}
		if (plan->total > fairsynth_max_rows)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("additive balancing on %s needs " INT64_FORMAT " rows, more than fairsynth.max_rows (%d)",
							fs_balance_names(src), plan->total, fairsynth_max_rows),
					 errhint("Use mode => 'full' with num_rows, choose a milder target, or raise fairsynth.max_rows.")));
	}
	fs_plan_notices(src, plan, have, additive);
	return plan;
}
