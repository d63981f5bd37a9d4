/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune as a host of enclave runtimes (Enclave Runtime PAL API v1-v3).
 *
 * The container's init becomes init-runelet: it dlopens the PAL by its host
 * path before pivot_root, calls pal_init at create (inside the rootfs, with
 * the workload's identity already applied), and at start runs the workload
 * in the enclave: pal_exec (v1) or pal_create_process + pal_exec (v2, v3).
 * While the workload runs, a control thread serves signals (forwarded with
 * pal_kill) and requests from `rune exec` and `rune attest` over a unix
 * socket in the state directory (SOCK_SEQPACKET, one JSON object a message,
 * stdio fds passed with SCM_RIGHTS).
 */
#include "librune/enclave.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "librune/cgroup.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/log.h"
#include "librune/sync.h"
#include "librune/util.h"
#include "rune/pal.h"

#ifndef RUNE_PAL_DIR
#define RUNE_PAL_DIR "/usr/local/lib/rune/pal"
#endif
#define RUNE_CONFIG_FILE "/etc/rune/config.json"
#define SOCKET_NAME	 "runelet.sock"
#define MSG_MAX		 65536

struct pal_ops {
	int version;
	pal_init_fn init;
	pal_exec_v1_fn exec_v1;
	pal_create_process_fn create_process;
	pal_exec_fn exec;
	pal_kill_fn kill;
	pal_destroy_fn destroy;
	pal_get_local_report_fn get_local_report;
};

struct rune_enclave {
	char *type;
	char *runtime_path; /* where the PAL is (its real path), inside an allowed PAL directory */
	int pal_fd;	    /* O_PATH: the PAL as checked, until the init loads it */
	char *args;	    /* commas already turned into spaces */
	char *log_level;
	char *socket_path;
	uint64_t max_enclave_size; /* from the config file; 0: libsgx's default */
	void *handle;
	struct pal_ops ops;
	int listen_fd;
	int workload_pid; /* the PAL's pid of the main workload (v2+) */
	/* Occlum's conventions (-1 + errno, wait statuses), told by its occlum_pal_* exports. */
	bool occlum;
	/* pal_destroy runs once: by the main thread, or by a v1 terminating signal. */
	pthread_mutex_t destroy_lock;
	bool destroyed;
};

static const char *const log_levels[] = { "trace", "debug", "info",  "warning",
					  "error", "fatal", "panic", "off" };

/* ---- configuration ---- */

/* Takes KEY from process.env (removing it: the workload must not see it) or the annotation. */
static char *take_value(struct rune_config *cfg, const char *env_key, const char *annotation)
{
	size_t n = strlen(env_key);
	char *found = NULL;
	char **e, **w;

	for (e = w = cfg->process.env; e && *e; e++) {
		if (strncmp(*e, env_key, n) == 0 && (*e)[n] == '=') {
			free(found);
			found = strdup(*e + n + 1);
			free(*e);
			continue;
		}
		*w++ = *e;
	}
	if (w)
		*w = NULL;
	if (found)
		return found;
	const char *a = json_string_value(json_object_get(cfg->annotations, annotation));
	return a ? strdup(a) : NULL;
}

/*
 * /etc/rune/config.json: opened once, then checked (a regular file, root's,
 * writable by nobody else) and read through that same fd.
 */
static int load_config_file(json_t **out, err_t *err)
{
	_cleanup_close_ int fd = -1;
	json_error_t jerr;
	struct stat st;

	*out = NULL;
	fd = open(RUNE_CONFIG_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_sys(err, errno, "%s", RUNE_CONFIG_FILE);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "%s", RUNE_CONFIG_FILE);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", RUNE_CONFIG_FILE);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return err_set(err, EPERM, "%s must be owned by root and not writable by others",
			       RUNE_CONFIG_FILE);
	*out = json_loadfd(fd, 0, &jerr);
	if (*out == NULL)
		return err_set(err, EINVAL, "%s: not valid JSON: %s (line %d)", RUNE_CONFIG_FILE,
			       jerr.text, jerr.line);
	return 0;
}

/*
 * "max_enclave_size" (bytes) in the config file: the largest enclave a PAL
 * may build from an image (libsgx takes it from init-runelet's environment;
 * 0: libsgx's default, 8 GiB).
 */
static int read_max_enclave_size(uint64_t *out, err_t *err)
{
	json_t *j, *v;
	int ret;

	*out = 0;
	if ((ret = load_config_file(&j, err)) < 0)
		return ret;
	v = json_object_get(j, "max_enclave_size");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 4096)) {
		json_decref(j);
		return err_set(err, EINVAL, "%s: max_enclave_size: not a number of bytes >= 4096",
			       RUNE_CONFIG_FILE);
	}
	if (v)
		*out = json_integer_value(v);
	json_decref(j);
	return 0;
}

