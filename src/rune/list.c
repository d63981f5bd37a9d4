/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
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

#define LIST_COLUMNS 6

/* One row of the table: the same fields as the JSON, as text. */
static void list_row(json_t *j, char row[LIST_COLUMNS][PATH_MAX + 64])
{
	static const char *const keys[LIST_COLUMNS] = { "id",	  "pid",     "status",
							"bundle", "created", "owner" };

	for (int i = 0; i < LIST_COLUMNS; i++) {
		json_t *v = json_object_get(j, keys[i]);
		if (json_is_integer(v))
			snprintf(row[i], PATH_MAX + 64, "%lld", (long long)json_integer_value(v));
		else
			snprintf(row[i], PATH_MAX + 64, "%s",
				 json_is_string(v) ? json_string_value(v) : "");
	}
}

/*
 * runc's table is Go's tabwriter (minwidth 12, padding 3): each column as
 * wide as its widest cell plus 3, at least 12; the last one unpadded.
 */
static void list_table(json_t *arr)
{
	static const char *const head[LIST_COLUMNS] = { "ID",	  "PID",     "STATUS",
							"BUNDLE", "CREATED", "OWNER" };
	char(*row)[PATH_MAX + 64] = malloc(sizeof(char[LIST_COLUMNS][PATH_MAX + 64]));
	size_t width[LIST_COLUMNS] = { 0 }, i;
	json_t *j;

	if (row == NULL)
		return;
	for (int c = 0; c < LIST_COLUMNS; c++)
		width[c] = strlen(head[c]);
	json_array_foreach(arr, i, j)
	{
		list_row(j, row);
		for (int c = 0; c < LIST_COLUMNS; c++)
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
	}
	for (int c = 0; c < LIST_COLUMNS; c++)
		width[c] = width[c] + 3 < 12 ? 12 : width[c] + 3;
	for (int c = 0; c < LIST_COLUMNS - 1; c++)
		printf("%-*s", (int)width[c], head[c]);
	printf("%s\n", head[LIST_COLUMNS - 1]);
	json_array_foreach(arr, i, j)
	{
		list_row(j, row);
		for (int c = 0; c < LIST_COLUMNS - 1; c++)
			printf("%-*s", (int)width[c], row[c]);
		printf("%s\n", row[LIST_COLUMNS - 1]);
	}
	free(row);
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
	if (arr == NULL) {
		err_set(&err, ENOMEM, "list");
		return cli_fail(cli, &err);
	}
	for (char **id = ids; id && *id; id++) {
		struct rune_state *s = NULL;
		struct stat sb;
		err_t e2 = NULL;
		json_t *j;

		if (rune_state_load(cli->ctx.root, *id, &s, &e2) < 0) {
			err_free(&e2);
			continue;
		}
		j = rune_state_to_oci(s, rune_state_status(s));
		/* runc's list names the owner (its state leaves it empty). */
		if (j)
			json_object_set_new(
			    j, "owner",
			    json_string(owner_name(stat(s->dir, &sb) == 0 ? sb.st_uid : 0)));
		if (j)
			json_array_append_new(arr, j);
		rune_state_free(s);
	}
	if (quiet) {
		size_t i;
		json_t *j;
		json_array_foreach(arr, i, j)
		    printf("%s\n", json_string_value(json_object_get(j, "id")));
	} else if (json && json_array_size(arr) == 0) {
		/* runc (Go) encodes its empty, nil slice as null. */
		printf("null\n");
	} else if (json) {
		cli_print_json(arr, false);
	} else {
		list_table(arr);
	}
	json_decref(arr);
	return 0;
}
