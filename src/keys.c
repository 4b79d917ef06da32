/*
 * keys.c: columns whose values are not data, and errors that help.
 *
 * Synthetic rows go back into real tables, so some columns must not be
 * modelled at all:
 *   - a column fed by a sequence (serial, identity, a nextval() default)
 *     takes every value from that sequence, exactly as an INSERT using its
 *     default would: appended rows and later ordinary inserts never collide;
 *   - a GENERATED ALWAYS AS (...) STORED column is computed from the
 *     generated row by its own expression, as INSERT computes it;
 *   - uuid and text keys mix a per-backend strong random stream into every
 *     call, so no key repeats across calls with the same seed or across
 *     tables (the seed fixes every other column).
 * The expressions are the relation's own (build_column_default), planned
 * and evaluated with the executor, so the sequence's privileges apply: a
 * nextval() default needs USAGE or UPDATE on its sequence; an identity
 * column's sequence is the relation's, so INSERT on the column also does.
 * A role without them gets a NOTICE and keys after the largest value.
 *
 * For a Citus shard, an integer key's values are found by shard_keys.c; they
 * become Datums, range-checked, in fs_int_key_datum here.
 *
 * The errors here name every offending column at once and suggest the
 * nearest column names (Levenshtein distance).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "common/int.h"
#include "catalog/pg_attribute.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "fairsynth.h"

/* A prepared expression of a column: its default, or its generation. */
typedef struct FsColExpr
{
	ExprState  *state;
	ExprContext *econtext;
} FsColExpr;

/* What generated columns need per row: the row as a slot of the relation. */
typedef struct FsGenerated
{
	TupleTableSlot *slot;
	ExprContext *econtext;
	int			ngenerated;
} FsGenerated;

/* Find the sequence of the first nextval(regclass constant) in a tree. */
static bool
fs_find_nextval(Node *node, Oid *seqid)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == F_NEXTVAL)
	{
		FuncExpr   *f = (FuncExpr *) node;
		Node	   *arg = list_length(f->args) == 1 ? linitial(f->args) : NULL;

		*seqid = InvalidOid;
		if (arg != NULL && IsA(arg, Const) && !((Const *) arg)->constisnull)
			*seqid = DatumGetObjectId(((Const *) arg)->constvalue);
		return true;
	}
	return expression_tree_walker(node, fs_find_nextval, (void *) seqid);
}

/* Plan and prepare expr for evaluation once per generated row. */
static FsColExpr *
fs_prepare_expr(Expr *expr, ExprContext *econtext)
{
	FsColExpr  *ce = palloc0(sizeof(FsColExpr));

	ce->state = ExecInitExpr(expression_planner(expr), NULL);
	ce->econtext = econtext;
	return ce;
}

/*
 * Whether the calling role may draw from seqid, the sequence of column col:
 * USAGE or UPDATE on the sequence (as nextval() checks), or for an identity
 * column INSERT on the relation or the column (as an INSERT draws from it).
 * If not, a NOTICE: the column's fresh values continue after its largest
 * value instead, as for any other key.
 */
static bool
fs_may_draw_from(FsSource *src, FsColumn *col, Oid seqid, bool identity)
{
	Oid			user = GetUserId();
	char	   *seqname;

	if (!OidIsValid(seqid) ||
		pg_class_aclcheck(seqid, user, ACL_USAGE | ACL_UPDATE) == ACLCHECK_OK)
		return true;
	if (identity &&
		(pg_class_aclcheck(src->relid, user, ACL_INSERT) == ACLCHECK_OK ||
		 pg_attribute_aclcheck(src->relid, col->attnum, user, ACL_INSERT) == ACLCHECK_OK))
		return true;
	seqname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqid)),
										 get_rel_name(seqid));
	ereport(NOTICE,
			(errmsg("role \"%s\" lacks USAGE on sequence %s of column \"%s\": the column gets fresh values %s instead",
					GetUserNameFromId(user, false), seqname, col->name,
					col->type == FS_TEXT ? "of fairsynth's own" :
					psprintf("after its largest value in %s", src->relname)),
			 errdetail("Such rows may collide with rows inserted later using the sequence."),
			 errhint("GRANT USAGE ON SEQUENCE %s TO %s, so that the column takes its values from the sequence.",
					 seqname, quote_identifier(GetUserNameFromId(user, false)))));
	return false;
}

/*
 * Find the columns of src (rel open and locked) that a sequence feeds or that
 * are generated, make them keys and prepare their expressions.  Called by
 * fs_describe_relation after the columns' kinds are set.
 */
