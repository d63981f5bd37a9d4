// SPDX-License-Identifier: Apache-2.0
/*
 * SGX emulator backend: runs the same signed enclave binary as hardware on
 * a CPU without SGX. NO confidentiality, NO integrity against the host:
 * enclave memory is ordinary process memory. What it does keep faithful:
 *  - ECREATE/EADD/EEXTEND compute the real MRENCLAVE; EINIT checks the
 *    SIGSTRUCT as the CPU does and refuses with the same error classes;
 *  - pages carry their SECINFO permissions inside an ELRANGE aligned to its
 *    size; TCS pages and unadded pages are inaccessible;
 *  - ENCLU (0f 01 d7) raises SIGILL here: the handler reads the leaf from
 *    RAX and emulates EENTER/ERESUME (outside) and EEXIT/EREPORT/EGETKEY
 *    (inside) with TCS (CSSA, NSSA, OENTRY, AEP, OFSBASE, OGSBASE) and SSA
 *    semantics;
 *  - a synchronous fault inside the enclave is an AEX: registers, FS/GS
 *    bases and the XSAVE state saved in the SSA frame, CSSA raised,
 *    synthetic state (extended state initialised), report to the caller;
 *    ERESUME restores all of it;
 *  - SGX_INTERRUPT_SIGNAL sent to a thread inside is an interrupt's AEX
 *    (EXITINFO not valid), reported to the caller as -EINTR; other
 *    asynchronous signals are blocked while inside; RDTSC faults inside
 *    (PR_SET_TSC) and is reported as the #UD SGX1 raises.
 * Gaps are listed in docs/emulator.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <cpuid.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/cleanup.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"
#include "loader_backend.h"
#include "libsgx/fileio.h"

/* In emu_enter.c. */
extern int sgx_emu_enter_enclave(unsigned long rdi, unsigned long rsi, unsigned long rdx,
				 unsigned int function, unsigned long r8, unsigned long r9,
				 struct sgx_enclave_run *run);
extern const char sgx_emu_aep[], sgx_emu_fixup[];

#define PERM_NONE 0xff /* page not added */
#define PERM_TCS  0x80

struct emu_tcs {
	uint64_t off;
	struct sgx_tcs tcs; /* the EPC copy: enclave software can't reach it */
	int busy;
};

struct emu {
	uint8_t *base;
	uint64_t size;
	uint8_t *area; /* reservation */
	size_t area_len;
	struct sgx_secs secs;
	struct sgx_measure *m;
	int initialized;
	uint8_t *perms; /* per page: SECINFO permissions, PERM_TCS or PERM_NONE */
	struct emu_tcs *tcs;
	size_t ntcs;
	pthread_mutex_t lock; /* TCS busy flags */
	int syscall_trap;     /* a seccomp filter refuses SYSCALL from the ELRANGE */
	int allow_provision;  /* the driver's provision gate is open */
};

/* Enclaves the signal handlers may meet; lock-free lookups. */
#define MAX_ENCLAVES  64
#define EMU_HUGE_PAGE (2UL << 20) /* x86-64 transparent huge pages */
static _Atomic(struct emu *) registry[MAX_ENCLAVES];

/* The machine secret's derived root key. */
static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secret_path;
static uint8_t root_key[16];
static uint8_t report_keyid[32];
static int secret_ready;
static EVP_MAC *cmac;

/*
 * Each thread's alternate signal stack is ALT_SIZE bytes aligned to its
 * size, with this header at its bottom: the signal entry (emu_enter.c)
 * finds it from RSP alone, without TLS, because inside the enclave FS
 * holds the enclave's base, not libc's thread pointer.
 */
#define ALT_SIZE  (256 * 1024)
#define ALT_MAGIC 0x5347582d454d5521ULL /* "!UME-XGS" */
struct alt_hdr {
	uint64_t magic;
	uint64_t host_fs; /* offsets 0, 8, 16, 24: used by the asm entry */
	uint64_t inside;
	uint64_t encl_fs;
};

/* In emu_enter.c: the handler the signals go to; it calls on_fault. */
extern void sgx_emu_sig_entry(int sig, siginfo_t *si, void *ctx);

/* Per thread: what the CPU would hold while in enclave mode. */
struct emu_thread {
	struct emu *encl; /* non-NULL while inside */
	struct emu_tcs *tcs;
	sigset_t host_mask;
	unsigned long host_gs;
	int host_tsc;
	int host_known; /* host_gs, host_tsc and the alt stack's host_fs read once */
	/*
	 * Within a loader call (prepare to finish) the GS base and RDTSC
	 * faulting the enclave had stay in place after an exit, where the
	 * host does not notice: glibc never uses GS (host_gs 0), and the
	 * host's first RDTSC faults into sgx_emu_on_fault, which lets it
	 * run. finish restores both. Saves two system calls per transition.
	 */
	int in_call;
	unsigned long gs_now; /* the GS base the thread has */
	int tsc_off;	      /* RDTSC faults (PR_TSC_SIGSEGV) because of an enclave */
	unsigned entries;
	uint64_t ursp, urbp;
	void *altstack;
};
static __thread struct emu_thread cur;

/*
 * 1 where enclave code can change its FS base itself (WRFSBASE: the CPU
 * has FSGSBASE and the kernel allows it): the signal entry then reads the
 * live one. Elsewhere only the emulator sets it, so its copy is the live one.
 */
__attribute__((visibility("hidden"))) int sgx_emu_live_fs;

/*
 * The emulated CPUSVN, in every REPORT: a marker verifiers can recognise
 * (an SVN no real CPU reports). EGETKEY accepts it or 0 as the request's.
 */
static const uint8_t emu_cpusvn[16] = "RUNE-SGX-EMU\0\0\0";

static struct sigaction old_act[NSIG];
static const int trapped_sigs[] = { SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS };
/* Handled like them, but never unblocked outside the enclave (a kick would be lost there). */
static const int handled_sigs[] = {
	SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS, SGX_INTERRUPT_SIGNAL
};
static pthread_mutex_t handlers_lock = PTHREAD_MUTEX_INITIALIZER;
static int handlers_installed;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static int handlers_err;
static pthread_key_t altstack_key;

/* ---- the machine secret and key derivation ---- */

int sgx_emu_set_secret_path(const char *path, err_t *err)
{
	char *p = strdup(path);

	if (!p)
		return err_sys(err, ENOMEM, "set emulator secret path");
	pthread_mutex_lock(&secret_lock);
	free(secret_path);
	secret_path = p;
	secret_ready = 0;
	pthread_mutex_unlock(&secret_lock);
	return 0;
}

static int mkdir_parents(const char *path)
{
	char *dup = strdup(path), *s;

	if (!dup)
		return -ENOMEM;
	for (s = dup + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(dup, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			free(dup);
			return -e;
		}
		*s = '/';
	}
	free(dup);
	return 0;
}

/* Creates the secret once: written to a temporary name, then linked in place. */
static int create_secret(const char *path, err_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	uint8_t buf[32];
	int fd, ret;

	ret = mkdir_parents(path);
	if (ret < 0)
		return err_sys(err, -ret, "create the directory of %s", path);
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return err_sys(err, ENOMEM, "create %s", path);
	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf))
		return err_sys(err, errno, "getrandom");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "create %s", path);
	if (fchmod(fd, 0600) < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf) || fsync(fd) < 0) {
		ret = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return err_sys(err, ret, "write %s", tmp);
	}
	close(fd);
	ret = link(tmp, path) < 0 && errno != EEXIST ? errno : 0;
	unlink(tmp);
	explicit_bzero(buf, sizeof(buf));
	if (ret)
		return err_sys(err, ret, "create %s", path);
	return 0;
}

/* The secret's path: as set, else $SGX_EMU_SECRET, else the default. */
static const char *secret_path_locked(void)
{
	const char *path = secret_path ? secret_path : getenv("SGX_EMU_SECRET");

	return path && *path ? path : SGX_EMU_SECRET_DEFAULT;
}

