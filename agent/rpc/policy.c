/* SetPolicy: replace the agent policy (agent/policy.c, docs/policy.md). The call itself has
 * already passed the policy in force at the gate, like any other. */
#include "rpc.h"

#include <string.h>

#include "agent.pb-c.h"
#include "agent/log.h"
#include "agent/policy.h"

static int rpc_set_policy(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	const Grpc__SetPolicyRequest *req = (const void *)msg;
	const char *text = req->policy ? req->policy : "";
	if (pd_policy_set(text, strlen(text), err) < 0)
		return -1; /* the old policy stays */
	pd_info("policy set", "rules=%zu bytes=%zu", pd_policy_rule_count(), strlen(text));
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_policy[] = {
    {"SetPolicy", rpc_set_policy},
    {NULL, NULL},
};
