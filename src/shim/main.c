/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd-shim-rune-v2: containerd's runtime v2 shim for rune.
 *
 *   -namespace NS -address A -publish-binary B -id ID [-debug] start
 *       listen on /run/containerd/s/<sha256(A/NS/GROUP)>, write `address`
 *       in the bundle (cwd), start the daemon with the socket as fd 3,
 *       print the address: nothing else, ever, on stdout or stderr.
 *   ... -id ID -bundle B delete
 *       rune delete --force, unmount the rootfs, a DeleteResponse on stdout.
 *   -namespace NS -id ID -address A [-debug]
 *       the daemon (what start runs).
 *   -v  the version.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/sha256.h"
#include "shim/shim.h"
#include "task.pb-c.h"

#ifndef SHIM_VERSION
#define SHIM_VERSION "0.1.0"
#endif

struct args {
	const char *ns, *address, *id, *bundle, *action;
	bool debug, version;
};

static int parse_args(int argc, char **argv, struct args *a, err_t *err)
{
	a->ns = "default";
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		char name[32];

		if (arg[0] != '-') {
			a->action = arg;
			continue;
		}
		arg += arg[1] == '-' ? 2 : 1;
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (strcmp(name, "debug") == 0) {
			a->debug = true;
			continue;
		}
		if (strcmp(name, "v") == 0 || strcmp(name, "version") == 0) {
			a->version = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return err_set(err, EINVAL, "flag -%s: needs a value", name);
		if (strcmp(name, "namespace") == 0)
			a->ns = val;
		else if (strcmp(name, "address") == 0)
			a->address = val;
		else if (strcmp(name, "id") == 0)
			a->id = val;
		else if (strcmp(name, "bundle") == 0)
			a->bundle = val;
		else if (strcmp(name, "publish-binary") != 0 && strcmp(name, "socket") != 0)
			return err_set(err, EINVAL, "unknown flag -%s", name);
	}
	return 0;
}

/* ------------------------------------------------------------ start */

/* The grouping key: the group annotations of config.json, else the id. */
static char *group_of(const char *id)
{
	static const char *const keys[] = { "io.containerd.runc.v2.group",
					    "io.kubernetes.cri.sandbox-id" };
	json_t *root = json_load_file("config.json", 0, NULL);
	json_t *ann = root ? json_object_get(root, "annotations") : NULL;
	char *g = NULL;

	for (size_t i = 0; ann && !g && i < ARRAY_SIZE(keys); i++) {
		const char *v = json_string_value(json_object_get(ann, keys[i]));

		if (v && *v)
			g = strdup(v);
	}
	json_decref(root);
	return g ? g : strdup(id);
}

/* filepath.Join(address, ns, group): joined with '/', repeated slashes cleaned. */
static void socket_path(const char *address, const char *ns, const char *group, char *out,
			size_t size)
{
	char joined[PATH_MAX * 2], clean[PATH_MAX * 2];
	struct sha256 c;
	uint8_t d[32];
	size_t o = 0;
	int n;

	snprintf(joined, sizeof(joined), "%s/%s/%s", address, ns, group);
	for (char *p = joined; *p; p++)
		if (!(*p == '/' && o && clean[o - 1] == '/'))
			clean[o++] = *p;
	while (o > 1 && clean[o - 1] == '/')
		o--;
	clean[o] = '\0';
	sha256_init(&c);
	sha256_update(&c, clean, o);
	sha256_final(&c, d);
	n = snprintf(out, size, "%s/", SHIM_SOCKET_DIR);
	for (int i = 0; i < 32 && n + 2 < (int)size; i++)
		n += snprintf(out + n, size - (size_t)n, "%02x", d[i]);
}

static int listen_at(const char *path, bool *existing, err_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	*existing = false;
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(err, ENAMETOOLONG, "socket path %s: too long", path);
	strcpy(sa.sun_path, path);
	if (mkdir(SHIM_SOCKET_DIR, 0700) < 0 && errno != EEXIST) {
		mkdir("/run/containerd", 0711);
		if (mkdir(SHIM_SOCKET_DIR, 0700) < 0 && errno != EEXIST)
			return err_sys(err, errno, "mkdir %s", SHIM_SOCKET_DIR);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			return err_sys(err, errno, "socket");
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			if (chmod(path, 0600) < 0 || listen(fd, 128) < 0)
				return err_sys(err, errno, "listen on %s", path);
			return steal_fd(fd);
		}
		if (errno != EADDRINUSE)
			return err_sys(err, errno, "bind %s", path);
		/* a live shim of the same group serves it: share it */
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			*existing = true;
			return -EADDRINUSE;
		}
		close(steal_fd(fd));
		unlink(path);
	}
	return err_set(err, EADDRINUSE, "socket %s: in use", path);
}

