// SPDX-License-Identifier: Apache-2.0
/*
 * Processes, run natively and in the LibOS (test-libos-spawn.sh): the
 * output must be the same. argv[0] is the program's own path, which it
 * spawns again as the child ("child MODE ...").
 */
#define _GNU_SOURCE /* POSIX_SPAWN_SETSID */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(const char *what, int status)
{
	if (WIFEXITED(status))
		printf("%s: exit %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: signal %d\n", what, WTERMSIG(status));
	else
		printf("%s: status %#x\n", what, status);
	fflush(stdout);
}

static void on_usr1(int sig)
{
	(void)sig;
	_exit(11);
}

static volatile sig_atomic_t chld;

static void on_chld(int sig)
{
	(void)sig;
	chld = 1;
}

static void on_term(int sig)
{
	(void)sig;
	if (write(1, "got TERM\n", 9) != 9)
		_exit(8);
	_exit(7);
}

static int child(int argc, char **argv)
{
	const char *mode = argv[2];

	if (!strcmp(mode, "hello")) {
		printf("child: argc %d:", argc);
		for (int i = 3; i < argc; i++)
			printf(" %s", argv[i]);
		printf(" (env FOO=%s)\n", getenv("FOO") ? getenv("FOO") : "-");
		return 0;
	}
	if (!strcmp(mode, "exit"))
		return atoi(argv[3]);
	if (!strcmp(mode, "signal")) {
		fflush(stdout);
		raise(SIGTERM);
		return 99;
	}
	if (!strcmp(mode, "ppid")) {
		printf("child: parent %s\n",
		       getppid() == atoi(argv[3]) ? "is the spawner" : "is someone else");
		return 0;
	}
	if (!strcmp(mode, "cat")) {
		char buf[4096];
		unsigned long total = 0, lines = 0;
		ssize_t n;

		while ((n = read(0, buf, sizeof(buf))) > 0) {
			total += n;
			for (ssize_t i = 0; i < n; i++)
				lines += buf[i] == '\n';
		}
		printf("child: read %lu bytes, %lu lines, then %s\n", total, lines,
		       n == 0 ? "end of file" : strerror(errno));
		return 0;
	}
	if (!strcmp(mode, "nap")) { /* a main workload for rune exec to join */
		printf("napping\n");
		fflush(stdout);
		sleep(atoi(argv[3]));
		return 0;
	}
	if (!strcmp(mode, "trapterm")) { /* what an execve put in place of the first process */
		signal(SIGTERM, on_term);
		printf("waiting\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(mode, "pgrp")) { /* argv[3]: the parent's group */
		printf("child: in its parent's group: %d, its session leader: %d\n",
		       getpgrp() == atoi(argv[3]), getsid(0) == getpid());
		return 0;
	}
	if (!strcmp(mode, "hang")) {
		sleep(30);
		return 0;
	}
	if (!strcmp(mode, "trap")) { /* a USR1 handler, then "ready" on fd 3, then waits */
		signal(SIGUSR1, on_usr1);
		if (write(3, "r", 1) != 1)
			return 65;
		for (;;)
			pause();
	}
	if (!strcmp(mode, "sleep")) {
		usleep(300000);
		return 5;
	}
	if (!strcmp(mode, "readfd")) { /* 3 bytes from fd 3, where its parent left it */
		char b[4] = { 0 };

		printf("child: fd 3 gives '%s'\n", read(3, b, 3) == 3 ? b : "nothing");
		return 0;
	}
	return 64;
}

static pid_t spawn(const char *self, posix_spawn_file_actions_t *fa, char **args);

static volatile sig_atomic_t parent_usr1;

static void on_parent_usr1(int sig)
{
	(void)sig;
	parent_usr1++;
}

/* A "trap" child (its USR1 handler exits 11), in its own group if own_group. */
static pid_t trap_child(const char *self, int ready, int own_group)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ready, 3);
	posix_spawnattr_init(&at);
	if (own_group) {
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setpgroup(&at, 0);
	}
	r = posix_spawn(&pid, self, &fa, &at, (char *[]){ "sp", "child", "trap", NULL }, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return r ? -1 : pid;
}

