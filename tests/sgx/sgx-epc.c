// SPDX-License-Identifier: Apache-2.0
/*
 * EPC bookkeeping: Kubernetes quantities; the host-wide registry (live
 * entries summed, a dead process's entry ignored and reaped, whatever
 * way it died); the loader's per-process limit (an enclave past it refused
 * before ECREATE with the limit and the request named; pages uncharged
 * and our registry entry gone after a failed load); the paging model (exact
 * evictions and reloads for an EPC of known size: the pure model, then
 * its shared records across processes, then the loader's enclaves past a
 * small EPC).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/epc.h"
#include "common/epc_paging.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"
#include "sgx-test.h"

static char dir[] = "/tmp/sgx-epc-test.XXXXXX";
static char reg[4200];

static void test_quantity(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "8192", 8192 },      { "64Mi", 64ULL << 20 }, { "1Gi", 1ULL << 30 },
		{ "1Ki", 1024 },       { "2Ti", 2ULL << 40 },	{ "1k", 1000 },
		{ "128M", 128000000 }, { "1.5Gi", 3ULL << 29 }, { "0.5Ki", 512 },
		{ "1e6", 1000000 },    { "1E3", 1000 },		{ "+10", 10 },
		{ "1500m", 2 }, /* 1.5 bytes round up */
		{ "0.1", 1 },	       { "7Ei", 7ULL << 60 },	{ "0", 0 },
	};
	static const char *const bad[] = { "",
					   "-1",
					   "Mi",
					   "1MiB",
					   "1mi",
					   "1 Mi",
					   "1.2.3",
					   "1e",
					   "1e99",
					   "8Ei",
					   "1x",
					   "0x10",
					   "99999999999999999999",
					   ".",
					   "1Mi ",
					   " 1" };
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		v = 42;
		CHECK(epc_parse_quantity(good[i].s, &v) == 0 && v == good[i].v, "%s: got %llu",
		      good[i].s, (unsigned long long)v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(epc_parse_quantity(bad[i], &v) == -EINVAL, "\"%s\" accepted", bad[i]);
	CHECK(epc_parse_quantity(NULL, &v) == -EINVAL);
}

