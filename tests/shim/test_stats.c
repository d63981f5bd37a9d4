/* SPDX-License-Identifier: Apache-2.0 */
/* Stats: rune's statistics JSON as containerd's cgroups v1 and v2 Metrics. */
#include <stdlib.h>
#include <string.h>

#include "shim/shim.h"
#include "../tap.h"
#include "cgroups.pb-c.h"

/* What `rune events --stats` prints (runc's format), trimmed. */
static const char sample[] =
    "{\"type\":\"stats\",\"id\":\"c\",\"data\":{"
    "\"cpu\":{\"usage\":{\"total\":7730288,\"percpu\":[7000000,730288],\"user\":3000000,"
    "\"kernel\":4000000},\"throttling\":{\"periods\":5,\"throttled_periods\":2,"
    "\"throttled_time\":9000}},"
    "\"memory\":{\"raw\":{\"cache\":4096,\"rss\":49152,\"pgpgin\":14,\"total_pgmajfault\":3,"
    "\"hierarchical_memsw_limit\":777,\"anon\":8192,\"file\":12288},"
    "\"usage\":{\"usage\":253952,\"max\":262144,\"limit\":67108864,\"failcnt\":1},"
    "\"swap\":{\"usage\":253952,\"limit\":134217728},"
    "\"kernelTCP\":{\"limit\":5,\"failcnt\":6}},"
    "\"pids\":{\"current\":3,\"limit\":100},\"blkio\":{},\"network_interfaces\":null}}";

static void t_v1(void)
{
	_cleanup_error_ err_t err = NULL;
	uint8_t *buf = NULL;
	const char *url = NULL;
	size_t len = 0;
	Cg__V1Metrics *m;

	TAP_OK(stats_metrics(sample, false, &url, &buf, &len, &err) == 0, "v1: converts");
	TAP_OK(url && strcmp(url, "io.containerd.cgroups.v1.Metrics") == 0, "v1: type URL");
	m = cg__v1_metrics__unpack(NULL, len, buf);
	TAP_OK(m && m->pids && m->pids->current == 3 && m->pids->limit == 100, "v1: pids");
	TAP_OK(m && m->cpu && m->cpu->usage && m->cpu->usage->total == 7730288 &&
		   m->cpu->usage->user == 3000000 && m->cpu->usage->kernel == 4000000 &&
		   m->cpu->usage->n_per_cpu == 2 && m->cpu->usage->per_cpu[1] == 730288,
	       "v1: cpu usage, per cpu");
	TAP_OK(m && m->cpu && m->cpu->throttling && m->cpu->throttling->periods == 5 &&
		   m->cpu->throttling->throttled_periods == 2 &&
		   m->cpu->throttling->throttled_time == 9000,
	       "v1: cpu throttling");
	TAP_OK(m && m->memory && m->memory->cache == 4096 && m->memory->rss == 49152 &&
		   m->memory->pg_pg_in == 14 && m->memory->total_pg_maj_fault == 3 &&
		   m->memory->hierarchical_swap_limit == 777,
	       "v1: memory counters (pgpgin as pg_pg_in, memsw as swap)");
	TAP_OK(m && m->memory && m->memory->usage && m->memory->usage->limit == 67108864 &&
		   m->memory->usage->usage == 253952 && m->memory->usage->max == 262144 &&
		   m->memory->usage->failcnt == 1 && m->memory->swap &&
		   m->memory->swap->limit == 134217728 && m->memory->kernel_tcp &&
		   m->memory->kernel_tcp->failcnt == 6 && m->memory->kernel == NULL,
	       "v1: memory entries (kernelTCP as kernel_tcp)");
	cg__v1_metrics__free_unpacked(m, NULL);
	free(buf);
}

static void t_v2(void)
{
	_cleanup_error_ err_t err = NULL;
	uint8_t *buf = NULL;
	const char *url = NULL;
	size_t len = 0;
	Cg__V2Metrics *m;

	TAP_OK(stats_metrics(sample, true, &url, &buf, &len, &err) == 0, "v2: converts");
	TAP_OK(url && strcmp(url, "io.containerd.cgroups.v2.Metrics") == 0, "v2: type URL");
	m = cg__v2_metrics__unpack(NULL, len, buf);
	TAP_OK(m && m->pids && m->pids->current == 3, "v2: pids");
	TAP_OK(m && m->cpu && m->cpu->usage_usec == 7730 && m->cpu->user_usec == 3000 &&
		   m->cpu->system_usec == 4000 && m->cpu->nr_periods == 5 &&
		   m->cpu->nr_throttled == 2 && m->cpu->throttled_usec == 9,
	       "v2: cpu in microseconds");
	TAP_OK(m && m->memory && m->memory->anon == 8192 && m->memory->file == 12288 &&
		   m->memory->usage == 253952 && m->memory->usage_limit == 67108864 &&
		   m->memory->max_usage == 262144 && m->memory->swap_limit == 134217728,
	       "v2: memory");
	cg__v2_metrics__free_unpacked(m, NULL);
	free(buf);
}

static void t_bad(void)
{
	_cleanup_error_ err_t err = NULL;
	uint8_t *buf = NULL;
	const char *url = NULL;
	size_t len = 0;

	TAP_OK(stats_metrics("{\"type\":\"stats\"}", false, &url, &buf, &len, &err) < 0 &&
		   strstr(err_msg(err), "no statistics"),
	       "output without data: a clear error");
	err_free(&err);
	TAP_OK(stats_metrics(NULL, false, &url, &buf, &len, &err) < 0, "no output: an error");
}

int main(void)
{
	t_v1();
	t_v2();
	t_bad();
	return tap_exit();
}
