/*
 * support.c: the planner support function of the generators, so a plan over
 * fairsynth_balance(...) knows how many rows to expect.
 *
 * Estimate: num_rows when it is a constant; otherwise the source relation's
 * row estimate (pg_class.reltuples), which is what full mode, synthesize and
 * impute return by default.  Additive mode with no constant size falls back
 * to the ROWS of the declaration.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "fairsynth.h"

PG_FUNCTION_INFO_V1(fairsynth_support);

/* The constant of argument n of the call, or NULL if it is not a constant. */
static Const *
fs_const_arg(List *args, int n)
{
	Node	   *arg = n < list_length(args) ? (Node *) list_nth(args, n) : NULL;

	return arg != NULL && IsA(arg, Const) ? (Const *) arg : NULL;
}

/* reltuples of the relation whose row type is the first argument's, or -1. */
static double
fs_source_rows(List *args)
{
	Node	   *arg = list_length(args) > 0 ? (Node *) linitial(args) : NULL;
	Oid			relid = arg ? get_typ_typrelid(exprType(arg)) : InvalidOid;
	HeapTuple	tup;
	double		rows = -1;

	if (!OidIsValid(relid))
		return -1;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		rows = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return rows;
}

/* Answer SupportRequestRows for fairsynth_balance, _synthesize and _impute. */
Datum
fairsynth_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestRows *req;
	FuncExpr   *call;
	char	   *name;
	int			size_arg = -1;
	Const	   *c;
	double		rows;

	if (!IsA(rawreq, SupportRequestRows))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestRows *) rawreq;
	if (req->node == NULL || !IsA(req->node, FuncExpr))
		PG_RETURN_POINTER(NULL);
	call = (FuncExpr *) req->node;
	name = get_func_name(call->funcid);
	if (name == NULL)
		PG_RETURN_POINTER(NULL);

	if (strcmp(name, "fairsynth_balance") == 0)
	{
		size_arg = 3;
		c = fs_const_arg(call->args, 2);
		if (c == NULL || c->constisnull ||
			strcmp(TextDatumGetCString(c->constvalue), "full") != 0)
			PG_RETURN_POINTER(NULL);	/* additive: depends on the data */
	}
	else if (strcmp(name, "fairsynth_synthesize") == 0)
		size_arg = 1;

	c = size_arg >= 0 ? fs_const_arg(call->args, size_arg) : NULL;
	if (c != NULL && !c->constisnull)
		rows = (double) DatumGetInt64(c->constvalue);
	else
		rows = fs_source_rows(call->args);
	if (rows < 0)
		PG_RETURN_POINTER(NULL);
	req->rows = Max(rows, 1);
	PG_RETURN_POINTER(req);
}
