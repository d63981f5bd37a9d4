/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives rune's cgroup module on the real host for the integration tests:
 *   cgroup-tool detect
 *   cgroup-tool resolve [--systemd] CGROUPS_PATH|"" ID
 *   cgroup-tool create PATH [PID [RESOURCES.json|-]]
 *   cgroup-tool enter PATH PID
 *   cgroup-tool update PATH RESOURCES.json|-
 *   cgroup-tool run PATH RESOURCES.json|- -- CMD...   (exit status as a shell reports it)
 *   cgroup-tool pids|freeze|thaw|state|stats|exists PATH
 *   cgroup-tool dir PATH CONTROLLER                  (prints "v1|v2 DIR", or fails)
 *   cgroup-tool kill PATH SIGNUM
 *   cgroup-tool destroy PATH [--kill]
 *   cgroup-tool oom-wait PATH SECONDS                 (prints "oom N" or "timeout")
 *   cgroup-tool bpf-devices CGROUP2_DIR RULES.json    (attach a device program)
 * and workloads to run inside a cgroup:
 *   cgroup-tool alloc MIB        (touches MIB of memory, prints "allocated")
 *   cgroup-tool forks N          (tries N forks, prints "forked K")
 *   cgroup-tool open FILE r|w    (prints "opened" or the error)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "librune/cgroup_internal.h"

