/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "librune/cgroup.h"
#include "librune/config.h"
#include "librune/enclave.h"
#include "librune/util.h"

const char *rune_status_name(enum rune_status s)
{
	static const char *const names[] = { "creating", "created", "running", "paused",
					     "stopped" };
	return names[s];
}

int rune_id_validate(const char *id, err_t *err)
{
	if (id == NULL || *id == '\0')
		return err_set(err, EINVAL, "container id cannot be empty");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return err_set(err, EINVAL, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_+.-", *p))
			continue;
		return err_set(err, EINVAL, "invalid container id \"%s\"", id);
	}
	return 0;
}

char *rune_state_dir(const char *root, const char *id)
{
	return path_join(root, id);
}

static json_t *namespaces_to_json(unsigned long flags)
{
	json_t *a = json_array();

	for (int k = 0; a && k < RUNE_NS_COUNT; k++)
		if (flags & (unsigned long)rune_ns_clone_flag(k))
			json_array_append_new(a, json_string(rune_ns_name(k)));
	return a;
}

static unsigned long namespaces_from_json(json_t *a)
{
	unsigned long flags = 0;
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) for (int k = 0; k < RUNE_NS_COUNT;
					 k++) if (json_is_string(v) && strcmp(json_string_value(v),
									      rune_ns_name(k)) == 0)
	    flags |= rune_ns_clone_flag(k);
	return flags;
}

static char *dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? strdup(s) : NULL;
}

int rune_state_load(const char *root, const char *id, struct rune_state **out, err_t *err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
	struct rune_state *s;
	json_error_t jerr;
	json_t *j;
	int ret;

	if ((ret = rune_id_validate(id, err)) < 0)
		return ret;
	dir = rune_state_dir(root, id);
	path = path_join(dir, "state.json");
	if (dir == NULL || path == NULL)
		return err_sys(err, ENOMEM, "load state");
	if (access(dir, F_OK) < 0)
		return err_set(err, ENOENT, "container \"%s\" does not exist", id);
	if ((ret = read_file(path, &text, NULL, err)) < 0)
		return err_wrap(err, "container \"%s\"", id);
	j = json_loads(text, 0, &jerr);
	if (j == NULL)
		return err_set(err, EINVAL, "container \"%s\": corrupt state %s: %s", id, path,
			       jerr.text);
	if (json_integer_value(json_object_get(j, "version")) > RUNE_STATE_VERSION) {
		json_decref(j);
		return err_set(err, EINVAL,
			       "container \"%s\": state format %lld is newer than this rune", id,
			       json_integer_value(json_object_get(j, "version")));
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		json_decref(j);
		return err_sys(err, ENOMEM, "load state");
	}
	s->id = strdup(id);
	s->dir = steal_ptr(dir);
	s->oci_version = dup_str(j, "ociVersion");
	s->pid = json_integer_value(json_object_get(j, "pid"));
	s->pid_start_time = json_integer_value(json_object_get(j, "pid_start_time"));
	s->bundle = dup_str(j, "bundle");
	s->rootfs = dup_str(j, "rootfs");
	s->created = dup_str(j, "created");
	s->owner = dup_str(j, "owner");
	s->cgroup_path = dup_str(j, "cgroup_path");
	s->exec_socket = dup_str(j, "exec_socket");
	s->systemd_cgroup = json_is_true(json_object_get(j, "systemd_cgroup"));
	/* States before version 2 don't say: they owned it, as rune then assumed. */
	s->cgroup_owned = !json_is_false(json_object_get(j, "cgroup_owned"));
	s->use_terminal = json_is_true(json_object_get(j, "use_terminal"));
	s->annotations = json_incref(json_object_get(j, "annotations"));
	s->hooks = json_incref(json_object_get(j, "hooks"));
	s->enclave = json_incref(json_object_get(j, "enclave"));
	s->process = json_incref(json_object_get(j, "process"));
	s->seccomp = json_incref(json_object_get(j, "seccomp"));
	s->namespaces = namespaces_from_json(json_object_get(j, "namespaces"));
	json_decref(j);
	*out = s;
	return 0;
}

