// SPDX-License-Identifier: Apache-2.0
/*
 * The emulator backend: the skeleton enclave (the binary hardware would
 * run) is built, EINITed and entered; its EREPORT verifies with the report
 * key of its target; EINIT refuses what the CPU refuses; a tiny enclave's
 * EGETKEY seal key is stable across loads; faults inside become AEXs; a
 * run of heap pages is EADDed in one go with the MRENCLAVE of page by page.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "../tap.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"
#include "skeleton/skeleton_abi.h"

static const struct sgx_load_opts emu = { .backend = SGX_BACKEND_EMULATOR };

/* One ecall of the skeleton, servicing its OCALLs; output collected in out. */
static int skel_call_tcs(struct sgx_encl *e, int tcs, long op, struct skel_mailbox *mb, char *out,
			 size_t outlen, long *result, err_t *err)
{
	struct sgx_encl_regs r = { .rdi = op, .rsi = (uintptr_t)mb };
	size_t used = 0;
	int ret;

	for (;;) {
		ret = sgx_encl_call(e, tcs, &r, err);
		if (ret < 0)
			return ret;
		if (r.rdi == SKEL_EXIT_RETURN) {
			*result = (long)r.rsi;
			return 0;
		}
		if (r.rdi != SKEL_EXIT_OCALL)
			return -EPROTO;
		if (r.rsi == SKEL_OCALL_WRITE && used + mb->len < outlen) {
			memcpy(out + used, mb->buf, mb->len);
			used += mb->len;
			out[used] = 0;
			r.rsi = mb->len;
		} else {
			r.rsi = 0;
		}
		r.rdi = SKEL_ECALL_OCALL_RET;
	}
}

static int skel_call(struct sgx_encl *e, long op, struct skel_mailbox *mb, char *out, size_t outlen,
		     long *result, err_t *err)
{
	return skel_call_tcs(e, 0, op, mb, out, outlen, result, err);
}

static void set_argv(struct skel_mailbox *mb, const char *const *argv)
{
	mb->argc = 0;
	mb->argv_len = 0;
	for (; *argv; argv++) {
		size_t n = strlen(*argv) + 1;

		memcpy(mb->argv + mb->argv_len, *argv, n);
		mb->argv_len += n;
		mb->argc++;
	}
}

/* sgx_encl_run's step for the skeleton, looking at the host state between transitions. */
struct run_probe {
	struct skel_mailbox *mb;
	int exits, rdtsc_ok, child_tsc;
	long result;
};

static int probe_step(void *ctx, const struct sgx_encl_exit *x, struct sgx_encl_regs *r, err_t *err)
{
	struct run_probe *p = ctx;
	int tsc = -1, status;
	pid_t pid;

	(void)err;
	if (!x->eexit)
		return -EFAULT;
	p->exits++;
	if (r->rdi == SKEL_EXIT_RETURN) {
		p->result = (long)r->rsi;
		return 0;
	}
	/*
	 * RDTSC faults here (PR_TSC_SIGSEGV is left on) until the emulator's
	 * handler turns it back on. (Some hypervisors, this VM's among them,
	 * apply CR4.TSD only at some returns to user mode: it may just run.)
	 */
	p->rdtsc_ok += __builtin_ia32_rdtsc() != 0;
	/* A child forked between transitions starts with RDTSC on. */
	pid = fork();
	if (pid == 0) {
		prctl(PR_GET_TSC, &tsc);
		_exit(tsc == PR_TSC_ENABLE ? 0 : 1);
	}
	p->child_tsc += pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0;
	r->rsi = r->rsi == SKEL_OCALL_WRITE ? p->mb->len : 0;
	r->rdi = SKEL_ECALL_OCALL_RET;
	return SGX_EENTER;
}

