# librune (the container engine) and the rune CLI over it.
LIBRUNE_SRCS := $(sort $(wildcard src/librune/*.c))
LIBRUNE_OBJS := $(LIBRUNE_SRCS:%.c=$(BUILD)/obj/%.o)
RUNE_SRCS := $(sort $(wildcard src/rune/*.c))
RUNE_OBJS := $(RUNE_SRCS:%.c=$(BUILD)/obj/%.o)
RUNE_LIBS := -ljansson -lseccomp -lcap -ldl
# librune's quotes (attest.c) come from libsgx's quote providers in
# libratls, dlopen'ed when asked for: rune does not link libcrypto (its
# loading is a cost of every rune process; docs/benchmarks.md).
RUNE_SGX_LIBS :=
RUNE_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
# A copy of the tree outside git (make deb's, a tarball) takes it from the environment.
RUNE_COMMIT := $(or $(RUNE_COMMIT),$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown))
DEPFILES += $(LIBRUNE_OBJS:.o=.d) $(RUNE_OBJS:.o=.d)

# The CLI sees include/ only: librune through include/rune/librune.h.
$(RUNE_OBJS): INTERNAL_INCLUDES :=

$(BUILD)/lib/librune.a: $(LIBRUNE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# What a build bakes in, in a header rewritten only when it changes: a
# `make install PREFIX=...` after a build for another prefix rebuilds what
# uses it (the allowed PAL directory follows PREFIX), and --version the commit.
RUNE_GEN := $(BUILD)/gen
$(RUNE_GEN)/rune-build.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define RUNE_PAL_DIR "%s"\n#define RUNE_VERSION "%s"\n#define RUNE_COMMIT "%s"\n' \
		'$(PREFIX)/lib/rune/pal' '$(RUNE_VERSION)' '$(RUNE_COMMIT)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
.PHONY: FORCE
FORCE:
$(BUILD)/obj/src/librune/enclave.o $(BUILD)/obj/src/rune/main.o: $(RUNE_GEN)/rune-build.h
# ALL_CFLAGS, not CFLAGS: `make CFLAGS=-O1` must not drop the include path.
$(BUILD)/obj/src/librune/enclave.o $(BUILD)/obj/src/rune/main.o: ALL_CFLAGS += -I$(RUNE_GEN)

$(BUILD)/bin/rune: $(RUNE_OBJS) $(BUILD)/lib/librune.a $(COMMON_OBJS) | $(RATLS_SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(RUNE_OBJS) $(BUILD)/lib/librune.a $(COMMON_OBJS) $(RUNE_SGX_LIBS) $(RUNE_LIBS)

BINS += $(BUILD)/bin/rune

# Unit tests: tests/unit/test_*.c, each linked with librune.
RUNE_UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
RUNE_UNIT_BINS := $(RUNE_UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPFILES += $(RUNE_UNIT_SRCS:%.c=$(BUILD)/obj/%.d)
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(BUILD)/lib/librune.a $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/lib/librune.a $(COMMON_OBJS) $(RUNE_SGX_LIBS) $(RUNE_LIBS)
UNIT_TESTS += $(RUNE_UNIT_BINS)

# make fuzz: the config.json parser under libFuzzer, with librune's sources
# (an explicit rule: the pattern in 10-sgx.mk builds libsgx's parsers).
# libsgx (attest.c's quotes) as built, not instrumented: not under test here.
$(BUILD)/fuzz/fuzz-config: fuzz/fuzz-config.c $(LIBRUNE_SRCS) $(COMMON_SRCS) $(RUNE_GEN)/rune-build.h \
		$(SGX_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(RUNE_GEN) -o $@ $< \
		$(LIBRUNE_SRCS) $(COMMON_SRCS) $(RUNE_SGX_LIBS) $(RUNE_LIBS) -lpthread
