# The cgroup module's test helper: drives src/librune/cgroup*.c on the real host
# for tests/cgroup/test-*.sh. Linked with the cgroup objects only, so it builds
# even while other parts of librune are in progress.
CGROUP_SRCS := $(sort $(wildcard src/librune/cgroup*.c))
CGROUP_OBJS := $(CGROUP_SRCS:%.c=$(BUILD)/obj/%.o)
CGROUP_TOOL := $(BUILD)/tests-bin/cgroup-tool
DEPFILES += $(BUILD)/obj/tests/cgroup/cgroup-tool.d

$(CGROUP_TOOL): $(BUILD)/obj/tests/cgroup/cgroup-tool.o $(CGROUP_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson

all: $(CGROUP_TOOL)
