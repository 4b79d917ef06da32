/*
 * fairsynth.c: module entry point and configuration parameters.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "fairsynth.h"

PG_MODULE_MAGIC;

int			fairsynth_max_combinations = 10000;
int			fairsynth_max_rows = 100000000;
int			fairsynth_rare_threshold = 5;
int			fairsynth_sample_rows = 30000;
int			fairsynth_max_sample_rows = 100000;

void		_PG_init(void);

/* Define the configuration parameters and, when preloaded, the shared model store. */
void
_PG_init(void)
{
	DefineCustomIntVariable("fairsynth.max_combinations",
							"Largest number of value combinations of the balance columns.",
							"The cartesian product of the balance columns' distinct values may not exceed this.",
							&fairsynth_max_combinations, 10000, 1, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("fairsynth.max_rows",
							"Largest number of rows a fairsynth function may generate.",
							NULL,
							&fairsynth_max_rows, 100000000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("fairsynth.rare_threshold",
							"Values seen in fewer rows than this are never emitted verbatim.",
							"Applies to non-balance columns; numeric extremes are clipped to the k-th smallest and largest value. 1 turns the protection off.",
							&fairsynth_rare_threshold, 5, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("fairsynth.sample_rows",
							"Rows of the source the synthesizer is fitted on (a uniform sample).",
							"Bounds the memory and time of fitting whatever the table size; exact counts of the balance columns always use every row.",
							&fairsynth_sample_rows, 30000, 100, 10000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	/* about 24 bytes a cell: only a superuser lets a role fit on more rows */
	DefineCustomIntVariable("fairsynth.max_sample_rows",
							"Largest fairsynth.sample_rows a call may use.",
							"fairsynth.sample_rows bounds the memory of fitting (about 24 bytes per sampled cell); this superuser-only limit keeps any role from raising it to many gigabytes.",
							&fairsynth_max_sample_rows, 100000, 100, 10000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	fs_store_init();
	fs_asan_init();
	MarkGUCPrefixReserved("fairsynth");
}
