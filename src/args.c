/*
 * args.c: argument checks shared by the SQL-callable generators
 * (balance.c, impute.c, sample.c, read_agg.c, text.c): one message per
 * mistake, everywhere.
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "catalog/pg_class.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "args.h"

/* Error out if argument argno is NULL. */
void
fs_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* The relation whose row type is the type of argument argno (a typed NULL). */
Oid
fs_relation_of_arg(FunctionCallInfo fcinfo, int argno)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid			relid = OidIsValid(typid) ? get_typ_typrelid(typid) : InvalidOid;

	if (!OidIsValid(relid) || get_rel_relkind(relid) == RELKIND_COMPOSITE_TYPE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("relation argument has type %s, which is not the row type of a table or view",
						OidIsValid(typid) ? format_type_be(typid) : "unknown"),
				 errhint("Pass a NULL cast to the relation's row type, e.g. NULL::patients.")));
	return relid;
}

/* Error out if array argument name has more than one dimension. */
void
fs_require_one_dimensional(ArrayType *arr, const char *name)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name)));
}

/*
 * The int[] argument argno (named name) into *values (palloc'd): its
 * length, 0 when it is NULL or absent.  An element may not be NULL.
 */
int
fs_int4_array_arg(FunctionCallInfo fcinfo, int argno, const char *name, int32 **values)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*values = NULL;
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return 0;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	fs_require_one_dimensional(arr, name);
	deconstruct_array(arr, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elems, &nulls, &n);
	*values = palloc(sizeof(int32) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL (element %d)", name, i + 1)));
		(*values)[i] = DatumGetInt32(elems[i]);
	}
	return n;
}

/* The mode argument argno: false for 'full', true for 'additive'. */
bool
fs_parse_mode(FunctionCallInfo fcinfo, int argno)
{
	char	   *mode;

	fs_require_arg(fcinfo, argno, "mode");
	mode = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(mode, "full") == 0)
		return false;
	if (strcmp(mode, "additive") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("mode must be 'full' or 'additive', not '%s'", mode),
			 errhint("'full' returns a whole balanced table; 'additive' returns only the rows to append to the source.")));
	return false;
}
