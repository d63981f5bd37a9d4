/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "librune/cgroup.h"
#include "librune/state.h"
#include "librune/util.h"
#include "rune/rune.h"

/* "5s", "500ms", "1m", "2" (seconds) -> milliseconds. */
static int parse_interval(const char *s, long *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return -EINVAL;
	if (*end == '\0' || strcmp(end, "s") == 0)
		*ms = v * 1000;
	else if (strcmp(end, "ms") == 0)
		*ms = v;
	else if (strcmp(end, "m") == 0)
		*ms = v * 60000;
	else
		return -EINVAL;
	return *ms > 0 ? 0 : -EINVAL;
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

enum { EV_STATS = 256, EV_INTERVAL };

static const struct cli_option events_options[] = {
	{ "interval", EV_INTERVAL, "TIME",
	  "how often to print statistics (default: 5s; ms, s, m)" },
	{ "stats", EV_STATS, NULL, "print the container's statistics once, then exit" },
	{ 0 },
};

static int cmd_events(struct cli *cli, int argc, char **argv)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	struct rune_state *s = NULL;
	struct rune_cgroup_oom *oom = NULL;
	bool once = false;
	long interval = 5000;
	err_t err = NULL;
	int c, ret = 0;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == EV_STATS)
			once = true;
		else if (parse_interval(optarg, &interval) < 0)
			return cli_usage(cli, argv[0], "invalid --interval \"%s\"", optarg);
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

const struct command command_events = {
	.name = "events",
	.fn = cmd_events,
	.usage = "[command options] <container-id>",
	.summary = "print a container's statistics and OOM events, as JSON lines",
	.options = events_options,
};
