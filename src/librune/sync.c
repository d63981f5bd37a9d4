/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "librune/util.h"

int sync_send(int fd, enum sync_type type, int64_t value, int passfd)
{
	struct sync_msg m = { .type = type, .value = value };

	/* Only the header matters for these; keep the datagram small. */
	return send_fd(fd, passfd, &m, offsetof(struct sync_msg, msg) + 1);
}

int sync_send_error(int fd, err_t err, int code)
{
	struct sync_msg m = { .type = SYNC_ERROR };

	m.code = err && err->code ? err->code : (code ? code : EINVAL);
	snprintf(m.msg, sizeof(m.msg), "%s", err ? err_msg(err) : strerror(m.code));
	return send_fd(fd, -1, &m, offsetof(struct sync_msg, msg) + strlen(m.msg) + 1);
}

int sync_recv(int fd, struct sync_msg *m, int *passfd)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = recv_fd(fd, passfd, m, sizeof(*m));
	if (ret < 0)
		return ret;
	if ((size_t)ret < offsetof(struct sync_msg, msg))
		return -EPROTO;
	m->msg[sizeof(m->msg) - 1] = '\0';
	return 0;
}

int sync_expect(int fd, enum sync_type want, struct sync_msg *m, int *passfd, const char *who,
		err_t *err)
{
	int pf = -1, ret;

	ret = sync_recv(fd, m, &pf);
	if (passfd)
		*passfd = pf;
	else if (pf >= 0)
		close(pf);
	if (ret == -ECONNRESET)
		return err_set(err, EIO, "%s exited unexpectedly", who);
	if (ret < 0)
		return err_sys(err, -ret, "read from %s", who);
	if (m->type == SYNC_ERROR)
		return err_set(err, m->code, "%s", m->msg);
	if (m->type != (int)want)
		return err_set(err, EPROTO, "%s: unexpected message %d (wanted %d)", who, m->type,
			       want);
	return 0;
}