/* PAL directories: --pal-dir flags, else the config file's "pal_dirs", else the default. */
static int allowed_dirs(const struct rune_ctx *ctx, char ***out, err_t *err)
{
	json_t *j, *v, *dirs;
	size_t i;
	int ret;

	*out = NULL;
	for (const char **d = ctx->pal_dirs; d && *d; d++) {
		/* A relative --pal-dir is the caller's: relative to its cwd. */
		_cleanup_free_ char *cwd = **d == '/' ? NULL : getcwd(NULL, 0);
		_cleanup_free_ char *abs = cwd ? path_join(cwd, *d) : NULL;

		if (**d != '/' && abs == NULL)
			return err_sys(err, errno ?: ENOMEM, "--pal-dir %s", *d);
		if (strv_append(out, abs ?: *d) < 0)
			return err_sys(err, ENOMEM, "--pal-dir");
	}
	if (*out)
		return 0;
	if ((ret = load_config_file(&j, err)) < 0)
		return ret;
	dirs = json_object_get(j, "pal_dirs");
	if (dirs && !json_is_array(dirs)) {
		json_decref(j);
		return err_set(err, EINVAL, "%s: pal_dirs: not an array", RUNE_CONFIG_FILE);
	}
	json_array_foreach(dirs, i, v)
	{
		const char *d = json_string_value(v);

		if (d == NULL || *d != '/') {
			json_decref(j);
			return err_set(err, EINVAL, "%s: pal_dirs[%zu]: not an absolute path",
				       RUNE_CONFIG_FILE, i);
		}
		strv_append(out, d);
	}
	json_decref(j);
	if (*out == NULL)
		strv_append(out, RUNE_PAL_DIR);
	return *out ? 0 : err_sys(err, ENOMEM, "PAL directories");
}

/* Anyone but root can change what the directory (or file) holds. */
static bool others_can_write(const struct stat *st)
{
	return st->st_uid != 0 || (st->st_mode & 022);
}

/* "a/b" + "c" -> "a/b/c"; ".." drops the last component. For messages only. */
static void shown_step(char *shown, size_t size, const char *name)
{
	size_t n = strlen(shown);

	if (strcmp(name, "..") == 0) {
		char *slash = strrchr(shown, '/');
		if (slash)
			slash[slash == shown ? 1 : 0] = '\0';
		return;
	}
	snprintf(shown + n, size - n, "%s%s", n > 0 && shown[n - 1] == '/' ? "" : "/", name);
}

/* A directory on the way to (or being) an allowed PAL directory, as trusted as the PAL. */
static int check_dir_on_path(const char *dir, const char *shown, const struct stat *st, bool last,
			     err_t *err)
{
	if (!S_ISDIR(st->st_mode))
		return err_set(err, ENOTDIR, "PAL directory %s: %s is not a directory", dir, shown);
	/* Sticky, as /tmp: nobody but root renames or replaces the root-owned entry we take next. */
	if (st->st_uid != 0 || ((st->st_mode & 022) && (last || !(st->st_mode & S_ISVTX))))
		return err_set(err, EPERM,
			       "PAL directory %s: %s is writable by a non-root user (owner uid "
			       "%u, mode %04o)",
			       dir, shown, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * Opens DIR, an allowed PAL directory, from / one component at a time, never
 * letting the kernel follow a symlink: each one is read where it lies and
 * its target walked the same way. Every directory passed through must be
 * root-owned and writable by nobody else, except that one above DIR may be
 * sticky (/tmp): there nobody else can rename or replace the root-owned
 * directory or symlink we take next. Then only root can change which
 * directory the returned fd is, or what it holds.
 */
static int open_pal_dir(const char *dir, int *out, err_t *err)
{
	_cleanup_free_ char *todo = strdup(dir);
	_cleanup_close_ int cur = -1;
	char shown[PATH_MAX] = "/";
	struct stat st;
	int links = 0, ret;

	if (todo == NULL)
		return err_sys(err, ENOMEM, "PAL directory %s", dir);
	if (*dir != '/')
		return err_set(err, EINVAL, "PAL directory %s: not an absolute path", dir);
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0 || fstat(cur, &st) < 0)
		return err_sys(err, errno, "PAL directory %s: /", dir);
	if ((ret = check_dir_on_path(dir, shown, &st, false, err)) < 0)
		return ret;
	for (;;) {
		char *name = todo + strspn(todo, "/"), *rest = name + strcspn(name, "/");
		struct stat cst;
		int fd;

		if (*name == '\0')
			break;
		if (*rest)
			*rest++ = '\0';
		if (strcmp(name, ".") == 0) {
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &cst) < 0) {
			shown_step(shown, sizeof(shown), name);
			ret = err_sys(err, errno, "PAL directory %s: %s", dir, shown);
			if (fd >= 0)
				close(fd);
			return ret;
		}
		if (S_ISLNK(cst.st_mode)) {
			_cleanup_close_ int lfd = fd;
			_cleanup_free_ char *next = NULL;
			char target[PATH_MAX];
			ssize_t n;

			/* In a sticky directory (the only writable kind we pass) it must be root's. */
			if (others_can_write(&st) && cst.st_uid != 0)
				return err_set(
				    err, EPERM,
				    "PAL directory %s: symlink %s/%s in a directory others "
				    "can write is not owned by root",
				    dir, shown, name);
			if (++links > 40)
				return err_set(err, ELOOP, "PAL directory %s: %s", dir,
					       strerror(ELOOP));
			n = readlinkat(lfd, "", target, sizeof(target) - 1);
			if (n < 0)
				return err_sys(err, errno, "PAL directory %s: readlink %s/%s", dir,
					       shown, name);
			target[n] = '\0';
			if (asprintf(&next, "%s/%s", target, rest) < 0)
				return err_sys(err, ENOMEM, "PAL directory %s", dir);
			free(todo);
			todo = steal_ptr(next);
			if (*target == '/') {
				close(cur);
				cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (cur < 0 || fstat(cur, &st) < 0)
					return err_sys(err, errno, "PAL directory %s: /", dir);
				strcpy(shown, "/");
			}
			continue;
		}
		shown_step(shown, sizeof(shown), name);
		memmove(todo, rest, strlen(rest) + 1);
		if ((ret = check_dir_on_path(dir, shown, &cst, false, err)) < 0) {
			close(fd);
			return ret;
		}
		close(cur);
		cur = fd;
		st = cst;
	}
	/* The allowed directory itself: writable by root only, sticky or not. */
	if ((ret = check_dir_on_path(dir, shown, &st, true, err)) < 0)
		return ret;
	*out = steal_fd(cur);
	return 0;
}