int sgx_emu_state_path(const char *name, char **out, err_t *err)
{
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int ret;

	pthread_mutex_lock(&secret_lock);
	dir = strdup(secret_path_locked());
	pthread_mutex_unlock(&secret_lock);
	if (!dir)
		return err_sys(err, ENOMEM, "emulator state path");
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else
		slash[1] = 0;
	if (asprintf(out, "%s%s%s", dir, slash ? "" : "/", name) < 0)
		return err_sys(err, ENOMEM, "emulator state path");
	ret = mkdir_parents(*out);
	if (ret < 0) {
		err_sys(err, -ret, "create the directory of %s", *out);
		free(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}

static int cmac_raw(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t outl = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_MAC_CTX_new(cmac);
	if (!ctx)
		return -ENOMEM;
	ok = EVP_MAC_init(ctx, key, 16, params) && EVP_MAC_update(ctx, data, len) &&
	     EVP_MAC_final(ctx, out, &outl, 16) && outl == 16;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int load_secret_locked(err_t *err)
{
	const char *path = secret_path_locked();
	uint8_t buf[256], digest[32];
	unsigned dlen = 0;
	struct stat st;
	ssize_t n;
	int fd, ret;

	if (secret_ready)
		return 0;
	if (!cmac) {
		cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
		if (!cmac)
			return err_set(err, EIO, "OpenSSL has no AES-CMAC");
	}
	/* Never opens a FIFO (it would block) or a device node: regular files only. */
	fd = sgx_open_regular(path, O_NOFOLLOW, &st, NULL);
	if (fd == -ENOENT) {
		ret = create_secret(path, err);
		if (ret < 0)
			return ret;
		fd = sgx_open_regular(path, O_NOFOLLOW, &st, NULL);
	}
	if (fd == -EINVAL)
		return err_set(err, EINVAL, "SGX emulator secret %s: not a regular file", path);
	if (fd < 0)
		return err_sys(err, -fd, "open the SGX emulator secret %s", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 16)
		return err_set(err, EINVAL, "SGX emulator secret %s: %s", path,
			       n < 0 ? strerror(errno) : "shorter than 16 bytes");
	/* root = SHA-256(label || secret)[0,16); KEYID = CMAC(root, "KEYID"). */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		static const char label[] = "rune sgx emulator root key v1";

		ret = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
		      EVP_DigestUpdate(md, label, sizeof(label)) && EVP_DigestUpdate(md, buf, n) &&
		      EVP_DigestFinal_ex(md, digest, &dlen);
		EVP_MD_CTX_free(md);
		explicit_bzero(buf, sizeof(buf));
		if (!ret)
			return err_set(err, EIO, "derive the emulator root key");
	}
	memcpy(root_key, digest, 16);
	explicit_bzero(digest, sizeof(digest));
	memset(report_keyid, 0, sizeof(report_keyid));
	if (cmac_raw(root_key, "KEYID", 5, report_keyid) < 0)
		return err_set(err, EIO, "derive the emulator key id");
	secret_ready = 1;
	return 0;
}

/* Unloaded with the library (a dlclosed PAL): leave nothing behind. */
__attribute__((destructor)) static void emu_fini(void)
{
	/* Our handlers and key destructor must not outlive our code. */
	if (handlers_installed) {
		struct sigaction now;

		for (size_t i = 0; i < ARRAY_SIZE(handled_sigs); i++) {
			int sig = handled_sigs[i];

			if (sigaction(sig, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
			    now.sa_sigaction == sgx_emu_sig_entry)
				sigaction(sig, &old_act[sig], NULL);
		}
		pthread_key_delete(altstack_key);
		if (cur.altstack) {
			stack_t ss = { .ss_flags = SS_DISABLE };

			sigaltstack(&ss, NULL);
			munmap(cur.altstack, ALT_SIZE);
			cur.altstack = NULL;
		}
	}
	EVP_MAC_free(cmac);
	cmac = NULL;
	free(secret_path);
	secret_path = NULL;
	explicit_bzero(root_key, sizeof(root_key));
	secret_ready = 0;
}

int sgx_loader_init(err_t *err)
{
	int ret;

	pthread_mutex_lock(&secret_lock);
	ret = load_secret_locked(err);
	pthread_mutex_unlock(&secret_lock);
	return ret;
}

/* What a derived key depends on (the SDM's key dependencies, simplified). */
struct kdf {
	char label[16];
	uint16_t keyname, keypolicy, isvprodid, isvsvn;
	uint32_t miscselect;
	uint32_t pad;
	uint64_t attributes, xfrm;
	uint8_t cpusvn[16];
	uint8_t keyid[32];
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
} __attribute__((packed));

static int derive(struct kdf *k, uint8_t out[16])
{
	memcpy(k->label, "RUNE-SGX-EMU-KD1", 16);
	return cmac_raw(root_key, k, sizeof(*k), out);
}

static int report_key(const uint8_t mrenclave[32], uint64_t attributes, uint64_t xfrm,
		      uint32_t miscselect, const uint8_t keyid[32], uint8_t key[16])
{
	struct kdf k;

	memset(&k, 0, sizeof(k));
	k.keyname = SGX_KEY_REPORT;
	memcpy(k.mrenclave, mrenclave, 32);
	k.attributes = attributes;
	k.xfrm = xfrm;
	k.miscselect = miscselect;
	memcpy(k.keyid, keyid, 32);
	return derive(&k, key);
}

int sgx_emu_report_key(const struct sgx_targetinfo *t, const uint8_t keyid[32], uint8_t key[16],
		       err_t *err)
{
	int ret = sgx_loader_init(err);

	if (ret < 0)
		return ret;
	if (report_key(t->mrenclave, t->attributes, t->xfrm, t->miscselect, keyid, key) < 0)
		return err_set(err, EIO, "derive the report key");
	return 0;
}

int sgx_emu_verify_report(const struct sgx_report *r, const struct sgx_targetinfo *t, err_t *err)
{
	uint8_t key[16], mac[16];
	int ret;

	ret = sgx_emu_report_key(t, r->keyid, key, err);
	if (ret < 0)
		return ret;
	ret = cmac_raw(key, &r->body, sizeof(r->body), mac);
	explicit_bzero(key, sizeof(key));
	if (ret < 0)
		return err_set(err, EIO, "compute the report MAC");
	if (CRYPTO_memcmp(mac, r->mac, 16))
		return err_set(err, EBADMSG,
			       "REPORT MAC does not verify with the target's report key");
	return 0;
}

/* ---- ECREATE / EADD / EINIT ---- */

static struct emu *find_encl(uint64_t addr)
{
	for (int i = 0; i < MAX_ENCLAVES; i++) {
		struct emu *m = atomic_load(&registry[i]);

		if (m && addr - (uintptr_t)m->base < m->size)
			return m;
	}
	return NULL;
}

static int page_prot(uint8_t perm)
{
	if (perm == PERM_NONE || perm == PERM_TCS)
		return PROT_NONE;
	return (perm & SGX_SECINFO_R ? PROT_READ : 0) | (perm & SGX_SECINFO_W ? PROT_WRITE : 0) |
	       (perm & SGX_SECINFO_X ? PROT_EXEC : 0);
}

static void emu_destroy(struct sgx_encl *e)
{
	struct emu *m = e->priv;

	if (!m)
		return;
	for (int i = 0; i < MAX_ENCLAVES; i++) {
		struct emu *want = m;

		atomic_compare_exchange_strong(&registry[i], &want, NULL);
	}
	if (m->area && m->syscall_trap && !e->forgetting) {
		/*
		 * The seccomp filter outlives us: keep the ELRANGE reserved (and
		 * empty) so no other code ever runs there.
		 */
		uint8_t *lo = m->base > m->area ? m->base : m->area; /* fixed base: the area */

		mmap(lo, (uintptr_t)m->base + m->size - (uintptr_t)lo, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		if (m->base > m->area)
			munmap(m->area, m->base - m->area);
		if ((uintptr_t)m->base + m->size < (uintptr_t)m->area + m->area_len)
			munmap(m->base + m->size, m->area + m->area_len - (m->base + m->size));
	} else if (m->area) {
		munmap(m->area, m->area_len);
	}
	sgx_measure_free(m->m);
	pthread_mutex_destroy(&m->lock);
	free(m->perms);
	free(m->tcs);
	free(m);
	e->priv = NULL;
}

static int is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/*
 * The CPU the emulator models (CPUID leaf 12H): SGX1 without KSS, CET or
 * AEXNOTIFY, no MISC state (MISCSELECT 0), XFRM a subset of the host's XCR0
 * (the enclave's code runs on the host CPU), ELRANGEs up to 64 GiB.
 */
#define EMU_ATTRIBUTES                                                                             \
	(SGX_ATTR_INIT | SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT | SGX_ATTR_PROVISIONKEY |             \
	 SGX_ATTR_EINITTOKENKEY)
#define EMU_MISCSELECT 0u
#define EMU_MAX_SIZE   SGX_IMAGE_MAX_SIZE

static uint64_t host_xfrm(void)
{
	unsigned int a, b, c, d, lo, hi;

	/* Without OSXSAVE only x87 and SSE exist. */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return SGX_XFRM_LEGACY;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32 | lo) | SGX_XFRM_LEGACY;
}

/* XFRM feature groups that must be all set or all clear (ECREATE's #GP otherwise). */
static int xfrm_consistent(uint64_t xfrm)
{
	uint64_t bnd = xfrm & (3ULL << 3), avx512 = xfrm & (7ULL << 5), amx = xfrm & (3ULL << 17);

	if (bnd && bnd != 3ULL << 3)
		return 0;
	if (avx512 && (avx512 != 7ULL << 5 || !(xfrm & (1ULL << 2))))
		return 0;
	if (amx && amx != 3ULL << 17)
		return 0;
	return 1;
}

/* ECREATE's refusals of the SECS (all #GP on hardware). */
static int ecreate_check(const struct sgx_secs *secs, err_t *err)
{
	uint64_t xfrm_ok = host_xfrm();
	uint32_t min_ssa;

	if (secs->attributes & SGX_ATTR_INIT)
		return err_set(err, EINVAL, "SECS.ATTRIBUTES.INIT must be clear (#GP)");
	if (secs->attributes & ~EMU_ATTRIBUTES)
		return err_set(err, EINVAL,
			       "SECS.ATTRIBUTES 0x%llx: bits 0x%llx are reserved or unsupported "
			       "(KSS, CET, AEXNOTIFY: #GP)",
			       (unsigned long long)secs->attributes,
			       (unsigned long long)(secs->attributes & ~EMU_ATTRIBUTES));
	if ((secs->xfrm & SGX_XFRM_LEGACY) != SGX_XFRM_LEGACY)
		return err_set(err, EINVAL, "SECS.XFRM must include x87 and SSE (0x3) (#GP)");
	if (secs->xfrm & ~xfrm_ok)
		return err_set(err, EINVAL,
			       "SECS.XFRM 0x%llx: features 0x%llx not supported by this CPU (XCR0 "
			       "0x%llx) (#GP)",
			       (unsigned long long)secs->xfrm,
			       (unsigned long long)(secs->xfrm & ~xfrm_ok),
			       (unsigned long long)xfrm_ok);
	if (!xfrm_consistent(secs->xfrm))
		return err_set(err, EINVAL,
			       "SECS.XFRM 0x%llx: inconsistent (BNDREGS/BNDCSR, AVX-512 or AMX "
			       "components must be set together) (#GP)",
			       (unsigned long long)secs->xfrm);
	if (secs->miscselect & ~EMU_MISCSELECT)
		return err_set(err, EINVAL, "SECS.MISCSELECT 0x%x: unsupported bits (#GP)",
			       secs->miscselect);
	min_ssa = sgx_min_ssaframesize(secs->xfrm, secs->miscselect);
	if (secs->ssaframesize < min_ssa)
		return err_set(
		    err, EINVAL,
		    "SECS.SSAFRAMESIZE %u pages: XFRM 0x%llx and MISCSELECT 0x%x need %u "
		    "(#GP)",
		    secs->ssaframesize, (unsigned long long)secs->xfrm, secs->miscselect, min_ssa);
	if (secs->size < 2 * SGX_PAGE_SIZE || (secs->size & (secs->size - 1)) ||
	    secs->size > EMU_MAX_SIZE)
		return err_set(err, EINVAL,
			       "SECS.SIZE %#llx: not a power of two in [8 KiB, 64 GiB] (#GP)",
			       (unsigned long long)secs->size);
	if (!is_zero(secs->reserved1, sizeof(secs->reserved1)) ||
	    !is_zero(secs->reserved2, sizeof(secs->reserved2)) ||
	    !is_zero(secs->reserved3, sizeof(secs->reserved3)) ||
	    !is_zero(secs->reserved4, sizeof(secs->reserved4)) ||
	    !is_zero(secs->config_id, sizeof(secs->config_id)) || secs->config_svn)
		return err_set(
		    err, EINVAL,
		    "SECS: reserved fields, CONFIGID or CONFIGSVN (no KSS) not zero (#GP)");
	if (!(secs->attributes & SGX_ATTR_MODE64BIT))
		return err_set(err, ENOTSUP, "the emulator runs 64-bit enclaves only (MODE64BIT)");
	return 0;
}

static int emu_create(struct sgx_encl *e, struct sgx_secs *secs, const struct sgx_load_opts *o,
		      err_t *err)
{
	struct emu *m;
	uint8_t *area;
	int ret, slot;

	ret = ecreate_check(secs, err);
	if (ret < 0)
		return ret;
	ret = sgx_loader_init(err);
	if (ret < 0)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_sys(err, ENOMEM, "allocate the emulated enclave");
	e->priv = m;
	pthread_mutex_init(&m->lock, NULL);
	m->perms = malloc(secs->size / SGX_PAGE_SIZE);
	if (!m->perms)
		return err_sys(err, ENOMEM, "allocate the page map");
	memset(m->perms, PERM_NONE, secs->size / SGX_PAGE_SIZE);
	if (o && o->fixed_base) {
		/* As the driver backend: from the lowest page up. */
		uint8_t *want = (uint8_t *)(uintptr_t)(o->base + e->map_from);
		size_t len = secs->size - e->map_from;

		area =
		    mmap(want, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (area == MAP_FAILED)
			return err_sys(err, errno, "reserve the ELRANGE at %p..%p (fixed base)",
				       want, want + len);
		if (area != want) {
			munmap(area, len);
			return err_set(err, EEXIST,
				       "reserve the ELRANGE at %p..%p (fixed base): in use", want,
				       want + len);
		}
		m->area = area;
		m->area_len = len;
		m->base = (uint8_t *)(uintptr_t)o->base;
	} else {
		area = mmap(NULL, secs->size * 2, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area == MAP_FAILED)
			return err_sys(err, errno, "reserve the ELRANGE (%#llx bytes)",
				       (unsigned long long)secs->size * 2);
		m->area = area;
		m->area_len = secs->size * 2;
		m->base =
		    (uint8_t *)(((uintptr_t)area + secs->size - 1) & ~(uintptr_t)(secs->size - 1));
	}
	m->size = secs->size;
	secs->base = (uintptr_t)m->base;
	m->secs = *secs;
	m->allow_provision = o && o->allow_provision;
	e->base = (uintptr_t)m->base;
	e->enter = sgx_emu_enter_enclave;
	ret = sgx_measure_new(&m->m, secs->ssaframesize, secs->size, err);
	if (ret < 0)
		return ret;
	for (slot = 0; slot < MAX_ENCLAVES; slot++) {
		struct emu *none = NULL;

		if (atomic_compare_exchange_strong(&registry[slot], &none, m))
			break;
	}
	if (slot == MAX_ENCLAVES)
		return err_set(err, EMFILE, "too many emulated enclaves (%d)", MAX_ENCLAVES);
	return 0;
}

/* EADD of a TCS page at off (measured already): the EPC copy and its checks. */
static int emu_add_tcs(struct emu *m, uint64_t off, const uint8_t *data, err_t *err)
{
	struct emu_tcs *t = realloc(m->tcs, (m->ntcs + 1) * sizeof(*t));
	struct sgx_tcs *tcs;

	if (!t)
		return err_sys(err, ENOMEM, "allocate TCS");
	m->tcs = t;
	t = &m->tcs[m->ntcs];
	memset(t, 0, sizeof(*t));
	t->off = off;
	if (data)
		memcpy(&t->tcs, data, sizeof(t->tcs));
	tcs = &t->tcs;
	/* EADD of a TCS checks its fields (#GP on hardware). */
	if (!is_zero(tcs->reserved, sizeof(tcs->reserved)))
		return err_set(err, EINVAL, "TCS at %#llx: reserved bytes not zero (#GP)",
			       (unsigned long long)off);
	/*
	 * Hardware zeroes STATE, CSSA and AEP at EADD (and measures what
	 * it zeroed) and refuses FLAGS, OSSA or the FS/GS bases at EENTER:
	 * refused here, so the measurement never differs.
	 */
	if (tcs->ossa % SGX_PAGE_SIZE || tcs->ofsbase % SGX_PAGE_SIZE ||
	    tcs->ogsbase % SGX_PAGE_SIZE || tcs->cssa || tcs->state || tcs->aep ||
	    (tcs->flags & ~1ULL))
		return err_set(err, EINVAL, "malformed TCS at %#llx (#GP)",
			       (unsigned long long)off);
	m->ntcs++;
	m->perms[off / SGX_PAGE_SIZE] = PERM_TCS;
	return 0;
}

/*
 * EADD of a page, or of a run of pages alike: each page is measured (its
 * EADD record, and EEXTENDs if measured) and gets its permission byte, as
 * page by page, but a run of REG pages is mapped with one mprotect pair.
 */
static int emu_add(struct sgx_encl *e, const struct sgx_image_page *p, err_t *err)
{
	struct emu *m = e->priv;
	uint64_t type = p->flags & SGX_SECINFO_PT_MASK, n = sgx_image_page_count(p);
	/* Integer arithmetic: the base may be 0 (a fixed base), and NULL + n is not C. */
	uint8_t *page = (uint8_t *)((uintptr_t)m->base + p->offset);
	size_t idx = p->offset / SGX_PAGE_SIZE, len;
	int ret;

	if (m->initialized)
		return err_set(err, EPERM, "EADD after EINIT");
	if (p->offset % SGX_PAGE_SIZE || p->offset >= m->size ||
	    n > (m->size - p->offset) / SGX_PAGE_SIZE)
		return err_set(err, EINVAL, "page offset %#llx (%llu pages) outside the ELRANGE",
			       (unsigned long long)p->offset, (unsigned long long)n);
	len = n * SGX_PAGE_SIZE;
	for (size_t i = 0; i < n; i++)
		if (m->perms[idx + i] != PERM_NONE)
			return err_set(err, EEXIST, "page at %#llx added twice (EPC page conflict)",
				       (unsigned long long)(p->offset + i * SGX_PAGE_SIZE));
	/* Measures, and refuses what EADD refuses (the whole run before any of it). */
	ret = sgx_measure_add_pages(m->m, p->offset, n, p->flags, p->data, p->measured, err);
	if (ret < 0)
		return ret;
	if (type == SGX_SECINFO_TCS) {
		for (size_t i = 0; i < n; i++) {
			ret = emu_add_tcs(m, p->offset + i * SGX_PAGE_SIZE,
					  p->data ? p->data + i * SGX_PAGE_SIZE : NULL, err);
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	/* Zero pages need no copy: the reserved range was never written. */
	if (p->data && mprotect(page, len, PROT_READ | PROT_WRITE) < 0)
		return err_sys(err, errno, "map enclave page");
	if (p->data) {
		/*
		 * Populated in one call: a fault per page costs twice as much on a
		 * paravirtualised host (11 us against 5.5 here).
		 */
		if (n > 1)
			madvise(page, len, MADV_POPULATE_WRITE);
		memcpy(page, p->data, len);
	}
	memset(m->perms + idx, p->flags & SGX_SECINFO_PERM_MASK, n);
	if (mprotect(page, len, page_prot(m->perms[idx])) < 0)
		return err_sys(err, errno, "protect enclave page");
	/*
	 * A big run of zero pages (a LibOS heap): huge pages where the host
	 * has them, so its first touch is one fault per 2 MiB, not 512. On
	 * hardware every added page is resident anyway; best effort.
	 */
	if (!p->data && len >= EMU_HUGE_PAGE)
		madvise(page, len, MADV_HUGEPAGE);
	return 0;
}

/*
 * SYSCALL inside an enclave raises #UD on hardware. A seccomp filter traps
 * (SIGSYS) system calls made from the ELRANGE; the signal handler turns that
 * into an AEX. Filters need no_new_privs or CAP_SYS_ADMIN, and the emulator never
 * sets no_new_privs behind the caller's back: without either, SYSCALLs
 * inside go unflagged (sgx_encl_traps_syscalls() says which).
 */
static void trap_syscalls(struct emu *m)
{
	uint64_t base = (uintptr_t)m->base, end = base + m->size;
	uint32_t ip_lo = offsetof(struct seccomp_data, instruction_pointer);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_lo + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(base >> 32), 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_lo),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)base, 0, 2),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)(end - 1), 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	/* One 4 GiB-aligned window only (ELRANGEs up to 4 GiB). */
	if ((base >> 32) != ((end - 1) >> 32))
		return;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		m->syscall_trap = 1;
}

int sgx_encl_traps_syscalls(const struct sgx_encl *e)
{
	const struct emu *m = e->priv;

	return sgx_encl_is_emulated(e) ? m->syscall_trap : 1;
}

static int emu_init(struct sgx_encl *e, const struct sgx_sigstruct *ss, const struct sgx_image *img,
		    err_t *err)
{
	struct emu *m = e->priv;
	uint8_t mrenclave[32];
	int cls;

	(void)img;
	sgx_measure_finish(m->m, mrenclave);
	m->m = NULL;
	/* The Linux driver's gate (SGX_IOC_ENCLAVE_PROVISION), before EINIT. */
	if ((m->secs.attributes & SGX_ATTR_PROVISIONKEY) && !m->allow_provision)
		return err_set(err, EACCES,
			       "the PROVISIONKEY attribute needs the provision gate "
			       "(/dev/sgx_provision; sgx_load_opts.allow_provision)");
	/* Every TCS's SSA frames must lie in the enclave (checked at EENTER on hardware). */
	cls = sgx_einit_check(ss, mrenclave, m->secs.attributes, m->secs.xfrm, m->secs.miscselect,
			      err);
	if (cls)
		return cls;
	memcpy(m->secs.mrenclave, mrenclave, 32);
	sgx_mrsigner(ss, m->secs.mrsigner);
	m->secs.isvprodid = ss->body.isvprodid;
	m->secs.isvsvn = ss->body.isvsvn;
	m->secs.attributes |= SGX_ATTR_INIT;
	m->initialized = 1;
	trap_syscalls(m);
	return 0;
}

/* ---- entering and leaving ---- */

static void set_gs(unsigned long v)
{
	syscall(SYS_arch_prctl, ARCH_SET_GS, v);
}

static void restore_host_gs(void)
{
	if (cur.gs_now != cur.host_gs) {
		set_gs(cur.host_gs);
		cur.gs_now = cur.host_gs;
	}
}

static void restore_host_tsc(void)
{
	if (cur.tsc_off) {
		prctl(PR_SET_TSC, cur.host_tsc, 0, 0, 0);
		cur.tsc_off = 0;
	}
}

/* A child forked between two transitions starts with the host's state. */
static void restore_host_in_child(void)
{
	cur.in_call = 0;
	restore_host_gs();
	restore_host_tsc();
}

static void free_altstack(void *p)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	sigaltstack(&ss, NULL);
	munmap(p, ALT_SIZE);
}

/*
 * (Re)installs our handler for the signals ENCLU and enclave faults raise,
 * keeping whatever was there to chain to: someone (a language runtime, a
 * sanitizer) may have replaced ours since the last entry.
 */
static int sigill_ours(void)
{
	struct sigaction now;

	return sigaction(SIGILL, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
	       now.sa_sigaction == sgx_emu_sig_entry;
}

static int ensure_handlers(void)
{
	struct sigaction sa, now;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sgx_emu_sig_entry;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	pthread_mutex_lock(&handlers_lock);
	for (size_t i = 0; i < ARRAY_SIZE(handled_sigs); i++) {
		int sig = handled_sigs[i];

		if (sigaction(sig, NULL, &now) < 0) {
			ret = errno;
			break;
		}
		if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == sgx_emu_sig_entry)
			continue;
		old_act[sig] = now;
		if (sigaction(sig, &sa, NULL) < 0) {
			ret = errno;
			break;
		}
	}
	handlers_installed = 1;
	pthread_mutex_unlock(&handlers_lock);
	return ret;
}

static void install_handlers(void)
{
	if (pthread_key_create(&altstack_key, free_altstack))
		handlers_err = EAGAIN;
	sgx_emu_live_fs = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	if (pthread_atfork(NULL, NULL, restore_host_in_child))
		handlers_err = ENOMEM;
}

/* A size-aligned signal stack for this thread, with its header. */
static struct alt_hdr *thread_altstack(void)
{
	uint8_t *p, *aligned;

	if (cur.altstack)
		return cur.altstack;
	p = mmap(NULL, 2 * ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (uint8_t *)(((uintptr_t)p + ALT_SIZE - 1) & ~(uintptr_t)(ALT_SIZE - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	munmap(aligned + ALT_SIZE, p + ALT_SIZE - aligned);
	cur.altstack = aligned;
	pthread_setspecific(altstack_key, aligned);
	((struct alt_hdr *)aligned)->magic = ALT_MAGIC;
	return cur.altstack;
}

struct call_cookie {
	sigset_t mask;
	stack_t altstack;
};
_Static_assert(sizeof(struct call_cookie) <= SGX_BACKEND_COOKIE_SIZE, "cookie");
_Static_assert(sizeof(struct alt_hdr) == 32 && ALT_SIZE == 0x40000, "emu_enter.c's constants");

/*
 * Per thread, before entering: the handlers, our alternate signal stack
 * (the enclave's own stack must never receive a signal frame; the caller's
 * own alternate stack comes back afterwards) and the TLS the handler uses,
 * touched here rather than first in a signal handler.
 */
static int emu_prepare(struct sgx_encl *e, void *cookie, err_t *err)
{
	struct call_cookie *c = cookie;
	struct alt_hdr *h;
	sigset_t sync;
	stack_t ss;
	int ret;

	(void)e;
	/*
	 * A blocked SIGILL raised by ENCLU would be fatal (the kernel forces
	 * the default action): unblock the synchronous signals for the call.
	 */
	sigemptyset(&sync);
	for (size_t i = 0; i < ARRAY_SIZE(trapped_sigs); i++)
		sigaddset(&sync, trapped_sigs[i]);
	pthread_sigmask(SIG_UNBLOCK, &sync, &c->mask);
	pthread_once(&handlers_once, install_handlers);
	/*
	 * Someone may have replaced our handlers since the last entry: SIGILL
	 * (ENCLU itself) is looked at every time, the others every 64 entries.
	 */
	if (!handlers_err && ((cur.entries++ & 63) == 0 || !sigill_ours()))
		handlers_err = ensure_handlers();
	if (handlers_err) {
		pthread_sigmask(SIG_SETMASK, &c->mask, NULL);
		return err_sys(err, handlers_err, "install the SGX emulator's signal handlers");
	}
	cur.encl = NULL;
	h = thread_altstack();
	if (!h || sigaltstack(NULL, &c->altstack) < 0)
		goto fail;
	h->inside = 0;
	/* A thread's own FS (its TLS), GS and TSC mode don't change under it: read once. */
	if (!cur.host_known) {
		if (syscall(SYS_arch_prctl, ARCH_GET_FS, &h->host_fs) < 0 ||
		    syscall(SYS_arch_prctl, ARCH_GET_GS, &cur.host_gs) < 0)
			goto fail;
		cur.host_tsc = prctl(PR_GET_TSC, &cur.host_tsc) == 0 ? cur.host_tsc : PR_TSC_ENABLE;
		cur.gs_now = cur.host_gs;
		cur.host_known = 1;
	}
	cur.in_call = 1;
	ss.ss_sp = (uint8_t *)h + sizeof(*h);
	ss.ss_size = ALT_SIZE - sizeof(*h);
	ss.ss_flags = 0;
	/* Ours may still be in place from the last call (see emu_finish). */
	if (c->altstack.ss_sp != ss.ss_sp && sigaltstack(&ss, NULL) < 0)
		goto fail;
	return 0;
fail:
	ret = errno;
	pthread_sigmask(SIG_SETMASK, &c->mask, NULL);
	return err_sys(err, ret, "set up an alternate signal stack");
}

static void emu_finish(struct sgx_encl *e, void *cookie)
{
	struct call_cookie *c = cookie;
	int blocked = 0;

	(void)e;
	cur.in_call = 0;
	restore_host_gs();
	restore_host_tsc();
	/*
	 * The caller's own alternate stack comes back; a caller without one
	 * keeps ours (it has no other use for it), which spares the next call
	 * a system call. So does a mask that had none of the sync signals.
	 */
	if (!(c->altstack.ss_flags & SS_DISABLE) &&
	    c->altstack.ss_sp != (uint8_t *)cur.altstack + sizeof(struct alt_hdr))
		sigaltstack(&c->altstack, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(trapped_sigs); i++)
		blocked |= sigismember(&c->mask, trapped_sigs[i]) == 1;
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &c->mask, NULL);
}

static void chain(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *o = &old_act[sig];

	if (o->sa_flags & SA_SIGINFO) {
		if (o->sa_sigaction) {
			o->sa_sigaction(sig, si, ctx);
			return;
		}
	} else if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN) {
		o->sa_handler(sig);
		return;
	}
	/* Default action: returning re-executes the fault, now fatal. */
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
}

static int is_enclu(const uint8_t *p)
{
	return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xd7;
}

/*
 * Sync signals stay deliverable inside (they become AEXs), and so does the
 * interrupt signal; the rest wait, libc's internal ones too (sigfillset
 * would leave those out).
 */
static void inside_mask(sigset_t *set)
{
	memset(set, 0xff, sizeof(*set));
	sigdelset(set, SIGILL);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGTRAP);
	sigdelset(set, SIGSYS);
	sigdelset(set, SGX_INTERRUPT_SIGNAL);
}

/*
 * The XSAVE state in a signal frame (what the kernel saved of the
 * interrupted code): its size, 0 if there is none we can use. The legacy
 * 512 bytes carry, in their software-reserved bytes, the kernel's
 * description of the extended area after them.
 */
#define FP_XSTATE_MAGIC1 0x46505853U
static size_t xstate_size(const ucontext_t *uc)
{
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t magic, size;

	if (!fp)
		return 0;
	memcpy(&magic, fp + 464, 4);
	memcpy(&size, fp + 464 + 12, 4); /* fx_sw_bytes.xstate_size */
	if (magic != FP_XSTATE_MAGIC1 || size < 512 + 64 || size > 64 * 1024)
		return 512;
	return size;
}

/* The XSAVE area of SSA frame `frame`: from the frame's start up to its MISC and GPR areas. */
static uint8_t *ssa_xsave(struct emu *m, struct emu_tcs *t, uint32_t frame, size_t *room)
{
	uint64_t fsz = m->secs.ssaframesize * SGX_PAGE_SIZE;

	*room = fsz - SGX_SSA_GPR_SIZE - 16; /* EXINFO (MISC) sits right below the GPRs */
	return (uint8_t *)((uintptr_t)m->base + t->tcs.ossa + frame * fsz);
}

/* AEX: the interrupted code's XSAVE state into the SSA; the CPU's back to its init state. */
static void save_xstate(ucontext_t *uc, struct emu *m, struct emu_tcs *t, uint32_t frame)
{
	size_t n = xstate_size(uc), room;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs, *x = ssa_xsave(m, t, frame, &room);
	uint32_t mxcsr = 0x1f80;
	uint16_t fcw = 0x37f;

	if (!n)
		return;
	memcpy(x, fp, n < room ? n : room);
	/* x87 and SSE registers cleared, AVX and beyond to their init state (XSTATE_BV). */
	memset(fp, 0, 160 + 256);
	memcpy(fp, &fcw, 2);
	memcpy(fp + 24, &mxcsr, 4);
	if (n > 512 + 8)
		memset(fp + 512, 0, 8);
}

/*
 * ERESUME: the SSA's XSAVE state into the signal frame the kernel restores
 * from. 0, or -1 when it is malformed (XRSTOR's #GP on hardware: reserved
 * MXCSR bits, header reserved bytes, components outside the frame's).
 */
static int restore_xstate(ucontext_t *uc, struct emu *m, struct emu_tcs *t, uint32_t frame)
{
	size_t n = xstate_size(uc), room;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs, *x = ssa_xsave(m, t, frame, &room);
	uint32_t mxcsr, mask;
	uint64_t allowed, hdr[8];

	if (!n)
		return 0;
	if (n > room)
		n = room;
	memcpy(&mxcsr, x + 24, 4);
	memcpy(&mask, fp + 28, 4);
	if (mxcsr & ~(mask ? mask : 0xffbfU))
		return -1;
	if (n >= 512 + 64) {
		memcpy(hdr, x + 512, 64);
		memcpy(&allowed, fp + 464 + 8, 8); /* fx_sw_bytes.xfeatures */
		if ((hdr[0] & ~allowed) || hdr[1] || hdr[2] || hdr[3] || hdr[4] || hdr[5] ||
		    hdr[6] || hdr[7])
			return -1;
		/* The frame's own description (sw bytes, magic2) stays as the kernel wrote it. */
		memcpy(fp, x, 464);
		memcpy(fp + 512, x + 512, n - 512);
		return 0;
	}
	memcpy(fp, x, 464);
	return 0;
}

static struct sgx_gpr *ssa_gpr(struct emu *m, struct emu_tcs *t, uint32_t frame)
{
	uint64_t fsz = m->secs.ssaframesize * SGX_PAGE_SIZE;

	return (struct sgx_gpr *)((uintptr_t)m->base + t->tcs.ossa + (frame + 1) * fsz -
				  SGX_SSA_GPR_SIZE);
}

/* The SSA frame must be enclave RW memory (EENTER checks it on hardware). */
static int ssa_ok(struct emu *m, struct emu_tcs *t, uint32_t frame)
{
	uint64_t fsz = m->secs.ssaframesize * SGX_PAGE_SIZE;
	uint64_t off = t->tcs.ossa + frame * fsz;

	if (off >= m->size || off + fsz > m->size || off + fsz < off)
		return 0;
	for (uint64_t p = off; p < off + fsz; p += SGX_PAGE_SIZE) {
		uint8_t perm = m->perms[p / SGX_PAGE_SIZE];

		if (perm == PERM_NONE || perm == PERM_TCS ||
		    (perm & (SGX_SECINFO_R | SGX_SECINFO_W)) != (SGX_SECINFO_R | SGX_SECINFO_W))
			return 0;
	}
	return 1;
}

static struct emu_tcs *find_tcs(struct emu *m, uint64_t addr)
{
	for (size_t i = 0; i < m->ntcs; i++)
		if ((uintptr_t)m->base + m->tcs[i].off == addr)
			return &m->tcs[i];
	return NULL;
}

static void enter_mode(ucontext_t *uc, struct emu *m, struct emu_tcs *t)
{
	greg_t *g = uc->uc_mcontext.gregs;

	cur.encl = m;
	cur.tcs = t;
	cur.ursp = g[REG_RSP];
	cur.urbp = g[REG_RBP];
	cur.host_mask = uc->uc_sigmask;
	inside_mask(&uc->uc_sigmask);
	if (cur.gs_now != (uintptr_t)m->base + t->tcs.ogsbase) {
		cur.gs_now = (uintptr_t)m->base + t->tcs.ogsbase;
		set_gs(cur.gs_now);
	}
	if (!cur.tsc_off) {
		prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
		cur.tsc_off = 1;
	}
	t->busy = 1;
	/* The signal entry loads this FS base when it returns to the enclave. */
	((struct alt_hdr *)cur.altstack)->encl_fs = (uintptr_t)m->base + t->tcs.ofsbase;
	((struct alt_hdr *)cur.altstack)->inside = 1;
}

static void leave_mode(ucontext_t *uc)
{
	uc->uc_sigmask = cur.host_mask;
	if (!cur.in_call || cur.host_gs)
		restore_host_gs();
	if (!cur.in_call)
		restore_host_tsc();
	cur.tcs->busy = 0;
	cur.encl = NULL;
	cur.tcs = NULL;
	((struct alt_hdr *)cur.altstack)->inside = 0;
}

/* A fault of ENCLU itself, outside: reported as the vDSO's fixup would. */
static void host_fault(ucontext_t *uc, int sig, siginfo_t *si, unsigned vector)
{
	greg_t *g = uc->uc_mcontext.gregs;

	if ((uintptr_t)g[REG_RIP] != (uintptr_t)sgx_emu_aep) {
		chain(sig, si, uc);
		return;
	}
	g[REG_RIP] = (uintptr_t)sgx_emu_fixup;
	g[REG_RDI] = vector;
	g[REG_RSI] = 0;
	g[REG_RDX] = 0;
}

static void do_eenter(ucontext_t *uc, int sig, siginfo_t *si)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct emu *m = find_encl(g[REG_RBX]);
	struct emu_tcs *t = m && m->initialized ? find_tcs(m, g[REG_RBX]) : NULL;
	int ok;

	if (!t)
		return host_fault(uc, sig, si, 13);
	pthread_mutex_lock(&m->lock);
	/* OENTRY outside the ELRANGE would run host code in enclave mode. */
	ok = !t->busy && t->tcs.cssa < t->tcs.nssa && t->tcs.oentry < m->size &&
	     ssa_ok(m, t, t->tcs.cssa);
	if (ok)
		t->busy = 1;
	pthread_mutex_unlock(&m->lock);
	if (!ok)
		return host_fault(uc, sig, si, 13);
	t->tcs.aep = g[REG_RCX];
	enter_mode(uc, m, t);
	ssa_gpr(m, t, t->tcs.cssa)->ursp = cur.ursp;
	ssa_gpr(m, t, t->tcs.cssa)->urbp = cur.urbp;
	g[REG_RCX] = g[REG_RIP] + 3;
	g[REG_RAX] = t->tcs.cssa;
	g[REG_RIP] = (uintptr_t)m->base + t->tcs.oentry;
}

