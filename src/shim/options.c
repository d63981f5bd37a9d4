/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's runtime settings at Create: the node's shim.json, then the
 * request's options (CreateTaskRequest.options: the task's options, else
 * the container's runtime options, as containerd sends them), then the
 * built-in defaults for what is still unset. They are kept in the bundle
 * (rune-shim.json) for `shim delete`, which gets no options.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "options.pb-c.h"
#include "task.pb-c.h"
#include "shim/shim.h"

#define RUNC_OPTIONS	"containerd.runc.v1.Options"
#define RUNTIME_OPTIONS "runtimeoptions.v1.Options"
#define HANDLER_KEY	"io.kubernetes.cri.runtime-handler"
#define SAVED		"rune-shim.json"

/* type_url is name, possibly behind a prefix ("type.googleapis.com/"). */
static bool type_is(const char *url, const char *name)
{
	size_t u = strlen(url), n = strlen(name);

	return u == n ? strcmp(url, name) == 0
		      : u > n && url[u - n - 1] == '/' && strcmp(url + u - n, name) == 0;
}

char *bundle_annotation(const char *bundle, const char *key)
{
	_cleanup_free_ char *path = NULL;
	json_t *root;
	const char *v;
	char *ret = NULL;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return NULL;
	root = json_load_file(path, 0, NULL);
	v = json_string_value(json_object_get(json_object_get(root, "annotations"), key));
	if (v && *v)
		ret = strdup(v);
	json_decref(root);
	return ret;
}

static int runtime_options(const Shim__Any *any, const char *handler, struct settings *st,
			   err_t *err)
{
	Shim__RuntimeOptions *o =
	    shim__runtime_options__unpack(NULL, any->value.len, any->value.data);
	int ret = 0;

	if (o == NULL)
		return err_set(err, EINVAL, "runtime options (%s): bad message", any->type_url);
	if (o->config_path && *o->config_path) {
		if (o->config_path[0] != '/')
			ret = err_set(err, EINVAL,
				      "runtime options: ConfigPath \"%s\" is not an absolute path",
				      o->config_path);
		else
			ret = config_load(o->config_path, false, handler, st, err);
	} else if (o->config_body.len) {
		/* a shim.json, or (containerd 1.7 and later) the handler's options table as TOML */
		size_t i = 0;

		while (i < o->config_body.len && strchr(" \t\r\n", o->config_body.data[i]))
			i++;
		if (i < o->config_body.len && o->config_body.data[i] == '{')
			ret = config_parse((const char *)o->config_body.data, o->config_body.len,
					   "runtime options ConfigBody", handler, st, err);
		else
			ret = config_parse_toml(
			    (const char *)o->config_body.data, o->config_body.len,
			    "runtime options ConfigBody (TOML)", handler, st, err);
	}
	shim__runtime_options__free_unpacked(o, NULL);
	return ret;
}

static int runc_options(const Shim__Any *any, struct settings *st, err_t *err)
{
	Shim__RuncOptions *o = shim__runc_options__unpack(NULL, any->value.len, any->value.data);
	int ret = 0;

	if (o == NULL)
		return err_set(err, EINVAL, "runtime options (%s): bad message", any->type_url);
	if (o->binary_name && *o->binary_name) {
		char *bin = strchr(o->binary_name, '/') ? NULL : path_lookup(o->binary_name);

		if (strchr(o->binary_name, '/') && o->binary_name[0] != '/')
			ret = err_set(err, EINVAL, "BinaryName \"%s\": not an absolute path",
				      o->binary_name);
		else if (!strchr(o->binary_name, '/') && bin == NULL)
			ret = err_set(err, ENOENT, "BinaryName \"%s\": not found on PATH",
				      o->binary_name);
		else {
			free(st->rune);
			st->rune = bin ? bin : strdup(o->binary_name);
			bin = NULL;
		}
		free(bin);
	}
	if (ret == 0 && o->root && *o->root) {
		if (o->root[0] != '/')
			ret = err_set(err, EINVAL, "Root \"%s\": not an absolute path", o->root);
		else {
			free(st->root);
			st->root = strdup(o->root);
		}
	}
	/* (proto3: false cannot be told from unset) */
	if (o->systemd_cgroup)
		st->systemd_cgroup = 1;
	shim__runc_options__free_unpacked(o, NULL);
	return ret;
}

int options_resolve(const char *ns, const char *bundle, const Shim__Any *opts, struct settings *out,
		    err_t *err)
{
	_cleanup_free_ char *handler = bundle ? bundle_annotation(bundle, HANDLER_KEY) : NULL;
	const char *path = config_path();
	struct settings st = { .systemd_cgroup = -1 };
	int ret;

	/* the default file may be missing; one named by the environment may not */
	ret = config_load(path, strcmp(path, SHIM_CONFIG) == 0, handler, &st, err);
	if (ret == 0 && opts && opts->type_url && *opts->type_url) {
		if (type_is(opts->type_url, RUNTIME_OPTIONS))
			ret = runtime_options(opts, handler, &st, err);
		else if (type_is(opts->type_url, RUNC_OPTIONS))
			ret = runc_options(opts, &st, err);
		else
			ret = err_set(err, EINVAL,
				      "runtime options of type %s: not supported (" RUNC_OPTIONS
				      " or " RUNTIME_OPTIONS ")",
				      opts->type_url);
	}
	if (ret == 0 && st.rune == NULL)
		st.rune = rune_find();
	if (ret == 0 && asprintf(&out->root, "%s/%s", st.root ? st.root : SHIM_RUNE_ROOT, ns) < 0)
		ret = err_sys(err, ENOMEM, "root");
	if (ret < 0) {
		settings_free(&st);
		return ret;
	}
	out->rune = st.rune;
	out->systemd_cgroup = st.systemd_cgroup > 0;
	st.rune = NULL;
	for (int i = 0; i < CS_N; i++) {
		out->carrier[i] = st.carrier[i];
		st.carrier[i] = NULL;
	}
	out->cache_entries = st.cache_entries;
	out->cache_mb = st.cache_mb;
	settings_free(&st);
	return 0;
}

int options_save(const char *bundle, const struct settings *st, err_t *err)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	json_t *o = json_pack("{s:s, s:s, s:b}", "rune", st->rune, "root", st->root,
			      "systemd_cgroup", st->systemd_cgroup > 0);
	int ret;

	if (o == NULL || asprintf(&path, "%s/" SAVED, bundle) < 0 ||
	    asprintf(&tmp, "%s.tmp", path) < 0) {
		json_decref(o);
		return err_sys(err, ENOMEM, SAVED);
	}
	ret = json_dump_file(o, tmp, JSON_COMPACT);
	json_decref(o);
	if (ret < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return err_sys(err, errno ? errno : EIO, "write %s", path);
	}
	return 0;
}

int options_saved(const char *bundle, struct settings *st)
{
	_cleanup_free_ char *path = NULL;
	json_t *o;
	const char *rune, *root;

	if (asprintf(&path, "%s/" SAVED, bundle) < 0)
		return -ENOMEM;
	o = json_load_file(path, 0, NULL);
	rune = json_string_value(json_object_get(o, "rune"));
	root = json_string_value(json_object_get(o, "root"));
	if (rune == NULL || root == NULL) {
		json_decref(o);
		return -ENOENT;
	}
	st->rune = strdup(rune);
	st->root = strdup(root);
	st->systemd_cgroup = json_is_true(json_object_get(o, "systemd_cgroup"));
	json_decref(o);
	return st->rune && st->root ? 0 : -ENOMEM;
}