/* A child that holds an entry of n pages, until killed (sig) or until it exits by itself. */
static pid_t holder(uint64_t n, int exit_now)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = epc_entry_open(reg, NULL, NULL);

		if (fd < 0 || epc_entry_set(fd, n) < 0)
			_exit(1);
		if (write(p[1], &c, 1) != 1 || exit_now)
			_exit(0); /* no cleanup: as a crash would leave it */
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static void test_registry(void)
{
	_cleanup_error_ err_t err = NULL;
	struct epc_usage u;
	char *path = NULL;
	pid_t live, dead;
	int fd, st;

	snprintf(reg, sizeof(reg), "%s/reg/sub", dir);
	CHECK(epc_usage(reg, 0, &u, &err) == 0 && u.live == 0 && u.pages == 0,
	      "a missing registry is empty");
	fd = epc_entry_open(reg, &path, &err);
	CHECK(fd >= 0, "open: %s", err_msg(err));
	CHECK(epc_entry_held(fd) == 1, "we hold our own entry");
	{
		char src[EPC_SOURCE_MAX];
		uint64_t l = 1;

		CHECK(epc_entry_limit(fd, &l, src) == 0, "a fresh entry has no limit line");
		CHECK(epc_entry_set_limit(fd, 65536, "annotation sgx.intel.com/epc") == 0);
		CHECK(epc_entry_limit(fd, &l, src) == 1 && l == 65536 &&
			  strcmp(src, "annotation sgx.intel.com/epc") == 0,
		      "limit line: %llu '%s'", (unsigned long long)l, src);
		CHECK(epc_entry_set_limit(fd, 7,
					  "a source longer than the field, which is cut "
					  "at forty-seven") == 0);
		CHECK(epc_entry_limit(fd, &l, src) == 1 && l == 7 &&
			  strlen(src) == EPC_SOURCE_MAX - 1,
		      "cut source: '%s'", src);
	}
	CHECK(epc_entry_set(fd, 10) == 0);
	CHECK(epc_entry_pages(fd) == 10 && epc_entry_held(fd) == 1, "pages and pid beside a limit");
	live = holder(5, 0);
	dead = holder(1000, 1);
	CHECK(live > 0 && dead > 0);
	waitpid(dead, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(epc_usage(reg, 0, &u, &err) == 0, "usage: %s", err_msg(err));
	CHECK(u.live == 2 && u.pages == 15 && u.reaped == 1,
	      "own + live child: live %u pages %llu reaped %u", u.live, (unsigned long long)u.pages,
	      u.reaped);
	CHECK(u.size == EPC_SIZE_DEFAULT && u.paged == 0);
	/* SIGKILL: the lock dies with the process, the entry is stale. */
	kill(live, SIGKILL);
	waitpid(live, &st, 0);
	CHECK(epc_usage(reg, 4096 * 4, &u, &err) == 0);
	CHECK(u.live == 1 && u.pages == 10 && u.reaped == 1, "killed child: live %u pages %llu",
	      u.live, (unsigned long long)u.pages);
	CHECK(u.size == 4096 * 4 && u.paged == 4096 * 6, "beyond the EPC is paged: %llu",
	      (unsigned long long)u.paged);
	/* A forked child inherits the fd, not the lock: not its entry to write. */
	if (fork() == 0)
		_exit(epc_entry_held(fd) ? 1 : 0);
	wait(&st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child does not hold its parent's entry");
	close(fd);
	CHECK(epc_usage(reg, 0, &u, &err) == 0 && u.live == 0 && u.reaped == 1, "closed: reaped");
	CHECK(access(path, F_OK) < 0, "%s removed", path);
	free(path);
	setenv("SGX_EMU_EPC_SIZE", "64Mi", 1);
	CHECK(epc_size() == 64ULL << 20);
	setenv("SGX_EMU_EPC_SIZE", "lots", 1);
	CHECK(epc_size() == EPC_SIZE_DEFAULT);
	unsetenv("SGX_EMU_EPC_SIZE");
}

/* An enclave of a TCS and 5 pages (7 EPC pages with the SECS), loaded with limit bytes. */
static int load(const char *limit, err_t *err)
{
	static uint8_t zero[6 * 4096];
	struct sgx_image_page pages[] = {
		{ .offset = 0, .flags = SGX_SECINFO_TCS, .measured = 1, .data = zero },
		{ .offset = 4096,
		  .flags = SGX_SECINFO_REG | 7,
		  .measured = 1,
		  .data = zero + 4096,
		  .count = 5 },
	};
	struct sgx_image img = { .size = 32768, .ssaframesize = 1, .npages = 2, .pages = pages };
	struct sgx_load_opts o = { .backend = SGX_BACKEND_EMULATOR, .set_secs = 1, .xfrm = 3 };
	struct sgx_sigstruct ss;
	struct sgx_encl *e = NULL;

	memset(&ss, 0, sizeof(ss));
	if (limit)
		setenv("SGX_EPC_LIMIT_BYTES", limit, 1);
	else
		unsetenv("SGX_EPC_LIMIT_BYTES");
	return sgx_encl_load(&e, &img, &ss, &o, NULL, err);
}

/* The pure model: the kernel's watermarks and batches, LRU by stamp, exact counts. */
static void test_model(void)
{
	struct epc_model_rec v[3];
	uint64_t got, short_by;

	/* An EPC of 256 pages: A and B hold 100 each (A entered longest ago), C adds 100. */
	memset(v, 0, sizeof(v));
	v[0] = (struct epc_model_rec){ .pages = 100, .stamp = 1, .evictable = 1 };
	v[1] = (struct epc_model_rec){ .pages = 100, .stamp = 2, .evictable = 1 };
	v[2] = (struct epc_model_rec){ .pages = 100, .stamp = 3, .evictable = 1 };
	/* 56 free before, -44 after: reclaim to 64 free, 108 pages, in batches of 16: 112. */
	got = epc_model_make_room(v, 3, 2, 256, 0, 1, &short_by);
	CHECK(got == 112 && short_by == 0, "evicted %llu", (unsigned long long)got);
	CHECK(v[0].evicted == 100 && v[1].evicted == 12 && v[2].evicted == 0,
	      "LRU first: A %llu B %llu C %llu", (unsigned long long)v[0].evicted,
	      (unsigned long long)v[1].evicted, (unsigned long long)v[2].evicted);
	/* A enters: 68 free, B's 88 and C's 100 evictable: all 100 come back. */
	v[0].stamp = 4;
	got = epc_model_reloadable(v, 3, 0, 256);
	CHECK(got == 100, "reloadable %llu", (unsigned long long)got);
	/* 68 - 100 = -32 free: 96 go, B's 88 (stamp 2) then 8 of C's (stamp 3). */
	got = epc_model_make_room(v, 3, 0, 256, 100, 0, NULL);
	v[0].evicted -= 100;
	CHECK(got == 96 && v[1].evicted == 100 && v[2].evicted == 8 && v[0].evicted == 0,
	      "reload's evictions %llu: B %llu C %llu", (unsigned long long)got,
	      (unsigned long long)v[1].evicted, (unsigned long long)v[2].evicted);

	/* The low watermark: 32 left free evicts nothing, 31 a batch and more (to 64: 48). */
	memset(v, 0, sizeof(v));
	v[0] = (struct epc_model_rec){ .pages = 200, .stamp = 1, .evictable = 1 };
	CHECK(epc_model_make_room(v, 2, 1, 256, 24, 0, NULL) == 0 && v[0].evicted == 0,
	      "32 free: no reclaim");
	CHECK(epc_model_make_room(v, 2, 1, 256, 25, 0, NULL) == 48 && v[0].evicted == 48,
	      "31 free: %llu evicted", (unsigned long long)v[0].evicted);

	/* A driver's pages are pinned: nothing to evict, the demand does not fit. */
	memset(v, 0, sizeof(v));
	v[0] = (struct epc_model_rec){ .pages = 250, .stamp = 1, .evictable = 0 };
	CHECK(epc_model_make_room(v, 2, 1, 256, 100, 0, &short_by) == 0 && short_by == 94,
	      "pinned: short by %llu", (unsigned long long)short_by);

	/* One enclave bigger than the EPC: its own pages go, and it reloads only past 64 free. */
	memset(v, 0, sizeof(v));
	v[0] = (struct epc_model_rec){ .pages = 300, .stamp = 1, .evictable = 1 };
	got = epc_model_make_room(v, 1, 0, 256, 0, 1, NULL);
	CHECK(got == 112 && v[0].evicted == 112, "self evicted %llu", (unsigned long long)got);
	CHECK(epc_model_reloadable(v, 1, 0, 256) == 4, "4 of them above the high watermark");
	CHECK(epc_model_make_room(v, 1, 0, 256, 0, 0, NULL) == 0, "not self unless asked");
}

/* A process with an entry of its own holding pages pages, stepped by commands on a pipe. */
struct pager_proc {
	pid_t pid;
	int cmd, ack;
};

/* The other processes' pipe ends, which a new child must not keep (their EOF). */
static int pager_fds[8], npager_fds;

static int pager_proc_wait(struct pager_proc *pp)
{
	char x;

	return read(pp->ack, &x, 1) == 1 ? 0 : -1;
}

static int pager_proc_enter(struct pager_proc *pp)
{
	char x = 'r';

	return write(pp->cmd, &x, 1) == 1 ? pager_proc_wait(pp) : -1;
}

static void pager_proc_stop(struct pager_proc *pp)
{
	int st;

	close(pp->cmd);
	close(pp->ack);
	for (int i = 0; i < npager_fds; i++)
		if (pager_fds[i] == pp->cmd || pager_fds[i] == pp->ack)
			pager_fds[i] = -1;
	waitpid(pp->pid, &st, 0);
}

static int pager_proc_start(struct pager_proc *pp, uint64_t pages)
{
	int c[2], a[2];

	if (pipe(c) < 0 || pipe(a) < 0)
		return -1;
	pp->pid = fork();
	if (pp->pid == 0) {
		struct epc_pager p;
		int fd = epc_entry_open(reg, NULL, NULL), dfd = open(reg, O_RDONLY | O_DIRECTORY);
		char x;

		close(c[1]);
		close(a[0]);
		for (int i = 0; i < npager_fds; i++)
			close(pager_fds[i]);
		if (fd < 0 || dfd < 0 || epc_pager_open(&p, dfd, fd, -1, 256 * 4096) < 0 ||
		    epc_pager_lock(&p) < 0)
			_exit(1);
		epc_pager_charge_locked(&p, pages);
		epc_entry_set(fd, pages);
		epc_pager_unlock(&p);
		x = 'c';
		if (write(a[1], &x, 1) != 1)
			_exit(1);
		while (read(c[0], &x, 1) == 1) {
			/* 'r': an enclave entry with pages out */
			if (x == 'r' && epc_pager_enter(&p))
				epc_pager_reload(&p);
			if (write(a[1], &x, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(c[0]);
	close(a[1]);
	pp->cmd = c[1];
	pp->ack = a[0];
	if (npager_fds + 2 <= (int)ARRAY_SIZE(pager_fds)) {
		pager_fds[npager_fds++] = c[1];
		pager_fds[npager_fds++] = a[0];
	}
	if (pp->pid < 0)
		return -1;
	return pager_proc_wait(pp);
}

/* The shared records: three processes on an EPC of 256 pages, exact counts host-wide. */
static void test_pager(void)
{
	struct pager_proc a, b, c;
	struct epc_usage u;
	uint64_t ewb = EPC_EWB_NS, eldu = EPC_ELDU_NS;

	snprintf(reg, sizeof(reg), "%s/pager", dir);
	mkdir(reg, 0755);
	CHECK(pager_proc_start(&a, 100) == 0 && pager_proc_start(&b, 100) == 0, "A and B");
	CHECK(epc_usage(reg, 256 * 4096, &u, NULL) == 0 && u.pages == 200 && u.paged == 0 &&
		  u.paging.evictions == 0 && u.paging.ns == 0,
	      "200 of 256 pages: nothing out (%llu evictions)",
	      (unsigned long long)u.paging.evictions);
	/* C's 100: 112 evicted, A's 100 (the least recently active) and 12 of B's. */
	CHECK(pager_proc_start(&c, 100) == 0, "C");
	CHECK(epc_usage(reg, 256 * 4096, &u, NULL) == 0 && u.paging.evicted == 112 &&
		  u.paged == 112 * 4096 && u.paging.evictions == 112 && u.paging.reloads == 0 &&
		  u.paging.ns == 112 * ewb,
	      "C made room: evicted %llu evictions %llu ns %llu",
	      (unsigned long long)u.paging.evicted, (unsigned long long)u.paging.evictions,
	      (unsigned long long)u.paging.ns);
	/* A enters: its 100 come back; 96 go, B's other 88 and 8 of C's. */
	CHECK(pager_proc_enter(&a) == 0, "A enters");
	CHECK(epc_usage(reg, 256 * 4096, &u, NULL) == 0 && u.paging.evicted == 108 &&
		  u.paging.evictions == 208 && u.paging.reloads == 100 &&
		  u.paging.ns == 208 * ewb + 100 * eldu,
	      "A reloaded: evicted %llu evictions %llu reloads %llu ns %llu",
	      (unsigned long long)u.paging.evicted, (unsigned long long)u.paging.evictions,
	      (unsigned long long)u.paging.reloads, (unsigned long long)u.paging.ns);
	/* A again: nothing of it is out, nothing moves. */
	CHECK(pager_proc_enter(&a) == 0 && epc_usage(reg, 256 * 4096, &u, NULL) == 0 &&
		  u.paging.reloads == 100 && u.paging.evictions == 208,
	      "A again: reloads %llu", (unsigned long long)u.paging.reloads);
	/* C dies: its record goes with it (its 8 out, its evictions); B enters into the room. */
	pager_proc_stop(&c);
	CHECK(epc_usage(reg, 256 * 4096, &u, NULL) == 0 && u.live == 2 && u.paging.evicted == 100 &&
		  u.paging.evictions == 200,
	      "C gone: evicted %llu evictions %llu", (unsigned long long)u.paging.evicted,
	      (unsigned long long)u.paging.evictions);
	/* 156 free: all of B's 100 come back, 56 stay free (above 32): nothing goes. */
	CHECK(pager_proc_enter(&b) == 0 && epc_usage(reg, 256 * 4096, &u, NULL) == 0 &&
		  u.paging.reloads == 200 && u.paging.evicted == 0 && u.paging.evictions == 200 &&
		  u.paging.ns == 96 * ewb + 200 * eldu,
	      "B reloaded: reloads %llu evicted %llu evictions %llu ns %llu",
	      (unsigned long long)u.paging.reloads, (unsigned long long)u.paging.evicted,
	      (unsigned long long)u.paging.evictions, (unsigned long long)u.paging.ns);
	pager_proc_stop(&a);
	pager_proc_stop(&b);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.live == 0 && u.paging.evictions == 0,
	      "all gone: live %u", u.live);
}

static void test_limit(void)
{
	err_t err = NULL;
	struct epc_usage u;
	int ret;

	snprintf(reg, sizeof(reg), "%s/loader", dir);
	mkdir(reg, 0755);
	setenv("SGX_EPC_DIR", reg, 1);
	setenv("SGX_EPC_LIMIT_SOURCE", "annotation sgx.intel.com/epc", 1);
	ret = load("16384", &err);
	CHECK(ret == -EDQUOT, "refused: %d", ret);
	CHECK(err && strcmp(err_msg(err), "EPC limit exceeded: limit 16 KiB (annotation "
					  "sgx.intel.com/epc), request 28 KiB, in use 0 KiB") == 0,
	      "message: %s", err_msg(err));
	err_free(&err);
	/* In a container: named by it. */
	setenv("SGX_EPC_CONTAINER", "web-1", 1);
	ret = load("16384", &err);
	CHECK(ret == -EDQUOT &&
		  strcmp(err_msg(err), "EPC limit exceeded: container web-1, limit 16 "
				       "KiB (annotation sgx.intel.com/epc), request 28 "
				       "KiB, in use 0 KiB") == 0,
	      "message: %s", err_msg(err));
	err_free(&err);
	unsetenv("SGX_EPC_CONTAINER");
	CHECK(sgx_epc_pages() == 0);
	/* Room enough: the load gets past the charge (and fails later: an all-zero SIGSTRUCT). */
	ret = load("28672", &err);
	CHECK(ret < 0 && ret != -EDQUOT, "within the limit: %d %s", ret, err_msg(err));
	err_free(&err);
	ret = load(NULL, &err);
	CHECK(ret < 0 && ret != -EDQUOT, "no limit: %d %s", ret, err_msg(err));
	err_free(&err);
	ret = load("12x", &err);
	CHECK(ret == -EINVAL && strstr(err_msg(err), "SGX_EPC_LIMIT_BYTES=12x"), "bad limit: %s",
	      err_msg(err));
	err_free(&err);
	CHECK(sgx_epc_pages() == 0, "uncharged after failed loads");
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.live == 0 && u.reaped == 0,
	      "our entry removed, not left to reap: live %u reaped %u", u.live, u.reaped);
	unsetenv("SGX_EPC_LIMIT_BYTES");
	unsetenv("SGX_EPC_LIMIT_SOURCE");
	unsetenv("SGX_EPC_DIR");
}

static int load_skeleton(struct sgx_encl **e, err_t *err)
{
	static const struct sgx_load_opts emu = { .backend = SGX_BACKEND_EMULATOR };
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	struct sgx_image img;
	struct sgx_sigstruct ss;
	char path[4200];
	int ret;

	snprintf(path, sizeof(path), "%s/share/skeleton/encl.elf", build);
	ret = sgx_image_from_elf(&img, path, &(struct sgx_layout_opts){ 0 }, err);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/share/skeleton/encl.ss", build);
	ret = sgx_sigstruct_load(&ss, path, err);
	if (ret == 0)
		ret = sgx_encl_load(e, &img, &ss, &emu, NULL, err);
	sgx_image_free(&img);
	return ret;
}

/* A registry of our own (dir/sub) and a first skeleton enclave in it; -1: skipped. */
static int first_skeleton(const char *sub, struct sgx_encl **a)
{
	err_t err = NULL;

	snprintf(reg, sizeof(reg), "%s/%s", dir, sub);
	mkdir(reg, 0755);
	setenv("SGX_EPC_DIR", reg, 1);
	unsetenv("SGX_EPC_LIMIT_BYTES");
	if (load_skeleton(a, &err) < 0) {
		printf("# skip: the skeleton enclave (make all): %s\n", err_msg(err));
		err_free(&err);
		unsetenv("SGX_EPC_DIR");
		return -1;
	}
	return 0;
}

/* Enclaves that load: charged while they live, in the registry, refused past the limit. */
static void test_charge(void)
{
	struct sgx_encl *a = NULL, *b = NULL, *c = NULL;
	err_t err = NULL;
	struct epc_usage u;
	uint64_t n;
	char lim[32];
	int ret, fd;

	if (first_skeleton("charge", &a) < 0)
		return;
	n = sgx_epc_pages();
	CHECK(n > 1, "one enclave: %llu pages", (unsigned long long)n);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.live == 1 && u.pages == n,
	      "in the registry: live %u pages %llu", u.live, (unsigned long long)u.pages);
	/* Room for exactly two. */
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)(2 * n * 4096));
	setenv("SGX_EPC_LIMIT_BYTES", lim, 1);
	ret = load_skeleton(&b, &err);
	CHECK(ret == 0 && sgx_epc_pages() == 2 * n, "the second fits: %s", err_msg(err));
	err_free(&err);
	ret = load_skeleton(&c, &err);
	CHECK(ret == -EDQUOT && strstr(err_msg(err), "in use "), "the third is refused: %s",
	      err_msg(err));
	err_free(&err);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.pages == 2 * n, "registry: %llu pages",
	      (unsigned long long)u.pages);
	sgx_encl_destroy(a);
	sgx_encl_destroy(b);
	CHECK(sgx_epc_pages() == 0 && epc_usage(reg, 0, &u, NULL) == 0 && u.live == 0 &&
		  u.reaped == 0,
	      "all destroyed: our entry removed (live %u, reaped %u)", u.live, u.reaped);
	/* An entry handed over by rune's init-runelet ($SGX_EPC_FD): used, and kept at 0. */
	unsetenv("SGX_EPC_LIMIT_BYTES");
	fd = epc_entry_open(reg, NULL, NULL);
	snprintf(lim, sizeof(lim), "%d", fd);
	setenv("SGX_EPC_FD", lim, 1);
	ret = load_skeleton(&a, &err);
	CHECK(ret == 0 && epc_usage(reg, 0, &u, NULL) == 0 && u.live == 1 && u.pages == n,
	      "through SGX_EPC_FD: live %u pages %llu %s", u.live, (unsigned long long)u.pages,
	      err_msg(err));
	err_free(&err);
	sgx_encl_destroy(a);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.live == 1 && u.pages == 0,
	      "its entry stays, at 0: live %u pages %llu", u.live, (unsigned long long)u.pages);
	/* The entry's limit line wins over the environment; a rewrite applies to the next enclave. */
	setenv("SGX_EPC_LIMIT_BYTES", "1", 1);
	setenv("SGX_EPC_CONTAINER", "c1", 1);
	CHECK(epc_entry_set_limit(fd, n * 4096, "rune update --epc-limit") == 0);
	ret = load_skeleton(&a, &err);
	CHECK(ret == 0, "one fits the entry's limit: %s", err_msg(err));
	err_free(&err);
	ret = load_skeleton(&b, &err);
	CHECK(ret == -EDQUOT && strstr(err_msg(err), "EPC limit exceeded: container c1, limit ") &&
		  strstr(err_msg(err), " (rune update --epc-limit), request "),
	      "the second is refused: %s", err_msg(err));
	err_free(&err);
	CHECK(epc_entry_set_limit(fd, 2 * n * 4096, "rune update --epc-limit") == 0);
	ret = load_skeleton(&b, &err);
	CHECK(ret == 0 && sgx_epc_pages() == 2 * n, "raised: the second fits: %s", err_msg(err));
	err_free(&err);
	CHECK(epc_entry_pages(fd) == (int64_t)(2 * n) && epc_usage(reg, 0, &u, NULL) == 0 &&
		  u.pages == 2 * n,
	      "pages beside a limit line: %llu", (unsigned long long)u.pages);
	sgx_encl_destroy(b);
	/* A limit line of 0: no limit, whatever the environment says. */
	CHECK(epc_entry_set_limit(fd, 0, "") == 0);
	ret = load_skeleton(&b, &err);
	CHECK(ret == 0, "no limit in the entry: %s", err_msg(err));
	err_free(&err);
	sgx_encl_destroy(a);
	sgx_encl_destroy(b);
	close(fd);
	unsetenv("SGX_EPC_LIMIT_BYTES");
	unsetenv("SGX_EPC_CONTAINER");
	unsetenv("SGX_EPC_FD");
	unsetenv("SGX_EPC_DIR");
}

