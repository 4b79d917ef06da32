/*
 * asan.c: support for a sanitizer build (make ASAN=1, see test/asan).
 *
 * Empty unless compiled with -DFAIRSYNTH_ASAN.  The module is built with
 * -fsanitize=address,undefined and linked against libasan and libubsan, so
 * the sanitizer runtimes are loaded with the module (dlopen), not preloaded
 * into the postmaster: with Debian's postgres binary, LD_PRELOAD=libasan at
 * postmaster start can deadlock in bindtextdomain.  Two consequences are
 * handled here:
 *
 * - Options.  A backend rewrites its environment area for the process title,
 *   so the runtimes, initialised late, never see ASAN_OPTIONS or
 *   UBSAN_OPTIONS: the options are compiled in (__asan_default_options,
 *   __ubsan_default_options), with reports written to FAIRSYNTH_ASAN_LOG
 *   (make ASAN_LOG=prefix: prefix.asan.<pid>, prefix.ubsan.<pid>) or to the server's stderr.  Options a developer
 *   puts in FAIRSYNTH_ASAN_OPTIONS in the server's environment are appended
 *   (getenv still works: PostgreSQL moves the environment, it does not
 *   erase it).
 *
 * - ERROR is a siglongjmp.  ASan poisons the redzones around the locals of
 *   instrumented frames and unpoisons them on return; a frame left by
 *   siglongjmp keeps its poison, and ASan cannot intercept PostgreSQL's
 *   siglongjmp (__longjmp_chk in libc, bound before the runtime was loaded).
 *   The next code that uses that stack (an executor frame holding the
 *   FunctionCallInfo our function reads, say) would then be reported as a
 *   stack-buffer-overflow.  So every call of one of fairsynth's C functions
 *   goes through fmgr_hook: on entry and when an error leaves it (FHET_ABORT,
 *   called by fmgr_security_definer's PG_CATCH, above every frame the error
 *   discarded) the stack below the current frame, dead at that point, is
 *   unpoisoned; code entered otherwise (the streaming scan's callbacks and
 *   planner hook, a parallel worker's main) calls fs_asan_entry for the
 *   same.  Stack-use-after-return detection is off (it keeps frames on
 *   a fake stack that a longjmp never unwinds).
 *
 * Coverage: ASan checks the loads and stores of fairsynth's own code against
 * stack and global redzones; palloc'd memory comes from PostgreSQL's own
 * allocator (libc malloc, not intercepted), so overruns inside a palloc
 * chunk are not seen (PostgreSQL's valgrind support covers those).  UBSan
 * checks every undefined operation in fairsynth's code (overflow, shifts,
 * bounds of arrays of known size, float-to-integer casts, misalignment,
 * invalid booleans and enums).
 */
#include "postgres.h"

#include "fairsynth.h"

#ifdef FAIRSYNTH_ASAN

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

/* from <sanitizer/asan_interface.h> */
extern void __asan_unpoison_memory_region(void const volatile *addr, size_t size);

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

#ifndef FAIRSYNTH_ASAN_LOG
#define FAIRSYNTH_ASAN_LOG ""
#endif

/* how much stack below the current frame is unpoisoned (ulimit -s is 8MB) */
#define FS_ASAN_STACK (16 * 1024 * 1024)

static char fs_asan_options[2048];
static char fs_ubsan_options[2048];

/*
 * own options, the log path (FAIRSYNTH_ASAN_LOG plus suffix; the runtime adds
 * .<pid>) and FAIRSYNTH_ASAN_OPTIONS into buf
 */
static const char *
fs_sanitizer_options(char *buf, size_t size, const char *own, const char *suffix)
{
	const char *extra = getenv("FAIRSYNTH_ASAN_OPTIONS");

	snprintf(buf, size, "%s%s%s%s%s%s", own,
			 FAIRSYNTH_ASAN_LOG[0] ? ":log_path=" : "", FAIRSYNTH_ASAN_LOG,
			 FAIRSYNTH_ASAN_LOG[0] ? suffix : "",
			 extra ? ":" : "", extra ? extra : "");
	return buf;
}

/*
 * Read by libasan when it initialises, while the module is being loaded.
 * verify_asan_link_order=0: the runtime is not first in the link order (it
 * comes with the module); detect_leaks=0: a backend's memory lives in
 * memory contexts and is freed at exit wholesale; the exit code 134 makes a
 * report a crash the postmaster (and every test) sees.
 */
const char *
__asan_default_options(void)
{
	return fs_sanitizer_options(fs_asan_options, sizeof(fs_asan_options),
								"verify_asan_link_order=0:detect_leaks=0:"
								"detect_stack_use_after_return=0:"
								"halt_on_error=1:exitcode=134:"
								"allow_user_segv_handler=1", ".asan");
}

/* UBSan reports and goes on; test/asan counts the reports in the log */
const char *
__ubsan_default_options(void)
{
	return fs_sanitizer_options(fs_ubsan_options, sizeof(fs_ubsan_options),
								"print_stacktrace=1:halt_on_error=0", ".ubsan");
}

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/* Unpoison the (dead) stack below the caller's frame. */
static pg_noinline void
fs_asan_clean_below(void)
{
	uintptr_t	here = (uintptr_t) __builtin_frame_address(0);

	__asan_unpoison_memory_region((void *) (here - FS_ASAN_STACK), FS_ASAN_STACK);
}

/* Is fn_oid one of fairsynth's C functions? */
static bool
fs_asan_needs_hook(Oid fn_oid)
{
	HeapTuple	tup;
	bool		ours = false;

	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		bin;

		if (proc->prolang == ClanguageId)
		{
			bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);
			if (!isnull)
			{
				char	   *path = TextDatumGetCString(bin);

				ours = strstr(path, "fairsynth") != NULL;
				pfree(path);
			}
		}
		ReleaseSysCache(tup);
	}
	return ours;
}

/*
 * An entry into fairsynth's code that is not a function call through fmgr
 * (the streaming scan's callbacks, its planner hook, a parallel worker's
 * main): clean the stack below, as the fmgr hook does for calls.
 */
void
fs_asan_entry(void)
{
	fs_asan_clean_below();
}

static void
fs_asan_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (event == FHET_START || event == FHET_ABORT)
		fs_asan_clean_below();
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
}

/* Install the hooks (from _PG_init). */
void
fs_asan_init(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = fs_asan_needs_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = fs_asan_fmgr_hook;
}

#else							/* !FAIRSYNTH_ASAN */

void
fs_asan_init(void)
{
}

#endif
