// SPDX-License-Identifier: Apache-2.0
/*
 * A tiny PAL host for tests: dlopens a PAL as rune's init-runelet would and
 * runs one workload through it.
 *   pal-host [--args S] [--kill-after SECS SIG] [--report] [--concurrent N]
 *            [--env K=V]... [--log-level L] PAL.so [ARGV...]
 * Exits with the workload's exit value; 125 if a PAL call fails. --report
 * (v3) prints the local report's mrenclave/mrsigner instead of running;
 * --concurrent (v2+) runs N processes at once (as `rune exec` does) and
 * exits with the largest exit value.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rune/pal.h"

struct killer {
	pal_kill_fn kill;
	double after;
	int sig;
	int pid;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep((useconds_t)(k->after * 1e6));
	k->kill(k->pid, k->sig);
	return NULL;
}

struct job {
	pal_exec_fn exec;
	int pid, exit_value, ret;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct pal_exec_args ea = { .pid = j->pid, .exit_value = &j->exit_value };

	j->ret = j->exec(&ea);
	return NULL;
}

static void *sym(void *h, const char *name, int required)
{
	void *p = dlsym(h, name);

	if (!p && required) {
		fprintf(stderr, "pal-host: the PAL has no %s\n", name);
		exit(125);
	}
	return p;
}

static void hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *args = "", *pal_path;
	struct killer k = { 0 };
	int report = 0, i = 1, version = 1, ret, exit_value = -1, concurrent = 0;
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	pal_attr_v3_t attr = { .attr_v1 = { .log_level = "warning" }, .fd = -1, .addr = 0 };
	pal_get_version_fn get_version;
	pal_init_fn init;
	pal_destroy_fn destroy;
	pthread_t th;
	void *h;
	static const char *env[256];
	int nenv = 0;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--args") && i + 1 < argc)
			args = argv[++i];
		else if (!strcmp(argv[i], "--kill-after") && i + 2 < argc) {
			k.after = atof(argv[++i]);
			k.sig = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--report")) {
			report = 1;
		} else if (!strcmp(argv[i], "--concurrent") && i + 1 < argc) {
			concurrent = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--env") && i + 1 < argc && nenv < 255) {
			env[nenv++] = argv[++i];
		} else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
			attr.attr_v1.log_level = argv[++i];
		} else {
			fprintf(stderr, "pal-host: unknown option %s\n", argv[i]);
			return 125;
		}
	}
	if (i + 1 >= argc && !report) {
		fprintf(stderr, "usage: pal-host [options] PAL.so [ARGV...]\n");
		return 125;
	}
	pal_path = argv[i++];
	h = dlopen(pal_path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "pal-host: %s\n", dlerror());
		return 125;
	}
	get_version = (pal_get_version_fn)sym(h, "pal_get_version", 0);
	init = (pal_init_fn)sym(h, "pal_init", 1);
	destroy = (pal_destroy_fn)sym(h, "pal_destroy", 1);
	if (get_version)
		version = get_version();
	attr.attr_v1.args = args;
	ret = init(&attr);
	if (ret < 0) {
		fprintf(stderr, "pal-host: pal_init: %s\n", strerror(-ret));
		return 125;
	}
	if (report) {
		pal_get_local_report_fn get_report;
		unsigned char ti[512] = { 0 }, rep[432] = { 0 };
		int len = sizeof(rep);

		get_report = (pal_get_local_report_fn)sym(h, "pal_get_local_report", 1);
		ret = get_report(ti, sizeof(ti), rep, &len);
		if (ret < 0 || len != 432) {
			fprintf(stderr, "pal-host: pal_get_local_report: %s\n", strerror(-ret));
			return 125;
		}
		printf("mrenclave: ");
		hex(rep + 64, 32);
		printf("mrsigner: ");
		hex(rep + 128, 32);
		exit_value = 0;
	} else if (concurrent > 0 && version >= 2) {
		pal_create_process_fn create =
		    (pal_create_process_fn)sym(h, "pal_create_process", 1);
		struct job jobs[16];
		pthread_t ths[16];

		if (concurrent > 16)
			concurrent = 16;
		for (int n = 0; n < concurrent; n++) {
			struct pal_create_process_args ca = { .path = "/bin/skeleton",
							      .argv = (const char **)argv + i,
							      .env = env,
							      .stdio = &stdio,
							      .pid = &jobs[n].pid };

			jobs[n].exec = (pal_exec_fn)sym(h, "pal_exec", 1);
			if (create(&ca) < 0) {
				fprintf(stderr, "pal-host: pal_create_process failed\n");
				return 125;
			}
		}
		for (int n = 0; n < concurrent; n++)
			pthread_create(&ths[n], NULL, run_job, &jobs[n]);
		ret = 0;
		for (int n = 0; n < concurrent; n++) {
			pthread_join(ths[n], NULL);
			if (jobs[n].ret < 0)
				ret = jobs[n].ret;
			else if (jobs[n].exit_value > exit_value)
				exit_value = jobs[n].exit_value;
		}
	} else if (version == 1) {
		pal_exec_v1_fn exec = (pal_exec_v1_fn)sym(h, "pal_exec", 1);

		ret = exec(argv[i], argv + i, &stdio, &exit_value);
	} else {
		pal_create_process_fn create =
		    (pal_create_process_fn)sym(h, "pal_create_process", 1);
		pal_exec_fn exec = (pal_exec_fn)sym(h, "pal_exec", 1);
		struct pal_create_process_args ca = { .path = "/bin/skeleton",
						      .argv = (const char **)argv + i,
						      .env = env,
						      .stdio = &stdio,
						      .pid = &k.pid };
		struct pal_exec_args ea = { .exit_value = &exit_value };

		ret = create(&ca);
		if (ret < 0) {
			fprintf(stderr, "pal-host: pal_create_process: %s\n", strerror(-ret));
			return 125;
		}
		if (k.sig) {
			k.kill = (pal_kill_fn)sym(h, "pal_kill", 1);
			pthread_create(&th, NULL, kill_later, &k);
		}
		ea.pid = k.pid;
		ret = exec(&ea);
		if (k.sig)
			pthread_join(th, NULL);
	}
	if (ret < 0) {
		fprintf(stderr, "pal-host: pal_exec: %s\n", strerror(-ret));
		return 125;
	}
	ret = destroy();
	if (ret < 0) {
		fprintf(stderr, "pal-host: pal_destroy: %s\n", strerror(-ret));
		return 125;
	}
	dlclose(h);
	return exit_value;
}
