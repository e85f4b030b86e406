/* A container's processes (tasks) as the sandbox keeps them — private to agent/sandbox/:
 * their stdio, their exit from the process table, and the operation in flight on their
 * spawn (create, start, exec) with the call parked on it.
 *
 * While an operation is in flight, the task's exit status goes to the spawn (a child that
 * dies in its set-up fails the operation); the task's own end (WaitProcess, the container
 * stopped) follows once the operation has reported, in the same loop turn. */
#ifndef PD_SANDBOX_TASK_H
#define PD_SANDBOX_TASK_H

#include "agent/sandbox/sandbox.h"

struct pd_task *pd_task_new(struct pd_container *ctr, const char *exec_id, bool init);
/* Fail its parked calls, kill a child still in set-up, close everything, free. */
void pd_task_free(struct pd_task *t);

/* Open the task's stdio, clone its process (req filled here with stdio, timeouts, the
 * loop) and begin `op` (CREATE or EXEC); its end comes through sb->on_op_done. */
int pd_task_spawn(struct pd_task *t, int op, struct pd_spawn_request *req, int64_t deadline_ns,
		  struct pd_error *err);
/* Begin START on a held init. */
int pd_task_start(struct pd_task *t, int64_t deadline_ns, struct pd_error *err);

/* container.c: the init reported READY; make the container a created one (its namespaces
 * pinned, in sb->containers, state.json written). -1: it is not (the caller fails CREATE). */
int pd_container_ready(struct pd_container *ctr, struct pd_error *err);

#endif
