/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task events to containerd: containerd.services.events.ttrpc.v1.Events/
 * Forward on TTRPC_ADDRESS, one Envelope per event whose Any carries the
 * event (type URL "containerd.events.TaskExit" and so on). One connection,
 * reopened once when a call fails; events that still cannot go (containerd
 * restarting) wait in a queue, in order, retried after 1 s, then 2, 4, 8
 * and every 16 s, so that a TaskExit is not lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "task.pb-c.h"

#define EVENTS_SERVICE	    "containerd.services.events.ttrpc.v1.Events"
#define EVENTS_TIMEOUT_MS   5000
#define NS_KEY		    "containerd-namespace-ttrpc"
#define EVENTS_RETRY_MS	    1000
#define EVENTS_RETRY_MAX_MS 16000
#define EVENTS_MAX_AGE_MS   (5 * 60 * 1000)
#define EVENTS_MAX_QUEUED   1024

static int pub_connect(struct publisher *p, err_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = p->address;
	int fd;

	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(err, ENAMETOOLONG, "events address %s: too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return err_sys(err, e, "connect to %s", path);
	}
	p->fd = fd;
	p->stream = 1;
	return 0;
}

static int forward(struct shim *s, const uint8_t *buf, size_t n, err_t *err)
{
	struct publisher *p = &s->pub;

	if (p->fd < 0 && pub_connect(p, err) < 0)
		return -EIO;
	return ttrpc_call(p->fd, &p->stream, EVENTS_SERVICE, "Forward", buf, n, NS_KEY, s->ns,
			  EVENTS_TIMEOUT_MS, err);
}

/* One event to forward, packed, with its time. */
struct pending {
	struct pending *next;
	char *topic;
	uint8_t *buf;
	size_t len;
	struct timespec at; /* CLOCK_MONOTONIC */
};

static void pending_free(struct pending *e)
{
	free(e->topic);
	free(e->buf);
	free(e);
}

static long age_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * Forwards the queue in order until one fails (it stays first, retried
 * later: containerd may be restarting); events older than EVENTS_MAX_AGE_MS
 * or beyond EVENTS_MAX_QUEUED are dropped, logged.
 */
static void flush(struct shim *s)
{
	struct publisher *p = &s->pub;
	size_t n = 0;

	for (struct pending *e = p->queue; e; e = e->next)
		n++;
	while (p->queue) {
		_cleanup_error_ err_t err = NULL;
		struct pending *e = p->queue;

		if (n <= EVENTS_MAX_QUEUED && age_ms(&e->at) < EVENTS_MAX_AGE_MS) {
			if (forward(s, e->buf, e->len, &err) < 0) {
				if (p->fd >= 0)
					close(steal_fd(p->fd));
				/* a fresh connection at once: the old one may be stale */
				err_free(&err);
				if (forward(s, e->buf, e->len, &err) < 0) {
					if (p->fd >= 0)
						close(steal_fd(p->fd));
					if (!p->failing)
						shim_log("publish %s: %s (will retry)", e->topic,
							 err_msg(err));
					/* 1 s, 2 s, ... 16 s: a hung containerd costs a timeout each time */
					p->backoff_ms =
					    p->failing ? p->backoff_ms * 2 : EVENTS_RETRY_MS;
					if (p->backoff_ms > EVENTS_RETRY_MAX_MS)
						p->backoff_ms = EVENTS_RETRY_MAX_MS;
					p->failing = true;
					clock_gettime(CLOCK_MONOTONIC, &p->tried);
					return;
				}
			}
			if (p->failing)
				shim_log("publish: containerd reached again");
			p->failing = false;
		} else {
			shim_log("publish %s: dropped (%s)", e->topic,
				 n > EVENTS_MAX_QUEUED ? "too many queued" : "too old");
		}
		p->queue = e->next;
		pending_free(e);
		n--;
	}
}

int events_timeout(const struct shim *s)
{
	long left;

	if (s->pub.queue == NULL)
		return -1;
	left = s->pub.backoff_ms - age_ms(&s->pub.tried);
	return left < 0 ? 0 : (int)left;
}

void events_retry(struct shim *s)
{
	if (s->pub.queue && age_ms(&s->pub.tried) >= s->pub.backoff_ms)
		flush(s);
}

void events_free(struct shim *s)
{
	while (s->pub.queue) {
		struct pending *e = s->pub.queue;

		s->pub.queue = e->next;
		pending_free(e);
	}
}

int publish(struct shim *s, const char *topic, const char *type, const void *msg_packed, size_t len)
{
	Shim__ForwardRequest req = SHIM__FORWARD_REQUEST__INIT;
	Shim__Envelope env = SHIM__ENVELOPE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	Shim__Any any = SHIM__ANY__INIT;
	_cleanup_free_ char *url = NULL;
	struct pending *e, **tail;
	struct timespec now;

	if (s->pub.address == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	if (asprintf(&url, "containerd.events.%s", type) < 0)
		return -ENOMEM;
	any.type_url = url;
	any.value.data = (uint8_t *)msg_packed;
	any.value.len = len;
	env.timestamp = &ts;
	env.namespace_ = (char *)s->ns;
	env.topic = (char *)topic;
	env.event = &any;
	req.envelope = &env;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->len = shim__forward_request__get_packed_size(&req);
	e->buf = malloc(e->len);
	e->topic = strdup(topic);
	if (e->buf == NULL || e->topic == NULL) {
		pending_free(e);
		return -ENOMEM;
	}
	shim__forward_request__pack(&req, e->buf);
	clock_gettime(CLOCK_MONOTONIC, &e->at);
	for (tail = &s->pub.queue; *tail; tail = &(*tail)->next)
		;
	*tail = e;
	/* in order: behind events still waiting for containerd */
	if (!s->pub.failing)
		flush(s);
	return 0;
}
