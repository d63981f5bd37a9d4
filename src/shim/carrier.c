/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Carrier's shim side: an enclave container (enclave.type intelSgx,
 * by annotation or ENCLAVE_TYPE in its env) that runs in the LibOS gets
 * its TEE files from `rune-image carrier` (src/teeimage/carrier.c) before
 * rune create. The work (hashing, signing, TLS) happens in that process,
 * as rune's does in rune's: the per-pod shim links neither OpenSSL nor the
 * TEE-image library, and a crash there fails one Create, not the pod.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "task.pb-c.h"
#include "shim/shim.h"

#define CARRIER_TIMEOUT_MS 300000
#define LIBOS_PAL	   "liberpal-libos.so"
#define SANDBOX_TYPE_KEY   "io.kubernetes.cri.container-type"

/* KEY's value: process.env's ENCLAVE_* first (as rune reads them), else the annotation's. */
static const char *enclave_setting(json_t *cfg, const char *env, const char *annotation)
{
	json_t *envs = json_object_get(json_object_get(cfg, "process"), "env"), *v;
	size_t i, n = strlen(env);

	json_array_foreach(envs, i, v)
	{
		const char *s = json_string_value(v);

		if (s && strncmp(s, env, n) == 0 && s[n] == '=')
			return s + n + 1;
	}
	return json_string_value(json_object_get(json_object_get(cfg, "annotations"), annotation));
}

/*
 * A CRI sandbox (the pod's pause container) gets the pod's annotations too,
 * enclave.* included, but runs no workload: it runs as an ordinary
 * container, its enclave settings dropped, rather than cost an enclave.
 */
static int plain_sandbox(json_t *cfg, const char *path, err_t *err)
{
	json_t *ann = json_object_get(cfg, "annotations"), *env, *nenv, *v;
	const char *type = json_string_value(json_object_get(ann, SANDBOX_TYPE_KEY)), *key;
	_cleanup_free_ char *tmp = NULL;
	void *iter;
	size_t i;

	if (!type || strcmp(type, "sandbox"))
		return 0;
	for (iter = json_object_iter(ann); iter;) {
		key = json_object_iter_key(iter);
		iter = json_object_iter_next(ann, iter);
		if (strncmp(key, "enclave.", 8) == 0)
			json_object_del(ann, key);
	}
	env = json_object_get(json_object_get(cfg, "process"), "env");
	nenv = json_array();
	json_array_foreach(env, i, v)
	{
		if (!json_is_string(v) || strncmp(json_string_value(v), "ENCLAVE_", 8))
			json_array_append(nenv, v);
	}
	if (json_is_object(json_object_get(cfg, "process")))
		json_object_set_new(json_object_get(cfg, "process"), "env", nenv);
	else
		json_decref(nenv);
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return err_sys(err, ENOMEM, "carrier");
	if (json_dump_file(cfg, tmp, JSON_COMPACT) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return err_set(err, EIO, "carrier: write %s", path);
	}
	return 1;
}

/* 1: the container asks for an SGX enclave run by the LibOS (no other enclave runtime named). */
static int wants_libos(const char *bundle, err_t *err)
{
	_cleanup_free_ char *path = NULL;
	const char *type, *pal;
	json_error_t jerr;
	json_t *cfg;
	int ret;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return err_sys(err, ENOMEM, "carrier");
	cfg = json_load_file(path, 0, &jerr);
	if (cfg == NULL)
		return err_set(err, EINVAL, "carrier: %s: %s", path, jerr.text);
	type = enclave_setting(cfg, "ENCLAVE_TYPE", "enclave.type");
	pal = enclave_setting(cfg, "ENCLAVE_RUNTIME_PATH", "enclave.runtime.path");
	ret = type && strcmp(type, "intelSgx") == 0 &&
	      (!pal || !*pal ||
	       strcmp(strrchr(pal, '/') ? strrchr(pal, '/') + 1 : pal, LIBOS_PAL) == 0);
	if (ret) {
		int sandbox = plain_sandbox(cfg, path, err);

		ret = sandbox < 0 ? sandbox : !sandbox;
	}
	json_decref(cfg);
	return ret;
}

