/* The container's mount namespace: from "a fresh copy of the agent's mounts" to "my root is
 * the container rootfs". Order and the symlink rule: docs/rootfs.md. */
#ifndef PD_CONTAINER_ROOTFS_H
#define PD_CONTAINER_ROOTFS_H

#include <stdbool.h>

#include "agent/container/config.h"
#include "agent/error.h"

/* Runs in the container's first process, single-threaded, already in its NEW mount
 * namespace, as root, before it drops privileges. On return the process's root and cwd
 * are the container rootfs. no_pivot: "/" is an initramfs (fstype rootfs), where
 * pivot_root is impossible: use MS_MOVE onto / + chroot.
 *
 * Steps: "/" rslave (nothing propagates back to the agent), the rootfs bound onto itself,
 * cfg->mounts, devices and /dev links (unless /dev is a bind), the cwd, masked paths,
 * readonly paths, the read-only root, then pivot_root (or move + chroot) and the spec's root
 * propagation. Every path of cfg is resolved inside the rootfs: a symlink may not lead out of
 * it, /proc and /sys may not be symlinks, device nodes must be clean paths under /dev.
 * Errors name the step and the path inside the container ("mount tmpfs on /dev: ..."). */
int pd_rootfs_setup(const struct pd_container_config *cfg, bool no_pivot, struct pd_error *err);

/* True when / is an initramfs (rootfs/ramfs/tmpfs root that cannot be pivoted from). */
bool pd_rootfs_is_initramfs(void);

#endif
