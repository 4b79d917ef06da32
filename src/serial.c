/*
 * serial.c: a fitted model as a bytea value, and back.
 *
 * Layout (native byte order, recorded and checked):
 *
 *   header   FsValueHeader: magic "FSMV", format version, byte order mark,
 *            CRC-32C of every byte after the header, total length, the
 *            model block's magic, the server encoding
 *   source   counts (ncols, nbalance, outcome, impute, ncombos, nrows,
 *            fingerprint); per column its name, its type as text (qualified,
 *            with its modifier), FsType, kinds, balance position, units,
 *            NULL count and an integer key's largest value; per balance
 *            column its dictionary (keys in code order, counts); the
 *            observed combinations' codes and exact counts
 *   enums    per enum column, the labels of every value the model or the
 *            dictionaries name (enum keys are label OIDs, which differ
 *            between databases: they are mapped back by label on load)
 *   block    the FsModel block, as fitted
 *
 * Reading never trusts the value: a wrong magic, version, byte order,
 * length or checksum is an error before anything else is looked at; every
 * read of the source part is bounds-checked; the block is validated
 * (fs_model_validate) offset by offset and index by index before use, so a
 * crafted value with a valid checksum is an error too, never a crash.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "port/pg_crc32c.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "fairsynth.h"
#include "model.h"
#include "tree.h"
#include "serial.h"
#include "text.h"

/* ---------------------------------------------------------------------------
 * Header
 * ---------------------------------------------------------------------------
 */

#define FS_BYTE_ORDER_MARK 0x01020304

typedef struct FsValueHeader
{
	uint32		magic;			/* FS_VALUE_MAGIC */
	uint32		version;		/* FS_VALUE_VERSION */
	uint32		byte_order;		/* FS_BYTE_ORDER_MARK as written */
	pg_crc32c	crc;			/* of every byte after the header */
	uint32		length;			/* of the whole value, header included */
	uint32		model_magic;	/* FS_MODEL_MAGIC of the block */
	int32		encoding;		/* server encoding of text keys */
	uint32		layout;			/* fs_block_layout(): the block's struct sizes */
} FsValueHeader;

/*
 * A hash of the sizes of every struct inside a model block: a layout change
 * that forgot to bump FS_MODEL_MAGIC is still caught.
 */
static uint32
fs_block_layout(void)
{
	uint32		sizes[] = {
		sizeof(FsModel), sizeof(FsModelColumn), sizeof(FsTree), sizeof(FsNode),
		sizeof(FsCategory), sizeof(FsBin), sizeof(FsDraw), sizeof(FsAlias),
		sizeof(FsStart), sizeof(FsRule), sizeof(FsTextModel), sizeof(FsTextToken),
		sizeof(FsTextCtx), sizeof(FsTextSucc), sizeof(FsTextGroup)
	};

	return (uint32) fs_hash_bytes(sizes, sizeof(sizes), 0);
}

/* A bounds-checked reader over the bytes after the header. */
typedef struct FsReader
{
	const char *data;
	Size		len;
	Size		pos;
} FsReader;

static void fs_value_corrupt(const char *what) pg_attribute_noreturn();
static void fs_read_bytes(FsReader *r, void *out, Size n);
static int32 fs_read_int32(FsReader *r);
static int64 fs_read_int64(FsReader *r);
static const char *fs_read_span(FsReader *r, int32 *len);
static char *fs_read_string(FsReader *r);
static void fs_put_int32(StringInfo s, int32 v);
static void fs_put_int64(StringInfo s, int64 v);
static void fs_put_span(StringInfo s, const char *p, int32 len);
static char *fs_type_signature(Oid typid, int32 typmod);
static void fs_check_key(const FsColumn *col, const char *key, int32 len,
						 const char *what);
static FsReader fs_value_open(bytea *value);

/* Error out: the value is damaged or was not made by fairsynth_fit. */
static void
fs_value_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("fairsynth model value is corrupt: %s", what),
			 errhint("Fit the model again with fairsynth_fit().")));
}