/* One run of transitions (the LibOS's way): OCALLs served by the step; host state back after. */
static void test_run_steps(struct sgx_encl *e, struct skel_mailbox *mb)
{
	struct run_probe p = { .mb = mb, .result = -1 };
	struct sgx_encl_regs r = { .rdi = SKEL_ECALL_MAIN, .rsi = (uintptr_t)mb };
	unsigned long gs = 1;
	err_t err = NULL;
	int tsc = -1, ret;

	set_argv(mb, (const char *[]){ "hello", NULL });
	ret = sgx_encl_run(e, 0, SGX_EENTER, &r, probe_step, &p, &err);
	TAP_OK(ret == 0 && p.result == 0 && p.exits >= 2,
	       "sgx_encl_run: hello's %d exits in one run%s%s", p.exits, ret ? ": " : "",
	       ret ? err_msg(err) : "");
	TAP_OK(
	    p.rdtsc_ok == p.exits - 1 && p.child_tsc == p.exits - 1,
	    "between transitions: the host's RDTSC runs (%d of %d), a forked child has it on (%d)",
	    p.rdtsc_ok, p.exits - 1, p.child_tsc);
	TAP_OK(prctl(PR_GET_TSC, &tsc) == 0 && tsc == PR_TSC_ENABLE &&
		   syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) == 0 && gs == 0,
	       "after the run: RDTSC on, GS base 0 (as before)");
	err_free(&err);
}

struct worker {
	struct sgx_encl *e;
	int tcs, fails;
};

/* Each thread on its own TCS, with every signal blocked (a signalfd-style host). */
static void *worker(void *arg)
{
	struct worker *w = arg;
	struct skel_mailbox *mb = calloc(1, sizeof(*mb));
	char num[16], out[128];
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 200 && mb; i++) {
		err_t err = NULL;
		long result = -1;

		snprintf(num, sizeof(num), "%d", (w->tcs * 1000 + i) & 0xff);
		set_argv(mb, (const char *[]){ i % 2 ? "exit" : "hello", num, NULL });
		if (skel_call_tcs(w->e, w->tcs, SKEL_ECALL_MAIN, mb, out, sizeof(out), &result,
				  &err) < 0 ||
		    result != (i % 2 ? (w->tcs * 1000 + i) & 0xff : 0))
			w->fails++;
		err_free(&err);
	}
	free(mb);
	return NULL;
}

