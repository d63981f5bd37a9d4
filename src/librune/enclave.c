/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/enclave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rune_enclave {
	char *type;
};

static const char *config_value(const struct rune_config *cfg, const char *env_key,
				const char *annotation)
{
	size_t n = strlen(env_key);

	for (char **e = cfg->process.env; e && *e; e++)
		if (strncmp(*e, env_key, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return json_string_value(json_object_get(cfg->annotations, annotation));
}

int rune_enclave_from_config(const struct rune_ctx *ctx, struct rune_config *cfg,
			     struct rune_enclave **out, err_t *err)
{
	const char *type = config_value(cfg, "ENCLAVE_TYPE", "enclave.type");

	(void)ctx;
	*out = NULL;
	if (type == NULL || *type == '\0')
		return 0;
	return err_set(err, ENOTSUP, "enclave containers (ENCLAVE_TYPE=%s) are not supported yet",
		       type);
}

void rune_enclave_add_devices(struct rune_enclave *e, struct rune_config *cfg)
{
	(void)e;
	(void)cfg;
}

int rune_enclave_load(struct rune_enclave *e, err_t *err)
{
	(void)e;
	return err_set(err, ENOTSUP, "enclave containers are not supported yet");
}

int rune_enclave_init(struct rune_enclave *e, err_t *err)
{
	(void)e;
	return err_set(err, ENOTSUP, "enclave containers are not supported yet");
}

int rune_enclave_run(struct rune_enclave *e, const struct rune_process *p, int sync_fd)
{
	(void)e;
	(void)p;
	(void)sync_fd;
	return 127;
}

json_t *rune_enclave_state(const struct rune_enclave *e)
{
	(void)e;
	return NULL;
}

char *rune_enclave_socket_path(const struct rune_enclave *e)
{
	(void)e;
	return NULL;
}

void rune_enclave_free(struct rune_enclave *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e);
}

int rune_enclave_forward_kill(const struct rune_state *s, int sig)
{
	(void)s;
	(void)sig;
	return -ENOTSUP;
}

int rune_enclave_exec(const struct rune_ctx *ctx, const struct rune_state *s,
		      const struct rune_exec_opts *o, int *exit_status, err_t *err)
{
	(void)ctx;
	(void)s;
	(void)o;
	(void)exit_status;
	return err_set(err, ENOTSUP, "exec into enclave containers is not supported yet");
}
