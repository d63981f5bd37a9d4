# rune-signd, the enclave signature service: libsignd.a (every
# src/signd/*.c) on libmicrohttpd (GnuTLS inside it), OpenSSL 3 (through
# libsgx's signer) and jansson; the daemon a thin main over it
# (src/rune-signd); unit tests tests/signd/test_*.c, one binary each.
SIGND_LIB := $(BUILD)/lib/libsignd.a
SIGND_LIB_SRCS := $(sort $(wildcard src/signd/*.c))
SIGND_LIB_OBJS := $(SIGND_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SIGND_SRCS := $(sort $(wildcard src/rune-signd/*.c))
SIGND_OBJS := $(SIGND_SRCS:%.c=$(BUILD)/obj/%.o)
SIGND_LDLIBS := -lmicrohttpd -lgnutls -ljansson -lp11-kit $(SGX_LDLIBS)
# p11-kit's headers: <p11-kit/p11-kit.h> under /usr/include/p11-kit-1.
$(SIGND_LIB_OBJS): ALL_CFLAGS += $(shell pkg-config --cflags p11-kit-1)
SIGND := $(BUILD)/bin/rune-signd
SIGND_TEST_SRCS := $(sort $(wildcard tests/signd/test_*.c))
SIGND_TESTS := $(SIGND_TEST_SRCS:tests/signd/test_%.c=$(BUILD)/tests/signd-%)

# The signing client (include/signd/client.h): libsignd-client.a, OpenSSL's
# TLS and jansson only; sgx-tools sign --server links it (the shim will).
SIGND_CLIENT_LIB := $(BUILD)/lib/libsignd-client.a
SIGND_CLIENT_SRCS := $(sort $(wildcard src/signd-client/*.c))
SIGND_CLIENT_OBJS := $(SIGND_CLIENT_SRCS:%.c=$(BUILD)/obj/%.o)
SIGND_CLIENT_LDLIBS := -lssl -ljansson
SGX_TOOLS_LIBS += $(SIGND_CLIENT_LIB)
# rune-image build --sign-server: the same client.
RUNE_IMAGE_LIBS += $(SIGND_CLIENT_LIB)
RUNE_IMAGE_LDLIBS += $(SIGND_CLIENT_LDLIBS)
$(RUNE_IMAGE): $(SIGND_CLIENT_LIB)
SGX_TOOLS_LDLIBS += $(SIGND_CLIENT_LDLIBS)
$(SGX_TOOLS): $(SIGND_CLIENT_LIB)
DEPFILES += $(SIGND_CLIENT_OBJS:.o=.d)

$(SIGND_CLIENT_LIB): $(SIGND_CLIENT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

BINS += $(SIGND)
UNIT_TESTS += $(SIGND_TESTS)
DEPFILES += $(SIGND_LIB_OBJS:.o=.d) $(SIGND_OBJS:.o=.d) $(SIGND_TEST_SRCS:%.c=$(BUILD)/obj/%.d)

# The daemon sees include/ only: libsignd through include/signd.
$(SIGND_OBJS): INTERNAL_INCLUDES :=
$(BUILD)/obj/src/rune-signd/main.o: $(BUILD)/gen/rune-build.h
$(BUILD)/obj/src/rune-signd/main.o: ALL_CFLAGS += -I$(BUILD)/gen

$(SIGND_LIB): $(SIGND_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(SIGND): $(SIGND_OBJS) $(SIGND_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SIGND_OBJS) $(SIGND_LIB) $(SGX_LIB) $(COMMON_OBJS) $(SIGND_LDLIBS)

$(SIGND_TESTS): $(BUILD)/tests/signd-%: $(BUILD)/obj/tests/signd/test_%.o $(SIGND_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SIGND_LIB) $(SGX_LIB) $(COMMON_OBJS) $(SIGND_LDLIBS)

# make signd: just the service.
.PHONY: signd
signd: $(SIGND) $(SIGND_TESTS)

# make install: the binary goes with $(BINS); the systemd unit (for the
# prefix) and an example configuration here.
install: install-signd
.PHONY: install-signd
install-signd:
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/rune
	sed 's|@PREFIX@|$(PREFIX)|g' src/rune-signd/rune-signd.service.in \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/rune-signd.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/rune-signd.service
	install -m 0644 src/rune-signd/signd.example.json $(DESTDIR)$(PREFIX)/share/rune/
