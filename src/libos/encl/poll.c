// SPDX-License-Identifier: Apache-2.0
/*
 * poll, ppoll, select and pselect6: the workload's arguments checked and
 * turned into ipc_poll() items, which look at the readiness epoll_wait
 * uses (pipes, eventfds, sockets through the host); files and stdio are
 * always ready, as regular files are on Linux. A signal interrupts the
 * wait (EINTR); the signal masks of ppoll and pselect6 are not applied
 * (as epoll_pwait's: signals are taken at system calls).
 */
#include "libos.h"

#define MAX_POLL   64 /* RLIMIT_NOFILE */
#define POLLIN	   0x001
#define POLLPRI	   0x002
#define POLLOUT	   0x004
#define POLLERR	   0x008
#define POLLHUP	   0x010
#define POLLRDNORM 0x040
#define POLLRDBAND 0x080
#define POLLWRNORM 0x100
#define POLLWRBAND 0x200
/* what select counts as readable, writable, exceptional (the kernel's sets) */
#define POLLIN_SET  (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET  POLLPRI

struct pollfd {
	int32_t fd;
	int16_t events, revents;
};

static int64_t now_ns(void)
{
	int64_t s, n;

	return libos_time(1, &s, &n) < 0 ? -1 : s * 1000000000 + n;
}

/* A timespec (or a timeval, usec) from the workload: ns, -1 for none (NULL). */
static long user_timeout(uint64_t p, int usec, int64_t *ns)
{
	int64_t t[2];

	*ns = -1;
	if (!p)
		return 0;
	if (!user_ok(p, sizeof(t)))
		return -EFAULT;
	memcpy(t, (const void *)p, sizeof(t));
	if (usec && t[1] >= 1000000 && t[0] < (1LL << 32)) { /* the kernel carries usec over */
		t[0] += t[1] / 1000000;
		t[1] %= 1000000;
	}
	if (t[0] < 0 || t[1] < 0 || t[1] >= (usec ? 1000000 : 1000000000))
		return -EINVAL;
	if (t[0] >= (1LL << 32))
		return 0; /* over a century: no deadline */
	*ns = t[0] * 1000000000 + t[1] * (usec ? 1000 : 1);
	return 0;
}

/* Linux writes the time left back (0 once it is over). */
static void user_time_left(uint64_t p, int usec, int64_t ns, int64_t start)
{
	int64_t now = now_ns(), left = ns - (now - start), t[2];

	if (!p || ns < 0 || now < 0 || start < 0)
		return;
	if (left < 0)
		left = 0;
	t[0] = left / 1000000000;
	t[1] = left % 1000000000 / (usec ? 1000 : 1);
	memcpy((void *)p, t, sizeof(t));
}

static void item(struct ipc_poll *it, int64_t fd, uint32_t events)
{
	it->obj = fs_obj(fd);
	it->valid = fs_valid(fd);
	it->events = events;
	it->revents = 0;
}

static long do_poll(uint64_t ufds, uint64_t nfds, int64_t timeout_ns, uint64_t uts)
{
	struct ipc_poll items[MAX_POLL];
	struct pollfd *pfd = (struct pollfd *)ufds;
	int64_t start = now_ns();
	long r;

	if (nfds > MAX_POLL)
		return -EINVAL;
	if (!user_ok(ufds, nfds * sizeof(*pfd)))
		return -EFAULT;
	for (uint64_t i = 0; i < nfds; i++) {
		item(&items[i], pfd[i].fd, (uint16_t)pfd[i].events);
		if (pfd[i].fd < 0) { /* ignored: revents 0 */
			items[i].valid = 1;
			items[i].events = 0;
		}
	}
	r = ipc_poll(items, (int)nfds, timeout_ns);
	if (r >= 0)
		for (uint64_t i = 0; i < nfds; i++)
			pfd[i].revents = (int16_t)items[i].revents;
	user_time_left(uts, 0, timeout_ns, start);
	return r;
}

