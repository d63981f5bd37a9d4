// SPDX-License-Identifier: Apache-2.0
/*
 * Objects behind file descriptors: pipes, eventfds and epoll instances,
 * which live only inside the enclave (what a Go runtime's poller and
 * timers need), and sockets, which are the host's (net.c). Every change of
 * state inside bumps one sequence word and wakes whoever waits on it (a
 * blocked read or write, epoll_wait); waiters look again, so a wake that
 * was not for them costs a look, never a lost event. An epoll watching
 * sockets has a host epoll for them: a waiter blocks there, and a change
 * inside kicks it awake.
 */
#include "libos.h"

#define PIPE_CAP   (64 * 1024)
#define O_NONBLOCK 04000
#define O_WRONLY   01
#define O_RDWR	   02
#define S_IFIFO	   0010000
#define S_IFSOCK   0140000
#define F_SETFL	   4

#define EPOLLIN		0x001
#define EPOLLOUT	0x004
#define EPOLLERR	0x008
#define EPOLLHUP	0x010
#define EPOLLRDHUP	0x2000
#define EPOLLONESHOT	(1U << 30)
#define EPOLLET		(1U << 31)
#define EPOLL_CTL_ADD	1
#define EPOLL_CTL_DEL	2
#define EPOLL_CTL_MOD	3
#define MAX_EPOLL_ITEMS 256

struct pipe_buf {
	uint8_t *data;
	uint64_t head, len;
	int readers, writers;
	/*
	 * Once an end went to a child process the pipe crosses the host: a
	 * socket pair, sealed records (chan.c). host_rd and host_wr are our
	 * sockets for its ends (-1: the end is not ours).
	 */
	struct spipe *remote;
	int64_t host_rd, host_wr;
};

struct ep_item {
	int used, fd;
	struct fobj *obj;
	uint32_t events, seen_gen;
	uint64_t data;
};

struct epoll {
	struct ep_item items[MAX_EPOLL_ITEMS];
	struct fobj *next_epoll; /* every epoll, to drop items of a freed object */
	int64_t host_epfd;	 /* + 1: 0 until a socket is added */
	int host_waiting;	 /* threads blocked in its host epoll_wait */
};

struct fobj {
	int type, refs, nonblock;
	uint32_t gen; /* bumped at every change of its readiness */
	struct pipe_buf *pipe;
	int write_end;
	uint64_t count; /* eventfd */
	int semaphore;
	struct epoll *ep;
	int64_t host_fd; /* a socket: the host's descriptor */
};

static volatile uint32_t ipc_seq;
static FORKED struct fobj *epolls;
static int host_waiters; /* threads in a host epoll_wait: changes kick them */

/* Something changed: waiters look again. */
static void changed(struct fobj *o)
{
	if (o)
		o->gen++;
	ipc_seq++;
	libos_wake_all(&ipc_seq);
	for (struct fobj *e = epolls; host_waiters && e; e = e->ep->next_epoll)
		if (e->ep->host_waiting) {
			int64_t a[6] = { e->ep->host_epfd - 1 };

			net_host(LIBOS_NETCALL_KICK, a, NULL, 0, NULL, 0, NULL, 0);
		}
}

static void host_close(int64_t hfd)
{
	int64_t a[6] = { hfd };

	net_host(3, a, NULL, 0, NULL, 0, NULL, 0);
}

static struct fobj *obj_new(int type, int nonblock)
{
	struct fobj *o = mm_alloc(sizeof(*o), 1);

	if (o) {
		o->type = type;
		o->refs = 1;
		o->nonblock = nonblock;
	}
	return o;
}

void ipc_get(struct fobj *o)
{
	o->refs++;
}

