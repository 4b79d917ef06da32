/*
 * args.h: argument checks shared by the SQL-callable generators (args.c).
 */
#ifndef FAIRSYNTH_ARGS_H
#define FAIRSYNTH_ARGS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

extern void fs_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern Oid	fs_relation_of_arg(FunctionCallInfo fcinfo, int argno);
extern bool fs_parse_mode(FunctionCallInfo fcinfo, int argno);
extern void fs_require_one_dimensional(ArrayType *arr, const char *name);
extern int	fs_int4_array_arg(FunctionCallInfo fcinfo, int argno, const char *name,
							  int32 **values);

#endif							/* FAIRSYNTH_ARGS_H */
