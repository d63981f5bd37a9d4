/* SPDX-License-Identifier: Apache-2.0 */
/* The rune CLI: runc's command line over librune. */
#ifndef RUNE_CLI_H
#define RUNE_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "common/error.h"
#include "librune/container.h"

struct cli {
	struct rune_ctx ctx;
	const char *log_path;
	bool log_json;
	bool debug;
	const char *argv0;
};

typedef int (*command_fn)(struct cli *cli, int argc, char **argv);

struct command {
	const char *name;
	const char *alias;
	command_fn fn;
	const char *usage;   /* arguments after the command name */
	const char *summary; /* one line for `rune --help` */
};

/* Reports an error (stderr and --log), returns the exit status 1. */
int cli_fail(struct cli *cli, err_t *err);
/* Usage error: message, hint, exit status 1 (runc exits 1 on usage errors too). */
int cli_usage(struct cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_log(struct cli *cli, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* getopt_long_only over a subcommand's own argv (argv[0] is its name). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Exactly n positional arguments remain (n < 0: at least -n). */
int cli_need_args(struct cli *cli, const char *cmd, int argc, int n);
/* Prints JSON on stdout with a newline. */
void cli_print_json(json_t *j, bool pretty);

#define COMMAND(name) int cmd_##name(struct cli *cli, int argc, char **argv)
COMMAND(create);
COMMAND(start);
COMMAND(run);
COMMAND(state);
COMMAND(list);
COMMAND(kill);
COMMAND(delete);
COMMAND(exec);
COMMAND(ps);
COMMAND(spec);
COMMAND(features);
COMMAND(pause);
COMMAND(resume);
COMMAND(update);
COMMAND(events);
COMMAND(checkpoint);
COMMAND(restore);
COMMAND(attest);

#endif
