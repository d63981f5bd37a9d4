/* SPDX-License-Identifier: Apache-2.0 */
/* The rune CLI: runc's command line over librune. */
#ifndef RUNE_CLI_H
#define RUNE_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "common/cleanup.h"

#include "common/error.h"
#include "rune/librune.h"

/*
 * One option of a command: what its parser takes and what its --help says,
 * in one place so that the two can't drift apart.
 */
struct cli_option {
	const char *name; /* --name */
	int val;	  /* what cli_getopt returns; a letter is also the short option -X */
	const char *arg;  /* the value's name in the help; NULL: a flag without a value */
	const char *help; /* one line */
};

struct cli;

struct command {
	const char *name;
	const char *alias;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *usage;		  /* the arguments after the command name */
	const char *summary;		  /* one line for `rune --help` */
	const struct cli_option *options; /* ending with { 0 }; NULL: none */
	bool options_first;		  /* its options end at the first argument (exec, ps) */
	bool any_options;		  /* unknown options are no error (unsupported commands) */
};

struct cli {
	struct rune_ctx ctx;
	const char *log_path;
	bool log_json;
	bool debug;
	char **argv; /* rune's own, for the sealed re-exec */
	/* The running command's getopt tables, made from its cli_option table. */
	struct option *longopts;
	char shortopts[64];
};

/* Reports an error (stderr and --log), returns the exit status 1. */
int cli_fail(struct cli *cli, err_t *err);
/* Usage error: message, hint, exit status 1 (runc exits 1 on usage errors too). */
int cli_usage(struct cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_log(struct cli *cli, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * getopt_long_only over a command's own argv (argv[0] is its name) with the
 * tables made from its cli_option table. main() has already checked the
 * options: every value returned is one of the table's.
 */
int cli_getopt(struct cli *cli, int argc, char **argv);
/* Exactly n positional arguments remain (n < 0: at least -n). */
int cli_need_args(struct cli *cli, const char *cmd, int argc, int n);
/* path made absolute against the cwd (malloc'ed): rune may chdir, clients pass relative ones. */
char *cli_absolute(const char *path);
/* --preserve-fds N: 0 to INT_MAX - 3 (stdio and N more must fit); -1 if not that. */
int cli_parse_fd_count(const char *s);
/* Prints JSON on stdout with a newline. */
void cli_print_json(json_t *j, bool pretty);

extern const struct command command_create, command_run, command_start, command_state, command_list,
    command_kill, command_delete, command_exec, command_ps, command_spec, command_features,
    command_pause, command_resume, command_update, command_events, command_attest,
    command_checkpoint, command_restore;

#endif