static int is_canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static void do_eresume(ucontext_t *uc, int sig, siginfo_t *si)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct emu *m = find_encl(g[REG_RBX]);
	struct emu_tcs *t = m && m->initialized ? find_tcs(m, g[REG_RBX]) : NULL;
	struct sgx_gpr *gpr;
	int ok;

	if (!t)
		return host_fault(uc, sig, si, 13);
	pthread_mutex_lock(&m->lock);
	ok = !t->busy && t->tcs.cssa > 0 && ssa_ok(m, t, t->tcs.cssa - 1);
	if (ok)
		t->busy = 1;
	pthread_mutex_unlock(&m->lock);
	if (!ok)
		return host_fault(uc, sig, si, 13);
	if (restore_xstate(uc, m, t, t->tcs.cssa - 1) < 0) {
		pthread_mutex_lock(&m->lock);
		t->busy = 0;
		pthread_mutex_unlock(&m->lock);
		return host_fault(uc, sig, si, 13);
	}
	t->tcs.aep = g[REG_RCX];
	t->tcs.cssa--;
	enter_mode(uc, m, t);
	gpr = ssa_gpr(m, t, t->tcs.cssa);
	gpr->ursp = cur.ursp;
	gpr->urbp = cur.urbp;
	g[REG_RAX] = gpr->rax;
	g[REG_RCX] = gpr->rcx;
	g[REG_RDX] = gpr->rdx;
	g[REG_RBX] = gpr->rbx;
	g[REG_RSP] = gpr->rsp;
	g[REG_RBP] = gpr->rbp;
	g[REG_RSI] = gpr->rsi;
	g[REG_RDI] = gpr->rdi;
	g[REG_R8] = gpr->r8;
	g[REG_R9] = gpr->r9;
	g[REG_R10] = gpr->r10;
	g[REG_R11] = gpr->r11;
	g[REG_R12] = gpr->r12;
	g[REG_R13] = gpr->r13;
	g[REG_R14] = gpr->r14;
	g[REG_R15] = gpr->r15;
	/* Only the arithmetic flags and DF come back from the SSA. */
	g[REG_EFL] = (g[REG_EFL] & ~0xcd5ULL) | (gpr->rflags & 0xcd5ULL);
	g[REG_RIP] = gpr->rip;
	/* As on hardware, ERESUME restores the FS base saved in (or set into) the SSA. */
	if (is_canonical(gpr->fsbase))
		((struct alt_hdr *)cur.altstack)->encl_fs = gpr->fsbase;
}

