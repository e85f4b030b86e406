/* Paths resolved beneath a directory fd, and mounts made onto fds: the helpers every part
 * of the agent uses where a host or a container could redirect a path with a symlink —
 * the container's rootfs (rootfs_steps.h), storages (agent/sandbox/storage*.c), CopyFile
 * (agent/copyfile*.c), the stale share mounts. Code: resolve.c, fdmount.c,
 * mount_detached.c. These return an fd or -errno (0 when there is nothing to return). */
#ifndef PD_CONTAINER_RESOLVE_H
#define PD_CONTAINER_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/openat2.h> /* RESOLVE_* */

/* Where the host and containers write: shares (9p, virtio-fs), CopyFile, storages, the
 * containers' volumes. A path below it is taken without any symlink on the way. */
#define PD_KATA_ROOT "/run/kata-containers"

/* --- resolve.c: paths beneath a root fd ------------------------------------------------- */

/* Absolute, no empty, "." or ".." component, no trailing '/', shorter than PATH_MAX. */
bool pd_path_is_clean(const char *path);

/* O_PATH|O_CLOEXEC|oflags fd of path, resolved as if root were "/" (RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS | resolve): ".." and absolute symlinks stay inside root. With
 * RESOLVE_NO_SYMLINKS in resolve, any symlink on the way is ELOOP: for a clean path that is
 * RESOLVE_BENEATH's walk (nothing to clamp: no "..", no symlink). */
int pd_in_root_open(int root, const char *path, int oflags, uint64_t resolve);

/* mkdir -p (mode 0755) under root; the directory's O_PATH fd. A dangling symlink on the way
 * gives -ENOENT: what it points at is never created. */
int pd_in_root_mkdirs(int root, const char *path);

/* The same, every step resolved with pd_in_root_open(..., resolve): with
 * RESOLVE_NO_SYMLINKS a symlink anywhere on the path is -ELOOP and nothing is made past it. */
int pd_in_root_mkdirs_with(int root, const char *path, uint64_t resolve);

/* The file at path, created empty (0644, parents too) when missing; its O_PATH fd. */
int pd_in_root_mkfile(int root, const char *path);

/* The directory that holds path's last component (created), as an O_PATH fd; the last
 * component is copied to name. path must be clean and not "/". */
int pd_in_root_parent(int root, const char *path, char *name, size_t size);

/* O_PATH|O_CLOEXEC|oflags fd of an absolute path of the agent's own tree, refused (-ELOOP)
 * if the path is or passes through a symlink (RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS). */
int pd_open_nosymlinks(const char *path, int oflags);

/* --- fdmount.c: mount(2) onto exactly the inode an fd holds ---------------------------- */

/* "/proc/self/fd/<fd>" in buf (PD_FD_PATH_MAX bytes): the path the kernel resolves to what
 * fd holds, for syscalls that take only a path (mount, umount2, swapon). */
#define PD_FD_PATH_MAX 32
const char *pd_fd_path(int fd, char *buf, size_t size);

/* mount(source, "/proc/self/fd/<fd>", ...): the mount lands on the inode resolved when fd
 * was opened, whatever the path looks like now. 0 or -errno. */
int pd_mount_on_fd(const char *source, int fd, const char *type, unsigned long flags,
		   const void *data);

/* Bind the inode of src_fd onto the inode of fd. 0 or -errno. */
int pd_bind_fd_on_fd(int src_fd, int fd, unsigned long flags);

/* Unmount the mount whose root fd is on (umount2 of its /proc/self/fd path): exactly that
 * mount, wherever it now is; EINVAL if fd is not the root of a mount. 0 or -errno. */
int pd_umount_fd(int fd, int flags);

/* fd is the root of a mount (something is mounted there). */
bool pd_fd_is_mount_root(int fd);

/* The flags of the mount fd is on that a bind remount must repeat (nosuid, nodev, noexec,
 * the atime flags): the kernel refuses to clear them in a user namespace. */
unsigned long pd_mount_kept_flags(int fd);

/* --- mount_detached.c: the new mount API (fsopen, fsmount, open_tree, move_mount) -------- */

/* A fresh mount of fstype (no source, no data) with the MS_* flags of flags that a mount
 * can carry (ro, nosuid, nodev, noexec, atime), made detached and moved onto fd: where
 * mount(2) says EBUSY (the same filesystem is mounted there already). */
int pd_mount_detached_on_fd(const char *fstype, int fd, unsigned long flags);

/* A detached mount of fstype from source (NULL: none) with data as mount(2) takes it
 * ("a=b,c": each comma-separated item one fsconfig key or flag), the superblock flags of
 * flags (ro, sync, dirsync, lazytime, ...) and its mount flags as mount attributes. Returns
 * the mount's fd (attach it with pd_move_mount_on_fd) or -errno. */
int pd_fsmount(const char *fstype, const char *source, const char *data, unsigned long flags);

/* A detached copy of the mount tree at src_fd (with its submounts if recursive), as a bind
 * mount makes: its fd, or -errno. */
int pd_clone_tree(int src_fd, bool recursive);

/* Attach the detached mount mnt onto the inode fd holds. mnt then names the attached
 * mount: pd_umount_fd(mnt) unmounts exactly it. 0 or -errno. */
int pd_move_mount_on_fd(int mnt, int fd);

#endif