static void test_threads(struct sgx_encl *e)
{
	struct worker w[SKEL_NTCS];
	pthread_t th[SKEL_NTCS];
	int fails = 0;

	for (int i = 0; i < SKEL_NTCS; i++) {
		w[i] = (struct worker){ .e = e, .tcs = i };
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	for (int i = 0; i < SKEL_NTCS; i++) {
		pthread_join(th[i], NULL);
		fails += w[i].fails;
	}
	TAP_OK(fails == 0, "%d threads x 200 ecalls on their own TCS, signals blocked (%d failed)",
	       SKEL_NTCS, fails);
}

static void test_skeleton(const char *dir)
{
	char path[4200], out[256];
	struct sgx_image img, bad;
	struct sgx_sigstruct ss, t;
	struct sgx_encl *e = NULL;
	struct skel_mailbox *mb = calloc(1, sizeof(*mb));
	uint8_t mr[32], measured[32];
	err_t err = NULL;
	long result = -1;
	int ret, cls;

	snprintf(path, sizeof(path), "%s/encl.elf", dir);
	ret = sgx_image_from_elf(&img, path, &(struct sgx_layout_opts){ 0 }, &err);
	snprintf(path, sizeof(path), "%s/encl.ss", dir);
	if (ret == 0)
		ret = sgx_sigstruct_load(&ss, path, &err);
	if (ret < 0) {
		printf("not ok - load the skeleton from %s: %s\n", dir, err_msg(err));
		tap_failures++;
		return;
	}
	ret = sgx_encl_load(&e, &img, &ss, &emu, &cls, &err);
	TAP_OK(ret == 0, "skeleton enclave EINIT on the emulator%s%s", ret ? ": " : "",
	       ret ? err_msg(err) : "");
	if (ret)
		return;
	sgx_encl_mrenclave(e, mr);
	sgx_image_measure(&img, measured, &err);
	TAP_OK(!strcmp(sgx_encl_backend(e), "emulator") && sgx_encl_is_emulated(e) &&
		   !memcmp(mr, measured, 32) && !memcmp(mr, ss.body.enclavehash, 32),
	       "backend emulator, MRENCLAVE as measured and signed");
	TAP_OK(sgx_encl_base(e) % sgx_encl_size(e) == 0, "ELRANGE aligned to its size");
	TAP_OK(sgx_encl_tcs_count(e) == SKEL_NTCS, "%u TCS", sgx_encl_tcs_count(e));

	set_argv(mb, (const char *[]){ "hello", NULL });
	ret = skel_call(e, SKEL_ECALL_MAIN, mb, out, sizeof(out), &result, &err);
	TAP_OK(ret == 0 && result == 0 && strstr(out, "Hello"), "hello: OCALL output '%.40s'",
	       ret ? err_msg(err) : out);
	test_run_steps(e, mb);
	/* Someone replaces the SIGILL handler: the next entry takes it back. */
	signal(SIGILL, SIG_DFL);
	set_argv(mb, (const char *[]){ "exit", "42", NULL });
	ret = skel_call(e, SKEL_ECALL_MAIN, mb, out, sizeof(out), &result, &err);
	TAP_OK(ret == 0 && result == 42, "exit 42 returns 42");

	test_threads(e);

	/* EREPORT aimed at the enclave itself, then at another target. */
	{
		struct sgx_targetinfo ti, other;
		struct sgx_report rep;

		sgx_encl_targetinfo(e, &ti);
		memcpy(mb->targetinfo, &ti, sizeof(ti));
		memset(mb->reportdata, 0xab, 64);
		ret = skel_call(e, SKEL_ECALL_REPORT, mb, out, sizeof(out), &result, &err);
		memcpy(&rep, mb->report, sizeof(rep));
		TAP_OK(ret == 0 && result == 0 && !memcmp(rep.body.mrenclave, mr, 32) &&
			   rep.body.reportdata[63] == 0xab && (rep.body.attributes & SGX_ATTR_INIT),
		       "EREPORT inside: MRENCLAVE, REPORTDATA, ATTRIBUTES.INIT");
		TAP_OK(!memcmp(rep.body.cpusvn, "RUNE-SGX-EMU", 12),
		       "emulated REPORTs are marked (CPUSVN)");
		ret = sgx_emu_verify_report(&rep, &ti, &err);
		TAP_OK(ret == 0, "REPORT MAC verifies with the target's report key%s%s",
		       ret ? ": " : "", ret ? err_msg(err) : "");
		err_free(&err);
		rep.body.isvsvn ^= 1;
		TAP_OK(sgx_emu_verify_report(&rep, &ti, &err) == -EBADMSG,
		       "a tampered REPORT fails");
		err_free(&err);

		other = ti;
		other.mrenclave[0] ^= 0xff;
		memcpy(mb->targetinfo, &other, sizeof(other));
		skel_call(e, SKEL_ECALL_REPORT, mb, out, sizeof(out), &result, &err);
		memcpy(&rep, mb->report, sizeof(rep));
		TAP_OK(sgx_emu_verify_report(&rep, &other, &err) == 0 &&
			   sgx_emu_verify_report(&rep, &ti, &err) == -EBADMSG,
		       "a REPORT for another target verifies only with that target's key");
		err_free(&err);
	}
	sgx_encl_destroy(e);
	e = NULL;

	/* A SIGSTRUCT for another image. */
	bad = img;
	bad.pages = calloc(img.npages + 1, sizeof(*bad.pages));
	memcpy(bad.pages, img.pages, img.npages * sizeof(*bad.pages));
	{
		static uint8_t page[4096];
		struct sgx_image_page *run = &bad.pages[img.npages - 1], *last = run + 1;
		uint64_t n = sgx_image_page_count(run);

		/* one byte of the image's last page changed (split off its run) */
		*last = *run;
		last->offset += (n - 1) * 4096;
		last->data = run->data ? run->data + (n - 1) * 4096 : NULL;
		last->count = 1;
		run->count = n - 1;
		if (n > 1)
			bad.npages++;
		else
			*run = *last, last = run;
		memcpy(page, last->data ? last->data : page, 4096);
		page[100] ^= 1;
		last->data = page;
	}
	ret = sgx_encl_load(&e, &bad, &ss, &emu, &cls, &err);
	TAP_OK(ret == -EPERM && cls == SGX_INVALID_MEASUREMENT && !e &&
		   strstr(err_msg(err), "EINIT: SGX_INVALID_MEASUREMENT"),
	       "SIGSTRUCT of another image refused: %s", err_msg(err));
	err_free(&err);
	free(bad.pages);

	t = ss;
	t.signature[17] ^= 0x10;
	ret = sgx_encl_load(&e, &img, &t, &emu, &cls, &err);
	TAP_OK(ret == -EPERM && cls == SGX_INVALID_SIGNATURE, "tampered signature refused: %s",
	       err_msg(err));
	err_free(&err);
	t = ss;
	t.q1[5] ^= 1;
	ret = sgx_encl_load(&e, &img, &t, &emu, &cls, &err);
	TAP_OK(ret == -EPERM && cls == SGX_INVALID_SIGNATURE, "tampered q1 refused: %s",
	       err_msg(err));
	err_free(&err);
	{
		struct sgx_load_opts o = emu;

		o.set_secs = 1;
		o.attributes = ss.body.attributes | SGX_ATTR_DEBUG;
		o.xfrm = ss.body.xfrm;
		ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
		TAP_OK(ret == -EPERM && cls == SGX_INVALID_ATTRIBUTE,
		       "SECS attributes outside the signed mask refused: %s", err_msg(err));
		err_free(&err);
	}
	sgx_image_free(&img);
	free(mb);
}

/*
 * A tiny hand-assembled enclave: page 0 TCS (OSSA 0x3000, NSSA 1, OENTRY
 * 0x1000), page 1 code, page 2 a KEYREQUEST (SEAL, MRENCLAVE policy) at
 * 0x2000 and the key at 0x2200, page 3 the SSA. RDI 0: EGETKEY, copy the
 * key to [RSI], EEXIT with RDI = status. RDI 1: ud2. RDI 2: rdtsc.
 * RDI 3: SYSCALL (getpid), then EEXIT with RDI = 0xdead. RDI 4: EEXIT with
 * RDI = the quadword at %gs:0 (OGSBASE is the KEYREQUEST page). RDI 5: the
 * same from %fs:0 (OFSBASE is the code page).
 */
static const uint8_t tiny_code[] = {
	0x49, 0x89, 0xcb, 0x48, 0x83, 0xff, 0x01, 0x74, 0x4c, 0x48, 0x83, 0xff, 0x02, 0x74, 0x48,
	0x48, 0x83, 0xff, 0x03, 0x74, 0x46, 0x48, 0x83, 0xff, 0x04, 0x74, 0x5a, 0x48, 0x83, 0xff,
	0x05, 0x74, 0x68, 0x48, 0x8d, 0x1d, 0xd8, 0x0f, 0x00, 0x00, 0x48, 0x8d, 0x0d, 0xd1, 0x11,
	0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7, 0x48, 0x8b, 0x11, 0x48, 0x89,
	0x16, 0x48, 0x8b, 0x51, 0x08, 0x48, 0x89, 0x56, 0x08, 0x48, 0x89, 0xc7, 0x31, 0xc9, 0x4c,
	0x89, 0xdb, 0xb8, 0x04, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7, 0x0f, 0x0b, 0x0f, 0x31, 0x0f,
	0x0b, 0x4d, 0x89, 0xda, 0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x4c, 0x89, 0xd3, 0xbf,
	0xad, 0xde, 0x00, 0x00, 0xb8, 0x04, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7, 0x65, 0x48, 0x8b,
	0x3c, 0x25, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x89, 0xdb, 0xb8, 0x04, 0x00, 0x00, 0x00, 0x0f,
	0x01, 0xd7, 0x64, 0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x89, 0xdb, 0xb8,
	0x04, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7
};

static int tiny_load(struct sgx_encl **e, const char *key, uint16_t policy, uint8_t salt,
		     err_t *err)
{
	static uint8_t buf[4 * 4096];
	struct sgx_sign_opts so;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	uint8_t mr[32];
	int ret, cls;

	memset(buf, 0, sizeof(buf));
	((struct sgx_tcs *)buf)->ossa = 0x3000;
	((struct sgx_tcs *)buf)->nssa = 1;
	((struct sgx_tcs *)buf)->oentry = 0x1000;
	((struct sgx_tcs *)buf)->ogsbase = 0x2000;
	((struct sgx_tcs *)buf)->ofsbase = 0x1000;
	memcpy(buf + 0x1000, tiny_code, sizeof(tiny_code));
	buf[0x1800] = salt; /* another MRENCLAVE, same signer */
	((struct sgx_keyrequest *)(buf + 0x2000))->keyname = SGX_KEY_SEAL;
	((struct sgx_keyrequest *)(buf + 0x2000))->keypolicy = policy;
	ret = sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rx,rw,rw", 0, 1, err);
	if (ret < 0)
		return ret;
	sgx_image_measure(&img, mr, err);
	sgx_sign_opts_default(&so);
	so.date = 0;
	sgx_sigstruct_init(&ss, &so, mr);
	ret = sgx_sigstruct_sign_file(&ss, key, err);
	if (ret == 0)
		ret = sgx_encl_load(e, &img, &ss, &emu, &cls, err);
	sgx_image_free(&img);
	return ret;
}

/*
 * The skeleton placed at enclave offset 64 KiB of an enclave based at 0
 * (what code linked at fixed addresses needs): its TCS offsets move with
 * it, the emulator reserves only from its first page up, and it runs.
 */
static void test_fixed_base(const char *dir, const char *key)
{
	struct sgx_load_opts o = { .backend = SGX_BACKEND_EMULATOR, .fixed_base = 1, .base = 0 };
	struct skel_mailbox *mb = calloc(1, sizeof(*mb));
	struct sgx_sign_opts so;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	struct sgx_encl *e = NULL;
	char path[4200], out[256];
	uint8_t mr[32], got[32];
	err_t err = NULL;
	long result = -1;
	int ret, cls;

	snprintf(path, sizeof(path), "%s/encl.elf", dir);
	ret = sgx_image_from_elf(&img, path, &(struct sgx_layout_opts){ .offset = 0x10000 }, &err);
	TAP_OK(ret == 0 && img.pages[0].offset == 0x10000 && img.entry >= 0x10000,
	       "skeleton laid out at offset 64 KiB%s%s", ret ? ": " : "", ret ? err_msg(err) : "");
	if (ret < 0)
		return;
	sgx_image_measure(&img, mr, &err);
	sgx_sign_opts_default(&so);
	so.date = 0;
	sgx_sigstruct_init(&ss, &so, mr);
	ret = sgx_sigstruct_sign_file(&ss, key, &err);
	if (ret == 0)
		ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret == 0 && sgx_encl_base(e) == 0, "emulator: enclave at fixed base 0%s%s",
	       ret ? ": " : "", ret ? err_msg(err) : "");
	if (ret == 0) {
		sgx_encl_mrenclave(e, got);
		set_argv(mb, (const char *[]){ "hello", NULL });
		ret = skel_call(e, SKEL_ECALL_MAIN, mb, out, sizeof(out), &result, &err);
		TAP_OK(ret == 0 && result == 0 && strstr(out, "Hello") && !memcmp(got, mr, 32),
		       "fixed base 0: hello runs, MRENCLAVE as measured: '%.40s'",
		       ret ? err_msg(err) : out);
		sgx_encl_destroy(e);
	}
	err_free(&err);
	sgx_image_free(&img);
	free(mb);
}