/*
 * AEX: the enclave's registers go to the SSA frame, CSSA rises, the CPU
 * leaves with a synthetic state at the AEP; the vDSO-style entry function
 * then reports the exception (as the kernel's fixup makes the vDSO do).
 */
static void do_aex(ucontext_t *uc, int sig, siginfo_t *si, unsigned vector, unsigned type)
{
	int interrupt = sig == SGX_INTERRUPT_SIGNAL;
	greg_t *g = uc->uc_mcontext.gregs;
	struct emu *m = cur.encl;
	struct emu_tcs *t = cur.tcs;
	struct sgx_gpr *gpr = ssa_gpr(m, t, t->tcs.cssa);
	uint64_t tcs_addr = (uintptr_t)m->base + t->off;
	uint64_t addr = vector == 14 ? (uintptr_t)si->si_addr : 0;
	uint64_t aep = t->tcs.aep;

	gpr->rax = g[REG_RAX];
	gpr->rcx = g[REG_RCX];
	gpr->rdx = g[REG_RDX];
	gpr->rbx = g[REG_RBX];
	gpr->rsp = g[REG_RSP];
	gpr->rbp = g[REG_RBP];
	gpr->rsi = g[REG_RSI];
	gpr->rdi = g[REG_RDI];
	gpr->r8 = g[REG_R8];
	gpr->r9 = g[REG_R9];
	gpr->r10 = g[REG_R10];
	gpr->r11 = g[REG_R11];
	gpr->r12 = g[REG_R12];
	gpr->r13 = g[REG_R13];
	gpr->r14 = g[REG_R14];
	gpr->r15 = g[REG_R15];
	gpr->rflags = g[REG_EFL];
	gpr->rip = g[REG_RIP];
	gpr->ursp = cur.ursp;
	gpr->urbp = cur.urbp;
	/* EXITINFO is valid for exceptions only: an interrupt leaves it clear. */
	gpr->exitinfo = interrupt ? 0 : (vector & 0xff) | (type << 8) | (1U << 31);
	save_xstate(uc, m, t, t->tcs.cssa);
	/* The FS base the enclave runs with (the signal entry read it): ERESUME restores it. */
	gpr->fsbase = ((struct alt_hdr *)cur.altstack)->encl_fs;
	gpr->gsbase = (uintptr_t)m->base + t->tcs.ogsbase;
	t->tcs.cssa++;
	memset(g, 0, sizeof(greg_t) * REG_EFL);
	g[REG_RSP] = cur.ursp;
	g[REG_RBP] = cur.urbp;
	g[REG_RAX] = SGX_ERESUME;
	g[REG_RBX] = tcs_addr;
	g[REG_RCX] = aep;
	g[REG_RIP] = aep;
	leave_mode(uc);
	if (aep != (uintptr_t)sgx_emu_aep) {
		/* No fixup for a foreign AEP: the fault reaches the process (an interrupt: ERESUME). */
		if (!interrupt)
			chain(sig, si, uc);
		return;
	}
	g[REG_RIP] = (uintptr_t)sgx_emu_fixup;
	g[REG_RDI] = interrupt ? SGX_EMU_VECTOR_INTERRUPT : vector;
	g[REG_RSI] = vector == 14 ? (uint64_t)g[REG_ERR] : 0;
	g[REG_RDX] = addr;
}

