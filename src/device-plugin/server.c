/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's socket, served from a thread of its own so that the kubelet
 * may call back (GetDevicePluginOptions, ListAndWatch) while the caller's
 * thread is still in Register; ListAndWatch streams get the device list
 * again whenever a rescan changes it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "device-plugin/devplug.h"
#include "device-plugin/grpc.h"
#include "device-plugin/service.h"
#include "deviceplugin.pb-c.h"

#define MAX_WATCHERS 16

struct devplug {
	struct devplug_opts opts;
	char *socket_path, *kubelet_socket;
	struct stat socket_st; /* the socket we bound, to tell it from a newer one */
	pthread_mutex_t lock;  /* inv, version, stopping */
	struct devplug_inventory inv;
	unsigned version; /* bumped by each change of inv */
	bool stopping;
	int wake_fd; /* eventfd: rescans and stop reach the serving thread */
	struct grpc_server *srv;
	pthread_t thread;
	bool running;
	/* The serving thread's own. */
	struct grpc_call *watchers[MAX_WATCHERS];
	unsigned pushed_version;
};

static struct devplug_inventory snapshot(struct devplug *p, unsigned *version)
{
	struct devplug_inventory inv;

	pthread_mutex_lock(&p->lock);
	inv = p->inv;
	if (version)
		*version = p->version;
	pthread_mutex_unlock(&p->lock);
	return inv;
}

static void answer(struct grpc_call *call, enum grpc_status st, struct devplug_answer *a)
{
	if (st == GRPC_OK)
		grpc_call_reply(call, a->out, a->out_len);
	else
		grpc_call_finish(call, st, a->why);
	free(a->out);
}

static bool empty_request(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	V1beta1__Empty *e = v1beta1__empty__unpack(NULL, len, msg);

	if (e == NULL) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT, "Empty: not a valid message");
		return false;
	}
	v1beta1__empty__free_unpacked(e, NULL);
	return true;
}

static void on_options(struct grpc_call *call, const uint8_t *msg, size_t len, void *data)
{
	struct devplug_answer a = { 0 };

	(void)data;
	if (empty_request(call, msg, len))
		answer(call, devplug_options(&a), &a);
}

static void on_list_and_watch(struct grpc_call *call, const uint8_t *msg, size_t len, void *data)
{
	struct devplug *p = data;
	struct devplug_inventory inv = snapshot(p, NULL);
	struct devplug_answer a = { 0 };
	enum grpc_status st;
	unsigned i;

	if (!empty_request(call, msg, len))
		return;
	for (i = 0; i < MAX_WATCHERS && p->watchers[i]; i++)
		;
	if (i == MAX_WATCHERS) {
		grpc_call_finish(call, GRPC_RESOURCE_EXHAUSTED, "too many ListAndWatch streams");
		return;
	}
	if ((st = devplug_list(&inv, &a)) != GRPC_OK) {
		grpc_call_finish(call, st, a.why);
		return;
	}
	if (grpc_call_send(call, a.out, a.out_len) == 0)
		p->watchers[i] = call; /* open until the kubelet goes: on_close */
	else
		grpc_call_finish(call, GRPC_INTERNAL, "cannot send the device list");
	free(a.out);
}

static void on_allocate(struct grpc_call *call, const uint8_t *msg, size_t len, void *data)
{
	struct devplug *p = data;
	struct devplug_inventory inv = snapshot(p, NULL);
	struct devplug_answer a = { 0 };

	answer(call, devplug_allocate(&p->opts, &inv, msg, len, &a), &a);
}

static void on_preferred(struct grpc_call *call, const uint8_t *msg, size_t len, void *data)
{
	struct devplug_inventory inv = snapshot(data, NULL);
	struct devplug_answer a = { 0 };

	answer(call, devplug_preferred(&inv, msg, len, &a), &a);
}

static void on_prestart(struct grpc_call *call, const uint8_t *msg, size_t len, void *data)
{
	struct devplug_inventory inv = snapshot(data, NULL);
	struct devplug_answer a = { 0 };

	answer(call, devplug_prestart(&inv, msg, len, &a), &a);
}