/* ---------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------------
 */

static void
fs_put_int32(StringInfo s, int32 v)
{
	appendBinaryStringInfo(s, (const char *) &v, sizeof(v));
}

static void
fs_put_int64(StringInfo s, int64 v)
{
	appendBinaryStringInfo(s, (const char *) &v, sizeof(v));
}

static void
fs_put_span(StringInfo s, const char *p, int32 len)
{
	fs_put_int32(s, len);
	appendBinaryStringInfo(s, p, len);
}

/* The type of a column as text: qualified, with its modifier. */
static char *
fs_type_signature(Oid typid, int32 typmod)
{
	return format_type_extended(typid, typmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
}

/* Append the label of enum value oid (a key of column col) to s. */
static void
fs_put_enum_label(StringInfo s, Oid oid)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, ObjectIdGetDatum(oid));
	Form_pg_enum e;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "enum value %u has no label", oid);
	e = (Form_pg_enum) GETSTRUCT(tup);
	fs_put_int32(s, (int32) oid);
	fs_put_span(s, NameStr(e->enumlabel), strlen(NameStr(e->enumlabel)));
	ReleaseSysCache(tup);
}

/*
 * The enum values column c's keys name (model categories and dictionary):
 * distinct OIDs, into oids; returns how many.
 */
static int
fs_enum_oids(FsSource *src, const FsModel *m, int c, Oid **oids)
{
	const FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;
	FsColumn   *col = &src->cols[c];
	int			cap = 16,
				n = 0;
	Oid		   *out = palloc(sizeof(Oid) * cap);
	int			nkeys = (mc->kind == FS_CAT ? mc->nclass : 0) +
		(col->dict && col->balance_pos >= 0 ? fs_dict_size(col->dict) : 0);

	for (int i = 0; i < nkeys; i++)
	{
		const char *key;
		int			len;
		Oid			o;
		bool		seen = false;

		if (mc->kind == FS_CAT && i < mc->nclass)
		{
			const FsCategory *cat = FS_AT(m, mc->classes, FsCategory) + i;

			if (i == mc->null_class || i == mc->rare_class)
				continue;
			key = (const char *) m + cat->key;
			len = cat->len;
		}
		else
			key = fs_dict_key(col->dict, i - (mc->kind == FS_CAT ? mc->nclass : 0), &len);
		if (len != sizeof(Oid))
			continue;
		memcpy(&o, key, sizeof(Oid));
		for (int j = 0; j < n && !seen; j++)
			seen = out[j] == o;
		if (seen)
			continue;
		if (n == cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(Oid) * cap);
		}
		out[n++] = o;
	}
	*oids = out;
	return n;
}

/*
 * The end of a fit that returns a value: src's integer keys' largest values
 * read, the value of m written and copied into callctx, and workctx (where
 * the read and the fit ran, src and m included) deleted.
 */
bytea *
fs_value_finish(FsSource *src, const FsModel *m, bool impute,
				MemoryContext callctx, MemoryContext workctx)
{
	bytea	   *result;
	bytea	   *out;

	fs_read_key_maxima(src);
	result = fs_value_write(src, m, impute);
	MemoryContextSwitchTo(callctx);
	out = palloc(VARSIZE(result));
	memcpy(out, result, VARSIZE(result));
	MemoryContextDelete(workctx);
	return out;
}

/*
 * The model value of a fitted model m of source src (read with a sample,
 * key maxima read), fitted with impute or not.
 */
