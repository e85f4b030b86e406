/* Linux.Seccomp: a container's syscall filter (docs/seccomp.md).
 *
 * The filter is compiled once, in the agent, when the container's config is built: libseccomp
 * turns the rules into a BPF program, which goes into the config's arena. Every process of
 * the container (its init and each exec) then installs that program with one seccomp(2)
 * call: nothing is allocated or resolved in the child once the filter is on, and a rule that
 * libseccomp refuses fails CreateContainer before any process exists. */
#ifndef PD_CONTAINER_SECCOMP_H
#define PD_CONTAINER_SECCOMP_H

#include "agent/arena.h"
#include "agent/container/config.h"
#include "agent/error.h"

/* Build sc's program into sc->bpf / sc->n_bpf (memory from `a`):
 *   - the default action, the native architecture plus sc->arches;
 *   - for each rule and each of its names: a rule with the arg comparisons, all of which
 *     must match (AND) — except when two comparisons test the same argument, which one
 *     libseccomp rule cannot express: then each comparison is a rule of its own (OR), as runc
 *     does and Docker's default profile expects;
 *   - a rule whose action is the default action is left out (libseccomp refuses it);
 *   - a name libseccomp does not know is skipped (debug log): profiles list syscalls of
 *     newer kernels, as runc and Kata ignore them.
 * Errors: INVALID_ARGUMENT naming the rule for what libseccomp refuses (an action or
 * architecture this kernel or libseccomp cannot do, a program longer than the kernel takes),
 * RESOURCE_EXHAUSTED when out of memory. */
int pd_seccomp_compile(struct pd_seccomp *sc, struct pd_arena *a, struct pd_error *err);

/* Install the compiled filter on the calling process (seccomp(SECCOMP_SET_MODE_FILTER) with
 * the flags of sc). The kernel takes it from a process with no_new_privs set or with
 * CAP_SYS_ADMIN; otherwise PERMISSION_DENIED. Nothing else is called: safe as the very last
 * step before execve. */
int pd_seccomp_load(const struct pd_seccomp *sc, struct pd_error *err);

#endif
