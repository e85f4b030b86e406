/* The steps of pd_rootfs_setup, one file each (resolve.c, fdmount.c, mounts.c,
 * mount_cgroup.c, devices.c, masks.c, pivot.c). Internal to the container engine; callers
 * use rootfs.h.
 *
 * `root` is always an O_PATH fd of the container's rootfs mount; every `path` is an absolute
 * path inside the container, resolved under root by resolve.c (docs/rootfs.md). */
#ifndef PD_CONTAINER_ROOTFS_STEPS_H
#define PD_CONTAINER_ROOTFS_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/openat2.h> /* RESOLVE_* */

#include "agent/container/config.h"
#include "agent/error.h"

/* --- resolve.c: paths inside the rootfs; these return an fd or -errno ------------------- */

/* Absolute, no empty, "." or ".." component, no trailing '/', shorter than PATH_MAX. */
bool pd_path_is_clean(const char *path);

/* O_PATH|O_CLOEXEC|oflags fd of path, resolved as if root were "/" (RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS | resolve): ".." and absolute symlinks stay inside root. */
int pd_in_root_open(int root, const char *path, int oflags, uint64_t resolve);

/* mkdir -p (mode 0755) under root; the directory's O_PATH fd. A dangling symlink on the way
 * gives -ENOENT: what it points at is never created. */
int pd_in_root_mkdirs(int root, const char *path);

/* The file at path, created empty (0644, parents too) when missing; its O_PATH fd. */
int pd_in_root_mkfile(int root, const char *path);

/* The directory that holds path's last component (created), as an O_PATH fd; the last
 * component is copied to name. path must be clean and not "/". */
int pd_in_root_parent(int root, const char *path, char *name, size_t size);

/* --- fdmount.c: mount(2) onto exactly the inode an fd holds ---------------------------- */

/* mount(source, "/proc/self/fd/<fd>", ...): the mount lands on the inode resolved when fd
 * was opened, whatever the path looks like now. 0 or -errno. */
int pd_mount_on_fd(const char *source, int fd, const char *type, unsigned long flags,
		   const void *data);

/* Bind the inode of src_fd onto the inode of fd. 0 or -errno. */
int pd_bind_fd_on_fd(int src_fd, int fd, unsigned long flags);

/* The flags of the mount fd is on that a bind remount must repeat (nosuid, nodev, noexec,
 * the atime flags): the kernel refuses to clear them in a user namespace. */
unsigned long pd_mount_kept_flags(int fd);

/* mount_detached.c: a fresh mount of fstype (no source, no data) with the MS_* flags of
 * flags that a mount can carry (ro, nosuid, nodev, noexec, atime), made detached and moved
 * onto fd: where mount(2) says EBUSY (the same filesystem is mounted there already). */
int pd_mount_detached_on_fd(const char *fstype, int fd, unsigned long flags);

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
