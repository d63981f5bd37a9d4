/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune-device-plugin: advertises the node's EPC to the kubelet, one device
 * per MiB (alibabacloud.com/sgx_epc_MiB). A thin main over the device
 * plugin library: options, then a loop on inotify (the kubelet's restart
 * removes our socket and creates kubelet.sock anew: serve again and
 * re-register) and signals (SIGHUP rescans, SIGTERM/SIGINT stop).
 */
#include <errno.h>
#include <libgen.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "device-plugin/devplug.h"
#include "rune-build.h"

static const char usage[] =
    "Usage: rune-device-plugin [OPTIONS]\n"
    "Advertises the node's EPC to the kubelet as " DEVPLUG_RESOURCE ", one device\n"
    "per MiB; Allocate gives the container SGX_EPC_LIMIT (enforced by rune), the SGX\n"
    "device nodes and aesmd's socket directory. See docs/epc.md.\n"
    "  --plugin-dir DIR      the kubelet's device plugin directory, where our socket\n"
    "                        goes [" DEVPLUG_DIR_DEFAULT "]\n"
    "  --kubelet-socket S    the kubelet's registration socket [DIR/kubelet.sock]\n"
    "  --socket-name NAME    our socket's name in DIR [" DEVPLUG_SOCKET_DEFAULT "]\n"
    "  --dev-dir DIR         where the SGX device nodes are [/dev]\n"
    "  --aesmd-socket-dir D  mount D read-only at " DEVPLUG_AESMD_CONTAINER " in every container\n"
    "  --config FILE         rune's config, for the emulated EPC's size when the CPU\n"
    "                        has no SGX [/etc/rune/config.json]\n"
    "  --rescan SECONDS      look at the devices and the EPC again this often;\n"
    "                        changes go to the kubelet (0: only on SIGHUP) [60]\n"
    "  --timeout SECONDS     how long a registration may take [5]\n"
    "  --version, --help\n";

enum {
	OPT_PLUGIN_DIR = 256,
	OPT_KUBELET,
	OPT_SOCKET,
	OPT_DEV,
	OPT_AESMD,
	OPT_CONFIG,
	OPT_RESCAN,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_HELP
};

static const struct option options[] = {
	{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
	{ "kubelet-socket", required_argument, NULL, OPT_KUBELET },
	{ "socket-name", required_argument, NULL, OPT_SOCKET },
	{ "dev-dir", required_argument, NULL, OPT_DEV },
	{ "aesmd-socket-dir", required_argument, NULL, OPT_AESMD },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "rescan", required_argument, NULL, OPT_RESCAN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/*
 * Seconds between register attempts while the kubelet does not answer:
 * 1, 2, 4, then 5 (kubelet.sock appears at bind, before the kubelet
 * listens: the first refusal is often only that).
 */
#define RETRY_SECONDS 5

#define log(fmt, ...) fprintf(stderr, "rune-device-plugin: " fmt "\n", ##__VA_ARGS__)

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "rune-device-plugin: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'rune-device-plugin --help'.\n");
	return 2;
}

static int parse_seconds(const char *s, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < 0 || *out > max ? -1 : 0;
}

static long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void log_inventory(struct devplug *p)
{
	const struct devplug_inventory *inv = devplug_inventory(p);
	char nodes[64] = "";

	for (unsigned i = 0; devplug_dev_nodes[i]; i++)
		if (inv->dev_nodes & (1u << i))
			snprintf(nodes + strlen(nodes), sizeof(nodes) - strlen(nodes), " %s",
				 devplug_dev_nodes[i]);
	log("EPC %llu bytes (%s): %u devices, %s; device nodes:%s",
	    (unsigned long long)inv->epc_bytes, inv->hardware ? "CPUID" : "emulator", inv->devices,
	    inv->healthy ? "healthy" : "unhealthy", nodes[0] ? nodes : " none");
}

struct loop {
	struct devplug *p;
	const char *kubelet_name; /* kubelet.sock's name in its directory */
	int timeout_ms;
	long rescan, next_rescan, next_register;
	int retry; /* seconds before the next attempt after a failure */
	bool registered;
};

/* Serves again when our socket went (the kubelet's restart), registers when due. */
static void keep_up(struct loop *l)
{
	_cleanup_error_ err_t err = NULL;
	struct stat st;

	if (!devplug_socket_present(l->p)) {
		log("our socket is gone (a kubelet restart?): serving anew");
		devplug_stop(l->p);
		if (devplug_start(l->p, &err) < 0) {
			log("%s", err_msg(err));
			l->next_register = now_s() + RETRY_SECONDS;
			return;
		}
		l->registered = false;
	}
	if (l->registered || now_s() < l->next_register)
		return;
	if (stat(devplug_kubelet_socket(l->p), &st) < 0 || !S_ISSOCK(st.st_mode)) {
		/* kubelet.sock's creation (inotify) or the retry time brings us back. */
		l->next_register = now_s() + RETRY_SECONDS;
		return;
	}
	if (devplug_register(l->p, l->timeout_ms, &err) < 0) {
		log("%s (again in %d s)", err_msg(err), l->retry);
		l->next_register = now_s() + l->retry;
		l->retry = l->retry * 2 < RETRY_SECONDS ? l->retry * 2 : RETRY_SECONDS;
		return;
	}
	l->registered = true;
	l->retry = 1;
	log("registered %s with the kubelet at %s", DEVPLUG_RESOURCE, devplug_kubelet_socket(l->p));
}

