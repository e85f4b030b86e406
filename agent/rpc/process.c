/* ExecProcess, SignalProcess, WaitProcess. */
#include "rpc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/container/process.h"
#include "agent/container/validate.h"
#include "agent/log.h"
#include "agent/rpc/cgroups.h"
#include "agent/rpc/lookup.h"
#include "agent/rpc/oci_spec.h"
#include "agent/sandbox/container.h"

static int rpc_exec_process(struct pd_call *call, const ProtobufCMessage *msg,
			    struct pd_error *err)
{
	const Grpc__ExecProcessRequest *req = (const void *)msg;
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr || pd_validate_exec_id(req->exec_id, err) < 0)
		return -1;
	if (!req->process)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "ExecProcess without a process");
	struct pd_arena arena;
	pd_arena_init(&arena, PD_CONFIG_BYTES);
	struct pd_process_config *proc = pd_arena_alloc(&arena, sizeof(*proc));
	if (!proc || pd_oci_process_to_config(req->process, &arena, proc, err) < 0 ||
	    pd_process_config_check(proc, err) < 0) {
		if (!proc)
			pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "out of memory");
		pd_arena_free(&arena);
		return -1;
	}
	struct pd_task *t;
	if (pd_container_exec(ctr, req->exec_id, &arena, proc, call->deadline_ns, &t, err) < 0)
		return -1;
	return pd_rpc_park_op(call, t);
}

/* The exec happened, or it never will: then the process is forgotten (its id free again)
 * and a removal or DestroySandbox that waited for it may finish. */
void pd_rpc_exec_done(struct pd_task *t, struct pd_list *calls, const struct pd_error *err)
{
	struct pd_container *ctr = t->ctr;
	if (!err) {
		pd_info("process started", "cid=%s eid=%s pid=%d", ctr->id, t->exec_id, (int)t->pid);
		pd_rpc_answer_op(calls, NULL, NULL);
		return;
	}
	char what[2 * PD_ID_MAX + 16];
	snprintf(what, sizeof(what), "exec %s in %s", t->exec_id, ctr->id);
	pd_rpc_answer_op(calls, err, what);
	pd_task_release(t);
	pd_rpc_sandbox_settled(pd_container_of(ctr->sb, struct pd_agent, sandbox), ctr);
}

static int rpc_signal_process(struct pd_call *call, const ProtobufCMessage *msg,
			      struct pd_error *err)
{
	const Grpc__SignalProcessRequest *req = (const void *)msg;
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr || pd_container_signal(ctr, req->exec_id, (int)req->signal, err) < 0)
		return -1;
	if (!req->exec_id[0] && req->signal == SIGKILL) /* "all": the whole cgroup too (Kata) */
		pd_rpc_cgroups_kill_all(ctr);
	pd_call_reply(call, NULL);
	return 0;
}

static void reply_status(struct pd_call *call, int status)
{
	Grpc__WaitProcessResponse resp = GRPC__WAIT_PROCESS_RESPONSE__INIT;
	resp.status = status;
	pd_call_reply(call, &resp.base);
}

static void waiter_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

static int rpc_wait_process(struct pd_call *call, const ProtobufCMessage *msg,
			    struct pd_error *err)
{
	const Grpc__WaitProcessRequest *req = (const void *)msg;
	struct pd_task *t = pd_rpc_task(call, req->container_id, req->exec_id, err);
	if (!t)
		return -1;
	if (t->exited) {
		reply_status(call, t->exit_code);
		pd_task_release(t); /* an exec is forgotten once its exit was reported */
		return 0;
	}
	call->on_cancel = waiter_cancel;
	pd_list_add_tail(&t->waiters, &call->owner_node);
	return PD_RPC_PARKED;
}

/* A process was reaped: answer everyone waiting on it. */
void pd_rpc_process_exited(struct pd_task *t)
{
	bool had_waiters = !pd_list_empty(&t->waiters);
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &t->waiters)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		reply_status(call, t->exit_code);
	}
	if (had_waiters && !t->ctr->removing)
		pd_task_release(t);
}

const struct pd_rpc_entry pd_rpc_process[] = {
	{"ExecProcess", rpc_exec_process},
	{"SignalProcess", rpc_signal_process},
	{"WaitProcess", rpc_wait_process},
	{NULL, NULL},
};
