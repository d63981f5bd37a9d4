/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp: validation errors name their JSON path; filters are loaded
 * in forked children (a filter can't be removed) and their effect checked.
 * Prints "ok - X" / "not ok - X" lines (tests/run.sh counts them).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>
#include <valgrind/valgrind.h>

#include "../tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "librune/seccomp.h"

static int prepare_str(const char *json, struct rune_seccomp **out, err_t *err)
{
	json_error_t jerr;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
	int ret;

	if (j == NULL) {
		fprintf(stderr, "bad test JSON %s: %s\n", json, jerr.text);
		abort();
	}
	ret = rune_seccomp_prepare(j, out, err);
	json_decref(j);
	return ret;
}

/* ---- validation ---- */

static const struct {
	const char *json;
	const char *msg; /* expected prefix of the error */
} bad[] = {
	{ "[]", ".linux.seccomp: must be an object" },
	{ "{}", ".linux.seccomp.defaultAction: missing" },
	{ "{\"defaultAction\": 3}", ".linux.seccomp.defaultAction: must be a string" },
	{ "{\"defaultAction\": \"SCMP_ACT_FOO\"}",
	  ".linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"/x\"}",
	  ".linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
	{ "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
	  ".linux.seccomp.defaultErrnoRet: must be an integer from 0 to 65535" },
	{ "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": \"1\"}",
	  ".linux.seccomp.defaultErrnoRet: must be an integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	  ".linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_ALLOW" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": \"x\"}",
	  ".linux.seccomp.architectures: must be an array" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\", "
	  "\"SCMP_ARCH_VAX\"]}",
	  ".linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"x86_64\"]}",
	  ".linux.seccomp.architectures[0]: unknown architecture \"x86_64\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [7]}",
	  ".linux.seccomp.architectures[0]: must be a string" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", "
	  "\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
	  ".linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": 5}",
	  ".linux.seccomp.listenerPath: must be a string" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
	  ".linux.seccomp.syscalls: must be an array" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	  "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
	  "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_LOG\"},"
	  "{\"names\": [\"nosuchcall\"], \"action\": \"SCMP_ACT_ERRNO\"},"
	  "{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_BOGUS\"}]}",
	  ".linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_BOGUS\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [1]}",
	  ".linux.seccomp.syscalls[0]: must be an object" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": "
	  "\"SCMP_ACT_ERRNO\"}]}",
	  ".linux.seccomp.syscalls[0].names: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"]}]}",
	  ".linux.seccomp.syscalls[0].action: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\", 1], "
	  "\"action\": \"SCMP_ACT_ERRNO\"}]}",
	  ".linux.seccomp.syscalls[0].names[1]: must be a string" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 65536}]}",
	  ".linux.seccomp.syscalls[0].errnoRet: must be an integer from 0 to 65535" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
	  "\"action\": \"SCMP_ACT_KILL\", \"errnoRet\": 1}]}",
	  ".linux.seccomp.syscalls[0].errnoRet: not allowed with action SCMP_ACT_KILL" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
	  "\"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_APPROX\"}]}]}",
	  ".linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_APPROX\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": "
	  "\"SCMP_CMP_EQ\"}]}]}",
	  ".linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  ".linux.seccomp.syscalls[0].args[0].value: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  ".linux.seccomp.syscalls[0].args[0].index: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 0}]}]}",
	  ".linux.seccomp.syscalls[0].args[0].op: missing" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [7]}]}",
	  ".linux.seccomp.syscalls[0].args[0]: must be an object" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"syscalls\": "
	  "[{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
	  ".linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write "
	  "syscall" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"syscalls\": "
	  "[{\"names\": [\"sendmsg\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
	  ".linux.seccomp.syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for the sendmsg "
	  "syscall" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
	  "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
	  ".linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY" },
};

static void test_bad_inputs(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ err_t err = NULL;
		struct rune_seccomp *s = NULL;
		char name[128];
		int ret;

		ret = prepare_str(bad[i].json, &s, &err);
		snprintf(name, sizeof(name), "rejects bad input %zu", i);
		if (ret != -EINVAL || s != NULL || err == NULL ||
		    strncmp(err_msg(err), bad[i].msg, strlen(bad[i].msg)) != 0) {
			char detail[512];

			snprintf(detail, sizeof(detail), "ret %d, got \"%s\", want \"%s\"", ret,
				 err_msg(err), bad[i].msg);
			tap_report(false, name, detail);
		} else {
			tap_report(true, name, err_msg(err));
		}
		rune_seccomp_free(s);
	}
}

