# Test-only PALs for tests/enclave/test-pal-contract.sh: one source
# (tests/enclave/test-pal.c) built per variant into $(BUILD)/tests-pal/
# (not $(BUILD)/tests/, whose executables tests/run.sh runs as unit tests).
#   testpal-v1/v2/v3   PAL API v1, v2, v3
#   testpal-v4         reports version 4 (rune must refuse it)
#   testpal-occlum     v2, Occlum's conventions (-1 + errno, wait statuses)
#   testpal-v1-nover   v1 without pal_get_version (absent means 1)
#   testpal-vN-noX     a required symbol left out
TESTPAL_DIR := $(BUILD)/tests-pal
TESTPAL_FLAGS_v1 := -DPAL_VERSION=1
TESTPAL_FLAGS_v2 := -DPAL_VERSION=2
TESTPAL_FLAGS_v3 := -DPAL_VERSION=3
TESTPAL_FLAGS_v4 := -DPAL_VERSION=4
TESTPAL_FLAGS_occlum := -DPAL_VERSION=2 -DPAL_OCCLUM
TESTPAL_FLAGS_v1-nover := -DPAL_VERSION=1 -DPAL_NO_GET_VERSION
TESTPAL_FLAGS_v1-noexec := -DPAL_VERSION=1 -DPAL_NO_EXEC
TESTPAL_FLAGS_v1-noinit := -DPAL_VERSION=1 -DPAL_NO_INIT
TESTPAL_FLAGS_v2-nocreate := -DPAL_VERSION=2 -DPAL_NO_CREATE_PROCESS
TESTPAL_FLAGS_v2-noexec := -DPAL_VERSION=2 -DPAL_NO_EXEC
TESTPAL_FLAGS_v2-nokill := -DPAL_VERSION=2 -DPAL_NO_KILL
TESTPAL_FLAGS_v2-nodestroy := -DPAL_VERSION=2 -DPAL_NO_DESTROY
TESTPAL_FLAGS_v3-noreport := -DPAL_VERSION=3 -DPAL_NO_REPORT
TESTPAL_VARIANTS := v1 v2 v3 v4 occlum v1-nover v1-noexec v1-noinit v2-nocreate v2-noexec \
	v2-nokill v2-nodestroy v3-noreport
TESTPALS := $(TESTPAL_VARIANTS:%=$(TESTPAL_DIR)/libtestpal-%.so)
TESTPAL_OBJS := $(TESTPAL_VARIANTS:%=$(BUILD)/obj/tests/enclave/test-pal-%.o)
DEPFILES += $(TESTPAL_OBJS:.o=.d)

all: $(TESTPALS)

$(TESTPAL_OBJS): $(BUILD)/obj/tests/enclave/test-pal-%.o: tests/enclave/test-pal.c \
		mk/50-enclave-tests.mk
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden $(TESTPAL_FLAGS_$*) -c -o $@ $<

$(TESTPALS): $(TESTPAL_DIR)/libtestpal-%.so: $(BUILD)/obj/tests/enclave/test-pal-%.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fPIC -shared -o $@ $< -lpthread
	chmod 0755 $@

# tests/enclave/test-epc.sh's PAL: makes an enclave per `rune exec ID enclave`,
# through libsgx as the skeleton does (so it links libsgx, never librune).
TESTPAL_EPC := $(TESTPAL_DIR)/libtestpal-epc.so
DEPFILES += $(BUILD)/obj/tests/enclave/test-epc-pal.d

all: $(TESTPAL_EPC)

$(BUILD)/obj/tests/enclave/test-epc-pal.o: INTERNAL_INCLUDES :=
$(BUILD)/obj/tests/enclave/test-epc-pal.o: tests/enclave/test-epc-pal.c mk/50-enclave-tests.mk
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(TESTPAL_EPC): $(BUILD)/obj/tests/enclave/test-epc-pal.o $(SGX_LIB) $(COMMON_OBJS) src/skeleton/pal.map
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $< $(COMMON_OBJS) $(SGX_LIB) -Wl,--exclude-libs,ALL \
		-Wl,--version-script=src/skeleton/pal.map -Wl,-z,noexecstack -lcrypto -lpthread
	chmod 0755 $@