static long sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/*
 * Opens NAME beneath the allowed directory DIRFD (no "..", symlink or magic
 * link out of it) and checks what was opened: a regular file, root's,
 * writable by nobody else. The fd is O_PATH: nothing is read or run yet, a
 * device node or FIFO opens without side effects. PATH is for messages.
 */
static int open_pal_beneath(int dirfd, const char *name, const char *path, int *out, err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = sys_openat2(dirfd, name, O_PATH | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && errno == EXDEV)
		return -EXDEV; /* leads out of the directory: not this one's */
	if (fd < 0)
		return err_sys(err, errno, "enclave runtime %s", path);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "enclave runtime %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EPERM, "enclave runtime %s: not a regular file", path);
	if (others_can_write(&st))
		return err_set(
		    err, EPERM,
		    "enclave runtime %s: must be owned by root and not writable by group "
		    "or others",
		    path);
	*out = steal_fd(fd);
	return 0;
}

/* What FD names now (for messages and the state), or NULL. */
static char *fd_path(int fd)
{
	char proc[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* PATH relative to DIR, by name only: "DIR/x/y.so" -> "x/y.so"; NULL if not under it. */
static const char *name_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return NULL;
	path += n;
	path += strspn(path, "/");
	return *path ? path : NULL;
}

/*
 * Finds the PAL at PATH: an allowed directory and PATH's name relative to
 * it, by the names as given, else by where they resolve now (realpath).
 * Names only choose where to look; what is opened is opened beneath the
 * directory's fd, so a name changing meanwhile can never lead outside it.
 * The first directory that holds the PAL wins.
 */
static int find_pal(const struct rune_ctx *ctx, const char *path, int *out, err_t *err)
{
	_cleanup_strv_ char **dirs = NULL;
	_cleanup_free_ char *real = NULL;
	int ret;

	if ((ret = allowed_dirs(ctx, &dirs, err)) < 0)
		return ret;
	real = realpath(path, NULL);
	for (int pass = 0; pass < 2; pass++) {
		for (char **d = dirs; *d; d++) {
			_cleanup_free_ char *real_dir = pass ? realpath(*d, NULL) : NULL;
			_cleanup_close_ int dirfd = -1;
			const char *name =
			    pass ? (real && real_dir ? name_under(real, real_dir) : NULL)
				 : name_under(path, *d);

			if (name == NULL)
				continue;
			if ((ret = open_pal_dir(*d, &dirfd, err)) < 0)
				return err_wrap(err, "enclave runtime %s", path);
			ret = open_pal_beneath(dirfd, name, path, out, err);
			if (ret != -EXDEV)
				return ret;
		}
	}
	return err_set(err, EPERM,
		       "enclave runtime %s: not in an allowed PAL directory (see --pal-dir)", path);
}

static int check_log_level(const char *l, err_t *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (strcmp(l, log_levels[i]) == 0)
			return 0;
	return err_set(err, EINVAL, "ENCLAVE_RUNTIME_LOGLEVEL: unknown level \"%s\"", l);
}

int rune_enclave_from_config(const struct rune_ctx *ctx, struct rune_config *cfg,
			     struct rune_enclave **out, err_t *err)
{
	_cleanup_free_ char *type = take_value(cfg, "ENCLAVE_TYPE", "enclave.type");
	_cleanup_free_ char *path = take_value(cfg, "ENCLAVE_RUNTIME_PATH", "enclave.runtime.path");
	_cleanup_free_ char *args = take_value(cfg, "ENCLAVE_RUNTIME_ARGS", "enclave.runtime.args");
	_cleanup_free_ char *level =
	    take_value(cfg, "ENCLAVE_RUNTIME_LOGLEVEL", "enclave.runtime.loglevel");
	struct rune_enclave *e;
	int ret;

	*out = NULL;
	if (type == NULL || *type == '\0')
		return 0;
	if (strcmp(type, "intelSgx") != 0)
		return err_set(
		    err, EINVAL,
		    "ENCLAVE_TYPE: unsupported enclave type \"%s\" (rune supports intelSgx)", type);
	if (path == NULL || *path == '\0')
		return err_set(err, EINVAL, "ENCLAVE_RUNTIME_PATH: missing (ENCLAVE_TYPE is set)");
	if (level && (ret = check_log_level(level, err)) < 0)
		return ret;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return err_sys(err, ENOMEM, "enclave");
	e->listen_fd = -1;
	e->pal_fd = -1;
	e->type = steal_ptr(type);
	e->args = args ? steal_ptr(args) : strdup("");
	for (char *p = e->args; *p; p++)
		if (*p == ',')
			*p = ' ';
	e->log_level = level ? steal_ptr(level) : strdup("info");
	if ((ret = find_pal(ctx, path, &e->pal_fd, err)) < 0) {
		rune_enclave_free(e);
		return ret;
	}
	e->runtime_path = fd_path(e->pal_fd) ?: strdup(path);
	if ((ret = read_max_enclave_size(&e->max_enclave_size, err)) < 0) {
		rune_enclave_free(e);
		return ret;
	}
	*out = e;
	return 0;
}

static int add_device(struct rune_config *cfg, const char *path)
{
	struct stat st;
	struct rune_device *d;

	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;
	d = realloc(cfg->devices, (cfg->n_devices + 1) * sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	cfg->devices = d;
	d += cfg->n_devices++;
	memset(d, 0, sizeof(*d));
	d->path = strdup(path);
	d->type = 'c';
	d->major = major(st.st_rdev);
	d->minor = minor(st.st_rdev);
	d->has_mode = true;
	d->mode = st.st_mode & 0777;
	/* The config didn't ask for it: allow it, or the node is there but unusable. */
	if (rune_config_resources(cfg) == NULL)
		return -ENOMEM;
	return rune_cgroup_allow_device(cfg->resources, 'c', d->major, d->minor, "rwm", NULL);
}

void rune_enclave_add_devices(struct rune_enclave *e, struct rune_config *cfg)
{
	static const char *const nodes[] = { "/dev/sgx_enclave", "/dev/sgx_provision",
					     "/dev/sgx/enclave", "/dev/sgx/provision",
					     "/dev/isgx" };
	struct stat st;

	(void)e;
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		add_device(cfg, nodes[i]);
	/* aesmd serves launch tokens and quotes: its socket directory, where the host has one. */
	if (stat("/var/run/aesmd", &st) == 0 && S_ISDIR(st.st_mode)) {
		struct rune_mount *m = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*m));
		if (m == NULL)
			return;
		cfg->mounts = m;
		m += cfg->n_mounts++;
		memset(m, 0, sizeof(*m));
		m->destination = strdup("/var/run/aesmd");
		m->source = strdup("/var/run/aesmd");
		m->type = strdup("bind");
		m->bind = true;
		m->recursive = true;
	}
}

