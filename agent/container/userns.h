/* A container's own user namespace, made by the clone with its other new namespaces (so
 * that it owns them all: mounts, /proc, hostname work inside). Both sides of the spawn:
 *   agent: stdio chowned to the process's mapped host ids before the clone; after it, the
 *          child's uid_map and gid_map written, then PD_SYNC_MAPPED sent;
 *   child: waits for PD_SYNC_MAPPED first thing, then becomes root of the namespace.
 * A user namespace joined by path is entered by the child after its rootfs (below).
 * setgroups stays "allow": the agent is root in the parent namespace, it may write a
 * gid_map without denying it, and the container's setgroups keeps working. */
#ifndef PD_CONTAINER_USERNS_H
#define PD_CONTAINER_USERNS_H

#include "agent/container/spawn.h"

/* Agent, before the clone: the stdio a container process gets is owned by the host ids its
 * uid and gid map to, so that it may reopen it (/dev/stdout) inside. */
int pd_userns_chown_stdio(const struct pd_spawn_request *req, struct pd_error *err);

/* Agent, after the clone of an init with a new user namespace: write its maps, tell it. */
int pd_userns_map_child(const struct pd_spawn_request *req, pid_t pid, int sync_fd,
			struct pd_error *err);

/* Child: wait for the maps, then setresgid/setresuid(0): the files it creates while it sets
 * up the rootfs (on the tmpfs of /dev, say) then belong to the container's root. */
int pd_userns_become_root(const struct pd_spawn_request *req, int sync_fd, struct pd_error *err);

/* Child (init), a user namespace joined by path: open it while its path is the agent's
 * view (*fd = -1 when there is none), and enter it once the rootfs is set up: the agent's
 * root makes the mounts and nodes (no capability over the new mount namespace would be
 * left once inside), the container's processes then run with the namespace's ids. */
int pd_userns_open_joined(const struct pd_container_config *cfg, int *fd, struct pd_error *err);
int pd_userns_enter_joined(int fd, struct pd_error *err);

#endif
