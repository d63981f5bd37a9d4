/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OOM kills in a container's memory cgroup, as /tasks/oom events: on
 * cgroup v1 an eventfd registered in cgroup.event_control for
 * memory.oom_control (signalled at each OOM, and when the cgroup is
 * removed: then the file is gone), on v2 an inotify watch of
 * memory.events (an OOM when its oom_kill count went up). The fds sit in
 * the daemon's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "task.pb-c.h"

/* The container's memory cgroup directory, from /proc/PID/cgroup; *v2 for cgroup2. */
static int memory_cgroup(pid_t pid, char *out, size_t size, bool *v2)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[PATH_MAX + 64], unified[PATH_MAX] = "";

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;

		if (cg == NULL)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		if (strcmp(ctrl + 1, "") == 0) {
			snprintf(unified, sizeof(unified), "%s", cg);
			continue;
		}
		for (char *c = strtok(ctrl + 1, ","); c; c = strtok(NULL, ","))
			if (strcmp(c, "memory") == 0) {
				*v2 = false;
				snprintf(out, size, "/sys/fs/cgroup/memory%s", cg);
				return 0;
			}
	}
	if (*unified == '\0')
		return -ENOENT;
	*v2 = true;
	snprintf(out, size, "/sys/fs/cgroup%s", unified);
	return 0;
}

/* The "oom_kill N" count of memory.oom_control (v1) or memory.events (v2); 1: none there. */
static int read_kills(const char *path, uint64_t *n)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char key[64];
	uint64_t v;

	if (f == NULL)
		return -errno;
	while (fscanf(f, "%63s %" SCNu64, key, &v) == 2)
		if (strcmp(key, "oom_kill") == 0) {
			*n = v;
			return 0;
		}
	*n = 0;
	return 1;
}

int oom_watch(struct container *ct, err_t *err)
{
	char dir[PATH_MAX], file[PATH_MAX + 32];
	_cleanup_close_ int fd = -1;
	bool v2 = false;
	int r = memory_cgroup(ct->init.pid, dir, sizeof(dir), &v2);

	if (r < 0)
		return err_sys(err, -r, "memory cgroup of %d", (int)ct->init.pid);
	snprintf(file, sizeof(file), "%s/%s", dir, v2 ? "memory.events" : "memory.oom_control");
	if (v2) {
		fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (fd < 0 || inotify_add_watch(fd, file, IN_MODIFY) < 0)
			return err_sys(err, errno, "watch %s", file);
	} else {
		char ctl[PATH_MAX + 32], reg[32];
		_cleanup_close_ int ofd = open(file, O_RDONLY | O_CLOEXEC), cfd = -1;

		snprintf(ctl, sizeof(ctl), "%s/cgroup.event_control", dir);
		cfd = open(ctl, O_WRONLY | O_CLOEXEC);
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ofd < 0 || cfd < 0 || fd < 0)
			return err_sys(err, errno, "open %s", ofd < 0 ? file : ctl);
		snprintf(reg, sizeof(reg), "%d %d", fd, ofd);
		if (write(cfd, reg, strlen(reg)) < 0)
			return err_sys(err, errno, "write %s", ctl);
	}
	ct->oom_path = strdup(file);
	if (ct->oom_path == NULL)
		return err_sys(err, ENOMEM, "oom watch");
	read_kills(file, &ct->oom_kills);
	ct->oom_v2 = v2;
	ct->oom_fd = steal_fd(fd);
	return 0;
}

void oom_unwatch(struct container *ct)
{
	if (ct->oom_fd >= 0)
		close(steal_fd(ct->oom_fd));
	free(steal_ptr(ct->oom_path));
}

size_t oom_count(const struct shim *s)
{
	size_t n = 0;

	for (const struct container *ct = s->containers; ct; ct = ct->next)
		n++;
	return n;
}

void oom_pollfds(struct shim *s, struct pollfd *pfds)
{
	for (struct container *ct = s->containers; ct; ct = ct->next)
		*pfds++ = (struct pollfd){ .fd = ct->oom_fd, .events = POLLIN };
}

static void publish_oom(struct shim *s, const struct container *ct)
{
	Shim__TaskOOM ev = SHIM__TASK_OOM__INIT;
	uint8_t buf[512];
	size_t n;

	ev.container_id = ct->id;
	n = shim__task_oom__get_packed_size(&ev);
	if (n > sizeof(buf))
		return;
	shim__task_oom__pack(&ev, buf);
	publish(s, "/tasks/oom", "TaskOOM", buf, n);
}

void oom_handle(struct shim *s, const struct pollfd *pfds)
{
	for (struct container *ct = s->containers; ct; ct = ct->next, pfds++) {
		uint8_t buf[4096];
		uint64_t n;
		int r;

		if (ct->oom_fd < 0 || !pfds->revents)
			continue;
		while (read(ct->oom_fd, buf, sizeof(buf)) > 0)
			;
		r = read_kills(ct->oom_path, &n);
		if (r < 0) {
			oom_unwatch(ct); /* the cgroup is gone */
			continue;
		}
		/*
		 * v1 signals before the kill (the count may not have moved yet):
		 * a notice while the cgroup exists is an OOM. v2's file changes
		 * again when the count does.
		 */
		if (!ct->oom_v2 || n > ct->oom_kills || r > 0) {
			ct->oom_kills = n;
			publish_oom(s, ct);
		}
	}
}
