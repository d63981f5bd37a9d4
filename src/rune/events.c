/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rune.h"

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

static void print_line(const char *line, void *data)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
}

enum { EV_STATS = 256, EV_INTERVAL };

static const struct cli_option events_options[] = {
	{ "interval", EV_INTERVAL, "TIME",
	  "how often to print statistics (default: 5s; a Go duration: 1m30s, 500ms)" },
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
