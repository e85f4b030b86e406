/* The container process's side of a spawn: everything between clone and exec. */
#ifndef PD_CONTAINER_CHILD_H
#define PD_CONTAINER_CHILD_H

#include "agent/container/spawn.h"

/* First thing after the clone, on the child's own copy of the request: keep the sync
 * socket, the request's stdio and, for an exec, the container's namespace and root fds
 * (moved to 3, 4, ...: *sync_fd and req's fds are updated), close every other fd of the
 * agent. An init's and the pid namespace's entries become -1 (an init joins namespaces by
 * path; the agent entered an exec's pid namespace for the clone). 0, or -1 with errno. */
int pd_child_hold_own_fds(struct pd_spawn_request *req, int *sync_fd);

/* req: the child's own copy (its fds are closed and renumbered on the way). */
__attribute__((noreturn)) void pd_child_main(struct pd_spawn_request *req, int sync_fd);

#endif