static void test_tiny(const char *key)
{
	struct sgx_encl *e = NULL;
	uint8_t k1[16] = { 0 }, k2[16] = { 0 }, k3[16] = { 0 };
	struct sgx_encl_regs r;
	err_t err = NULL;
	int ret;

	ret = tiny_load(&e, key, SGX_KEYPOLICY_MRENCLAVE, 0, &err);
	TAP_OK(ret == 0, "tiny enclave loads%s%s", ret ? ": " : "", ret ? err_msg(err) : "");
	if (ret)
		return;
	r = (struct sgx_encl_regs){ .rdi = 0, .rsi = (uintptr_t)k1 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == 0 && r.rdi == 0, "EGETKEY(SEAL) succeeds");
	sgx_encl_destroy(e);
	e = NULL;
	tiny_load(&e, key, SGX_KEYPOLICY_MRENCLAVE, 0, &err);
	r = (struct sgx_encl_regs){ .rdi = 0, .rsi = (uintptr_t)k2 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == 0 && !memcmp(k1, k2, 16) && memcmp(k1, k3, 16),
	       "seal key stable across two loads");

	r = (struct sgx_encl_regs){ .rdi = 4 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == 0 && r.rdi == (SGX_KEY_SEAL | (uint64_t)SGX_KEYPOLICY_MRENCLAVE << 16),
	       "GS base is the enclave's OGSBASE inside (%#llx)", (unsigned long long)r.rdi);

	r = (struct sgx_encl_regs){ .rdi = 5 };
	ret = sgx_encl_call(e, 0, &r, &err);
	{
		uint64_t first;

		memcpy(&first, tiny_code, 8);
		TAP_OK(ret == 0 && r.rdi == first,
		       "FS base is the enclave's OFSBASE inside (%#llx)",
		       (unsigned long long)r.rdi);
	}

	/* Faults inside are AEXs; with NSSA 1 the TCS can't be entered again. */
	r = (struct sgx_encl_regs){ .rdi = 1 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#UD"), "ud2 inside: %s", err_msg(err));
	err_free(&err);
	r = (struct sgx_encl_regs){ .rdi = 0, .rsi = (uintptr_t)k3 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "EENTER"), "EENTER with CSSA = NSSA: %s",
	       err_msg(err));
	err_free(&err);
	sgx_encl_destroy(e);
	e = NULL;

	tiny_load(&e, key, SGX_KEYPOLICY_MRENCLAVE, 0, &err);
	r = (struct sgx_encl_regs){ .rdi = 2 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#UD"), "RDTSC inside is refused: %s",
	       err_msg(err));
	err_free(&err);
	sgx_encl_destroy(e);
	e = NULL;

	tiny_load(&e, key, SGX_KEYPOLICY_MRENCLAVE, 0, &err);
	r = (struct sgx_encl_regs){ .rdi = 3 };
	ret = sgx_encl_call(e, 0, &r, &err);
	if (sgx_encl_traps_syscalls(e))
		TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#UD"),
		       "SYSCALL inside is refused: %s", err_msg(err));
	else
		printf("skip - SYSCALL inside: no seccomp here (needs no_new_privs or "
		       "CAP_SYS_ADMIN)\n");
	err_free(&err);
	sgx_encl_destroy(e);
	e = NULL;

	/* Two enclaves of one signer: MRSIGNER keys agree, MRENCLAVE keys don't. */
	for (int salt = 0; salt < 2; salt++) {
		static uint8_t ks[2][2][16];

		for (int pol = 0; pol < 2; pol++) {
			e = NULL;
			tiny_load(&e, key, pol ? SGX_KEYPOLICY_MRSIGNER : SGX_KEYPOLICY_MRENCLAVE,
				  salt, &err);
			r = (struct sgx_encl_regs){ .rdi = 0, .rsi = (uintptr_t)ks[salt][pol] };
			if (e)
				sgx_encl_call(e, 0, &r, &err);
			sgx_encl_destroy(e);
		}
		if (salt == 1)
			TAP_OK(
			    !memcmp(ks[0][1], ks[1][1], 16) && memcmp(ks[0][0], ks[1][0], 16),
			    "MRSIGNER seal keys shared by a signer's enclaves, MRENCLAVE keys not");
	}
	err_free(&err);
}

