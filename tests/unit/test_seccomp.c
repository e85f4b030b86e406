/* Linux.Seccomp: the conversion (agent/rpc/oci_seccomp.c), the compiler and the loader
 * (agent/container/seccomp.c), and the order of pd_process_exec.
 *
 * 1. Hand-built grpc.LinuxSeccomp messages convert to the libseccomp values they name,
 *    errnoRet present or absent (EPERM), and every bad field fails with INVALID_ARGUMENT
 *    naming it.
 * 2. Filters really run: each case forks, the child installs the compiled program and calls
 *    the syscalls the rules are about, and exits 0 only if every result was the expected
 *    one (or is killed by SIGSYS, for KILL rules). Needs root for the case without
 *    no_new_privs. Children end with _exit: LeakSanitizer must not run under a filter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/process.h"
#include "agent/container/seccomp.h"
#include "agent/rpc/oci_seccomp.h"
#include "agent/rpc/oci_spec.h"
#include "oci.pb-c.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RULES    8
#define MAX_ARGS     4

static char tmpdir[64];

/* ---- building messages ----------------------------------------------------------------- */

struct msg {
	Grpc__LinuxSeccomp sc;
	Grpc__LinuxSyscall calls[MAX_RULES];
	Grpc__LinuxSyscall *callp[MAX_RULES];
	char *names[MAX_RULES][4];
	Grpc__LinuxSeccompArg args[MAX_RULES][MAX_ARGS];
	Grpc__LinuxSeccompArg *argp[MAX_RULES][MAX_ARGS];
	char *arches[4];
	char *flags[4];
};

static void msg_init(struct msg *m, const char *default_action)
{
	memset(m, 0, sizeof(*m));
	grpc__linux_seccomp__init(&m->sc);
	m->sc.defaultaction = (char *)default_action;
	m->sc.syscalls = m->callp;
	m->sc.architectures = m->arches;
	m->sc.flags = m->flags;
}

/* A rule for one or two names (NULL = only one); returns its index. */
static size_t msg_rule(struct msg *m, const char *action, const char *name, const char *name2)
{
	size_t i = m->sc.n_syscalls++;
	Grpc__LinuxSyscall *c = &m->calls[i];
	grpc__linux_syscall__init(c);
	c->action = (char *)action;
	c->names = m->names[i];
	c->names[c->n_names++] = (char *)name;
	if (name2)
		c->names[c->n_names++] = (char *)name2;
	c->args = m->argp[i];
	m->callp[i] = c;
	return i;
}

static void msg_errno(struct msg *m, size_t i, uint32_t e)
{
	m->calls[i].errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	m->calls[i].errnoret = e;
}

static void msg_arg(struct msg *m, size_t i, uint64_t index, const char *op, uint64_t value,
		    uint64_t value_two)
{
	Grpc__LinuxSyscall *c = &m->calls[i];
	Grpc__LinuxSeccompArg *a = &m->args[i][c->n_args];
	grpc__linux_seccomp_arg__init(a);
	a->index = index;
	a->op = (char *)op;
	a->value = value;
	a->valuetwo = value_two;
	m->argp[i][c->n_args++] = a;
}

static struct pd_seccomp *convert_ok(const struct msg *m, struct pd_arena *a)
{
	struct pd_seccomp *sc = NULL;
	struct pd_error err = {0};
	int rc = pd_oci_seccomp_to_config(&m->sc, a, &sc, &err);
	if (rc < 0)
		fail_msg("conversion failed: %s", err.msg);
	assert_non_null(sc);
	assert_non_null(sc->bpf);
	assert_true(sc->n_bpf > 0);
	return sc;
}

/* ---- 1. conversion ---------------------------------------------------------------------- */

static void test_no_seccomp(void **state)
{
	struct pd_arena a;
	struct pd_seccomp *sc = (void *)1;
	struct pd_error err = {0};
	pd_arena_init(&a, 0);
	assert_int_equal(pd_oci_seccomp_to_config(NULL, &a, &sc, &err), 0);
	assert_null(sc);
	pd_arena_free(&a);
}