/* The last descriptor of o is gone: epolls forget it. */
void ipc_put(struct fobj *o)
{
	if (--o->refs > 0)
		return;
	for (struct fobj *e = epolls, **pp = &epolls; e; e = e->ep->next_epoll) {
		for (int i = 0; i < MAX_EPOLL_ITEMS; i++)
			if (e->ep->items[i].used && e->ep->items[i].obj == o)
				e->ep->items[i].used = 0;
		if (e == o)
			*pp = e->ep->next_epoll;
		else
			pp = &e->ep->next_epoll;
	}
	if (o->type == OBJ_PIPE) {
		struct pipe_buf *p = o->pipe;

		if (o->write_end)
			p->writers--;
		else
			p->readers--;
		if (p->remote && !p->writers && p->host_wr >= 0) {
			host_fd_close(p->host_wr);
			p->host_wr = -1;
		}
		if (p->remote && !p->readers && p->host_rd >= 0) {
			host_fd_close(p->host_rd);
			p->host_rd = -1;
		}
		if (!p->readers && !p->writers) {
			if (p->data)
				mm_free(p->data, PIPE_CAP);
			if (p->remote)
				mm_free(p->remote, PAGE_UP(sizeof(*p->remote)));
			mm_free(p, sizeof(*p));
		}
	}
	if (o->type == OBJ_EPOLL) {
		if (o->ep->host_epfd)
			host_close(o->ep->host_epfd - 1);
		mm_free(o->ep, sizeof(*o->ep));
	}
	if (o->type == OBJ_SOCKET)
		host_close(o->host_fd);
	changed(NULL);
	mm_free(o, sizeof(*o));
}

/* Waits for a change after seq was read (a blocking call: the lock is dropped). */
static long wait_change(uint32_t seq, int64_t timeout_ns)
{
	long r = libos_wait(&ipc_seq, seq, timeout_ns);

	return r == -EAGAIN ? 0 : r;
}

/* Not ready: EAGAIN for a non-blocking object, else 0 after the next change. */
static long wait_ready(struct fobj *o, uint32_t seq)
{
	return o->nonblock ? -EAGAIN : wait_change(seq, -1);
}

static long install_pair(struct fobj *a, struct fobj *b, int cloexec, uint64_t ufds)
{
	int fa = fs_install(a, cloexec), fb = fa < 0 ? fa : fs_install(b, cloexec);

	if (fa < 0 || fb < 0) {
		if (fa >= 0)
			fs_release(fa);
		return -EMFILE;
	}
	((int32_t *)ufds)[0] = fa;
	((int32_t *)ufds)[1] = fb;
	return 0;
}

long ipc_pipe(uint64_t ufds, uint64_t flags)
{
	struct fobj *r, *w;
	struct pipe_buf *p;

	if (flags & ~(uint64_t)(O_NONBLOCK | 02000000 /* O_CLOEXEC */))
		return -EINVAL;
	if (!user_ok(ufds, 8))
		return -EFAULT;
	p = mm_alloc(sizeof(*p), 1);
	r = obj_new(OBJ_PIPE, !!(flags & O_NONBLOCK));
	w = obj_new(OBJ_PIPE, !!(flags & O_NONBLOCK));
	if (p)
		p->data = mm_alloc(PIPE_CAP, 0);
	if (!p || !r || !w || !p->data) {
		if (p && p->data)
			mm_free(p->data, PIPE_CAP);
		if (p)
			mm_free(p, sizeof(*p));
		if (r)
			mm_free(r, sizeof(*r));
		if (w)
			mm_free(w, sizeof(*w));
		return -ENOMEM;
	}
	p->readers = p->writers = 1;
	p->host_rd = p->host_wr = -1;
	r->pipe = w->pipe = p;
	w->write_end = 1;
	if (install_pair(r, w, !!(flags & 02000000), ufds) < 0) {
		ipc_put(r);
		ipc_put(w);
		return -EMFILE;
	}
	return 0;
}

long ipc_eventfd(uint64_t initval, uint64_t flags)
{
	struct fobj *o;
	int fd;

	if (flags & ~(uint64_t)(1 /* EFD_SEMAPHORE */ | O_NONBLOCK | 02000000))
		return -EINVAL;
	o = obj_new(OBJ_EVENTFD, !!(flags & O_NONBLOCK));
	if (!o)
		return -ENOMEM;
	o->count = (uint32_t)initval;
	o->semaphore = flags & 1;
	fd = fs_install(o, !!(flags & 02000000));
	if (fd < 0)
		ipc_put(o);
	return fd;
}

long ipc_epoll_create(uint64_t flags)
{
	struct fobj *o;
	int fd;

	if (flags & ~(uint64_t)02000000)
		return -EINVAL;
	o = obj_new(OBJ_EPOLL, 0);
	if (!o)
		return -ENOMEM;
	o->ep = mm_alloc(sizeof(*o->ep), 1);
	if (!o->ep) {
		mm_free(o, sizeof(*o));
		return -ENOMEM;
	}
	o->ep->next_epoll = epolls;
	epolls = o;
	fd = fs_install(o, !!(flags & 02000000));
	if (fd < 0)
		ipc_put(o);
	return fd;
}