/*
 * An ENCLU memory operand [addr, addr+len) the enclave accesses with perm
 * (R or W): 0 if fine, else the fault: #GP outside the ELRANGE, #PF for a
 * page not added, a TCS, or one without the permission.
 */
static int operand_fault(struct emu *m, uint64_t addr, size_t len, uint8_t perm)
{
	uint64_t off = addr - (uintptr_t)m->base;

	if (off >= m->size || len > m->size - off)
		return 13;
	for (uint64_t p = off & ~(SGX_PAGE_SIZE - 1); p < off + len; p += SGX_PAGE_SIZE) {
		uint8_t pp = m->perms[p / SGX_PAGE_SIZE];

		if (pp == PERM_NONE || pp == PERM_TCS || (pp & perm) != perm)
			return 14;
	}
	return 0;
}

static int do_ereport(struct emu *m, greg_t *g)
{
	const struct sgx_targetinfo *ti = (const void *)(uintptr_t)g[REG_RBX];
	const uint8_t *rd = (const void *)(uintptr_t)g[REG_RCX];
	struct sgx_report *out = (void *)(uintptr_t)g[REG_RDX];
	struct sgx_report r;
	uint8_t key[16];
	int vector;

	if ((uintptr_t)ti % SGX_TARGETINFO_ALIGN || (uintptr_t)rd % SGX_REPORTDATA_ALIGN ||
	    (uintptr_t)out % SGX_REPORT_ALIGN)
		return 13;
	if ((vector = operand_fault(m, (uintptr_t)ti, sizeof(*ti), SGX_SECINFO_R)) ||
	    (vector = operand_fault(m, (uintptr_t)rd, 64, SGX_SECINFO_R)) ||
	    (vector = operand_fault(m, (uintptr_t)out, sizeof(*out), SGX_SECINFO_W)))
		return vector;
	memset(&r, 0, sizeof(r));
	memcpy(r.body.cpusvn, emu_cpusvn, 16);
	r.body.miscselect = m->secs.miscselect;
	r.body.attributes = m->secs.attributes;
	r.body.xfrm = m->secs.xfrm;
	memcpy(r.body.mrenclave, m->secs.mrenclave, 32);
	memcpy(r.body.mrsigner, m->secs.mrsigner, 32);
	r.body.isvprodid = m->secs.isvprodid;
	r.body.isvsvn = m->secs.isvsvn;
	memcpy(r.body.reportdata, rd, 64);
	memcpy(r.keyid, report_keyid, 32);
	if (report_key(ti->mrenclave, ti->attributes, ti->xfrm, ti->miscselect, r.keyid, key) < 0 ||
	    cmac_raw(key, &r.body, sizeof(r.body), r.mac) < 0)
		memset(r.mac, 0, sizeof(r.mac)); /* cannot happen once the secret is loaded */
	explicit_bzero(key, sizeof(key));
	memcpy(out, &r, sizeof(r));
	return 0;
}

