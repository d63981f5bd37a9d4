/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd-shim-rune-v2: one daemon per group of containers (a CRI pod),
 * a single-threaded poll() loop serving containerd.task.v2.Task over ttrpc
 * and reaping the containers' processes as a child subreaper.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"
#include "shim/ttrpc.h"

#define SHIM_SERVICE	"containerd.task.v2.Task"
#define SHIM_SOCKET_DIR "/run/containerd/s"
#define SHIM_RUNE_ROOT	"/run/containerd/runc"
#define SHIM_CONFIG	"/etc/rune/shim.json"
#define SHIM_CONFIG_ENV "RUNE_SHIM_CONFIG" /* another config file (tests) */

/* The Carrier's string settings (shim.json; docs/shim.md). */
enum carrier_key {
	CS_METHOD,     /* signature_method: "server", "client" or "local-key" */
	CS_KEY,	       /* signing_key */
	CS_URL,	       /* signature_server.url */
	CS_TOKEN,      /* signature_server.token_file */
	CS_CACERT,     /* signature_server.cacert */
	CS_CERT,       /* signature_server.client_cert */
	CS_CLIENT_KEY, /* signature_server.client_key */
	CS_CACHE,      /* carrier_cache */
	CS_N,
};

/*
 * What runs a container: the runtime binary, its --root, --systemd-cgroup;
 * and how the Carrier converts an enclave container's image.
 * While being merged (config.c), unset is NULL / -1 (0 for the numbers).
 */
struct settings {
	char *rune;
	char *root;
	int systemd_cgroup;
	char *carrier[CS_N];
	long cache_entries, cache_mb; /* carrier_cache_entries, carrier_cache_mb */
};

struct conn {
	struct conn *next;
	int fd;
	uint32_t last_stream;
	struct ttrpc_rx rx;
	struct ttrpc_tx tx;
	bool closing; /* flush, then close (Shutdown) */
};

/* One direction of a process's stdio, copied in the loop (stdio.c). */
struct copy {
	struct copy *next;
	const struct proc *owner; /* NULL: the process was deleted, output left to write */
	int src, dst;		  /* -1 once done */
	bool input;		  /* the client's stdin to the process */
	bool eof;		  /* src ended: close dst once buf is written */
	size_t off, len;	  /* pending bytes in buf */
	uint8_t *buf;
	struct timespec active; /* last progress */
};

/* The container's init or one of its execs. */
struct proc {
	struct proc *next; /* the container's execs */
	struct container *ct;
	char *exec_id; /* NULL: the init */
	pid_t pid;     /* 0: not started (an exec) */
	int status;    /* SHIM__STATUS__* */
	bool exited;
	uint32_t exit_status;
	struct timespec exited_at;
	char *stdio[3];
	bool terminal;
	int console;  /* the pty master, -1 */
	pid_t logger; /* binary:// logger, 0 */
	char *spec;   /* an exec's OCI Process, JSON */
	size_t spec_len;
};

struct container {
	struct container *next;
	char *id;
	char *bundle;
	struct settings rt; /* its runtime, root with the namespace */
	bool mounted;	    /* rootfs mounted by the shim */
	struct proc init;
	struct proc *execs;
	bool init_reaped; /* its exit is held until its execs' exits are out */
	int init_wstatus;
	int oom_fd;	/* eventfd (cgroup v1) or inotify (v2), -1 */
	char *oom_path; /* the file with the oom_kill count */
	uint64_t oom_kills;
	bool oom_v2;
};

struct wait {
	struct wait *next;
	struct conn *conn;
	uint32_t stream;
	char *id;
	char *exec_id; /* "" for the init */
};

struct publisher {
	const char *address; /* TTRPC_ADDRESS, or NULL: no events */
	int fd;
	uint32_t stream;
	struct pending *queue; /* not forwarded yet, oldest first */
	bool failing;
	struct timespec tried; /* last failed attempt */
	long backoff_ms;       /* until the next one */
};

struct shim {
	const char *ns;
	const char *id;
	const char *address;
	bool debug;
	int listen_fd;
	int signal_fd;
	struct conn *conns;
	struct container *containers;
	struct wait *waits;
	struct copy *copies;
	struct publisher pub;
	bool exit;     /* leave the loop */
	bool shutdown; /* by Shutdown: write out the output left, then exit */
};

/* server.c */
int shim_serve(struct shim *s, err_t *err);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* task.c: one request; answers through the connection (or later, for Wait). */
void task_dispatch(struct shim *s, struct conn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len);
void task_reaped(struct shim *s, pid_t pid, int wstatus);
void task_conn_closed(struct shim *s, struct conn *c);
void task_free_all(struct shim *s);
int reply(struct conn *c, uint32_t stream, int code, const char *msg, const void *payload,
	  size_t len);

