/*
 * value.c: conversion between SQL values and the model's encoding.
 *
 * Numeric, date and time values become doubles; categorical values become
 * byte keys for a dictionary.  Conversions back produce values valid for the
 * column's type and type modifier.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "fairsynth.h"

/* The encoding of a column of type typid in *t; false for unsupported types. */
static bool
fs_type_lookup(Oid typid, FsType *t)
{
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			*t = FS_TEXT;
			return true;
		case BOOLOID:
			*t = FS_BOOL;
			return true;
		case INT2OID:
			*t = FS_INT2;
			return true;
		case INT4OID:
			*t = FS_INT4;
			return true;
		case INT8OID:
			*t = FS_INT8;
			return true;
		case FLOAT4OID:
			*t = FS_FLOAT4;
			return true;
		case FLOAT8OID:
			*t = FS_FLOAT8;
			return true;
		case NUMERICOID:
			*t = FS_NUMERIC;
			return true;
		case DATEOID:
			*t = FS_DATE;
			return true;
		case TIMESTAMPOID:
			*t = FS_TIMESTAMP;
			return true;
		case TIMESTAMPTZOID:
			*t = FS_TIMESTAMPTZ;
			return true;
		case UUIDOID:
			*t = FS_UUID;
			return true;
		default:
			if (type_is_enum(typid))
			{
				*t = FS_ENUM;
				return true;
			}
	}
	return false;
}

/* Whether fairsynth can model a column of type typid. */
bool
fs_type_supported(Oid typid)
{
	FsType		t;

	return fs_type_lookup(typid, &t);
}

/* The encoding of a column of type typid; an error for unsupported types. */
FsType
fs_type_of(Oid typid, const char *colname)
{
	FsType		t;

	if (fs_type_lookup(typid, &t))
		return t;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("column \"%s\" has type %s, which fairsynth does not support",
					colname, format_type_be(typid)),
			 errhint("Supported types are text, varchar, char, boolean, smallint, integer, bigint, real, double precision, numeric, date, timestamp, timestamptz, enums and uuid. Balance a view that leaves column \"%s\" out or casts it.",
					 colname)));
	return FS_TEXT;				/* keep compiler quiet */
}

/* Whether values of this type are modelled as categories. */
bool
fs_is_categorical_type(FsType t)
{
	return t == FS_TEXT || t == FS_BOOL || t == FS_ENUM;
}

/*
 * A numeric, date or time value as a double; NaN for a value with no place on
 * the number line (NaN, infinities), which fairsynth treats as missing.
 */
double
fs_datum_to_double(Datum d, FsColumn *col)
{
	double		v = 0;

	switch (col->type)
	{
		case FS_INT2:
			return DatumGetInt16(d);
		case FS_INT4:
			return DatumGetInt32(d);
		case FS_INT8:
			return (double) DatumGetInt64(d);
		case FS_FLOAT4:
			v = DatumGetFloat4(d);
			break;
		case FS_FLOAT8:
			v = DatumGetFloat8(d);
			break;
		case FS_NUMERIC:
			if (numeric_is_nan(DatumGetNumeric(d)) ||
				numeric_is_inf(DatumGetNumeric(d)))
				return NAN;
			{
				/*
				 * As numeric_float8 does, but a value beyond the double range
				 * is no error (whose message would be the whole value): above
				 * it, like an infinity, it has no place on the number line;
				 * below it, it is 0 (and its scale is not kept).
				 */
				char	   *str = DatumGetCString(DirectFunctionCall1(numeric_out, d));
				char	   *end;

				errno = 0;
				v = strtod(str, &end);
				if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
					return NAN;
				if (errno != ERANGE)
					col->max_scale = Max(col->max_scale,
										 DatumGetInt32(DirectFunctionCall1(numeric_scale, d)));
				pfree(str);
			}
			break;
		case FS_DATE:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				return NAN;
			return DatumGetDateADT(d);
		case FS_TIMESTAMP:
		case FS_TIMESTAMPTZ:
			{
				int64		t = DatumGetInt64(d);

				if (TIMESTAMP_NOT_FINITE(t))
					return NAN;
				while (col->granule > 1 && t % col->granule != 0)
				{
					/* coarsen: day, hour, minute, second, millisecond, 1 */
					static const int64 units[] = {
						USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE,
						USECS_PER_SEC, 1000, 1
					};

					for (int i = 0; i < lengthof(units); i++)
						if (units[i] < col->granule)
						{
							col->granule = units[i];
							break;
						}
				}
				return (double) t;
			}
		default:
			elog(ERROR, "column \"%s\" is not numeric", col->name);
	}
	return isinf(v) ? NAN : v;
}

/*
 * The dictionary key of a value: its bytes for text, one byte for boolean,
 * the label OID for enums, the int64 for bigint, the normalized text for
 * numeric (so no two values merge), the double for the other numeric types.
 * buf must hold 8 bytes; *key is set to where the key is.  Returns the key's
 * length, or -1 for a value treated as missing (NaN, infinities).
 */
