/* GetMetrics: Prometheus text of the agent's and the guest's figures (agent/metrics.c). */
#include "rpc.h"

#include <stdlib.h>

#include "agent.pb-c.h"
#include "agent/metrics.h"

static int rpc_get_metrics(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	static uint64_t scrapes;
	struct pd_agent *agent = pd_call_agent(call);
	struct pd_server_stats stats;
	pd_server_get_stats(agent->server, &stats);
	struct pd_metrics_input in = {.proc = "/proc", .scrapes = ++scrapes, .server = &stats};
	in.calls = pd_server_call_counts(agent->server, &in.n_calls);
	char *text;
	size_t len;
	if (pd_metrics_render(&in, &text, &len, err) < 0)
		return -1;
	Grpc__Metrics resp = GRPC__METRICS__INIT;
	resp.metrics = text;
	pd_call_reply(call, &resp.base);
	free(text);
	return 0;
}

const struct pd_rpc_entry pd_rpc_metrics[] = {
    {"GetMetrics", rpc_get_metrics},
    {NULL, NULL},
};
