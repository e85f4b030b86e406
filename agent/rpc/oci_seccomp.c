/* Linux.Seccomp -> struct pd_seccomp (oci_seccomp.h). */
#include "oci_seccomp.h"

#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/container/seccomp.h"
#include "agent/container/validate.h"

#define SYSCALL_NAME_MAX 64
#define ERRNO_MAX	 4095	/* the kernel's MAX_ERRNO: it caps SECCOMP_RET_ERRNO data */
#define TRACE_DATA_MAX	 0xffff /* SECCOMP_RET_DATA */
#define MAX_FLAGS	 8

struct name_value {
	const char *name;
	uint32_t value;
};

static const struct name_value actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct name_value ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct name_value arches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

#define LOOK_UP(table, name, out) look_up(table, sizeof(table) / sizeof(table[0]), name, out)

static int look_up(const struct name_value *t, size_t n, const char *name, uint32_t *out)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			*out = t[i].value;
			return 0;
		}
	return -1;
}

static int invalid(struct pd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(struct pd_error *err, const char *fmt, ...)
{
	char msg[PD_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s", msg);
}

static int no_memory(struct pd_error *err)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
			    "Linux.Seccomp: out of memory, or over the size limit of one request");
}

/* An action name (+ errnoret for ERRNO/TRACE) -> a libseccomp action value. */
static int convert_action(const char *field, const char *name, bool has_ret, uint32_t ret,
			  uint32_t *out, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	if (name && strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return invalid(err, "%s: SCMP_ACT_NOTIFY is not supported (no seccomp agent)",
			       field);
	if (LOOK_UP(actions, name, out) < 0)
		return invalid(err, "%s: unknown action '%s'", field,
			       pd_shown(name, shown, sizeof(shown)));
	bool is_errno = *out == SCMP_ACT_ERRNO(0), is_trace = *out == SCMP_ACT_TRACE(0);
	if (!has_ret)
		ret = EPERM;
	if ((is_errno && ret > ERRNO_MAX) || (is_trace && ret > TRACE_DATA_MAX))
		return invalid(err, "%s: errnoRet %" PRIu32 " over %d", field, ret,
			       is_errno ? ERRNO_MAX : TRACE_DATA_MAX);
	if (is_errno)
		*out = SCMP_ACT_ERRNO(ret);
	else if (is_trace)
		*out = SCMP_ACT_TRACE(ret);
	return 0; /* errnoRet on another action means nothing: ignored, as Kata does */
}

static int convert_arch_and_flags(const Grpc__LinuxSeccomp *s, struct pd_arena *a,
				  struct pd_seccomp *sc, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	if (s->n_architectures > PD_MAX_SECCOMP_ARCHES || s->n_flags > MAX_FLAGS)
		return invalid(err,
			       "Linux.Seccomp: %zu architectures and %zu flags, at most %d "
			       "and %d allowed",
			       s->n_architectures, s->n_flags, PD_MAX_SECCOMP_ARCHES, MAX_FLAGS);
	sc->arches = pd_arena_calloc(a, s->n_architectures + 1, sizeof(*sc->arches));
	if (!sc->arches)
		return no_memory(err);
	for (size_t i = 0; i < s->n_architectures; i++)
		if (LOOK_UP(arches, s->architectures[i], &sc->arches[i]) < 0)
			return invalid(err,
				       "Linux.Seccomp.Architectures[%zu]: unknown architecture "
				       "'%s'",
				       i, pd_shown(s->architectures[i], shown, sizeof(shown)));
	sc->n_arches = s->n_architectures;
	for (size_t i = 0; i < s->n_flags; i++) {
		const char *f = s->flags[i] ? s->flags[i] : "";
		if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			sc->flags |= PD_SECCOMP_FLAG_LOG;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			sc->flags |= PD_SECCOMP_FLAG_SPEC_ALLOW;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") != 0)
			return invalid(err, "Linux.Seccomp.Flags[%zu]: unknown flag '%s'", i,
				       pd_shown(f, shown, sizeof(shown)));
	}
	return 0;
}

static int convert_names(const Grpc__LinuxSyscall *call, size_t ri, struct pd_arena *a,
			 struct pd_seccomp_rule *r, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	if (call->n_names == 0)
		return invalid(err, "Linux.Seccomp.Syscalls[%zu].Names: empty", ri);
	r->names = pd_arena_calloc(a, call->n_names + 1, sizeof(*r->names));
	if (!r->names)
		return no_memory(err);
	for (size_t i = 0; i < call->n_names; i++) {
		const char *n = call->names[i] ? call->names[i] : "";
		size_t len = strspn(n, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (len == 0 || n[len] || len > SYSCALL_NAME_MAX)
			return invalid(err,
				       "Linux.Seccomp.Syscalls[%zu].Names[%zu]: '%s' is not "
				       "a syscall name",
				       ri, i, pd_shown(n, shown, sizeof(shown)));
		if (!(r->names[i] = pd_arena_strdup(a, n)))
			return no_memory(err);
	}
	r->n_names = call->n_names;
	return 0;
}

static int convert_args(const Grpc__LinuxSyscall *call, size_t ri, struct pd_arena *a,
			struct pd_seccomp_rule *r, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	uint32_t op;
	if (call->n_args > PD_MAX_SECCOMP_ARGS)
		return invalid(err,
			       "Linux.Seccomp.Syscalls[%zu].Args: %zu entries, at most %d "
			       "allowed",
			       ri, call->n_args, PD_MAX_SECCOMP_ARGS);
	if (call->n_args == 0)
		return 0;
	r->args = pd_arena_calloc(a, call->n_args, sizeof(*r->args));
	if (!r->args)
		return no_memory(err);
	for (size_t i = 0; i < call->n_args; i++) {
		const Grpc__LinuxSeccompArg *g = call->args[i];
		if (g->index >= PD_SECCOMP_ARG_COUNT)
			return invalid(err,
				       "Linux.Seccomp.Syscalls[%zu].Args[%zu].Index: %" PRIu64
				       ", a syscall has %d arguments",
				       ri, i, g->index, PD_SECCOMP_ARG_COUNT);
		if (LOOK_UP(ops, g->op, &op) < 0)
			return invalid(err,
				       "Linux.Seccomp.Syscalls[%zu].Args[%zu].Op: unknown "
				       "operator '%s'",
				       ri, i, pd_shown(g->op, shown, sizeof(shown)));
		r->args[i] = (struct pd_seccomp_arg){.index = (unsigned)g->index,
						     .value = g->value,
						     .value_two = g->valuetwo,
						     .op = (int)op};
	}
	r->n_args = call->n_args;
	return 0;
}

static int convert_rule(const Grpc__LinuxSyscall *call, size_t i, struct pd_arena *a,
			struct pd_seccomp_rule *r, struct pd_error *err)
{
	char field[64];
	bool has_ret = call->errno_ret_case == GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	snprintf(field, sizeof(field), "Linux.Seccomp.Syscalls[%zu].Action", i);
	if (convert_action(field, call->action, has_ret, call->errnoret, &r->action, err) < 0)
		return -1;
	if (convert_names(call, i, a, r, err) < 0)
		return -1;
	return convert_args(call, i, a, r, err);
}

static int convert_rules(const Grpc__LinuxSeccomp *s, struct pd_arena *a, struct pd_seccomp *sc,
			 struct pd_error *err)
{
	size_t names = 0;
	if (s->n_syscalls > PD_MAX_SECCOMP_RULES)
		return invalid(err, "Linux.Seccomp.Syscalls: %zu entries, at most %d allowed",
			       s->n_syscalls, PD_MAX_SECCOMP_RULES);
	sc->rules = pd_arena_calloc(a, s->n_syscalls + 1, sizeof(*sc->rules));
	if (!sc->rules)
		return no_memory(err);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		names += s->syscalls[i]->n_names;
		if (names > PD_MAX_SECCOMP_NAMES)
			return invalid(err, "Linux.Seccomp.Syscalls: over %d syscall names",
				       PD_MAX_SECCOMP_NAMES);
		if (convert_rule(s->syscalls[i], i, a, &sc->rules[i], err) < 0)
			return -1;
	}
	sc->n_rules = s->n_syscalls;
	return 0;
}

int pd_oci_seccomp_to_config(const Grpc__LinuxSeccomp *s, struct pd_arena *a,
			     struct pd_seccomp **out, struct pd_error *err)
{
	*out = NULL;
	if (!s)
		return 0;
	struct pd_seccomp *sc = pd_arena_calloc(a, 1, sizeof(*sc));
	if (!sc)
		return no_memory(err);
	if (convert_action("Linux.Seccomp.DefaultAction", s->defaultaction, false, 0,
			   &sc->default_action, err) < 0 ||
	    convert_arch_and_flags(s, a, sc, err) < 0 || convert_rules(s, a, sc, err) < 0 ||
	    pd_seccomp_compile(sc, a, err) < 0)
		return -1;
	*out = sc;
	return 0;
}
