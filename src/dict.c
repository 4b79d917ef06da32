/*
 * dict.c: a dictionary from byte strings to dense integer codes.
 *
 * Open addressing with linear probing; keys live in one growing arena.
 * Codes are handed out in order of first appearance.  Everything lives in
 * the memory context current at creation, whatever context is current when
 * the dictionary grows.
 */
#include "postgres.h"

#include "fairsynth.h"

/* Multipliers of the byte hash: odd 64-bit constants with mixed bits. */
#define FS_HASH_K1 UINT64CONST(0x87c37b91114253d5)
#define FS_HASH_K2 UINT64CONST(0x4cf5ad432745937f)

/* Rotate x left by n bits (0 < n < 64). */
static inline uint64
fs_rotl64(uint64 x, int n)
{
	return (x << n) | (x >> (64 - n));
}

/* Scramble one 64-bit word before it enters the hash state. */
static inline uint64
fs_hash_word(uint64 k)
{
	k *= FS_HASH_K1;
	k = fs_rotl64(k, 31);
	return k * FS_HASH_K2;
}

/*
 * A 64-bit hash of len bytes at p, eight bytes per step (several times
 * faster than hash_bytes on the row-sized keys and tuples hashed here: every
 * row read is fingerprinted, every row generated is checked against the
 * copy guard).  Inputs of 32 bytes or more go through four independent
 * lanes, so the steps overlap instead of waiting for each other.  Not for
 * adversarial input: the results only index tables and detect changed data.
 */
