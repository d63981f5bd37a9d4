// SPDX-License-Identifier: Apache-2.0
/*
 * What crosses the host between two enclaves of the same image: the
 * channel between a parent process and its child, and the pipes they
 * share. Both are host sockets (NET pass-through) carrying records sealed
 * with ChaCha20-Poly1305 (Debian's BearSSL), so the host sees lengths and
 * timing, never content, and can drop or cut a stream but not forge,
 * reorder or replay a record.
 *
 * The channel's key: the parent and the child send each other a random
 * nonce, then each derives the SEAL key (EGETKEY, KEYPOLICY MRENCLAVE) with
 * KEYID = SHA-256 of both nonces. Only an enclave with this MRENCLAVE (the
 * same signed image, the same LibOS and manifest) on this CPU can derive it,
 * which is what local attestation between two instances of one image
 * establishes; the first sealed record (the child's HELLO) confirms the
 * key. Records carry a sequence number per direction in their nonce.
 *
 * A pipe's key is random, made by the enclave that first hands the pipe to
 * a child and sent over the channel. Each holder of its write end writes
 * under its own random 64-bit writer id with a counter; readers accept a
 * writer's counters in increasing order only.
 */
#include "libos.h"

/* Declared hidden (libos.h's pragma): addresses without a GOT, no relocation. */
#include <bearssl/bearssl_block.h>

#define MSG_RECV  45 /* recvfrom, for net_host */
#define DONTWAIT  0x40
#define SYS_WRITE 1

/*
 * A host socket's bytes, all of them: len, or -errno. blocking: other
 * threads run meanwhile; else the LibOS's lock is kept (fork's snapshot).
 */
static long host_send_mode(int64_t fd, const void *buf, uint64_t len, int blocking)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < LIBOS_NET_DATA_MAX ? len - done : LIBOS_NET_DATA_MAX;
		int64_t a[6] = { fd, 0, (int64_t)n };
		long r =
		    net_host(SYS_WRITE, a, (const uint8_t *)buf + done, n, NULL, 0, NULL, blocking);

		if (r < 0)
			return r;
		if (r == 0 || (uint64_t)r > n)
			return -EIO;
		done += (uint64_t)r;
	}
	return (long)len;
}

static long host_send(int64_t fd, const void *buf, uint64_t len)
{
	return host_send_mode(fd, buf, len, 1);
}

/*
 * Exactly len bytes from a host socket: len; 0 at its end before the first
 * byte (-EIO within); -EAGAIN when nothing is there and wait is 0. A signal
 * interrupts the wait for the first byte (-EINTR) only when wait is 1; once
 * a byte is in, the rest follows (a record is never cut by a signal).
 */
static long host_recv(int64_t fd, void *buf, uint64_t len, int wait)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < LIBOS_NET_DATA_MAX ? len - done : LIBOS_NET_DATA_MAX,
			 got = 0;
		int64_t a[6] = { fd, 0, (int64_t)n, DONTWAIT };
		long r = net_host(MSG_RECV, a, NULL, 0, (uint8_t *)buf + done, n, &got, 0);

		if (r > 0 && (uint64_t)r != got)
			return -EIO;
		if (r > 0) {
			done += (uint64_t)r;
			continue;
		}
		if (r == 0)
			return done ? -EIO : 0;
		if (r != -EAGAIN)
			return r;
		if (!wait && !done)
			return -EAGAIN;
		a[1] = -1; /* no time limit: a signal or the workload's end cuts it short */
		r = net_host(LIBOS_NETCALL_POLLIN, a, NULL, 0, NULL, 0, NULL, 1);
		if (r == -EINTR && (done || wait == 2) && !libos_exiting)
			continue; /* the signal stays pending for the workload */
		if (r < 0)
			return r;
	}
	return (long)len;
}

