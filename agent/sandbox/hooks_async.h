/* poststart and poststop hooks, run from the event loop (agent/container/hooks_seq.h): the
 * agent serves other calls while they run, and StartContainer / RemoveContainer /
 * DestroySandbox answer when the last one has ended (the runtime-spec's "before the
 * operation returns"). A failing hook is a warning in the log; the next one runs.
 *
 * A run works on its own copy of the hooks and of their state, so a poststop run outlives
 * the container it belongs to. At most PD_HOOK_RUNS_MAX runs at once (a host that removes
 * containers faster than their poststop hooks end cannot make the agent hold more): past
 * it, the hooks of that container do not run, with an error in the log. */
#ifndef PD_SANDBOX_HOOKS_ASYNC_H
#define PD_SANDBOX_HOOKS_ASYNC_H

#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/list.h"
#include "agent/loop.h"

#define PD_HOOK_RUNS_MAX 256

struct pd_hook_run;

/* Copy cfg's hooks of `kind` (poststart or poststop) and their state {status, pid}. NULL
 * when there is no such hook, or they cannot run (too many runs, no memory: logged). */
struct pd_hook_run *pd_hook_run_prepare(const struct pd_container_config *cfg, int kind,
					const char *status, pid_t pid);

/* Run the prepared hooks one after the other from the loop. The parked calls on `calls`
 * (linked by owner_node) move to the run and get an empty reply when it ends; one whose
 * connection goes is dropped. r NULL: the calls are answered now. */
void pd_hook_run_launch(struct pd_hook_run *r, struct pd_loop *loop, struct pd_list *calls);

/* Runs in progress (tests, DestroySandbox). */
unsigned pd_hook_runs_busy(void);

/* fn(data) once no run is left: now if none is, else from the loop when the last ends. */
void pd_hook_runs_when_idle(void (*fn)(void *data), void *data);

#endif
