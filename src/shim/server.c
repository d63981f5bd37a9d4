/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's loop: poll() over the listening socket, a signalfd (SIGCHLD:
 * reap every exited child, the container inits re-parented to us as a
 * subreaper; SIGTERM/SIGINT: leave), each ttrpc connection, the
 * processes' stdio copies and the containers' OOM notices. Requests are handled one at a time in arrival
 * order; Wait is answered later.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "ttrpc.pb-c.h"

void shim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "containerd-shim-rune-v2[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void conn_free(struct shim *s, struct conn *c)
{
	task_conn_closed(s, c);
	close(c->fd);
	ttrpc_rx_free(&c->rx);
	ttrpc_tx_free(&c->tx);
	free(c);
}

static void accept_conn(struct shim *s)
{
	_cleanup_error_ err_t err = NULL;
	struct conn *c;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (ttrpc_check_peer(fd, &err) < 0) {
		shim_log("connection refused: %s", err_msg(err));
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = s->conns;
	s->conns = c;
}

static void handle_frame(struct shim *s, struct conn *c, const struct ttrpc_hdr *h,
			 const uint8_t *data)
{
	_cleanup_error_ err_t err = NULL;
	Ttrpc__Request *req;

	if (h->type != TTRPC_REQUEST)
		return; /* no streams: Data frames have nowhere to go */
	if (ttrpc_check_stream(&c->last_stream, h->stream, &err) < 0) {
		reply(c, h->stream, TTRPC_INVALID_ARGUMENT, err_msg(err), NULL, 0);
		return;
	}
	req = ttrpc__request__unpack(NULL, h->len, data);
	if (req == NULL) {
		reply(c, h->stream, TTRPC_INTERNAL, "ttrpc Request: bad message", NULL, 0);
		return;
	}
	if (strcmp(req->service, SHIM_SERVICE) != 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "service %.200s", req->service);
		reply(c, h->stream, TTRPC_UNIMPLEMENTED, msg, NULL, 0);
	} else {
		if (s->debug)
			shim_log("%s %s (stream %u)", req->service, req->method, h->stream);
		task_dispatch(s, c, h->stream, req->method, req->payload.data, req->payload.len);
	}
	ttrpc__request__free_unpacked(req, NULL);
}

/* Reads what is there and serves every whole request; < 0: close it. */
static int conn_read(struct shim *s, struct conn *c)
{
	_cleanup_error_ err_t err = NULL;
	uint8_t buf[16384];
	struct ttrpc_hdr h;
	const uint8_t *data;
	ssize_t n;
	int r;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	if (ttrpc_rx_feed(&c->rx, buf, (size_t)n, &err) < 0)
		return -ENOMEM;
	while ((r = ttrpc_rx_next(&c->rx, &h, &data)) != TTRPC_RX_MORE) {
		if (r == TTRPC_RX_OVERSIZE) {
			char msg[96];

			snprintf(msg, sizeof(msg), "message length %u exceeds maximum %u", h.len,
				 TTRPC_MAX_DATA);
			reply(c, h.stream, TTRPC_RESOURCE_EXHAUSTED, msg, NULL, 0);
			continue;
		}
		handle_frame(s, c, &h, data);
	}
	return 0;
}

static void reap(struct shim *s)
{
	struct signalfd_siginfo si;
	int wstatus;
	pid_t pid;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			s->exit = true;
	}
	/* signals coalesce: reap until nothing is left */
	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
		task_reaped(s, pid, wstatus);
}

static void flush_all(struct shim *s, int timeout_ms)
{
	for (struct conn *c = s->conns; c; c = c->next) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };

		while (ttrpc_tx_pending(&c->tx) && ttrpc_tx_flush(&c->tx, c->fd, NULL) == 1 &&
		       poll(&p, 1, timeout_ms) > 0)
			;
	}
}

int shim_serve(struct shim *s, err_t *err)
{
	_cleanup_free_ struct pollfd *pfds = NULL;
	size_t cap = 0;

	while (!s->exit) {
		size_t n = 2, i, nio = stdio_count(s), io, noom = oom_count(s), oom;
		struct conn *c, **pc;

		for (c = s->conns; c; c = c->next)
			n++;
		io = n;
		n += nio;
		oom = n;
		n += noom;
		if (n > cap) {
			struct pollfd *np = realloc(pfds, n * 2 * sizeof(*pfds));

			if (np == NULL)
				return err_sys(err, ENOMEM, "poll set");
			pfds = np;
			cap = n * 2;
		}
		pfds[0] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = s->signal_fd, .events = POLLIN };
		for (i = 2, c = s->conns; c; c = c->next, i++)
			pfds[i] = (struct pollfd){
				.fd = c->fd,
				.events = (short)(POLLIN | (ttrpc_tx_pending(&c->tx) ? POLLOUT : 0))
			};
		stdio_pollfds(s, pfds + io);
		oom_pollfds(s, pfds + oom);
		int t1 = stdio_timeout(s), t2 = events_timeout(s);

		if (poll(pfds, n, t1 < 0 || (t2 >= 0 && t2 < t1) ? t2 : t1) < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, errno, "poll");
		}
		events_retry(s);
		/* an OOM kill before the exit it causes */
		oom_handle(s, pfds + oom);
		if (pfds[1].revents)
			reap(s);
		/* before the requests, which may add or remove copies */
		stdio_handle(s, pfds + io);
		/* connections in the poll set's order; new ones wait for the next round */
		for (i = 2, pc = &s->conns; *pc; i++) {
			int dead = 0;

			c = *pc;
			if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
				dead = conn_read(s, c) < 0;
			if (!dead && ttrpc_tx_pending(&c->tx))
				dead = ttrpc_tx_flush(&c->tx, c->fd, NULL) < 0;
			if (dead) {
				*pc = c->next;
				conn_free(s, c);
			} else {
				pc = &c->next;
			}
		}
		if (pfds[0].revents & POLLIN)
			accept_conn(s);
	}
	flush_all(s, 1000);
	while (s->conns) {
		struct conn *c = s->conns;

		s->conns = c->next;
		conn_free(s, c);
	}
	return 0;
}
