# Shared helpers (error values, cleanup), linked into every component.
COMMON_SRCS := src/common/error.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
DEPFILES += $(COMMON_OBJS:.o=.d)
