/* The agent: everything one pidone process serves with. One instance, made in main(),
 * handed to every RPC handler as call->ctx. */
#ifndef PD_AGENT_H
#define PD_AGENT_H

#include <stdbool.h>

#include "agent/loop.h"
#include "agent/sandbox/sandbox.h"
#include "agent/signals.h"
#include "agent/ttrpc/server.h"
#include "init/config.h"

#define PD_API_VERSION "0.0.1"

struct pd_agent {
	struct pd_config cfg;
	bool is_pid1;
	struct pd_loop loop;
	struct pd_server *server;
	struct pd_signals signals;
	struct pd_sandbox sandbox;
	struct pd_list destroyers; /* parked DestroySandbox calls: answered when all exited */
	bool stopping;
	int exit_status;
};

/* Stop serving once queued replies are out, then shut down (pid 1: power off). */
void pd_agent_request_stop(struct pd_agent *agent, int status, const char *why);

#endif