static const char *good[] = {
	"{\"defaultAction\": \"SCMP_ACT_ALLOW\"}",
	"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38}",
	"{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\"}",
	"{\"defaultAction\": \"SCMP_ACT_TRACE\", \"defaultErrnoRet\": 1}",
	"{\"defaultAction\": \"SCMP_ACT_LOG\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", "
	"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"]}",
	/* Every action on a rule, every arch; unknown syscall names are skipped. */
	"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", "
	"\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"listenerPath\": \"/run/agent.sock\", "
	"\"listenerMetadata\": \"m\", \"syscalls\": ["
	"{\"names\": [\"getpid\", \"no_such_syscall_xyz\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	"{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL\"},"
	"{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_KILL_THREAD\"},"
	"{\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
	"{\"names\": [\"geteuid\"], \"action\": \"SCMP_ACT_TRAP\"},"
	"{\"names\": [\"getegid\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 5},"
	"{\"names\": [\"getpgrp\"], \"action\": \"SCMP_ACT_LOG\"},"
	"{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"},"
	"{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
	"{\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ERRNO\"},"
	"{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
	"{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
	"{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]},"
	"{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
	"{\"index\": 0, \"value\": 1, \"valueTwo\": 0, \"op\": \"SCMP_CMP_GT\"},"
	"{\"index\": 1, \"value\": 255, \"valueTwo\": 9, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
	/* A rule repeating the default action is a no-op, not an error. */
	"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"getpid\"], "
	"\"action\": \"SCMP_ACT_ERRNO\"}]}",
	"null",
};

static void test_good_inputs(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		_cleanup_error_ err_t err = NULL;
		struct rune_seccomp *s = NULL;
		char name[64];
		int ret;

		ret = prepare_str(good[i], &s, &err);
		snprintf(name, sizeof(name), "accepts good input %zu", i);
		tap_report(ret == 0 && err == NULL, name, err ? err_msg(err) : NULL);
		rune_seccomp_free(s);
	}
}

/*
 * Type confusion everywhere: each value of a full profile replaced in turn by
 * values of every JSON type must give success or an error on a
 * .linux.seccomp path, never a crash (ASan/valgrind watch the rest).
 */
static int mutations, mutation_failures;
static const char *repl[] = {
	"null", "-1", "1", "70000", "\"x\"", "[]", "{}", "true", "[1]", "[{}]"
};

static void try_prepare(json_t *root, const char *where, const char *what)
{
	_cleanup_error_ err_t err = NULL;
	struct rune_seccomp *s = NULL;
	int ret;

	ret = rune_seccomp_prepare(root, &s, &err);
	mutations++;
	if ((ret == 0) != (err == NULL) || (ret < 0 && s != NULL) ||
	    (ret < 0 && strncmp(err_msg(err), ".linux.seccomp", 14) != 0)) {
		fprintf(stderr, "mutation %s=%s: ret %d, %s\n", where, what, ret, err_msg(err));
		mutation_failures++;
	}
	rune_seccomp_free(s);
}

static void mutate_at(json_t *root, json_t *node)
{
	const char *key;
	json_t *child;
	size_t i, r;

	json_object_foreach(node, key, child)
	{
		json_t *saved = json_incref(child);

		for (r = 0; r < ARRAY_SIZE(repl); r++) {
			json_object_set_new(node, key, json_loads(repl[r], JSON_DECODE_ANY, NULL));
			try_prepare(root, key, repl[r]);
		}
		json_object_set_new(node, key, saved);
		mutate_at(root, child);
	}
	json_array_foreach(node, i, child)
	{
		json_t *saved = json_incref(child);
		char where[32];

		snprintf(where, sizeof(where), "[%zu]", i);
		for (r = 0; r < ARRAY_SIZE(repl); r++) {
			json_array_set_new(node, i, json_loads(repl[r], JSON_DECODE_ANY, NULL));
			try_prepare(root, where, repl[r]);
		}
		json_array_set_new(node, i, saved);
		mutate_at(root, child);
	}
}

static void test_mutations(void)
{
	json_t *root = json_loads(good[5], 0, NULL);

	mutate_at(root, root);
	json_decref(root);
	printf("# %d mutations\n", mutations);
	tap_report(mutation_failures == 0 && mutations > 100,
		   "every value mutated to every JSON type: success or a .linux.seccomp error",
		   NULL);
}

