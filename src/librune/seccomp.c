/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp. libseccomp builds the BPF program at create time; init only
 * hands that program to seccomp(2). Loading it ourselves instead of with
 * seccomp_load() keeps libseccomp (and its allocations) out of the forked
 * init, and lets us pass flags libseccomp 2.5 does not know
 * (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV).
 */
#include "librune/seccomp.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define PFX	      ".linux.seccomp"
#define MAX_ARGS      6
#define MAX_ARCHS     32
#define DEFAULT_ERRNO EPERM
/* What runc puts in containerProcessState.ociVersion when the state has none. */
#define OCI_VERSION "1.0.2"

struct rune_seccomp {
	struct sock_filter *insns;
	unsigned short n_insns;
	unsigned int flags; /* SECCOMP_FILTER_FLAG_*, NEW_LISTENER included */
	bool notify;
	char *listener_path;
	char *listener_metadata;
};

enum act_kind { ACT_PLAIN, ACT_ERRNO, ACT_TRACE };

static const struct {
	const char *name;
	uint32_t action;
	enum act_kind kind;
} actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL, ACT_PLAIN },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN },
	{ "SCMP_ACT_ERRNO", 0, ACT_ERRNO },
	{ "SCMP_ACT_TRACE", 0, ACT_TRACE },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ACT_PLAIN },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* 0 for TSYNC: init is single-threaded, and runc ignores it too. */
static const struct {
	const char *name;
	unsigned int flag;
} filter_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", 0 },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static void ctx_release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
	return (int)syscall(SYS_seccomp, op, flags, args);
}

/* Optional non-negative integer at obj.key, at most max. */
static int get_uint(json_t *obj, const char *key, const char *path, uint64_t max, bool *present,
		    uint64_t *out, err_t *err)
{
	json_t *v = json_object_get(obj, key);

	*present = v != NULL && !json_is_null(v);
	if (!*present)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return err_set(err, EINVAL, "%s.%s: must be an integer from 0 to %llu", path, key,
			       (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Optional string at obj.key; *out borrowed, NULL when absent. */
static int get_string(json_t *obj, const char *key, const char *path, const char **out, err_t *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, EINVAL, "%s.%s: must be a string", path, key);
	*out = json_string_value(v);
	return 0;
}

/* Optional array at obj.key; *out NULL when absent. */
static int get_array(json_t *obj, const char *key, const char *path, json_t **out, err_t *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(err, EINVAL, "%s.%s: must be an array", path, key);
	*out = v;
	return 0;
}

/*
 * Parses the action at obj.<action_key> with its errno at obj.<errno_key>.
 * The spec says an errno on an action that takes none is an error.
 */
static int parse_action(json_t *obj, const char *action_key, const char *errno_key,
			const char *path, uint32_t *out, err_t *err)
{
	const char *name;
	uint64_t errno_ret = DEFAULT_ERRNO;
	bool has_errno;
	size_t i;
	int ret;

	ret = get_string(obj, action_key, path, &name, err);
	if (ret < 0)
		return ret;
	if (name == NULL)
		return err_set(err, EINVAL, "%s.%s: missing", path, action_key);
	ret = get_uint(obj, errno_key, path, 0xffff, &has_errno, &errno_ret, err);
	if (ret < 0)
		return ret;
	if (!has_errno)
		errno_ret = DEFAULT_ERRNO;
	for (i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		switch (actions[i].kind) {
		case ACT_ERRNO:
			*out = SCMP_ACT_ERRNO((uint32_t)errno_ret);
			return 0;
		case ACT_TRACE:
			*out = SCMP_ACT_TRACE((uint32_t)errno_ret);
			return 0;
		case ACT_PLAIN:
			if (has_errno)
				return err_set(err, EINVAL, "%s.%s: not allowed with action %s",
					       path, errno_key, name);
			*out = actions[i].action;
			return 0;
		}
	}
	return err_set(err, EINVAL, "%s.%s: unknown action \"%s\"", path, action_key, name);
}

/* The filter's architectures: the native one and linux.seccomp.architectures. */
struct arch_set {
	uint32_t token[MAX_ARCHS];
	size_t n;
};

static void arch_set_add(struct arch_set *set, uint32_t token)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->token[i] == token)
			return;
	if (set->n < MAX_ARCHS)
		set->token[set->n++] = token;
}

