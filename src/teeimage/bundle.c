// SPDX-License-Identifier: Apache-2.0
/*
 * OCI bundles as rune-image and the shim's Carrier meet them: the rootfs
 * and entrypoint read from config.json, and the ENCLAVE_* settings (and
 * the TEE files' bind mount) written back; plus where this installation
 * keeps the unsigned LibOS enclave.
 */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "teeimage/enclave_json.h"
#include "teeimage/teeimage.h"

char *tee_libos_default(void)
{
	static const char *const rels[] = { "../share/libos/libos.elf",
					    "../share/rune/libos/libos.elf" };
	char exe[PATH_MAX], *dir, path[PATH_MAX * 2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	dir = dirname(exe);
	for (size_t i = 0; i < ARRAY_SIZE(rels); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rels[i]);
		if (access(path, R_OK) == 0)
			return realpath(path, NULL);
	}
	return NULL;
}

static json_t *load_config(const char *bundle, char *path, size_t n, err_t *err)
{
	json_error_t jerr;
	json_t *cfg;

	snprintf(path, n, "%s/config.json", bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		err_set(err, EINVAL, "%s: %s", path, jerr.text);
	else if (!json_is_object(json_object_get(cfg, "process"))) {
		json_decref(cfg);
		cfg = NULL;
		err_set(err, EINVAL, "%s: no process object", path);
	}
	return cfg;
}

int tee_bundle_read(const char *bundle, char **rootfs, char ***argv, err_t *err)
{
	char path[PATH_MAX];
	json_t *cfg, *root, *args;
	const char *rp;

	cfg = load_config(bundle, path, sizeof(path), err);
	if (!cfg)
		return -EINVAL;
	root = json_object_get(json_object_get(cfg, "root"), "path");
	rp = json_is_string(root) ? json_string_value(root) : "rootfs";
	if (rp[0] == '/')
		*rootfs = strdup(rp);
	else if (asprintf(rootfs, "%s/%s", bundle, rp) < 0)
		*rootfs = NULL;
	args = json_object_get(json_object_get(cfg, "process"), "args");
	if (!*argv && json_is_array(args) && json_array_size(args) > 0) {
		size_t n = json_array_size(args);

		*argv = calloc(n + 1, sizeof(char *));
		for (size_t i = 0; *argv && i < n; i++)
			(*argv)[i] = strdup(json_string_value(json_array_get(args, i)) ?: "");
	}
	json_decref(cfg);
	return *rootfs ? 0 : err_set(err, ENOMEM, "rootfs path");
}

/* The bind mount of the TEE files at /.rune, read-only, replacing any earlier one. */
static void set_tee_mount(json_t *cfg, const char *tee_src)
{
	json_t *mounts = json_object_get(cfg, "mounts"), *m;
	size_t i;

	if (!json_is_array(mounts)) {
		mounts = json_array();
		json_object_set_new(cfg, "mounts", mounts);
	}
	for (i = 0; i < json_array_size(mounts);) {
		const char *d =
		    json_string_value(json_object_get(json_array_get(mounts, i), "destination"));

		if (d && !strcmp(d, "/" TEE_DIR))
			json_array_remove(mounts, i);
		else
			i++;
	}
	m = json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", "/" TEE_DIR, "type", "bind",
		      "source", tee_src, "options", "rbind", "ro", "nosuid", "nodev", "noexec");
	json_array_append_new(mounts, m);
}

json_t *tee_enclave_env(json_t *env, const char *pal)
{
	json_t *nenv = json_array(), *v;
	char *path = NULL;
	size_t i;

	json_array_foreach(env, i, v)
	{
		if (json_is_string(v) && strncmp(json_string_value(v), "ENCLAVE_", 8))
			json_array_append(nenv, v);
	}
	json_array_append_new(nenv, json_string("ENCLAVE_TYPE=intelSgx"));
	if (asprintf(&path, "ENCLAVE_RUNTIME_PATH=%s", pal) >= 0)
		json_array_append_new(nenv, json_string(path));
	free(path);
	json_array_append_new(nenv, json_string("ENCLAVE_RUNTIME_ARGS=root=/"));
	return nenv;
}

json_t *tee_json_argv(const char *const *argv)
{
	json_t *args = json_array();

	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	return args;
}

int tee_bundle_enclave(const char *bundle, const char *pal, const char *const *argv,
		       const char *tee_src, err_t *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	json_t *cfg, *proc;

	cfg = load_config(bundle, path, sizeof(path), err);
	if (!cfg)
		return -EINVAL;
	proc = json_object_get(cfg, "process");
	json_object_set_new(proc, "env", tee_enclave_env(json_object_get(proc, "env"), pal));
	json_object_set_new(proc, "args", tee_json_argv(argv));
	if (tee_src)
		set_tee_mount(cfg, tee_src);
	/* written aside and renamed: a failure leaves the bundle as it was */
	snprintf(tmp, sizeof(tmp), "%s.tee", path);
	if (json_dump_file(cfg, tmp, JSON_INDENT(2)) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		json_decref(cfg);
		return err_set(err, EIO, "write %s", path);
	}
	json_decref(cfg);
	return 0;
}
