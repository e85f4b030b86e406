/* Storage messages of CreateSandbox / CreateContainer → the sandbox's storages. */
#ifndef PD_RPC_STORAGES_H
#define PD_RPC_STORAGES_H

#include <stdbool.h>

#include "agent.pb-c.h"
#include "agent/device/devwait.h"
#include "agent/sandbox/sandbox.h"

/* The disks of the block storages (blk, mmioblk, scsi, nvdimm), looked up before anything
 * is mounted: 0 and a malloc'd array of n (an empty name for the other drivers), or
 * PD_RPC_PARKED (the call waits for a disk and runs again), or -1. */
int pd_rpc_storages_devices(const struct pd_devwait_req *r, Grpc__Storage *const *st, size_t n,
			    struct pd_blk_found **found, struct pd_error *err);

/* Acquire each storage in order; on failure the ones taken are released again. The mount
 * points taken are returned as a malloc'd array of malloc'd strings (release with
 * pd_storage_release_list). shared: keep them until the sandbox ends. devs: what
 * pd_rpc_storages_devices found (NULL: no block storages allowed). */
int pd_rpc_storages_acquire(struct pd_sandbox *sb, Grpc__Storage *const *st,
			    const struct pd_blk_found *devs, size_t n, bool shared,
			    char ***mount_points, size_t *n_mount_points, struct pd_error *err);

#endif