/* ---- init-runelet ---- */

/* The errno of a failed call: Occlum's PALs return -1 and set errno, Inclavare's -errno. */
static int pal_error(const struct rune_enclave *e, int ret, int saved_errno)
{
	if (e->occlum && ret == -1 && saved_errno > 0)
		return saved_errno;
	return ret < 0 ? -ret : EIO;
}

/* why: the last line the PAL wrote to stderr during the call (its reason), or "". */
static int pal_fail(const struct rune_enclave *e, const char *call, int ret, int saved_errno,
		    const char *why, err_t *err)
{
	int code = pal_error(e, ret, saved_errno);

	return err_set(err, code, "enclave runtime %s: %s failed with %d (%s)%s%s", e->runtime_path,
		       call, ret, strerror(code), *why ? ": " : "", why);
}

#define RESOLVE(e, field, name, required)                                                          \
	do {                                                                                       \
		*(void **)&(e)->ops.field = dlsym((e)->handle, name);                              \
		if ((required) && (e)->ops.field == NULL)                                          \
			return err_set(err, ENOSYS, "enclave runtime %s: missing symbol %s",       \
				       (e)->runtime_path, name);                                   \
	} while (0)

int rune_enclave_bind(struct rune_enclave *e, err_t *err)
{
	int fd;

	if (e->socket_path == NULL)
		return 0;
	fd = unix_listen_at(e->socket_path, SOCK_SEQPACKET, err);
	if (fd < 0)
		return fd;
	e->listen_fd = fd;
	return 0;
}

int rune_enclave_load(struct rune_enclave *e, err_t *err)
{
	char fdpath[64];

	prctl(PR_SET_NAME, "init-runelet", 0, 0, 0);
	/*
	 * init-runelet never execs: the PAL starts as a program would, with no
	 * signal ignored because rune's caller ignored it (a daemon's SIGPIPE),
	 * from its constructors on; what it ignores itself then stays so.
	 */
	reset_signals_for_workload();
	/*
	 * The very file rune opened beneath its allowed directory and checked:
	 * dlopen reopens that fd, never the path (glibc has no fdlopen).
	 */
	if (e->pal_fd < 0)
		return err_set(err, EBADF, "enclave runtime %s: not opened", e->runtime_path);
	/* The host's cap for libsgx in the PAL: init-runelet's environment, never the workload's. */
	if (e->max_enclave_size) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)e->max_enclave_size);
		setenv("SGX_MAX_ENCLAVE_SIZE", v, 1);
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", e->pal_fd);
	e->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	close(steal_fd(e->pal_fd));
	if (e->handle == NULL)
		return err_set(err, ENOEXEC, "enclave runtime %s: %s", e->runtime_path, dlerror());
	rune_debug("init-runelet: loaded the PAL %s", e->runtime_path);
	e->occlum = dlsym(e->handle, "occlum_pal_get_version") != NULL ||
		    dlsym(e->handle, "occlum_pal_init") != NULL;
	pthread_mutex_init(&e->destroy_lock, NULL);
	pal_get_version_fn get_version = (pal_get_version_fn)dlsym(e->handle, "pal_get_version");
	e->ops.version = get_version ? get_version() : 1;
	if (e->ops.version < PAL_VERSION_MIN || e->ops.version > PAL_VERSION_MAX)
		return err_set(err, ENOTSUP,
			       "enclave runtime %s: PAL API version %d is not supported (1 to 3)",
			       e->runtime_path, e->ops.version);
	RESOLVE(e, init, "pal_init", true);
	RESOLVE(e, destroy, "pal_destroy", true);
	if (e->ops.version == 1) {
		RESOLVE(e, exec_v1, "pal_exec", true);
	} else {
		RESOLVE(e, create_process, "pal_create_process", true);
		RESOLVE(e, exec, "pal_exec", true);
		RESOLVE(e, kill, "pal_kill", true);
	}
	if (e->ops.version >= 3)
		RESOLVE(e, get_local_report, "pal_get_local_report", true);
	return 0;
}

