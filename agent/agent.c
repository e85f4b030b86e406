#include "agent.h"

#include "agent/log.h"

static void stop_loop(void *data)
{
	struct pd_agent *agent = data;
	pd_loop_stop(&agent->loop);
}

void pd_agent_request_stop(struct pd_agent *agent, int status, const char *why)
{
	if (agent->stopping)
		return;
	pd_info("stopping", "why=%s", why);
	agent->stopping = true;
	agent->exit_status = status;
	pd_server_stop_after_flush(agent->server, stop_loop, agent);
}
