/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device rules: v1 devices.allow/devices.deny in order, or on v2 an eBPF
 * program (BPF_PROG_TYPE_CGROUP_DEVICE) that checks the rules last to first,
 * the first match deciding; that is what applying them in order means.
 */
#include "librune/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

struct rule {
	bool allow;
	char type;	      /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1: any */
	unsigned access;      /* BPF_DEVCG_ACC_* bits */
};

static int parse_rule(json_t *e, size_t i, struct rule *r, err_t *err)
{
	json_t *allow = json_object_get(e, "allow"), *maj = json_object_get(e, "major"),
	       *min = json_object_get(e, "minor");
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *acc = json_string_value(json_object_get(e, "access"));

	if (!json_is_boolean(allow))
		return err_set(err, EINVAL,
			       "linux.resources.devices[%zu].allow: expected a boolean", i);
	r->allow = json_is_true(allow);
	r->type = type && *type ? type[0] : 'a';
	if ((type && strlen(type) > 1) || strchr("acb", r->type) == NULL)
		return err_set(err, EINVAL,
			       "linux.resources.devices[%zu].type: expected \"a\", \"c\" or \"b\"",
			       i);
	r->major = json_is_integer(maj) ? json_integer_value(maj) : -1;
	r->minor = json_is_integer(min) ? json_integer_value(min) : -1;
	r->access = 0;
	/* As runc: the r, w and m in the string; other letters are ignored. */
	for (const char *p = acc && *acc ? acc : "rwm"; *p; p++)
		r->access |= *p == 'r'	 ? BPF_DEVCG_ACC_READ
			     : *p == 'w' ? BPF_DEVCG_ACC_WRITE
			     : *p == 'm' ? BPF_DEVCG_ACC_MKNOD
					 : 0;
	/* runc fails such a rule late, with an unclear error. */
	if (r->access == 0)
		return err_set(err, EINVAL,
			       "linux.resources.devices[%zu].access: \"%s\" names none of r, w, m",
			       i, acc);
	return 0;
}

static void rule_str(const struct rule *r, char *buf, size_t len)
{
	char maj[24] = "*", min[24] = "*", acc[4];
	size_t n = 0;

	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, r->minor);
	if (r->access & BPF_DEVCG_ACC_READ)
		acc[n++] = 'r';
	if (r->access & BPF_DEVCG_ACC_WRITE)
		acc[n++] = 'w';
	if (r->access & BPF_DEVCG_ACC_MKNOD)
		acc[n++] = 'm';
	acc[n] = '\0';
	snprintf(buf, len, "%c %s:%s %s", r->type, maj, min, acc);
}