/*
 * The loader's enclaves past a small EPC: never refused for it, the model
 * evicts (exact counts); a limit still refuses.
 */
static void test_paging_loader(void)
{
	struct sgx_encl *a = NULL, *b = NULL, *c = NULL;
	err_t err = NULL;
	struct epc_usage u;
	uint64_t n, want;
	char v[32];
	int ret;

	if (first_skeleton("paging", &a) < 0)
		return;
	n = sgx_epc_pages();
	sgx_encl_destroy(a);
	/* Room for one enclave and 40 pages: the second leaves 40 - n free, under 32. */
	snprintf(v, sizeof(v), "%llu", (unsigned long long)((n + 40) * 4096));
	setenv("SGX_EMU_EPC_SIZE", v, 1);
	ret = load_skeleton(&a, &err);
	CHECK(ret == 0 && epc_usage(reg, 0, &u, NULL) == 0 && u.paging.evictions == 0,
	      "the first fits: %s", err_msg(err));
	err_free(&err);
	ret = load_skeleton(&b, &err);
	want = (64 - (40 - n) + 15) / 16 * 16;
	CHECK(ret == 0, "the second is not refused past the EPC: %s", err_msg(err));
	err_free(&err);
	CHECK(epc_usage(reg, (n + 40) * 4096, &u, NULL) == 0 && u.pages == 2 * n &&
		  u.paging.evictions == want && u.paging.evicted == want &&
		  u.paged == want * 4096 && u.paging.ns == want * EPC_EWB_NS,
	      "%llu pages each: evictions %llu (want %llu), paged %llu, ns %llu",
	      (unsigned long long)n, (unsigned long long)u.paging.evictions,
	      (unsigned long long)want, (unsigned long long)u.paged,
	      (unsigned long long)u.paging.ns);
	/* A limit still refuses, paging or not. */
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(2 * n * 4096));
	setenv("SGX_EPC_LIMIT_BYTES", v, 1);
	ret = load_skeleton(&c, &err);
	CHECK(ret == -EDQUOT, "past the limit: %d %s", ret, err_msg(err));
	err_free(&err);
	sgx_encl_destroy(b);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.pages == n && u.paging.evicted <= n,
	      "one destroyed: no more out than held (%llu)", (unsigned long long)u.paging.evicted);
	sgx_encl_destroy(a);
	CHECK(epc_usage(reg, 0, &u, NULL) == 0 && u.live == 0 && u.reaped == 0,
	      "all destroyed: our entry removed");
	unsetenv("SGX_EPC_LIMIT_BYTES");
	unsetenv("SGX_EMU_EPC_SIZE");
	unsetenv("SGX_EPC_DIR");
}

int main(void)
{
	char cmd[200];

	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	TAP_RUN(test_quantity);
	TAP_RUN(test_registry);
	TAP_RUN(test_model);
	TAP_RUN(test_pager);
	TAP_RUN(test_limit);
	TAP_RUN(test_paging_loader); /* before test_charge hands the loader an entry (SGX_EPC_FD) */
	TAP_RUN(test_charge);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_exit();
}