/* A host AF_UNIX socket pair of type (with its flags) (NET): both ends the enclave's, checked. */
int host_socketpair_of(int64_t type, int32_t sv[2])
{
	int64_t a[6] = { 1 /* AF_UNIX */, type };
	uint64_t got = 0;
	long r = net_host(53 /* socketpair */, a, NULL, 0, sv, 2 * sizeof(int32_t), &got, 0);

	if (r >= 0 && (got != 2 * sizeof(int32_t) || sv[0] < 0 || sv[1] < 0 || sv[0] == sv[1] ||
		       sv[0] >= (1 << 20) || sv[1] >= (1 << 20)))
		r = -EIO;
	return (int)(r < 0 ? r : 0);
}

/* The LibOS's own channels and pipes: a stream pair. */
int host_socketpair(int32_t sv[2])
{
	return host_socketpair_of(1 /* SOCK_STREAM */, sv);
}

void host_fd_close(int64_t fd)
{
	int64_t a[6] = { fd };

	net_host(3, a, NULL, 0, NULL, 0, NULL, 0);
}

/* ChaCha20-Poly1305 in place; open: 0, or -EIO when the tag is wrong. */
static void aead_seal(const uint8_t key[32], const uint8_t iv[12], const void *aad,
		      uint64_t aad_len, uint8_t *data, uint64_t len, uint8_t tag[16])
{
	br_poly1305_ctmulq_run(key, iv, data, len, aad, aad_len, tag, br_chacha20_sse2_run, 1);
}

static int aead_open(const uint8_t key[32], const uint8_t iv[12], const void *aad, uint64_t aad_len,
		     uint8_t *data, uint64_t len, const uint8_t tag[16])
{
	uint8_t want[16], diff = 0;

	br_poly1305_ctmulq_run(key, iv, data, len, aad, aad_len, want, br_chacha20_sse2_run, 0);
	for (int i = 0; i < 16; i++)
		diff |= want[i] ^ tag[i];
	memset(want, 0, sizeof(want));
	return diff ? -EIO : 0;
}

/* The channel ----------------------------------------------------------- */

struct sgx_keyreq {
	uint16_t keyname, keypolicy, isvsvn, reserved1;
	uint8_t cpusvn[16];
	uint64_t attributes_mask, xfrm_mask;
	uint8_t keyid[32];
	uint32_t miscmask;
	uint16_t config_svn;
	uint8_t reserved2[434];
} __attribute__((packed));

/* This enclave's CPUSVN and ISVSVN, as EREPORT says them (any target will do). */
static void own_svns(uint8_t cpusvn[16], uint16_t *isvsvn)
{
	static const uint8_t ti[512], rd[64];
	uint8_t rep[432];

	libos_ereport(ti, rd, rep);
	memcpy(cpusvn, rep, 16);
	memcpy(isvsvn, rep + 258, 2); /* the report body's ISVSVN */
}

static int seal_key(const uint8_t keyid[32], uint8_t out[16])
{
	static struct sgx_keyreq req __attribute__((aligned(512)));
	static uint8_t key[16] __attribute__((aligned(16)));
	uint64_t status;
	uint16_t isvsvn;

	memset(&req, 0, sizeof(req));
	req.keyname = 4;   /* SEAL */
	req.keypolicy = 1; /* MRENCLAVE */
	own_svns(req.cpusvn, &isvsvn);
	req.isvsvn = isvsvn;
	req.attributes_mask = ~0ULL;
	req.miscmask = ~0U;
	memcpy(req.keyid, keyid, 32);
	__asm__ volatile("enclu" : "=a"(status) : "a"(1), "b"(&req), "c"(key) : "memory", "cc");
	if (status)
		return -EIO;
	memcpy(out, key, 16);
	memset(key, 0, sizeof(key));
	return 0;
}

static int random_bytes(uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i += 8) {
		uint64_t v;

		if (rdrand64(&v) < 0)
			return -EIO;
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
	return 0;
}

