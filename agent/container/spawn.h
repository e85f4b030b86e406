/* Starting a container process: clone into (or join) the container's namespaces, set the
 * process up in the child, and hold it on a sync socket until it is told to exec.
 *
 * Single-threaded agent, so a plain clone with a socketpair does what Kata re-execs itself
 * for. The sync socket is close-on-exec in the child: after START, EOF on it means the
 * exec succeeded; a setup or exec error arrives as a message (errno, code, text naming
 * the step and path) — errors cross the fork.
 *
 * Nothing here waits: a spawn is a small state machine driven by the event loop
 * (spawn_events.c). pd_spawn_begin clones and returns; the child's messages arrive on the
 * sync socket, a watch in the loop; the prestart and createRuntime hooks run from the loop
 * (hooks_seq.h) when the child stops for them; deadlines are a timerfd. The end of each
 * operation (set-up to READY, or START to the exec) is reported through done, from the
 * loop, never from inside the call that began it:
 *
 *   begin ─clone─► SETUP ─HOOKS─► HOOKS (prestart, createRuntime) ─RESUME─► SETUP
 *     SETUP ─READY─► HELD (done: ready)       or, with start_at_ready, ─START─► STARTING
 *     HELD ─pd_spawn_start─► STARTING ─EOF─► EXEC'D (done: started)
 *     any error, a deadline, abort ─SIGKILL─► KILLING ─the child's exit─► (done: error)
 *
 * The owner registers the child's pid with the process table right after pd_spawn_begin
 * and, while pd_spawn_busy(), hands its exit status to pd_spawn_child_exited instead of
 * treating it as the process's end: a child that dies during set-up fails the operation. */
#ifndef PD_CONTAINER_SPAWN_H
#define PD_CONTAINER_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup/cgroup.h"
#include "agent/container/config.h"
#include "agent/container/hooks_seq.h"
#include "agent/error.h"
#include "agent/loop.h"

struct pd_spawn_request {
	const struct pd_container_config *cfg; /* init: the container's config */
	const struct pd_process_config *proc;  /* the process to run */
	bool init;                             /* new namespaces + rootfs; else join */
	int ns_fds[PD_NS_COUNT];               /* join: the container's pinned namespaces, -1 = skip */
	int root_fd;                           /* join: the container's root directory */
	int stdio[3];                          /* the child's 0, 1, 2; -1 = /dev/null */
	bool no_pivot;                         /* "/" is an initramfs */
	int timeout_ms;                        /* for the child to report ready, to exec */
	int64_t deadline_ns; /* the RPC's (CLOCK_MONOTONIC), 0 = none: the operation ends
			      * (DEADLINE_EXCEEDED) no later than its caller stops waiting */
	struct pd_cgroup *cgroup;              /* the container's cgroup, NULL = none: the
						* child is in it before it runs (v2: clone3
						* CLONE_INTO_CGROUP; v1: it enters first) */
	bool start_at_ready;                   /* an exec: START as soon as READY comes */
};

enum pd_spawn_phase {
	PD_SPAWN_IDLE,	   /* nothing cloned, or the process has exec'd */
	PD_SPAWN_SETUP,	   /* the child sets itself up; waiting for HOOKS, READY */
	PD_SPAWN_HOOKS,	   /* prestart/createRuntime run; the child waits for RESUME */
	PD_SPAWN_HELD,	   /* READY: the child waits for START */
	PD_SPAWN_STARTING, /* START sent; waiting for the exec (EOF) */
	PD_SPAWN_KILLING,  /* failed: the child was killed, its exit is awaited */
};

struct pd_spawn;
/* The end of an operation: err NULL when it succeeded. Runs from the loop; may free s. */
typedef void (*pd_spawn_done_fn)(struct pd_spawn *s, const struct pd_error *err);

/* Embedded in the owner (a task). */
struct pd_spawn {
	pd_spawn_done_fn done; /* the owner's */
	pid_t pid;	       /* the child, 0 = none */
	int phase;	       /* enum pd_spawn_phase */
	struct pd_loop *loop;
	const struct pd_container_config *cfg; /* init: its hooks and state */
	bool start_at_ready;
	struct pd_watch sync;  /* the parent's end; fd -1 once the process has exec'd */
	bool sync_watched;
	struct pd_watch timer; /* the deadline of the phase, then of the kill */
	char *steps;	   /* the page the child names its set-up step in (sync.h) */
	const char *what;  /* "set-up", "start": for the deadline's message */
	int64_t began_ns;  /* when the operation began */
	int64_t deadline_ns; /* the caller's, 0 = none */
	int timeout_ms;
	int64_t hooks_ms;  /* the budget of the child's createContainer hooks */
	struct pd_hook_seq hooks;
	struct pd_error failure; /* KILLING: what to report once the child is gone */
};

/* Before anything else (nothing cloned, fds -1). */
void pd_spawn_init(struct pd_spawn *s);

/* Clone and start the set-up: 0 with s->pid set (done comes later: READY, or the exec with
 * start_at_ready, or a failure), -1 when nothing was cloned. req is only read during the
 * call (the child has its copy); req->cfg must outlive the operation. */
int pd_spawn_begin(struct pd_spawn *s, struct pd_loop *loop, const struct pd_spawn_request *req,
		   struct pd_error *err);

/* Tell a HELD child to exec: 0 and done comes later (the exec, or its error), -1 (err) when
 * the child could not be told. The deadline as for begin; timeout_ms includes the
 * startContainer hooks the child runs before its exec. */
int pd_spawn_start(struct pd_spawn *s, int64_t deadline_ns, int timeout_ms, struct pd_error *err);

/* An operation is in flight (done is still to come). */
bool pd_spawn_busy(const struct pd_spawn *s);

/* The owner's process-table callback, while busy: the child is gone. */
void pd_spawn_child_exited(struct pd_spawn *s, int status);

/* End the operation in flight with `why`: the child is killed, done comes with `why` once
 * it has died (or after a bounded wait for it). A no-op unless busy. */
void pd_spawn_abort(struct pd_spawn *s, const struct pd_error *why);

/* Forget everything at once (the owner is going away): a child still in set-up is killed,
 * hooks running are killed, fds closed; done is not called. The pid stays the owner's. */
void pd_spawn_release(struct pd_spawn *s);

/* spawn.c → spawn_events.c: the child exists, arm the set-up. */
void pd_spawn_events_begin(struct pd_spawn *s, const struct pd_spawn_request *req);

#endif
