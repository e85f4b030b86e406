/* The container process's last steps: credentials, limits, capabilities, cwd, then exec.
 *
 * pd_process_setup and pd_process_exec run in the cloned child, never in the agent: they
 * change the calling process for good. The order and the reasons for it: docs/process.md. */
#ifndef PD_CONTAINER_PROCESS_H
#define PD_CONTAINER_PROCESS_H

#include "agent/container/config.h"
#include "agent/error.h"

/* Runs in the container process first of all, before it joins or makes a user namespace
 * (with the agent's privileges: lowering the score needs CAP_SYS_RESOURCE in the initial
 * user namespace): oom_score_adj, the spec's or 0, through /proc/self/oom_score_adj, which
 * must be on a procfs. Errors name the step: "oom_score_adj -999: ...". */
int pd_process_oom_score(const struct pd_process_config *p, struct pd_error *err);

/* Runs in the container process (single-threaded, root, root dir = the container rootfs):
 * rlimits, setgroups(additional gids) + setresgid + setresuid,
 * then, when p->has_caps, the five capability sets exactly as asked (bounding, then
 * permitted/effective/inheritable, then ambient), then no_new_privs when asked, then
 * chdir(cwd). Capability numbers the running kernel does not know are skipped; an ambient
 * capability that is not both permitted and inheritable is skipped (the kernel could not
 * raise it; runc and Kata warn and go on). When p->has_caps is false the capabilities are
 * left to the kernel's rules: a root process keeps them, a change to a non-root uid clears
 * them. Errors name the step: "setresuid 1000", "capset", "rlimit RLIMIT_NOFILE",
 * "chdir /work". */
int pd_process_setup(const struct pd_process_config *p, struct pd_error *err);

/* Resolve p->args[0] on the PATH of p->env (the default
 * "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" when env has none; an
 * args[0] containing '/' is used as is) and execve it with exactly p->env, plus HOME (the
 * user's home from the container's /etc/passwd, else "/") when env has no HOME. Returns
 * only on failure: -1 with err naming the binary (NOT_FOUND "executable file 'x' not found
 * in $PATH", PERMISSION_DENIED when it exists but may not be executed). With `seccomp`
 * (compiled, seccomp.h) the filter is installed between the look-up and execve: the caller
 * passes it when no_new_privs is on, so the process needs no privilege for it. */
int pd_process_exec(const struct pd_process_config *p, const struct pd_seccomp *seccomp,
		    struct pd_error *err);

/* Check a process config before anything is spawned (the RPC layer calls this): args,
 * env "K=V", absolute cwd, uid/gid not -1, known capabilities only (< pd_cap_count()),
 * known rlimits with soft <= hard, oom_score_adj in [-1000, 1000], counts within the
 * PD_MAX_* limits. INVALID_ARGUMENT naming the field otherwise. */
int pd_process_config_check(const struct pd_process_config *p, struct pd_error *err);

#endif