static void test_accessors(void)
{
	_cleanup_error_ err_t err = NULL;
	struct rune_seccomp *s = NULL;
	int ret;

	ret = prepare_str("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/a.sock\", "
			  "\"listenerMetadata\": \"meta\", \"flags\": "
			  "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"], \"syscalls\": ["
			  "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
			  &s, &err);
	tap_report(ret == 0 && rune_seccomp_has_notify(s) &&
		       strcmp(rune_seccomp_listener_path(s), "/a.sock") == 0 &&
		       strcmp(rune_seccomp_listener_metadata(s), "meta") == 0,
		   "notify filter exposes listener path and metadata", err ? err_msg(err) : NULL);
	rune_seccomp_free(s);
	s = NULL;

	ret = prepare_str("null", &s, &err);
	tap_report(ret == 0 && s == NULL && !rune_seccomp_has_notify(s) &&
		       rune_seccomp_listener_path(s) == NULL,
		   "null seccomp means no filter", NULL);
	ret = rune_seccomp_prepare(NULL, &s, &err);
	tap_report(ret == 0 && s == NULL, "absent seccomp means no filter", NULL);

	ret = prepare_str("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			  "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
			  &s, &err);
	tap_report(ret == 0 && !rune_seccomp_has_notify(s) && rune_seccomp_listener_path(s) == NULL,
		   "filter without notify has no listener", NULL);
	rune_seccomp_free(s);
}

/* ---- loading, in children ---- */

/* Child body: returns 0 on success, else a line number for the report. */
typedef int (*child_fn)(struct rune_seccomp *s);

#define CHILD_CHECK(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "child check tap_failures line %d: %s (errno %d)\n",       \
				__LINE__, #cond, errno);                                           \
			return __LINE__ & 0x7f;                                                    \
		}                                                                                  \
	} while (0)

static int load(struct rune_seccomp *s)
{
	_cleanup_error_ err_t err = NULL;
	int fd;

	if (rune_seccomp_load(s, &fd, &err) < 0) {
		fprintf(stderr, "load: %s\n", err_msg(err));
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Runs fn in a child under the filter `json`; returns the child's wait status. */
static int run_child(const char *json, child_fn fn)
{
	_cleanup_error_ err_t err = NULL;
	struct rune_seccomp *s = NULL;
	int status = -1;
	pid_t pid;

	if (prepare_str(json, &s, &err) < 0) {
		fprintf(stderr, "prepare: %s\n", err_msg(err));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		/* Raw exit_group: ASan's _exit runs LeakSanitizer, which the filter may break. */
		syscall(SYS_exit_group, fn(s));
	}
	rune_seccomp_free(s);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

static bool exited_ok(int status)
{
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "child status 0x%x\n", status);
		return false;
	}
	return true;
}

static int child_errno(struct rune_seccomp *s)
{
	CHILD_CHECK(mkdir("/nonexistent-rune-test/x", 0700) < 0 && errno == ENOENT);
	CHILD_CHECK(load(s) == 0);
	CHILD_CHECK(mkdir("/nonexistent-rune-test/x", 0700) < 0 && errno == EXDEV);
	CHILD_CHECK(syscall(SYS_getsid, 0) < 0 && errno == EPERM); /* default errnoRet */
	CHILD_CHECK(getppid() > 0);
	return 0;
}

static int child_args(struct rune_seccomp *s)
{
	CHILD_CHECK(load(s) == 0);
	/* personality: 0xffffffff (query) refused, other values allowed. */
	CHILD_CHECK(syscall(SYS_personality, 0xffffffffUL) < 0 && errno == ENOTBLK);
	CHILD_CHECK(syscall(SYS_personality, (unsigned long)PER_LINUX) >= 0);
	/* Same index twice: ORed. 8 and 9 both hit, 10 does not. */
	CHILD_CHECK(syscall(SYS_getpgid, 8) < 0 && errno == EXDEV);
	CHILD_CHECK(syscall(SYS_getpgid, 9) < 0 && errno == EXDEV);
	errno = 0;
	CHILD_CHECK(syscall(SYS_getpgid, 10) >= 0 || errno != EXDEV);
	/* Distinct indexes: ANDed. kill(0, 0) hits, kill(self, 0) does not. */
	CHILD_CHECK(syscall(SYS_kill, 0, 0) < 0 && errno == EROFS);
	CHILD_CHECK(syscall(SYS_kill, getpid(), 0) == 0);
	CHILD_CHECK(syscall(SYS_kill, 0, SIGCONT) == 0);
	/* MASKED_EQ: (arg0 & 0xff00) == 0x1200. */
	CHILD_CHECK(syscall(SYS_getsid, 0x1234) < 0 && errno == ENOSTR);
	errno = 0;
	CHILD_CHECK(syscall(SYS_getsid, 0x1334) >= 0 || errno != ENOSTR);
	return 0;
}

static int child_getsid(struct rune_seccomp *s)
{
	CHILD_CHECK(load(s) == 0);
	syscall(SYS_getsid, 0);
	return 0; /* not reached when the action kills */
}

static volatile sig_atomic_t trapped_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == 1 /* SYS_SECCOMP */)
		trapped_nr = si->si_syscall;
}