static long pipe_read(struct fobj *o, uint8_t *buf, uint64_t len)
{
	struct pipe_buf *p = o->pipe;

	if (o->write_end)
		return -EBADF;
	if (p->remote)
		return spipe_read(p->remote, p->host_rd, buf, len, o->nonblock);
	for (;;) {
		uint32_t seq = ipc_seq;
		long r;

		if (p->len) {
			uint64_t n = len < p->len ? len : p->len, first = PIPE_CAP - p->head;

			if (first > n)
				first = n;
			memcpy(buf, p->data + p->head, first);
			memcpy(buf + first, p->data, n - first);
			p->head = (p->head + n) % PIPE_CAP;
			p->len -= n;
			changed(o);
			return (long)n;
		}
		if (!p->writers || !len)
			return 0;
		r = wait_ready(o, seq);
		if (r < 0)
			return r;
	}
}

static long pipe_write(struct fobj *o, const uint8_t *buf, uint64_t len)
{
	struct pipe_buf *p = o->pipe;
	uint64_t done = 0;

	if (!o->write_end)
		return -EBADF;
	if (p->remote) {
		long r = spipe_write(p->remote, p->host_wr, buf, len);

		if (r == -EPIPE)
			libos_raise(13); /* SIGPIPE */
		return r;
	}
	while (done < len) {
		uint32_t seq = ipc_seq;
		uint64_t room = PIPE_CAP - p->len, n, tail, first;
		long r;

		if (!p->readers) {
			libos_raise(13); /* SIGPIPE */
			return done ? (long)done : -EPIPE;
		}
		if (room) {
			n = len - done < room ? len - done : room;
			tail = (p->head + p->len) % PIPE_CAP;
			first = PIPE_CAP - tail < n ? PIPE_CAP - tail : n;
			memcpy(p->data + tail, buf + done, first);
			memcpy(p->data, buf + done + first, n - first);
			p->len += n;
			done += n;
			changed(o);
			continue;
		}
		r = wait_ready(o, seq);
		if (r < 0)
			return done ? (long)done : r;
	}
	return (long)done;
}

static long eventfd_read(struct fobj *o, uint8_t *buf, uint64_t len)
{
	if (len < 8)
		return -EINVAL;
	for (;;) {
		uint32_t seq = ipc_seq;
		uint64_t v;
		long r;

		if (o->count) {
			v = o->semaphore ? 1 : o->count;
			o->count -= v;
			memcpy(buf, &v, 8);
			changed(o);
			return 8;
		}
		r = wait_ready(o, seq);
		if (r < 0)
			return r;
	}
}

static long eventfd_write(struct fobj *o, const uint8_t *buf, uint64_t len)
{
	uint64_t v;

	if (len < 8)
		return -EINVAL;
	memcpy(&v, buf, 8);
	if (v == ~0ULL)
		return -EINVAL;
	for (;;) {
		uint32_t seq = ipc_seq;
		long r;

		if (v <= ~0ULL - 1 - o->count) {
			o->count += v;
			changed(o);
			return 8;
		}
		r = wait_ready(o, seq);
		if (r < 0)
			return r;
	}
}

/* read(2) and write(2) of an object; the caller holds a reference across them. */
long ipc_read(struct fobj *o, void *buf, uint64_t len)
{
	if (o->type == OBJ_PIPE)
		return pipe_read(o, buf, len);
	if (o->type == OBJ_EVENTFD)
		return eventfd_read(o, buf, len);
	if (o->type == OBJ_SOCKET)
		return net_rw(o, buf, len, 0);
	return -EINVAL;
}

long ipc_write(struct fobj *o, const void *buf, uint64_t len)
{
	if (o->type == OBJ_PIPE)
		return pipe_write(o, buf, len);
	if (o->type == OBJ_EVENTFD)
		return eventfd_write(o, buf, len);
	if (o->type == OBJ_SOCKET)
		return net_rw(o, (void *)buf, len, 1);
	return -EINVAL;
}

