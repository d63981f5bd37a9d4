# SGX toolkit: libsgx.a (every src/libsgx/*.c), the sgx-tools CLI, unit
# tests (every tests/sgx/*.c, one binary each) and libFuzzer targets.
SGX_LIB := $(BUILD)/lib/libsgx.a
SGX_LIB_SRCS := $(wildcard src/libsgx/*.c)
SGX_LIB_OBJS := $(SGX_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SGX_LDLIBS := -lcrypto -lpthread -ldl

SGX_TOOLS := $(BUILD)/bin/sgx-tools
SGX_TOOLS_SRCS := $(wildcard src/sgx-tools/*.c)
SGX_TOOLS_OBJS := $(SGX_TOOLS_SRCS:%.c=$(BUILD)/obj/%.o)

SGX_TEST_SRCS := $(wildcard tests/sgx/*.c)
SGX_TESTS := $(SGX_TEST_SRCS:tests/sgx/%.c=$(BUILD)/tests/%)

BINS += $(SGX_TOOLS)
UNIT_TESTS += $(SGX_TESTS)
DEPFILES += $(SGX_LIB_OBJS:.o=.d) $(SGX_TOOLS_OBJS:.o=.d) \
	$(SGX_TEST_SRCS:%.c=$(BUILD)/obj/%.d)

# sgx-tools sees include/ only: libsgx through include/sgx.
$(SGX_TOOLS_OBJS): INTERNAL_INCLUDES :=

$(SGX_LIB): $(SGX_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# --version: the version and commit of this build, from the header
# mk/30-rune.mk generates (rewritten only when they change). ALL_CFLAGS,
# not CFLAGS: a CFLAGS given on make's command line would drop the -I.
$(BUILD)/obj/src/sgx-tools/main.o: $(BUILD)/gen/rune-build.h
$(BUILD)/obj/src/sgx-tools/main.o: ALL_CFLAGS += -I$(BUILD)/gen

# SGX_TOOLS_LIBS, SGX_TOOLS_LDLIBS: what other components add (the signing
# client, mk/90-signd.mk).
$(SGX_TOOLS): $(SGX_TOOLS_OBJS) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SGX_TOOLS_OBJS) $(SGX_TOOLS_LIBS) $(SGX_LIB) $(COMMON_OBJS) $(SGX_LDLIBS) $(SGX_TOOLS_LDLIBS)

$(SGX_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/sgx/%.o $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SGX_LIB) $(COMMON_OBJS) $(SGX_LDLIBS)

# make fuzz: libFuzzer targets built with clang from the sources (their own
# flags, not the shared objects), each run FUZZ_SECONDS on a seed corpus.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard fuzz/fuzz-*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc $(WARNFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

# The parsers under test only: the loader/emulator stay out of the fuzzers.
FUZZ_LIB_SRCS := $(addprefix src/libsgx/,elf.c fileio.c image.c measure.c quote.c quote_crypto.c \
	sign.c sigstruct.c) $(filter-out src/ratls/source.c,$(sort $(wildcard src/ratls/*.c)))

$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRCS) $(COMMON_SRCS) $(wildcard include/sgx/*.h include/ratls/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(COMMON_SRCS) -lssl -lcrypto -ljansson -lcbor

fuzz: fuzz-build
	BUILD=$(abspath $(BUILD)) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh


# Just the toolkit: make sgx
.PHONY: sgx
sgx: $(SGX_LIB) $(SGX_TOOLS) $(SGX_TESTS)