static int write_address(const char *addr, err_t *err)
{
	_cleanup_close_ int fd =
	    open("address.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, addr, strlen(addr)) != (ssize_t)strlen(addr))
		return err_sys(err, errno, "write address");
	if (rename("address.tmp", "address") < 0)
		return err_sys(err, errno, "rename address");
	return 0;
}

static int cmd_start(int argc, char **argv, const struct args *a, err_t *err)
{
	_cleanup_free_ char *group = NULL;
	char path[PATH_MAX], addr[PATH_MAX + 8], buf[4096];
	_cleanup_close_ int lfd = -1, null = -1;
	bool existing;
	pid_t pid;

	if (a->id == NULL || a->address == NULL)
		return err_set(err, EINVAL, "start: -id and -address are required");
	group = group_of(a->id);
	if (group == NULL)
		return err_sys(err, ENOMEM, "group");
	socket_path(a->address, a->ns, group, path, sizeof(path));
	snprintf(addr, sizeof(addr), "unix://%s", path);
	lfd = listen_at(path, &existing, err);
	if (lfd < 0 && !existing)
		return lfd;
	if (write_address(addr, err) < 0)
		return -EIO;
	/* the runtime options (a protobuf Any): not used yet; drain them */
	if (!isatty(0))
		while (read(0, buf, sizeof(buf)) > 0)
			;
	if (!existing) {
		const char *dargv[16];
		int n = 0;

		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dargv[n++] = argv[0];
		dargv[n++] = "-namespace";
		dargv[n++] = a->ns;
		dargv[n++] = "-id";
		dargv[n++] = a->id;
		dargv[n++] = "-address";
		dargv[n++] = a->address;
		if (a->debug)
			dargv[n++] = "-debug";
		dargv[n] = NULL;
		(void)argc;
		pid = fork();
		if (pid < 0)
			return err_sys(err, errno, "fork the daemon");
		if (pid == 0) {
			if (dup2(lfd, 3) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
			    dup2(null, 2) < 0)
				_exit(127);
			setpgid(0, 0);
			execv("/proc/self/exe", (char *const *)dargv);
			_exit(127);
		}
	}
	printf("%s", addr);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------ delete */

/* The socket of the bundle's shim, if it is ours and nobody serves it any more. */
static void remove_dead_socket(const char *bundle)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX], addr[PATH_MAX] = "";
	const char *sock;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/address", bundle);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, addr, sizeof(addr) - 1);
	close(fd);
	addr[n > 0 ? n : 0] = '\0';
	if (strncmp(addr, "unix://" SHIM_SOCKET_DIR "/", 7 + strlen(SHIM_SOCKET_DIR) + 1) != 0)
		return;
	sock = addr + 7;
	if (strchr(sock + strlen(SHIM_SOCKET_DIR) + 1, '/') || strlen(sock) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
		unlink(sock);
	close(fd);
}

static int cmd_delete(const struct args *a, err_t *err)
{
	Shim__DeleteResponse resp = SHIM__DELETE_RESPONSE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	struct settings rt = { .systemd_cgroup = -1 };
	char path[PATH_MAX], pidbuf[32] = "";
	const char *bundle = a->bundle;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_error_ err_t rerr = NULL;
	struct timespec now;
	size_t n;
	int fd;

	if (a->id == NULL)
		return err_set(err, EINVAL, "delete: -id is required");
	if (bundle == NULL)
		bundle = ".";
	/* as Create chose (rune-shim.json in the bundle), else shim.json and the defaults */
	if (options_saved(bundle, &rt) < 0) {
		_cleanup_error_ err_t cerr = NULL;

		settings_free(&rt);
		if (options_resolve(a->ns, NULL, NULL, &rt, &cerr) < 0) {
			fprintf(stderr, "%s\n", err_msg(cerr));
			rt.rune = rune_find();
			if (asprintf(&rt.root, "%s/%s", SHIM_RUNE_ROOT, a->ns) < 0)
				rt.root = NULL;
		}
	}
	if (rt.rune && rt.root) {
		const char *args[] = { "delete", "--force", a->id, NULL };

		/* a container already gone is what we want: its error is only logged */
		if (rune_run(&rt, bundle, args, NULL, &rerr) < 0)
			fprintf(stderr, "%s\n", err_msg(rerr));
	}
	settings_free(&rt);
	remove_dead_socket(bundle);
	snprintf(path, sizeof(path), "%s/rootfs", bundle);
	while (umount2(path, 0) == 0)
		;
	if (errno == EBUSY)
		umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "%s/init.pid", bundle);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, pidbuf, sizeof(pidbuf) - 1);

		pidbuf[r > 0 ? r : 0] = '\0';
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	resp.pid = (uint32_t)strtoul(pidbuf, NULL, 10);
	resp.exit_status = 128 + SIGKILL;
	resp.exited_at = &ts;
	n = shim__delete_response__get_packed_size(&resp);
	buf = malloc(n);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "DeleteResponse");
	shim__delete_response__pack(&resp, buf);
	if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0)
		return err_sys(err, errno, "write DeleteResponse");
	return 0;
}

