/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "librune/cgroup.h"
#include "librune/state.h"
#include "librune/util.h"
#include "rune/rune.h"

/* A Go duration's number: digits, an optional fraction; *s past it. */
static int scan_number(const char **s, double *v)
{
	const char *p = *s;
	double scale = 0.1;
	bool digits = false;

	for (*v = 0; *p >= '0' && *p <= '9'; p++, digits = true)
		*v = *v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10, digits = true)
			*v += (*p - '0') * scale;
	if (!digits)
		return -EINVAL;
	*s = p;
	return 0;
}

/*
 * A Go duration, as runc reads --interval ("1m30s", "1.5s", "300ms",
 * "10us"; units ns, us, µs, ms, s, m, h), or a bare number of seconds
 * (rune's older form) -> milliseconds, at least 1. Zero and negative are
 * refused, as runc does.
 */
static int parse_interval(const char *s, long *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "\u00b5s", 1e-3 }, { "ms", 1 },
		      { "s", 1e3 },   { "m", 6e4 },   { "h", 3.6e6 } };
	const char *p = s;
	double total = 0, v;

	if (*s == '\0')
		return -EINVAL;
	if (scan_number(&p, &v) == 0 && *p == '\0')
		total = v * 1e3;
	else
		while (*s) {
			size_t best = 0, len = 0;

			if (scan_number(&s, &v) < 0)
				return -EINVAL;
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].unit);
				if (n > len && strncmp(s, units[i].unit, n) == 0)
					best = i, len = n;
			}
			if (len == 0)
				return -EINVAL;
			total += v * units[best].ms;
			s += len;
		}
	if (!(total > 0) || total > 1e12)
		return -EINVAL;
	*ms = total < 1 ? 1 : (long)total;
	return 0;
}

static void print_event(const char *type, const char *id, json_t *data)
{
	json_t *j = json_pack("{s:s,s:s}", "type", type, "id", id);
	char *text;

	if (data)
		json_object_set(j, "data", data);
	text = rune_cgroup_stats_dumps(j);
	if (text)
		printf("%s\n", text);
	free(text);
	fflush(stdout);
	json_decref(j);
}

COMMAND(events)
{
	static const struct option opts[] = { { "stats", no_argument, NULL, 's' },
					      { "interval", required_argument, NULL, 'i' },
					      { 0 } };
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	struct rune_state *s = NULL;
	struct rune_cgroup_oom *oom = NULL;
	bool once = false;
	long interval = 5000;
	err_t err = NULL;
	int c, ret = 0;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 's')
			once = true;
		else if (c == 'i' && parse_interval(optarg, &interval) == 0)
			continue;
		else
			return cli_usage(cli, argv[0], "invalid flag or value: %s",
					 argv[optind - 1]);
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_state_load(cli->ctx.root, argv[optind], &s, &err) < 0)
		return cli_fail(cli, &err);
	if (rune_state_status(s) == RUNE_STATUS_STOPPED) {
		err_set(&err, EINVAL, "container \"%s\" is not running", s->id);
		rune_state_free(s);
		return cli_fail(cli, &err);
	}
	if (s->cgroup_path == NULL || rune_cgroup_host_detect(&h, &err) < 0) {
		rune_state_free(s);
		if (err == NULL)
			err_set(&err, ENOENT, "container has no cgroup");
		return cli_fail(cli, &err);
	}
	if (!once && rune_cgroup_oom_open(h, s->cgroup_path, &oom, NULL) < 0)
		oom = NULL;
	for (;;) {
		json_t *stats = NULL;
		if (rune_cgroup_stats(h, s->cgroup_path, &stats, &err) < 0) {
			ret = cli_fail(cli, &err);
			break;
		}
		print_event("stats", s->id, stats);
		json_decref(stats);
		if (once)
			break;
		struct pollfd p = { .fd = oom ? rune_cgroup_oom_fd(oom) : -1, .events = POLLIN };
		if (poll(&p, 1, interval) > 0 && oom) {
			uint64_t count = 0;
			if (rune_cgroup_oom_read(oom, &count, NULL) < 0)
				break;
			for (uint64_t i = 0; i < count; i++)
				print_event("oom", s->id, NULL);
		}
		if (rune_state_status(s) == RUNE_STATUS_STOPPED)
			break;
	}
	if (oom)
		rune_cgroup_oom_close(oom);
	rune_state_free(s);
	return ret;
}
