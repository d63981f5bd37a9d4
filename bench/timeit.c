// SPDX-License-Identifier: Apache-2.0
/*
 * timeit: runs a plan of commands and times each with CLOCK_MONOTONIC
 * around spawn + wait, so the benchmark's own shell costs nothing.
 *
 *   timeit [-l LOG] [-t SECONDS] PLAN
 *
 * PLAN has one command a line, fields separated by tabs:
 *
 *   LABEL<TAB>argv0<TAB>argv1...      run it, report it under LABEL
 *   @par<TAB>J<TAB>LABEL              the commands up to "@end" run with
 *   ...                               J in flight at a time; one result:
 *   @end                              their wall time, rc = failures
 *
 * A LABEL of "-" marks setup or cleanup: it runs, its result is printed
 * but the report ignores it.  Every command gets stdin from /dev/null,
 * stdout and stderr appended to LOG (default /dev/null), no other fds,
 * its own process group.  A command still running after SECONDS (default
 * 60) is killed with its process group, and reported with rc 124.
 *
 * Output, one line a result:
 *   LABEL<TAB>nanoseconds<TAB>rc<TAB>maxrss_kB<TAB>cpu_nanoseconds
 * rc: the exit status, 128+N when killed by signal N; maxrss and cpu (user
 * + system) from wait4's rusage: the command and the children it reaped
 * (for a parallel block: the largest maxrss, the sum of cpu).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 256
#define MAX_JOBS 64

struct cmd {
	char *label;
	char *argv[MAX_ARGS];
};

struct job {
	pid_t pid;
	int pidfd;
	uint64_t start;
	int rc;
	long maxrss;
	uint64_t cpu_ns; /* user + system time of it and its reaped children */
};

static const char *log_path = "/dev/null";
static int timeout_ms = 60000;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Splits a plan line in place; returns the number of fields. */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\n")] = '\0';
	while (n < max - 1) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	fields[n] = NULL;
	return n;
}

static int spawn(char **argv, struct job *job)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);
	{
		sigset_t none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
	}

	job->start = now_ns();
	ret = posix_spawnp(&job->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret) {
		fprintf(stderr, "timeit: spawn %s: %s\n", argv[0], strerror(ret));
		job->pid = -1;
		job->pidfd = -1;
		job->rc = 127;
		return -ret;
	}
	job->pidfd = (int)syscall(SYS_pidfd_open, job->pid, 0);
	return 0;
}