/* EGETKEY: returns a fault vector, or 0 with RAX = the SGX status. */
static int do_egetkey(struct emu *m, greg_t *g)
{
	const struct sgx_keyrequest *req = (const void *)(uintptr_t)g[REG_RBX];
	uint8_t *out = (void *)(uintptr_t)g[REG_RCX];
	static const uint8_t zero[16];
	uint64_t status = SGX_SUCCESS;
	struct kdf k;
	uint8_t key[16];
	int vector;

	if ((uintptr_t)req % SGX_KEYREQUEST_ALIGN || (uintptr_t)out % 16)
		return 13;
	if ((vector = operand_fault(m, (uintptr_t)req, sizeof(*req), SGX_SECINFO_R)) ||
	    (vector = operand_fault(m, (uintptr_t)out, 16, SGX_SECINFO_W)))
		return vector;
	/*
	 * A malformed KEYREQUEST is #GP: reserved fields or KEYPOLICY bits,
	 * and without KSS (the emulator has none) the KSS policies
	 * (NOISVPRODID, CONFIGID, ISVFAMILYID, ISVEXTPRODID) and CONFIGSVN.
	 */
	if (req->reserved1 || !is_zero(req->reserved2, sizeof(req->reserved2)) ||
	    (req->keypolicy & ~0x3fu))
		return 13;
	if (!(m->secs.attributes & SGX_ATTR_KSS) && ((req->keypolicy & 0x3cu) || req->config_svn))
		return 13;
	memset(&k, 0, sizeof(k));
	k.keyname = req->keyname;
	switch (req->keyname) {
	case SGX_KEY_REPORT:
		report_key(m->secs.mrenclave, m->secs.attributes, m->secs.xfrm, m->secs.miscselect,
			   req->keyid, key);
		goto done;
	case SGX_KEY_EINITTOKEN:
		if (!(m->secs.attributes & SGX_ATTR_EINITTOKENKEY))
			status = SGX_INVALID_ATTRIBUTE;
		break;
	case SGX_KEY_PROVISION:
	case SGX_KEY_PROVISION_SEAL:
		if (!(m->secs.attributes & SGX_ATTR_PROVISIONKEY))
			status = SGX_INVALID_ATTRIBUTE;
		break;
	case SGX_KEY_SEAL:
		break;
	default:
		status = SGX_INVALID_KEYNAME;
	}
	if (!status && req->isvsvn > m->secs.isvsvn)
		status = SGX_INVALID_ISVSVN;
	if (!status && memcmp(req->cpusvn, zero, 16) && memcmp(req->cpusvn, emu_cpusvn, 16))
		status = SGX_INVALID_CPUSVN;
	if (status) {
		g[REG_RAX] = status;
		g[REG_EFL] = (g[REG_EFL] & ~0x8d5ULL) | 0x40; /* ZF */
		return 0;
	}
	k.keypolicy = req->keypolicy;
	memcpy(k.cpusvn, req->cpusvn, 16);
	k.isvsvn = req->isvsvn;
	if (!(req->keypolicy & SGX_KEYPOLICY_NOISVPRODID))
		k.isvprodid = m->secs.isvprodid;
	/* INIT and DEBUG always take part, whatever the mask. */
	k.attributes = m->secs.attributes & (req->attributes_mask | SGX_ATTR_INIT | SGX_ATTR_DEBUG);
	k.xfrm = m->secs.xfrm & req->xfrm_mask;
	k.miscselect = m->secs.miscselect & req->miscmask;
	memcpy(k.keyid, req->keyid, 32);
	if (req->keyname == SGX_KEY_SEAL || req->keyname == SGX_KEY_PROVISION_SEAL) {
		if (req->keypolicy & SGX_KEYPOLICY_MRENCLAVE)
			memcpy(k.mrenclave, m->secs.mrenclave, 32);
		if (req->keypolicy & SGX_KEYPOLICY_MRSIGNER)
			memcpy(k.mrsigner, m->secs.mrsigner, 32);
	} else {
		memcpy(k.mrsigner, m->secs.mrsigner, 32);
	}
	derive(&k, key);
done:
	memcpy(out, key, 16);
	explicit_bzero(key, sizeof(key));
	g[REG_RAX] = SGX_SUCCESS;
	g[REG_EFL] &= ~0x8d5ULL;
	return 0;
}

