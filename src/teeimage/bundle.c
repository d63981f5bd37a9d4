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

int tee_parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || n > (UINT64_MAX >> shift))
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

#define ANN_MAX_PATHS 256

/* "/a,/b": absolute paths, none empty, no "." or ".." component. */
static int ann_paths(const char *key, const char *val, char ***out, err_t *err)
{
	_cleanup_free_ char *copy = strdup(val);
	_cleanup_strv_ char **v = NULL;
	char *save = NULL, *p;
	size_t n = 0;

	if (!copy || !(v = calloc(ANN_MAX_PATHS + 1, sizeof(*v))))
		return err_set(err, ENOMEM, "annotation %s", key);
	for (p = copy;; p = NULL) {
		char *path = strtok_r(p, ",", &save), *c, *csave = NULL;
		_cleanup_free_ char *walk = NULL;

		if (!path)
			break;
		if (path[0] != '/')
			return err_set(err, EINVAL,
				       "annotation %s \"%s\": %s is not an absolute path", key, val,
				       path);
		if (strlen(path) >= PATH_MAX)
			return err_set(err, EINVAL, "annotation %s: a path longer than %d bytes",
				       key, PATH_MAX - 1);
		if (!(walk = strdup(path)))
			return err_set(err, ENOMEM, "annotation %s", key);
		for (c = strtok_r(walk, "/", &csave); c; c = strtok_r(NULL, "/", &csave))
			if (!strcmp(c, ".") || !strcmp(c, ".."))
				return err_set(err, EINVAL,
					       "annotation %s \"%s\": %s: no \".\" or \"..\" "
					       "in a path",
					       key, val, path);
		if (n == ANN_MAX_PATHS)
			return err_set(err, E2BIG, "annotation %s: more than %d paths", key,
				       ANN_MAX_PATHS);
		if (!(v[n++] = strdup(path)))
			return err_set(err, ENOMEM, "annotation %s", key);
	}
	/* "", ",", "/a,,/b": a list with a hole is a mistake, not fewer paths */
	if (!n || strstr(val, ",,") || val[0] == ',' || val[strlen(val) - 1] == ',')
		return err_set(err, EINVAL, "annotation %s \"%s\": an empty path", key, val);
	*out = steal_ptr(v);
	return 0;
}

/* KEY's value, or NULL. Errors quote values: one with a control character (a second line) is refused. */
static int ann_value(json_t *ann, const char *key, const char **out, err_t *err)
{
	const char *v = json_string_value(json_object_get(ann, key));

	for (const char *c = v; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return err_set(err, EINVAL,
				       "annotation %s: a control character in the value", key);
	*out = v;
	return 0;
}

int tee_bundle_libos_opts(const char *bundle, struct tee_libos_opts *o, err_t *err)
{
	char path[PATH_MAX];
	json_t *cfg = load_config(bundle, path, sizeof(path), err), *ann;
	const char *heap, *threads, *trusted, *allowed;
	uint64_t v;
	char *end;
	int ret;

	memset(o, 0, sizeof(*o));
	if (!cfg)
		return -EINVAL;
	ann = json_object_get(cfg, "annotations");
	if ((ret = ann_value(ann, TEE_ANN_HEAP, &heap, err)) < 0 ||
	    (ret = ann_value(ann, TEE_ANN_THREADS, &threads, err)) < 0 ||
	    (ret = ann_value(ann, TEE_ANN_TRUSTED, &trusted, err)) < 0 ||
	    (ret = ann_value(ann, TEE_ANN_ALLOWED, &allowed, err)) < 0)
		goto out;
	if (heap && tee_parse_size(heap, &v) < 0) {
		ret = err_set(err, EINVAL,
			      "annotation " TEE_ANN_HEAP " \"%s\": not a size (bytes, or a number "
			      "with K, M or G)",
			      heap);
		goto out;
	}
	if (heap && (v < TEE_HEAP_MIN || v > TEE_HEAP_MAX)) {
		ret =
		    err_set(err, EINVAL, "annotation " TEE_ANN_HEAP " \"%s\": from 1M to 3G", heap);
		goto out;
	}
	o->heap = heap ? v : 0;
	if (threads) {
		errno = 0;
		v = strtoull(threads, &end, 10);
		if (threads[0] < '0' || threads[0] > '9' || errno || *end || v < 1 ||
		    v > TEE_THREADS_MAX) {
			ret = err_set(err, EINVAL,
				      "annotation " TEE_ANN_THREADS
				      " \"%s\": not a number from 1 to %u",
				      threads, TEE_THREADS_MAX);
			goto out;
		}
		o->threads = (unsigned)v;
	}
	if (trusted && (ret = ann_paths(TEE_ANN_TRUSTED, trusted, &o->trusted, err)) < 0)
		goto out;
	if (allowed)
		ret = ann_paths(TEE_ANN_ALLOWED, allowed, &o->allowed, err);
out:
	json_decref(cfg);
	if (ret < 0)
		tee_libos_opts_free(o);
	return ret;
}

void tee_libos_opts_free(struct tee_libos_opts *o)
{
	cleanup_strvp(&o->trusted);
	cleanup_strvp(&o->allowed);
	o->trusted = o->allowed = NULL;
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
