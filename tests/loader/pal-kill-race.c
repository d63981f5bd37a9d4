/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pal-kill-race PAL: pal_kill against a process that is ending (issue 10,
 * item 18), made deterministic. This program defines write(2), so it
 * interposes the PAL's calls to it (linked with -rdynamic): the write
 * pal_kill makes to wake the process is held, on the killer thread only,
 * until the process's pal_exec has had every chance to end and free its
 * slot. If the PAL closed the process's eventfd meanwhile, its number now
 * belongs to an unrelated pipe, and the held write lands there.
 *
 * Run in the skeleton's enclave directory; exits 0 if the write reached
 * the eventfd (pal_exec's cleanup waited for pal_kill), 1 if it reached the
 * unrelated pipe, 2 on setup errors.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rune/pal.h"

static __thread int is_killer;
static int held_fd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int in_window, released, exec_done;

/* Everyone's write(2), ours included; the killer thread's is held once. */
ssize_t write(int fd, const void *buf, size_t n)
{
	if (is_killer) {
		is_killer = 0;
		pthread_mutex_lock(&lock);
		held_fd = fd;
		in_window = 1;
		pthread_cond_broadcast(&cond);
		while (!released)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
	}
	return syscall(SYS_write, fd, buf, n);
}

static pal_kill_fn kill_fn;
static pal_exec_fn exec_fn;
static int pid, exit_value = -1, exec_ret = -1;

static void *killer(void *arg)
{
	(void)arg;
	is_killer = 1;
	kill_fn(pid, SIGTERM);
	return NULL;
}

static void *execer(void *arg)
{
	struct pal_exec_args ea = { .pid = pid, .exit_value = &exit_value };

	(void)arg;
	exec_ret = exec_fn(&ea);
	pthread_mutex_lock(&lock);
	exec_done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Waits for FLAG up to SECS seconds; the lock is held. */
static int wait_flag(int *flag, int secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	while (!*flag)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			return *flag;
	return 1;
}

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL) {
		fprintf(stderr, "pal-kill-race: missing %s\n", name);
		exit(2);
	}
	return p;
}

int main(int argc, char **argv)
{
	const char *args[] = { "skeleton", "sleep", "30", NULL };
	struct pal_attr_t attr = { .args = ".", .log_level = "error" };
	pal_attr_v3_t attr3 = { .attr_v1 = attr, .fd = -1, .addr = 0 };
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	struct pal_create_process_args ca = { .path = args[0], .argv = args, .stdio = &stdio };
	int (*get_version)(void), (*init)(const void *), (*destroy)(void);
	pal_create_process_fn create;
	pthread_t tk, te;
	int pipefd[2], version, ret, waited;
	char buf[64];
	ssize_t got;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: pal-kill-race PAL\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "pal-kill-race: %s\n", dlerror());
		return 2;
	}
	get_version = sym(h, "pal_get_version");
	init = sym(h, "pal_init");
	create = sym(h, "pal_create_process");
	exec_fn = sym(h, "pal_exec");
	kill_fn = sym(h, "pal_kill");
	destroy = sym(h, "pal_destroy");
	version = get_version();
	ret = init(version >= 3 ? (const void *)&attr3 : (const void *)&attr);
	ca.env = (const char *[]){ NULL };
	ca.pid = &pid;
	if (ret < 0 || (ret = create(&ca)) < 0) {
		fprintf(stderr, "pal-kill-race: pal_init/pal_create_process: %d\n", ret);
		return 2;
	}

	/* pal_kill finds the process and stops right before waking it. */
	pthread_create(&tk, NULL, killer, NULL);
	pthread_mutex_lock(&lock);
	if (!wait_flag(&in_window, 10)) {
		fprintf(stderr, "pal-kill-race: pal_kill made no write\n");
		return 2;
	}
	pthread_mutex_unlock(&lock);
	/* Made now, so that it doesn't take the number the eventfd may free. */
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return 2;
	/* The process starts, sees it was killed, ends and frees its slot. */
	pthread_create(&te, NULL, execer, NULL);
	pthread_mutex_lock(&lock);
	waited = !wait_flag(&exec_done, 2);
	pthread_mutex_unlock(&lock);
	/* Whatever now has the eventfd's number: an unrelated pipe, if it was closed. */
	if (fcntl(held_fd, F_GETFD) < 0 && dup3(pipefd[1], held_fd, O_CLOEXEC) < 0)
		return 2;
	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(tk, NULL);
	pthread_join(te, NULL);
	got = read(pipefd[0], buf, sizeof(buf));
	printf("pal_exec returned %d, exit value %d, %s pal_kill; the pipe got %zd bytes\n",
	       exec_ret, exit_value, waited ? "after" : "before", got);
	destroy();
	if (got > 0)
		return 1;
	return exec_ret == 0 && exit_value == 128 + SIGTERM ? 0 : 2;
}
