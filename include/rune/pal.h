/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enclave Runtime PAL API, versions 1 to 3: the C ABI between rune's
 * init-runelet and an enclave runtime shared object. ABI-compatible with
 * Inclavare Containers' (natural alignment, x86-64), which Occlum up to 0.21
 * exports as is.
 *
 * Calls, in order: pal_get_version (optional; absent means 1), pal_init at
 * container create (inside the rootfs, in the process's cwd), then at start
 * pal_exec (v1) or pal_create_process + pal_exec (v2, v3), pal_kill to
 * deliver signals (v2+), pal_destroy once the workload has ended.
 * 0 means success; failure is a negative errno, or -1 with errno set.
 */
#ifndef RUNE_PAL_H
#define RUNE_PAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PAL_VERSION_MIN 1
#define PAL_VERSION_MAX 3

struct pal_attr_t {
	const char *args;      /* ENCLAVE_RUNTIME_ARGS, commas turned into spaces */
	const char *log_level; /* trace, debug, info, warning, error, fatal, panic, off */
};

/* v3: fd is -1 and addr 0 unless the host pre-created the enclave. */
typedef struct {
	struct pal_attr_t attr_v1;
	int fd;
	uint64_t addr;
} pal_attr_v3_t;

struct pal_stdio_fds {
	int stdin, stdout, stderr;
};

struct pal_create_process_args {
	const char *path;
	const char **argv; /* NULL-terminated, argv[0] included */
	const char **env;  /* NULL-terminated */
	struct pal_stdio_fds *stdio;
	int *pid; /* out: the enclave process's pid, for pal_exec and pal_kill */
};

struct pal_exec_args {
	int pid;
	int *exit_value; /* out */
};

/* pal_attr_t.log_level's names, least to most severe (rune refuses any other). */
enum pal_log_level {
	PAL_LOG_TRACE,
	PAL_LOG_DEBUG,
	PAL_LOG_INFO,
	PAL_LOG_WARNING,
	PAL_LOG_ERROR,
	PAL_LOG_FATAL,
	PAL_LOG_PANIC,
	PAL_LOG_OFF,
};

/* The level a name stands for, or -1 for none (NULL included). */
static inline int pal_log_level_from_name(const char *name)
{
	static const char *const names[] = { "trace", "debug", "info",	"warning",
					     "error", "fatal", "panic", "off" };

	for (int i = 0; name && i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		const char *a = name, *b = names[i];
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b)
			return i;
	}
	return -1;
}

typedef int (*pal_get_version_fn)(void);
typedef int (*pal_init_fn)(const void *attr);
typedef int (*pal_exec_v1_fn)(char *path, char *argv[], struct pal_stdio_fds *stdio,
			      int *exit_code);
typedef int (*pal_create_process_fn)(struct pal_create_process_args *args);
typedef int (*pal_exec_fn)(struct pal_exec_args *args);
typedef int (*pal_kill_fn)(int pid, int sig); /* pid -1: all, 0: current */
typedef int (*pal_destroy_fn)(void);
typedef int (*pal_get_local_report_fn)(void *targetinfo, int targetinfo_len, void *report,
				       int *report_len);

#ifdef __cplusplus
}
#endif

#endif