int rune_state_save(const struct rune_state *s, err_t *err)
{
	_cleanup_free_ char *path = path_join(s->dir, "state.json");
	_cleanup_free_ char *text = NULL;
	json_t *j;
	int ret;

	j = json_pack("{s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:b}", "version",
		      RUNE_STATE_VERSION, "ociVersion", s->oci_version ? s->oci_version : "", "id",
		      s->id, "pid", (json_int_t)s->pid, "pid_start_time",
		      (json_int_t)s->pid_start_time, "bundle", s->bundle ? s->bundle : "", "rootfs",
		      s->rootfs ? s->rootfs : "", "created", s->created ? s->created : "", "owner",
		      s->owner ? s->owner : "", "systemd_cgroup", s->systemd_cgroup, "use_terminal",
		      s->use_terminal);
	if (j == NULL)
		return err_sys(err, ENOMEM, "save state");
	if (s->cgroup_path)
		json_object_set_new(j, "cgroup_path", json_string(s->cgroup_path));
	if (s->exec_socket)
		json_object_set_new(j, "exec_socket", json_string(s->exec_socket));
	if (s->annotations)
		json_object_set(j, "annotations", s->annotations);
	if (s->hooks)
		json_object_set(j, "hooks", s->hooks);
	if (s->enclave)
		json_object_set(j, "enclave", s->enclave);
	if (s->process)
		json_object_set(j, "process", s->process);
	if (s->seccomp)
		json_object_set(j, "seccomp", s->seccomp);
	json_object_set_new(j, "namespaces", namespaces_to_json(s->namespaces));
	json_object_set_new(j, "cgroup_owned", json_boolean(s->cgroup_owned));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return err_sys(err, ENOMEM, "save state");
	ret = write_file_atomic(path, text, strlen(text), 0600, err);
	return ret < 0 ? err_wrap(err, "save state") : 0;
}

void rune_state_free(struct rune_state *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->dir);
	free(s->oci_version);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	free(s->cgroup_path);
	free(s->exec_socket);
	json_decref(s->annotations);
	json_decref(s->hooks);
	json_decref(s->enclave);
	json_decref(s->process);
	json_decref(s->seccomp);
	free(s);
}

static bool cgroup_frozen(const struct rune_state *s)
{
	/* Detected once per process: `list` asks for every container. */
	static struct rune_cgroup_host *host;
	err_t err = NULL;
	bool frozen = false;

	if (s->cgroup_path == NULL)
		return false;
	if (host == NULL && rune_cgroup_host_detect(&host, &err) < 0) {
		err_free(&err);
		return false;
	}
	if (rune_cgroup_is_frozen(host, s->cgroup_path, &frozen, &err) < 0)
		frozen = false;
	err_free(&err);
	return frozen;
}

enum rune_status rune_state_status(const struct rune_state *s)
{
	_cleanup_free_ char *start = path_join(s->dir, RUNE_START_SOCKET);

	if (s->pid <= 0)
		return RUNE_STATUS_CREATING;
	if (!proc_alive(s->pid, s->pid_start_time))
		return RUNE_STATUS_STOPPED;
	/* As runc: a frozen container is paused, a created one too (resume makes it created). */
	if (cgroup_frozen(s))
		return RUNE_STATUS_PAUSED;
	if (start && access(start, F_OK) == 0)
		return RUNE_STATUS_CREATED;
	return RUNE_STATUS_RUNNING;
}

json_t *rune_state_to_oci(const struct rune_state *s, enum rune_status status)
{
	/* runc's key order: ociVersion id pid status bundle rootfs created [annotations] owner */
	json_t *j =
	    json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "ociVersion",
		      s->oci_version ? s->oci_version : "1.0.2", "id", s->id, "pid",
		      (json_int_t)(status == RUNE_STATUS_STOPPED ? 0 : s->pid), "status",
		      rune_status_name(status), "bundle", s->bundle ? s->bundle : "", "rootfs",
		      s->rootfs ? s->rootfs : "", "created", s->created ? s->created : "");

	const char *backend = json_string_value(json_object_get(s->enclave, "backend"));

	if (j && s->annotations && json_object_size(s->annotations))
		json_object_set_new(j, "annotations", json_copy(s->annotations));
	/* Where an enclave container's enclave runs, for tools: "emulator" or "hardware". */
	if (j && backend) {
		json_t *a = json_object_get(j, "annotations");
		if (a == NULL)
			json_object_set_new(j, "annotations", a = json_object());
		json_object_set_new(a, "rune.enclave.backend", json_string(backend));
		rune_enclave_state_annotations(s->enclave,
					       status == RUNE_STATUS_STOPPED ? 0 : s->pid, a);
	}
	/* An enclave container's EPC, in bytes: "epc": {"usage", "limit"} (consumers skip it). */
	if (j && s->enclave)
		json_object_set_new(
		    j, "epc",
		    rune_enclave_epc(s->enclave, status == RUNE_STATUS_STOPPED ? 0 : s->pid));
	if (j)
		json_object_set_new(j, "owner", json_string(s->owner ? s->owner : ""));
	return j;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rune_state_list(const char *root, char ***ids, err_t *err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	char **v = calloc(1, sizeof(char *));

	if (v == NULL)
		return err_sys(err, ENOMEM, "list");
	*ids = v;
	if (d == NULL)
		return errno == ENOENT ? 0 : err_sys(err, errno, "open %s", root);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || rune_id_validate(de->d_name, NULL) < 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (strv_append(ids, de->d_name) < 0) {
			closedir(d);
			return err_sys(err, ENOMEM, "list");
		}
	}
	closedir(d);
	qsort(*ids, strv_len(*ids), sizeof(char *), cmp_str);
	return 0;
}

int rune_state_lock(const char *dir, err_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(err, errno, "open %s", dir);
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return err_sys(err, e, "lock %s", dir);
	}
	return fd;
}
