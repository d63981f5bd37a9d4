# Inclavare Containers in C: plain Makefile, one fragment per component (mk/*.mk).
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
SAN ?=
WARNFLAGS := -Wall -Wextra -Werror -Wno-missing-field-initializers
# rune and the daemons run as root: hardened (Debian's gcc builds PIE by
# default). Not for the freestanding enclaves (their own flags), and no
# FORTIFY under the sanitizers or without optimization (it needs both).
HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection \
	$(if $(SAN),,$(if $(filter -O1 -O2 -O3 -Os -Og,$(CFLAGS)),-D_FORTIFY_SOURCE=3))
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
BASE_CFLAGS := -std=gnu11 -fPIC -fno-strict-aliasing -D_GNU_SOURCE -Iinclude \
	$(WARNFLAGS) $(HARDEN_CFLAGS) $(SAN) -MMD -MP
BASE_LDFLAGS := $(HARDEN_LDFLAGS) $(SAN)
# Public headers (include/) for every component; src/ (the components'
# internals) too unless a fragment takes it away from a front end, which then
# can't include another component's internals (mk/10-sgx.mk, 20-skeleton.mk,
# 30-rune.mk, 40-libos.mk).
INTERNAL_INCLUDES = -Isrc
ALL_CFLAGS = $(BASE_CFLAGS) $(INTERNAL_INCLUDES) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

# Fragments append to these.
BINS :=
LIBS :=
UNIT_TESTS :=
DEPFILES :=

# make demo and make check build in parallel unless told otherwise (JOBS=1).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps check check-asan check-valgrind demo bench bench-libos bench-libos-procs bench-carrier bench-signd bench-shim install clean format format-check

all:

include $(sort $(wildcard mk/*.mk))

all: $(BINS) $(LIBS) $(UNIT_TESTS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) -j$(JOBS) all
	BUILD=$(abspath $(BUILD)) tests/run.sh

# Same tests, every binary built with ASan/UBSan into its own tree.
check-asan: deps
	$(MAKE) -j$(JOBS) BUILD=build-asan CC=clang SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	BUILD=$(abspath build-asan) RUNE_ASAN=1 tests/run.sh

# Unit tests only, each under valgrind (memcheck).
check-valgrind: deps
	$(MAKE) -j$(JOBS) all
	BUILD=$(abspath $(BUILD)) RUNE_VALGRIND=1 TESTS=/tests/ tests/run.sh

demo: deps
	$(MAKE) -j$(JOBS) all
	BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: deps
	$(MAKE) -j$(JOBS) all
	BUILD=$(abspath $(BUILD)) bench/run.sh
	BUILD=$(abspath $(BUILD)) bench/libos.sh
	BUILD=$(abspath $(BUILD)) bench/libos-procs.sh
	BUILD=$(abspath $(BUILD)) bench/carrier.sh
	BUILD=$(abspath $(BUILD)) bench/quote.sh
	BUILD=$(abspath $(BUILD)) bench/signd.sh
	BUILD=$(abspath $(BUILD)) bench/shim.sh

bench-libos: all
	BUILD=$(abspath $(BUILD)) bench/libos.sh

bench-libos-procs: all
	BUILD=$(abspath $(BUILD)) bench/libos-procs.sh

bench-carrier: all
	BUILD=$(abspath $(BUILD)) bench/carrier.sh
bench-signd: all
	BUILD=$(abspath $(BUILD)) bench/signd.sh
bench-shim: all
	BUILD=$(abspath $(BUILD)) bench/shim.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/rune/pal
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(LIBS),install -m 0755 $(LIBS) $(DESTDIR)$(PREFIX)/lib/rune/pal/)
	install -d $(DESTDIR)$(PREFIX)/include/rune
	install -m 0644 include/rune/pal.h $(DESTDIR)$(PREFIX)/include/rune/
	# the skeleton enclave, signed with the build's key (never installed)
	install -d $(DESTDIR)$(PREFIX)/share/rune/skeleton
	install -m 0644 $(BUILD)/share/skeleton/encl.elf $(BUILD)/share/skeleton/encl.ss \
		$(DESTDIR)$(PREFIX)/share/rune/skeleton/
	# the LibOS enclave, unsigned (rune-image embeds a manifest and signs it)
	install -d $(DESTDIR)$(PREFIX)/share/rune/libos
	install -m 0644 $(BUILD)/share/libos/libos.elf $(DESTDIR)$(PREFIX)/share/rune/libos/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

-include $(DEPFILES)
