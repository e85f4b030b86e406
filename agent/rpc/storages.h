/* Storage messages of CreateSandbox / CreateContainer → the sandbox's storages. */
#ifndef PD_RPC_STORAGES_H
#define PD_RPC_STORAGES_H

#include <stdbool.h>

#include "agent.pb-c.h"
#include "agent/sandbox/sandbox.h"

/* Acquire each storage in order; on failure the ones taken are released again. The mount
 * points taken are returned as a malloc'd array of malloc'd strings (release with
 * pd_storage_release_list). shared: keep them until the sandbox ends. */
int pd_rpc_storages_acquire(struct pd_sandbox *sb, Grpc__Storage *const *st, size_t n,
			    bool shared, char ***mount_points, size_t *n_mount_points,
			    struct pd_error *err);

#endif
