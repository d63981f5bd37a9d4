/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test-only enclave runtime (PAL API v3) for tests/enclave/test-epc.sh:
 * unlike the skeleton, whose one enclave is made at pal_init, every process
 * it runs may make an enclave of its own, through libsgx as the skeleton
 * does, so a container makes enclaves after create (`rune exec`) and
 * `rune update --epc-limit` can be seen to apply to them. Built by
 * mk/50-enclave-tests.mk into $(BUILD)/tests-pal/libtestpal-epc.so.
 *
 * args: the directory (inside the container) holding the skeleton's
 * encl.elf and encl.ss. pal_init makes the container's first enclave.
 * The workload, by argv after argv[0]:
 *   "enclave"  makes one more enclave, kept until pal_destroy: prints
 *              "enclave made" on stdout, or the loader's error on stderr
 *              and exits 1
 *   "sleep N"  sleeps up to N seconds (a pal_kill ends it, 128+sig)
 *   anything else: exits 0.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rune/pal.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"

#define MAX_PROCS 8
#define MAX_ENCLS 8

struct proc {
	_Atomic int used;
	int pid;
	_Atomic int killed;
	char cmd[16];
	long arg;
	struct pal_stdio_fds stdio;
};

static struct {
	pthread_mutex_t lock;
	struct sgx_image img;
	struct sgx_sigstruct ss;
	struct sgx_encl *encls[MAX_ENCLS];
	int nencls;
	_Atomic int next_pid;
	struct proc procs[MAX_PROCS];
} pal = { .lock = PTHREAD_MUTEX_INITIALIZER };

static err_t ctor_err;

/* Before pivot_root: the emulator's secret is the host's file. */
__attribute__((constructor)) static void pal_ctor(void)
{
	if (access(SGX_DEVICE_PATH, F_OK) != 0)
		sgx_loader_init(&ctor_err);
}

static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) < 0) {
		/* nowhere else to report */
	}
}

/* One more enclave of the image; 0, or a negative errno with the reason on fd. */
static int make_enclave(int fd)
{
	struct sgx_load_opts opts = { 0 };
	struct sgx_encl *e = NULL;
	err_t err = NULL;
	int ret, cls = 0;

	pthread_mutex_lock(&pal.lock);
	if (pal.nencls == MAX_ENCLS) {
		pthread_mutex_unlock(&pal.lock);
		say(fd, "test-epc PAL: too many enclaves");
		return -EAGAIN;
	}
	ret = sgx_encl_load(&e, &pal.img, &pal.ss, &opts, &cls, &err);
	if (ret == 0)
		pal.encls[pal.nencls++] = e;
	pthread_mutex_unlock(&pal.lock);
	if (ret < 0)
		say(fd, "test-epc PAL: make an enclave: %s", err_msg(err));
	err_free(&err);
	return ret;
}

int pal_get_version(void)
{
	return 3;
}

int pal_init(const void *attr)
{
	const pal_attr_v3_t *a = attr;
	struct sgx_layout_opts layout = { 0 };
	char path[PATH_MAX];
	err_t err = NULL;
	int ret;

	if (a == NULL)
		return -EINVAL;
	if (ctor_err) {
		say(2, "test-epc PAL: the emulator: %s", err_msg(ctor_err));
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/encl.ss", a->attr_v1.args ? a->attr_v1.args : ".");
	ret = sgx_sigstruct_load(&pal.ss, path, &err);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/encl.elf",
			 a->attr_v1.args ? a->attr_v1.args : ".");
		ret = sgx_image_from_elf(&pal.img, path, &layout, &err);
	}
	if (ret < 0) {
		say(2, "test-epc PAL: %s", err_msg(err));
		err_free(&err);
		return ret;
	}
	return make_enclave(2);
}

int pal_create_process(struct pal_create_process_args *args)
{
	const char *cmd = args->argv && args->argv[0] && args->argv[1] ? args->argv[1] : "";

	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &pal.procs[i];
		int zero = 0;

		if (!atomic_compare_exchange_strong(&p->used, &zero, 1))
			continue;
		snprintf(p->cmd, sizeof(p->cmd), "%s", cmd);
		p->arg = args->argv[1] && args->argv[2] ? atol(args->argv[2]) : 0;
		p->stdio = args->stdio ? *args->stdio : (struct pal_stdio_fds){ 0, 1, 2 };
		p->pid = atomic_fetch_add(&pal.next_pid, 1) + 1;
		atomic_store(&p->killed, 0);
		*args->pid = p->pid;
		return 0;
	}
	return -EAGAIN;
}

static int run(struct proc *p)
{
	if (strcmp(p->cmd, "enclave") == 0) {
		if (make_enclave(p->stdio.stderr) < 0)
			return 1;
		say(p->stdio.stdout, "enclave made");
		return 0;
	}
	if (strcmp(p->cmd, "sleep") == 0) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		for (long i = 0; i < p->arg * 50; i++) {
			int sig = atomic_load(&p->killed);

			if (sig)
				return 128 + sig;
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

int pal_exec(struct pal_exec_args *args)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &pal.procs[i];

		if (atomic_load(&p->used) != 1 || p->pid != args->pid)
			continue;
		*args->exit_value = run(p);
		atomic_store(&p->used, 0);
		return 0;
	}
	return -ESRCH;
}

int pal_kill(int pid, int sig)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &pal.procs[i];

		if (atomic_load(&p->used) == 1 && (pid <= 0 || p->pid == pid) && sig)
			atomic_store(&p->killed, sig);
	}
	return 0;
}

int pal_destroy(void)
{
	pthread_mutex_lock(&pal.lock);
	while (pal.nencls > 0)
		sgx_encl_destroy(pal.encls[--pal.nencls]);
	sgx_image_free(&pal.img);
	pthread_mutex_unlock(&pal.lock);
	return 0;
}

int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	(void)targetinfo;
	(void)targetinfo_len;
	(void)report;
	(void)report_len;
	return -ENOTSUP; /* not what this PAL is for */
}
