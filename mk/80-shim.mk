# containerd-shim-rune-v2: the shim's C sources, its protobuf messages
# generated at build time by protoc-c (src/shim/proto/*.proto) into
# $(BUILD)/gen/shim, linked with libprotobuf-c; and the ttrpc, stats and
# shim.json unit tests.
SHIM := $(BUILD)/bin/containerd-shim-rune-v2
SHIM_GEN := $(BUILD)/gen/shim
SHIM_PROTOS := $(wildcard src/shim/proto/*.proto)
SHIM_PB_C := $(SHIM_PROTOS:src/shim/proto/%.proto=$(SHIM_GEN)/%.pb-c.c)
SHIM_PB_H := $(SHIM_PB_C:.c=.h)
SHIM_PB_OBJS := $(SHIM_PB_C:.c=.o)
SHIM_SRCS := $(wildcard src/shim/*.c)
SHIM_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/obj/%.o)
SHIM_LIBS := -lprotobuf-c -ljansson
SHIM_TEST := $(BUILD)/tests/shim-ttrpc
SHIM_STATS_TEST := $(BUILD)/tests/shim-stats
SHIM_CONFIG_TEST := $(BUILD)/tests/shim-config

BINS += $(SHIM)
UNIT_TESTS += $(SHIM_TEST) $(SHIM_STATS_TEST) $(SHIM_CONFIG_TEST)
DEPFILES += $(SHIM_OBJS:.o=.d) $(BUILD)/obj/tests/shim/test_ttrpc.d \
	$(BUILD)/obj/tests/shim/test_stats.d $(BUILD)/obj/tests/shim/test_config.d

$(SHIM_GEN)/%.pb-c.c $(SHIM_GEN)/%.pb-c.h: src/shim/proto/%.proto
	@mkdir -p $(SHIM_GEN)
	protoc-c --c_out=$(SHIM_GEN) -Isrc/shim/proto $<

$(SHIM_GEN)/%.pb-c.o: $(SHIM_GEN)/%.pb-c.c
	$(CC) $(ALL_CFLAGS) -I$(SHIM_GEN) -c -o $@ $<

SHIM_TEST_OBJS := $(BUILD)/obj/tests/shim/test_ttrpc.o $(BUILD)/obj/tests/shim/test_stats.o \
	$(BUILD)/obj/tests/shim/test_config.o
$(SHIM_OBJS) $(SHIM_TEST_OBJS): $(SHIM_PB_H)
$(SHIM_OBJS) $(SHIM_TEST_OBJS): CFLAGS += -I$(SHIM_GEN)
$(BUILD)/obj/src/shim/main.o: CFLAGS += -DSHIM_VERSION='"$(RUNE_VERSION)"'

$(SHIM): $(SHIM_OBJS) $(SHIM_PB_OBJS) $(COMMON_OBJS) $(SHA256_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SHIM_LIBS)

$(SHIM_TEST): $(BUILD)/obj/tests/shim/test_ttrpc.o $(BUILD)/obj/src/shim/ttrpc.o \
		$(SHIM_GEN)/ttrpc.pb-c.o $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lprotobuf-c

$(SHIM_STATS_TEST): $(BUILD)/obj/tests/shim/test_stats.o $(BUILD)/obj/src/shim/stats.o \
		$(SHIM_GEN)/cgroups.pb-c.o $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lprotobuf-c -ljansson

$(SHIM_CONFIG_TEST): $(BUILD)/obj/tests/shim/test_config.o $(BUILD)/obj/src/shim/config.o \
		$(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson
