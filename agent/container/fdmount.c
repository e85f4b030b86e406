/* mount(2) onto an fd rather than a path (crun's approach).
 *
 * A target checked by path and then mounted by path can be swapped for a symlink in between;
 * "/proc/self/fd/N" names exactly the inode that was resolved under the rootfs. The agent's
 * /proc is still there while the rootfs is prepared (we pivot last). The fd stays on the
 * inode underneath: to act on the new mount itself (remount, propagation) resolve the path
 * again, which now crosses into the mount. */
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h> /* struct statx: musl has no wrapper */
#include <stdio.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/resolve.h"

#define FD_PATH_MAX PD_FD_PATH_MAX

const char *pd_fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

int pd_mount_on_fd(const char *source, int fd, const char *type, unsigned long flags,
		   const void *data)
{
	char target[FD_PATH_MAX];
	if (mount(source, pd_fd_path(fd, target, sizeof(target)), type, flags, data) < 0)
		return -errno;
	return 0;
}

int pd_bind_fd_on_fd(int src_fd, int fd, unsigned long flags)
{
	char source[FD_PATH_MAX];
	return pd_mount_on_fd(pd_fd_path(src_fd, source, sizeof(source)), fd, NULL, MS_BIND | flags,
			      NULL);
}

int pd_umount_fd(int fd, int flags)
{
	char target[FD_PATH_MAX];
	return umount2(pd_fd_path(fd, target, sizeof(target)), flags) < 0 ? -errno : 0;
}

bool pd_fd_is_mount_root(int fd)
{
	struct statx sx, up;
	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) < 0)
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	/* Before Linux 5.8: another filesystem than the parent's (a bind of the same one is
	 * not seen). */
	return syscall(SYS_statx, fd, "..", 0, STATX_BASIC_STATS, &up) == 0 &&
	       (sx.stx_dev_major != up.stx_dev_major || sx.stx_dev_minor != up.stx_dev_minor);
}

unsigned long pd_mount_kept_flags(int fd)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
	    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},	      {ST_NOEXEC, MS_NOEXEC},
	    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	struct statvfs st;
	unsigned long flags = 0;
	if (fstatvfs(fd, &st) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (st.f_flag & map[i].st)
			flags |= map[i].ms;
	return flags;
}