int rune_enclave_init(struct rune_enclave *e, err_t *err)
{
	struct pal_attr_t v1 = { .args = e->args, .log_level = e->log_level };
	pal_attr_v3_t v3 = { .attr_v1 = v1, .fd = -1, .addr = 0 };
	int ret;

	struct stderr_capture cap;
	char why[512];
	int saved_errno;

	rune_debug("init-runelet: pal_init (API v%d, args \"%s\", log level %s)", e->ops.version,
		   e->args ? e->args : "", e->log_level);
	/* The ABI returns an int: the reason is what the PAL wrote to stderr meanwhile. */
	stderr_capture_begin(&cap);
	errno = 0;
	ret = e->ops.init(e->ops.version >= 3 ? (const void *)&v3 : (const void *)&v1);
	saved_errno = errno;
	stderr_capture_end(&cap, why, sizeof(why));
	if (ret != 0)
		return pal_fail(e, "pal_init", ret, saved_errno, why, err);
	return 0;
}

/* Occlum reports wait statuses; Inclavare's PALs exit codes (above 255: a wait status anyway). */
static int exit_code_of(const struct rune_enclave *e, int v)
{
	if (!e->occlum && v >= 0 && v <= 255)
		return v;
	return rune_exit_code(v);
}

/* Runs pal_destroy unless it already ran; with exit_code >= 0, exits the process after. */
static void destroy_once(struct rune_enclave *e, int exit_code)
{
	pthread_mutex_lock(&e->destroy_lock);
	if (!e->destroyed) {
		e->destroyed = true;
		e->ops.destroy();
	}
	if (exit_code >= 0)
		_exit(exit_code);
	pthread_mutex_unlock(&e->destroy_lock);
}

/* ---- the control thread ---- */

/* One exec'd enclave process: its connection and the stdio it was given. */
struct exec_job {
	struct rune_enclave *e;
	int conn;
	int pid;
	int stdio[3];
	_Atomic int refs; /* the waiter and the reader threads */
};

static void job_put(struct exec_job *job)
{
	if (--job->refs > 0)
		return;
	close(job->conn);
	for (int i = 0; i < 3; i++)
		close(job->stdio[i]);
	free(job);
}

static int send_json(int fd, json_t *j, const int *fds, size_t nfds)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int ret;

	if (text == NULL)
		return -ENOMEM;
	/* One datagram a message: the receiver's buffer is MSG_MAX. */
	if (strlen(text) > MSG_MAX) {
		free(text);
		return -E2BIG;
	}
	if (nfds == 0) {
		ret = send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 ? -errno : 0;
	} else {
		union {
			char buf[CMSG_SPACE(3 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = text, .iov_len = strlen(text) };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		memset(&u, 0, sizeof(u));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		ret = sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
	}
	free(text);
	return ret;
}

static json_t *recv_json(int fd, int *fds, size_t *nfds)
{
	_cleanup_free_ char *buf = malloc(MSG_MAX + 1);
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;

	if (nfds)
		*nfds = 0;
	if (buf == NULL)
		return NULL;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		if (nfds && fds && k <= 3) {
			memcpy(fds, CMSG_DATA(c), k * sizeof(int));
			*nfds = k;
		} else {
			int tmp[3];
			memcpy(tmp, CMSG_DATA(c), (k > 3 ? 3 : k) * sizeof(int));
			for (size_t i = 0; i < k && i < 3; i++)
				close(tmp[i]);
		}
	}
	return json_loads(buf, 0, NULL);
}

static void reply_error(int conn, int code, const char *msg)
{
	json_t *j = json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "msg", msg);

	send_json(conn, j, NULL, 0);
	json_decref(j);
}

static void *exec_waiter(void *arg)
{
	struct exec_job *job = arg;
	int exit_value = 0, ret;
	struct pal_exec_args ea = { .pid = job->pid, .exit_value = &exit_value };
	json_t *j;

	errno = 0;
	ret = job->e->ops.exec(&ea);
	j = ret == 0
		? json_pack("{s:s,s:i}", "type", "exit", "code", exit_code_of(job->e, exit_value))
		: json_pack("{s:s,s:i,s:s}", "type", "error", "code", pal_error(job->e, ret, errno),
			    "msg", "pal_exec failed");
	send_json(job->conn, j, NULL, 0);
	json_decref(j);
	/* Wakes the reader; the stdio fds close with the last reference, after pal_exec. */
	shutdown(job->conn, SHUT_RDWR);
	job_put(job);
	return NULL;
}

/* Relays kill requests on an exec connection until the process ends. */
static void *exec_conn_reader(void *arg)
{
	struct exec_job *job = arg;
	json_t *j;

	while ((j = recv_json(job->conn, NULL, NULL))) {
		if (strcmp(json_string_value(json_object_get(j, "type")) ?: "", "kill") == 0)
			job->e->ops.kill(job->pid,
					 json_integer_value(json_object_get(j, "signal")));
		json_decref(j);
	}
	job_put(job);
	return NULL;
}