/*
 * Signals to process groups (argv[1] "groups"): kill(0) reaches the
 * caller and the child in its group, not one in a group of its own;
 * kill(-pgid) that one; a group nobody is in is ESRCH.
 */
static int groups(const char *self)
{
	int p[2], status;
	pid_t a, b;
	char c[2];

	signal(SIGUSR1, on_parent_usr1);
	if (pipe(p) < 0)
		return 1;
	a = trap_child(self, p[1], 0);
	b = trap_child(self, p[1], 1);
	close(p[1]);
	if (a < 0 || b < 0 || read(p[0], c, 1) != 1 || read(p[0], c + 1, 1) != 1)
		return printf("the children did not start\n"), 1;
	printf("kill(0, USR1): %d\n", kill(0, SIGUSR1));
	if (waitpid(a, &status, 0) == a)
		report("the child in the caller's group", status);
	printf("the caller's handler ran: %d\n", (int)parent_usr1);
	printf("the child in its own group still runs: %d\n", waitpid(b, &status, WNOHANG) == 0);
	printf("kill(-its group, USR1): %d\n", kill(-b, SIGUSR1));
	if (waitpid(b, &status, 0) == b)
		report("the child in its own group", status);
	printf("kill(-nobody's group, 0): %s\n", kill(-b, 0) < 0 ? strerror(errno) : "found");
	return 0;
}

/*
 * Files through execve (argv[1] "files", with an allowed /out): a trusted
 * file at an offset on fd 3, an allowed log as stdout (O_APPEND: parent
 * and child write in turn).
 */
static int files(const char *self)
{
	posix_spawn_file_actions_t fa;
	int fd, log, status;
	char buf[512];
	ssize_t n;
	pid_t pid;

	fd = open(self, O_RDONLY);
	if (fd < 0 || lseek(fd, 1, SEEK_SET) != 1 || dup2(fd, 3) != 3)
		return printf("open %s: %s\n", self, strerror(errno)), 1;
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "readfd", NULL });
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("trusted file at offset 1 on fd 3", status);
	log = open("/out/log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log < 0 || write(log, "parent\n", 7) != 7)
		return printf("/out/log: %s\n", strerror(errno)), 1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, log, 1);
	pid = spawn(self, &fa, (char *[]){ "sp", "child", "hello", "to the log", NULL });
	posix_spawn_file_actions_destroy(&fa);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("child's stdout an allowed file", status);
	if (write(log, "parent again\n", 13) != 13)
		return 1;
	close(log);
	log = open("/out/log", O_RDONLY);
	n = log < 0 ? -1 : read(log, buf, sizeof(buf) - 1);
	printf("the log:\n%.*s", n > 0 ? (int)n : 0, buf);
	return 0;
}

static pid_t spawn(const char *self, posix_spawn_file_actions_t *fa, char **args)
{
	pid_t pid;
	int r = posix_spawn(&pid, self, fa, NULL, args, environ);

	if (r) {
		printf("posix_spawn: %s\n", strerror(r));
		return -1;
	}
	return pid;
}

/* n lines into a child's stdin through a pipe ("secret": one line the host must not see). */
static void pipe_to_child(const char *self, int n, const char *what)
{
	posix_spawn_file_actions_t fa;
	int status, p[2];
	char line[64];
	pid_t pid;

	if (pipe(p))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	pid = spawn(self, &fa, (char *[]){ "sp", "child", "cat", NULL });
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "%s %d\n", what, i);

		if (write(p[1], line, len) != len)
			break;
	}
	close(p[1]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("pipe to child", status);
}