static int child_trap(struct rune_seccomp *s)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	CHILD_CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
	CHILD_CHECK(load(s) == 0);
	syscall(SYS_getsid, 0);
	CHILD_CHECK(trapped_nr == SYS_getsid);
	return 0;
}

static int child_log(struct rune_seccomp *s)
{
	CHILD_CHECK(load(s) == 0);
	/* Logged, allowed. 0 is a valid answer: a CI runner may start us in the kernel's session. */
	CHILD_CHECK(syscall(SYS_getsid, 0) >= 0);
	CHILD_CHECK(syscall(SYS_getpgid, 0) >= 0);
	return 0;
}

static int child_allow_list(struct rune_seccomp *s)
{
	CHILD_CHECK(load(s) == 0);
	CHILD_CHECK(syscall(SYS_getppid) > 0);
	/* Anything else: the default errno. */
	errno = 0;
	CHILD_CHECK(syscall(SYS_getsid, 0) < 0 && errno == EXDEV);
	CHILD_CHECK(syscall(SYS_getpgid, 0) < 0 && errno == EXDEV);
	/* Newer than anything the profile names (exit_group, 231): ENOSYS, as runc. */
	CHILD_CHECK(syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == ENOSYS);
	CHILD_CHECK(syscall(1000) < 0 && errno == ENOSYS);
	/* x32 calls (X32_SYSCALL_BIT): checked against the profile's x32 numbers. */
	CHILD_CHECK(syscall(0x40000000 | SYS_getsid, 0) < 0 && errno == EXDEV);
	CHILD_CHECK(syscall(0x40000000 | 1000) < 0 && errno == ENOSYS);
	return 0;
}

/* Without no_new_privs, loading needs CAP_SYS_ADMIN: gone after setuid. */
static int child_unprivileged(struct rune_seccomp *s)
{
	_cleanup_error_ err_t err = NULL;
	int fd = 5, ret;

	CHILD_CHECK(setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0);
	ret = rune_seccomp_load(s, &fd, &err);
	CHILD_CHECK(ret == -EACCES && fd == -1);
	CHILD_CHECK(strstr(err_msg(err), "CAP_SYS_ADMIN") != NULL);
	CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHILD_CHECK(load(s) == 0);
	CHILD_CHECK(syscall(SYS_getsid, 0) < 0 && errno == EXDEV);
	return 0;
}

/* exec.c passes no notify_fd: the listener is dropped, notifying calls get ENOSYS. */
static int child_notify_unwanted(struct rune_seccomp *s)
{
	_cleanup_error_ err_t err = NULL;

	CHILD_CHECK(rune_seccomp_load(s, NULL, &err) == 0);
	CHILD_CHECK(syscall(SYS_getsid, 0) < 0 && errno == ENOSYS);
	CHILD_CHECK(getppid() > 0);
	return 0;
}