bytea *
fs_value_write(FsSource *src, const FsModel *m, bool impute)
{
	StringInfoData s;
	FsValueHeader hdr;
	bytea	   *out;

	initStringInfo(&s);
	memset(&hdr, 0, sizeof(hdr));
	appendBinaryStringInfo(&s, (const char *) &hdr, sizeof(hdr));

	/* source */
	fs_put_int32(&s, src->ncols);
	fs_put_int32(&s, src->nbalance);
	fs_put_int32(&s, src->outcome);
	fs_put_int32(&s, impute ? 1 : 0);
	fs_put_int32(&s, src->ncombos);
	fs_put_int64(&s, src->nrows);
	fs_put_int64(&s, (int64) src->fingerprint);
	for (int c = 0; c < src->ncols; c++)
	{
		FsColumn   *col = &src->cols[c];
		char	   *type = fs_type_signature(col->typid, col->typmod);

		fs_put_span(&s, col->name, strlen(col->name));
		fs_put_span(&s, type, strlen(type));
		fs_put_int32(&s, (int32) col->type);
		fs_put_int32(&s, (int32) col->kind);
		fs_put_int32(&s, (int32) col->described_kind);
		fs_put_int32(&s, col->balance_pos);
		fs_put_int32(&s, col->max_scale);
		fs_put_int32(&s, col->has_max ? 1 : 0);
		fs_put_int64(&s, col->max_int);
		fs_put_int64(&s, col->granule);
		fs_put_int64(&s, col->nulls);
	}
	for (int b = 0; b < src->nbalance; b++)
	{
		FsDict	   *d = src->cols[src->balance[b]].dict;

		fs_put_int32(&s, src->balance[b]);
		fs_put_int32(&s, fs_dict_size(d));
		for (int i = 0; i < fs_dict_size(d); i++)
		{
			int			len;
			const char *key = fs_dict_key(d, i, &len);

			fs_put_span(&s, key, len);
			fs_put_int64(&s, fs_dict_counts(d)[i]);
		}
	}
	for (int k = 0; k < src->ncombos; k++)
	{
		for (int b = 0; b < src->nbalance; b++)
			fs_put_int32(&s, src->combo_codes[k * src->nbalance + b]);
		fs_put_int64(&s, src->combo_counts[k]);
	}

	/* enums: every value's label */
	for (int c = 0; c < src->ncols; c++)
	{
		Oid		   *oids;
		int			n;

		if (src->cols[c].type != FS_ENUM)
			continue;
		n = fs_enum_oids(src, m, c, &oids);
		fs_put_int32(&s, n);
		for (int i = 0; i < n; i++)
			fs_put_enum_label(&s, oids[i]);
	}

	/* block */
	fs_put_int32(&s, (int32) m->size);
	appendBinaryStringInfo(&s, (const char *) m, m->size);

	hdr.magic = FS_VALUE_MAGIC;
	hdr.version = FS_VALUE_VERSION;
	hdr.byte_order = FS_BYTE_ORDER_MARK;
	hdr.length = s.len;
	hdr.model_magic = FS_MODEL_MAGIC;
	hdr.encoding = GetDatabaseEncoding();
	hdr.layout = fs_block_layout();
	INIT_CRC32C(hdr.crc);
	COMP_CRC32C(hdr.crc, s.data + sizeof(hdr), s.len - sizeof(hdr));
	FIN_CRC32C(hdr.crc);
	memcpy(s.data, &hdr, sizeof(hdr));

	out = palloc(VARHDRSZ + s.len);
	SET_VARSIZE(out, VARHDRSZ + s.len);
	memcpy(VARDATA(out), s.data, s.len);
	pfree(s.data);
	return out;
}

/* ---------------------------------------------------------------------------
 * Reading the source part
 * ---------------------------------------------------------------------------
 */

static void
fs_read_bytes(FsReader *r, void *out, Size n)
{
	if (n > r->len - r->pos)
		fs_value_corrupt("it ends inside its description of the source");
	memcpy(out, r->data + r->pos, n);
	r->pos += n;
}

static int32
fs_read_int32(FsReader *r)
{
	int32		v;

	fs_read_bytes(r, &v, sizeof(v));
	return v;
}

static int64
fs_read_int64(FsReader *r)
{
	int64		v;

	fs_read_bytes(r, &v, sizeof(v));
	return v;
}

