/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task events to containerd: containerd.services.events.ttrpc.v1.Events/
 * Forward on TTRPC_ADDRESS, one Envelope per event whose Any carries the
 * event (type URL "containerd.events.TaskExit" and so on). One connection,
 * reopened once when a call fails.
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

#define EVENTS_SERVICE	  "containerd.services.events.ttrpc.v1.Events"
#define EVENTS_TIMEOUT_MS 5000
#define NS_KEY		  "containerd-namespace-ttrpc"

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

int publish(struct shim *s, const char *topic, const char *type, const void *msg_packed, size_t len)
{
	Shim__ForwardRequest req = SHIM__FORWARD_REQUEST__INIT;
	Shim__Envelope env = SHIM__ENVELOPE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	Shim__Any any = SHIM__ANY__INIT;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *url = NULL;
	struct timespec now;
	size_t n;

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
	n = shim__forward_request__get_packed_size(&req);
	buf = malloc(n);
	if (buf == NULL)
		return -ENOMEM;
	shim__forward_request__pack(&req, buf);
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_error_ err_t err = NULL;

		if (forward(s, buf, n, &err) == 0)
			return 0;
		shim_log("publish %s: %s", topic, err_msg(err));
		if (s->pub.fd >= 0)
			close(s->pub.fd);
		s->pub.fd = -1;
	}
	return -EIO;
}
