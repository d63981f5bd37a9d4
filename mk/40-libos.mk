# LibOS (issue 13): the in-enclave LibOS ($(BUILD)/share/libos/libos.elf,
# unsigned: rune-image embeds each image's manifest and signs it), its PAL
# liberpal-libos.so, the TEE-image library and the rune-image CLI.
LIBOS_DIR := $(BUILD)/share/libos
LIBOS_ELF := $(LIBOS_DIR)/libos.elf
LIBOS_ENCL_SRCS := src/libos/encl/entry.S $(wildcard src/libos/encl/*.c) $(SHA256_SRCS)
LIBOS_ENCL_DEPS := $(LIBOS_ENCL_SRCS) src/libos/encl/libos.lds src/libos/encl/libos.h \
	src/libos/libos_abi.h src/common/sha256.h
# As the skeleton's (ENCL_CFLAGS): freestanding, PIE, no relocations, never sanitized.
LIBOS_ENCL_CFLAGS := $(ENCL_CFLAGS) -O2
LIBOS_ENCL_LDFLAGS := -nostdlib -static-pie -Wl,-T,src/libos/encl/libos.lds \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro
# The channel's cipher and the RA-TLS key and signature (ratls.c): Debian's
# BearSSL (no libc, no allocation), linked statically.
LIBOS_ENCL_LIBS := -l:libbearssl.a

TEEIMAGE_LIB := $(BUILD)/lib/libteeimage.a
TEEIMAGE_SRCS := $(wildcard src/teeimage/*.c)
TEEIMAGE_OBJS := $(TEEIMAGE_SRCS:%.c=$(BUILD)/obj/%.o)

LIBOS_PAL := $(BUILD)/lib/liberpal-libos.so
LIBOS_PAL_SRCS := $(wildcard src/libos/host/*.c)
LIBOS_PAL_OBJS := $(LIBOS_PAL_SRCS:%.c=$(BUILD)/obj/%.o)

RUNE_IMAGE := $(BUILD)/bin/rune-image
RUNE_IMAGE_SRCS := $(wildcard src/rune-image/*.c)
RUNE_IMAGE_OBJS := $(RUNE_IMAGE_SRCS:%.c=$(BUILD)/obj/%.o)
# The CLI sees include/ only: the TEE-image library through include/teeimage.
$(RUNE_IMAGE_OBJS): INTERNAL_INCLUDES :=

LIBS += $(LIBOS_PAL)
BINS += $(RUNE_IMAGE)
DEPFILES += $(TEEIMAGE_OBJS:.o=.d) $(LIBOS_PAL_OBJS:.o=.d) $(RUNE_IMAGE_OBJS:.o=.d)

all: $(LIBOS_ELF)

$(LIBOS_ELF): $(LIBOS_ENCL_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBOS_ENCL_CFLAGS) $(LIBOS_ENCL_LDFLAGS) -o $@.tmp $(LIBOS_ENCL_SRCS) \
		$(LIBOS_ENCL_LIBS)
	@if readelf -rW $@.tmp | grep R_X86_64 | grep -qv R_X86_64_RELATIVE; then \
		echo "$@: the enclave has relocations other than relative ones (main.c applies only those)" >&2; \
		rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

$(TEEIMAGE_LIB): $(TEEIMAGE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(LIBOS_PAL): $(LIBOS_PAL_OBJS) $(TEEIMAGE_LIB) $(SGX_LIB) $(COMMON_OBJS) src/libos/host/pal.map
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $(LIBOS_PAL_OBJS) $(TEEIMAGE_LIB) $(COMMON_OBJS) \
		$(SGX_LIB) -Wl,--exclude-libs,ALL -Wl,--version-script=src/libos/host/pal.map \
		-Wl,-z,noexecstack -lcrypto -lpthread
	chmod 0755 $@

$(RUNE_IMAGE): $(RUNE_IMAGE_OBJS) $(TEEIMAGE_LIB) $(SGX_LIB) $(COMMON_OBJS) | $(LIBOS_ELF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(RUNE_IMAGE_OBJS) $(RUNE_IMAGE_LIBS) $(TEEIMAGE_LIB) $(SGX_LIB) \
		$(COMMON_OBJS) $(RUNE_IMAGE_LDLIBS) -larchive -ljansson -lcrypto -lpthread

# The Iago test: the enclave's OCALL return paths, built for the host with a
# mock host (tests/libos/test_ocall_iago.c).
LIBOS_IAGO := $(BUILD)/tests/libos-iago
LIBOS_IAGO_SRCS := tests/libos/test_ocall_iago.c src/libos/encl/fs.c src/libos/encl/lib.c \
	src/libos/encl/mm.c src/libos/encl/syscall.c src/libos/encl/thread.c src/libos/encl/ipc.c \
	src/libos/encl/net.c src/libos/encl/poll.c src/libos/encl/pseudo.c src/libos/encl/chan.c \
	src/libos/encl/proc.c src/libos/encl/ratls.c $(SHA256_SRCS)
UNIT_TESTS += $(LIBOS_IAGO)

$(LIBOS_IAGO): $(LIBOS_IAGO_SRCS) src/libos/encl/libos.h src/libos/libos_abi.h src/common/sha256.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Isrc $(WARNFLAGS) -fno-builtin -fno-stack-protector -o $@ $(LIBOS_IAGO_SRCS) \
		$(LIBOS_ENCL_LIBS)

# SHA-256 (src/common): the portable and SHA-NI code against OpenSSL.
LIBOS_SHA256_TEST := $(BUILD)/tests/libos-sha256
UNIT_TESTS += $(LIBOS_SHA256_TEST)
DEPFILES += $(BUILD)/obj/tests/libos/test_sha256.d

$(LIBOS_SHA256_TEST): $(BUILD)/obj/tests/libos/test_sha256.o $(SHA256_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcrypto

# The LibOS enclave's ioctl sequence through the driver backend's ops seam.
LIBOS_DRIVER_TEST := $(BUILD)/tests/libos-driver
UNIT_TESTS += $(LIBOS_DRIVER_TEST)
DEPFILES += $(BUILD)/obj/tests/libos/test_libos_driver.d

$(LIBOS_DRIVER_TEST): $(BUILD)/obj/tests/libos/test_libos_driver.o $(TEEIMAGE_LIB) $(SGX_LIB) \
		$(COMMON_OBJS) | $(LIBOS_ELF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEEIMAGE_LIB) $(SGX_LIB) $(COMMON_OBJS) -lcrypto -lpthread

# The PAL's socket pass-through against a compromised enclave's requests.
LIBOS_HOST_NET_TEST := $(BUILD)/tests/libos-host-net
UNIT_TESTS += $(LIBOS_HOST_NET_TEST)
DEPFILES += $(BUILD)/obj/tests/libos/test_host_net.d

$(LIBOS_HOST_NET_TEST): $(BUILD)/obj/tests/libos/test_host_net.o $(BUILD)/obj/src/libos/host/net.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# A hostile host for the LibOS enclave (tests/libos/test-libos-hostile.sh).
LIBOS_HOSTILE := $(BUILD)/tests-bin/libos-hostile-host
DEPFILES += $(BUILD)/obj/tests/libos/hostile-host.d
all: $(LIBOS_HOSTILE)

$(LIBOS_HOSTILE): $(BUILD)/obj/tests/libos/hostile-host.o $(TEEIMAGE_LIB) $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEEIMAGE_LIB) $(SGX_LIB) $(COMMON_OBJS) -lcrypto -lpthread

# Checks a REPORT from /dev/attestation with the emulator's key (tests/libos/test-libos-fds.sh).
LIBOS_VERIFY_REPORT := $(BUILD)/tests-bin/libos-verify-report
DEPFILES += $(BUILD)/obj/tests/libos/verify-report.d
all: $(LIBOS_VERIFY_REPORT)

$(LIBOS_VERIFY_REPORT): $(BUILD)/obj/tests/libos/verify-report.o $(SGX_LIB) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(SGX_LIB) $(COMMON_OBJS) -lcrypto -lpthread