uint32_t ipc_mode(struct fobj *o)
{
	return o->type == OBJ_PIPE     ? S_IFIFO | 0600
	       : o->type == OBJ_SOCKET ? S_IFSOCK | 0777
				       : 0600;
}

long ipc_getfl(struct fobj *o)
{
	long fl = o->type == OBJ_PIPE ? (o->write_end ? O_WRONLY : 0) : O_RDWR;

	return fl | (o->nonblock ? O_NONBLOCK : 0);
}

long ipc_setfl(struct fobj *o, uint64_t flags)
{
	if (o->type == OBJ_SOCKET) {
		int64_t a[6] = { o->host_fd, F_SETFL, (int64_t)(flags & O_NONBLOCK) };
		long r = net_host(72, a, NULL, 0, NULL, 0, NULL, 0);

		if (r < 0)
			return r;
	}
	o->nonblock = !!(flags & O_NONBLOCK);
	return 0;
}

struct fobj *ipc_socket(int64_t host_fd, int nonblock)
{
	struct fobj *o = obj_new(OBJ_SOCKET, nonblock);

	if (o)
		o->host_fd = host_fd;
	return o;
}

int64_t ipc_host_fd(struct fobj *o)
{
	return o && o->type == OBJ_SOCKET ? o->host_fd : -1;
}

/*
 * What the host watches for epoll and poll: a socket's descriptor, or a
 * pipe to another process's end here (its records arrive on the host); -1
 * for what lives inside (its readiness is ours to say).
 */
static int64_t watch_fd(struct fobj *o)
{
	if (o && o->type == OBJ_SOCKET)
		return o->host_fd;
	if (o && o->type == OBJ_PIPE && o->pipe->remote)
		return o->write_end ? o->pipe->host_wr : o->pipe->host_rd;
	return -1;
}

int ipc_nonblock(struct fobj *o)
{
	return o && o->nonblock;
}

/* What o is ready for now (EPOLL* bits). */
static uint32_t ready(struct fobj *o)
{
	uint32_t ev = 0;

	if (o->type == OBJ_PIPE && !o->write_end) {
		if (o->pipe->len)
			ev |= EPOLLIN;
		if (!o->pipe->writers)
			ev |= EPOLLHUP;
	} else if (o->type == OBJ_PIPE) {
		if (o->pipe->len < PIPE_CAP)
			ev |= EPOLLOUT;
		if (!o->pipe->readers)
			ev |= EPOLLERR;
	} else if (o->type == OBJ_EVENTFD) {
		if (o->count)
			ev |= EPOLLIN;
		if (o->count < ~0ULL - 1)
			ev |= EPOLLOUT;
	}
	return ev;
}

/* A socket's part of epoll_ctl: its host epoll (made at the first socket) does the watching. */
static long host_ctl(struct epoll *ep, int op, struct fobj *o, uint32_t events, struct ep_item *it)
{
	int64_t a[6] = { 0 };
	long r;

	if (!it || (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL))
		return it ? -EINVAL : (op == EPOLL_CTL_ADD ? -ENOSPC_LIBOS : -ENOENT);
	if (!ep->host_epfd) {
		r = net_host(291, a, NULL, 0, NULL, 0, NULL, 0);
		if (r < 0)
			return r;
		if (r >= (1 << 20))
			return -EIO;
		ep->host_epfd = r + 1;
	}
	a[0] = ep->host_epfd - 1;
	a[1] = op;
	a[2] = watch_fd(o);
	a[3] = events;
	a[4] = it - ep->items; /* the host says which item is ready by its index */
	return net_host(233, a, NULL, 0, NULL, 0, NULL, 0);
}

