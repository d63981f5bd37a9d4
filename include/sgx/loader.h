/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enclave loader: one interface, two backends.
 *  - "sgx": the Linux SGX driver (/dev/sgx_enclave: ECREATE, EADD, EINIT
 *    through ioctls, the ELRANGE mmapped from the device) and entry through
 *    the vDSO's __vdso_sgx_enter_enclave.
 *  - "emulator": a software SGX for hosts without it. It measures and
 *    verifies exactly what EINIT does and runs the same enclave binary by
 *    trapping ENCLU (SIGILL). It gives NO confidentiality or integrity
 *    against the host: see docs/emulator.md.
 * The backend is chosen automatically (the driver when /dev/sgx_enclave
 * exists), or forced by sgx_load_opts.backend or $SGX_LOADER_BACKEND
 * ("sgx", "emulator", "auto").
 *
 * Entering: sgx_encl_call() EENTERs a TCS with RDI/RSI/RDX/R8/R9 as given,
 * as __vdso_sgx_enter_enclave does, and returns when the enclave EEXITs,
 * with those registers as the enclave left them. RAX/RBX/RCX belong to
 * ENCLU; the enclave must preserve RBP, RSP and R12-R15 across the call.
 */
#ifndef SGX_LOADER_H
#define SGX_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <asm/sgx.h>

#include "common/error.h"
#include "sgx/arch.h"
#include "sgx/image.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sgx_backend {
	SGX_BACKEND_AUTO = 0,
	SGX_BACKEND_DRIVER,   /* "sgx" */
	SGX_BACKEND_EMULATOR, /* "emulator" */
};

#define SGX_DEVICE_PATH	       "/dev/sgx_enclave"
#define SGX_EMU_SECRET_DEFAULT "/var/lib/rune/sgx-emu-secret"

/*
 * The system calls the driver backend makes, replaceable by tests. A NULL
 * member means the real call; a NULL enter means the vDSO's.
 */
struct sgx_driver_ops {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *addr, size_t len);
	vdso_sgx_enter_enclave_t enter;
};

struct sgx_load_opts {
	enum sgx_backend backend; /* AUTO: $SGX_LOADER_BACKEND, else by the device */
	const char *device;	  /* NULL: SGX_DEVICE_PATH */
	const struct sgx_driver_ops *ops;
	/*
	 * SECS values ECREATE gets. Unless set_secs, they are the SIGSTRUCT's
	 * ATTRIBUTES, XFRM and MISCSELECT (what the signer asked for).
	 */
	int set_secs;
	uint64_t attributes;
	uint64_t xfrm;
	uint32_t miscselect;
	/*
	 * The caller may give the enclave the PROVISIONKEY attribute: the
	 * Linux driver's provision gate (SGX_IOC_ENCLAVE_PROVISION with an fd
	 * of /dev/sgx_provision), which the emulator keeps too. Without it,
	 * such an enclave is refused with -EACCES before EINIT.
	 */
	int allow_provision;
	/*
	 * ECREATE at BASEADDR base (aligned to the enclave size) instead of
	 * where the backend finds room: for code linked at fixed addresses
	 * (an ELRANGE over 0x400000 larger than 4 MiB starts at 0). Only the
	 * pages of the image are mapped, so none may lie below the host's
	 * vm.mmap_min_addr: such an image is refused (-EINVAL) before ECREATE,
	 * as is a range the host process already uses (-EEXIST). MRENCLAVE
	 * measures offsets, not addresses: the base does not change it.
	 */
	int fixed_base;
	uint64_t base;
};

struct sgx_encl; /* opaque */

/*
 * ECREATE, EADD/EEXTEND every page of img, EINIT with ss. EINIT's refusal
 * is -EPERM with a message naming the class ("EINIT: SGX_INVALID_MEASUREMENT:
 * ..."); the class itself is stored in *einit_class when not NULL.
 * Nothing is left behind on failure.
 */
int sgx_encl_load(struct sgx_encl **encl, const struct sgx_image *img,
		  const struct sgx_sigstruct *ss, const struct sgx_load_opts *opts,
		  int *einit_class, err_t *err);