static void test_convert_fields(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	m.arches[m.sc.n_architectures++] = "SCMP_ARCH_X86_64";
	m.arches[m.sc.n_architectures++] = "SCMP_ARCH_X86";
	m.arches[m.sc.n_architectures++] = "SCMP_ARCH_X32";
	m.flags[m.sc.n_flags++] = "SECCOMP_FILTER_FLAG_TSYNC";
	m.flags[m.sc.n_flags++] = "SECCOMP_FILTER_FLAG_LOG";
	m.flags[m.sc.n_flags++] = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
	size_t r0 = msg_rule(&m, "SCMP_ACT_ERRNO", "mkdir", "mkdirat"); /* no errnoRet: EPERM */
	size_t r1 = msg_rule(&m, "SCMP_ACT_ERRNO", "getpriority", NULL);
	msg_errno(&m, r1, 38);
	msg_arg(&m, r1, 1, "SCMP_CMP_MASKED_EQ", 0xff00, 0x1200);
	size_t r2 = msg_rule(&m, "SCMP_ACT_KILL", "reboot", NULL);
	size_t r3 = msg_rule(&m, "SCMP_ACT_TRACE", "ptrace", NULL);
	size_t r4 = msg_rule(&m, "SCMP_ACT_KILL_PROCESS", "kexec_load", NULL);
	msg_errno(&m, r4, 99); /* meaningless for KILL: ignored */
	struct pd_seccomp *sc = convert_ok(&m, &a);
	assert_int_equal(sc->default_action, SCMP_ACT_ALLOW);
	assert_int_equal(sc->n_arches, 3);
	assert_int_equal(sc->arches[0], SCMP_ARCH_X86_64);
	assert_int_equal(sc->arches[1], SCMP_ARCH_X86);
	assert_int_equal(sc->arches[2], SCMP_ARCH_X32);
	assert_int_equal(sc->flags, PD_SECCOMP_FLAG_LOG | PD_SECCOMP_FLAG_SPEC_ALLOW);
	assert_int_equal(sc->n_rules, 5);
	assert_int_equal(sc->rules[r0].action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(sc->rules[r0].n_names, 2);
	assert_string_equal(sc->rules[r0].names[1], "mkdirat");
	assert_int_equal(sc->rules[r1].action, SCMP_ACT_ERRNO(38));
	assert_int_equal(sc->rules[r1].n_args, 1);
	assert_int_equal(sc->rules[r1].args[0].index, 1);
	assert_int_equal(sc->rules[r1].args[0].op, SCMP_CMP_MASKED_EQ);
	assert_int_equal(sc->rules[r1].args[0].value, 0xff00);
	assert_int_equal(sc->rules[r1].args[0].value_two, 0x1200);
	assert_int_equal(sc->rules[r2].action, SCMP_ACT_KILL_THREAD);
	assert_int_equal(sc->rules[r3].action, SCMP_ACT_TRACE(EPERM));
	assert_int_equal(sc->rules[r4].action, SCMP_ACT_KILL_PROCESS);
	pd_arena_free(&a);
}

/* Foreign architectures go into the program too: it grows with each. */
static void test_foreign_arches_compile(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	msg_rule(&m, "SCMP_ACT_ERRNO", "mkdir", NULL);
	unsigned short native = convert_ok(&m, &a)->n_bpf;
	m.arches[m.sc.n_architectures++] = "SCMP_ARCH_AARCH64";
	m.arches[m.sc.n_architectures++] = "SCMP_ARCH_X86";
	assert_true(convert_ok(&m, &a)->n_bpf > native);
	pd_arena_free(&a);
}

/* Names libseccomp does not know are skipped (profiles list newer syscalls), the rest of
 * the entry still counts. */
static void test_unknown_syscall_name_skipped(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	msg_rule(&m, "SCMP_ACT_ERRNO", "no_such_syscall_at_all", "mkdir");
	struct pd_seccomp *sc = convert_ok(&m, &a);
	assert_int_equal(sc->rules[0].n_names, 2);
	pd_arena_free(&a);
}

struct bad {
	const char *name;
	void (*mutate)(struct msg *m);
	const char *hint;
};

static void bad_default(struct msg *m)
{
	m->sc.defaultaction = "SCMP_ACT_NOPE";
}
static void bad_default_empty(struct msg *m)
{
	m->sc.defaultaction = "";
}
static void bad_notify(struct msg *m)
{
	m->calls[0].action = "SCMP_ACT_NOTIFY";
}
static void bad_notify_default(struct msg *m)
{
	m->sc.defaultaction = "SCMP_ACT_NOTIFY";
}
static void bad_action(struct msg *m)
{
	m->calls[0].action = "SCMP_ACT_MAYBE";
}
static void bad_op(struct msg *m)
{
	msg_arg(m, 0, 0, "SCMP_CMP_ALMOST", 1, 0);
}
static void bad_index(struct msg *m)
{
	msg_arg(m, 0, 6, "SCMP_CMP_EQ", 1, 0);
}
static void bad_arch(struct msg *m)
{
	m->arches[m->sc.n_architectures++] = "SCMP_ARCH_Z80";
}
static void bad_arch_lower(struct msg *m)
{
	m->arches[m->sc.n_architectures++] = "x86_64";
}
static void bad_flag(struct msg *m)
{
	m->flags[m->sc.n_flags++] = "SECCOMP_FILTER_FLAG_FOO";
}
static void bad_no_names(struct msg *m)
{
	m->calls[0].n_names = 0;
}
static void bad_name(struct msg *m)
{
	m->names[0][0] = "mk dir";
}
static void bad_empty_name(struct msg *m)
{
	m->names[0][0] = "";
}
static void bad_errno(struct msg *m)
{
	msg_errno(m, 0, 4096);
}

static void bad_too_many_args(struct msg *m)
{
	static Grpc__LinuxSeccompArg arg;
	static Grpc__LinuxSeccompArg *many[PD_MAX_SECCOMP_ARGS + 1];
	grpc__linux_seccomp_arg__init(&arg);
	arg.op = "SCMP_CMP_EQ";
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = &arg;
	m->calls[0].args = many;
	m->calls[0].n_args = ARRAY_LEN(many);
}

static void bad_too_many_rules(struct msg *m)
{
	static Grpc__LinuxSyscall *many[PD_MAX_SECCOMP_RULES + 1];
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = &m->calls[0];
	m->sc.syscalls = many;
	m->sc.n_syscalls = ARRAY_LEN(many);
}

static void bad_too_many_names(struct msg *m)
{
	/* 1024 entries of 4 names, plus one: over PD_MAX_SECCOMP_NAMES */
	static Grpc__LinuxSyscall call;
	static char *names[5] = {"a", "b", "c", "d", "e"};
	static Grpc__LinuxSyscall *many[PD_MAX_SECCOMP_RULES];
	grpc__linux_syscall__init(&call);
	call.action = "SCMP_ACT_ERRNO";
	call.names = names;
	call.n_names = PD_MAX_SECCOMP_NAMES / PD_MAX_SECCOMP_RULES + 1;
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = &call;
	m->sc.syscalls = many;
	m->sc.n_syscalls = ARRAY_LEN(many);
}

static const struct bad bad_cases[] = {
    {"unknown default action", bad_default, "DefaultAction: unknown action 'SCMP_ACT_NOPE'"},
    {"empty default action", bad_default_empty, "DefaultAction: unknown action ''"},
    {"notify", bad_notify, "Syscalls[0].Action: SCMP_ACT_NOTIFY is not supported"},
    {"notify as default", bad_notify_default, "DefaultAction: SCMP_ACT_NOTIFY is not supported"},
    {"unknown action", bad_action, "Syscalls[0].Action: unknown action 'SCMP_ACT_MAYBE'"},
    {"unknown op", bad_op, "Syscalls[0].Args[0].Op: unknown operator 'SCMP_CMP_ALMOST'"},
    {"arg index 6", bad_index, "Syscalls[0].Args[0].Index: 6"},
    {"unknown arch", bad_arch, "Architectures[0]: unknown architecture 'SCMP_ARCH_Z80'"},
    {"libseccomp's arch name", bad_arch_lower, "unknown architecture 'x86_64'"},
    {"unknown flag", bad_flag, "Flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_FOO'"},
    {"no names", bad_no_names, "Syscalls[0].Names: empty"},
    {"bad name", bad_name, "Names[0]: 'mk dir' is not a syscall name"},
    {"empty name", bad_empty_name, "Names[0]: '' is not a syscall name"},
    {"errno over 4095", bad_errno, "errnoRet 4096 over 4095"},
    {"too many args", bad_too_many_args, "Args: 17 entries, at most 16"},
    {"too many rules", bad_too_many_rules, "Syscalls: 1025 entries, at most 1024"},
    {"too many names", bad_too_many_names, "over 4096 syscall names"},
};

static void test_bad_fields(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		struct msg m;
		struct pd_arena a;
		struct pd_seccomp *sc = (void *)1;
		struct pd_error err = {0};
		pd_arena_init(&a, PD_CONFIG_BYTES);
		msg_init(&m, "SCMP_ACT_ALLOW");
		msg_rule(&m, "SCMP_ACT_ERRNO", "mkdir", NULL);
		bad_cases[i].mutate(&m);
		int rc = pd_oci_seccomp_to_config(&m.sc, &a, &sc, &err);
		if (rc == 0 || err.code != PD_INVALID_ARGUMENT ||
		    !strstr(err.msg, bad_cases[i].hint))
			fail_msg("%s: rc %d code %d \"%s\", want INVALID_ARGUMENT with \"%s\"",
				 bad_cases[i].name, rc, err.code, err.msg, bad_cases[i].hint);
		assert_null(sc);
		pd_arena_free(&a);
	}
}

