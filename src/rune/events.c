/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rune.h"

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

static void print_line(const char *line, void *data)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
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
	bool once = false;
	long interval = 5000;
	err_t err = NULL;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == EV_STATS)
			once = true;
		else if (parse_interval(optarg, &interval) < 0)
			return cli_usage(cli, argv[0], "invalid --interval \"%s\"", optarg);
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_events(&cli->ctx, argv[optind], once, interval, print_line, NULL, &err) <
	    0)
		return cli_fail(cli, &err);
	return 0;
}

const struct command command_events = {
	.name = "events",
	.fn = cmd_events,
	.usage = "[command options] <container-id>",
	.summary = "print a container's statistics and OOM events, as JSON lines",
	.options = events_options,
};
