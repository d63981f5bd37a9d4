/* SPDX-License-Identifier: Apache-2.0 */
/* `events`: a container's statistics and OOM events, as runc prints them. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "librune/cgroup.h"
#include "librune/container.h"
#include "librune/enclave.h"
#include "librune/state.h"
#include "librune/util.h"

static void emit_event(const char *type, const char *id, json_t *data,
		       void (*emit)(const char *line, void *data), void *emit_data)
{
	json_t *j = json_pack("{s:s,s:s}", "type", type, "id", id);
	char *text;

	if (j == NULL)
		return;
	if (data)
		json_object_set(j, "data", data);
	text = rune_cgroup_stats_dumps(j);
	if (text)
		emit(text, emit_data);
	free(text);
	json_decref(j);
}

/*
 * An enclave container's EPC: data.epc {"usage", "limit"}, bytes (runc has
 * no such key). The limit from the state as it is now: `update
 * --epc-limit` may have changed it since events started.
 */
static void add_epc(const struct rune_ctx *ctx, const struct rune_state *s, json_t *stats)
{
	_cleanup_state_ struct rune_state *now = NULL;
	const json_t *enclave = s->enclave;
	pid_t pid = rune_state_status(s) == RUNE_STATUS_STOPPED ? 0 : s->pid;

	if (rune_state_load(ctx->root, s->id, &now, NULL) == 0 && now->enclave)
		enclave = now->enclave;
	json_object_set_new(stats, "epc", rune_enclave_epc(enclave, pid));
}

int rune_container_events(const struct rune_ctx *ctx, const char *id, bool once, long interval_ms,
			  void (*emit)(const char *line, void *data), void *data, err_t *err)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	_cleanup_state_ struct rune_state *s = NULL;
	struct rune_cgroup_oom *oom = NULL;
	int ret;

	if ((ret = rune_state_load(ctx->root, id, &s, err)) < 0)
		return ret;
	if (rune_state_status(s) == RUNE_STATUS_STOPPED)
		return err_set(err, EINVAL, "container \"%s\" is not running", s->id);
	if (s->cgroup_path == NULL)
		return err_set(err, ENOENT, "container has no cgroup");
	if ((ret = rune_cgroup_host_detect(&h, err)) < 0)
		return ret;
	if (!once && rune_cgroup_oom_open(h, s->cgroup_path, &oom, NULL) < 0)
		oom = NULL;
	for (;;) {
		json_t *stats = NULL;
		if ((ret = rune_cgroup_stats(h, s->cgroup_path, &stats, err)) < 0)
			break;
		if (s->enclave && stats)
			add_epc(ctx, s, stats);
		emit_event("stats", s->id, stats, emit, data);
		json_decref(stats);
		if (once)
			break;
		struct pollfd p = { .fd = oom ? rune_cgroup_oom_fd(oom) : -1, .events = POLLIN };
		if (poll(&p, 1, interval_ms) > 0 && oom) {
			uint64_t count = 0;
			if (rune_cgroup_oom_read(oom, &count, NULL) < 0)
				break;
			for (uint64_t i = 0; i < count; i++)
				emit_event("oom", s->id, NULL, emit, data);
		}
		if (rune_state_status(s) == RUNE_STATUS_STOPPED)
			break;
	}
	if (oom)
		rune_cgroup_oom_close(oom);
	return ret;
}