static void handle_exec(struct rune_enclave *e, int conn, json_t *req, int *fds, size_t nfds)
{
	json_t *jargv = json_object_get(req, "argv"), *jenv = json_object_get(req, "env"), *v;
	_cleanup_free_ const char **argv = NULL, **env = NULL;
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	struct pal_create_process_args ca = { 0 };
	struct exec_job *job;
	pthread_t t;
	size_t i;
	int pid = -1, ret;

	if (e->ops.version < 2) {
		reply_error(conn, ENOTSUP,
			    "exec needs an enclave runtime with PAL API v2 or later");
		goto out;
	}
	if (nfds != 3 || !json_is_array(jargv) || json_array_size(jargv) == 0) {
		reply_error(conn, EINVAL, "bad exec request");
		goto out;
	}
	argv = calloc(json_array_size(jargv) + 1, sizeof(char *));
	env = calloc(json_array_size(jenv) + 1, sizeof(char *));
	json_array_foreach(jargv, i, v) argv[i] = json_string_value(v);
	json_array_foreach(jenv, i, v) env[i] = json_string_value(v);
	stdio = (struct pal_stdio_fds){ fds[0], fds[1], fds[2] };
	ca.path = json_string_value(json_object_get(req, "path")) ?: argv[0];
	ca.argv = argv;
	ca.env = env;
	ca.stdio = &stdio;
	ca.pid = &pid;
	errno = 0;
	ret = e->ops.create_process(&ca);
	if (ret != 0) {
		char msg[256];
		int code = pal_error(e, ret, errno);
		snprintf(msg, sizeof(msg), "pal_create_process failed with %d (%s)", ret,
			 strerror(code));
		reply_error(conn, code, msg);
		goto out;
	}
	json_t *ok = json_pack("{s:s,s:i}", "type", "started", "pid", pid);
	send_json(conn, ok, NULL, 0);
	json_decref(ok);
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		goto out;
	*job = (struct exec_job){ .e = e, .conn = conn, .pid = pid, .refs = 2 };
	memcpy(job->stdio, fds, sizeof(job->stdio));
	nfds = 0; /* the job owns them now */
	conn = -1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &attr, exec_conn_reader, job);
	pthread_create(&t, &attr, exec_waiter, job);
	pthread_attr_destroy(&attr);
out:
	for (size_t k = 0; k < nfds; k++)
		close(fds[k]);
	if (conn >= 0)
		close(conn);
}

static void handle_attest(struct rune_enclave *e, int conn, json_t *req)
{
	unsigned char ti[512] = { 0 }, report[1024];
	const char *rd = json_string_value(json_object_get(req, "report_data"));
	const char *tih = json_string_value(json_object_get(req, "target_info"));
	int len = sizeof(report), ret;
	char hex[2 * sizeof(report) + 1];

	if (e->ops.version < 3) {
		reply_error(conn, ENOTSUP, "attest needs an enclave runtime with PAL API v3");
		goto out;
	}
	/* Report data travels in the report buffer: the PAL reads it from there (Inclavare's convention). */
	memset(report, 0, sizeof(report));
	for (size_t i = 0; rd && rd[2 * i] && rd[2 * i + 1] && i < 64; i++)
		sscanf(rd + 2 * i, "%2hhx", &report[320 + i]);
	for (size_t i = 0; tih && tih[2 * i] && tih[2 * i + 1] && i < sizeof(ti); i++)
		sscanf(tih + 2 * i, "%2hhx", &ti[i]);
	errno = 0;
	ret = e->ops.get_local_report(ti, 512, report, &len);
	if (ret != 0 || len <= 0 || len > (int)sizeof(report)) {
		char msg[256];
		int code = pal_error(e, ret, errno);
		snprintf(msg, sizeof(msg), "pal_get_local_report failed with %d (%s)", ret,
			 strerror(code));
		reply_error(conn, code, msg);
		goto out;
	}
	for (int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", report[i]);
	json_t *j = json_pack("{s:s,s:s}", "type", "report", "report", hex);
	send_json(conn, j, NULL, 0);
	json_decref(j);
out:
	close(conn);
}

static void forward_signal(struct rune_enclave *e, int sig)
{
	if (sig == SIGCHLD || sig == SIGPIPE || sig == SIGWINCH || sig == SIGURG)
		return; /* runtime-internal: never forwarded */
	if (e->ops.version >= 2) {
		e->ops.kill(e->workload_pid, sig);
		return;
	}
	/* v1 has no pal_kill: a terminating signal ends the enclave, and the container 128+N. */
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT)
		destroy_once(e, 128 + sig);
}

/* Everything but the synchronous faults: an emulated enclave traps ENCLU as SIGILL. */
static void forwardable_signals(sigset_t *set)
{
	static const int sync_faults[] = { SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS };

	sigfillset(set);
	for (size_t i = 0; i < ARRAY_SIZE(sync_faults); i++)
		sigdelset(set, sync_faults[i]);
}

static void *control_thread(void *arg)
{
	struct rune_enclave *e = arg;
	sigset_t all;
	int sfd;

	forwardable_signals(&all);
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = e->listen_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				forward_signal(e, si.ssi_signo);
		}
		if (p[1].revents & POLLIN) {
			int fds[3];
			size_t nfds = 0;
			int conn = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			json_t *req = recv_json(conn, fds, &nfds);
			const char *type = json_string_value(json_object_get(req, "type"));
			if (type && strcmp(type, "exec") == 0)
				handle_exec(e, conn, req, fds, nfds);
			else if (type && strcmp(type, "attest") == 0)
				handle_attest(e, conn, req);
			else if (type && strcmp(type, "kill") == 0) {
				forward_signal(e,
					       json_integer_value(json_object_get(req, "signal")));
				close(conn);
			} else {
				for (size_t k = 0; k < nfds; k++)
					close(fds[k]);
				reply_error(conn, EINVAL, "unknown request");
				close(conn);
			}
			json_decref(req);
		}
	}
	return NULL;
}