void
fs_keys_describe(FsSource *src, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	ExprContext *econtext = NULL;
	FsGenerated *gen = NULL;

	for (int c = 0; c < src->ncols; c++)
	{
		FsColumn   *col = &src->cols[c];
		Form_pg_attribute att = TupleDescAttr(desc, col->attnum - 1);
		Node	   *expr;
		Oid			seqid = InvalidOid;

		if (!att->atthasdef && !att->attidentity)
			continue;
		expr = build_column_default(rel, col->attnum);
		if (expr == NULL)
			continue;
		if (econtext == NULL)
			econtext = CreateStandaloneExprContext();
		if (att->attgenerated == ATTRIBUTE_GENERATED_STORED)
		{
			if (gen == NULL)
			{
				gen = palloc0(sizeof(FsGenerated));
				gen->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc),
													 &TTSOpsVirtual);
				gen->econtext = econtext;
			}
			gen->ngenerated++;
			col->generated = true;
			col->kind = FS_KEY;
			col->exprstate = fs_prepare_expr((Expr *) expr, econtext);
			continue;
		}
		if (att->attidentity)
			seqid = getIdentitySequence(RelationGetRelid(rel), col->attnum, false);
		else if (!fs_find_nextval(expr, &seqid))
			continue;			/* an ordinary default: the column is data */
		col->kind = FS_KEY;
		if (!fs_may_draw_from(src, col, seqid, att->attidentity != '\0'))
			continue;			/* integers: after the largest value */
		col->seqid = seqid;
		col->seq_row = 0;
		col->exprstate = fs_prepare_expr((Expr *) expr, econtext);
	}
	src->keys = gen;
}

/*
 * The value of sequence-fed column col for the i-th row of this call: its
 * default evaluated (the sequence's next value), once per row however often
 * the row is drawn again.  Allocated in the current memory context.
 */
Datum
fs_sequence_next(FsColumn *col, int64 i)
{
	FsColExpr  *ce = (FsColExpr *) col->exprstate;
	bool		isnull;
	Datum		d;

	if (col->seq_row == i + 1)
		return col->seq_value;
	/* nextval is not allowed there: say which key and what to do */
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("key column \"%s\" takes its values from sequence %s, which cannot advance while the statement runs in parallel mode",
						col->name, get_rel_name(col->seqid)),
				 errhint("Run the statement without force_parallel_mode and outside a parallel query (CREATE TABLE ... AS SELECT * FROM fairsynth_balance(...) alone), or leave the key out in a view.")));
	d = ExecEvalExpr(ce->state, ce->econtext, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the default of key column \"%s\" returned NULL", col->name),
				 errhint("A key column's default must give a value from its sequence.")));
	col->seq_row = i + 1;
	col->seq_value = d;
	return d;
}

/*
 * Compute the generated columns of one row (values and nulls indexed by
 * source column) from its other columns, by their own expressions.
 */
void
fs_fill_generated(FsSource *src, Datum *values, bool *nulls)
{
	FsGenerated *gen = (FsGenerated *) src->keys;
	TupleTableSlot *slot;

	if (gen == NULL)
		return;
	slot = gen->slot;
	ExecClearTuple(slot);
	for (int a = 0; a < slot->tts_tupleDescriptor->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (int c = 0; c < src->ncols; c++)
		if (!src->cols[c].generated)
		{
			slot->tts_values[src->cols[c].attnum - 1] = values[c];
			slot->tts_isnull[src->cols[c].attnum - 1] = nulls[c];
		}
	ExecStoreVirtualTuple(slot);
	gen->econtext->ecxt_scantuple = slot;
	for (int c = 0; c < src->ncols; c++)
		if (src->cols[c].generated)
		{
			FsColExpr  *ce = (FsColExpr *) src->cols[c].exprstate;

			values[c] = ExecEvalExpr(ce->state, gen->econtext, &nulls[c]);
		}
}

/*
 * 64 random bits from a stream seeded once per backend from a strong random
 * source: mixed into keys so that no seed repeats them.
 */
uint64
fs_key_random(void)
{
	static pg_prng_state rng;
	static bool seeded = false;

	if (!seeded)
	{
		if (!pg_prng_strong_seed(&rng))
			pg_prng_seed(&rng, (uint64) GetCurrentTimestamp() ^ ((uint64) MyProcPid << 32));
		seeded = true;
	}
	return pg_prng_uint64(&rng);
}

/*
 * Error out, naming the relation and the role, unless the calling role may
 * read every column of relid: fairsynth reads them all.
 */
void
fs_check_select_privilege(Oid relid, const char *relname)
{
	Oid			user = GetUserId();
	char	   *role;

	if (pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK ||
		pg_attribute_aclcheck_all(relid, user, ACL_SELECT, ACLMASK_ALL) == ACLCHECK_OK)
		return;
	role = GetUserNameFromId(user, false);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for relation %s: role \"%s\" lacks SELECT on it",
					relname, role),
			 errdetail("fairsynth reads every column of the relation as the calling role."),
			 errhint("GRANT SELECT ON %s TO %s, or call fairsynth on a view of the columns the role may read.",
					 relname, quote_identifier(role))));
}