static const struct grpc_method methods[] = {
	{ "/v1beta1.DevicePlugin/GetDevicePluginOptions", on_options },
	{ "/v1beta1.DevicePlugin/ListAndWatch", on_list_and_watch },
	{ "/v1beta1.DevicePlugin/Allocate", on_allocate },
	{ "/v1beta1.DevicePlugin/GetPreferredAllocation", on_preferred },
	{ "/v1beta1.DevicePlugin/PreStartContainer", on_prestart },
	{ NULL, NULL },
};

static void on_close(struct grpc_call *call, void *data)
{
	struct devplug *p = data;

	for (unsigned i = 0; i < MAX_WATCHERS; i++)
		if (p->watchers[i] == call)
			p->watchers[i] = NULL;
}

/* A rescan changed the list: every stream gets it (stop: the thread ends). */
static int on_wake(void *data)
{
	struct devplug *p = data;
	struct devplug_answer a = { 0 };
	struct devplug_inventory inv;
	unsigned version;
	uint64_t v;
	bool stop;

	if (read(p->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 1;
	pthread_mutex_lock(&p->lock);
	stop = p->stopping;
	pthread_mutex_unlock(&p->lock);
	if (stop)
		return 1;
	inv = snapshot(p, &version);
	if (version == p->pushed_version)
		return 0;
	p->pushed_version = version;
	if (devplug_list(&inv, &a) != GRPC_OK)
		return 0;
	for (unsigned i = 0; i < MAX_WATCHERS; i++)
		if (p->watchers[i])
			grpc_call_send(p->watchers[i], a.out, a.out_len);
	free(a.out);
	return 0;
}

static void *serve(void *data)
{
	struct devplug *p = data;
	_cleanup_error_ err_t err = NULL;

	if (grpc_server_serve(p->srv, p->wake_fd, &err) < 0)
		fprintf(stderr, "rune-device-plugin: %s\n", err_msg(err));
	return NULL;
}

static char *join(const char *dir, const char *name)
{
	char *s;

	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

int devplug_new(const struct devplug_opts *o, struct devplug **out, err_t *err)
{
	struct devplug *p = calloc(1, sizeof(*p));
	int ret;

	if (p == NULL)
		return err_sys(err, ENOMEM, "device plugin");
	p->opts = *o;
	p->wake_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	p->socket_path = join(o->plugin_dir, o->socket_name);
	p->kubelet_socket = o->kubelet_socket ? strdup(o->kubelet_socket)
					      : join(o->plugin_dir, DEVPLUG_KUBELET_SOCKET);
	if (p->socket_path == NULL || p->kubelet_socket == NULL) {
		devplug_free(p);
		return err_sys(err, ENOMEM, "device plugin");
	}
	if (strchr(o->socket_name, '/') ||
	    strlen(p->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		devplug_free(p);
		return err_set(err, EINVAL, "socket %s/%s: not a name, or too long", o->plugin_dir,
			       o->socket_name);
	}
	if ((ret = devplug_scan(o, &p->inv, err)) < 0 ||
	    (p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		if (ret == 0)
			ret = err_sys(err, errno, "eventfd");
		devplug_free(p);
		return ret;
	}
	p->version = 1;
	*out = p;
	return 0;
}

static int bind_socket(struct devplug *p, err_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	strcpy(sa.sun_path, p->socket_path);
	if (fd < 0)
		return err_sys(err, errno, "socket");
	/* A stale socket of an earlier run (a file of any other type is not ours to remove). */
	if (unlink(p->socket_path) < 0 && errno != ENOENT)
		return err_sys(err, errno, "remove %s", p->socket_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_sys(err, errno, "bind %s", p->socket_path);
	if (chmod(p->socket_path, 0600) < 0 || listen(fd, 16) < 0 ||
	    stat(p->socket_path, &p->socket_st) < 0) {
		int ret = err_sys(err, errno, "listen on %s", p->socket_path);

		unlink(p->socket_path);
		return ret;
	}
	return steal_fd(fd);
}

int devplug_start(struct devplug *p, err_t *err)
{
	struct grpc_server_ops ops = {
		.methods = methods, .on_close = on_close, .on_wake = on_wake, .data = p
	};
	int fd, ret;

	if (p->running)
		return 0;
	if ((fd = bind_socket(p, err)) < 0)
		return fd;
	if ((ret = grpc_server_new(fd, &ops, &p->srv, err)) < 0) {
		unlink(p->socket_path);
		return ret;
	}
	p->stopping = false;
	p->pushed_version = p->version;
	if ((ret = pthread_create(&p->thread, NULL, serve, p)) != 0) {
		grpc_server_free(p->srv);
		p->srv = NULL;
		unlink(p->socket_path);
		return err_sys(err, ret, "start the server thread");
	}
	p->running = true;
	return 0;
}

int devplug_socket_present(struct devplug *p)
{
	struct stat st;

	return stat(p->socket_path, &st) == 0 && st.st_ino == p->socket_st.st_ino &&
	       st.st_dev == p->socket_st.st_dev;
}

void devplug_stop(struct devplug *p)
{
	uint64_t one = 1;

	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_mutex_unlock(&p->lock);
	if (write(p->wake_fd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd takes 1 unless it is near 2^64 */
	pthread_join(p->thread, NULL);
	grpc_server_free(p->srv); /* closes the streams: on_close clears watchers */
	p->srv = NULL;
	p->running = false;
	if (devplug_socket_present(p))
		unlink(p->socket_path);
}

int devplug_register(struct devplug *p, int timeout_ms, err_t *err)
{
	V1beta1__RegisterRequest r = V1BETA1__REGISTER_REQUEST__INIT;
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	_cleanup_free_ uint8_t *req = NULL, *resp = NULL;
	size_t resp_len;
	int ret;

	o.get_preferred_allocation_available = true;
	r.version = DEVPLUG_API_VERSION;
	r.endpoint = (char *)p->opts.socket_name;
	r.resource_name = DEVPLUG_RESOURCE;
	r.options = &o;
	if ((req = malloc(protobuf_c_message_get_packed_size(&r.base))) == NULL)
		return err_sys(err, ENOMEM, "register");
	ret = grpc_unary_call(p->kubelet_socket, "/v1beta1.Registration/Register", req,
			      protobuf_c_message_pack(&r.base, req), &resp, &resp_len, timeout_ms,
			      err);
	return ret < 0 ? err_wrap(err, "register with the kubelet") : 0;
}

static bool same_inventory(const struct devplug_inventory *a, const struct devplug_inventory *b)
{
	return a->epc_bytes == b->epc_bytes && a->hardware == b->hardware &&
	       a->devices == b->devices && a->healthy == b->healthy && a->dev_nodes == b->dev_nodes;
}

int devplug_rescan(struct devplug *p, err_t *err)
{
	struct devplug_inventory inv;
	uint64_t one = 1;
	bool changed;
	int ret;

	if ((ret = devplug_scan(&p->opts, &inv, err)) < 0)
		return ret;
	pthread_mutex_lock(&p->lock);
	changed = !same_inventory(&inv, &p->inv);
	if (changed) {
		p->inv = inv;
		p->version++;
	}
	pthread_mutex_unlock(&p->lock);
	if (changed && write(p->wake_fd, &one, sizeof(one)) < 0)
		return err_sys(err, errno, "wake the server thread");
	return changed;
}

const struct devplug_inventory *devplug_inventory(struct devplug *p)
{
	return &p->inv;
}

const char *devplug_kubelet_socket(struct devplug *p)
{
	return p->kubelet_socket;
}

void devplug_free(struct devplug *p)
{
	if (p == NULL)
		return;
	devplug_stop(p);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	pthread_mutex_destroy(&p->lock);
	free(p->socket_path);
	free(p->kubelet_socket);
	free(p);
}