int rune_enclave_run(struct rune_enclave *e, const struct rune_process *p, int sync_fd)
{
	_cleanup_free_ char *path = rune_process_lookup(p, p->args[0]);
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	int exit_value = 0, ret;
	sigset_t all;
	pthread_t t;

	/* Signals reach the workload through the control thread, never rune's own handlers. */
	forwardable_signals(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (path == NULL)
		path = strdup(p->args[0]);
	errno = 0;
	if (e->ops.version == 1) {
		/* pal_exec runs to the end: `start` can only be told it began. */
		close(sync_fd);
		if (e->listen_fd >= 0)
			pthread_create(&t, NULL, control_thread, e);
		ret = e->ops.exec_v1(path, p->args, &stdio, &exit_value);
	} else {
		struct pal_create_process_args ca = {
			.path = path,
			.argv = (const char **)p->args,
			.env = (const char **)(p->env ? p->env : (char *[]){ NULL }),
			.stdio = &stdio,
			.pid = &e->workload_pid
		};
		struct stderr_capture cap;
		char why[512];
		int saved_errno;

		/* Nothing else runs yet: what reaches stderr meanwhile is the PAL's. */
		stderr_capture_begin(&cap);
		errno = 0;
		ret = e->ops.create_process(&ca);
		saved_errno = errno;
		stderr_capture_end(&cap, why, sizeof(why));
		/*
		 * `start` learns from the start connection whether the workload began;
		 * the enclave is destroyed first, as rune kills the container then.
		 */
		if (ret != 0) {
			int code = pal_error(e, ret, saved_errno);
			err_t err = NULL;

			err_set(
			    &err, code,
			    "enclave runtime %s: pal_create_process for %s failed with %d (%s)%s%s",
			    e->runtime_path, p->args[0], ret, strerror(code), *why ? ": " : "",
			    why);
			fprintf(stderr, "rune: %s\n", err_msg(err));
			destroy_once(e, -1);
			sync_send_error(sync_fd, err, 0);
			err_free(&err);
			close(sync_fd);
			return 127;
		}
		close(sync_fd);
		if (ret == 0) {
			struct pal_exec_args ea = { .pid = e->workload_pid,
						    .exit_value = &exit_value };
			pthread_create(&t, NULL, control_thread, e);
			ret = e->ops.exec(&ea);
		}
	}
	if (ret != 0) {
		fprintf(stderr, "rune: enclave runtime %s: running %s failed with %d (%s)\n",
			e->runtime_path, p->args[0], ret, strerror(pal_error(e, ret, errno)));
		ret = 127;
	} else {
		ret = exit_code_of(e, exit_value);
	}
	/* A v1 signal's pal_destroy may be ending pal_exec: then its exit code stands. */
	destroy_once(e, -1);
	return ret;
}

json_t *rune_enclave_state(const struct rune_enclave *e)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "type", e->type, "runtime_path", e->runtime_path,
			 "args", e->args, "log_level", e->log_level);
}

char *rune_enclave_socket_path(const struct rune_enclave *e)
{
	return e->socket_path ? strdup(e->socket_path) : NULL;
}

void rune_enclave_set_state_dir(struct rune_enclave *e, const char *dir)
{
	free(e->socket_path);
	e->socket_path = path_join(dir, SOCKET_NAME);
}

void rune_enclave_free(struct rune_enclave *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->runtime_path);
	free(e->args);
	free(e->log_level);
	free(e->socket_path);
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	if (e->pal_fd >= 0)
		close(e->pal_fd);
	free(e);
}

/* ---- the rune side of exec and attest ---- */

static int connect_runelet(const struct rune_state *s, err_t *err)
{
	_cleanup_free_ char *path = path_join(s->dir, SOCKET_NAME);
	int fd = unix_connect_at(path, SOCK_SEQPACKET, err);

	return fd < 0 ? err_wrap(err, "init-runelet of \"%s\"", s->id) : fd;
}

static int expect_reply(int fd, const char *want, json_t **out, err_t *err)
{
	json_t *j = recv_json(fd, NULL, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));

	if (j == NULL)
		return err_set(err, EIO, "init-runelet closed the connection");
	if (type && strcmp(type, "error") == 0) {
		int ret =
		    err_set(err, json_integer_value(json_object_get(j, "code")) ?: EIO,
			    "enclave: %s", json_string_value(json_object_get(j, "msg")) ?: "error");
		json_decref(j);
		return ret;
	}
	if (type == NULL || strcmp(type, want) != 0) {
		json_decref(j);
		return err_set(err, EPROTO, "init-runelet: unexpected reply");
	}
	*out = j;
	return 0;
}

/* Waits for the enclave process's exit, forwarding our signals to it. */
static int proxy_wait(int conn)
{
	sigset_t mask;
	int sfd, code = 255;

	forwardable_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = conn, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
			    si.ssi_signo != SIGPIPE && si.ssi_signo != SIGWINCH) {
				json_t *k = json_pack("{s:s,s:i}", "type", "kill", "signal",
						      (int)si.ssi_signo);
				send_json(conn, k, NULL, 0);
				json_decref(k);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			json_t *j = recv_json(conn, NULL, NULL);
			const char *type = json_string_value(json_object_get(j, "type"));
			if (type && strcmp(type, "exit") == 0)
				code = json_integer_value(json_object_get(j, "code"));
			json_decref(j);
			break;
		}
	}
	close(sfd);
	return code;
}

/*
 * argv[0] on the container's PATH (from the exec's env), looked up in the
 * init's root without leaving it; as is when not there: it may name a
 * program inside the enclave only.
 */
static char *resolve_in_container(pid_t pid, char *const *env, const char *arg0)
{
	const char *path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int rootfd = -1;
	char root[64], *save = NULL;

	if (strchr(arg0, '/'))
		return strdup(arg0);
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path_env = *e + 5;
	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	copy = strdup(path_env);
	if (rootfd < 0 || copy == NULL)
		return strdup(arg0);
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *full = path_join(dir, arg0);
		int fd;
		struct stat st;

		if (full == NULL ||
		    rune_open_in_root(rootfd, full, O_PATH, false, false, &fd, NULL) < 0)
			continue;
		bool found = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
		close(fd);
		if (found)
			return steal_ptr(full);
	}
	return strdup(arg0);
}

