/* Container lifecycle on the sandbox's objects: create (spawn the init, held before exec),
 * start, exec, signal, remove. The RPC handlers call these after decoding and checking. */
#ifndef PD_SANDBOX_CONTAINER_H
#define PD_SANDBOX_CONTAINER_H

#include "agent/sandbox/sandbox.h"

/* cfg is taken over (its arena belongs to the container from now on, also on failure).
 * cg: the container's cgroup (pd_rpc_cgroups_prepare), not owned; NULL = none. */
int pd_container_create(struct pd_sandbox *sb, const char *exec_id, struct pd_container_config *cfg,
			struct pd_cgroup *cg, struct pd_container **out, struct pd_error *err);
int pd_container_start(struct pd_container *ctr, struct pd_error *err);
/* arena (holding proc) is taken over, also on failure. */
int pd_container_exec(struct pd_container *ctr, const char *exec_id, struct pd_arena *arena,
		      struct pd_process_config *proc, struct pd_error *err);
/* SignalProcess semantics: exec_id "" = the init; "" + SIGKILL = every process; SIGTERM
 * to an init that does not handle it becomes SIGKILL. */
int pd_container_signal(struct pd_container *ctr, const char *exec_id, int sig,
			struct pd_error *err);
/* SIGKILL every process of the container. */
void pd_container_kill_all(struct pd_container *ctr);
/* True once every process of the container has been reaped. */
bool pd_container_all_exited(const struct pd_container *ctr);
/* Tear down (all processes must have exited): stdio, pinned namespaces, state, memory. */
void pd_container_destroy(struct pd_container *ctr);
/* Forget an exec'd process after its exit was reported (WaitProcess). */
void pd_task_release(struct pd_task *t);

/* Rewrite or remove the container's state.json (best effort, logged). */
void pd_container_save_state(struct pd_container *ctr);
void pd_container_remove_state(struct pd_container *ctr);

#endif
