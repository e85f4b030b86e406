/* poststart and poststop hooks run from the event loop: the agent serves other calls while
 * they run, and StartContainer / RemoveContainer answer when the last one has ended (the
 * runtime-spec's "before the operation returns"). Each hook is a child registered with the
 * process table, its timeout a timerfd in the loop; nothing waits.
 *
 * A run works on its own copy of the hooks and of their state, so a poststop run outlives
 * the container it belongs to. Runs live in a fixed table (PD_HOOK_RUNS_MAX), never freed,
 * as agent/guest/runcmd.c's: an epoll batch may still carry a timer event of a run that
 * ended earlier in the same batch. With the table full, or for DestroySandbox (the agent
 * stops right after it), the hooks run with the loop stopped (hooks_run.h). */
#ifndef PD_SANDBOX_HOOKS_ASYNC_H
#define PD_SANDBOX_HOOKS_ASYNC_H

#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/list.h"
#include "agent/loop.h"

#define PD_HOOK_RUNS_MAX 16

struct pd_hook_run;

/* Copy cfg's hooks of `kind` (poststart or poststop) and their state {status, pid} into a
 * free slot. NULL when there is no such hook, or no free slot (or no memory): the caller
 * then runs them itself with pd_hooks_run_agent, which is a no-op without hooks. */
struct pd_hook_run *pd_hook_run_prepare(const struct pd_container_config *cfg, int kind,
					const char *status, pid_t pid);

/* Run the prepared hooks one after the other from the loop; each failure is a warning, as
 * for pd_hooks_run_agent. The parked calls on `calls` (linked by owner_node) move to the run
 * and get an empty reply when it ends; one whose connection goes is dropped. */
void pd_hook_run_launch(struct pd_hook_run *r, struct pd_loop *loop, struct pd_list *calls);

/* Runs in progress (tests). */
unsigned pd_hook_runs_busy(void);

#endif