static int parse_rules(json_t *rules, struct rule **out, size_t *n, err_t *err)
{
	size_t cnt = json_array_size(rules), i;
	struct rule *v = calloc(cnt ? cnt : 1, sizeof(*v));
	json_t *e;

	if (v == NULL)
		return err_sys(err, ENOMEM, "devices");
	json_array_foreach(rules, i, e)
	{
		int r = parse_rule(e, i, &v[i], err);

		if (r < 0) {
			free(v);
			return r;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

int cg_devices_check(json_t *rules, err_t *err)
{
	struct rule *v = NULL;
	size_t n = 0;
	int r;

	if (rules && !json_is_array(rules))
		return err_set(err, EINVAL, "linux.resources.devices: expected an array");
	r = parse_rules(rules, &v, &n, err);
	free(v);
	return r;
}

static int v1_devices(const struct rune_cgroup_host *h, const char *dir, const struct rule *v,
		      size_t n, err_t *err)
{
	for (size_t i = 0; i < n; i++) {
		char s[64];
		int r;

		rule_str(&v[i], s, sizeof(s));
		r = cg_write(h, dir, v[i].allow ? "devices.allow" : "devices.deny", s, err);
		if (r < 0)
			return err_wrap(err, "devices[%zu]", i);
	}
	return 0;
}

/* ---- eBPF ---- */

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static int emit(struct prog *p, struct bpf_insn in)
{
	if (p->n == p->cap) {
		struct bpf_insn *nv = realloc(p->v, (p->cap * 2 + 64) * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		p->v = nv;
		p->cap = p->cap * 2 + 64;
	}
	p->v[p->n++] = in;
	return 0;
}

/* Jump to the end of the current rule's block: offsets are patched once it is known. */
#define JMP_NEXT(op, reg, imm) INSN(BPF_JMP | (op) | BPF_K, (reg), 0, -1, (imm))

static int emit_rule(struct prog *p, const struct rule *r)
{
	const unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	size_t start = p->n;
	int e = 0;

	/* r2 = access, r3 = type, r4 = major, r5 = minor (set up by the prologue). */
	if (r->type != 'a')
		e |= emit(p, JMP_NEXT(BPF_JNE, BPF_REG_3,
				      r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
	if (r->major >= 0)
		e |= emit(p, JMP_NEXT(BPF_JNE, BPF_REG_4, (int32_t)r->major));
	if (r->minor >= 0)
		e |= emit(p, JMP_NEXT(BPF_JNE, BPF_REG_5, (int32_t)r->minor));
	if (r->access != all) {
		/* allow: every requested bit must be granted; deny: any denied bit decides. */
		e |= emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0));
		e |= emit(p, INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
				  r->allow ? (int32_t)(~r->access & all) : (int32_t)r->access));
		e |= emit(p, JMP_NEXT(r->allow ? BPF_JNE : BPF_JEQ, BPF_REG_1, 0));
	}
	e |= emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
	e |= emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	if (e)
		return -ENOMEM;
	for (size_t i = start; i < p->n; i++)
		if (p->v[i].off == -1 && BPF_CLASS(p->v[i].code) == BPF_JMP)
			p->v[i].off = (int16_t)(p->n - i - 1);
	return 0;
}

static bool rule_matches_all(const struct rule *r)
{
	return r->type == 'a' && r->major < 0 && r->minor < 0 &&
	       r->access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
}

/* Builds the program for rules (applied in order: the last matching one wins). */
int cg_bpf_devices_prog(json_t *rules, struct bpf_insn **out, size_t *n, err_t *err)
{
	_cleanup_free_ struct rule *v = NULL;
	struct prog p = { 0 };
	bool terminal = false;
	size_t nr = 0;
	int e = 0, r;

	r = parse_rules(rules, &v, &nr, err);
	if (r < 0)
		return r;
	/* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, major, minor. */
	e |= emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	e |= emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
	e |= emit(&p, INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff));
	e |= emit(&p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16));
	e |= emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	e |= emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
	for (size_t i = nr; e == 0 && !terminal && i-- > 0;) {
		e = emit_rule(&p, &v[i]);
		/* A rule matching everything ends the program: the verifier rejects dead code. */
		terminal = rule_matches_all(&v[i]);
	}
	/* Nothing matched: deny. */
	if (!terminal) {
		e |= emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		e |= emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	if (e) {
		free(p.v);
		return err_sys(err, ENOMEM, "devices: build eBPF program");
	}
	*out = p.v;
	*n = p.n;
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, err_t *err)
{
	static char log[4096];
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t) "Apache";
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	/* Load again with the verifier's log, for the message. */
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = '\0';
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	return err_sys(err, errno, "devices: load eBPF program (%zu insns)%s%.200s", n,
		       log[0] ? ", verifier: " : "", log);
}

/* Ids of the device programs attached to the cgroup now (to detach after ours is in). */
static int prog_query(int cgfd, uint32_t *ids, uint32_t *n)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = *n;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return -errno;
	*n = a.query.prog_cnt;
	return 0;
}

static void prog_detach_id(int cgfd, uint32_t id)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return;
	memset(&a, 0, sizeof(a));
	a.target_fd = cgfd;
	a.attach_bpf_fd = fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	sys_bpf(BPF_PROG_DETACH, &a);
	close(fd);
}

int cg_bpf_devices_load(json_t *rules, err_t *err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t n = 0;
	int r;

	r = cg_bpf_devices_prog(rules, &insns, &n, err);
	if (r < 0)
		return r;
	return prog_load(insns, n, err);
}

int cg_bpf_devices_attach(const char *dir, json_t *rules, err_t *err)
{
	_cleanup_close_ int cgfd = -1, prog = -1;
	uint32_t old[64], nold = ARRAY_SIZE(old);
	union bpf_attr a;

	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return err_sys(err, errno, "devices: open %s", dir);
	if (prog_query(cgfd, old, &nold) < 0)
		nold = 0;
	prog = cg_bpf_devices_load(rules, err);
	if (prog < 0)
		return prog;
	/* Attach the new one before removing the old: never a window without rules. */
	memset(&a, 0, sizeof(a));
	a.target_fd = cgfd;
	a.attach_bpf_fd = prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return err_sys(err, errno, "devices: attach eBPF program to %s", dir);
	for (uint32_t i = 0; i < nold && i < ARRAY_SIZE(old); i++)
		prog_detach_id(cgfd, old[i]);
	return 0;
}

/*
 * v1 update without a window: the kernel keeps "default deny + allowed
 * entries" (or "allow all"). Work out the list the rules lead to, compare it
 * with devices.list, then add what is missing before taking away what goes,
 * so a device that stays allowed is never denied, even for a moment.
 */
struct wl {
	bool allow_all;
	struct rule *v;
	size_t n;
};

static struct rule *wl_find(struct wl *w, const struct rule *r)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].type == r->type && w->v[i].major == r->major &&
		    w->v[i].minor == r->minor)
			return &w->v[i];
	return NULL;
}

