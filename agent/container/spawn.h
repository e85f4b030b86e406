/* Starting a container process: clone into (or join) the container's namespaces, set the
 * process up in the child, and hold it on a sync socket until it is told to exec.
 *
 * Single-threaded agent, so a plain clone with a socketpair does what Kata re-execs itself
 * for. The sync socket is close-on-exec in the child: after START, EOF on it means the
 * exec succeeded; a setup or exec error arrives as a message (errno, code, text naming
 * the step and path) — errors cross the fork. */
#ifndef PD_CONTAINER_SPAWN_H
#define PD_CONTAINER_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup/cgroup.h"
#include "agent/container/config.h"
#include "agent/error.h"

struct pd_spawn_request {
	const struct pd_container_config *cfg; /* init: the container's config */
	const struct pd_process_config *proc;  /* the process to run */
	bool init;                             /* new namespaces + rootfs; else join */
	int ns_fds[PD_NS_COUNT];               /* join: the container's pinned namespaces, -1 = skip */
	int root_fd;                           /* join: the container's root directory */
	int stdio[3];                          /* the child's 0, 1, 2; -1 = /dev/null */
	bool no_pivot;                         /* "/" is an initramfs */
	int timeout_ms;                        /* for the child to report ready */
	int64_t deadline_ns; /* the RPC's (CLOCK_MONOTONIC), 0 = none: the agent's one loop
			      * waits for the child no longer than its caller does */
	struct pd_cgroup *cgroup;              /* the container's cgroup, NULL = none: the
						* child is in it before it runs (v2: clone3
						* CLONE_INTO_CGROUP; v1: it enters first) */
	/* init with hooks: called when the child reports PD_SYNC_HOOKS (its namespaces
	 * exist, its rootfs is not set up yet) to run prestart and createRuntime hooks;
	 * hooks_ms is added to timeout_ms for the child's createContainer hooks. */
	int (*run_hooks)(void *data, pid_t pid, struct pd_error *err);
	void *hooks_data;
	int hooks_ms;
};

struct pd_spawned {
	pid_t pid;
	int sync_fd; /* parent's end; -1 once the process has exec'd */
};

/* Clone and set up the child; returns when it is ready to exec (or failed: then it has
 * been killed and reaped... by the process table, since the caller registers the pid). */
int pd_spawn(const struct pd_spawn_request *req, struct pd_spawned *out, struct pd_error *err);

/* ms, shortened to what is left before deadline_ns (0 = none), at least 1. */
int pd_spawn_bound_ms(int64_t deadline_ns, int ms);

/* Tell a ready child to exec and wait for the outcome. */
int pd_spawn_start(struct pd_spawned *s, int timeout_ms, struct pd_error *err);

/* Forget a child that will never be started (closing the socket makes it exit). */
void pd_spawn_abandon(struct pd_spawned *s);

#endif