static int parse_arch(scmp_filter_ctx ctx, json_t *seccomp, struct arch_set *set, err_t *err)
{
	json_t *archs, *v;
	size_t i;
	int ret;

	set->n = 0;
	arch_set_add(set, seccomp_arch_native());
	ret = get_array(seccomp, "architectures", PFX, &archs, err);
	if (ret < 0 || archs == NULL)
		return ret;
	json_array_foreach(archs, i, v)
	{
		char lower[32];
		const char *name = json_string_value(v);
		uint32_t arch;
		size_t j;

		if (name == NULL)
			return err_set(err, EINVAL, PFX ".architectures[%zu]: must be a string", i);
		/* SCMP_ARCH_X86_64 -> libseccomp's "x86_64". */
		if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
			goto unknown;
		for (j = 0; name[10 + j]; j++)
			lower[j] = (char)(name[10 + j] >= 'A' && name[10 + j] <= 'Z'
					      ? name[10 + j] - 'A' + 'a'
					      : name[10 + j]);
		lower[j] = '\0';
		arch = seccomp_arch_resolve_name(lower);
		if (arch == 0)
			goto unknown;
		ret = seccomp_arch_add(ctx, arch);
		if (ret < 0 && ret != -EEXIST)
			return err_sys(err, -ret, PFX ".architectures[%zu]: add %s", i, name);
		arch_set_add(set, arch);
		continue;
	unknown:
		return err_set(err, EINVAL, PFX ".architectures[%zu]: unknown architecture \"%s\"",
			       i, name);
	}
	return 0;
}

/*
 * The kernel answers EFAULT to a NULL program when it knows the flags, EINVAL
 * if not. Anything else (ENOSYS under valgrind) can't tell: load will.
 */
static bool kernel_has_flags(unsigned int flags)
{
	return sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, NULL) == 0 || errno != EINVAL;
}

