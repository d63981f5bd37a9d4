/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rune.h"

enum {
	E_PROCESS = 'p',
	E_DETACH = 'd',
	E_TTY = 't',
	E_ENV = 'e',
	E_USER = 'u',
	E_CAP = 'c',
	E_GIDS = 'g',
	E_PID_FILE = 256,
	E_CONSOLE,
	E_CWD,
	E_NNP,
	E_PRESERVE,
	E_LABEL,
	E_APPARMOR,
	E_IGNORE_PAUSED,
	E_CGROUP,
};

/*
 * runc's exec exits 255 when exec itself fails (a missing container or
 * binary, a bad process file...), so that callers tell it from the
 * workload's own status; only malformed flags and a missing id are usage
 * errors (1).
 */
#define EXEC_FAILED 255

static int exec_fail(struct cli *cli, err_t *err)
{
	cli_fail(cli, err);
	return EXEC_FAILED;
}

static const struct cli_option exec_options[] = {
	{ "console-socket", E_CONSOLE, "SOCKET",
	  "an AF_UNIX socket that receives the master end of the process's terminal" },
	{ "cwd", E_CWD, "DIR", "the working directory in the container" },
	{ "env", E_ENV, "KEY=VALUE", "set an environment variable (repeatable)" },
	{ "tty", E_TTY, NULL, "give the process a terminal" },
	{ "user", E_USER, "UID[:GID]", "run as this user (and group)" },
	{ "additional-gids", E_GIDS, "GID", "an additional group (repeatable)" },
	{ "process", E_PROCESS, "FILE", "the process as OCI process JSON (then no command)" },
	{ "detach", E_DETACH, NULL, "do not wait for the process: exit once it has started" },
	{ "pid-file", E_PID_FILE, "FILE", "write the process's pid to FILE" },
	{ "process-label", E_LABEL, "LABEL",
	  "the process's SELinux label (refused where SELinux is off)" },
	{ "apparmor", E_APPARMOR, "PROFILE",
	  "the process's AppArmor profile (refused where AppArmor is off)" },
	{ "no-new-privs", E_NNP, NULL, "set no_new_privs for the process" },
	{ "cap", E_CAP, "CAP", "add a capability to every set of the process (repeatable)" },
	{ "preserve-fds", E_PRESERVE, "N",
	  "pass N more file descriptors, from 3 on, to the process (default: 0)" },
	{ "cgroup", E_CGROUP, "[CONTROLLER:]PATH",
	  "run the process in an existing sub-cgroup of the container's (repeatable)" },
	{ "ignore-paused", E_IGNORE_PAUSED, NULL,
	  "exec into a paused container (the process runs once it is resumed)" },
	{ 0 },
};

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	/* The repeatable options' values, in argv: argc slots is enough for each. */
	_cleanup_free_ const char **envs = calloc(argc, sizeof(char *));
	_cleanup_free_ const char **caps = calloc(argc, sizeof(char *));
	_cleanup_free_ const char **gids = calloc(argc, sizeof(char *));
	_cleanup_free_ char **cgroups = calloc(argc, sizeof(char *));
	_cleanup_free_ char *pid_file = NULL;
	struct rune_exec_args a = { .env = envs, .caps = caps, .additional_gids = gids };
	struct rune_exec_opts o = { .cgroup_subs = cgroups };
	int c, ret, status = 0, n_envs = 0, n_caps = 0, n_gids = 0, n_cgroups = 0;
	err_t err = NULL;

	if (!envs || !caps || !gids || !cgroups) {
		err_set(&err, ENOMEM, "exec");
		return exec_fail(cli, &err);
	}
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case E_PROCESS:
			a.process_file = optarg;
			break;
		case E_DETACH:
			o.detach = true;
			break;
		case E_TTY:
			a.tty = true;
			break;
		case E_ENV:
			envs[n_envs++] = optarg;
			break;
		case E_USER:
			a.user = optarg;
			break;
		case E_CAP:
			caps[n_caps++] = optarg;
			break;
		case E_GIDS:
			/* A value runc's CLI can't parse: a usage error (1), as there. */
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    optarg[strspn(optarg, "0123456789")] != '\0')
				return cli_usage(cli, argv[0],
						 "invalid value \"%s\" for --additional-gids",
						 optarg);
			gids[n_gids++] = optarg;
			break;
		case E_PID_FILE:
			o.pid_file = optarg;
			break;
		case E_CONSOLE:
			o.console_socket = optarg;
			break;
		case E_CWD:
			a.cwd = optarg;
			break;
		case E_NNP:
			a.no_new_privileges = true;
			break;
		case E_PRESERVE:
			if ((o.preserve_fds = cli_parse_fd_count(optarg)) < 0)
				return cli_usage(cli, argv[0], "invalid --preserve-fds \"%s\"",
						 optarg);
			break;
		case E_IGNORE_PAUSED:
			o.ignore_paused = true;
			break;
		case E_CGROUP:
			cgroups[n_cgroups++] = optarg;
			break;
		case E_LABEL:
			a.process_label = optarg;
			break;
		case E_APPARMOR:
			a.apparmor = optarg;
			break;
		}
	}
	/* As runc: a missing command is exec's failure (255), a missing id a usage error. */
	if (cli_need_args(cli, argv[0], argc - optind, a.process_file ? 1 : -1))
		return 1;
	o.id = argv[optind];
	a.args = argv + optind + 1;
	if (o.pid_file && (o.pid_file = pid_file = cli_absolute(o.pid_file)) == NULL) {
		err_set(&err, ENOMEM, "exec");
		return exec_fail(cli, &err);
	}
	if (rune_exec_process_new(&cli->ctx, o.id, &a, &o.process, &err) < 0)
		return exec_fail(cli, &err);
	ret = rune_container_exec(&cli->ctx, &o, &status, &err);
	rune_exec_process_free(o.process);
	if (ret < 0)
		return exec_fail(cli, &err);
	return status;
}

const struct command command_exec = {
	.name = "exec",
	.fn = cmd_exec,
	.usage = "[command options] <container-id> <command> [args...] || -p process.json "
		 "<container-id>",
	.summary = "execute a new process inside the container",
	.options = exec_options,
	.options_first = true,
};