long ipc_epoll_ctl(int epfd, int op, int fd, uint64_t uev)
{
	struct fobj *e = fs_obj(epfd), *o = fs_obj(fd);
	struct ep_item *it = NULL, *free_it = NULL;
	uint32_t events = 0;
	uint64_t data = 0;

	if (!e || e->type != OBJ_EPOLL)
		return fs_valid(epfd) ? -EINVAL : -EBADF;
	if (!o)
		return fs_valid(fd) ? -EPERM
				    : -EBADF; /* files and stdio: no readiness to wait for */
	if (o == e)
		return -EINVAL;
	if (op != EPOLL_CTL_DEL) {
		if (!user_ok(uev, 12))
			return -EFAULT;
		memcpy(&events, (const void *)uev, 4);
		memcpy(&data, (const uint8_t *)uev + 4, 8);
	}
	for (int i = 0; i < MAX_EPOLL_ITEMS; i++) {
		struct ep_item *x = &e->ep->items[i];

		if (x->used && x->fd == fd && x->obj == o)
			it = x;
		else if (!x->used && !free_it)
			free_it = x;
	}
	if (watch_fd(o) >= 0) {
		long r = host_ctl(e->ep, op, o, events, it ? it : free_it);

		if (r < 0)
			return r;
	}
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (!free_it)
			return -ENOSPC_LIBOS;
		*free_it = (struct ep_item){ .used = 1, .fd = fd, .obj = o, .data = data };
		it = free_it;
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		it->data = data;
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		it->used = 0;
		return 0;
	default:
		return -EINVAL;
	}
	it->events = events | EPOLLERR | EPOLLHUP;
	it->seen_gen = o->gen - 1; /* a change not yet reported: edge-triggered sees the state */
	changed(NULL);
	return 0;
}

/* Ready items into the workload's epoll_event array (12 bytes each, packed). */
static int collect(struct epoll *ep, uint8_t *out, int max)
{
	int n = 0;

	for (int i = 0; i < MAX_EPOLL_ITEMS && n < max; i++) {
		struct ep_item *it = &ep->items[i];
		uint32_t ev;

		if (!it->used || !it->events || watch_fd(it->obj) >= 0)
			continue;
		ev = ready(it->obj) & it->events;
		if (!ev || ((it->events & EPOLLET) && it->seen_gen == it->obj->gen))
			continue;
		it->seen_gen = it->obj->gen;
		if (it->events & EPOLLONESHOT)
			it->events = 0;
		memcpy(out + 12 * n, &ev, 4);
		memcpy(out + 12 * n + 4, &it->data, 8);
		n++;
	}
	return n;
}

/*
 * The sockets' part of epoll_wait: the host epoll's ready items (waiting
 * up to timeout_ms, -1: until a kick), into out as the workload's events.
 */
static long host_wait(struct epoll *ep, uint8_t *out, int max, int64_t timeout_ms)
{
	uint8_t buf[64 * 12];
	int64_t a[6] = { ep->host_epfd - 1, max > 64 ? 64 : max, timeout_ms };
	uint64_t n = 0;
	long r, k = 0;

	if (timeout_ms) {
		ep->host_waiting++;
		host_waiters++;
	}
	r = net_host(232, a, NULL, 0, buf, sizeof(buf), &n, timeout_ms != 0);
	if (timeout_ms) {
		ep->host_waiting--;
		host_waiters--;
	}
	if (r < 0 || (uint64_t)r * 12 != n || r > a[1])
		return r < 0 ? r : -EIO;
	for (long i = 0; i < r; i++) {
		uint32_t ev;
		uint64_t idx;

		memcpy(&ev, buf + 12 * i, 4);
		memcpy(&idx, buf + 12 * i + 4, 8);
		/* An item since removed, or an index the host made up: nothing. */
		if (idx >= MAX_EPOLL_ITEMS || !ep->items[idx].used ||
		    watch_fd(ep->items[idx].obj) < 0)
			continue;
		memcpy(out + 12 * k, &ev, 4);
		memcpy(out + 12 * k + 4, &ep->items[idx].data, 8);
		k++;
	}
	return k;
}