int
fs_datum_key(Datum d, FsColumn *col, char *buf, const char **key)
{
	switch (col->type)
	{
		case FS_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				*key = VARDATA_ANY(t);
				return VARSIZE_ANY_EXHDR(t);
			}
		case FS_BOOL:
			buf[0] = DatumGetBool(d) ? 1 : 0;
			*key = buf;
			return 1;
		case FS_ENUM:
			{
				Oid			o = DatumGetObjectId(d);

				memcpy(buf, &o, sizeof(Oid));
				*key = buf;
				return sizeof(Oid);
			}
		case FS_INT8:
			{
				int64		v = DatumGetInt64(d);

				memcpy(buf, &v, sizeof(int64));
				*key = buf;
				return sizeof(int64);
			}
		case FS_NUMERIC:
			{
				Numeric		n = DatumGetNumeric(d);

				if (numeric_is_nan(n) || numeric_is_inf(n))
					return -1;
				*key = numeric_normalize(n);
				return strlen(*key);
			}
		default:
			{
				double		v = fs_datum_to_double(d, col);

				if (isnan(v))
					return -1;
				if (v == 0)
					v = 0;		/* one key for -0 and 0 */
				memcpy(buf, &v, sizeof(double));
				*key = buf;
				return sizeof(double);
			}
	}
}

/* Order two keys of column col by the values they stand for. */
int
fs_key_compare(const char *a, int la, const char *b, int lb, FsColumn *col)
{
	switch (col->type)
	{
		case FS_TEXT:
		case FS_BOOL:
			{
				int			r = memcmp(a, b, Min(la, lb));

				return r != 0 ? r : (la > lb) - (la < lb);
			}
		case FS_ENUM:
			{
				Oid			oa,
							ob;

				memcpy(&oa, a, sizeof(Oid));
				memcpy(&ob, b, sizeof(Oid));
				return (oa > ob) - (oa < ob);
			}
		case FS_INT8:
			{
				int64		ia,
							ib;

				memcpy(&ia, a, sizeof(int64));
				memcpy(&ib, b, sizeof(int64));
				return (ia > ib) - (ia < ib);
			}
		case FS_NUMERIC:
			return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
													 fs_key_to_datum(a, la, col),
													 fs_key_to_datum(b, lb, col)));
		default:
			{
				double		da,
							db;

				memcpy(&da, a, sizeof(double));
				memcpy(&db, b, sizeof(double));
				return (da > db) - (da < db);
			}
	}
}

/* Clamp v to [lo, hi]. */
static double
fs_clamp(double v, double lo, double hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* A value of the column's type from a double. */
Datum
fs_double_to_datum(double v, FsColumn *col)
{
	switch (col->type)
	{
		case FS_INT2:
			return Int16GetDatum((int16) fs_clamp(rint(v), PG_INT16_MIN, PG_INT16_MAX));
		case FS_INT4:
			return Int32GetDatum((int32) fs_clamp(rint(v), PG_INT32_MIN, PG_INT32_MAX));
		case FS_INT8:
			{
				/*
				 * The largest bigint's double is 2^63, just out of range: it
				 * and above are the largest bigint, not a rounder bound that
				 * no row holds.  -2^63 is exact.
				 */
				double		r = rint(v);

				if (!(r < 9223372036854775808.0))
					return Int64GetDatum(PG_INT64_MAX);
				if (r < -9223372036854775808.0)
					return Int64GetDatum(PG_INT64_MIN);
				return Int64GetDatum((int64) r);
			}
		case FS_FLOAT4:
			return Float4GetDatum((float4) v);
		case FS_FLOAT8:
			return Float8GetDatum(v);
		case FS_NUMERIC:
			{
				Datum		n = DirectFunctionCall1(float8_numeric, Float8GetDatum(v));

				n = DirectFunctionCall2(numeric_round, n, Int32GetDatum(col->max_scale));
				if (col->typmod >= 0)
					n = DirectFunctionCall2(numeric, n, Int32GetDatum(col->typmod));
				return n;
			}
		case FS_DATE:
			return DateADTGetDatum((DateADT) rint(v));
		case FS_TIMESTAMP:
		case FS_TIMESTAMPTZ:
			{
				int64		g = Max(col->granule, 1);
				int64		t = (int64) rint(v / (double) g) * g;

				return Int64GetDatum(t);
			}
		default:
			elog(ERROR, "column \"%s\" is not numeric", col->name);
	}
	return (Datum) 0;
}

/* A value of the column's type from its dictionary key. */
Datum
fs_key_to_datum(const char *key, int len, FsColumn *col)
{
	switch (col->type)
	{
		case FS_TEXT:
			return PointerGetDatum(cstring_to_text_with_len(key, len));
		case FS_BOOL:
			return BoolGetDatum(key[0] != 0);
		case FS_ENUM:
			{
				Oid			o;

				memcpy(&o, key, sizeof(Oid));
				return ObjectIdGetDatum(o);
			}
		case FS_INT8:
			{
				int64		v;

				memcpy(&v, key, sizeof(int64));
				return Int64GetDatum(v);
			}
		case FS_NUMERIC:
			return DirectFunctionCall3(numeric_in, CStringGetDatum(pnstrdup(key, len)),
									   ObjectIdGetDatum(InvalidOid), Int32GetDatum(col->typmod));
		default:
			{
				double		v;

				memcpy(&v, key, sizeof(double));
				return fs_double_to_datum(v, col);
			}
	}
}

/* The text form of a dictionary key, as the type's output function gives. */
char *
fs_key_to_text(const char *key, int len, FsColumn *col)
{
	Oid			outfunc;
	bool		isvarlena;

	if (col->type == FS_TEXT)
		return pnstrdup(key, len);
	getTypeOutputInfo(col->typid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, fs_key_to_datum(key, len, col));
}