static int parse_flags(json_t *seccomp, unsigned int *out, err_t *err)
{
	json_t *flags, *v;
	size_t i;
	int ret;

	*out = 0;
	ret = get_array(seccomp, "flags", PFX, &flags, err);
	if (ret < 0 || flags == NULL)
		return ret;
	json_array_foreach(flags, i, v)
	{
		const char *name = json_string_value(v);
		size_t j;

		if (name == NULL)
			return err_set(err, EINVAL, PFX ".flags[%zu]: must be a string", i);
		for (j = 0; j < ARRAY_SIZE(filter_flags); j++)
			if (strcmp(filter_flags[j].name, name) == 0)
				break;
		if (j == ARRAY_SIZE(filter_flags))
			return err_set(err, EINVAL, PFX ".flags[%zu]: unknown flag \"%s\"", i,
				       name);
		if (filter_flags[j].flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV &&
		    !kernel_has_flags(SECCOMP_FILTER_FLAG_NEW_LISTENER |
				      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
			return err_set(err, EINVAL,
				       PFX ".flags[%zu]: %s not supported by the kernel", i, name);
		if (filter_flags[j].flag != SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV &&
		    !kernel_has_flags(filter_flags[j].flag))
			return err_set(err, EINVAL,
				       PFX ".flags[%zu]: %s not supported by the kernel", i, name);
		*out |= filter_flags[j].flag;
	}
	return 0;
}

static int parse_args(json_t *call, const char *path, struct scmp_arg_cmp **out, size_t *n_out,
		      bool *same_index, err_t *err)
{
	_cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
	unsigned int count[MAX_ARGS] = { 0 };
	json_t *args, *a;
	size_t i;
	int ret;

	*out = NULL;
	*n_out = 0;
	*same_index = false;
	ret = get_array(call, "args", path, &args, err);
	if (ret < 0 || args == NULL || json_array_size(args) == 0)
		return ret;
	cmps = calloc(json_array_size(args), sizeof(*cmps));
	if (cmps == NULL)
		return err_sys(err, ENOMEM, "%s.args", path);
	json_array_foreach(args, i, a)
	{
		char apath[256];
		const char *op;
		uint64_t index = 0, value = 0, value2 = 0;
		bool present;
		size_t j;

		snprintf(apath, sizeof(apath), "%s.args[%zu]", path, i);
		if (!json_is_object(a))
			return err_set(err, EINVAL, "%s: must be an object", apath);
		ret = get_uint(a, "index", apath, MAX_ARGS - 1, &present, &index, err);
		if (ret == 0 && !present)
			ret = err_set(err, EINVAL, "%s.index: missing", apath);
		if (ret == 0)
			ret = get_uint(a, "value", apath, UINT64_MAX, &present, &value, err);
		if (ret == 0 && !present)
			ret = err_set(err, EINVAL, "%s.value: missing", apath);
		if (ret == 0)
			ret = get_uint(a, "valueTwo", apath, UINT64_MAX, &present, &value2, err);
		if (ret == 0)
			ret = get_string(a, "op", apath, &op, err);
		if (ret == 0 && op == NULL)
			ret = err_set(err, EINVAL, "%s.op: missing", apath);
		if (ret < 0)
			return ret;
		for (j = 0; j < ARRAY_SIZE(operators); j++)
			if (strcmp(operators[j].name, op) == 0)
				break;
		if (j == ARRAY_SIZE(operators))
			return err_set(err, EINVAL, "%s.op: unknown operator \"%s\"", apath, op);
		/* For MASKED_EQ, value is the mask and valueTwo the datum: libseccomp's order. */
		cmps[i] = (struct scmp_arg_cmp){ .arg = (unsigned int)index,
						 .op = operators[j].op,
						 .datum_a = value,
						 .datum_b = value2 };
		if (++count[index] > 1)
			*same_index = true;
	}
	*n_out = json_array_size(args);
	*out = steal_ptr(cmps);
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t default_action, json_t *seccomp, bool *notify,
		     err_t *err)
{
	json_t *calls, *call;
	size_t i;
	int ret;

	ret = get_array(seccomp, "syscalls", PFX, &calls, err);
	if (ret < 0 || calls == NULL)
		return ret;
	json_array_foreach(calls, i, call)
	{
		_cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
		char path[64];
		json_t *names, *n;
		uint32_t action;
		size_t n_cmps = 0, j, k;
		bool same_index = false;

		snprintf(path, sizeof(path), PFX ".syscalls[%zu]", i);
		if (!json_is_object(call))
			return err_set(err, EINVAL, "%s: must be an object", path);
		ret = get_array(call, "names", path, &names, err);
		if (ret == 0 && names == NULL)
			ret = err_set(err, EINVAL, "%s.names: missing", path);
		if (ret == 0)
			ret = parse_action(call, "action", "errnoRet", path, &action, err);
		if (ret == 0)
			ret = parse_args(call, path, &cmps, &n_cmps, &same_index, err);
		if (ret < 0)
			return ret;
		json_array_foreach(names, j, n)
		{
			const char *name = json_string_value(n);
			int nr;

			if (name == NULL)
				return err_set(err, EINVAL, "%s.names[%zu]: must be a string", path,
					       j);
			/*
			 * After loading, init hands the listener fd to its parent
			 * (sendmsg on the sync socket): a notifying call there would
			 * wait for an agent that can't have the fd yet. runc refuses
			 * write for the same reason.
			 */
			if (action == SCMP_ACT_NOTIFY &&
			    (strcmp(name, "write") == 0 || strcmp(name, "sendmsg") == 0))
				return err_set(err, EINVAL,
					       "%s.names[%zu]: SCMP_ACT_NOTIFY cannot be used for "
					       "the %s syscall",
					       path, j, name);
			/* libseccomp refuses rules that repeat the default; they are no-ops. */
			if (action == default_action)
				continue;
			/* Unknown to libseccomp (newer, or another arch's): skipped, as runc. */
			nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR)
				continue;
			if (action == SCMP_ACT_NOTIFY)
				*notify = true;
			/*
			 * As runc: conditions on distinct arguments are ANDed in one
			 * rule; if an argument appears twice each condition becomes its
			 * own rule (ORed), the old runc behaviour profiles rely on.
			 */
			if (!same_index) {
				ret = seccomp_rule_add_array(ctx, action, nr, (unsigned int)n_cmps,
							     cmps);
			} else {
				for (k = 0, ret = 0; k < n_cmps && ret == 0; k++)
					ret = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[k]);
			}
			if (ret < 0)
				return err_sys(err, -ret, "%s.names[%zu]: add rule for %s", path, j,
					       name);
		}
	}
	return 0;
}

