/* The steps of pd_rootfs_setup, one file each (mounts.c, mount_cgroup.c, devices.c,
 * masks.c, pivot.c; the path and mount helpers they share with the rest of the agent are in
 * resolve.h). Internal to the container engine; callers use rootfs.h.
 *
 * `root` is always an O_PATH fd of the container's rootfs mount; every `path` is an absolute
 * path inside the container, resolved under root by resolve.c (docs/rootfs.md). */
#ifndef PD_CONTAINER_ROOTFS_STEPS_H
#define PD_CONTAINER_ROOTFS_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/container/config.h"
#include "agent/container/resolve.h" /* resolve.c, fdmount.c, mount_detached.c */
#include "agent/error.h"

/* --- the steps ------------------------------------------------------------------------- */

/* mounts.c: cfg->mounts in order. */
int pd_rootfs_mount_all(int root, const struct pd_container_config *cfg, struct pd_error *err);

/* mount_cgroup.c: one Mount of type cgroup or cgroup2, as the guest's cgroup version. */
int pd_rootfs_mount_cgroup(int root, const struct pd_mount *m, struct pd_error *err);

/* devices.c: default and spec device nodes, /dev/fd and std* links, /dev/ptmx. */
int pd_rootfs_devices(int root, const struct pd_container_config *cfg, struct pd_error *err);

/* masks.c: masked paths (/dev/null or an empty read-only tmpfs over them) and readonly paths
 * (bound onto themselves, remounted read-only). Missing paths are skipped. */
int pd_rootfs_mask_paths(int root, char *const *paths, size_t n, struct pd_error *err);
int pd_rootfs_readonly_paths(int root, char *const *paths, size_t n, struct pd_error *err);

/* pivot.c: make root the process's root and cwd: pivot_root and detach the old root, or
 * (no_pivot) move the rootfs mount onto "/" and chroot. */
int pd_rootfs_enter(int root, bool no_pivot, struct pd_error *err);

#endif
