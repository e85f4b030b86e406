/* grpc.Health: Check says SERVING while the loop runs; Version names us and the API. */
#include "rpc.h"

#include "health.pb-c.h"

static int rpc_check(struct pd_call *call, const ProtobufCMessage *req, struct pd_error *err)
{
	Grpc__HealthCheckResponse resp = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	resp.status = pd_call_agent(call)->stopping
			      ? GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
			      : GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	pd_call_reply(call, &resp.base);
	return 0;
}

static int rpc_version(struct pd_call *call, const ProtobufCMessage *req, struct pd_error *err)
{
	Grpc__VersionCheckResponse resp = GRPC__VERSION_CHECK_RESPONSE__INIT;
	resp.agent_version = (char *)PD_VERSION;
	resp.grpc_version = (char *)PD_API_VERSION;
	pd_call_reply(call, &resp.base);
	return 0;
}

const struct pd_rpc_entry pd_rpc_health[] = {
	{"Check", rpc_check},
	{"Version", rpc_version},
	{NULL, NULL},
};
