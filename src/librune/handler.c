/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/handler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/enclave.h"
#include "librune/linux.h"
#include "librune/util.h"

int rune_handler_select(const struct rune_ctx *ctx, struct rune_config *cfg,
			struct rune_handler *out, err_t *err)
{
	struct rune_enclave *e = NULL;
	int ret = rune_enclave_from_config(ctx, cfg, &e, err);

	if (ret < 0)
		return ret;
	*out =
	    (struct rune_handler){ .ops = e ? &rune_handler_pal : &rune_handler_execve, .data = e };
	return 0;
}

const struct rune_handler_ops *rune_handler_of_state(const struct rune_state *s)
{
	return s->enclave ? &rune_handler_pal : &rune_handler_execve;
}

void rune_handler_free(struct rune_handler *h)
{
	if (h->ops && h->ops->free)
		h->ops->free(h);
	h->data = NULL;
}

/* ---- execve: the ordinary container ---- */

static int execve_locate(struct rune_handler *h, const struct rune_process *p, err_t *err)
{
	(void)err;
	/* As root first (runc looks up before the identity change), as the user after. */
	h->data = rune_process_lookup(p, p->args[0]);
	return 0;
}

static int execve_configure(struct rune_handler *h, const struct rune_process *p, err_t *err)
{
	if (h->data == NULL && (h->data = rune_process_lookup(p, p->args[0])) == NULL)
		return err_set(err, ENOENT, "exec \"%s\": executable file not found in $PATH",
			       p->args[0]);
	return rune_process_check_exe(h->data, err);
}

static int execve_run(struct rune_handler *h, const struct rune_process *p, int sync_fd,
		      int preserve_fds, int *exit_code, err_t *err)
{
	const char *exe = h->data;

	(void)exit_code;
	(void)sync_fd; /* close-on-exec: `start` reads EOF once execve succeeds */
	/* Nothing but stdio and the preserved fds reaches the workload. */
	cloexec_fds_from(3 + preserve_fds);
	reset_signals_for_workload();
	execve(exe, p->args, p->env ? p->env : (char *[]){ NULL });
	return rune_exec_error(exe, errno, err);
}

static void execve_free(struct rune_handler *h)
{
	free(h->data);
}

const struct rune_handler_ops rune_handler_execve = {
	.name = "execve",
	.locate = execve_locate,
	.configure = execve_configure,
	.run = execve_run,
	.free = execve_free,
};

/* ---- pal: init-runelet hosts an enclave runtime ---- */

static int pal_attach(struct rune_handler *h, struct rune_config *cfg, const char *state_dir,
		      err_t *err)
{
	(void)err;
	rune_enclave_set_state_dir(h->data, state_dir);
	rune_enclave_add_devices(h->data, cfg);
	return 0;
}

static void pal_save_state(struct rune_handler *h, struct rune_state *st)
{
	st->enclave = rune_enclave_state(h->data);
	st->exec_socket = rune_enclave_socket_path(h->data);
}

static int pal_prepare(struct rune_handler *h, err_t *err)
{
	return rune_enclave_bind(h->data, err);
}

static int pal_load(struct rune_handler *h, err_t *err)
{
	return rune_enclave_load(h->data, err);
}

static int pal_configure(struct rune_handler *h, const struct rune_process *p, err_t *err)
{
	(void)p;
	return rune_enclave_init(h->data, err);
}

/*
 * Which backend the PAL's enclave runs on, told from what init-runelet has
 * mapped: SGX hardware maps the enclave from /dev/sgx_enclave, the emulator
 * never does. rune keeps it in the state ("rune.enclave.backend").
 */
enum { BACKEND_UNKNOWN, BACKEND_EMULATOR, BACKEND_HARDWARE };

static int64_t pal_ready_value(struct rune_handler *h)
{
	_cleanup_free_ char *maps = NULL;
	err_t err = NULL;

	(void)h;
	if (read_file("/proc/self/maps", &maps, NULL, &err) < 0) {
		err_free(&err);
		return BACKEND_UNKNOWN;
	}
	return strstr(maps, "/dev/sgx_enclave") ? BACKEND_HARDWARE : BACKEND_EMULATOR;
}

static void pal_ready(struct rune_handler *h, int64_t value, struct rune_state *st)
{
	(void)h;
	if (st->enclave && value != BACKEND_UNKNOWN)
		json_object_set_new(
		    st->enclave, "backend",
		    json_string(value == BACKEND_HARDWARE ? "hardware" : "emulator"));
}

static int pal_run(struct rune_handler *h, const struct rune_process *p, int sync_fd,
		   int preserve_fds, int *exit_code, err_t *err)
{
	(void)preserve_fds;
	(void)err;
	/*
	 * init-runelet never execs: without this, ps, `docker top` and `rune ps`
	 * would show rune's own command line (host paths of the state, the log and
	 * the bundle) as the container's process 1 instead of its workload.
	 */
	proc_set_cmdline(p->args);
	*exit_code = rune_enclave_run(h->data, p, sync_fd);
	return 0;
}

static void pal_free(struct rune_handler *h)
{
	rune_enclave_free(h->data);
}

const struct rune_handler_ops rune_handler_pal = {
	.name = "pal",
	.confine_before_configure = true,
	.attach = pal_attach,
	.save_state = pal_save_state,
	.prepare = pal_prepare,
	.load = pal_load,
	.configure = pal_configure,
	.ready_value = pal_ready_value,
	.ready = pal_ready,
	.run = pal_run,
	.exec_into = rune_enclave_exec,
	.free = pal_free,
	.gone = rune_enclave_gone,
};