/* A length-prefixed span, in place. */
static const char *
fs_read_span(FsReader *r, int32 *len)
{
	const char *p;

	*len = fs_read_int32(r);
	if (*len < 0 || (Size) *len > r->len - r->pos)
		fs_value_corrupt("a length runs past its end");
	p = r->data + r->pos;
	r->pos += *len;
	return p;
}

/* A length-prefixed string, copied and NUL-terminated. */
static char *
fs_read_string(FsReader *r)
{
	int32		len;
	const char *p = fs_read_span(r, &len);

	if (memchr(p, '\0', len) != NULL)
		fs_value_corrupt("a name holds a NUL byte");
	return pnstrdup(p, len);
}

/*
 * Check the header of value (magic, version, byte order, length, checksum,
 * encoding) and return a reader over the bytes after it.
 */
static FsReader
fs_value_open(bytea *value)
{
	FsValueHeader hdr;
	Size		len = VARSIZE_ANY_EXHDR(value);
	const char *data = VARDATA_ANY(value);
	pg_crc32c	crc;
	FsReader	r;

	if (len < sizeof(hdr))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fairsynth model value is too short: %zu bytes", len),
				 errhint("A model value comes from fairsynth_fit().")));
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.magic != FS_VALUE_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("value is not a fairsynth model (it starts with 0x%08x)", hdr.magic),
				 errhint("A model value comes from fairsynth_fit().")));
	if (hdr.byte_order != FS_BYTE_ORDER_MARK)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fairsynth model was made on a machine of another byte order"),
				 errhint("Fit the model again on this machine with fairsynth_fit().")));
	if (hdr.version != FS_VALUE_VERSION || hdr.model_magic != FS_MODEL_MAGIC ||
		hdr.layout != fs_block_layout())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fairsynth model has format version %u (model block 0x%08x); this fairsynth reads version %u (model block 0x%08x)",
						hdr.version, hdr.model_magic, FS_VALUE_VERSION, FS_MODEL_MAGIC),
				 errhint("Fit the model again with this version's fairsynth_fit().")));
	if (hdr.length != len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fairsynth model value has %zu bytes but says it has %u: it is %s",
						len, hdr.length, len < hdr.length ? "truncated" : "padded"),
				 errhint("Fit the model again with fairsynth_fit().")));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data + sizeof(hdr), len - sizeof(hdr));
	FIN_CRC32C(crc);
	if (crc != hdr.crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fairsynth model value fails its checksum (CRC-32C 0x%08x, expected 0x%08x): it was altered",
						crc, hdr.crc),
				 errhint("Fit the model again with fairsynth_fit().")));
	if (hdr.encoding != GetDatabaseEncoding())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fairsynth model was fitted in a database of encoding %s, not %s",
						pg_encoding_to_char(hdr.encoding), GetDatabaseEncodingName()),
				 errhint("Fit the model again in this database with fairsynth_fit().")));
	r.data = data + sizeof(hdr);
	r.len = len - sizeof(hdr);
	r.pos = 0;
	return r;
}

/* The fixed counts at the start of the source part. */
typedef struct FsValueCounts
{
	int32		ncols;
	int32		nbalance;
	int32		outcome;
	int32		impute;
	int32		ncombos;
	int64		nrows;
	uint64		fingerprint;
} FsValueCounts;

static void
fs_read_counts(FsReader *r, FsValueCounts *vc)
{
	vc->ncols = fs_read_int32(r);
	vc->nbalance = fs_read_int32(r);
	vc->outcome = fs_read_int32(r);
	vc->impute = fs_read_int32(r);
	vc->ncombos = fs_read_int32(r);
	vc->nrows = fs_read_int64(r);
	vc->fingerprint = (uint64) fs_read_int64(r);
	if (vc->ncols < 1 || vc->ncols > MaxHeapAttributeNumber ||
		vc->nbalance < 0 || vc->nbalance > vc->ncols ||
		vc->outcome < -1 || vc->outcome >= vc->ncols ||
		vc->ncombos < 0 || vc->nrows < 1 || (vc->nbalance == 0 && vc->ncombos != 0))
		fs_value_corrupt("its counts of columns, combinations or rows are impossible");
}