static int is_rdtsc(const uint8_t *rip)
{
	return rip[0] == 0x0f && (rip[1] == 0x31 || (rip[1] == 0x01 && rip[2] == 0xf9));
}

static void enclu_inside(ucontext_t *uc, int sig, siginfo_t *si)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct emu *m = cur.encl;
	int vector = 0;

	switch (g[REG_RAX]) {
	case SGX_EEXIT: {
		uint64_t target = g[REG_RBX];

		if ((int64_t)(target << 16) >> 16 != (int64_t)target) {
			vector = 13; /* not canonical */
			break;
		}
		g[REG_RCX] = cur.tcs->tcs.aep;
		g[REG_RIP] = target;
		leave_mode(uc);
		return;
	}
	case SGX_EREPORT:
		vector = do_ereport(m, g);
		break;
	case SGX_EGETKEY:
		vector = do_egetkey(m, g);
		break;
	case SGX_EACCEPT:
	case SGX_EMODPE:
	case SGX_EACCEPTCOPY:
		vector = 6; /* SGX2 is not emulated: #UD, as on an SGX1 CPU */
		break;
	default:
		vector = 13;
	}
	if (vector) {
		do_aex(uc, sig, si, vector, 3);
		return;
	}
	g[REG_RIP] += 3;
}

