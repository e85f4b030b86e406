/* A fresh mount made detached (fsopen, fsmount) and moved onto an fd (move_mount).
 *
 * Why: mount(2) refuses a filesystem on a mount point that is already the root of a mount
 * of the same superblock (EBUSY). In a user namespace that does not own the network
 * namespace, /sys is an rbind of the guest's (mounts.c) and brings the guest's cgroup2
 * mount along at /sys/fs/cgroup, locked: it cannot be unmounted there, and a cgroup2 of the
 * container's cgroup namespace cannot be mounted over it by mount(2). move_mount has no
 * such rule. Only the new mount API is used here, hence its own file: <linux/mount.h>
 * and <sys/mount.h> do not mix. */
#include <errno.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/rootfs_steps.h"

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