int chan_open(struct chan *c, int64_t fd, int parent)
{
	uint8_t mine[32], theirs[32], both[64 + 16], seal[16], id[32];
	struct sha256 h;
	long r;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->dir = parent ? 0 : 1;
	if (random_bytes(mine, sizeof(mine)) < 0)
		return -EIO;
	r = host_send(fd, mine, sizeof(mine));
	if (r >= 0)
		r = host_recv(fd, theirs, sizeof(theirs), 2);
	if (r <= 0)
		return r < 0 ? (int)r : -EIO;
	memcpy(both, parent ? mine : theirs, 32);
	memcpy(both + 32, parent ? theirs : mine, 32);
	memcpy(both + 64, "rune-libos-chan", 16);
	sha256_init(&h);
	sha256_update(&h, both, sizeof(both));
	sha256_final(&h, id);
	if (seal_key(id, seal) < 0)
		return -EIO;
	sha256_init(&h);
	sha256_update(&h, seal, sizeof(seal));
	sha256_update(&h, both, sizeof(both));
	sha256_final(&h, c->key);
	memset(seal, 0, sizeof(seal));
	return 0;
}

struct rec_hdr {
	uint32_t len, type;
};

static void chan_iv(uint8_t iv[12], uint32_t dir, uint64_t seq)
{
	memcpy(iv, &dir, 4);
	memcpy(iv + 4, &seq, 8);
}

int chan_send(struct chan *c, uint32_t type, const void *msg, uint32_t len)
{
	struct rec_hdr hd = { len, type };
	uint8_t iv[12], *rec;
	uint64_t size = sizeof(hd) + len + 16;
	long r;

	if (len > CHAN_MSG_MAX)
		return -E2BIG_LIBOS;
	rec = mm_alloc(PAGE_UP(size), 0);
	if (!rec)
		return -ENOMEM;
	memcpy(rec, &hd, sizeof(hd));
	memcpy(rec + sizeof(hd), msg, len);
	chan_iv(iv, c->dir, c->send_seq++);
	aead_seal(c->key, iv, &hd, sizeof(hd), rec + sizeof(hd), len, rec + sizeof(hd) + len);
	r = host_send(c->fd, rec, size);
	mm_free(rec, PAGE_UP(size));
	return r < 0 ? (int)r : 0;
}

/*
 * A record of a header and data, sent with the LibOS's lock held throughout
 * (nothing else runs, nothing is allocated): fork's snapshot.
 */
int chan_send_locked(struct chan *c, uint32_t type, const void *hdr, uint32_t hlen,
		     const void *data, uint32_t dlen)
{
	static uint8_t rec[sizeof(struct rec_hdr) + CHAN_MSG_MAX + 16];
	struct rec_hdr hd = { hlen + dlen, type };
	uint8_t iv[12];
	long r;

	if (hlen > CHAN_MSG_MAX || dlen > CHAN_MSG_MAX - hlen)
		return -E2BIG_LIBOS;
	memcpy(rec, &hd, sizeof(hd));
	memcpy(rec + sizeof(hd), hdr, hlen);
	memcpy(rec + sizeof(hd) + hlen, data, dlen);
	chan_iv(iv, c->dir, c->send_seq++);
	aead_seal(c->key, iv, &hd, sizeof(hd), rec + sizeof(hd), hd.len, rec + sizeof(hd) + hd.len);
	r = host_send_mode(c->fd, rec, sizeof(hd) + hd.len + 16, 0);
	return r < 0 ? (int)r : 0;
}

long chan_recv(struct chan *c, uint32_t *type, void *msg, uint32_t max, int wait)
{
	struct rec_hdr hd;
	uint8_t iv[12], tag[16];
	long r = host_recv(c->fd, &hd, sizeof(hd), wait);

	if (r <= 0)
		return r == 0 ? -EPIPE : r;
	if (hd.len > max || hd.len > CHAN_MSG_MAX)
		return -EIO;
	if ((r = host_recv(c->fd, msg, hd.len, 1)) < 0 || (hd.len && r == 0) ||
	    (r = host_recv(c->fd, tag, sizeof(tag), 1)) <= 0)
		return r < 0 ? r : -EIO;
	chan_iv(iv, !c->dir, c->recv_seq++);
	if (aead_open(c->key, iv, &hd, sizeof(hd), msg, hd.len, tag) < 0)
		return -EIO;
	*type = hd.type;
	return hd.len;
}

