/* Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, written instruction by
 * instruction (no libbpf, no compiler), loaded with bpf(BPF_PROG_LOAD) and attached to the
 * container's cgroup with BPF_F_ALLOW_MULTI (the ancestors' programs still run).
 *
 * The program has the shape crun and runc generate (facts from crun's ebpf.c and runc's
 * devicefilter.go; the code is our own):
 *
 *   r2 = ctx->access_type & 0xffff     device type: BPF_DEVCG_DEV_CHAR / _BLOCK
 *   r3 = ctx->access_type >> 16        requested access: BPF_DEVCG_ACC_READ/WRITE/MKNOD
 *   r4 = ctx->major; r5 = ctx->minor
 *   then one block per rule, the LAST rule first (a later rule overrides an earlier one, as
 *   later writes do on v1):
 *     if r2 != type goto next          (not for type 'a')
 *     r1 = r3; r1 &= access            (not for "rwm")
 *       allow: if r1 != r3 goto next   every requested right is in the rule
 *       deny:  if r1 == 0 goto next    some requested right is in the rule
 *     if r4 != major goto next         (not for '*')
 *     if r5 != minor goto next         (not for '*')
 *     r0 = allow; exit
 *   r0 = 0; exit                       nothing matched: deny
 * A block that matches everything ("a *:* rwm") ends the program: nothing after it could
 * run. Deny rules with partial access differ from crun, which matches them only when the
 * request asks for nothing else (so "deny w" would not stop an O_RDWR open). */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){
	    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

#define LDX_W(dst, src, off)	 insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_K(op, dst, imm)	 insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_X(dst, src)	 insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm)	 insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_K(op, dst, imm, off) insn(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define JMP_X(op, dst, src, off) insn(BPF_JMP | (op) | BPF_X, dst, src, off, 0)
#define EXIT()			 insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static int access_bits(const char *access)
{
	int bits = 0;
	for (const char *p = access; *p; p++)
		bits |= *p == 'r'   ? BPF_DEVCG_ACC_READ
			: *p == 'w' ? BPF_DEVCG_ACC_WRITE
			: *p == 'm' ? BPF_DEVCG_ACC_MKNOD
				    : 0;
	return bits;
}

/* One rule's block at out; returns its length; *all = it matches every request. */
static size_t rule_block(const struct pd_device_rule *r, struct bpf_insn *out, bool *all)
{
	bool has_type = r->type != 'a';
	int acc = access_bits(r->access);
	bool has_access = acc != ACC_ALL;
	bool has_major = r->major != PD_DEV_ANY, has_minor = r->minor != PD_DEV_ANY;
	size_t len = has_type + (has_access ? 3 : 0) + has_major + has_minor + 2;
	size_t i = 0;
	/* offset from instruction i to the first instruction of the next block */
#define NEXT ((int16_t)(len - i - 1))
#define EMIT(x)                                                                                    \
	do {                                                                                       \
		out[i] = (x);                                                                      \
		i++;                                                                               \
	} while (0)
	if (has_type) {
		int t = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
		EMIT(JMP_K(BPF_JNE, BPF_REG_2, t, NEXT));
	}
	if (has_access) {
		EMIT(MOV32_X(BPF_REG_1, BPF_REG_3));
		EMIT(ALU32_K(BPF_AND, BPF_REG_1, acc));
		if (r->allow)
			EMIT(JMP_X(BPF_JNE, BPF_REG_1, BPF_REG_3, NEXT));
		else
			EMIT(JMP_K(BPF_JEQ, BPF_REG_1, 0, NEXT));
	}
	if (has_major)
		EMIT(JMP_K(BPF_JNE, BPF_REG_4, (int32_t)r->major, NEXT));
	if (has_minor)
		EMIT(JMP_K(BPF_JNE, BPF_REG_5, (int32_t)r->minor, NEXT));
	EMIT(MOV64_K(BPF_REG_0, r->allow ? 1 : 0));
	EMIT(EXIT());
#undef NEXT
#undef EMIT
	*all = !has_type && !has_access && !has_major && !has_minor;
	return i;
}

int pd_ebpf_devices_build(const struct pd_device_rule *rules, size_t n_rules, struct bpf_insn **out,
			  size_t *n, struct pd_error *err)
{
	struct bpf_insn *p = calloc(6 + 8 * n_rules + 2, sizeof(*p));
	if (!p)
		return pd_error_errno(err, ENOMEM, "device program");
	size_t k = 0;
	p[k++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
	p[k++] = ALU32_K(BPF_AND, BPF_REG_2, 0xffff);
	p[k++] = LDX_W(BPF_REG_3, BPF_REG_1, 0);
	p[k++] = ALU32_K(BPF_RSH, BPF_REG_3, 16);
	p[k++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
	p[k++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
	bool all = false;
	for (size_t i = n_rules; i-- > 0 && !all;)
		k += rule_block(&rules[i], p + k, &all);
	if (!all) {
		p[k++] = MOV64_K(BPF_REG_0, 0);
		p[k++] = EXIT();
	}
	*out = p;
	*n = k;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Before Linux 5.11 programs were charged to RLIMIT_MEMLOCK. */
static void raise_memlock(void)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
}

static int load(const struct bpf_insn *insns, size_t n, struct pd_error *err)
{
	/* No helper is called, so the license string grants nothing; GPL as crun and systemd. */
	static const char license[] = "GPL";
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	int fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd < 0 && errno == EPERM) {
		raise_memlock();
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
	}
	if (fd >= 0)
		return fd;
	int saved = errno;
	char *log = calloc(1, 16384);
	if (log) { /* once more with the verifier's log, for the error message */
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = 16384;
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
		if (fd >= 0) {
			free(log);
			return fd;
		}
	}
	pd_error_errno(err, saved, "load the device program (%zu instructions)%s%.200s", n,
		       log && log[0] ? ": " : "", log ? log : "");
	free(log);
	return -1;
}

/* Attach prog to the cgroup at dir, replacing *old (our previous program) atomically where
 * the kernel can (BPF_F_REPLACE, 5.6), else attach then detach. */
static int attach(const char *dir, int prog, int *old, struct pd_error *err)
{
	int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return pd_error_errno(err, errno, "open %s", dir);
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	int rc = -1;
	if (*old >= 0) {
		attr.attach_flags |= BPF_F_REPLACE;
		attr.replace_bpf_fd = (uint32_t)*old;
		rc = sys_bpf(BPF_PROG_ATTACH, &attr);
		attr.attach_flags = BPF_F_ALLOW_MULTI;
		attr.replace_bpf_fd = 0;
	}
	if (rc < 0)
		rc = sys_bpf(BPF_PROG_ATTACH, &attr);
	else {
		close(*old);
		*old = -1;
	}
	if (rc < 0) {
		int saved = errno;
		close(cgfd);
		return pd_error_errno(err, saved, "attach the device program to %s", dir);
	}
	if (*old >= 0) {
		attr.attach_bpf_fd = (uint32_t)*old;
		attr.attach_flags = 0;
		sys_bpf(BPF_PROG_DETACH, &attr); /* already gone with its cgroup: fine */
		close(*old);
		*old = -1;
	}
	close(cgfd);
	return 0;
}

int pd_cg_v2_devices_check(const struct pd_resources *res, struct pd_error *err)
{
	struct pd_device_rule *rules;
	struct bpf_insn *insns;
	size_t n_rules, n;
	if (pd_cg_device_rules(res, &rules, &n_rules, err) < 0)
		return -1;
	int rc = pd_ebpf_devices_build(rules, n_rules, &insns, &n, err);
	free(rules);
	if (rc == 0)
		free(insns);
	return rc;
}

int pd_cg_v2_devices_apply(const char *dir, const struct pd_resources *res, int *prog_fd,
			   struct pd_error *err)
{
	struct pd_device_rule *rules;
	struct bpf_insn *insns;
	size_t n_rules, n;
	if (pd_cg_device_rules(res, &rules, &n_rules, err) < 0)
		return -1;
	int rc = pd_ebpf_devices_build(rules, n_rules, &insns, &n, err);
	free(rules);
	if (rc < 0)
		return -1;
	int fd = load(insns, n, err);
	free(insns);
	if (fd < 0)
		return -1;
	if (attach(dir, fd, prog_fd, err) < 0) {
		close(fd);
		return -1;
	}
	*prog_fd = fd;
	return 0;
}