int main(int argc, char **argv)
{
	const char *self = argv[0];
	posix_spawn_file_actions_t fa;
	int status, p[2];
	char pidbuf[16];
	pid_t pid;

	if (argc > 2 && !strcmp(argv[1], "child"))
		return child(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "exec-term")) {
		execv(self, (char *[]){ "sp", "child", "trapterm", NULL });
		perror("execv");
		return 127;
	}
	if (argc > 1 && !strcmp(argv[1], "files"))
		return files(self);
	if (argc > 1 && !strcmp(argv[1], "groups"))
		return groups(self);
	if (argc > 1 && !strcmp(argv[1], "secret")) {
		pipe_to_child(self, 1, "TOP-SECRET-5f3a");
		return 0;
	}
	setenv("FOO", "bar", 1);

	/* A child that inherits stdout, its status. */
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "hello", "a b", "c", NULL });
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("hello", status);
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "exit", "3", NULL });
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("exit 3", status);
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "signal", NULL });
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("raise SIGTERM", status);
	snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "ppid", pidbuf, NULL });
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("getppid", status);

	/* Its stdout into a pipe the parent reads. */
	if (pipe(p) == 0) {
		char buf[256];
		ssize_t n, total = 0;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		posix_spawn_file_actions_addclose(&fa, p[0]);
		posix_spawn_file_actions_addclose(&fa, p[1]);
		pid = spawn(self, &fa, (char *[]){ "sp", "child", "hello", "piped", NULL });
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		while ((n = read(p[0], buf + total, sizeof(buf) - 1 - total)) > 0)
			total += n;
		buf[total] = 0;
		printf("parent read: %s", buf);
		close(p[0]);
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			report("pipe from child", status);
	}

	/* Its stdin from a pipe the parent writes, then closes. */
	pipe_to_child(self, 5000, "line");

	/* Signals to a child: its handler runs; TERM ends it. */
	if (pipe(p) == 0) {
		char c;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 3);
		pid = spawn(self, &fa, (char *[]){ "sp", "child", "trap", NULL });
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		if (pid > 0 && read(p[0], &c, 1) == 1 && kill(pid, SIGUSR1) == 0 &&
		    waitpid(pid, &status, 0) == pid)
			report("kill USR1 (its handler exits 11)", status);
		close(p[0]);
	}
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "hang", NULL });
	if (pid > 0 && kill(pid, SIGTERM) == 0 && waitpid(pid, &status, 0) == pid)
		report("kill TERM", status);
	printf("kill of no such child: %s\n",
	       kill(999999, SIGTERM) < 0 ? strerror(errno) : "sent?");

	/* Process groups and sessions: inherited, or new (POSIX_SPAWN_SETSID). */
	{
		posix_spawnattr_t sa;
		char pg[16];

		snprintf(pg, sizeof(pg), "%d", getpgrp());
		pid = spawn(self, NULL, (char *[]){ "sp", "child", "pgrp", pg, NULL });
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			report("pgrp", status);
		posix_spawnattr_init(&sa);
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSID);
		if (posix_spawn(&pid, self, NULL, &sa,
				(char *[]){ "sp", "child", "pgrp", "0", NULL }, environ) == 0 &&
		    waitpid(pid, &status, 0) == pid)
			report("setsid", status);
		posix_spawnattr_destroy(&sa);
		printf("the parent's group after: the same: %d\n", getpgrp() == atoi(pg));
	}

	/* SIGCHLD when a child ends. */
	signal(SIGCHLD, on_chld);
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "exit", "0", NULL });
	for (int i = 0; i < 500 && !chld; i++)
		usleep(10000);
	printf("SIGCHLD: %s\n", chld ? "received" : "not received");
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("child after SIGCHLD", status);
	signal(SIGCHLD, SIG_DFL);

	/* What isn't there, and what waits. */
	pid = spawn("/bin/no-such-program", NULL, (char *[]){ "x", NULL });
	pid = vfork();
	if (pid == 0)
		_exit(7);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		report("vfork, _exit(7)", status);
	pid = spawn(self, NULL, (char *[]){ "sp", "child", "sleep", NULL });
	if (pid > 0) {
		printf("WNOHANG while it sleeps: %d\n", waitpid(pid, &status, WNOHANG));
		if (waitpid(-1, &status, 0) == pid)
			report("sleeper", status);
	}
	printf("wait with no children: %s\n",
	       waitpid(-1, &status, 0) < 0 ? strerror(errno) : "a child?");
	return 0;
}
