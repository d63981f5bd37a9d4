# libratls (include/ratls/ratls.h): the quote verifier, collateral, policy
# and RA-TLS certificates, on libsgx, OpenSSL 3, jansson and libcbor. A
# static library for the project's front ends and a shared one (libsgx's
# parts it needs inside) for others; ratls-verify a thin CLI over it;
# sgx-tools verify-quote links it. Unit tests: tests/ratls/ratls-*.c; the
# integration tests' helper (quotes, certificates, collateral, a TLS
# server): tests/ratls/ratls-helper.c.
RATLS_LIB := $(BUILD)/lib/libratls.a
RATLS_SO := $(BUILD)/lib/libratls.so
# The installed static library: libratls with the libsgx and common parts it
# needs, as the shared one has them (the tree's own libratls.a has libratls's
# objects only: the front ends link libsgx.a beside it).
RATLS_DIST_LIB := $(BUILD)/lib/dist/libratls.a
RATLS_SRCS := $(sort $(wildcard src/ratls/*.c))
RATLS_OBJS := $(RATLS_SRCS:%.c=$(BUILD)/obj/%.o)
RATLS_LDLIBS := -lssl -ljansson -lcbor $(SGX_LDLIBS)
RATLS_VERIFY := $(BUILD)/bin/ratls-verify
RATLS_VERIFY_SRCS := $(sort $(wildcard src/ratls-verify/*.c))
RATLS_VERIFY_OBJS := $(RATLS_VERIFY_SRCS:%.c=$(BUILD)/obj/%.o)
RATLS_TEST_SRCS := $(sort $(wildcard tests/ratls/ratls-[!h]*.c))
RATLS_TESTS := $(RATLS_TEST_SRCS:tests/ratls/%.c=$(BUILD)/tests/%)
RATLS_HELPER := $(BUILD)/tests-bin/ratls-helper

BINS += $(RATLS_VERIFY)
UNIT_TESTS += $(RATLS_TESTS)
DEPFILES += $(RATLS_OBJS:.o=.d) $(RATLS_VERIFY_OBJS:.o=.d) \
	$(RATLS_TEST_SRCS:%.c=$(BUILD)/obj/%.d) $(BUILD)/obj/tests/ratls/ratls-helper.d

# The CLI sees include/ only.
$(RATLS_VERIFY_OBJS): INTERNAL_INCLUDES :=

$(RATLS_LIB): $(RATLS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(RATLS_DIST_LIB): $(RATLS_OBJS) $(SGX_LIB_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# It exports its headers' functions only (src/ratls/libratls.map). Every
# symbol resolved at link time, except under sanitizers: clang leaves their
# runtime to the executable.
$(RATLS_SO): $(RATLS_OBJS) $(SGX_LIB) $(COMMON_OBJS) src/ratls/libratls.map
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libratls.so.0 $(if $(SAN),,-Wl,--no-undefined) \
		-Wl,--version-script=src/ratls/libratls.map -o $@ \
		$(RATLS_OBJS) $(SGX_LIB) $(COMMON_OBJS) $(RATLS_LDLIBS)

$(RATLS_VERIFY): $(RATLS_VERIFY_OBJS) $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(RATLS_VERIFY_OBJS) $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS) $(RATLS_LDLIBS)

$(RATLS_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/ratls/%.o $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS) $(RATLS_LDLIBS)

$(RATLS_HELPER): $(BUILD)/obj/tests/ratls/ratls-helper.o $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(RATLS_LIB) $(SGX_LIB) $(COMMON_OBJS) $(RATLS_LDLIBS)

# sgx-tools verify-quote is the library's verifier.
SGX_TOOLS_LIBS += $(RATLS_LIB)
SGX_TOOLS_LDLIBS += $(RATLS_LDLIBS)
$(SGX_TOOLS): $(RATLS_LIB)

all: $(RATLS_LIB) $(RATLS_DIST_LIB) $(RATLS_SO) $(RATLS_HELPER)

.PHONY: ratls install-ratls
ratls: $(RATLS_LIB) $(RATLS_SO) $(RATLS_VERIFY) $(RATLS_TESTS) $(RATLS_HELPER)

# make install: the library (libratls.so.0, the link libratls.so, the
# static libratls.a), its header and the headers it includes.
install: install-ratls
install-ratls: $(RATLS_DIST_LIB) $(RATLS_SO)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/ratls \
		$(DESTDIR)$(PREFIX)/include/sgx $(DESTDIR)$(PREFIX)/include/common
	install -m 0644 $(RATLS_DIST_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(RATLS_SO) $(DESTDIR)$(PREFIX)/lib/libratls.so.0
	ln -sf libratls.so.0 $(DESTDIR)$(PREFIX)/lib/libratls.so
	install -m 0644 include/ratls/ratls.h $(DESTDIR)$(PREFIX)/include/ratls/
	install -m 0644 include/sgx/quote.h include/sgx/arch.h $(DESTDIR)$(PREFIX)/include/sgx/
	install -m 0644 include/common/error.h $(DESTDIR)$(PREFIX)/include/common/

# Quote generation and verification (with and without collateral) per
# operation (docs/benchmarks.md); make bench runs it too.
.PHONY: bench-quote
bench-quote: $(SGX_LIB) $(COMMON_OBJS) $(RATLS_LIB) $(RATLS_HELPER)
	BUILD=$(abspath $(BUILD)) bench/quote.sh

# A stand-in for Intel's DCAP quote library that tests/ratls/ratls-dcap.c
# loads through the DCAP provider.
RATLS_FAKE_DCAP := $(BUILD)/tests-bin/libfake-dcap-ql.so
DEPFILES += $(BUILD)/obj/tests/ratls/fake-dcap-ql.d
$(RATLS_FAKE_DCAP): $(BUILD)/obj/tests/ratls/fake-dcap-ql.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $<
$(BUILD)/tests/ratls-dcap: | $(RATLS_FAKE_DCAP)
all: $(RATLS_FAKE_DCAP)
ratls: $(RATLS_FAKE_DCAP)