uint64
fs_hash_bytes(const void *p, int len, uint64 seed)
{
	const char *s = (const char *) p;
	int			total = len;
	uint64		h = seed ^ ((uint64) len * FS_HASH_K2);
	uint64		k;

	if (len >= 32)
	{
		uint64		h0 = h,
					h1 = h ^ FS_HASH_K1,
					h2 = h + FS_HASH_K2,
					h3 = ~h;

		for (; len >= 32; s += 32, len -= 32)
		{
			memcpy(&k, s, 8);
			h0 = fs_rotl64(h0 ^ fs_hash_word(k), 27) * 5 + UINT64CONST(0x52dce729);
			memcpy(&k, s + 8, 8);
			h1 = fs_rotl64(h1 ^ fs_hash_word(k), 27) * 5 + UINT64CONST(0x52dce729);
			memcpy(&k, s + 16, 8);
			h2 = fs_rotl64(h2 ^ fs_hash_word(k), 27) * 5 + UINT64CONST(0x52dce729);
			memcpy(&k, s + 24, 8);
			h3 = fs_rotl64(h3 ^ fs_hash_word(k), 27) * 5 + UINT64CONST(0x52dce729);
		}
		h = fs_rotl64(h0, 1) + fs_rotl64(h1, 7) + fs_rotl64(h2, 12) + fs_rotl64(h3, 18);
	}
	for (; len >= 8; s += 8, len -= 8)
	{
		memcpy(&k, s, 8);
		h = fs_rotl64(h ^ fs_hash_word(k), 27) * 5 + UINT64CONST(0x52dce729);
	}
	if (len > 0)
	{
		/*
		 * The last 1-7 bytes: the final eight bytes of the input shifted
		 * (when there are eight), else loads of 4, 2 and 1 bytes; never a
		 * byte-wise copy, whose stores a word load would wait for.
		 */
		if (total >= 8)
		{
			memcpy(&k, s + len - 8, 8);
#ifdef WORDS_BIGENDIAN
			k &= (UINT64CONST(1) << (8 * len)) - 1;	/* the last bytes are the low ones */
#else
			k >>= 8 * (8 - len);	/* the last bytes are the high ones */
#endif
		}
		else
		{
			k = 0;
			if (len & 4)
			{
				uint32		w;

				memcpy(&w, s, 4);
				k = w;
				s += 4;
			}
			if (len & 2)
			{
				uint16		w;

				memcpy(&w, s, 2);
				k = (k << 16) | w;
				s += 2;
			}
			if (len & 1)
				k = (k << 8) | (uint8) *s;
		}
		h ^= fs_hash_word(k);
	}
	/* final avalanche: every input bit reaches every output bit */
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

struct FsDict
{
	MemoryContext cxt;			/* where every part of the dictionary lives */
	int			size;			/* entries used */
	int			cap;			/* slots in the hash table, power of two */
	int32	   *slots;			/* code + 1, or 0 for empty */
	uint32	   *hashes;			/* per code */
	int64	   *counts;			/* per code: times looked up with add */
	int64	   *offs;			/* per code: key offset in arena */
	int32	   *lens;			/* per code: key length */
	char	   *arena;
	int64		arena_used;
	int64		arena_cap;
	int			codes_cap;
};

/* Create an empty dictionary with room for about initial keys. */
FsDict *
fs_dict_create(int initial)
{
	FsDict	   *d = palloc0(sizeof(FsDict));

	d->cxt = CurrentMemoryContext;
	d->cap = 64;
	while (d->cap < initial * 2)
		d->cap *= 2;
	d->slots = palloc0(sizeof(int32) * d->cap);
	d->codes_cap = Max(initial, 16);
	d->hashes = palloc(sizeof(uint32) * d->codes_cap);
	d->counts = palloc(sizeof(int64) * d->codes_cap);
	d->offs = palloc(sizeof(int64) * d->codes_cap);
	d->lens = palloc(sizeof(int32) * d->codes_cap);
	d->arena_cap = 1024;
	d->arena = palloc(d->arena_cap);
	return d;
}

/* Double the hash table and re-insert every code. */
static void
fs_dict_grow(FsDict *d)
{
	int			newcap = d->cap * 2;
	int32	   *slots = MemoryContextAllocZero(d->cxt, sizeof(int32) * newcap);

	for (int code = 0; code < d->size; code++)
	{
		uint32		i = d->hashes[code] & (newcap - 1);

		while (slots[i] != 0)
			i = (i + 1) & (newcap - 1);
		slots[i] = code + 1;
	}
	pfree(d->slots);
	d->slots = slots;
	d->cap = newcap;
}

/* The code of key; with add, insert it if absent and count it; else -1. */
int
fs_dict_lookup(FsDict *d, const char *key, int len, bool add)
{
	uint32		h = (uint32) fs_hash_bytes(key, len, 0);
	uint32		i = h & (d->cap - 1);
	int			code;

	while (d->slots[i] != 0)
	{
		code = d->slots[i] - 1;
		if (d->hashes[code] == h && d->lens[code] == len &&
			memcmp(d->arena + d->offs[code], key, len) == 0)
		{
			if (add)
				d->counts[code]++;
			return code;
		}
		i = (i + 1) & (d->cap - 1);
	}
	if (!add)
		return -1;

	if (d->size == d->codes_cap)
	{
		d->codes_cap *= 2;
		d->hashes = repalloc(d->hashes, sizeof(uint32) * d->codes_cap);
		d->counts = repalloc(d->counts, sizeof(int64) * d->codes_cap);
		d->offs = repalloc(d->offs, sizeof(int64) * d->codes_cap);
		d->lens = repalloc(d->lens, sizeof(int32) * d->codes_cap);
	}
	while (d->arena_used + len > d->arena_cap)
	{
		d->arena_cap *= 2;
		d->arena = repalloc_huge(d->arena, d->arena_cap);
	}
	memcpy(d->arena + d->arena_used, key, len);
	code = d->size++;
	d->hashes[code] = h;
	d->counts[code] = 1;
	d->offs[code] = d->arena_used;
	d->lens[code] = len;
	d->arena_used += len;
	d->slots[i] = code + 1;
	if (d->size * 2 > d->cap)
		fs_dict_grow(d);
	return code;
}

/* Number of distinct keys. */
int
fs_dict_size(FsDict *d)
{
	return d->size;
}

/* The key bytes of code. */
const char *
fs_dict_key(FsDict *d, int code, int *len)
{
	*len = d->lens[code];
	return d->arena + d->offs[code];
}

/* The per-code counts (writable: callers may recount). */
int64 *
fs_dict_counts(FsDict *d)
{
	return d->counts;
}
