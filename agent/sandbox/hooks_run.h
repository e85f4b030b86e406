/* OCI hooks that run in the agent's namespaces, waited for with the loop stopped: prestart
 * and createRuntime (from the spawn, while the container child waits before its rootfs),
 * and poststart / poststop when they cannot run from the loop (hooks_async.h: its table is
 * full, or DestroySandbox).
 *
 * Each hook is a child of the agent registered with the process table; its exit status
 * comes from there (pd_proctable_reap_pid), never from a waitpid of our own. The agent
 * waits for it with the loop stopped, at most the hook's timeout (then SIGKILL): a bounded,
 * synchronous wait like the spawn's own sync socket — see docs/hooks.md for the cost. */
#ifndef PD_SANDBOX_HOOKS_RUN_H
#define PD_SANDBOX_HOOKS_RUN_H

#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/error.h"

/* Run cfg's hooks of `kind` in order with the state {status, pid}. prestart and
 * createRuntime stop at the first failure and return it (the error names the hook);
 * poststart and poststop log a warning per failure, run the rest and return 0. */
int pd_hooks_run_agent(const struct pd_container_config *cfg, int kind, const char *status,
		       pid_t pid, struct pd_error *err);

#endif
