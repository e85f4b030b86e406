/* The process table owns exit statuses. The SIGCHLD handler reaps every child with
 * waitpid(-1, WNOHANG) and hands each status to whoever registered that pid. Nothing else
 * in pidone calls waitpid: a hook, a helper or a container process registers its pid and
 * is told — so there is no race between reaping and waiting. */
#ifndef PD_PROCTABLE_H
#define PD_PROCTABLE_H

#include <sys/types.h>

#include "error.h"
#include "list.h"

struct pd_proc_watch;
/* status is the raw wait status (WIFEXITED etc.). */
typedef void (*pd_proc_exit_fn)(struct pd_proc_watch *w, int status);

/* Embedded in the owner; registered until its exit is delivered or it is cancelled. */
struct pd_proc_watch {
	pid_t pid;
	pd_proc_exit_fn on_exit;
	struct pd_list node;
};

void pd_proctable_init(void);
/* Register a child. Call right after fork/clone, before returning to the loop. */
void pd_proc_watch_add(struct pd_proc_watch *w, pid_t pid, pd_proc_exit_fn on_exit);
void pd_proc_watch_cancel(struct pd_proc_watch *w);

/* Reap everything that has exited; called on SIGCHLD. Returns the number reaped. */
int pd_proctable_reap(void);

/* Exit code as the Kata API reports it: the status, or 128 + signal. */
int pd_exit_code(int wait_status);

#endif