/* The whole spec: Linux.Seccomp reaches cfg->seccomp, and an error names the field. */
static void test_through_spec(void **state)
{
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__Root root = GRPC__ROOT__INIT;
	Grpc__Linux lx = GRPC__LINUX__INIT;
	Grpc__LinuxNamespace mnt = GRPC__LINUX_NAMESPACE__INIT;
	Grpc__LinuxNamespace *nsp[] = {&mnt};
	char *args[] = {"true"};
	struct msg m;
	struct pd_container_config cfg;
	struct pd_error err = {0};
	spec.process = &proc;
	spec.root = &root;
	spec.linux_ = &lx;
	proc.args = args;
	proc.n_args = 1;
	root.path = "/rootfs";
	mnt.type = "mount";
	lx.namespaces = nsp;
	lx.n_namespaces = 1;
	lx.seccomp = &m.sc;
	msg_init(&m, "SCMP_ACT_ERRNO");
	msg_rule(&m, "SCMP_ACT_ALLOW", "read", "write");
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_spec_to_config(&spec, "ctr1", &cfg, &err), 0);
	assert_non_null(cfg.seccomp);
	assert_int_equal(cfg.seccomp->default_action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(cfg.seccomp->rules[0].action, SCMP_ACT_ALLOW);
	pd_arena_free(&cfg.arena);
	m.calls[0].action = "SCMP_ACT_BOGUS";
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_spec_to_config(&spec, "ctr1", &cfg, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "Linux.Seccomp.Syscalls[0].Action"));
	pd_arena_free(&cfg.arena);
}