/*
 * pal_create_process takes no user or cwd: every enclave process runs as the
 * container's user, in its cwd. Asking for others is refused, not ignored.
 * (Capabilities and no_new_privs were fixed for the whole enclave at init.)
 */
static int check_enclave_identity(const struct rune_state *s, const struct rune_process *p,
				  err_t *err)
{
	struct rune_process c = { 0 };
	int ret;

	/* The identity frozen in the state at create, never the bundle's current one. */
	if ((ret = rune_process_parse(s->process, "state: process", &c, err)) < 0)
		return ret;
	if (p->user.uid != c.user.uid || p->user.gid != c.user.gid)
		ret = err_set(err, ENOTSUP,
			      "exec into enclave container \"%s\" runs as its user %u:%u, not "
			      "%u:%u: an enclave runtime has one identity",
			      s->id, (unsigned)c.user.uid, (unsigned)c.user.gid,
			      (unsigned)p->user.uid, (unsigned)p->user.gid);
	else if (p->cwd && c.cwd && strcmp(p->cwd, c.cwd) != 0)
		ret = err_set(err, ENOTSUP,
			      "exec into enclave container \"%s\" runs in its cwd %s, not %s",
			      s->id, c.cwd, p->cwd);
	rune_process_clear(&c);
	return ret;
}

int rune_enclave_exec(const struct rune_ctx *ctx, const struct rune_state *s,
		      const struct rune_exec_opts *o, int *exit_status, err_t *err)
{
	const struct rune_process *p = o->process;
	int stdio[3] = { 0, 1, 2 };
	json_t *req, *jargv, *jenv, *reply = NULL;
	_cleanup_close_ int conn = -1;
	int ret;

	(void)ctx;
	if (p->terminal)
		return err_set(err, ENOTSUP,
			       "exec --tty into an enclave container is not supported");
	/* init-runelet serves requests once the workload runs, from `start` on. */
	if (rune_state_status(s) != RUNE_STATUS_RUNNING)
		return err_set(err, EINVAL,
			       "cannot exec into enclave container \"%s\" before it is started",
			       s->id);
	if ((ret = check_enclave_identity(s, p, err)) < 0)
		return ret;
	jargv = json_array();
	jenv = json_array();
	for (char **a = p->args; a && *a; a++)
		json_array_append_new(jargv, json_string(*a));
	for (char **v = p->env; v && *v; v++)
		if (strncmp(*v, "ENCLAVE_", 8) != 0)
			json_array_append_new(jenv, json_string(*v));
	_cleanup_free_ char *path = resolve_in_container(s->pid, p->env, p->args[0]);
	req = json_pack("{s:s,s:s,s:o,s:o}", "type", "exec", "path", path, "argv", jargv, "env",
			jenv);
	if ((conn = connect_runelet(s, err)) < 0) {
		json_decref(req);
		return conn;
	}
	ret = send_json(conn, req, stdio, 3);
	json_decref(req);
	if (ret == -E2BIG)
		return err_set(err, E2BIG,
			       "exec request too large: argv and env exceed %d KiB, the limit for "
			       "an enclave exec",
			       MSG_MAX / 1024);
	if (ret < 0)
		return err_sys(err, -ret, "send exec request");
	if ((ret = expect_reply(conn, "started", &reply, err)) < 0)
		return ret;
	json_decref(reply);
	if (o->detach) {
		/* A host-side proxy stands for the enclave process: its exit status mirrors it. */
		pid_t proxy = fork();
		if (proxy < 0)
			return err_sys(err, errno, "fork exec proxy");
		if (proxy == 0) {
			setsid();
			int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (devnull >= 0) {
				dup2(devnull, 0);
				dup2(devnull, 1);
				dup2(devnull, 2);
			}
			_exit(proxy_wait(conn));
		}
		if (o->pid_file) {
			if ((ret = rune_write_pid_file(o->pid_file, proxy, err)) < 0)
				return ret;
		}
		*exit_status = 0;
		return 0;
	}
	if (o->pid_file) {
		if ((ret = rune_write_pid_file(o->pid_file, getpid(), err)) < 0)
			return ret;
	}
	*exit_status = proxy_wait(conn);
	return 0;
}

int rune_enclave_attest(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			const char *target_info_hex, json_t **out, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_close_ int conn = -1;
	json_t *req, *reply = NULL;
	int ret;

	if ((ret = rune_state_load(ctx->root, id, &s, err)) < 0)
		return ret;
	if (s->enclave == NULL)
		return err_set(err, EINVAL, "container \"%s\" is not an enclave container", id);
	if (rune_state_status(s) != RUNE_STATUS_RUNNING)
		return err_set(err, EINVAL, "container \"%s\" is not running", id);
	if ((conn = connect_runelet(s, err)) < 0)
		return conn;
	req = json_pack("{s:s}", "type", "attest");
	if (report_data_hex)
		json_object_set_new(req, "report_data", json_string(report_data_hex));
	if (target_info_hex)
		json_object_set_new(req, "target_info", json_string(target_info_hex));
	ret = send_json(conn, req, NULL, 0);
	json_decref(req);
	if (ret < 0)
		return err_sys(err, -ret, "send attest request");
	if ((ret = expect_reply(conn, "report", &reply, err)) < 0)
		return ret;
	*out = reply;
	return 0;
}