void sgx_encl_destroy(struct sgx_encl *encl);
/*
 * In a child of fork(): drops the parent's enclave from this process
 * (its mappings, its descriptor) without touching what the parent still
 * uses: its EPC accounting and registry entry stay the parent's (the child
 * charges a slot of a container's entry, or an entry of its own, at its
 * first enclave), and the ELRANGE is released, so that an enclave of the
 * same image may be loaded at the same fixed base.
 */
void sgx_encl_forget(struct sgx_encl *encl);

/*
 * EPC: every enclave is charged its SECS and every page of its image
 * before ECREATE, and uncharged when destroyed; the emulator's enclaves
 * past the EPC are paged by a model of the kernel's reclaimer
 * (common/epc_paging.h), at their load and their entries. A limit caps this
 * process's total: the limit line of its registry entry $SGX_EPC_FD when it
 * has one (rune writes it, `rune update --epc-limit` rewrites it), else
 * $SGX_EPC_LIMIT_BYTES. An enclave past it is refused (-EDQUOT, "EPC limit
 * exceeded: container ID, limit L (SOURCE), request R, in use U", ID from
 * $SGX_EPC_CONTAINER, SOURCE from the entry or $SGX_EPC_LIMIT_SOURCE). The
 * total is published in the host-wide registry (common/epc.h): the entry fd
 * $SGX_EPC_FD, else one opened in epc_dir().
 * See docs/epc.md.
 */
uint64_t sgx_epc_pages(void);

/* "sgx" or "emulator". */
const char *sgx_encl_backend(const struct sgx_encl *encl);
int sgx_encl_is_emulated(const struct sgx_encl *encl);
uint64_t sgx_encl_base(const struct sgx_encl *encl);
uint64_t sgx_encl_size(const struct sgx_encl *encl);
void sgx_encl_mrenclave(const struct sgx_encl *encl, uint8_t mrenclave[32]);
void sgx_encl_mrsigner(const struct sgx_encl *encl, uint8_t mrsigner[32]);
/* The TARGETINFO naming this enclave (for EREPORT aimed at it). */
void sgx_encl_targetinfo(const struct sgx_encl *encl, struct sgx_targetinfo *ti);

/*
 * 1 if a SYSCALL inside the enclave is refused (always on hardware; on the
 * emulator only when it could install its seccomp filter: it needs
 * no_new_privs or CAP_SYS_ADMIN).
 */
int sgx_encl_traps_syscalls(const struct sgx_encl *encl);

/*
 * TCS pages, in image order. acquire returns a free one's index or -EBUSY;
 * claim takes the one of that index (an enclave that picks its own thread
 * slots, as the LibOS does) or fails with -EBUSY while it is in use.
 */
unsigned sgx_encl_tcs_count(const struct sgx_encl *encl);
int sgx_encl_tcs_acquire(struct sgx_encl *encl, err_t *err);
int sgx_encl_tcs_claim(struct sgx_encl *encl, int tcs, err_t *err);
void sgx_encl_tcs_release(struct sgx_encl *encl, int tcs);

/*
 * Interrupting a thread that runs inside the enclave: an AEX with EXITINFO
 * clear, after which sgx_encl_call/resume return -EINTR (CSSA has risen, as
 * for an exception: EENTER a handler, or ERESUME). The emulator takes
 * SGX_INTERRUPT_SIGNAL sent to the thread as that interrupt; callers keep
 * it blocked outside the enclave (the emulator unblocks it inside), so
 * that one sent just before an entry interrupts right after it. The driver
 * backend has no way yet to report an interrupt (the kernel's vDSO
 * resumes the enclave by itself): -ENOTSUP there. Async-signal-safe.
 */
#define SGX_INTERRUPT_SIGNAL 62
int sgx_encl_interrupt(const struct sgx_encl *encl, pid_t tid);

struct sgx_encl_regs {
	uint64_t rdi, rsi, rdx, r8, r9;
};

/*
 * EENTER the TCS of that index; returns 0 after the enclave's EEXIT, with
 * regs updated. An exception inside the enclave (an AEX) is -EFAULT with
 * the vector and address in the message; the TCS's CSSA stays raised, as
 * on hardware.
 */