static void test_load(void)
{
	int st;

	if (RUNNING_ON_VALGRIND) {
		printf("skip - loading filters: valgrind does not implement seccomp(2)\n");
		return;
	}

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		       "{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", "
		       "\"errnoRet\": 18},"
		       "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		       child_errno);
	tap_report(exited_ok(st), "errno action returns errnoRet (default EPERM)", NULL);

	st = run_child(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	    "{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", "
	    "\"errnoRet\": 15, \"args\": [{\"index\": 0, \"value\": 4294967295, "
	    "\"op\": \"SCMP_CMP_EQ\"}]},"
	    "{\"names\": [\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 18, "
	    "\"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
	    "{\"index\": 0, \"value\": 9, \"op\": \"SCMP_CMP_EQ\"}]},"
	    "{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 30, "
	    "\"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
	    "{\"index\": 1, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
	    "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 60, "
	    "\"args\": [{\"index\": 0, \"value\": 65280, \"valueTwo\": 4608, "
	    "\"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
	    child_args);
	tap_report(exited_ok(st), "argument conditions (EQ, ORed same index, ANDed, MASKED_EQ)",
		   NULL);

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		       "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}",
		       child_getsid);
	tap_report(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "kill_process kills with SIGSYS",
		   NULL);

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		       "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_KILL\"}]}",
		       child_getsid);
	tap_report(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "kill (thread) kills with SIGSYS",
		   NULL);

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		       "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_TRAP\"}]}",
		       child_trap);
	tap_report(exited_ok(st), "trap raises SIGSYS with si_syscall", NULL);

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": "
		       "[\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"], "
		       "\"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_LOG\"}]}",
		       child_log);
	tap_report(exited_ok(st), "log action allows, with LOG and SPEC_ALLOW flags", NULL);

	st = run_child("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 18, "
		       "\"architectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], "
		       "\"syscalls\": [{\"names\": [\"getppid\", \"exit_group\", \"exit\", "
		       "\"write\", \"rt_sigreturn\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		       child_allow_list);
	tap_report(exited_ok(st), "default errno action with an allow list", NULL);

	st = run_child(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	    "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 18}]}",
	    child_unprivileged);
	tap_report(exited_ok(st), "without no_new_privs an unprivileged load fails with EACCES",
		   NULL);

	st =
	    run_child("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x.sock\", "
		      "\"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		      child_notify_unwanted);
	tap_report(exited_ok(st), "notify filter loaded without a notify_fd taker", NULL);
}

/* ---- notify ---- */

static int child_notify(struct rune_seccomp *s)
{
	_cleanup_error_ err_t err = NULL;
	char state[256];
	int fd = -1;

	CHILD_CHECK(rune_seccomp_load(s, &fd, &err) == 0 && fd >= 0);
	CHILD_CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	snprintf(state, sizeof(state),
		 "{\"ociVersion\": \"1.0.2\", \"id\": \"ctr\", \"status\": \"creating\", "
		 "\"pid\": %d, \"bundle\": \"/b\"}",
		 getpid());
	if (rune_seccomp_send_notify_fd(rune_seccomp_listener_path(s),
					rune_seccomp_listener_metadata(s), fd, state, &err) < 0) {
		fprintf(stderr, "send: %s\n", err_msg(err));
		return 1;
	}
	close(fd);
	/* The agent answers 4242 for getsid. */
	CHILD_CHECK(syscall(SYS_getsid, 0) == 4242);
	return 0;
}

/* Receives the container process state and the fd, as a seccomp agent does. */
static int agent_recv(int listen_fd, pid_t child, int *fd_out, char **why)
{
	_cleanup_close_ int conn = -1;
	char buf[4096] = { 0 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	json_t *j, *st;
	ssize_t n;
	bool ok;

	*why = "accept";
	conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return -1;
	*why = "recvmsg";
	memset(&control, 0, sizeof(control));
	n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	*why = "no SCM_RIGHTS";
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(fd_out, CMSG_DATA(c), sizeof(int));
	/* The JSON may in principle arrive in pieces on a stream socket. */
	while ((size_t)n < sizeof(buf) - 1) {
		ssize_t m = read(conn, buf + n, sizeof(buf) - 1 - (size_t)n);

		if (m <= 0)
			break;
		n += m;
	}
	j = json_loads(buf, 0, NULL);
	st = json_object_get(j, "state");
	ok = j && strcmp(json_string_value(json_object_get(j, "ociVersion")) ?: "", "1.0.2") == 0 &&
	     json_array_size(json_object_get(j, "fds")) == 1 &&
	     strcmp(json_string_value(json_array_get(json_object_get(j, "fds"), 0)) ?: "",
		    "seccompFd") == 0 &&
	     json_integer_value(json_object_get(j, "pid")) == child &&
	     strcmp(json_string_value(json_object_get(j, "metadata")) ?: "", "agent-meta") == 0 &&
	     strcmp(json_string_value(json_object_get(st, "id")) ?: "", "ctr") == 0 &&
	     strcmp(json_string_value(json_object_get(st, "status")) ?: "", "creating") == 0;
	json_decref(j);
	*why = buf[0] ? "unexpected containerProcessState" : "empty message";
	if (!ok)
		fprintf(stderr, "got: %s\n", buf);
	return ok ? 0 : -1;
}

static int agent_answer(int fd, pid_t child, char **why)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));
	*why = "NOTIF_RECV";
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return -1;
	*why = "unexpected notification";
	if (req.pid != (__u32)child || req.data.nr != SYS_getsid)
		return -1;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = 4242;
	*why = "NOTIF_SEND";
	return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static int listen_at(char *dir, char *path, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, size, "%s/agent.sock", dir);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void test_notify(void)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_close_ int lfd = -1;
	struct rune_seccomp *s = NULL;
	char dir[] = "/tmp/rune-seccomp-XXXXXX", sock_path[108];
	char json[512];
	char *why = "setup";
	int status = -1, nfd = -1;
	pid_t pid;

	if (RUNNING_ON_VALGRIND) {
		printf("skip - notify: valgrind does not implement seccomp(2)\n");
		return;
	}
	lfd = listen_at(dir, sock_path, sizeof(sock_path));
	if (lfd < 0)
		goto out;
	snprintf(json, sizeof(json),
		 "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"%s\", "
		 "\"listenerMetadata\": \"agent-meta\", \"flags\": "
		 "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"], \"syscalls\": ["
		 "{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		 sock_path);
	why = "prepare";
	if (prepare_str(json, &s, &err) < 0)
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		syscall(SYS_exit_group, child_notify(s));
	if (pid < 0)
		goto out;
	if (agent_recv(lfd, pid, &nfd, &why) == 0 && agent_answer(nfd, pid, &why) == 0)
		why = NULL;
	if (why)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (why == NULL && !exited_ok(status))
		why = "child tap_failures";
