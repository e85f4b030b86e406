/* Mounts made detached (fsopen + fsmount, open_tree) and moved onto an fd (move_mount).
 *
 * Why, for the container's cgroup: mount(2) refuses a filesystem on a mount point that is already the root of a mount
 * of the same superblock (EBUSY). In a user namespace that does not own the network
 * namespace, /sys is an rbind of the guest's (mounts.c) and brings the guest's cgroup2
 * mount along at /sys/fs/cgroup, locked: it cannot be unmounted there, and a cgroup2 of the
 * container's cgroup namespace cannot be mounted over it by mount(2). move_mount has no
 * such rule.
 *
 * Why, for storages (agent/sandbox/storage_mount.c): the fd fsmount or open_tree returns is
 * the new mount itself. Moved onto a directory resolved beneath the storage root, it stays
 * the handle of exactly that mount (remount, unmount) whatever the host later does to the
 * path; a mount(2) onto an fd leaves only the inode underneath in the caller's hands.
 *
 * Only the new mount API is used here, hence its own file: <linux/mount.h> and
 * <sys/mount.h> do not mix. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/resolve.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static unsigned long attr_flags(unsigned long ms)
{
	static const struct {
		unsigned long ms, attr;
	} map[] = {
	    {MS_RDONLY, MOUNT_ATTR_RDONLY},	{MS_NOSUID, MOUNT_ATTR_NOSUID},
	    {MS_NODEV, MOUNT_ATTR_NODEV},	{MS_NOEXEC, MOUNT_ATTR_NOEXEC},
	    {MS_NOATIME, MOUNT_ATTR_NOATIME},	{MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
	    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_RELATIME, MOUNT_ATTR_RELATIME},
	};
	unsigned long attr = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (ms & map[i].ms)
			attr |= map[i].attr;
	return attr;
}

int pd_mount_detached_on_fd(const char *fstype, int fd, unsigned long flags)
{
	int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	int rc = 0, mnt = -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr_flags(flags))) < 0 ||
	    syscall(SYS_move_mount, mnt, "", fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rc = -errno;
	if (mnt >= 0)
		close(mnt);
	close(fs);
	return rc;
}

/* Superblock flags as fsconfig names them (fs/fs_context.c's common_set_sb_flag). */
static const struct {
	unsigned long ms;
	const char *key;
} sb_flags[] = {
    {MS_RDONLY, "ro"},	      {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
    {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"},
};

/* Each comma-separated item of data: "key=value" a string, "key" a flag (the split
 * mount(2) does for a filesystem that parses its options one by one). */
static int config_data(int fs, const char *data)
{
	char item[4096];
	for (const char *c = data; c && *c;) {
		const char *end = strchrnul(c, ',');
		size_t n = (size_t)(end - c);
		if (n >= sizeof(item))
			return -EINVAL;
		memcpy(item, c, n);
		item[n] = '\0';
		char *eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		if (n && syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, item,
				 eq ? eq + 1 : NULL, 0) < 0)
			return -errno;
		c = *end ? end + 1 : end;
	}
	return 0;
}

int pd_fsmount(const char *fstype, const char *source, const char *data, unsigned long flags)
{
	int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	int rc = 0;
	if (source && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		rc = -errno;
	for (size_t i = 0; rc == 0 && i < sizeof(sb_flags) / sizeof(sb_flags[0]); i++)
		if ((flags & sb_flags[i].ms) &&
		    syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, sb_flags[i].key, NULL, 0) < 0)
			rc = -errno;
	if (rc == 0)
		rc = config_data(fs, data);
	if (rc == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		rc = -errno;
	int mnt = rc == 0 ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr_flags(flags)) : rc;
	if (mnt < 0 && rc == 0)
		mnt = -errno;
	close(fs);
	return mnt;
}

int pd_clone_tree(int src_fd, bool recursive)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
	int mnt = (int)syscall(SYS_open_tree, src_fd, "", flags | (recursive ? AT_RECURSIVE : 0));
	return mnt >= 0 ? mnt : -errno;
}

int pd_move_mount_on_fd(int mnt, int fd)
{
	if (syscall(SYS_move_mount, mnt, "", fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}