void chan_close(struct chan *c)
{
	if (c->fd >= 0)
		host_fd_close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Pipes ------------------------------------------------------------------ */

struct pipe_hdr {
	uint32_t len, counter;
	uint64_t writer;
};

int spipe_init(struct spipe *s, const uint8_t *key, uint64_t id)
{
	if (key)
		memcpy(s->key, key, sizeof(s->key));
	else if (random_bytes(s->key, sizeof(s->key)) < 0)
		return -EIO;
	s->id = id;
	return random_bytes((uint8_t *)&s->writer, sizeof(s->writer));
}

static void spipe_iv(uint8_t iv[12], const struct pipe_hdr *h)
{
	memcpy(iv, &h->writer, 8);
	memcpy(iv + 8, &h->counter, 4);
}

long spipe_write(struct spipe *s, int64_t fd, const uint8_t *buf, uint64_t len)
{
	uint8_t rec[SPIPE_RECORD], iv[12];
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < SPIPE_DATA_MAX ? len - done : SPIPE_DATA_MAX;
		struct pipe_hdr h = { (uint32_t)n, s->counter++, s->writer };
		uint8_t aad[sizeof(h) + 8];
		long r;

		if (s->counter == 0)
			return done ? (long)done : -EIO; /* 2^32 records: never reuse a nonce */
		memcpy(aad, &h, sizeof(h));
		memcpy(aad + sizeof(h), &s->id, 8);
		memcpy(rec, &h, sizeof(h));
		memcpy(rec + sizeof(h), buf + done, n);
		spipe_iv(iv, &h);
		aead_seal(s->key, iv, aad, sizeof(aad), rec + sizeof(h), n, rec + sizeof(h) + n);
		/* One send of at most PIPE_BUF bytes: records of several writers never mix. */
		r = host_send(fd, rec, sizeof(h) + n + 16);
		if (r < 0)
			return done ? (long)done : r;
		done += n;
	}
	return (long)done;
}

/* A writer's counters only go up: a record again or out of order is refused. */
static int spipe_fresh(struct spipe *s, const struct pipe_hdr *h)
{
	int i;

	for (i = 0; i < SPIPE_WRITERS && s->seen_writer[i]; i++)
		if (s->seen_writer[i] == h->writer) {
			if (h->counter < s->seen_next[i])
				return 0;
			s->seen_next[i] = h->counter + 1;
			return 1;
		}
	if (i == SPIPE_WRITERS)
		return 0; /* more writers than we can follow: fail closed */
	s->seen_writer[i] = h->writer;
	s->seen_next[i] = h->counter + 1;
	return 1;
}

long spipe_read(struct spipe *s, int64_t fd, uint8_t *buf, uint64_t len, int nonblock)
{
	struct pipe_hdr h;
	uint8_t aad[sizeof(h) + 8], iv[12], tag[16];
	uint64_t n;
	long r;

	if (!len)
		return 0;
	if (s->rx_len == 0) {
		r = host_recv(fd, &h, sizeof(h), !nonblock);
		if (r <= 0)
			return r; /* 0: every writer is gone */
		if (h.len > SPIPE_DATA_MAX || h.len == 0)
			return -EIO;
		if ((r = host_recv(fd, s->rx, h.len, 1)) <= 0 ||
		    (r = host_recv(fd, tag, sizeof(tag), 1)) <= 0)
			return r < 0 ? r : -EIO;
		memcpy(aad, &h, sizeof(h));
		memcpy(aad + sizeof(h), &s->id, 8);
		spipe_iv(iv, &h);
		if (aead_open(s->key, iv, aad, sizeof(aad), s->rx, h.len, tag) < 0 ||
		    !spipe_fresh(s, &h)) {
			log_err("pipe from another process: a record failed authentication");
			return -EIO;
		}
		s->rx_off = 0;
		s->rx_len = h.len;
	}
	n = len < s->rx_len ? len : s->rx_len;
	memcpy(buf, s->rx + s->rx_off, n);
	s->rx_off += n;
	s->rx_len -= n;
	return (long)n;
}