/* One column as the value describes it. */
typedef struct FsValueColumn
{
	char	   *name;
	char	   *type;
	int32		fstype;
	int32		kind;
	int32		described_kind;
	int32		balance_pos;
	int32		max_scale;
	int32		has_max;
	int64		max_int;
	int64		granule;
	int64		nulls;
} FsValueColumn;

static void
fs_read_column(FsReader *r, FsValueColumn *vcol)
{
	vcol->name = fs_read_string(r);
	vcol->type = fs_read_string(r);
	vcol->fstype = fs_read_int32(r);
	vcol->kind = fs_read_int32(r);
	vcol->described_kind = fs_read_int32(r);
	vcol->balance_pos = fs_read_int32(r);
	vcol->max_scale = fs_read_int32(r);
	vcol->has_max = fs_read_int32(r);
	vcol->max_int = fs_read_int64(r);
	vcol->granule = fs_read_int64(r);
	vcol->nulls = fs_read_int64(r);
	if (vcol->fstype < FS_TEXT || vcol->fstype > FS_UUID ||
		vcol->kind < FS_CAT || vcol->kind > FS_TEXTFREE ||
		vcol->described_kind < FS_CAT || vcol->described_kind > FS_TEXTFREE ||
		vcol->granule <= 0 || vcol->max_scale < 0 || vcol->max_scale > NUMERIC_MAX_DISPLAY_SCALE)
		fs_value_corrupt(psprintf("column \"%s\" has an impossible kind, type or unit", vcol->name));
}

/*
 * Check value's header and read what a caller needs before describing the
 * relation: the balance columns, the outcome, impute; and that the row type
 * of relid is the one the model was fitted on (names, types, modifiers).
 */
void
fs_value_read_header(bytea *value, Oid relid, FsValueInfo *info)
{
	FsReader	r = fs_value_open(value);
	FsValueCounts vc;
	FsValueColumn *vcols;
	TupleDesc	desc;
	int			a = 0;
	char	   *relname = get_rel_name(relid);

	fs_read_counts(&r, &vc);
	vcols = palloc0(sizeof(FsValueColumn) * vc.ncols);
	for (int c = 0; c < vc.ncols; c++)
		fs_read_column(&r, &vcols[c]);

	/* the relation's row type, column by column */
	desc = lookup_rowtype_tupdesc_copy(get_rel_type_id(relid), -1);
	for (int c = 0; c < vc.ncols; c++, a++)
	{
		Form_pg_attribute att;
		char	   *type;

		while (a < desc->natts && TupleDescAttr(desc, a)->attisdropped)
			a++;
		if (a >= desc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("fairsynth model was fitted on %d columns, but relation %s has %d",
							vc.ncols, relname, c),
					 errdetail("Its column %d is \"%s\" %s.", c + 1, vcols[c].name, vcols[c].type),
					 errhint("Sample the model with the row type it was fitted on, or fit it again.")));
		att = TupleDescAttr(desc, a);
		type = fs_type_signature(att->atttypid, att->atttypmod);
		if (strcmp(NameStr(att->attname), vcols[c].name) != 0 || strcmp(type, vcols[c].type) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("fairsynth model was fitted on a row type whose column %d is \"%s\" %s, but in relation %s it is \"%s\" %s",
							c + 1, vcols[c].name, vcols[c].type, relname,
							NameStr(att->attname), type),
					 errhint("Sample the model with the row type it was fitted on, or fit it again.")));
	}
	for (; a < desc->natts; a++)
		if (!TupleDescAttr(desc, a)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("fairsynth model was fitted on %d columns, but relation %s has more: \"%s\"",
							vc.ncols, relname, NameStr(TupleDescAttr(desc, a)->attname)),
					 errhint("Sample the model with the row type it was fitted on, or fit it again.")));

	/* the balance columns in order, the outcome last */
	memset(info, 0, sizeof(FsValueInfo));
	info->impute = vc.impute != 0;
	info->balance_names = palloc0(sizeof(char *) * (vc.nbalance + 1));
	for (int c = 0; c < vc.ncols; c++)
	{
		int			pos = vcols[c].balance_pos;

		if (pos < -1 || pos >= vc.nbalance || (pos >= 0 && info->balance_names[pos] != NULL) ||
			((c == vc.outcome) != (pos >= 0 && pos == vc.nbalance - 1 && vc.outcome >= 0)))
			fs_value_corrupt("its balance columns are inconsistent");
		if (pos >= 0)
			info->balance_names[pos] = vcols[c].name;
	}
	for (int b = 0; b < vc.nbalance; b++)
		if (info->balance_names[b] == NULL)
			fs_value_corrupt("its balance columns are inconsistent");
	info->nbalance_named = vc.nbalance - (vc.outcome >= 0 ? 1 : 0);
	info->outcome = vc.outcome >= 0 ? vcols[vc.outcome].name : NULL;
}