long ipc_epoll_wait(int epfd, uint64_t uev, int max, int timeout_ms)
{
	struct fobj *e = fs_obj(epfd);
	int64_t end_s = 0, end_n = 0, now_s, now_n;
	long r = 0;

	if (!e || e->type != OBJ_EPOLL)
		return fs_valid(epfd) ? -EINVAL : -EBADF;
	if (max <= 0 || max > 65536)
		return -EINVAL;
	if (!user_ok(uev, (uint64_t)max * 12))
		return -EFAULT;
	if (timeout_ms > 0 && libos_time(1, &now_s, &now_n) == 0) {
		end_s = now_s + timeout_ms / 1000 +
			(now_n + (timeout_ms % 1000) * 1000000LL) / 1000000000;
		end_n = (now_n + (timeout_ms % 1000) * 1000000LL) % 1000000000;
	}
	ipc_get(e);
	for (;;) {
		uint32_t seq = ipc_seq;
		int64_t left = -1;
		long n = collect(e->ep, (uint8_t *)uev, max);

		if (n < max && e->ep->host_epfd) {
			r = host_wait(e->ep, (uint8_t *)uev + 12 * n, max - (int)n, 0);
			if (r < 0)
				break;
			n += r;
		}
		if (n || timeout_ms == 0) {
			r = n;
			break;
		}
		if (timeout_ms > 0) {
			if (libos_time(1, &now_s, &now_n) < 0) {
				r = -EIO;
				break;
			}
			left = (end_s - now_s) * 1000000000 + (end_n - now_n);
			if (left <= 0) {
				r = 0;
				break;
			}
		}
		if (e->ep->host_epfd) {
			/* Blocks in the host's epoll_wait; a change inside kicks it. */
			r = host_wait(e->ep, (uint8_t *)uev, max,
				      left < 0 ? -1 : (left + 999999) / 1000000);
			if (r != 0)
				break;
			if (libos_signal_ready(libos_self()) || libos_exiting) {
				r = -EINTR;
				break;
			}
			continue;
		}
		r = wait_change(seq, left);
		if (r == -ETIMEDOUT) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
	}
	ipc_put(e);
	return r;
}

/* Processes: pipes between enclaves ----------------------------------------- */

/* The pipe goes over the host from now on: a socket pair, what it buffered sent first. */
static int pipe_go_remote(struct pipe_buf *p)
{
	int32_t sv[2];
	uint64_t id;
	long r;

	p->remote = mm_alloc(PAGE_UP(sizeof(*p->remote)), 1);
	if (!p->remote)
		return -ENOMEM;
	r = host_socketpair(sv);
	if (r >= 0 && (rdrand64(&id) < 0 || spipe_init(p->remote, NULL, id) < 0))
		r = -EIO;
	if (r < 0) {
		mm_free(p->remote, PAGE_UP(sizeof(*p->remote)));
		p->remote = NULL;
		return (int)r;
	}
	p->host_rd = sv[0];
	p->host_wr = sv[1];
	if (p->len) {
		uint8_t *flat = mm_alloc(PIPE_CAP, 0);
		uint64_t first = PIPE_CAP - p->head < p->len ? PIPE_CAP - p->head : p->len;

		if (!flat)
			return -ENOMEM;
		memcpy(flat, p->data + p->head, first);
		memcpy(flat + first, p->data, p->len - first);
		r = spipe_write(p->remote, p->host_wr, flat, p->len);
		mm_free(flat, PIPE_CAP);
		if (r < 0)
			return (int)r;
	}
	mm_free(p->data, PIPE_CAP);
	p->data = NULL;
	p->len = p->head = 0;
	/* An end nobody here holds any more is the other process's alone. */
	if (!p->writers) {
		host_fd_close(p->host_wr);
		p->host_wr = -1;
	}
	if (!p->readers) {
		host_fd_close(p->host_rd);
		p->host_rd = -1;
	}
	/* Epolls watching its ends here: the host watches them from now on. */
	for (struct fobj *e = epolls; e; e = e->ep->next_epoll)
		for (int i = 0; i < MAX_EPOLL_ITEMS; i++) {
			struct ep_item *it = &e->ep->items[i];

			if (it->used && it->obj->type == OBJ_PIPE && it->obj->pipe == p &&
			    (r = host_ctl(e->ep, EPOLL_CTL_ADD, it->obj, it->events, it)) < 0)
				return (int)r;
		}
	changed(NULL);
	return 0;
}

int ipc_share(struct fobj *o, struct spawn_fd *e)
{
	struct pipe_buf *p;
	int r;

	if (o->type != OBJ_PIPE)
		return -EINVAL;
	p = o->pipe;
	if (!p->remote && (r = pipe_go_remote(p)) < 0)
		return r;
	e->kind = o->write_end ? SPAWN_PIPE_W : SPAWN_PIPE_R;
	e->host = (int32_t)(o->write_end ? p->host_wr : p->host_rd);
	if (e->host < 0)
		return -EINVAL;
	e->nonblock = o->nonblock;
	e->id = p->remote->id;
	memcpy(e->key, p->remote->key, sizeof(e->key));
	return 0;
}

