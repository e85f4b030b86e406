/* sandbox_pidns: one pid namespace for every container of the sandbox, held by a process
 * that is pid 1 there and holds nothing of the agent: `pidone` exec'd afresh in a holder
 * mode (pidns_holder_run.c), in namespaces of its own, on an empty read-only root, without
 * capabilities, ids, fds or memory of the agent (docs/security.md). It only reaps (orphans
 * of the containers reparent to it); it ends by SIGKILL from the agent or when the agent
 * dies. Its namespace is pinned by a bind mount on PD_SANDBOX_PIDNS, the path containers
 * join and state.json names. */
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

/* ---- the holder process itself -------------------------------------------------------- */

/* main() runs the holder when argv[0] is this (never set so by the kernel for an init). */
#define PD_PIDNS_HOLDER_ARGV0    "pidns-holder"
/* The pipe's write end of the ready handshake: "r" = ready, "!message" = failed; closed
 * before the holder waits for children. */
#define PD_PIDNS_HOLDER_READY_FD 3

/* The holder: never returns. */
__attribute__((noreturn)) void pd_pidns_holder_main(void);
/* Its root: an empty read-only tmpfs, alone in its mount namespace (pidns_holder_root.c). */
int pd_pidns_holder_empty_root(struct pd_error *err);

#endif
