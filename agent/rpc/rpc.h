/* RPC handlers, one file per area of the API. Each area exports a table of
 * {method name, handler}; table.c lays them out in the order of the service descriptors
 * so that every method of the proto has a row, built or not. */
#ifndef PD_RPC_H
#define PD_RPC_H

#include "agent/agent.h"
#include "agent/ttrpc/server.h"

struct pd_rpc_entry {
	const char *method;
	pd_rpc_fn fn;
};

/* Area tables, each ended by {NULL, NULL}. */
extern const struct pd_rpc_entry pd_rpc_health[];
extern const struct pd_rpc_entry pd_rpc_sandbox[];
extern const struct pd_rpc_entry pd_rpc_container[];
extern const struct pd_rpc_entry pd_rpc_process[];
extern const struct pd_rpc_entry pd_rpc_stream[];
extern const struct pd_rpc_entry pd_rpc_shared_mounts[];
extern const struct pd_rpc_entry pd_rpc_diagnostic[];
extern const struct pd_rpc_entry pd_rpc_guest[];
extern const struct pd_rpc_entry pd_rpc_copyfile[];
extern const struct pd_rpc_entry pd_rpc_metrics[];
extern const struct pd_rpc_entry pd_rpc_policy[];
extern const struct pd_rpc_entry pd_rpc_network[];
extern const struct pd_rpc_entry pd_rpc_cgroups[];

/* Wire the sandbox's events to the handlers (call once at start). */
void pd_rpc_sandbox_init(struct pd_agent *agent);
/* Events from the sandbox, in the handlers' files. */
void pd_rpc_process_exited(struct pd_task *t);
void pd_rpc_container_task_exited(struct pd_container *ctr);
/* sb->on_op_done: a create, start or exec ended (container.c; the exec's in process.c). */
void pd_rpc_op_done(struct pd_task *t, int op, struct pd_list *calls, const struct pd_error *err);
void pd_rpc_exec_done(struct pd_task *t, struct pd_list *calls, const struct pd_error *err);
/* Something that DestroySandbox or a RemoveContainer may wait for went away (a create that
 * failed, an exec that never ran): finish them if it was the last (ctr: the container
 * whose removal to check, or NULL). */
void pd_rpc_sandbox_settled(struct pd_agent *agent, struct pd_container *ctr);

/* Park call on the operation begun on t (create, start, exec): the operation's own timer
 * keeps the caller's deadline — it answers DEADLINE_EXCEEDED naming the step, the server
 * does not. Returns PD_RPC_PARKED. */
int pd_rpc_park_op(struct pd_call *call, struct pd_task *t);
/* Answer the calls of an operation: empty on success, else err prefixed with context. */
void pd_rpc_answer_op(struct pd_list *calls, const struct pd_error *err, const char *context);

/* Build the services the agent answers (grpc.Health, grpc.AgentService). The arrays are
 * allocated once for the life of the process. */
int pd_rpc_services(struct pd_agent *agent, const struct pd_service **services, unsigned *n,
		    struct pd_error *err);

/* The agent of a call. */
static inline struct pd_agent *pd_call_agent(const struct pd_call *call)
{
	return call->ctx;
}

#endif