struct fobj *ipc_import(const struct spawn_fd *e)
{
	struct pipe_buf *p;
	struct fobj *o;

	if ((e->kind != SPAWN_PIPE_R && e->kind != SPAWN_PIPE_W) || e->host < 0)
		return NULL;
	p = mm_alloc(sizeof(*p), 1);
	o = obj_new(OBJ_PIPE, !!e->nonblock);
	if (p)
		p->remote = mm_alloc(PAGE_UP(sizeof(*p->remote)), 1);
	if (!p || !o || !p->remote || spipe_init(p->remote, e->key, e->id) < 0) {
		if (p && p->remote)
			mm_free(p->remote, PAGE_UP(sizeof(*p->remote)));
		if (p)
			mm_free(p, sizeof(*p));
		if (o)
			mm_free(o, sizeof(*o));
		return NULL;
	}
	o->pipe = p;
	o->write_end = e->kind == SPAWN_PIPE_W;
	p->host_rd = o->write_end ? -1 : e->host;
	p->host_wr = o->write_end ? e->host : -1;
	p->readers = !o->write_end;
	p->writers = o->write_end;
	return o;
}

/*
 * poll(2)'s core: what each of n items is ready for (POLL* bits, which are
 * EPOLL*'s) among what it asks, from the same readiness epoll_wait looks
 * at; a NULL object is a file, always ready. Sockets are watched through
 * a host epoll made for the call (kicked, as epoll's, by changes inside).
 * Waits until one item is ready, timeout_ns passes (-1: never) or a
 * signal comes (-EINTR); the number of ready items.
 */
#define POLLPRI	   0x002
#define POLLNVAL   0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define POLL_ASK   (EPOLLIN | POLLPRI | EPOLLOUT | POLLRDNORM | POLLWRNORM | EPOLLRDHUP)

static uint32_t poll_ready(struct fobj *o)
{
	uint32_t ev = o ? ready(o) : EPOLLIN | EPOLLOUT;

	if (ev & EPOLLIN)
		ev |= POLLRDNORM;
	if (ev & EPOLLOUT)
		ev |= POLLWRNORM;
	return ev;
}

/* A host epoll for the sockets among the items; item k's data is the first index of its object. */
static long poll_sockets(struct fobj **e, struct ipc_poll *p, int n)
{
	for (int i = 0; i < n; i++) {
		struct fobj *o = p[i].obj;
		uint32_t ask = 0;
		int first = i, k;
		long r;

		if (!p[i].valid || !o || watch_fd(o) < 0)
			continue;
		for (int j = 0; j < n; j++)
			if (p[j].valid && p[j].obj == o) {
				if (j < i)
					first = j;
				ask |= p[j].events & POLL_ASK;
			}
		if (first != i)
			continue; /* the same socket: one item */
		if (!*e) {
			*e = obj_new(OBJ_EPOLL, 0);
			if (!*e)
				return -ENOMEM;
			(*e)->ep = mm_alloc(sizeof(*(*e)->ep), 1);
			if (!(*e)->ep) {
				mm_free(*e, sizeof(**e));
				*e = NULL;
				return -ENOMEM;
			}
			(*e)->ep->next_epoll = epolls;
			epolls = *e;
		}
		for (k = 0; k < MAX_EPOLL_ITEMS && (*e)->ep->items[k].used; k++)
			;
		if (ask & POLLRDNORM)
			ask |= EPOLLIN;
		if (ask & POLLWRNORM)
			ask |= EPOLLOUT;
		r = host_ctl((*e)->ep, EPOLL_CTL_ADD, o,
			     ask & (EPOLLIN | POLLPRI | EPOLLOUT | EPOLLRDHUP),
			     k < MAX_EPOLL_ITEMS ? &(*e)->ep->items[k] : NULL);
		if (r < 0)
			return r;
		(*e)->ep->items[k] = (struct ep_item){
			.used = 1, .fd = -1, .obj = o, .events = ask, .data = (uint64_t)i
		};
	}
	return 0;
}

