/* agent.log_vport: the agent's log lines also go to whoever connects to this vsock port
 * (the runtime's log reader), one connection at a time, the newest replacing the last. */
#ifndef PD_LOGPORT_H
#define PD_LOGPORT_H

#include "agent/error.h"
#include "agent/loop.h"

int pd_logport_open(struct pd_loop *loop, unsigned port, struct pd_error *err);

#endif