/* ---- 2. filters at work ------------------------------------------------------------------ */

static int fails;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mismatch: " __VA_ARGS__);                                 \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* errno of a call that must fail, 0 if it succeeded. */
#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

/* Fork; the child runs fn (which installs the filter and checks); returns the wait status. */
static int in_child(int (*fn)(const struct pd_seccomp *), const struct pd_seccomp *sc)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(sc) == 0 && fails == 0 ? 0 : 1);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int load_nnp(const struct pd_seccomp *sc)
{
	struct pd_error err = {0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0 || pd_seccomp_load(sc, &err) < 0) {
		fprintf(stderr, "load: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void path_in_tmp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int child_errno_rules(const struct pd_seccomp *sc)
{
	char a[128], b[128];
	path_in_tmp(a, sizeof(a), "denied");
	path_in_tmp(b, sizeof(b), "denied-at");
	if (load_nnp(sc) < 0)
		return -1;
	EXPECT(ERRNO_OF(syscall(SYS_mkdir, a, 0755)) == EACCES, "mkdir: %s", strerror(errno));
	EXPECT(ERRNO_OF(syscall(SYS_mkdirat, AT_FDCWD, b, 0755)) == EPERM,
	       "mkdirat without errnoRet: %s, want EPERM", strerror(errno));
	EXPECT(getpid() > 0, "getpid");
	return 0;
}

static void test_errno_rules(void **state)
{
	struct msg m;
	struct pd_arena a;
	char path[128];
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	msg_errno(&m, msg_rule(&m, "SCMP_ACT_ERRNO", "mkdir", NULL), EACCES);
	msg_rule(&m, "SCMP_ACT_ERRNO", "mkdirat", NULL);
	int st = in_child(child_errno_rules, convert_ok(&m, &a));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	path_in_tmp(path, sizeof(path), "denied");
	assert_int_equal(access(path, F_OK), -1); /* nothing was made */
	pd_arena_free(&a);
}

/* getpriority(which, who) takes plain numbers: ENOTTY from the filter, ESRCH (no such
 * process) or success from the kernel. */
static int prio_errno(int which, int who)
{
	errno = 0;
	long r = syscall(SYS_getpriority, (long)which, (long)who); /* full 64-bit registers */
	return r < 0 ? errno : 0;
}

static int child_arg_rules(const struct pd_seccomp *sc)
{
	if (load_nnp(sc) < 0)
		return -1;
	/* rule 0: which == PRIO_PROCESS && who == 424242 (AND) */
	EXPECT(prio_errno(PRIO_PROCESS, 424242) == ENOTTY, "AND: both match");
	EXPECT(prio_errno(PRIO_PGRP, 424242) != ENOTTY, "AND: only who matches");
	EXPECT(prio_errno(PRIO_PROCESS, 0) == 0, "AND: neither matches, own process");
	/* rule 1: who == 111 or who == 222 (the same argument twice: OR) */
	EXPECT(prio_errno(PRIO_USER, 111) == E2BIG, "OR: first");
	EXPECT(prio_errno(PRIO_USER, 222) == E2BIG, "OR: second");
	EXPECT(prio_errno(PRIO_USER, 333) != E2BIG, "OR: neither");
	/* getsid: pid < 5 or pid > 0x7ff00000 (the same argument twice, never both true) */
	EXPECT(ERRNO_OF(syscall(SYS_getsid, 3L)) == EXDEV, "OR of LT and GT: low");
	EXPECT(ERRNO_OF(syscall(SYS_getsid, 0x7ff00005L)) == EXDEV, "OR of LT and GT: high");
	EXPECT(ERRNO_OF(syscall(SYS_getsid, 0x7713ffL)) == ESRCH, "OR of LT and GT: between");
	/* rule 2: (who & 0xff00) == 0x1200, with who a pgrp that does not exist */
	EXPECT(prio_errno(PRIO_PGRP, 0x7712ab) == EDOM, "MASKED_EQ: match");
	EXPECT(prio_errno(PRIO_PGRP, 0x7713ab) == ESRCH, "MASKED_EQ: no match");
	/* rule 3: which > PRIO_USER (invalid for the kernel: EINVAL without the filter) */
	EXPECT(prio_errno(7, 0) == ERANGE, "GT: match");
	return 0;
}

static void test_arg_rules(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	size_t r = msg_rule(&m, "SCMP_ACT_ERRNO", "getpriority", NULL);
	msg_errno(&m, r, ENOTTY);
	msg_arg(&m, r, 0, "SCMP_CMP_EQ", PRIO_PROCESS, 0);
	msg_arg(&m, r, 1, "SCMP_CMP_EQ", 424242, 0);
	r = msg_rule(&m, "SCMP_ACT_ERRNO", "getpriority", NULL);
	msg_errno(&m, r, E2BIG);
	msg_arg(&m, r, 1, "SCMP_CMP_EQ", 111, 0);
	msg_arg(&m, r, 1, "SCMP_CMP_EQ", 222, 0);
	r = msg_rule(&m, "SCMP_ACT_ERRNO", "getpriority", NULL);
	msg_errno(&m, r, EDOM);
	msg_arg(&m, r, 1, "SCMP_CMP_MASKED_EQ", 0xff00, 0x1200);
	r = msg_rule(&m, "SCMP_ACT_ERRNO", "getpriority", NULL);
	msg_errno(&m, r, ERANGE);
	msg_arg(&m, r, 0, "SCMP_CMP_GT", PRIO_USER, 0);
	r = msg_rule(&m, "SCMP_ACT_ERRNO", "getsid", NULL);
	msg_errno(&m, r, EXDEV);
	msg_arg(&m, r, 0, "SCMP_CMP_LT", 5, 0);
	msg_arg(&m, r, 0, "SCMP_CMP_GT", 0x7ff00000, 0);
	int st = in_child(child_arg_rules, convert_ok(&m, &a));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pd_arena_free(&a);
}

static int child_calls_mkdir(const struct pd_seccomp *sc)
{
	char path[128];
	path_in_tmp(path, sizeof(path), "killed");
	if (load_nnp(sc) < 0)
		return -1;
	syscall(SYS_mkdir, path, 0755);
	fprintf(stderr, "mkdir returned: the filter did not kill\n");
	return -1;
}

static void expect_sigsys(const char *action)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	msg_rule(&m, action, "mkdir", NULL);
	int st = in_child(child_calls_mkdir, convert_ok(&m, &a));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s: wait status 0x%x, want killed by SIGSYS", action, st);
	pd_arena_free(&a);
}

static void test_kill_rules(void **state)
{
	expect_sigsys("SCMP_ACT_KILL");
	expect_sigsys("SCMP_ACT_KILL_THREAD");
	expect_sigsys("SCMP_ACT_KILL_PROCESS");
}

/* A default action other than ALLOW: only the listed syscalls pass. */
static int child_default_errno(const struct pd_seccomp *sc)
{
	if (load_nnp(sc) < 0)
		return -1;
	EXPECT(ERRNO_OF(syscall(SYS_getppid)) == 0, "getppid was allowed");
	EXPECT(ERRNO_OF(syscall(SYS_getuid)) == EPERM, "getuid: %s, want EPERM", strerror(errno));
	syscall(SYS_exit_group, fails ? 1 : 0); /* exit_group is allowed; nothing else runs */
	return -1;
}

static void test_default_errno(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ERRNO");
	msg_rule(&m, "SCMP_ACT_ALLOW", "getppid", "exit_group");
	msg_rule(&m, "SCMP_ACT_ERRNO", "getgid", NULL); /* = the default: left out, no error */
	int st = in_child(child_default_errno, convert_ok(&m, &a));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pd_arena_free(&a);
}

/* Without no_new_privs the kernel wants CAP_SYS_ADMIN: root has it, uid 1000 does not. */
static int child_without_nnp(const struct pd_seccomp *sc)
{
	struct pd_error err = {0};
	if (pd_seccomp_load(sc, &err) < 0) {
		fprintf(stderr, "root without no_new_privs: %s\n", err.msg);
		return -1;
	}
	EXPECT(ERRNO_OF(syscall(SYS_mkdir, "/nonexistent-dir/x", 0755)) == EACCES, "mkdir");
	return 0;
}

static int child_user_without_nnp(const struct pd_seccomp *sc)
{
	struct pd_error err = {0};
	if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0)
		return -1;
	EXPECT(pd_seccomp_load(sc, &err) < 0, "loaded without privilege");
	EXPECT(err.code == PD_PERMISSION_DENIED, "code %d: %s", err.code, err.msg);
	EXPECT(strstr(err.msg, "no_new_privs"), "message: %s", err.msg);
	return 0;
}

static void test_no_new_privs_off(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	msg_errno(&m, msg_rule(&m, "SCMP_ACT_ERRNO", "mkdir", NULL), EACCES);
	const struct pd_seccomp *sc = convert_ok(&m, &a);
	int st = in_child(child_without_nnp, sc);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = in_child(child_user_without_nnp, sc);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pd_arena_free(&a);
}

/* The flags reach the kernel (it takes LOG and SPEC_ALLOW since 4.14 / 4.17). */
static int child_flags(const struct pd_seccomp *sc)
{
	return load_nnp(sc);
}

static void test_flags_load(void **state)
{
	struct msg m;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	m.flags[m.sc.n_flags++] = "SECCOMP_FILTER_FLAG_LOG";
	m.flags[m.sc.n_flags++] = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
	msg_rule(&m, "SCMP_ACT_LOG", "getppid", NULL);
	int st = in_child(child_flags, convert_ok(&m, &a));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	pd_arena_free(&a);
}

/* pd_process_exec installs the filter after the PATH look-up and before execve: the look-up's
 * access checks (faccessat2) would fail under this filter, the program (grep, whose loader
 * only asks access() about a missing /etc/ld.so.preload) runs filtered. */
static int child_exec(const struct pd_seccomp *sc)
{
	static char *args[] = {"grep", "^Seccomp:", "/proc/self/status", NULL};
	static char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct pd_process_config p = {
	    .args = args, .n_args = 3, .env = env, .n_env = 1, .cwd = "/"};
	struct pd_error err = {0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return -1;
	pd_process_exec(&p, sc, &err);
	fprintf(stderr, "exec: %s\n", err.msg);
	return -1;
}

static void test_exec_runs_filtered(void **state)
{
	struct msg m;
	struct pd_arena a;
	int pipefd[2];
	char out[128] = "";
	pd_arena_init(&a, 0);
	msg_init(&m, "SCMP_ACT_ALLOW");
	size_t r = msg_rule(&m, "SCMP_ACT_ERRNO", "faccessat", "faccessat2");
	msg_errno(&m, r, ENOENT);
	msg_errno(&m, msg_rule(&m, "SCMP_ACT_ERRNO", "access", NULL), ENOENT);
	const struct pd_seccomp *sc = convert_ok(&m, &a);
	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		_exit(child_exec(sc) == 0 ? 0 : 1);
	}
	close(pipefd[1]);
	ssize_t n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	out[n > 0 ? n : 0] = '\0';
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "Seccomp:\t2\n");
	pd_arena_free(&a);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pd-seccomp.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];
	const char *names[] = {"denied", "denied-at", "killed"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		path_in_tmp(path, sizeof(path), names[i]);
		rmdir(path);
	}
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_seccomp),
	    cmocka_unit_test(test_convert_fields),
	    cmocka_unit_test(test_foreign_arches_compile),
	    cmocka_unit_test(test_unknown_syscall_name_skipped),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_through_spec),
	    cmocka_unit_test(test_errno_rules),
	    cmocka_unit_test(test_arg_rules),
	    cmocka_unit_test(test_kill_rules),
	    cmocka_unit_test(test_default_errno),
	    cmocka_unit_test(test_no_new_privs_off),
	    cmocka_unit_test(test_flags_load),
	    cmocka_unit_test(test_exec_runs_filtered),
	};
	PD_SKIP_UNLESS_ROOT("a filter without no_new_privs");
	return cmocka_run_group_tests(tests, setup, teardown);
}
