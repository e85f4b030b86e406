/* Container lifecycle on the sandbox's objects: create (spawn the init, held before exec),
 * start, exec, signal, remove. The RPC handlers call these after decoding and checking. */
#ifndef PD_SANDBOX_CONTAINER_H
#define PD_SANDBOX_CONTAINER_H

#include "agent/sandbox/sandbox.h"

struct pd_call;

/* Begin creating a container: its init is cloned and sets itself up from the loop (its
 * prestart and createRuntime hooks too). cfg is taken over (its arena belongs to the
 * container from now on, also on failure). cg: the container's cgroup
 * (pd_rpc_cgroups_prepare), not owned; NULL = none. deadline_ns: the caller's (0 = none).
 * 0: *out is on sb->creating, and sb->on_op_done(init, PD_TASK_OP_CREATE, ...) comes from
 * the loop later — with the container created and in sb->containers, or with an error and
 * the container for the RPC layer to destroy. -1: nothing was begun, nothing is left. */
int pd_container_create(struct pd_sandbox *sb, const char *exec_id, struct pd_container_config *cfg,
			struct pd_cgroup *cg, int64_t deadline_ns, struct pd_container **out,
			struct pd_error *err);
/* DestroySandbox: end a create in flight (its init is killed; on_op_done reports `why`). */
void pd_container_abort_create(struct pd_container *ctr, const struct pd_error *why);
/* Begin StartContainer: START to the held init; PD_TASK_OP_START reports its exec. */
int pd_container_start(struct pd_container *ctr, int64_t deadline_ns, struct pd_error *err);
/* Begin ExecProcess: arena (holding proc) is taken over, also on failure. 0: *out is a task
 * of the container (found by its id, counted), PD_TASK_OP_EXEC reports its exec. */
int pd_container_exec(struct pd_container *ctr, const char *exec_id, struct pd_arena *arena,
		      struct pd_process_config *proc, int64_t deadline_ns, struct pd_task **out,
		      struct pd_error *err);
/* Park call on the operation in flight on t; the RPC layer answers it in on_op_done. If its
 * connection goes first, a create or an exec is aborted (the host never learns of the
 * process, so it must not run); a start goes on. */
void pd_task_park_op(struct pd_task *t, struct pd_call *call);
/* SignalProcess semantics: exec_id "" = the init; "" + SIGKILL = every process; SIGTERM
 * to an init that does not handle it becomes SIGKILL. */
int pd_container_signal(struct pd_container *ctr, const char *exec_id, int sig,
			struct pd_error *err);
/* SIGKILL every process of the container. */
void pd_container_kill_all(struct pd_container *ctr);
/* True once every process of the container has been reaped. */
bool pd_container_all_exited(const struct pd_container *ctr);
/* Tear down (all processes must have exited): stdio, pinned namespaces, state, memory.
 * Calls still parked on it are failed; the poststop hooks are the caller's
 * (hooks_async.h). */
void pd_container_destroy(struct pd_container *ctr);
/* Forget an exec'd process after its exit was reported (WaitProcess). */
void pd_task_release(struct pd_task *t);

/* Rewrite or remove the container's state.json (best effort, logged). */
void pd_container_save_state(struct pd_container *ctr);
void pd_container_remove_state(struct pd_container *ctr);

#endif
