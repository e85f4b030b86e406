/* User namespace id maps (Linux.UIDMappings / GIDMappings): their checks, writing them for
 * a new user namespace, and the host id a container id maps to. */
#ifndef PD_CONTAINER_IDMAP_H
#define PD_CONTAINER_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/error.h"

/* What the kernel would refuse, refused here with a clear message: at most PD_MAX_IDMAP
 * lines, sizes > 0, no range reaching past 4294967294 ((uid_t)-1 is never an id), no two
 * ranges overlapping inside or outside. `what` names the field in the message. */
int pd_idmap_check(const char *what, const struct pd_idmap *m, size_t n, struct pd_error *err);

/* The user namespace settings of a converted spec: a new user namespace needs both maps
 * and its process's uid, gid and additional gids mapped, maps need a user namespace, a
 * new one cannot join namespaces owned by another user
 * namespace (by path). One joined by path needs no maps (they are not written; given,
 * they name the host ids for stdio). INVALID_ARGUMENT. */
int pd_userns_check(const struct pd_container_config *cfg, struct pd_error *err);

/* The container has a user namespace of its own, made at its creation. */
bool pd_userns_new(const struct pd_container_config *cfg);

/* Write /proc/<pid>/<file> ("uid_map", "gid_map") in one write, as the kernel wants. */
int pd_idmap_write(pid_t pid, const char *file, const struct pd_idmap *m, size_t n,
		   struct pd_error *err);

/* The host id of container id `id`; false when it is not mapped. */
bool pd_idmap_to_host(const struct pd_idmap *m, size_t n, uint32_t id, uint32_t *host);

#endif
