/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's Kubernetes device plugin (API v1beta1) for the EPC, Alibaba's
 * convention: the resource alibabacloud.com/sgx_epc_MiB, one device per MiB
 * of EPC, and Allocate hands the container SGX_EPC_LIMIT=<MiB> (which rune
 * enforces), the SGX device nodes and, when configured, aesmd's socket.
 */
#ifndef DEVPLUG_DEVPLUG_H
#define DEVPLUG_DEVPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define DEVPLUG_DIR_DEFAULT	"/var/lib/kubelet/device-plugins"
#define DEVPLUG_KUBELET_SOCKET	"kubelet.sock"
#define DEVPLUG_SOCKET_DEFAULT	"rune-sgx-epc.sock"
#define DEVPLUG_RESOURCE	"alibabacloud.com/sgx_epc_MiB"
#define DEVPLUG_API_VERSION	"v1beta1"
#define DEVPLUG_AESMD_CONTAINER "/var/run/aesmd"
/*
 * At most this many devices (MiB) are advertised: a larger list would not
 * fit the kubelet's 4 MiB gRPC message limit.
 */
#define DEVPLUG_MAX_DEVICES (128u << 10)

struct devplug_opts {
	const char *plugin_dir; /* where our socket goes (DEVPLUG_DIR_DEFAULT) */
	const char
	    *kubelet_socket;	 /* the kubelet's Registration socket (plugin_dir/kubelet.sock) */
	const char *socket_name; /* our socket's name in plugin_dir (DEVPLUG_SOCKET_DEFAULT) */
	const char *dev_dir;	 /* where the SGX device nodes are (/dev) */
	const char *aesmd_dir;	 /* aesmd's socket directory to mount, or NULL */
	const char *config_file; /* rune's config (the emulated EPC's size); NULL: default */
};

/* What the host has to offer. */
struct devplug_inventory {
	uint64_t epc_bytes;
	bool hardware;	    /* sized by CPUID (SGX) rather than the emulator's config */
	unsigned devices;   /* MiB advertised */
	bool healthy;	    /* hardware: an SGX device node exists; emulator: always */
	unsigned dev_nodes; /* bit i: devplug_dev_nodes[i] exists under dev_dir */
};

/* The SGX device nodes Allocate hands out when they exist. */
extern const char *const devplug_dev_nodes[];

/*
 * The EPC from CPUID leaf 0x12's sections on an SGX host; 0 when the CPU
 * has no SGX (or reports no section).
 */
uint64_t devplug_cpuid_epc(void);
/*
 * The same over a CPUID of the caller's (tests inject one): cpuid(ctx,
 * leaf, subleaf, regs) fills EAX, EBX, ECX, EDX and returns 0, or -1 when
 * the leaf is past the CPU's highest.
 */
typedef int (*devplug_cpuid_fn)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
uint64_t devplug_epc_from_cpuid(devplug_cpuid_fn cpuid, void *ctx);
/* One section's bytes from its sub-leaf's EAX, ECX, EDX; -1 when EAX says no (more) section. */
int64_t devplug_epc_section_size(uint32_t eax, uint32_t ecx, uint32_t edx);
/* The host as it is now: CPUID, else rune's emulator configuration; device nodes. */
int devplug_scan(const struct devplug_opts *o, struct devplug_inventory *inv, err_t *err);

struct devplug;

int devplug_new(const struct devplug_opts *o, struct devplug **out, err_t *err);
/* Binds the socket (replacing a stale one) and serves it from a thread of its own. */
int devplug_start(struct devplug *p, err_t *err);
/* Registers with the kubelet, waiting at most timeout_ms. */
int devplug_register(struct devplug *p, int timeout_ms, err_t *err);
/* Stops serving and removes the socket (if it is still ours). */
void devplug_stop(struct devplug *p);
/* 1 while our socket is in plugin_dir (the kubelet removes it when it restarts). */
int devplug_socket_present(struct devplug *p);
/* Scans the host again; a change is pushed to every ListAndWatch stream. 1: changed. */
int devplug_rescan(struct devplug *p, err_t *err);
const struct devplug_inventory *devplug_inventory(struct devplug *p);
const char *devplug_kubelet_socket(struct devplug *p);
void devplug_free(struct devplug *p);

#endif