static int wl_add(struct wl *w, const struct rule *r)
{
	struct rule *e = wl_find(w, r), *nv;

	if (e) {
		e->access |= r->access;
		return 0;
	}
	nv = realloc(w->v, (w->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	w->v = nv;
	w->v[w->n] = *r;
	w->v[w->n++].allow = true;
	return 0;
}

/* The state the rules lead to; -ENOTSUP for "allow all but..." (not modelled). */
static int wl_simulate(const struct rule *v, size_t n, struct wl *w)
{
	for (size_t i = 0; i < n; i++) {
		struct rule *e;

		if (v[i].type == 'a') {
			w->allow_all = v[i].allow;
			w->n = 0;
		} else if (w->allow_all) {
			if (!v[i].allow)
				return -ENOTSUP;
		} else if (v[i].allow) {
			if (wl_add(w, &v[i]) < 0)
				return -ENOMEM;
		} else if ((e = wl_find(w, &v[i])) != NULL) {
			e->access &= ~v[i].access;
			if (e->access == 0)
				*e = w->v[--w->n];
		}
	}
	return 0;
}

/* devices.list: "c 1:3 rwm" lines; "a *:* rwm" alone means allow all. */
static int wl_read(const char *dir, struct wl *w)
{
	_cleanup_free_ char *text = NULL;

	if (cg_read(dir, "devices.list", &text, NULL) < 0)
		return -ENOENT;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n'), maj[16], min[16], acc[8], type;
		struct rule r = { .allow = true };

		if (nl)
			*nl = '\0';
		if (sscanf(l, "%c %15[^:]:%15s %7s", &type, maj, min, acc) != 4)
			return -EINVAL;
		r.type = type;
		r.major = maj[0] == '*' ? -1 : atoll(maj);
		r.minor = min[0] == '*' ? -1 : atoll(min);
		for (const char *a = acc; *a; a++)
			r.access |= *a == 'r'	? BPF_DEVCG_ACC_READ
				    : *a == 'w' ? BPF_DEVCG_ACC_WRITE
						: BPF_DEVCG_ACC_MKNOD;
		if (type == 'a')
			w->allow_all = true;
		else if (wl_add(w, &r) < 0)
			return -ENOMEM;
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int wl_write(const struct rune_cgroup_host *h, const char *dir, const char *file,
		    struct rule r, unsigned access, err_t *err)
{
	char s[64];

	r.access = access;
	rule_str(&r, s, sizeof(s));
	return cg_write(h, dir, file, s, err);
}

/* 1 if done, 0 if the plain rewrite is needed, <0 on error. */
static int v1_devices_diff(const struct rune_cgroup_host *h, const char *dir, const struct rule *v,
			   size_t n, err_t *err)
{
	struct wl cur = { 0 }, want = { 0 };
	int r;

	r = wl_read(dir, &cur);
	if (r == 0)
		r = wl_simulate(v, n, &want);
	if (r < 0 || cur.allow_all || want.allow_all) {
		r = r == -ENOMEM ? err_sys(err, ENOMEM, "devices") : 0;
		goto out;
	}
	for (size_t i = 0; r == 0 && i < want.n; i++) {
		struct rule *c = wl_find(&cur, &want.v[i]);

		if (c == NULL || (want.v[i].access & ~c->access))
			r = wl_write(h, dir, "devices.allow", want.v[i], want.v[i].access, err);
	}
	for (size_t i = 0; r == 0 && i < cur.n; i++) {
		struct rule *t = wl_find(&want, &cur.v[i]);
		unsigned extra = t ? cur.v[i].access & ~t->access : cur.v[i].access;

		if (extra)
			r = wl_write(h, dir, "devices.deny", cur.v[i], extra, err);
	}
	if (r == 0)
		r = 1;
out:
	free(cur.v);
	free(want.v);
	return r < 0 ? err_wrap(err, "devices") : r;
}

int cg_apply_devices(const struct rune_cgroup_host *h, const char *path, json_t *rules, bool create,
		     err_t *err)
{
	_cleanup_free_ struct rule *v = NULL;
	struct cg_target t;
	size_t n = 0;
	int r;

	r = cg_target_get(h, path, "devices", "devices", &t, err);
	if (r < 0)
		return r;
	if (t.hier->v2) {
		if (h->no_bpf) {
			_cleanup_free_ struct bpf_insn *insns = NULL;

			r = cg_bpf_devices_prog(rules, &insns, &n, err);
			if (r == 0 && h->trace)
				fprintf(h->trace, "bpf-devices %zu insns\n", n);
		} else {
			r = cg_bpf_devices_attach(t.dir, rules, err);
		}
	} else {
		r = parse_rules(rules, &v, &n, err);
		/* A new cgroup has no tasks yet: the plain rewrite is fine there. */
		if (r == 0 && !create)
			r = v1_devices_diff(h, t.dir, v, n, err);
		if (r == 0)
			r = v1_devices(h, t.dir, v, n, err);
		else if (r > 0)
			r = 0;
	}
	cg_target_clear(&t);
	return r;
}
