/* Finding what a request names, with the errors the host should see. */
#ifndef PD_RPC_LOOKUP_H
#define PD_RPC_LOOKUP_H

#include "agent/rpc/rpc.h"
#include "agent/sandbox/sandbox.h"

struct pd_container *pd_rpc_find_container(struct pd_call *call, const char *id, struct pd_error *err);
struct pd_task *pd_rpc_task(struct pd_call *call, const char *cid, const char *exec_id,
			    struct pd_error *err);

#endif
