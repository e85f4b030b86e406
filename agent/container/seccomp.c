/* Compile a container's seccomp filter with libseccomp (in the agent) and install it (in the
 * container process). seccomp.h says why the two halves run in different processes. */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/log.h"

/* libseccomp builds a binary tree of syscalls when asked; it pays off for long profiles
 * (Docker's default has hundreds of names). libseccomp <= 2.5.4 misbuilds it for a filter
 * without rules, hence a threshold. */
#define OPTIMIZE_OVER_RULES 32

/* libseccomp returns -errno. ENOMEM is ours; anything else means the spec asked for what
 * this libseccomp or kernel cannot do. */
static int lib_error(struct pd_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int lib_error(struct pd_error *err, int rc, const char *fmt, ...)
{
	char what[PD_ERROR_MSG_MAX];
	va_list ap;
	int e = rc < 0 ? -rc : EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e == ENOMEM)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, e, "%s: out of memory", what);
	return pd_error_set(err, PD_INVALID_ARGUMENT, e, "%s: %s", what, strerror(e));
}

static int add_arches(scmp_filter_ctx ctx, const struct pd_seccomp *sc, struct pd_error *err)
{
	for (size_t i = 0; i < sc->n_arches; i++) {
		int rc = seccomp_arch_add(ctx, sc->arches[i]);
		if (rc < 0 && rc != -EEXIST) /* the native one is there from the start */
			return lib_error(err, rc, "Linux.Seccomp.Architectures[%zu]", i);
	}
	return 0;
}

/* Two comparisons of the same argument cannot be ANDed in one libseccomp rule. */
static bool repeats_an_arg(const struct pd_seccomp_rule *r)
{
	unsigned seen = 0;
	for (size_t i = 0; i < r->n_args; i++) {
		unsigned bit = 1u << r->args[i].index;
		if (seen & bit)
			return true;
		seen |= bit;
	}
	return false;
}

static int add_syscall(scmp_filter_ctx ctx, const struct pd_seccomp_rule *r, int nr, size_t ri,
		       const char *name, struct pd_error *err)
{
	struct scmp_arg_cmp cmp[PD_MAX_SECCOMP_ARGS];
	size_t n = r->n_args < PD_MAX_SECCOMP_ARGS ? r->n_args : PD_MAX_SECCOMP_ARGS;
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (r->args[i].index >= PD_SECCOMP_ARG_COUNT)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "Linux.Seccomp.Syscalls[%zu].Args[%zu].Index: %u, a "
					    "syscall has %d arguments",
					    ri, i, r->args[i].index, PD_SECCOMP_ARG_COUNT);
	for (size_t i = 0; i < n; i++)
		cmp[i] = (struct scmp_arg_cmp){.arg = r->args[i].index,
					       .op = (enum scmp_compare)r->args[i].op,
					       .datum_a = r->args[i].value,
					       .datum_b = r->args[i].value_two};
	if (!repeats_an_arg(r))
		rc = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)n, cmp);
	else /* one rule per comparison: any of them matches (runc's reading) */
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp[i]);
	if (rc < 0)
		return lib_error(err, rc, "Linux.Seccomp.Syscalls[%zu] '%s'", ri, name);
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct pd_seccomp *sc, struct pd_error *err)
{
	for (size_t ri = 0; ri < sc->n_rules; ri++) {
		const struct pd_seccomp_rule *r = &sc->rules[ri];
		if (r->action == sc->default_action)
			continue; /* says nothing the default does not (and libseccomp refuses it)
				   */
		for (size_t i = 0; i < r->n_names; i++) {
			int nr = seccomp_syscall_resolve_name(r->names[i]);
			if (nr == __NR_SCMP_ERROR) {
				pd_debug("seccomp: unknown syscall skipped", "name=%s",
					 r->names[i]);
				continue;
			}
			if (add_syscall(ctx, r, nr, ri, r->names[i], err) < 0)
				return -1;
		}
	}
	return 0;
}

/* libseccomp 2.5 exports a program only to an fd: a memfd, read back into the arena. */
static int export_bpf(scmp_filter_ctx ctx, struct pd_seccomp *sc, struct pd_arena *a,
		      struct pd_error *err)
{
	int fd = memfd_create("pidone-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "Linux.Seccomp: memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	off_t size = rc < 0 ? 0 : lseek(fd, 0, SEEK_END);
	size_t n = size > 0 ? (size_t)size / sizeof(struct sock_filter) : 0;
	ssize_t got = 0;
	if (rc < 0)
		rc = lib_error(err, rc, "Linux.Seccomp: generate the filter");
	else if (size <= 0 || (size_t)size % sizeof(struct sock_filter))
		rc = pd_error_set(err, PD_INTERNAL, 0, "Linux.Seccomp: libseccomp wrote %lld bytes",
				  (long long)size);
	else if (n > BPF_MAXINSNS)
		rc =
		    pd_error_set(err, PD_INVALID_ARGUMENT, E2BIG,
				 "Linux.Seccomp: the filter has %zu instructions, the kernel takes "
				 "at most %d",
				 n, BPF_MAXINSNS);
	else if (!(sc->bpf = pd_arena_alloc(a, (size_t)size)))
		rc = pd_error_set(
		    err, PD_RESOURCE_EXHAUSTED, ENOMEM,
		    "Linux.Seccomp: out of memory, or over the size limit of one request");
	else if ((got = pread(fd, sc->bpf, (size_t)size, 0)) != size)
		rc = pd_error_errno(err, got < 0 ? errno : EIO,
				    "Linux.Seccomp: read the filter back");
	close(fd);
	if (rc < 0)
		return -1;
	sc->n_bpf = (unsigned short)n;
	return 0;
}

int pd_seccomp_compile(struct pd_seccomp *sc, struct pd_arena *a, struct pd_error *err)
{
	sc->bpf = NULL;
	sc->n_bpf = 0;
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (!ctx) /* libseccomp's only reason besides ENOMEM: the kernel lacks the action */
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "Linux.Seccomp.DefaultAction: libseccomp cannot make a filter "
				    "with action 0x%08x on this kernel",
				    sc->default_action);
	if (sc->n_rules > OPTIMIZE_OVER_RULES)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* an optimisation: may fail */
	int rc = -1;
	if (add_arches(ctx, sc, err) == 0 && add_rules(ctx, sc, err) == 0)
		rc = export_bpf(ctx, sc, a, err);
	seccomp_release(ctx);
	return rc;
}

int pd_seccomp_load(const struct pd_seccomp *sc, struct pd_error *err)
{
	if (!sc->bpf || sc->n_bpf == 0)
		return pd_error_set(err, PD_INTERNAL, 0, "seccomp: the filter was never compiled");
	struct sock_fprog prog = {.len = sc->n_bpf, .filter = sc->bpf};
	unsigned long flags = 0;
	if (sc->flags & PD_SECCOMP_FLAG_LOG)
		flags |= SECCOMP_FILTER_FLAG_LOG;
	if (sc->flags & PD_SECCOMP_FLAG_SPEC_ALLOW)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) == 0)
		return 0;
	if (errno == EACCES)
		return pd_error_set(err, PD_PERMISSION_DENIED, EACCES,
				    "seccomp: load the filter: no_new_privs is off and the process "
				    "has no CAP_SYS_ADMIN");
	return pd_error_errno(err, errno, "seccomp: load the filter (flags 0x%lx)", flags);
}
