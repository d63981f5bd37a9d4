# The cgroup module's test helper: drives src/librune/cgroup*.c on the real host
# for tests/cgroup/test-*.sh. Linked with the cgroup objects only, so it builds
# even while other parts of librune are in progress.
CGROUP_SRCS := $(sort $(wildcard src/librune/cgroup*.c))
CGROUP_OBJS := $(CGROUP_SRCS:%.c=$(BUILD)/obj/%.o)
CGROUP_TOOL := $(BUILD)/tests-bin/cgroup-tool
DEPFILES += $(BUILD)/obj/tests/cgroup/cgroup-tool.d

$(CGROUP_TOOL): $(BUILD)/obj/tests/cgroup/cgroup-tool.o $(CGROUP_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljansson -ldl

all: $(CGROUP_TOOL)

# Pure cgroup v2 with every controller, in a qemu VM (tests/cgroup/test-v2-vm.sh;
# `make check` runs it too whenever qemu is installed).
.PHONY: check-v2
check-v2: deps
	RUNE_EXTRA_DEPS=qemu-system-x86 scripts/install-deps.sh
	$(MAKE) $(CGROUP_TOOL)
	BUILD=$(abspath $(BUILD)) TESTS=test-v2-vm tests/run.sh
