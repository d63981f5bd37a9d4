// SPDX-License-Identifier: Apache-2.0
/*
 * bench/libos-procs.sh: process costs measured inside the program, run
 * natively and in the LibOS: a system call the LibOS answers itself
 * (getppid: an AEX, the handler's EENTER and EEXIT, ERESUME) and one it
 * takes to the host (sched_yield: an OCALL's EEXIT and EENTER more), fork
 * + _exit + waitpid, posix_spawn (itself, exiting at once) + waitpid, and
 * a pipe to a child (MiB/s through 4 KiB writes). One line each: NAME
 * VALUE UNIT.
 */
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SYSCALLS 5000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10, mib = argc > 2 ? atoi(argv[2]) : 16, st, p[2];
	static char buf[4096];
	double t;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "drain")) {
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "exit"))
		return 0;
	t = now();
	for (int i = 0; i < SYSCALLS; i++)
		getppid();
	printf("syscall %.2f us\n", (now() - t) * 1e6 / SYSCALLS);
	t = now();
	for (int i = 0; i < SYSCALLS; i++)
		sched_yield();
	printf("ocall %.2f us\n", (now() - t) * 1e6 / SYSCALLS);
	t = now();
	for (int i = 0; i < n; i++) {
		pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
	}
	printf("fork %.2f ms\n", (now() - t) * 1000 / n);
	t = now();
	for (int i = 0; i < n; i++) {
		if (posix_spawn(&pid, argv[0], NULL, NULL, (char *[]){ argv[0], "exit", NULL },
				environ) == 0)
			waitpid(pid, &st, 0);
	}
	printf("spawn %.2f ms\n", (now() - t) * 1000 / n);
	if (pipe(p) == 0) {
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[0], 0);
		posix_spawn_file_actions_addclose(&fa, p[1]);
		posix_spawn(&pid, argv[0], &fa, NULL, (char *[]){ argv[0], "drain", NULL },
			    environ);
		close(p[0]);
		t = now();
		for (long done = 0; done < (long)mib << 20; done += sizeof(buf))
			if (write(p[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				break;
		close(p[1]);
		waitpid(pid, &st, 0);
		printf("pipe %.1f MiB/s\n", mib / (now() - t));
	}
	return 0;
}
