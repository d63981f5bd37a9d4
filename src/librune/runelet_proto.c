/* SPDX-License-Identifier: Apache-2.0 */
/* The runelet protocol's framing (runelet_proto.h). */
#include "librune/runelet_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

int runelet_send(int fd, json_t *j, const int *fds, size_t nfds)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int ret;

	if (text == NULL)
		return -ENOMEM;
	/* One datagram a message: the receiver's buffer is RUNELET_MSG_MAX. */
	if (strlen(text) > RUNELET_MSG_MAX) {
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

json_t *runelet_recv(int fd, int *fds, size_t *nfds)
{
	_cleanup_free_ char *buf = malloc(RUNELET_MSG_MAX + 1);
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = RUNELET_MSG_MAX };
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

void runelet_reply_error(int conn, int code, const char *msg)
{
	json_t *j = json_pack("{s:s,s:i,s:s}", "type", "error", "code", code, "msg", msg);

	runelet_send(conn, j, NULL, 0);
	json_decref(j);
}