out:
	tap_report(why == NULL, "notify: fd and state sent to listenerPath, notification answered",
		   why);
	if (nfd >= 0)
		close(nfd);
	rune_seccomp_free(s);
	unlink(sock_path);
	rmdir(dir);
}

/* The socket side alone, with any fd: runs under valgrind too. */
static void test_send_fd(void)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_close_ int lfd = -1, null_fd = -1, got = -1;
	char dir[] = "/tmp/rune-seccomp-XXXXXX", path[108], state[256];
	struct stat a, b;
	char *why = "setup";

	lfd = listen_at(dir, path, sizeof(path));
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (lfd < 0 || null_fd < 0)
		goto out;
	snprintf(state, sizeof(state),
		 "{\"ociVersion\": \"1.0.2\", \"id\": \"ctr\", \"status\": \"creating\", "
		 "\"pid\": %d, \"bundle\": \"/b\", \"annotations\": {\"a\": \"b\"}}",
		 getpid());
	why = "send";
	if (rune_seccomp_send_notify_fd(path, "agent-meta", null_fd, state, &err) < 0)
		goto out;
	if (agent_recv(lfd, getpid(), &got, &why) < 0)
		goto out;
	why = "received fd is not /dev/null";
	if (fstat(got, &a) == 0 && fstat(null_fd, &b) == 0 && a.st_rdev == b.st_rdev)
		why = NULL;
out:
	tap_report(why == NULL, "send_notify_fd: containerProcessState and fd reach the listener",
		   err ? err_msg(err) : why);
	unlink(path);
	rmdir(dir);
}

static void test_send_errors(void)
{
	_cleanup_error_ err_t e1 = NULL, e2 = NULL, e3 = NULL;
	int ret1, ret2, ret3;

	ret1 = rune_seccomp_send_notify_fd("/nonexistent/rune.sock", NULL, 0,
					   "{\"pid\": 1, \"status\": \"creating\"}", &e1);
	tap_report(ret1 == -ENOENT && strstr(err_msg(e1), "/nonexistent/rune.sock") != NULL,
		   "send to a missing listener names it", err_msg(e1));
	ret2 = rune_seccomp_send_notify_fd("/x.sock", NULL, 0, "{\"status\": 1}", &e2);
	tap_report(ret2 == -EINVAL && strstr(err_msg(e2), "no pid") != NULL,
		   "send refuses a state without pid", err_msg(e2));
	ret3 = rune_seccomp_send_notify_fd("/x.sock", NULL, 0, "{not json", &e3);
	tap_report(ret3 == -EINVAL && strstr(err_msg(e3), "invalid JSON") != NULL,
		   "send refuses invalid state JSON", err_msg(e3));
}

int main(void)
{
	/*
	 * valgrind does not implement seccomp(2), so libseccomp's probes would
	 * find no kernel support; tell it what the kernels we run on have.
	 */
	if (RUNNING_ON_VALGRIND)
		seccomp_api_set(5);
	test_bad_inputs();
	test_good_inputs();
	test_mutations();
	test_accessors();
	test_load();
	test_send_fd();
	test_notify();
	test_send_errors();
	return tap_exit();
}