/* ------------------------------------------------------------ daemon */

static void open_log(void)
{
	/* containerd reads the bundle's `log` FIFO into its own log */
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

/* The socket file goes with the daemon (containerd never removes it). */
static void unlink_socket(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_path[0] == '/')
		unlink(sa.sun_path);
}

static int cmd_daemon(const struct args *a, err_t *err)
{
	struct shim s = { .ns = a->ns, .id = a->id, .address = a->address, .debug = a->debug };
	sigset_t set;
	int accept_conn = 0, ret;
	socklen_t len = sizeof(accept_conn);

	open_log();
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &accept_conn, &len) < 0 || !accept_conn)
		return err_set(err, EBADF, "fd 3 is not a listening socket: run `start`");
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 || fcntl(3, F_SETFL, O_NONBLOCK) < 0)
		return err_sys(err, errno, "listening socket");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return err_sys(err, errno, "PR_SET_CHILD_SUBREAPER");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.signal_fd < 0)
		return err_sys(err, errno, "signalfd");
	s.listen_fd = 3;
	s.pub.address = getenv("TTRPC_ADDRESS");
	if (s.pub.address && !*s.pub.address)
		s.pub.address = NULL;
	s.pub.fd = -1;
	if (a->debug)
		shim_log("serving %s for %s/%s", SHIM_SERVICE, a->ns, a->id);
	ret = shim_serve(&s, err);
	unlink_socket(3);
	close(3);
	task_free_all(&s);
	/* containerd is done with us (connections closed): the output still on its way */
	if (s.shutdown)
		stdio_linger(&s);
	stdio_free_all(&s);
	/* a last try for what containerd has not had yet */
	events_retry(&s);
	events_free(&s);
	if (s.pub.fd >= 0)
		close(s.pub.fd);
	close(s.signal_fd);
	return ret;
}

int main(int argc, char **argv)
{
	_cleanup_error_ err_t err = NULL;
	struct args a = { 0 };
	int ret;

	if (parse_args(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "containerd-shim-rune-v2: %s\n", err_msg(err));
		return 2;
	}
	if (a.version) {
		printf("containerd-shim-rune-v2:\n  Version: %s\n", SHIM_VERSION);
		return 0;
	}
	if (a.action && strcmp(a.action, "start") == 0)
		ret = cmd_start(argc, argv, &a, &err);
	else if (a.action && strcmp(a.action, "delete") == 0)
		ret = cmd_delete(&a, &err);
	else if (a.action)
		ret = err_set(&err, EINVAL, "unknown action %s", a.action);
	else
		ret = cmd_daemon(&a, &err);
	if (ret < 0) {
		/* for start, containerd shows this output as the error */
		fprintf(stderr, "containerd-shim-rune-v2: %s\n", err_msg(err));
		return 1;
	}
	return 0;
}