/* Check a key of a dictionary or a category of column col. */
static void
fs_check_key(const FsColumn *col, const char *key, int32 len, const char *what)
{
	bool		ok;

	switch (col->type)
	{
		case FS_TEXT:
			ok = pg_verifymbstr(key, len, true);
			break;
		case FS_BOOL:
			ok = len == 1;
			break;
		case FS_ENUM:
			ok = len == sizeof(Oid);
			break;
		case FS_NUMERIC:
			ok = len > 0 && len < 1024;
			for (int i = 0; ok && i < len; i++)
				ok = (key[i] >= '0' && key[i] <= '9') || key[i] == '.' || key[i] == '-';
			break;
		case FS_UUID:
			ok = false;
			break;
		default:
			ok = len == sizeof(double);
			break;
	}
	if (!ok)
		fs_value_corrupt(psprintf("a %s of column \"%s\" is not a value of its type",
								  what, col->name));
}

/* ---------------------------------------------------------------------------
 * Enum values, by label
 * ---------------------------------------------------------------------------
 */

/* Old OID -> this database's OID of the same label, for one enum column. */
typedef struct FsEnumMap
{
	int			n;
	Oid		   *from;
	Oid		   *to;
} FsEnumMap;

static void
fs_read_enum_map(FsReader *r, FsColumn *col, FsEnumMap *map)
{
	map->n = fs_read_int32(r);
	if (map->n < 0 || (Size) map->n > r->len / 8)
		fs_value_corrupt("its enum labels are impossible");
	map->from = palloc(sizeof(Oid) * Max(map->n, 1));
	map->to = palloc(sizeof(Oid) * Max(map->n, 1));
	for (int i = 0; i < map->n; i++)
	{
		char	   *label;
		HeapTuple	tup;

		map->from[i] = (Oid) fs_read_int32(r);
		label = fs_read_string(r);
		tup = SearchSysCache2(ENUMTYPOIDNAME, ObjectIdGetDatum(col->typid),
							  CStringGetDatum(label));
		if (!HeapTupleIsValid(tup))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("fairsynth model names value \"%s\" of column \"%s\", which enum type %s does not have",
							label, col->name, format_type_be(col->typid)),
					 errhint("Add the label to the type, or fit the model again.")));
		map->to[i] = ((Form_pg_enum) GETSTRUCT(tup))->oid;
		ReleaseSysCache(tup);
	}
}

/* Rewrite the enum key at key (4 bytes) by map, or error. */
static void
fs_map_enum_key(FsEnumMap *map, FsColumn *col, char *key)
{
	Oid			o;

	memcpy(&o, key, sizeof(Oid));
	for (int i = 0; i < map->n; i++)
		if (map->from[i] == o)
		{
			memcpy(key, &map->to[i], sizeof(Oid));
			return;
		}
	fs_value_corrupt(psprintf("a value of enum column \"%s\" has no label", col->name));
}

