#include "lookup.h"

#include "agent/sandbox/container.h"

struct pd_container *pd_rpc_find_container(struct pd_call *call, const char *id, struct pd_error *err)
{
	struct pd_container *ctr = pd_sandbox_find(&pd_call_agent(call)->sandbox, id);
	if (!ctr)
		pd_error_set(err, PD_NOT_FOUND, 0, "container '%.128s' not found", id);
	return ctr;
}

struct pd_task *pd_rpc_task(struct pd_call *call, const char *cid, const char *exec_id,
			    struct pd_error *err)
{
	struct pd_container *ctr = pd_rpc_find_container(call, cid, err);
	if (!ctr)
		return NULL;
	struct pd_task *t = pd_container_find_task(ctr, exec_id);
	if (!t)
		pd_error_set(err, PD_NOT_FOUND, 0, "process '%.128s' not found in container '%s'",
			     exec_id, cid);
	return t;
}
