# Skeleton enclave runtime: the enclave (encl.elf, signed into encl.ss with a
# key generated at build time), the PALs liberpal-skeleton-v{1,2,3}.so, and
# the loader's tests (tests/loader/).
SKEL_DIR := $(BUILD)/share/skeleton
SKEL_ELF := $(SKEL_DIR)/encl.elf
SKEL_SS := $(SKEL_DIR)/encl.ss
SKEL_KEY := $(SKEL_DIR)/signing_key.pem
SKEL_ENCL_SRCS := src/skeleton/encl/entry.S src/skeleton/encl/main.c
SKEL_ENCL_DEPS := $(SKEL_ENCL_SRCS) src/skeleton/encl/encl.lds src/skeleton/skeleton_abi.h

# The enclave is freestanding and position independent with no relocations
# (MRENCLAVE must not depend on where it loads); never sanitized.
ENCL_CFLAGS := -std=gnu11 -Os -g0 -Isrc $(WARNFLAGS) -ffreestanding -fPIE -fvisibility=hidden \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mno-sse -mno-mmx -mno-80387 -mno-red-zone
ENCL_LDFLAGS := -nostdlib -static-pie -Wl,-T,src/skeleton/encl/encl.lds -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,norelro

SKEL_PAL_VERSIONS := 1 2 3
SKEL_PALS := $(SKEL_PAL_VERSIONS:%=$(BUILD)/lib/liberpal-skeleton-v%.so)
SKEL_PAL_OBJS := $(SKEL_PAL_VERSIONS:%=$(BUILD)/obj/src/skeleton/pal-v%.o)

LOADER_TEST_SRCS := $(wildcard tests/loader/test_*.c)
LOADER_TESTS := $(LOADER_TEST_SRCS:tests/loader/test_%.c=$(BUILD)/tests/loader-%)
PAL_HOST := $(BUILD)/tests-bin/pal-host
PAL_KILL_RACE := $(BUILD)/tests-bin/pal-kill-race

LIBS += $(SKEL_PALS)
UNIT_TESTS += $(LOADER_TESTS)
DEPFILES += $(SKEL_PAL_OBJS:.o=.d) $(LOADER_TEST_SRCS:%.c=$(BUILD)/obj/%.d) \
	$(BUILD)/obj/tests/loader/pal-host.d $(BUILD)/obj/tests/loader/pal-kill-race.d

all: $(SKEL_SS) $(PAL_HOST) $(PAL_KILL_RACE)

$(SKEL_ELF): $(SKEL_ENCL_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ENCL_CFLAGS) $(ENCL_LDFLAGS) -o $@.tmp $(SKEL_ENCL_SRCS)
	@if readelf -rW $@.tmp | grep -q R_X86_64; then \
		echo "$@: the enclave has relocations (pointers in data?)" >&2; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

# Generated once per build tree; `sgx-tools sign --key` re-signs with another.
$(SKEL_KEY): | $(SGX_TOOLS)
	@mkdir -p $(dir $@)
	$(SGX_TOOLS) gen-key --out $@

$(SKEL_SS): $(SKEL_ELF) $(SKEL_KEY) $(SGX_TOOLS)
	$(SGX_TOOLS) sign --key $(SKEL_KEY) --elf $(SKEL_ELF) --out $@

# The PAL sees include/ only (pal.h, libsgx's include/sgx) and links libsgx
# and src/common, never librune.
$(SKEL_PAL_OBJS): INTERNAL_INCLUDES :=
$(SKEL_PAL_OBJS): $(BUILD)/obj/src/skeleton/pal-v%.o: src/skeleton/pal.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPAL_VERSION=$* -c -o $@ $<

# libsgx and OpenSSL-facing code stay private: only pal_* is exported.
$(SKEL_PALS): $(BUILD)/lib/liberpal-skeleton-v%.so: $(BUILD)/obj/src/skeleton/pal-v%.o $(SGX_LIB) $(COMMON_OBJS) \
		src/skeleton/pal.map
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $< $(COMMON_OBJS) $(SGX_LIB) -Wl,--exclude-libs,ALL \
		-Wl,--version-script=src/skeleton/pal.map -Wl,-z,noexecstack -lcrypto -lpthread
	chmod 0755 $@

$(LOADER_TESTS): $(BUILD)/tests/loader-%: $(BUILD)/obj/tests/loader/test_%.o $(SGX_LIB) \
		$(COMMON_OBJS) | $(SKEL_SS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SGX_LIB) $(COMMON_OBJS) -lcrypto -lpthread

$(PAL_HOST): $(BUILD)/obj/tests/loader/pal-host.o $(COMMON_OBJS) | $(SKEL_PALS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(COMMON_OBJS) -ldl -lpthread

# Exports its write(2) (-rdynamic): it interposes the PAL's, to hold pal_kill's.
$(PAL_KILL_RACE): $(BUILD)/obj/tests/loader/pal-kill-race.o | $(SKEL_PALS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -rdynamic -o $@ $< -ldl -lpthread