/*
 * As runc: syscalls newer than every syscall the profile names get ENOSYS
 * rather than the default action, so that libc falls back to older calls
 * (clone3 -> clone, ...) instead of failing with EPERM. The stub runs before
 * libseccomp's program: per architecture, nr > the highest number the
 * profile names returns ENOSYS; everything else falls through. Permissive
 * defaults need no stub.
 */
struct stub_arch {
	uint32_t audit_arch;
	int64_t max, max_x32; /* -1: no check */
	bool x86_64;
};

static int64_t max_nr(json_t *seccomp, uint32_t token)
{
	json_t *calls = json_object_get(seccomp, "syscalls"), *call, *n;
	int64_t max = -1;
	size_t i, j;

	json_array_foreach(calls, i, call)
	{
		json_array_foreach(json_object_get(call, "names"), j, n)
		{
			int nr = seccomp_syscall_resolve_name_arch(token, json_string_value(n));

			if (nr >= 0 && nr > max)
				max = nr;
		}
	}
	return max;
}

#define STUB_MAX (2 + MAX_ARCHS * 5 + 1)
#define X32_BIT	 0x40000000U

static size_t enosys_stub(json_t *seccomp, uint32_t default_action, const struct arch_set *set,
			  struct sock_filter *out)
{
	struct stub_arch a[MAX_ARCHS] = { 0 };
	size_t n = 0, i, k, len = 0, start[MAX_ARCHS], enosys, end;

	if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG)
		return 0;
	for (i = 0; i < set->n; i++) {
		bool x32 = set->token[i] == SCMP_ARCH_X32;
		/* The kernel reports x32 calls as AUDIT_ARCH_X86_64 with X32_BIT in nr. */
		uint32_t audit = x32 ? SCMP_ARCH_X86_64 : set->token[i];
		int64_t max = max_nr(seccomp, set->token[i]);

		for (k = 0; k < n && a[k].audit_arch != audit; k++)
			;
		if (k == n)
			a[n++] =
			    (struct stub_arch){ .audit_arch = audit, .max = -1, .max_x32 = -1 };
		a[k].x86_64 = a[k].x86_64 || audit == SCMP_ARCH_X86_64;
		if (x32)
			a[k].max_x32 = max;
		else
			a[k].max = max;
	}
	/* Layout: ld arch; jeq per arch; ja end; sections; ret ENOSYS; end. */
	len = 1 + n + 1;
	for (k = 0; k < n; k++) {
		start[k] = len;
		len += a[k].x86_64 ? 4 : 2;
	}
	enosys = len++;
	end = len;

#define JUMP(to, at) ((unsigned char)((to) - (at)-1))
	i = 0;
	out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, arch));
	for (k = 0; k < n; k++, i++)
		out[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a[k].audit_arch,
						      JUMP(start[k], i), 0);
	out[i] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(end - i - 1));
	i++;
	for (k = 0; k < n; k++) {
		out[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							offsetof(struct seccomp_data, nr));
		if (a[k].x86_64) {
			/* x32 calls to their own check (or untouched without x32). */
			out[i] =
			    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_BIT,
							 a[k].max_x32 < 0 ? JUMP(end, i) : 1, 0);
			i++;
		}
		out[i] = (struct sock_filter)BPF_JUMP(
		    BPF_JMP | BPF_JGT | BPF_K, (uint32_t)(a[k].max < 0 ? UINT32_MAX : a[k].max),
		    JUMP(enosys, i), JUMP(end, i));
		i++;
		if (a[k].x86_64) {
			out[i] = (struct sock_filter)BPF_JUMP(
			    BPF_JMP | BPF_JGT | BPF_K,
			    (uint32_t)(a[k].max_x32 < 0 ? UINT32_MAX : a[k].max_x32),
			    JUMP(enosys, i), JUMP(end, i));
			i++;
		}
	}
	out[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#undef JUMP
	return i;
}

