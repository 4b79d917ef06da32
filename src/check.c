/*
 * check.c: a relation's CHECK constraints on generated rows.
 *
 * Generated rows must insert back into their own table: a row that violates
 * one of its CHECK constraints (say CHECK (a < b), which the model of each
 * column given the ones before it does not know) is drawn again, a bounded
 * number of times, and then the call fails naming the constraint.  The
 * constraints are evaluated as INSERT does (NULL passes), on a row laid out
 * like the relation's own (dropped columns NULL).
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tupdesc.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"

#include "fairsynth.h"

struct FsChecks
{
	int			ncheck;
	char	  **names;
	ExprState **states;
	ExprContext *econtext;
	TupleTableSlot *slot;
	int		   *colatt;			/* slot attribute of source column c */
};

/*
 * The CHECK constraints of src's relation ready to evaluate, or NULL when it
 * has none (views, foreign tables and tables without constraints).
 */
FsChecks *
fs_checks_prepare(FsSource *src)
{
	Relation	rel = relation_open(src->relid, NoLock);	/* locked by the read */
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	FsChecks   *chk;

	if (constr == NULL || constr->num_check == 0)
	{
		relation_close(rel, NoLock);
		return NULL;
	}
	chk = palloc0(sizeof(FsChecks));
	chk->ncheck = constr->num_check;
	chk->names = palloc(sizeof(char *) * chk->ncheck);
	chk->states = palloc(sizeof(ExprState *) * chk->ncheck);
	for (int i = 0; i < chk->ncheck; i++)
	{
		Expr	   *expr = (Expr *) stringToNode(constr->check[i].ccbin);

		chk->names[i] = pstrdup(constr->check[i].ccname);
		expr = expression_planner(expr);
		chk->states[i] = ExecInitCheck(list_make1(expr), NULL);
	}
	chk->econtext = CreateStandaloneExprContext();
	chk->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
										 &TTSOpsVirtual);
	chk->colatt = palloc(sizeof(int) * Max(src->ncols, 1));
	for (int c = 0; c < src->ncols; c++)
		chk->colatt[c] = src->cols[c].attnum - 1;
	relation_close(rel, NoLock);
	return chk;
}

/*
 * The name of the first CHECK constraint the row (values and nulls of the
 * source columns) violates, or NULL when it satisfies them all.
 */
const char *
fs_checks_violated(FsChecks *chk, const Datum *values, const bool *nulls, int ncols)
{
	TupleTableSlot *slot = chk->slot;
	const char *violated = NULL;

	ExecClearTuple(slot);
	for (int a = 0; a < slot->tts_tupleDescriptor->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (int c = 0; c < ncols; c++)
	{
		slot->tts_values[chk->colatt[c]] = values[c];
		slot->tts_isnull[chk->colatt[c]] = nulls[c];
	}
	ExecStoreVirtualTuple(slot);
	chk->econtext->ecxt_scantuple = slot;
	for (int i = 0; i < chk->ncheck && violated == NULL; i++)
		if (!ExecCheck(chk->states[i], chk->econtext))
			violated = chk->names[i];
	ResetExprContext(chk->econtext);
	return violated;
}