static long do_select(int64_t nfds, uint64_t sets[3], int64_t timeout_ns, uint64_t uts, int usec)
{
	static const uint32_t ask[3] = { POLLIN | POLLRDNORM, POLLOUT | POLLWRNORM, POLLPRI };
	static const uint32_t got[3] = { POLLIN_SET, POLLOUT_SET, POLLEX_SET };
	struct ipc_poll items[MAX_POLL];
	uint64_t in[3] = { 0 }, out[3] = { 0 };
	int fdof[MAX_POLL], n = 0;
	int64_t start = now_ns();
	long r, count = 0;

	if (nfds < 0)
		return -EINVAL;
	if (nfds > MAX_POLL)
		nfds = MAX_POLL; /* the kernel looks no further than its table */
	for (int s = 0; s < 3; s++) {
		uint64_t bytes = ((uint64_t)nfds + 63) / 64 * 8;

		if (!sets[s] || !nfds)
			continue;
		if (!user_ok(sets[s], bytes))
			return -EFAULT;
		memcpy(&in[s], (const void *)sets[s], 8);
		if (nfds < 64)
			in[s] &= (1ULL << nfds) - 1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		uint32_t ev = 0;

		for (int s = 0; s < 3; s++)
			if (in[s] >> fd & 1)
				ev |= ask[s];
		if (!ev)
			continue;
		if (!fs_valid(fd))
			return -EBADF;
		item(&items[n], fd, ev);
		fdof[n++] = fd;
	}
	r = ipc_poll(items, n, timeout_ns);
	user_time_left(uts, usec, timeout_ns, start);
	if (r < 0)
		return r;
	for (int i = 0; i < n; i++)
		for (int s = 0; s < 3; s++)
			if ((in[s] >> fdof[i] & 1) && (items[i].revents & got[s])) {
				out[s] |= 1ULL << fdof[i];
				count++;
			}
	for (int s = 0; s < 3; s++)
		if (sets[s] && nfds)
			memcpy((void *)sets[s], &out[s], 8);
	return count;
}

/* The signal mask argument of ppoll/pselect6: checked, not applied. */
static long sigmask_arg(uint64_t mask, uint64_t size)
{
	if (mask && size != 8)
		return -EINVAL;
	if (mask && !user_ok(mask, 8))
		return -EFAULT;
	return 0;
}

long poll_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		  uint64_t a5)
{
	uint64_t sets[3] = { a1, a2, a3 };
	int64_t ns;
	long r;

	switch (nr) {
	case 7: /* poll */
		return do_poll(a0, a1, (int32_t)a2 < 0 ? -1 : (int64_t)(int32_t)a2 * 1000000, 0);
	case 271: /* ppoll */
		r = user_timeout(a2, 0, &ns);
		if (r == 0)
			r = sigmask_arg(a3, a4);
		return r < 0 ? r : do_poll(a0, a1, ns, a2);
	case 23: /* select */
		r = user_timeout(a4, 1, &ns);
		return r < 0 ? r : do_select((int32_t)a0, sets, ns, a4, 1);
	case 270: /* pselect6: a5 points to { sigset pointer, its size } */
		if (a5) {
			uint64_t m[2];

			if (!user_ok(a5, sizeof(m)))
				return -EFAULT;
			memcpy(m, (const void *)a5, sizeof(m));
			r = sigmask_arg(m[0], m[1]);
			if (r < 0)
				return r;
		}
		r = user_timeout(a4, 0, &ns);
		return r < 0 ? r : do_select((int32_t)a0, sets, ns, a4, 0);
	}
	return -ENOSYS;
}

/* recvmmsg's timeout (a timespec): the same checks, ns -1 for none. */
long poll_user_timeout(uint64_t p, int64_t *ns)
{
	return user_timeout(p, 0, ns);
}

/* recvmmsg's timeout written back: the time left (0 once over); start from poll_now_ns(). */
void poll_user_time_left(uint64_t p, int64_t ns, int64_t start)
{
	user_time_left(p, 0, ns, start);
}

int64_t poll_now_ns(void)
{
	return now_ns();
}