/* ---------------------------------------------------------------------------
 * Reading the whole value
 * ---------------------------------------------------------------------------
 */

/*
 * Fill src (described from the relation whose row type the value was
 * checked against, with the value's balance columns and outcome) with what
 * the read would have found, and return the validated model block.
 */
FsModel *
fs_value_read(bytea *value, FsSource *src)
{
	FsReader	r = fs_value_open(value);
	FsValueCounts vc;
	FsEnumMap  *maps;
	FsModel    *m;
	int32		size;
	double		k = 1;

	fs_read_counts(&r, &vc);
	if (vc.ncols != src->ncols || vc.nbalance != src->nbalance ||
		vc.outcome != src->outcome)
		fs_value_corrupt("its columns differ from its row type");
	for (int c = 0; c < vc.ncols; c++)
	{
		FsValueColumn vcol;
		FsColumn   *col = &src->cols[c];

		fs_read_column(&r, &vcol);
		if (vcol.balance_pos != col->balance_pos || vcol.fstype != (int32) col->type)
			fs_value_corrupt(psprintf("column \"%s\" differs from its row type", col->name));
		/* what the read learns, as fs_adopt_model_columns takes it */
		col->kind = (FsKind) vcol.kind;
		col->max_scale = vcol.max_scale;
		col->granule = vcol.granule;
		col->nulls = vcol.nulls;
		col->has_max = vcol.has_max != 0;
		col->max_int = vcol.max_int;
		/* a balance column is categorical whatever its type */
		if (col->balance_pos >= 0 && col->kind != FS_CAT)
			fs_value_corrupt(psprintf("balance column \"%s\" is not categorical", col->name));
		/* a generated column is computed, never drawn */
		if (col->generated && col->kind != FS_KEY)
			fs_value_corrupt(psprintf("generated column \"%s\" is modelled", col->name));
	}
	for (int b = 0; b < src->nbalance; b++)
	{
		FsColumn   *col;
		int32		n;

		if (fs_read_int32(&r) != src->balance[b])
			fs_value_corrupt("its balance columns are inconsistent");
		col = &src->cols[src->balance[b]];
		n = fs_read_int32(&r);
		if (n < 1 || (Size) n > r.len / 12)
			fs_value_corrupt(psprintf("the values of balance column \"%s\" are impossible", col->name));
		col->dict = fs_dict_create(Max(n, 16));
		for (int i = 0; i < n; i++)
		{
			int32		len;
			const char *key = fs_read_span(&r, &len);
			int64		count = fs_read_int64(&r);

			fs_check_key(col, key, len, "value");
			if (fs_dict_lookup(col->dict, key, len, true) != i || count < 1)
				fs_value_corrupt(psprintf("the values of balance column \"%s\" repeat", col->name));
			fs_dict_counts(col->dict)[i] = count;
		}
		k *= n;
	}
	if (k > fairsynth_max_combinations)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fairsynth model has %.0f combinations, more than fairsynth.max_combinations (%d)",
						k, fairsynth_max_combinations),
				 errhint("Raise fairsynth.max_combinations.")));
	src->ncombos = vc.ncombos;
	if ((Size) vc.ncombos > r.len / 8)
		fs_value_corrupt("its combination counts are impossible");
	src->combo_codes = palloc(sizeof(int32) * Max(vc.ncombos * vc.nbalance, 1));
	src->combo_counts = palloc(sizeof(int64) * Max(vc.ncombos, 1));
	for (int i = 0; i < vc.ncombos; i++)
	{
		for (int b = 0; b < vc.nbalance; b++)
		{
			int32		code = fs_read_int32(&r);

			if (code < -1 || code >= fs_dict_size(src->cols[src->balance[b]].dict))
				fs_value_corrupt("a combination names a value that does not exist");
			src->combo_codes[i * vc.nbalance + b] = code;
		}
		src->combo_counts[i] = fs_read_int64(&r);
		if (src->combo_counts[i] < 1)
			fs_value_corrupt("a combination has no rows");
	}
	src->nrows = vc.nrows;
	src->fingerprint = vc.fingerprint;
	src->nsample = 0;
	src->sample = NULL;

	maps = palloc0(sizeof(FsEnumMap) * src->ncols);
	for (int c = 0; c < src->ncols; c++)
		if (src->cols[c].type == FS_ENUM)
			fs_read_enum_map(&r, &src->cols[c], &maps[c]);

	/* the block, copied so that it is aligned, then validated */
	size = fs_read_int32(&r);
	if (size < (int32) sizeof(FsModel) || (Size) size != r.len - r.pos)
		fs_value_corrupt("its model block has the wrong size");
	m = palloc(size);
	fs_read_bytes(&r, m, size);
	fs_model_validate(m, size);
	if (m->ncols != src->ncols || m->nbalance != src->nbalance ||
		m->ncombos != (int32) Max(k, 1))
		fs_value_corrupt("its model block does not match its columns");
	for (int c = 0; c < src->ncols; c++)
	{
		FsModelColumn *mc = FS_AT(m, m->cols, FsModelColumn) + c;
		FsColumn   *col = &src->cols[c];

		if (mc->kind != (int32) col->kind || mc->type != (int32) col->type ||
			(col->balance_pos >= 0 && mc->nclass < fs_dict_size(col->dict)))
			fs_value_corrupt(psprintf("its model of column \"%s\" does not match the column", col->name));
		if (mc->kind == FS_CAT)
			for (int j = 0; j < mc->nclass; j++)
			{
				FsCategory *cat = FS_AT(m, mc->classes, FsCategory) + j;

				if (j == mc->null_class || j == mc->rare_class)
					continue;
				fs_check_key(col, (const char *) m + cat->key, cat->len, "category");
				if (col->type == FS_ENUM)
					fs_map_enum_key(&maps[c], col, (char *) m + cat->key);
			}
		if (col->type == FS_ENUM && col->balance_pos >= 0)
		{
			/* the dictionary's keys, mapped into a new dictionary */
			FsDict	   *d = fs_dict_create(Max(fs_dict_size(col->dict), 16));

			for (int i = 0; i < fs_dict_size(col->dict); i++)
			{
				int			len;
				char		key[sizeof(Oid)];

				memcpy(key, fs_dict_key(col->dict, i, &len), sizeof(Oid));
				fs_map_enum_key(&maps[c], col, key);
				if (fs_dict_lookup(d, key, sizeof(Oid), true) != i)
					fs_value_corrupt("two enum values have one label");
				fs_dict_counts(d)[i] = fs_dict_counts(col->dict)[i];
			}
			col->dict = d;
		}
	}
	if (m->parity_col >= 0 &&
		(m->parity_col != src->outcome || fs_dict_size(src->cols[m->parity_col].dict) != 2 ||
		 (int64) m->nfacet * 2 != m->ncombos))
		fs_value_corrupt("its outcome model does not match its outcome column");
	return m;
}

/* A text[] of n names. */
static ArrayType *
fs_names_array(char **names, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * The model of value for relation relid into *src and *info, as
 * fairsynth_sample and parallel workers see it: the value's row type checked
 * first (a mismatch names the column), the relation described with the
 * value's balance columns and outcome, then the model read.
 */
FsModel *
fs_value_model(bytea *value, Oid relid, FsValueInfo *info, FsSource *src)
{
	fs_value_read_header(value, relid, info);
	fs_describe_relation(src, relid,
						 info->nbalance_named > 0 ?
						 fs_names_array(info->balance_names, info->nbalance_named) : NULL,
						 info->outcome);
	return fs_value_read(value, src);
}
