/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "librune/state.h"
#include "librune/util.h"
#include "rune/rune.h"

/* The last uid's name: containers are nearly always all root's. */
static const char *owner_name(uid_t uid)
{
	static char name[64];
	static uid_t cached = (uid_t)-1;
	struct passwd *pw;

	if (uid != cached) {
		pw = getpwuid(uid);
		snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "?");
		if (pw == NULL)
			snprintf(name, sizeof(name), "%u", uid);
		cached = uid;
	}
	return name;
}

COMMAND(list)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { 0 } };
	_cleanup_strv_ char **ids = NULL;
	bool json = false, quiet = false;
	err_t err = NULL;
	json_t *arr;
	int c;

	while ((c = cli_getopt(argc, argv, "f:q", opts)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else if (c == 'q')
			quiet = true;
		else
			return cli_usage(cli, argv[0], "invalid flag or format: %s",
					 argv[optind - 1]);
	}
	if (cli_need_args(cli, argv[0], argc - optind, 0))
		return 1;
	if (rune_state_list(cli->ctx.root, &ids, &err) < 0)
		return cli_fail(cli, &err);
	arr = json_array();
	if (!json && !quiet)
		printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (char **id = ids; id && *id; id++) {
		struct rune_state *s = NULL;
		enum rune_status st;
		struct stat sb;
		err_t e2 = NULL;

		if (rune_state_load(cli->ctx.root, *id, &s, &e2) < 0) {
			err_free(&e2);
			continue;
		}
		st = rune_state_status(s);
		if (quiet) {
			printf("%s\n", s->id);
		} else if (json) {
			json_t *j = rune_state_to_oci(s, st);
			json_array_append_new(arr, j);
		} else {
			printf("%-12s %-8d %-10s %-40s %-30s %s\n", s->id,
			       st == RUNE_STATUS_STOPPED ? 0 : s->pid, rune_status_name(st),
			       s->bundle, s->created,
			       owner_name(stat(s->dir, &sb) == 0 ? sb.st_uid : 0));
		}
		rune_state_free(s);
	}
	if (json)
		cli_print_json(arr, false);
	json_decref(arr);
	return 0;
}