/*
 * Exception handling across AEX/ERESUME: page 0 TCS (OSSA 0x3000, NSSA 2),
 * page 1 code: at CSSA 0 it runs ud2, then EEXITs with RDI = 0x600d; at
 * CSSA 1 (its handler) it adds 2 to the RIP saved in SSA frame 0 and EEXITs
 * with RDI = 0x4a4d. Pages 2-4: data and the two SSA frames.
 */
static const uint8_t exc_code[] = { 0x49, 0x89, 0xcb, 0x48, 0x85, 0xc0, 0x75, 0x12, 0x0f, 0x0b,
				    0xbf, 0x0d, 0x60, 0x00, 0x00, 0x4c, 0x89, 0xdb, 0xb8, 0x04,
				    0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7, 0x48, 0x83, 0x05, 0xae,
				    0x2f, 0x00, 0x00, 0x02, 0x48, 0x89, 0xcb, 0xbf, 0x4d, 0x4a,
				    0x00, 0x00, 0xb8, 0x04, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xd7 };

static void test_eresume(const char *key)
{
	static uint8_t buf[5 * 4096];
	struct sgx_sign_opts so;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	struct sgx_encl *e = NULL;
	struct sgx_encl_regs r = { 0 };
	uint8_t mr[32];
	err_t err = NULL;
	int ret, cls;

	((struct sgx_tcs *)buf)->ossa = 0x3000;
	((struct sgx_tcs *)buf)->nssa = 2;
	((struct sgx_tcs *)buf)->oentry = 0x1000;
	memcpy(buf + 0x1000, exc_code, sizeof(exc_code));
	ret = sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rx,rw,rw,rw", 0, 1, &err);
	if (ret == 0) {
		sgx_image_measure(&img, mr, &err);
		sgx_sign_opts_default(&so);
		so.date = 0;
		sgx_sigstruct_init(&ss, &so, mr);
		ret = sgx_sigstruct_sign_file(&ss, key, &err);
	}
	if (ret == 0)
		ret = sgx_encl_load(&e, &img, &ss, &emu, &cls, &err);
	sgx_image_free(&img);
	TAP_OK(ret == 0, "exception enclave loads%s%s", ret ? ": " : "", ret ? err_msg(err) : "");
	if (ret)
		return;
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#UD"), "ud2: AEX");
	err_free(&err);
	r = (struct sgx_encl_regs){ 0 };
	ret = sgx_encl_call(e, 0, &r, &err);
	TAP_OK(ret == 0 && r.rdi == 0x4a4d,
	       "EENTER at CSSA 1 runs the handler, which fixes SSA.RIP");
	r = (struct sgx_encl_regs){ 0 };
	ret = sgx_encl_resume(e, 0, &r, &err);
	TAP_OK(ret == 0 && r.rdi == 0x600d, "ERESUME continues after the fault%s%s",
	       ret ? ": " : "", ret ? err_msg(err) : "");
	err_free(&err);
	r = (struct sgx_encl_regs){ 0 };
	ret = sgx_encl_resume(e, 0, &r, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#GP"), "ERESUME at CSSA 0 is refused");
	err_free(&err);
	sgx_encl_destroy(e);
}

static void rmdir_secret(char *spath, const char *secret)
{
	unlink(spath);
	snprintf(spath, 4200, "%s/sub", secret);
	rmdir(spath);
	rmdir(secret);
}

/* The image with every run spelled out page by page (pages[] malloc'ed). */
static int expand(const struct sgx_image *img, struct sgx_image *out)
{
	size_t k = 0;

	*out = *img;
	out->npages = sgx_image_total_pages(img);
	out->pages = calloc(out->npages, sizeof(*out->pages));
	if (!out->pages)
		return -1;
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];

		for (uint64_t n = 0; n < sgx_image_page_count(p); n++)
			out->pages[k++] =
			    (struct sgx_image_page){ .offset = p->offset + n * 4096,
						     .flags = p->flags,
						     .measured = p->measured,
						     .data = p->data ? p->data + n * 4096 : NULL };
	}
	return 0;
}