int sgx_encl_call(struct sgx_encl *encl, int tcs, struct sgx_encl_regs *regs, err_t *err);
/*
 * ERESUME the TCS after an AEX (the enclave's exception handler, entered
 * with sgx_encl_call at CSSA > 0, has typically fixed up its SSA frame):
 * the enclave continues from its SSA frame; returns as sgx_encl_call.
 */
int sgx_encl_resume(struct sgx_encl *encl, int tcs, struct sgx_encl_regs *regs, err_t *err);

/*
 * A run of transitions in one call, as the vDSO's user handler allows:
 * after each EEXIT or reported exception, step(ctx, exit, regs, err)
 * decides what comes next: SGX_EENTER (with regs as it set them) or
 * SGX_ERESUME to go on, 0 to return 0, or -errno to return that. The
 * emulator's per-call set-up (signal handlers, alternate stack, mask) is
 * done once per run, and the host state the enclave's threads change (GS
 * base, RDTSC faulting) is restored at the end of the run rather than at
 * each exit (docs/emulator.md), so a round trip out of the enclave and
 * back costs the transitions alone. The step runs host code between
 * transitions: it must not block the synchronous signals.
 */
struct sgx_encl_exit {
	int eexit;	   /* 1: EEXIT (regs hold what the enclave left), 0: AEX */
	int interrupted;   /* an AEX by an interrupt (emulator only) */
	unsigned leaf;	   /* the entry's leaf (SGX_EENTER or SGX_ERESUME) */
	unsigned function; /* the leaf the exception was reported for */
	unsigned vector;   /* AEX: the exception's vector, error code, address */
	unsigned error_code;
	uint64_t addr;
};
typedef int (*sgx_encl_step_fn)(void *ctx, const struct sgx_encl_exit *exit,
				struct sgx_encl_regs *regs, err_t *err);
int sgx_encl_run(struct sgx_encl *encl, int tcs, unsigned leaf, struct sgx_encl_regs *regs,
		 sgx_encl_step_fn step, void *ctx, err_t *err);
/* The -EFAULT (or, for an interrupt, -EINTR) sgx_encl_call reports for an AEX. */
int sgx_encl_exit_error(const struct sgx_encl *encl, const struct sgx_encl_exit *exit, err_t *err);

/*
 * The smallest SSAFRAMESIZE (pages) ECREATE accepts for xfrm and
 * miscselect: the XSAVE area (non-compacted, standard offsets), the MISC
 * region and the GPRSGX region.
 */
uint32_t sgx_min_ssaframesize(uint64_t xfrm, uint32_t miscselect);

/* "SGX_INVALID_MEASUREMENT" etc., or "SGX_ERROR_<n>". */
const char *sgx_return_code_name(int code);

/*
 * The EPC registry entry's descriptor this process charges (-1: none): a
 * process forked off an enclave's keeps it open (sgx_encl_forget makes it
 * a member of the container's count) when it closes the others.
 */
int sgx_epc_fd(void);
/* The EPC registry's directory descriptor the paging model scans (-1: none), kept likewise. */
int sgx_epc_dir_fd(void);

/*
 * Emulator: the per-machine secret its keys derive from, a 0600 file of
 * random bytes created once. Path: sgx_emu_set_secret_path(), else
 * $SGX_EMU_SECRET, else SGX_EMU_SECRET_DEFAULT. sgx_loader_init() reads it
 * now (call it before pivot_root or chroot); otherwise the first emulated
 * enclave does.
 */
int sgx_emu_set_secret_path(const char *path, err_t *err);
int sgx_loader_init(err_t *err);

/*
 * dirname(the secret's path) + "/" + name, in *path (the caller frees),
 * the directory created as the secret's is (0700 parents): where other
 * per-host emulator state lives beside the secret (the emulated QE's keys).
 */
int sgx_emu_state_path(const char *name, char **path, err_t *err);

/*
 * The emulator's report key for a target (what that enclave's EGETKEY
 * returns), and a REPORT check with it: lets tests and hosts verify an
 * emulated EREPORT. Refuses if the secret is unavailable.
 */
int sgx_emu_report_key(const struct sgx_targetinfo *target, const uint8_t keyid[32],
		       uint8_t key[16], err_t *err);
int sgx_emu_verify_report(const struct sgx_report *report, const struct sgx_targetinfo *target,
			  err_t *err);

#ifdef __cplusplus
}
#endif

#endif
