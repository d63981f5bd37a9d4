/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rune.h"

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

static const struct cli_option list_options[] = {
	{ "format", 'f', "FORMAT", "table (default) or json" },
	{ "quiet", 'q', NULL, "print only the containers' ids" },
	{ 0 },
};

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	bool json = false, quiet = false;
	err_t err = NULL;
	json_t *arr;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)
			json = strcmp(optarg, "json") == 0;
		else
			return cli_usage(cli, argv[0], "invalid format \"%s\"", optarg);
	}
	if (cli_need_args(cli, argv[0], argc - optind, 0))
		return 1;
	if (rune_container_list(&cli->ctx, &arr, &err) < 0)
		return cli_fail(cli, &err);
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

const struct command command_list = {
	.name = "list",
	.alias = "ls",
	.fn = cmd_list,
	.usage = "[command options]",
	.summary = "list the containers under --root",
	.options = list_options,
};