static json_t *load_json(const char *arg)
{
	json_error_t je;
	json_t *j = strcmp(arg, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(arg, 0, &je);

	if (j == NULL)
		fprintf(stderr, "cgroup-tool: %s: %s (line %d)\n", arg, je.text, je.line);
	return j;
}

static int fail(err_t *err)
{
	fprintf(stderr, "cgroup-tool: %s\n", err_msg(*err));
	return 1;
}

static int cmd_detect(struct rune_cgroup_host *h)
{
	const struct rune_cgroup_hierarchy *v;
	size_t n;

	printf("layout %s\n", rune_cgroup_layout_name(rune_cgroup_layout(h)));
	rune_cgroup_hierarchies(h, &v, &n);
	for (size_t i = 0; i < n; i++)
		printf("%s %s controllers=%s available=%s self=%s\n", v[i].v2 ? "v2" : "v1",
		       v[i].mountpoint, v[i].controllers, v[i].available, v[i].self);
	return 0;
}

/* Forks cmd stopped on a pipe, puts it in the cgroup, then lets it exec. */
static int cmd_run(struct rune_cgroup_host *h, const char *path, json_t *res, char **argv,
		   err_t *err)
{
	int go[2], st;
	pid_t pid;
	char c = 0;

	if (pipe2(go, O_CLOEXEC) < 0)
		return perror("pipe"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(go[0]);
	if (rune_cgroup_create(h, path, pid, res, err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return fail(err);
	}
	if (write(go[1], &c, 1) != 1)
		return perror("write"), 1;
	close(go[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static int cmd_oom_wait(struct rune_cgroup_host *h, const char *path, int secs, err_t *err)
{
	struct rune_cgroup_oom *w = NULL;
	time_t end = time(NULL) + secs;
	int r = 0;

	if (rune_cgroup_oom_open(h, path, &w, err) < 0)
		return fail(err);
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = rune_cgroup_oom_fd(w), .events = POLLIN };
		uint64_t n = 0;

		if (poll(&p, 1, 200) <= 0)
			continue;
		r = rune_cgroup_oom_read(w, &n, err);
		if (r < 0)
			break;
		if (n) {
			printf("oom %llu\n", (unsigned long long)n);
			break;
		}
	}
	if (r == 0 && time(NULL) >= end)
		printf("timeout\n");
	rune_cgroup_oom_close(w);
	return r < 0 ? fail(err) : 0;
}

static int cmd_pids(struct rune_cgroup_host *h, const char *path, err_t *err)
{
	_cleanup_free_ pid_t *p = NULL;
	size_t n = 0;

	if (rune_cgroup_pids(h, path, &p, &n, err) < 0)
		return fail(err);
	for (size_t i = 0; i < n; i++)
		printf("%d\n", (int)p[i]);
	return 0;
}

static int cmd_stats(struct rune_cgroup_host *h, const char *path, err_t *err)
{
	json_t *s = NULL;

	if (rune_cgroup_stats(h, path, &s, err) < 0)
		return fail(err);
	json_dumpf(s, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	printf("\n");
	json_decref(s);
	return 0;
}

static int cmd_state(struct rune_cgroup_host *h, const char *path, err_t *err)
{
	bool frozen;

	if (rune_cgroup_is_frozen(h, path, &frozen, err) < 0)
		return fail(err);
	printf("%s\n", frozen ? "frozen" : "thawed");
	return 0;
}

static int with_json(struct rune_cgroup_host *h, int argc, char **argv, err_t *err)
{
	const char *cmd = argv[1], *path = argv[2];
	json_t *res = NULL;
	int r;

	if (strcmp(cmd, "create") == 0 && argc > 4 && (res = load_json(argv[4])) == NULL)
		return 1;
	if (strcmp(cmd, "create") != 0 && (argc < 4 || (res = load_json(argv[3])) == NULL))
		return 1;
	if (strcmp(cmd, "create") == 0)
		r = rune_cgroup_create(h, path, argc > 3 ? atoi(argv[3]) : 0, res, err) < 0;
	else if (strcmp(cmd, "update") == 0)
		r = rune_cgroup_update(h, path, res, err) < 0;
	else if (strcmp(cmd, "bpf-devices") == 0)
		r = cg_bpf_devices_attach(path, res, err) < 0;
	else if (argc > 5 && strcmp(argv[4], "--") == 0) {
		r = cmd_run(h, path, res, argv + 5, err);
		json_decref(res);
		return r;
	} else {
		r = 2;
	}
	json_decref(res);
	if (r == 1 && *err)
		return fail(err);
	return r;
}

static int workload(int argc, char **argv)
{
	const char *cmd = argv[1];

	if (strcmp(cmd, "alloc") == 0) {
		size_t mib = strtoul(argv[2], NULL, 10);
		char *p = malloc(mib << 20);

		if (p == NULL)
			return perror("malloc"), 1;
		for (size_t i = 0; i < mib << 20; i += 4096)
			p[i] = 1;
		printf("allocated\n");
		free(p);
		return 0;
	}
	if (strcmp(cmd, "forks") == 0) {
		int n = atoi(argv[2]), k = 0;
		pid_t *kids = calloc(n > 0 ? n : 1, sizeof(*kids));

		if (kids == NULL)
			return 1;
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				pause();
				_exit(0);
			}
			if (pid > 0)
				kids[k++] = pid;
		}
		printf("forked %d\n", k);
		fflush(stdout);
		for (int i = 0; i < k; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		free(kids);
		return 0;
	}
	if (strcmp(cmd, "open") == 0 && argc > 3) {
		int fd = open(argv[2], (argv[3][0] == 'w' ? O_WRONLY : O_RDONLY) | O_CLOEXEC);

		if (fd < 0)
			printf("open %s: %s\n", argv[2], strerror(errno));
		else
			printf("opened\n");
		return fd < 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	_cleanup_error_ err_t err = NULL;
	const char *cmd = argc > 1 ? argv[1] : "", *path = argc > 2 ? argv[2] : "";

	if (argc < 2)
		goto usage;
	if (argc > 2) {
		int r = workload(argc, argv);

		if (r >= 0)
			return r;
	}
	if (rune_cgroup_host_detect(&h, &err) < 0)
		return fail(&err);
	if (strcmp(cmd, "detect") == 0)
		return cmd_detect(h);
	if (argc < 3)
		goto usage;
	if (strcmp(cmd, "resolve") == 0) {
		bool sd = strcmp(argv[2], "--systemd") == 0;
		_cleanup_free_ char *out = NULL;

		if (argc < 4 + sd)
			goto usage;
		if (rune_cgroup_host_resolve_path(h, argv[2 + sd], argv[3 + sd], sd, &out, &err) <
		    0)
			return fail(&err);
		printf("%s\n", out);
		return 0;
	}
	if (!strcmp(cmd, "create") || !strcmp(cmd, "update") || !strcmp(cmd, "run") ||
	    !strcmp(cmd, "bpf-devices"))
		return with_json(h, argc, argv, &err);
	if (strcmp(cmd, "enter") == 0 && argc > 3)
		return rune_cgroup_enter(h, path, atoi(argv[3]), &err) < 0 ? fail(&err) : 0;
	if (strcmp(cmd, "pids") == 0)
		return cmd_pids(h, path, &err);
	if (strcmp(cmd, "dir") == 0 && argc > 3) {
		const struct rune_cgroup_hierarchy *hier = rune_cgroup_controller(h, argv[3]);
		_cleanup_free_ char *d = hier ? rune_cgroup_dir(hier, path) : NULL;

		if (d == NULL)
			return 1;
		printf("%s %s\n", hier->v2 ? "v2" : "v1", d);
		return 0;
	}
	if (strcmp(cmd, "kill") == 0 && argc > 3)
		return rune_cgroup_kill(h, path, atoi(argv[3]), &err) < 0 ? fail(&err) : 0;
	if (strcmp(cmd, "destroy") == 0)
		return rune_cgroup_destroy(h, path, argc > 3 && !strcmp(argv[3], "--kill"), &err) <
			       0
			   ? fail(&err)
			   : 0;
	if (strcmp(cmd, "freeze") == 0 || strcmp(cmd, "thaw") == 0)
		return rune_cgroup_freeze(h, path, cmd[0] == 'f', &err) < 0 ? fail(&err) : 0;
	if (strcmp(cmd, "state") == 0)
		return cmd_state(h, path, &err);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(h, path, &err);
	if (strcmp(cmd, "exists") == 0)
		return rune_cgroup_exists(h, path) ? 0 : 1;
	if (strcmp(cmd, "oom-wait") == 0 && argc > 3)
		return cmd_oom_wait(h, path, atoi(argv[3]), &err);
usage:
	fprintf(stderr, "usage: see the comment at the top of tests/cgroup/cgroup-tool.c\n");
	return 2;
}