/*
 * The skeleton with a 4 MiB RWX heap: one run, EADDed at once. Signed over
 * the MRENCLAVE of its pages one by one, EINIT takes it: the run's EADD
 * records are those of hardware. The heap reads as zeros with the run's
 * permissions; a run over an added page or past the ELRANGE is refused.
 */
static void test_runs(const char *dir, const char *key)
{
	struct sgx_layout_opts lo = { .heap = 4 << 20,
				      .heap_flags = SGX_SECINFO_REG | SGX_SECINFO_R |
						    SGX_SECINFO_W | SGX_SECINFO_X };
	struct skel_mailbox *mb = calloc(1, sizeof(*mb));
	struct sgx_image img, pages = { 0 };
	struct sgx_sign_opts so;
	struct sgx_sigstruct ss;
	struct sgx_encl *e = NULL;
	char path[4200], out[256];
	uint8_t mr[32], got[32];
	err_t err = NULL;
	long result = -1;
	int ret, cls;

	snprintf(path, sizeof(path), "%s/encl.elf", dir);
	ret = sgx_image_from_elf(&img, path, &lo, &err);
	TAP_OK(ret == 0 && img.heap_offset && img.pages[img.npages - 1].count == 1024,
	       "skeleton with a 4 MiB heap: one run of 1024 pages%s%s", ret ? ": " : "",
	       ret ? err_msg(err) : "");
	if (ret < 0 || expand(&img, &pages) < 0)
		return;
	sgx_image_measure(&pages, mr, &err);
	sgx_sign_opts_default(&so);
	so.date = 0;
	sgx_sigstruct_init(&ss, &so, mr);
	ret = sgx_sigstruct_sign_file(&ss, key, &err);
	if (ret == 0)
		ret = sgx_encl_load(&e, &img, &ss, &emu, &cls, &err);
	TAP_OK(ret == 0, "the run loads with the SIGSTRUCT of its pages one by one%s%s",
	       ret ? ": " : "", ret ? err_msg(err) : "");
	if (ret == 0) {
		const volatile uint8_t *heap =
		    (const uint8_t *)(uintptr_t)(sgx_encl_base(e) + img.heap_offset);

		sgx_encl_mrenclave(e, got);
		set_argv(mb, (const char *[]){ "hello", NULL });
		ret = skel_call(e, SKEL_ECALL_MAIN, mb, out, sizeof(out), &result, &err);
		TAP_OK(ret == 0 && result == 0 && strstr(out, "Hello") && !memcmp(got, mr, 32),
		       "hello runs, MRENCLAVE as page by page");
		TAP_OK(heap[0] == 0 && heap[(4 << 20) - 1] == 0, "the heap reads as zeros");
		sgx_encl_destroy(e);
		e = NULL;
	}
	err_free(&err);

	/* The same pages one by one load too (and gave the MRENCLAVE above). */
	ret = sgx_encl_load(&e, &pages, &ss, &emu, &cls, &err);
	TAP_OK(ret == 0, "its pages one by one load with the same SIGSTRUCT%s%s", ret ? ": " : "",
	       ret ? err_msg(err) : "");
	sgx_encl_destroy(e);
	e = NULL;
	err_free(&err);

	/* The heap run moved back over the previous page: EADD of a page twice. */
	img.pages[img.npages - 1].offset -= 4096;
	ret = sgx_encl_load(&e, &img, &ss, &emu, &cls, &err);
	TAP_OK(ret == -EEXIST && strstr(err_msg(err), "added twice"),
	       "a run over an added page: %s", err_msg(err));
	err_free(&err);
	img.pages[img.npages - 1].offset += 4096;
	img.pages[img.npages - 1].count = img.size / 4096;
	ret = sgx_encl_load(&e, &img, &ss, &emu, &cls, &err);
	TAP_OK(ret == -EINVAL && strstr(err_msg(err), "outside the ELRANGE"),
	       "a run past the ELRANGE: %s", err_msg(err));
	err_free(&err);
	free(pages.pages);
	sgx_image_free(&img);
	free(mb);
}

