/*
 * fairsynth.c: module entry point and configuration parameters.
 *
 * Settings are defined when the library loads: at CREATE EXTENSION (the
 * install script calls into the library), at a session's first fairsynth
 * call, or at server or session start with shared_ or
 * session_preload_libraries.  Once defined, a SET out of range is rejected
 * at once.  A value SET before the library was loaded (a placeholder, which
 * PostgreSQL cannot check) that the setting then rejects is reported by an
 * error at the session's first call instead of reverting silently.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "fairsynth.h"
#include "parallel.h"
#include "progress.h"
#include "stream.h"

PG_MODULE_MAGIC;

int			fairsynth_max_combinations = 10000;
int			fairsynth_max_rows = 100000000;
int			fairsynth_rare_threshold = 5;
int			fairsynth_sample_rows = 30000;
int			fairsynth_max_sample_rows = 100000;

void		_PG_init(void);

/* A placeholder value the setting rejected at load, for the first call. */
static char *fs_rejected_setting = NULL;

/*
 * Define an integer setting, checking the value a placeholder of the same
 * name held (set before the library was loaded): if the setting did not take
 * it, remember why for fs_check_settings.
 */
void
fs_define_int(const char *name, const char *short_desc, const char *long_desc,
			  int *var, int boot, int min, int max, GucContext context, int flags)
{
	const char *held = GetConfigOption(name, true, false);
	char	   *value = held ? MemoryContextStrdup(TopMemoryContext, held) : NULL;
	int			parsed;
	const char *hint = NULL;

	DefineCustomIntVariable(name, short_desc, long_desc, var, boot, min, max,
							context, flags, NULL, NULL, NULL);
	if (value == NULL || fs_rejected_setting != NULL)
		return;
	if (!parse_int(value, &parsed, flags, &hint))
		fs_rejected_setting = MemoryContextStrdup(TopMemoryContext,
												  psprintf("%s = '%s' is not an integer%s%s", name, value,
														   hint ? ": " : "", hint ? hint : ""));
	else if (parsed < min || parsed > max)
		fs_rejected_setting = MemoryContextStrdup(TopMemoryContext,
												  psprintf("%s = %s is outside its range %d .. %d", name, value, min, max));
	else if (parsed != *var)
		fs_rejected_setting = MemoryContextStrdup(TopMemoryContext,
												  psprintf("%s = %s could not be set (a superuser's setting)", name, value));
	if (fs_rejected_setting != NULL)
		fs_rejected_setting = MemoryContextStrdup(TopMemoryContext,
												  psprintf("%s; it is %d now", fs_rejected_setting, *var));
}

/*
 * Error out once if a setting rejected the value SET before the library was
 * loaded: the call would otherwise silently run with another value.
 */
void
fs_check_settings(void)
{
	char	   *msg = fs_rejected_setting;

	if (msg == NULL)
		return;
	fs_rejected_setting = NULL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid fairsynth setting: %s", msg),
			 errdetail("The value was set before fairsynth was loaded in this session, so it could not be checked then."),
			 errhint("SET it again to a valid value (now checked at once), or RESET it. With fairsynth in session_preload_libraries settings are checked from the start of every session.")));
}

/* Define the configuration parameters and, when preloaded, the shared model store. */
void
_PG_init(void)
{
	fs_define_int("fairsynth.max_combinations",
							"Largest number of value combinations of the balance columns.",
							"The cartesian product of the balance columns' distinct values may not exceed this.",
							&fairsynth_max_combinations, 10000, 1, 1000000,
							PGC_USERSET, 0);
	fs_define_int("fairsynth.max_rows",
							"Largest number of rows a fairsynth function may generate.",
							NULL,
							&fairsynth_max_rows, 100000000, 1, INT_MAX,
							PGC_USERSET, 0);
	fs_define_int("fairsynth.rare_threshold",
							"Values seen in fewer rows than this are never emitted verbatim.",
							"Applies to non-balance columns; numeric extremes are clipped to the k-th smallest and largest value. 1 turns the protection off.",
							&fairsynth_rare_threshold, 5, 1, 1000,
							PGC_USERSET, 0);
	fs_define_int("fairsynth.sample_rows",
							"Rows of the source the synthesizer is fitted on (a uniform sample).",
							"Bounds the memory and time of fitting whatever the table size; exact counts of the balance columns always use every row.",
							&fairsynth_sample_rows, 30000, 100, 10000000,
							PGC_USERSET, 0);
	/* about 24 bytes a cell: only a superuser lets a role fit on more rows */
	fs_define_int("fairsynth.max_sample_rows",
							"Largest fairsynth.sample_rows a call may use.",
							"fairsynth.sample_rows bounds the memory of fitting (about 24 bytes per sampled cell); this superuser-only limit keeps any role from raising it to many gigabytes.",
							&fairsynth_max_sample_rows, 100000, 100, 10000000,
							PGC_SUSET, 0);
	fs_parallel_init();
	fs_stream_init();
	fs_store_init();
	fs_progress_init();
	fs_asan_init();
	MarkGUCPrefixReserved("fairsynth");
}
