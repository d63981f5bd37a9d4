# Shared helpers (error values, cleanup), linked into every component.
COMMON_SRCS := src/common/error.c src/common/epc.c src/common/epc_paging.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
DEPFILES += $(COMMON_OBJS:.o=.d)

# SHA-256, portable and SHA-NI (freestanding: the LibOS enclave builds the
# same sources), for the components that hash without OpenSSL.
SHA256_SRCS := src/common/sha256.c src/common/sha256_x86.S
SHA256_OBJS := $(BUILD)/obj/src/common/sha256.o $(BUILD)/obj/src/common/sha256_x86.o
DEPFILES += $(BUILD)/obj/src/common/sha256.d

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
