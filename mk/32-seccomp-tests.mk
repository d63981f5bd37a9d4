# Helper for tests/seccomp/test-*.sh: a minimal seccomp notify agent. It lives
# in tests/helpers/ so tests/run.sh does not take it for a unit test.
SECCOMP_AGENT := $(BUILD)/tests/helpers/seccomp-agent
SECCOMP_AGENT_OBJ := $(BUILD)/obj/tests/seccomp/seccomp-agent.o
DEPFILES += $(SECCOMP_AGENT_OBJ:.o=.d)

$(SECCOMP_AGENT): $(SECCOMP_AGENT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $<

all: $(SECCOMP_AGENT)
