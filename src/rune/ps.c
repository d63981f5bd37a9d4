/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rune.h"

/*
 * ps(1) with args as given (no shell: an argument is never parsed again),
 * its stdout a pipe we read; *pid is the child's.
 */
static FILE *start_ps(char **args, pid_t *pid)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	*pid = fork();
	if (*pid == 0) {
		dup2(p[1], STDOUT_FILENO); /* dup2 clears close-on-exec on the copy */
		execvp("ps", args);
		_exit(127);
	}
	close(p[1]);
	if (*pid < 0) {
		close(p[0]);
		return NULL;
	}
	return fdopen(p[0], "r");
}

/* Table format: the host's ps output, filtered to the container's pids, as runc does. */
static int ps_table(pid_t *pids, size_t n, char **ps_args, int argc)
{
	_cleanup_free_ char **args = calloc(argc + 3, sizeof(char *));
	char line[4096];
	int pid_col = -1, status = 0, nargs = 0;
	bool header = true;
	pid_t child;
	FILE *f;

	if (args == NULL)
		return -ENOMEM;
	args[nargs++] = "ps";
	if (ps_args[0] == NULL)
		args[nargs++] = "-ef";
	for (; *ps_args; ps_args++)
		args[nargs++] = *ps_args;
	f = start_ps(args, &child);
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (header) {
			char copy[4096], *save = NULL;
			int col = 0;
			snprintf(copy, sizeof(copy), "%s", line);
			for (char *t = strtok_r(copy, " \t\n", &save); t;
			     t = strtok_r(NULL, " \t\n", &save), col++)
				if (strcmp(t, "PID") == 0)
					pid_col = col;
			fputs(line, stdout);
			header = false;
			if (pid_col < 0)
				break;
			continue;
		}
		char copy[4096], *save = NULL, *t;
		int col = 0;
		snprintf(copy, sizeof(copy), "%s", line);
		for (t = strtok_r(copy, " \t\n", &save); t && col < pid_col;
		     t = strtok_r(NULL, " \t\n", &save))
			col++;
		if (t == NULL)
			continue;
		pid_t p = atoi(t);
		for (size_t i = 0; i < n; i++)
			if (pids[i] == p) {
				fputs(line, stdout);
				break;
			}
	}
	fclose(f);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (pid_col < 0)
		return -EINVAL;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static const struct cli_option ps_options[] = {
	{ "format", 'f', "FORMAT", "table (default: ps(1)'s output) or json (the pids)" },
	{ 0 },
};

static int cmd_ps(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ pid_t *pids = NULL;
	bool json = false;
	err_t err = NULL;
	size_t n = 0;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
			return cli_usage(cli, argv[0], "invalid format \"%s\"", optarg);
		json = strcmp(optarg, "json") == 0;
	}
	if (cli_need_args(cli, argv[0], argc - optind, -1))
		return 1;
	if (rune_container_pids(&cli->ctx, argv[optind], &pids, &n, &err) < 0)
		return cli_fail(cli, &err);
	if (json && n == 0) {
		/* runc (Go) encodes its empty, nil slice as null. */
		printf("null\n");
		return 0;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_integer(pids[i]));
		cli_print_json(arr, false);
		json_decref(arr);
		return 0;
	}
	if (ps_table(pids, n, argv + optind + 1, argc) < 0) {
		err_set(&err, EIO, "ps: could not list processes");
		return cli_fail(cli, &err);
	}
	return 0;
}

const struct command command_ps = {
	.name = "ps",
	.fn = cmd_ps,
	.usage = "[command options] <container-id> [ps options]",
	.summary = "list the processes of a container",
	.options = ps_options,
	.options_first = true,
};