/* Reaps a job that has exited; returns its elapsed time. */
static uint64_t reap(struct job *job)
{
	struct rusage ru;
	int status;
	uint64_t end;

	while (wait4(job->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	end = now_ns();
	if (job->pidfd >= 0)
		close(job->pidfd);
	job->pidfd = -1;
	if (WIFEXITED(status))
		job->rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		job->rc = 128 + WTERMSIG(status);
	else
		job->rc = 255;
	job->maxrss = ru.ru_maxrss;
	job->cpu_ns =
	    ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	    ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
	return end - job->start;
}

static void kill_job(struct job *job)
{
	fprintf(stderr, "timeit: pid %d timed out after %d ms, killing it\n", job->pid, timeout_ms);
	kill(-job->pid, SIGKILL);
	kill(job->pid, SIGKILL);
}

/*
 * Waits for any of the running jobs; returns its index.  Kills jobs past
 * their deadline (they then report 124).
 */
static int wait_any(struct job *jobs, int n, int *timed_out)
{
	struct pollfd pfd[MAX_JOBS];
	int i, map[MAX_JOBS], np = 0;
	uint64_t now = now_ns(), first = UINT64_MAX;

	for (i = 0; i < n; i++) {
		if (jobs[i].pid <= 0)
			continue;
		uint64_t deadline = jobs[i].start + (uint64_t)timeout_ms * 1000000ull;

		if (deadline <= now && !timed_out[i]) {
			kill_job(&jobs[i]);
			timed_out[i] = 1;
		}
		if (deadline < first)
			first = deadline;
		pfd[np].fd = jobs[i].pidfd;
		pfd[np].events = POLLIN;
		map[np++] = i;
	}
	for (;;) {
		int wait_ms = first > now ? (int)((first - now) / 1000000ull) + 1 : 100;
		int ret = poll(pfd, np, wait_ms);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return -1; /* caller loops: deadlines get checked */
		for (i = 0; i < np; i++)
			if (pfd[i].revents)
				return map[i];
	}
}

static void report(const char *label, uint64_t ns, int rc, long maxrss, uint64_t cpu_ns)
{
	printf("%s\t%llu\t%d\t%ld\t%llu\n", label, (unsigned long long)ns, rc, maxrss,
	       (unsigned long long)cpu_ns);
	fflush(stdout);
}

static void run_one(struct cmd *c)
{
	struct job job;
	int timed_out = 0;
	uint64_t ns;

	if (spawn(c->argv, &job) < 0) {
		report(c->label, 0, job.rc, 0, 0);
		return;
	}
	if (job.pidfd >= 0)
		while (wait_any(&job, 1, &timed_out) < 0)
			;
	ns = reap(&job);
	report(c->label, ns, timed_out ? 124 : job.rc, job.maxrss, job.cpu_ns);
}

static void run_parallel(const char *label, int width, struct cmd *cmds, int n)
{
	struct job jobs[MAX_JOBS];
	int timed_out[MAX_JOBS] = { 0 };
	int next = 0, running = 0, failed = 0, i;
	long maxrss = 0;
	uint64_t start = now_ns(), cpu_ns = 0;

	if (width < 1)
		width = 1;
	if (width > MAX_JOBS)
		width = MAX_JOBS;
	for (i = 0; i < width; i++)
		jobs[i].pid = 0;
	while (next < n || running) {
		for (i = 0; i < width && next < n; i++) {
			if (jobs[i].pid > 0)
				continue;
			timed_out[i] = 0;
			if (spawn(cmds[next++].argv, &jobs[i]) < 0) {
				failed++;
				jobs[i].pid = 0;
				continue;
			}
			running++;
		}
		if (!running)
			continue;
		i = wait_any(jobs, width, timed_out);
		if (i < 0)
			continue;
		reap(&jobs[i]);
		if (jobs[i].rc || timed_out[i])
			failed++;
		if (jobs[i].maxrss > maxrss)
			maxrss = jobs[i].maxrss;
		cpu_ns += jobs[i].cpu_ns;
		jobs[i].pid = 0;
		running--;
	}
	report(label, now_ns() - start, failed, maxrss, cpu_ns);
}

static int usage(void)
{
	fprintf(stderr, "usage: timeit [-l LOG] [-t SECONDS] PLAN\n");
	return 2;
}

int main(int argc, char **argv)
{
	char *line = NULL, *par_label = NULL;
	size_t cap = 0;
	struct cmd *par = NULL;
	int opt, par_width = 0, par_n = 0, par_cap = 0;
	FILE *plan;

	while ((opt = getopt(argc, argv, "l:t:")) != -1) {
		switch (opt) {
		case 'l':
			log_path = optarg;
			break;
		case 't':
			timeout_ms = atoi(optarg) * 1000;
			if (timeout_ms <= 0)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	plan = strcmp(argv[optind], "-") ? fopen(argv[optind], "re") : stdin;
	if (!plan) {
		fprintf(stderr, "timeit: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, plan) >= 0) {
		char *fields[MAX_ARGS + 1];
		int n = split_tabs(line, fields, MAX_ARGS + 1);

		if (n == 0 || !fields[0][0] || fields[0][0] == '#')
			continue;
		if (!strcmp(fields[0], "@par")) {
			if (n < 3)
				return usage();
			par_width = atoi(fields[1]);
			par_label = strdup(fields[2]);
			par_n = 0;
			continue;
		}
		if (!strcmp(fields[0], "@end")) {
			if (!par_label)
				return usage();
			run_parallel(par_label, par_width, par, par_n);
			for (int i = 0; i < par_n; i++) {
				free(par[i].label);
				for (int j = 0; par[i].argv[j]; j++)
					free(par[i].argv[j]);
			}
			free(par_label);
			par_label = NULL;
			continue;
		}
		if (n < 2)
			continue;
		struct cmd c;

		c.label = fields[0];
		for (int i = 1; i < n && i < MAX_ARGS; i++)
			c.argv[i - 1] = fields[i];
		c.argv[n - 1 < MAX_ARGS ? n - 1 : MAX_ARGS - 1] = NULL;
		if (!par_label) {
			run_one(&c);
			continue;
		}
		if (par_n == par_cap) {
			par_cap = par_cap ? par_cap * 2 : 128;
			par = realloc(par, par_cap * sizeof(*par));
			if (!par)
				return 1;
		}
		par[par_n].label = strdup(c.label);
		for (int i = 0;; i++) {
			par[par_n].argv[i] = c.argv[i] ? strdup(c.argv[i]) : NULL;
			if (!c.argv[i])
				break;
		}
		par_n++;
	}
	free(line);
	free(par);
	return 0;
}