/* inotify: kubelet.sock created again means a new kubelet, which has to hear from us. */
static void on_inotify(struct loop *l, int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;

		if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len &&
		    strcmp(ev->name, l->kubelet_name) == 0) {
			l->registered = false;
			l->next_register = 0;
			l->retry = 1;
		}
		p += sizeof(*ev) + ev->len;
	}
}

static void rescan(struct loop *l)
{
	_cleanup_error_ err_t err = NULL;
	int ret = devplug_rescan(l->p, &err);

	if (ret < 0)
		log("rescan: %s", err_msg(err));
	else if (ret > 0)
		log_inventory(l->p);
	if (l->rescan)
		l->next_rescan = now_s() + l->rescan;
}

static int watch(int ifd, const char *dir)
{
	return inotify_add_watch(ifd, dir,
				 IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
}

static int run(struct loop *l, int sfd, int ifd)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = ifd, .events = POLLIN } };
		struct signalfd_siginfo si;
		long wake = l->registered ? LONG_MAX : l->next_register, now;

		keep_up(l);
		if (!l->registered)
			wake = l->next_register;
		if (l->rescan && l->next_rescan < wake)
			wake = l->next_rescan;
		now = now_s();
		if (poll(pfd, 2, wake == LONG_MAX ? -1 : (wake > now ? (wake - now) * 1000 : 0)) <
			0 &&
		    errno != EINTR)
			return 1;
		if (pfd[1].revents & POLLIN)
			on_inotify(l, ifd);
		if ((pfd[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGHUP) {
				log("stopping (signal %u)", si.ssi_signo);
				return 0;
			}
			rescan(l);
		}
		if (l->rescan && now_s() >= l->next_rescan)
			rescan(l);
	}
}

int main(int argc, char **argv)
{
	struct devplug_opts o = { .plugin_dir = DEVPLUG_DIR_DEFAULT,
				  .socket_name = DEVPLUG_SOCKET_DEFAULT,
				  .dev_dir = "/dev" };
	_cleanup_error_ err_t err = NULL;
	struct loop l = { .rescan = 60, .timeout_ms = 5000, .retry = 1 };
	struct devplug *p = NULL;
	char kubelet_dir[PATH_MAX];
	struct stat st;
	sigset_t set;
	long v;
	int c, sfd, ifd, ret;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_PLUGIN_DIR:
			o.plugin_dir = optarg;
			break;
		case OPT_KUBELET:
			o.kubelet_socket = optarg;
			break;
		case OPT_SOCKET:
			o.socket_name = optarg;
			break;
		case OPT_DEV:
			o.dev_dir = optarg;
			break;
		case OPT_AESMD:
			o.aesmd_dir = optarg;
			break;
		case OPT_CONFIG:
			o.config_file = optarg;
			break;
		case OPT_RESCAN:
			if (parse_seconds(optarg, 86400, &l.rescan) < 0)
				return bad_usage("--rescan: \"%s\" is not a number of seconds",
						 optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, 600, &v) < 0 || v == 0)
				return bad_usage(
				    "--timeout: \"%s\" is not a number of seconds (1-600)", optarg);
			l.timeout_ms = v * 1000;
			break;
		case OPT_VERSION:
			printf("rune-device-plugin %s (commit %s)\n", RUNE_VERSION, RUNE_COMMIT);
			return 0;
		case OPT_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			return bad_usage("%s", "unknown option");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\"", argv[optind]);
	if (o.aesmd_dir &&
	    (o.aesmd_dir[0] != '/' || stat(o.aesmd_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		log("--aesmd-socket-dir %s: not an absolute path to a directory", o.aesmd_dir);
		return 1;
	}
	/* Signals through a signalfd; SIGPIPE never (a kubelet that hangs up is not fatal). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
	    (ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		log("signalfd/inotify: %s", strerror(errno));
		return 1;
	}
	if (devplug_new(&o, &p, &err) < 0 || devplug_start(p, &err) < 0) {
		log("%s", err_msg(err));
		devplug_free(p);
		return 1;
	}
	log_inventory(p);
	l.p = p;
	snprintf(kubelet_dir, sizeof(kubelet_dir), "%s", devplug_kubelet_socket(p));
	l.kubelet_name = strrchr(kubelet_dir, '/') ? strrchr(devplug_kubelet_socket(p), '/') + 1
						   : devplug_kubelet_socket(p);
	l.next_rescan = now_s() + l.rescan;
	/* kubelet.sock's directory, and ours (our socket's removal wakes the loop too). */
	if (watch(ifd, dirname(kubelet_dir)) < 0 || watch(ifd, o.plugin_dir) < 0) {
		log("watch %s and %s: %s", kubelet_dir, o.plugin_dir, strerror(errno));
		devplug_free(p);
		return 1;
	}
	ret = run(&l, sfd, ifd);
	devplug_free(p);
	close(ifd);
	close(sfd);
	return ret;
}