int main(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char dir[4096], secret[] = "/tmp/sgx-emu-test.XXXXXX", key[4200], spath[4200];
	struct stat st;
	err_t err = NULL;

	/* A private machine secret, created by the loader (0600). */
	if (!mkdtemp(secret))
		return 1;
	snprintf(spath, sizeof(spath), "%s/sub/secret", secret);
	setenv("SGX_EMU_SECRET", spath, 1);
	setenv("SGX_LOADER_BACKEND", "auto", 1);
	TAP_OK(sgx_loader_init(&err) == 0 && stat(spath, &st) == 0 && (st.st_mode & 0777) == 0600,
	       "emulator secret created 0600 at $SGX_EMU_SECRET");
	err_free(&err);

	/* Enclave code runs through SIGILL traps on ENCLU and a seccomp SYSCALL trap:
	 * valgrind emulates neither, so the enclave-running cases need a real CPU. */
	if (RUNNING_ON_VALGRIND) {
		printf("skip - enclave execution under valgrind (ENCLU traps need the real CPU)\n");
		rmdir_secret(spath, secret);
		return tap_exit();
	}
	snprintf(dir, sizeof(dir), "%s/share/skeleton", build);
	test_skeleton(dir);
	snprintf(key, sizeof(key), "%s/signing_key.pem", dir);
	test_tiny(key);
	test_eresume(key);
	test_fixed_base(dir, key);
	test_runs(dir, key);

	rmdir_secret(spath, secret);
	return tap_exit();
}
