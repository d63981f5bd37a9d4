/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "librune/util.h"
#include "rune/rune.h"

/* Table format: the host's ps output, filtered to the container's pids, as runc does. */
static int ps_table(pid_t *pids, size_t n, char **ps_args)
{
	_cleanup_strv_ char **args = NULL;
	FILE *f;
	char line[4096];
	int pid_col = -1, status;
	bool header = true;

	strv_append(&args, "ps");
	if (ps_args && *ps_args)
		for (; *ps_args; ps_args++)
			strv_append(&args, *ps_args);
	else
		strv_append(&args, "-ef");
	{
		_cleanup_free_ char *cmd = NULL;
		size_t len = 0;
		for (char **a = args; *a; a++)
			len += strlen(*a) + 3;
		cmd = calloc(1, len + 1);
		for (char **a = args; *a; a++) {
			strcat(cmd, "'");
			strcat(cmd, *a);
			strcat(cmd, "' ");
		}
		f = popen(cmd, "r");
	}
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
	status = pclose(f);
	if (pid_col < 0)
		return -EINVAL;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

COMMAND(ps)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { 0 } };
	_cleanup_free_ pid_t *pids = NULL;
	bool json = false;
	err_t err = NULL;
	size_t n = 0;
	int c;

	while ((c = cli_getopt(argc, argv, "+f:", opts)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else
			return cli_usage(cli, argv[0], "invalid flag or format: %s",
					 argv[optind - 1]);
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
	if (ps_table(pids, n, argv + optind + 1) < 0) {
		err_set(&err, EIO, "ps: could not list processes");
		return cli_fail(cli, &err);
	}
	return 0;
}