/* The method: as configured, else that of what is configured (a server, a key), else client. */
static int sign_flags(const struct settings *st, const char **argv, size_t *n, err_t *err)
{
	const char *const *c = (const char *const *)st->carrier;
	const char *m = c[CS_METHOD] ? c[CS_METHOD]
			: c[CS_URL]  ? "server"
			: c[CS_KEY]  ? "local-key"
				     : "client";
	static const struct {
		int key;
		const char *flag;
	} server[] = { { CS_TOKEN, "--token-file" },
		       { CS_CACERT, "--cacert" },
		       { CS_CERT, "--client-cert" },
		       { CS_CLIENT_KEY, "--client-key" } };

	if (strcmp(m, "client") == 0) {
		argv[(*n)++] = "--client";
	} else if (strcmp(m, "local-key") == 0) {
		if (!c[CS_KEY])
			return err_set(err, EINVAL,
				       "carrier: signature_method local-key: no signing_key in "
				       "shim.json");
		argv[(*n)++] = "--key";
		argv[(*n)++] = c[CS_KEY];
	} else {
		if (!c[CS_URL])
			return err_set(err, EINVAL,
				       "carrier: signature_method server: no signature_server.url "
				       "in shim.json");
		argv[(*n)++] = "--sign-server";
		argv[(*n)++] = c[CS_URL];
		for (size_t i = 0; i < ARRAY_SIZE(server); i++)
			if (c[server[i].key]) {
				argv[(*n)++] = server[i].flag;
				argv[(*n)++] = c[server[i].key];
			}
	}
	return 0;
}

/* The lowerdir= values of the overlay mounts, ':'-separated: one string (freed by the caller). */
static char *lowerdirs(const Shim__CreateTaskRequest *r, size_t *count)
{
	char *all = NULL;

	*count = 0;
	for (size_t i = 0; i < r->n_rootfs; i++)
		for (size_t k = 0; k < r->rootfs[i]->n_options; k++) {
			const char *o = r->rootfs[i]->options[k];
			char *next;

			if (strncmp(o, "lowerdir=", 9) || !o[9])
				continue;
			if (asprintf(&next, "%s%s%s", all ? all : "", all ? ":" : "", o + 9) < 0) {
				free(all);
				return NULL;
			}
			free(all);
			all = next;
		}
	for (const char *p = all; p && *p; p++)
		*count += *p == ':';
	*count += all != NULL;
	return all ? all : strdup("");
}

int carrier_prepare(const struct container *ct, const Shim__CreateTaskRequest *r, err_t *err)
{
	_cleanup_free_ char *tool = NULL, *out = NULL, *entries = NULL, *size = NULL;
	_cleanup_free_ char *layers = NULL;
	_cleanup_free_ const char **argv = NULL;
	size_t n = 0, nl = 0;
	struct timespec t0, t1;
	char *save = NULL;
	int ret = wants_libos(ct->bundle, err);

	if (ret <= 0)
		return ret;
	/* the committed layers: the overlay's lowerdirs (containerd's snapshot chain) */
	layers = lowerdirs(r, &nl);
	argv = calloc(32 + 2 * nl, sizeof(*argv));
	tool = sibling_find("rune-image");
	if (!argv || !layers || !tool)
		return err_sys(err, ENOMEM, "carrier");
	argv[n++] = tool;
	argv[n++] = "carrier";
	argv[n++] = "--bundle";
	argv[n++] = ct->bundle;
	ret = sign_flags(&ct->rt, argv, &n, err);
	if (ret < 0)
		return ret;
	if (ct->rt.carrier[CS_CACHE]) {
		argv[n++] = "--cache";
		argv[n++] = ct->rt.carrier[CS_CACHE];
	}
	if (ct->rt.cache_entries > 0 && asprintf(&entries, "%ld", ct->rt.cache_entries) > 0) {
		argv[n++] = "--cache-entries";
		argv[n++] = entries;
	}
	if (ct->rt.cache_mb > 0 && asprintf(&size, "%ldM", ct->rt.cache_mb) > 0) {
		argv[n++] = "--cache-size";
		argv[n++] = size;
	}
	for (char *p = strtok_r(layers, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		argv[n++] = "--layer";
		argv[n++] = p;
	}
	argv[n] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = helper_run(argv, CARRIER_TIMEOUT_MS, &out, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret < 0) {
		const char *msg = err_msg(*err),
			   *p = strncmp(msg, "rune-image: ", 12) ? msg : msg + 12;
		_cleanup_free_ char *m = strdup(p);

		err_free(err);
		return err_set(err, EIO, "carrier: %s", m ? m : "failed");
	}
	if (out)
		out[strcspn(out, "\n")] = '\0';
	shim_log("container %s: carrier: %s (%ld ms)", ct->id, out ? out : "",
		 (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}
