/* sandbox_pidns: one pid namespace for every container of the sandbox, held by a minimal
 * process that is pid 1 there. It only reaps (orphans of the containers reparent to it),
 * exits on SIGTERM or when the agent dies, and its namespace is pinned by a bind mount on
 * PD_SANDBOX_PIDNS, the path containers join and state.json names. */
#ifndef PD_SANDBOX_PIDNS_HOLDER_H
#define PD_SANDBOX_PIDNS_HOLDER_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent/error.h"
#include "agent/proctable.h"

struct pd_pidns_holder {
	bool wanted; /* started once and not stopped: containers join PD_SANDBOX_PIDNS */
	pid_t pid;   /* 0 = none (never started, stopped, or it exited) */
	bool pinned; /* PD_SANDBOX_PIDNS is our bind mount */
	struct pd_proc_watch watch;
};

/* Start the holder and pin its namespace, unless it runs. A holder that died (killed: its
 * namespace, and every process in it, died with it) is replaced by a new one. Nothing is
 * left behind on failure. */
int pd_pidns_holder_start(struct pd_pidns_holder *h, struct pd_error *err);
/* Kill it (its namespace's every process dies with it) and remove the pin. */
void pd_pidns_holder_stop(struct pd_pidns_holder *h);

#endif
