// SPDX-License-Identifier: Apache-2.0
/*
 * EPC bookkeeping: Kubernetes quantities; the host-wide registry (live
 * entries summed, a dead process's entry ignored and reaped, whatever
 * way it died); the loader's per-process limit (an enclave past it refused
 * before ECREATE with the limit and the request named; pages uncharged
 * and our registry entry gone after a failed load).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/epc.h"
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

/* Enclaves that load: charged while they live, in the registry, refused past the limit. */
static void test_charge(void)
{
	struct sgx_encl *a = NULL, *b = NULL, *c = NULL;
	err_t err = NULL;
	struct epc_usage u;
	uint64_t n;
	char lim[32];
	int ret, fd;

	snprintf(reg, sizeof(reg), "%s/charge", dir);
	mkdir(reg, 0755);
	setenv("SGX_EPC_DIR", reg, 1);
	unsetenv("SGX_EPC_LIMIT_BYTES");
	ret = load_skeleton(&a, &err);
	if (ret < 0) {
		printf("# skip: the skeleton enclave (make all): %s\n", err_msg(err));
		err_free(&err);
		return;
	}
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

int main(void)
{
	char cmd[200];

	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	TAP_RUN(test_quantity);
	TAP_RUN(test_registry);
	TAP_RUN(test_limit);
	TAP_RUN(test_charge);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_exit();
}