/* One look at every item: the number ready (sockets: the host's answer, waiting up to wait_ms). */
static long poll_scan(struct fobj *e, struct ipc_poll *p, int n, int64_t wait_ms)
{
	uint8_t out[64 * 12];
	long cnt = 0, r = 0;

	for (int i = 0; i < n; i++)
		p[i].revents = 0;
	if (e) {
		r = host_wait(e->ep, out, 64, wait_ms);
		if (r < 0)
			return r;
	}
	for (long k = 0; k < r; k++) {
		uint32_t ev;
		uint64_t first;

		memcpy(&ev, out + 12 * k, 4);
		memcpy(&first, out + 12 * k + 4, 8);
		if (ev & EPOLLIN)
			ev |= POLLRDNORM;
		if (ev & EPOLLOUT)
			ev |= POLLWRNORM;
		for (int i = 0; i < n; i++)
			if (p[i].valid && p[i].obj == p[first].obj)
				p[i].revents |= ev;
	}
	for (int i = 0; i < n; i++) {
		if (!p[i].valid)
			p[i].revents = POLLNVAL;
		else if (!p[i].obj || watch_fd(p[i].obj) < 0)
			p[i].revents = poll_ready(p[i].obj);
		p[i].revents &= p[i].events | EPOLLERR | EPOLLHUP | POLLNVAL;
		if (p[i].revents)
			cnt++;
	}
	return cnt;
}

long ipc_poll(struct ipc_poll *p, int n, int64_t timeout_ns)
{
	struct fobj *e = NULL;
	int64_t end_s = 0, end_n = 0, now_s, now_n;
	long r;

	if (timeout_ns > 0 && libos_time(1, &now_s, &now_n) == 0) {
		end_s = now_s + timeout_ns / 1000000000 +
			(now_n + timeout_ns % 1000000000) / 1000000000;
		end_n = (now_n + timeout_ns % 1000000000) % 1000000000;
	}
	for (int i = 0; i < n; i++)
		if (p[i].obj)
			ipc_get(p[i].obj);
	r = poll_sockets(&e, p, n);
	for (;;) {
		uint32_t seq = ipc_seq;
		int64_t left = -1;

		if (r < 0)
			break;
		r = poll_scan(e, p, n, 0);
		if (r != 0 || timeout_ns == 0)
			break;
		if (timeout_ns > 0) {
			if (libos_time(1, &now_s, &now_n) < 0) {
				r = -EIO;
				break;
			}
			left = (end_s - now_s) * 1000000000 + (end_n - now_n);
			if (left <= 0)
				break;
		}
		if (e) {
			/* Blocks in the host's epoll_wait; a change inside kicks it. */
			r = host_wait(e->ep, (uint8_t[12 * 64]){ 0 }, 64,
				      left < 0 ? -1 : (left + 999999) / 1000000);
			if (r >= 0 && (libos_signal_ready(libos_self()) || libos_exiting))
				r = -EINTR;
			continue;
		}
		r = wait_change(seq, left);
		if (r == -ETIMEDOUT) {
			r = 0;
			break;
		}
	}
	if (e)
		ipc_put(e);
	for (int i = 0; i < n; i++)
		if (p[i].obj)
			ipc_put(p[i].obj);
	return r;
}

/* fork: a pipe crosses the host from now on; its (and a socket's) host descriptors. */
int ipc_fork_keep(struct fobj *o, int32_t *keep, int max)
{
	int n = 0;

	if (o->type == OBJ_SOCKET) {
		if (max < 1)
			return -EMFILE;
		keep[0] = (int32_t)o->host_fd;
		return 1;
	}
	if (o->type != OBJ_PIPE)
		return 0; /* eventfds and epolls: the child gets its own copy */
	if (!o->pipe->remote) {
		int r = pipe_go_remote(o->pipe);

		if (r < 0)
			return r;
	}
	if (max < 2)
		return -EMFILE;
	if (o->pipe->host_rd >= 0)
		keep[n++] = (int32_t)o->pipe->host_rd;
	if (o->pipe->host_wr >= 0)
		keep[n++] = (int32_t)o->pipe->host_wr;
	return n;
}

/*
 * fork, in the child: a writer of its own on every pipe (a nonce is never
 * the parent's), no host epoll (the host's are the parent's).
 */
void ipc_obj_after_fork(struct fobj *o)
{
	if (o->type == OBJ_PIPE && o->pipe->remote) {
		uint64_t w;

		if (rdrand64(&w) == 0)
			o->pipe->remote->writer = w;
		o->pipe->remote->counter = 0;
	}
	if (o->type == OBJ_EPOLL)
		o->ep->host_epfd = 0;
}
