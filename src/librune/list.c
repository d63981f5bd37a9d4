/* SPDX-License-Identifier: Apache-2.0 */
/* `list`: the state of every container under the root. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "librune/container.h"
#include "librune/state.h"
#include "librune/util.h"

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

int rune_container_list(const struct rune_ctx *ctx, json_t **out, err_t *err)
{
	_cleanup_strv_ char **ids = NULL;
	json_t *arr;
	int ret;

	if ((ret = rune_state_list(ctx->root, &ids, err)) < 0)
		return ret;
	arr = json_array();
	if (arr == NULL)
		return err_set(err, ENOMEM, "list");
	for (char **id = ids; id && *id; id++) {
		_cleanup_state_ struct rune_state *s = NULL;
		struct stat sb;
		err_t gone = NULL;
		json_t *j;

		/* Deleted meanwhile, or half made: not listed. */
		if (rune_state_load(ctx->root, *id, &s, &gone) < 0) {
			err_free(&gone);
			continue;
		}
		j = rune_state_to_oci(s, rune_state_status(s));
		if (j == NULL)
			continue;
		/* runc's list names the owner (its state leaves it empty). */
		json_object_set_new(
		    j, "owner", json_string(owner_name(stat(s->dir, &sb) == 0 ? sb.st_uid : 0)));
		json_array_append_new(arr, j);
	}
	*out = arr;
	return 0;
}