/* rune.c: runs `rune --root R [--systemd-cgroup] [--log B/log.json --log-format json] ARGS...`. */
struct rune_io {
	int fds[3]; /* the child's stdio, -1: /dev/null (stdout/stderr: captured) */
	char **out; /* if not NULL: what it wrote on stdout */
};
int rune_run(const struct settings *rt, const char *bundle, const char *const *args,
	     struct rune_io *io, err_t *err);
/* The rune beside the shim binary, else on PATH, else "rune". */
char *rune_find(void);
/* name beside the shim binary, else on PATH, else name. */
char *sibling_find(const char *name);
/*
 * Runs argv (stdin /dev/null) for at most timeout_ms: 0, with its stdout
 * in *out if out; else the last line of its stderr in err.
 */
int helper_run(const char *const *argv, int timeout_ms, char **out, err_t *err);
/* name (no '/') on PATH, or NULL. */
char *path_lookup(const char *name);

/* config.c: shim.json. A file must be root's, not group/other-writable. */
int config_parse(const char *text, size_t len, const char *name, const char *handler,
		 struct settings *st, err_t *err);
/* The flat TOML table containerd 1.7+ sends as runtimeoptions' ConfigBody. */
int config_parse_toml(const char *text, size_t len, const char *name, const char *handler,
		      struct settings *st, err_t *err);
int config_load(const char *path, bool missing_ok, const char *handler, struct settings *st,
		err_t *err);
const char *config_path(void); /* $RUNE_SHIM_CONFIG, else /etc/rune/shim.json */
void settings_merge(struct settings *dst, const struct settings *over);
void settings_free(struct settings *st);

/*
 * options.c: a container's settings from shim.json, the request's options
 * (a Shim__Any, NULL: none) and the defaults; kept in the bundle for delete.
 */
struct Shim__Any;
int options_resolve(const char *ns, const char *bundle, const struct Shim__Any *opts,
		    struct settings *out, err_t *err);
int options_save(const char *bundle, const struct settings *st, err_t *err);
int options_saved(const char *bundle, struct settings *st);
char *bundle_annotation(const char *bundle, const char *key);

/* stdio.c: a process's streams around one rune run (create, exec). */
struct stdio_run {
	int fds[3];   /* the process's ends: rune's stdio */
	int cp[3][2]; /* the shim's ends to copy: src, dst (-1: none) */
	int console;  /* listening --console-socket, -1 */
	char *console_dir, *console_path;
};
int stdio_prepare(struct shim *s, struct proc *p, struct stdio_run *io, err_t *err);
/* After rune ran (ok or not): closes the process's ends, starts the copies. */
int stdio_finish(struct shim *s, struct proc *p, struct stdio_run *io, bool ok, err_t *err);
void stdio_close_input(struct shim *s, const struct proc *p);
/* p is deleted: its output still pending is written on, in the loop. */
void stdio_release(struct shim *s, struct proc *p);
/* The loop's share: 2 pollfds per copy (stdio_count), filled, then handled. */
size_t stdio_count(const struct shim *s);
void stdio_pollfds(struct shim *s, struct pollfd *pfds);
void stdio_handle(struct shim *s, const struct pollfd *pfds);
/* The poll timeout the copies of deleted processes need (-1: none). */
int stdio_timeout(const struct shim *s);
/* After the last container: write out what is left, then return. */
void stdio_linger(struct shim *s);
void stdio_free_all(struct shim *s);

/*
 * stats.c: `rune events --stats` output as containerd's cgroup Metrics,
 * packed: v2 on a unified host (stats_unified()), else v1.
 */
bool stats_unified(void);
int stats_metrics(const char *text, bool unified, const char **type_url, uint8_t **buf, size_t *len,
		  err_t *err);

/* oom.c: /tasks/oom from the container's memory cgroup; one pollfd per container. */
int oom_watch(struct container *ct, err_t *err);
void oom_unwatch(struct container *ct);
size_t oom_count(const struct shim *s);
void oom_pollfds(struct shim *s, struct pollfd *pfds);
void oom_handle(struct shim *s, const struct pollfd *pfds);

/*
 * carrier.c: an enclave container's TEE files at Create (before rune
 * create, its rootfs mounted): `rune-image carrier` with the container's
 * settings; nothing to do for other containers.
 */
struct Shim__CreateTaskRequest;
int carrier_prepare(const struct container *ct, const struct Shim__CreateTaskRequest *r,
		    err_t *err);

/* events.c: publish queues the event and forwards the queue. */
int publish(struct shim *s, const char *topic, const char *type, const void *msg_packed,
	    size_t len);
int events_timeout(const struct shim *s); /* for poll: -1, or ms to the next retry */
void events_retry(struct shim *s);
void events_free(struct shim *s);

#endif
