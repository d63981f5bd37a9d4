// SPDX-License-Identifier: Apache-2.0
/*
 * cgmig: what it costs to put a new child into a cgroup on every v1
 * hierarchy, two ways.
 *
 *   parent: the parent writes the child's pid to each cgroup.procs (what
 *           runtimes do).  The kernel takes cgroup_threadgroup_rwsem for
 *           writing, a per-CPU rwsem whose writer waits for an RCU grace
 *           period unless another writer was there recently.
 *   self:   the single-threaded child writes "0" (itself) to each
 *           controller's "tasks" file.  The kernel skips that lock when
 *           the current thread moves itself.
 *
 *   cgmig [ROUNDS]   (root; v1 hierarchies under /sys/fs/cgroup)
 *
 * Each round creates rbmig-<pid>-<n> on every v1 hierarchy, waits 100 ms
 * so that no migration happened recently, measures, removes the cgroups.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define MAX_H		   32

static char hier[MAX_H][256];
static int nhier;

/* snprintf that fails loudly instead of truncating a path */
#define PATHF(buf, ...)                                                                            \
	do {                                                                                       \
		if (snprintf(buf, sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf)) {                 \
			fprintf(stderr, "cgmig: path too long\n");                                 \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int copy_file(const char *from, const char *to)
{
	char buf[256];
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return write_str(to, buf);
}

static void find_hierarchies(void)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;
	struct statfs sf;

	if (!d)
		return;
	while ((e = readdir(d)) && nhier < MAX_H) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		PATHF(hier[nhier], "/sys/fs/cgroup/%s", e->d_name);
		if (statfs(hier[nhier], &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC)
			nhier++;
	}
	closedir(d);
}

/* Moves pid (or, with pid 0, the caller) into NAME on every hierarchy. */
static double migrate(const char *name, pid_t pid, const char *file, double *first)
{
	char path[512], val[32];
	double total = 0;

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int i = 0; i < nhier; i++) {
		double t = now_ms(), d;

		PATHF(path, "%s/%s/%s", hier[i], name, file);
		if (write_str(path, val) < 0) {
			fprintf(stderr, "cgmig: %s: %s\n", path, strerror(errno));
			return -1;
		}
		d = now_ms() - t;
		if (i == 0)
			*first = d;
		total += d;
	}
	return total;
}

static int round_trip(int n, int self)
{
	char name[64], path[512], p2[512];
	int pfd[2];
	double first = 0, total;
	pid_t child;

	snprintf(name, sizeof(name), "rbmig-%d-%d", (int)getpid(), n);
	for (int i = 0; i < nhier; i++) {
		PATHF(path, "%s/%s", hier[i], name);
		mkdir(path, 0755);
		if (strstr(hier[i], "cpuset")) { /* v1 cpuset starts empty */
			PATHF(path, "%s/%s/cpuset.cpus", hier[i], name);
			PATHF(p2, "%s/cpuset.cpus", hier[i]);
			copy_file(p2, path);
			PATHF(path, "%s/%s/cpuset.mems", hier[i], name);
			PATHF(p2, "%s/cpuset.mems", hier[i]);
			copy_file(p2, path);
		}
	}
	usleep(100000);
	if (pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	child = fork();
	if (child == 0) {
		double d = 0;

		close(pfd[0]);
		if (self)
			d = migrate(name, 0, "tasks", &first);
		if (write(pfd[1], &d, sizeof(d)) < 0 || write(pfd[1], &first, sizeof(first)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (self) {
		if (read(pfd[0], &total, sizeof(total)) != sizeof(total) ||
		    read(pfd[0], &first, sizeof(first)) != sizeof(first))
			total = -1;
	} else {
		total = migrate(name, child, "cgroup.procs", &first);
	}
	close(pfd[0]);
	waitpid(child, NULL, 0);
	for (int i = 0; i < nhier; i++) {
		PATHF(path, "%s/%s", hier[i], name);
		rmdir(path);
	}
	if (total < 0)
		return -1;
	printf("%-6s round %d: first hierarchy %7.3f ms, all %d %7.3f ms\n",
	       self ? "self" : "parent", n, first, nhier, total);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;

	find_hierarchies();
	if (!nhier) {
		fprintf(stderr, "cgmig: no v1 hierarchy under /sys/fs/cgroup\n");
		return 1;
	}
	for (int n = 0; n < rounds; n++) {
		if (round_trip(2 * n, 0) < 0 || round_trip(2 * n + 1, 1) < 0)
			return 1;
	}
	return 0;
}
