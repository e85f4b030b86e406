/* The agent's own OCI hooks run from the event loop, one after the other: prestart and
 * createRuntime in the middle of a spawn (spawn.h), poststart and poststop for the sandbox
 * (agent/sandbox/hooks_async.h). Each hook is a child of the agent registered with the
 * process table, which hands over its exit status; its timeout (the hook's own `timeout`)
 * is a timerfd in the loop. Nothing waits: the loop serves everything else meanwhile.
 *
 * A run belongs to its owner (embedded), who sets the fields marked so, starts it, and
 * either hears its end through done or cancels it. done runs from the loop, never from
 * inside pd_hook_seq_start, and it may free the run. */
#ifndef PD_CONTAINER_HOOKS_SEQ_H
#define PD_CONTAINER_HOOKS_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/container/hooks.h"
#include "agent/error.h"
#include "agent/loop.h"
#include "agent/proctable.h"

struct pd_hook_seq;

/* The end of a run: err NULL when every hook passed, or when must_pass is off (each failure
 * is then a warning in the log and the next hook runs). */
typedef void (*pd_hook_seq_done_fn)(struct pd_hook_seq *s, const struct pd_error *err);

struct pd_hook_seq {
	/* The owner's, before pd_hook_seq_start. hooks must stay valid while the run lives. */
	const struct pd_hooks *hooks;
	int kinds[2];	/* run in this order; -1 = none */
	bool must_pass; /* stop at the first failure and report it */
	char cid[PD_ID_MAX + 1];
	pd_hook_seq_done_fn done;
	/* The run's own. */
	struct pd_loop *loop;
	int k;	      /* index in kinds of the hook running */
	size_t next;  /* the next hook of kinds[k] */
	int state_fd; /* -1 when idle */
	pid_t pid;    /* the hook running, 0 = none */
	bool timed_out;
	struct pd_proc_watch proc;
	struct pd_watch timer; /* fd -1 when idle */
};

/* Before the first start (fds -1, no hook). */
void pd_hook_seq_init(struct pd_hook_seq *s);

/* Start the hooks of s->kinds with `state` on their stdin. 1: there was nothing to run
 * (done is not called); 0: running, done comes from the loop; -1: nothing runs (err). */
int pd_hook_seq_start(struct pd_hook_seq *s, struct pd_loop *loop, const char *state, size_t len,
		      struct pd_error *err);

/* True between a start that returned 0 and its done or cancel. */
bool pd_hook_seq_busy(const struct pd_hook_seq *s);

/* The hook running as a step name: "prestart hook 0 (/usr/bin/x)"; "" when idle. */
const char *pd_hook_seq_step(const struct pd_hook_seq *s, char *buf, size_t size);

/* Stop: SIGKILL to the hook running and its process group (the table reaps it as an
 * orphan), close the run's fds. done is not called. A no-op on an idle run. */
void pd_hook_seq_cancel(struct pd_hook_seq *s);

#endif