/* Called by sgx_emu_sig_entry with the host's FS base back in place. */
__attribute__((visibility("hidden"))) void sgx_emu_on_fault(int sig, siginfo_t *si, void *ctx);
void sgx_emu_on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *rip = (const uint8_t *)(uintptr_t)g[REG_RIP];
	int saved_errno = errno;

	if (sig == SGX_INTERRUPT_SIGNAL) {
		/* Inside: an interrupt's AEX. Outside: nothing to interrupt. */
		if (cur.encl)
			do_aex(uc, sig, si, 0, 0);
	} else if (cur.encl && si->si_code <= 0) {
		/* Sent, not raised by an instruction: no AEX; dropped (it would be blocked). */
	} else if (cur.encl) {
		struct emu *m = cur.encl;
		int readable = !operand_fault(m, (uintptr_t)rip, 3, SGX_SECINFO_R);
		unsigned vector = g[REG_TRAPNO];

		if (sig == SIGILL && readable && is_enclu(rip)) {
			enclu_inside(uc, sig, si);
		} else {
			/* RDTSC/RDTSCP fault under PR_SET_TSC; SGX1 raises #UD for them. */
			if (sig == SIGSEGV && readable && is_rdtsc(rip))
				vector = 6;
			else if (sig == SIGILL)
				vector = 6;
			else if (sig == SIGSYS) {
				/* SYSCALL (trapped by seccomp): #UD at the instruction. */
				/* si_call_addr is the address after the 2-byte SYSCALL. */
				g[REG_RIP] = (uintptr_t)si->si_call_addr - 2;
				vector = 6;
			}
			do_aex(uc, sig, si, vector, 3);
		}
	} else if (sig == SIGILL && is_enclu(rip)) {
		if (g[REG_RAX] == SGX_EENTER)
			do_eenter(uc, sig, si);
		else if (g[REG_RAX] == SGX_ERESUME)
			do_eresume(uc, sig, si);
		else
			host_fault(uc, sig, si, 13); /* other leaves: #GP outside */
	} else if (sig == SIGSEGV && si->si_code == SI_KERNEL && cur.tsc_off && is_rdtsc(rip)) {
		/*
		 * The host's RDTSC between two transitions (see in_call): it
		 * runs again. SI_KERNEL (a #GP): RIP was fetched, so readable.
		 */
		restore_host_tsc();
	} else {
		chain(sig, si, ctx);
	}
	errno = saved_errno;
}

const struct sgx_backend_ops sgx_emu_backend = {
	.name = "emulator",
	.create = emu_create,
	.add = emu_add,
	.init = emu_init,
	.prepare = emu_prepare,
	.finish = emu_finish,
	.destroy = emu_destroy,
};
