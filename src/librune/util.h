/* SPDX-License-Identifier: Apache-2.0 */
#ifndef RUNE_UTIL_H
#define RUNE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "common/error.h"

/*
 * Sanitizer builds: run LeakSanitizer's check now, which also cancels its
 * exit-time one. That one stops the world from a tracer cloned at exit; in
 * a process that has joined another pid namespace the tracer is born there,
 * can't see its parent, and the process spins forever.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RUNE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define RUNE_LSAN 1
#endif
#endif
#ifdef RUNE_LSAN
void __lsan_do_leak_check(void);
static inline void leak_check_now(void)
{
	__lsan_do_leak_check();
}
#else
static inline void leak_check_now(void)
{
}
#endif

/* The most read_file reads: config.json, state.json, a container's /etc/passwd. */
#define RUNE_READ_MAX (64 << 20)
/*
 * Opens a regular file of at most max bytes for reading: looked at through
 * O_PATH first, so a FIFO or device node is refused without being opened.
 * Returns the fd.
 */
int open_regular_at(int dirfd, const char *path, size_t max, err_t *err);
/* Reads a whole regular file (NUL-terminated; at most RUNE_READ_MAX); *len may be NULL. */
int read_file(const char *path, char **out, size_t *len, err_t *err);
int read_file_at(int dirfd, const char *path, char **out, size_t *len, err_t *err);
/* Writes data to a file (O_WRONLY|O_CREAT|O_TRUNC, mode). */
int write_file(const char *path, const void *data, size_t len, mode_t mode, err_t *err);
/* Writes via a temp file + rename so readers never see half a file. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, err_t *err);
/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);
int mkdir_p(const char *path, mode_t mode, err_t *err);
/* Removes a directory tree (no mount crossing). */
int rm_rf(const char *path);

/* strv: NULL-terminated arrays of strings. */
size_t strv_len(char *const *v);
char **strv_dup(char *const *v);
void strv_free(char **v);
int strv_append(char ***v, const char *s);
/* "a<sep>b<sep>c", malloc'ed. */
char *strv_join(char *const *v, const char *sep);

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat). */
int proc_start_time(pid_t pid, unsigned long long *out);
/* Whether pid is alive and (if start_time is non-zero) is the same process. */
bool proc_alive(pid_t pid, unsigned long long start_time);
/*
 * A pidfd (close-on-exec) for the live process that was pid at start_time;
 * -ESRCH when that process is gone or a zombie, or start_time is unknown.
 */
int pidfd_open_same(pid_t pid, unsigned long long start_time);

/*
 * Rewrites this process's command line in place (as setproctitle does;
 * PR_SET_MM would need CAP_SYS_RESOURCE): argv as far as the original
 * area holds, the rest cut. Anything still pointing into the old argv
 * strings reads the new ones.
 */
int proc_set_cmdline(char *const *argv);
/* Parses a non-negative decimal into an unsigned long long; -EINVAL if bad. */
int parse_ull(const char *s, unsigned long long *out);
/* Path joining: returns malloc'ed "a/b" (exactly one slash). */
char *path_join(const char *a, const char *b);
/* RFC 3339 with nanoseconds, UTC (what runc writes in "created"). */
char *rfc3339_now(void);

/* Marks every fd >= first close-on-exec. */
int cloexec_fds_from(int first);
void reset_signals_for_workload(void);

/*
 * Keeps what is written to stderr (fd 2) between begin and end in a memfd,
 * then passes it on to the real stderr; end leaves its last non-empty line
 * in last (a library's only way to say why it failed may be that line).
 */
struct stderr_capture {
	int saved, memfd;
};
int stderr_capture_begin(struct stderr_capture *c);
void stderr_capture_end(struct stderr_capture *c, char *last, size_t size);

/* Unix sockets at any path length (through /proc/self/fd/N/NAME); return the fd. */
int unix_listen_at(const char *path, int type, err_t *err);
int unix_connect_at(const char *path, int type, err_t *err);

int send_fd(int sock, int fd, const void *data, size_t len);
int recv_fd(int sock, int *fd, void *data, size_t len);

#endif
