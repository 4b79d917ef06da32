# fairsynth: PGXS build.  Override PG_CONFIG to build against another server.
EXTENSION  = fairsynth
MODULE_big = fairsynth
EXTVERSION = 0.2.0

# Every C file in src/ is part of the module; every SQL fragment in src/sql/
# (sorted by name) is part of the install script.
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
SQL_PARTS  = $(sort $(wildcard src/sql/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--$(EXTVERSION).sql
# Earlier versions' install scripts, as released (CREATE EXTENSION ... VERSION).
DATA       = sql/$(EXTENSION)--0.1.0.sql

# Regression tests: every sql/*.sql file except the generated install script.
TESTS      = $(filter-out sql/$(EXTENSION)--%,$(sort $(wildcard sql/*.sql)))
REGRESS    = $(patsubst sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

TAP_TESTS  = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CFLAGS  = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers $(if $(WERROR),-Werror)
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--$(EXTVERSION).sql

# make ASAN=1: AddressSanitizer and UndefinedBehaviorSanitizer build (src/asan.c,
# test/asan).  The module links libasan and libubsan itself, so the runtimes load
# with it; ASAN_LOG=/path/prefix writes the reports to prefix.asan.<pid> and
# prefix.ubsan.<pid> instead of the server's stderr.  Run `make clean` when
# switching between ASAN=1 and a plain build.
ifdef ASAN
PG_CFLAGS += -DFAIRSYNTH_ASAN -fsanitize=address,undefined -fsanitize=float-cast-overflow \
             -fno-omit-frame-pointer -fno-sanitize-recover=address -g \
             $(if $(ASAN_LOG),-DFAIRSYNTH_ASAN_LOG='"$(ASAN_LOG)"')
SHLIB_LINK += -fsanitize=address,undefined
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# The upgrade script from 0.1.0: a prelude dropping what 0.2.0 replaces, the
# install script's fragments (but the header) with CREATE FUNCTION/VIEW made
# CREATE OR REPLACE (functions kept from 0.1.0 keep their oid and dependants),
# and a postlude.  sql/upgrade.sql checks that the result equals a fresh install.
UPGRADE_PARTS = $(filter-out src/sql/00_%,$(SQL_PARTS))
sql/$(EXTENSION)--0.1.0--$(EXTVERSION).sql: src/upgrade/0.1.0--$(EXTVERSION).pre.sql $(UPGRADE_PARTS) src/upgrade/0.1.0--$(EXTVERSION).post.sql
	{ cat $<; sed -e 's/^CREATE FUNCTION /CREATE OR REPLACE FUNCTION /' -e 's/^CREATE VIEW /CREATE OR REPLACE VIEW /' \
	    $(UPGRADE_PARTS); cat $(lastword $^); } > $@

# Progress NOTICEs (fairsynth.progress_interval) depend on timing: none in
# the regression outputs
installcheck: export PGOPTIONS += -c fairsynth.progress_interval=0

# Every object depends on every header (few, small, and often shared).
$(OBJS): $(wildcard src/*.h)