/* seccomp_export_bpf() in 2.5 only writes to an fd: go through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t n_stub,
		      struct rune_seccomp *s, err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t n;
	int ret;

	fd = memfd_create("rune-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, PFX ": memfd_create");
	ret = seccomp_export_bpf(ctx, fd);
	if (ret < 0)
		return err_sys(err, -ret, PFX ": export BPF");
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, PFX ": stat BPF");
	n = (size_t)st.st_size / sizeof(struct sock_filter);
	if (n == 0 || (size_t)st.st_size % sizeof(struct sock_filter) != 0)
		return err_set(err, EINVAL, PFX ": libseccomp produced a malformed program");
	if (n_stub + n > BPF_MAXINSNS)
		return err_set(err, E2BIG, PFX ": filter has %zu instructions, the kernel takes %d",
			       n_stub + n, BPF_MAXINSNS);
	s->insns = calloc(n_stub + n, sizeof(struct sock_filter));
	if (s->insns == NULL)
		return err_sys(err, ENOMEM, PFX);
	memcpy(s->insns, stub, n_stub * sizeof(struct sock_filter));
	if (pread(fd, s->insns + n_stub, (size_t)st.st_size, 0) != st.st_size)
		return err_sys(err, errno ? errno : EIO, PFX ": read BPF");
	s->n_insns = (unsigned short)(n_stub + n);
	return 0;
}

static int dup_opt(const char *src, char **dst, err_t *err)
{
	if (src == NULL || *src == '\0')
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : err_sys(err, ENOMEM, PFX);
}

int rune_seccomp_prepare(json_t *seccomp, struct rune_seccomp **out, err_t *err)
{
	__attribute__((cleanup(ctx_release))) scmp_filter_ctx ctx = NULL;
	struct rune_seccomp *s = NULL;
	struct sock_filter stub[STUB_MAX];
	const char *listener_path, *metadata;
	struct arch_set archs;
	uint32_t default_action;
	size_t n_stub;
	unsigned int flags;
	bool notify = false;
	int ret;

	*out = NULL;
	if (seccomp == NULL || json_is_null(seccomp))
		return 0;
	if (!json_is_object(seccomp))
		return err_set(err, EINVAL, PFX ": must be an object");

	ret = parse_action(seccomp, "defaultAction", "defaultErrnoRet", PFX, &default_action, err);
	if (ret < 0)
		return ret;
	if (default_action == SCMP_ACT_NOTIFY)
		return err_set(err, EINVAL,
			       PFX ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	ret = parse_flags(seccomp, &flags, err);
	if (ret < 0)
		return ret;
	ret = get_string(seccomp, "listenerPath", PFX, &listener_path, err);
	if (ret == 0)
		ret = get_string(seccomp, "listenerMetadata", PFX, &metadata, err);
	if (ret < 0)
		return ret;

	ctx = seccomp_init(default_action);
	if (ctx == NULL)
		return err_set(err, EINVAL,
			       PFX ".defaultAction: not supported by libseccomp/kernel");
	ret = parse_arch(ctx, seccomp, &archs, err);
	if (ret < 0)
		return ret;
	ret = add_rules(ctx, default_action, seccomp, &notify, err);
	if (ret < 0)
		return ret;

	if (notify && (listener_path == NULL || *listener_path == '\0'))
		return err_set(err, EINVAL,
			       PFX ".listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
	/* The kernel refuses WAIT_KILLABLE_RECV without a listener. */
	if (notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	else
		flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_sys(err, ENOMEM, PFX);
	s->flags = flags;
	s->notify = notify;
	n_stub = enosys_stub(seccomp, default_action, &archs, stub);
	ret = export_bpf(ctx, stub, n_stub, s, err);
	if (ret == 0)
		ret = dup_opt(listener_path, &s->listener_path, err);
	if (ret == 0)
		ret = dup_opt(metadata, &s->listener_metadata, err);
	if (ret < 0) {
		rune_seccomp_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int rune_seccomp_load(struct rune_seccomp *s, int *notify_fd, err_t *err)
{
	struct sock_fprog prog;
	int ret;

	if (notify_fd)
		*notify_fd = -1;
	if (s == NULL)
		return 0;
	prog.len = s->n_insns;
	prog.filter = s->insns;
	ret = sys_seccomp(SECCOMP_SET_MODE_FILTER, s->flags, &prog);
	if (ret < 0) {
		if (errno == EACCES)
			return err_sys(err, errno,
				       "load seccomp filter (without noNewPrivileges it needs "
				       "CAP_SYS_ADMIN)");
		return err_sys(err, errno, "load seccomp filter");
	}
	/* No taker: closing the listener makes notifying syscalls fail with ENOSYS. */
	if (s->notify && notify_fd)
		*notify_fd = ret;
	else if (s->notify)
		close(ret);
	return 0;
}

bool rune_seccomp_has_notify(const struct rune_seccomp *s)
{
	return s && s->notify;
}

const char *rune_seccomp_listener_path(const struct rune_seccomp *s)
{
	return s ? s->listener_path : NULL;
}

const char *rune_seccomp_listener_metadata(const struct rune_seccomp *s)
{
	return s ? s->listener_metadata : NULL;
}

static char *process_state(const char *listener_metadata, const char *state_json, pid_t proc_pid,
			   err_t *err)
{
	json_t *state, *obj, *pid, *version;
	json_error_t jerr;
	char *out;

	state = json_loads(state_json, 0, &jerr);
	if (state == NULL || !json_is_object(state)) {
		json_decref(state);
		err_set(err, EINVAL, "container state: invalid JSON: %s", jerr.text);
		return NULL;
	}
	pid = json_object_get(state, "pid");
	if (!json_is_integer(pid) || json_integer_value(pid) <= 0) {
		json_decref(state);
		err_set(err, EINVAL, "container state: no pid");
		return NULL;
	}
	version = json_object_get(state, "ociVersion");
	obj = json_pack("{s:s, s:[s], s:I}", "ociVersion",
			json_is_string(version) ? json_string_value(version) : OCI_VERSION, "fds",
			"seccompFd", "pid",
			proc_pid > 0 ? (json_int_t)proc_pid : json_integer_value(pid));
	if (obj && listener_metadata && *listener_metadata)
		json_object_set_new(obj, "metadata", json_string(listener_metadata));
	if (obj)
		json_object_set_new(obj, "state", state);
	else
		json_decref(state);
	out = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (out == NULL)
		err_sys(err, ENOMEM, "container process state");
	return out;
}

int rune_seccomp_send_notify_fd(const char *listener_path, const char *listener_metadata,
				int notify_fd, const char *state_json, err_t *err)
{
	return rune_seccomp_send_process_notify_fd(listener_path, listener_metadata, notify_fd,
						   state_json, 0, err);
}

int rune_seccomp_send_process_notify_fd(const char *listener_path, const char *listener_metadata,
					int notify_fd, const char *state_json, pid_t pid,
					err_t *err)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_close_ int sock = -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr mh = { 0 };
	struct iovec iov;
	size_t len, sent = 0;

	if (listener_path == NULL || strlen(listener_path) >= sizeof(addr.sun_path))
		return err_set(err, ENAMETOOLONG, "seccomp listener %s: path too long",
			       listener_path ? listener_path : "(null)");
	msg = process_state(listener_metadata, state_json, pid, err);
	if (msg == NULL)
		return -EINVAL;
	len = strlen(msg);
	strcpy(addr.sun_path, listener_path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return err_sys(err, errno, "seccomp listener %s: socket", listener_path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return err_sys(err, errno, "seccomp listener %s: connect", listener_path);

	/* The fd rides on the first chunk; a stream socket may take the rest later. */
	memset(&control, 0, sizeof(control));
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &notify_fd, sizeof(int));
	while (sent < len) {
		ssize_t n;

		iov.iov_base = msg + sent;
		iov.iov_len = len - sent;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "seccomp listener %s: send", listener_path);
		sent += (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

void rune_seccomp_free(struct rune_seccomp *s)
{
	if (s == NULL)
		return;
	free(s->insns);
	free(s->listener_path);
	free(s->listener_metadata);
	free(s);
}