/*
 * The columns of src nearest to name (Levenshtein distance at most a third
 * of its length, at least 2), quoted and joined with "or"; NULL if none.
 */
char *
fs_column_suggestions(FsSource *src, const char *name)
{
	int			len = strlen(name);
	int			max_d = Max(2, len / 3);
	int			best = max_d + 1;
	int		   *dist = palloc(sizeof(int) * src->ncols);
	StringInfoData s;
	int			n = 0;

	for (int c = 0; c < src->ncols; c++)
	{
		const char *col = src->cols[c].name;

		dist[c] = varstr_levenshtein_less_equal(name, len, col, strlen(col),
												1, 1, 1, max_d, true);
		best = Min(best, dist[c]);
	}
	if (best > max_d)
		return NULL;
	initStringInfo(&s);
	for (int c = 0; c < src->ncols && n < 3; c++)
		if (dist[c] == best)
			appendStringInfo(&s, "%s\"%s\"", n++ > 0 ? " or " : "", src->cols[c].name);
	return s.data;
}

/* The relation's column names, for a hint. */
static char *
fs_column_list(FsSource *src)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int c = 0; c < src->ncols; c++)
		appendStringInfo(&s, "%s%s", c > 0 ? ", " : "", quote_identifier(src->cols[c].name));
	return s.data;
}

/*
 * Error out naming every one of the n names that are no column of src, with
 * the nearest column names as suggestions (what: "column" or "outcome
 * column", for the message when there is one name).
 */
void
fs_error_missing_columns(FsSource *src, char **names, int n, const char *what)
{
	StringInfoData list;
	StringInfoData hint;
	int			nsuggested = 0;

	if (n == 0)
		return;
	initStringInfo(&list);
	initStringInfo(&hint);
	for (int j = 0; j < n; j++)
	{
		char	   *near = fs_column_suggestions(src, names[j]);

		appendStringInfo(&list, "%s\"%s\"", j > 0 ? ", " : "", names[j]);
		if (near != NULL)
		{
			if (n == 1)
				appendStringInfo(&hint, "Perhaps you meant %s.", near);
			else
				appendStringInfo(&hint, "%s%s for \"%s\"", nsuggested > 0 ? ", " : "Perhaps you meant ",
								 near, names[j]);
			nsuggested++;
		}
	}
	if (n > 1 && nsuggested > 0)
		appendStringInfoString(&hint, ".");
	if (nsuggested < n)
		appendStringInfo(&hint, "%sColumns of %s: %s.", nsuggested > 0 ? " " : "",
						 src->relname, fs_column_list(src));
	if (n == 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s \"%s\" does not exist in relation %s", what, names[0], src->relname),
				 errhint("%s", hint.data)));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("columns %s do not exist in relation %s", list.data, src->relname),
			 errhint("%s", hint.data)));
}

/*
 * The value v of integer key column col (int2, int4 or int8) as a Datum; an
 * error naming the column when v does not fit its type or its computation
 * overflowed (overflow), the keys following after.
 */
Datum
fs_int_key_datum(FsColumn *col, int64 v, bool overflow, int64 after)
{
	int64		limit = col->type == FS_INT2 ? PG_INT16_MAX :
		col->type == FS_INT4 ? PG_INT32_MAX : PG_INT64_MAX;

	if (overflow || v > limit)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("no room for fresh values of key column \"%s\" (%s) after its largest value " INT64_FORMAT,
						col->name, format_type_be(col->typid), after),
				 errhint("Generate fewer rows, or leave the key out in a view.")));
	return col->type == FS_INT2 ? Int16GetDatum((int16) v) :
		col->type == FS_INT4 ? Int32GetDatum((int32) v) : Int64GetDatum(v);
}
