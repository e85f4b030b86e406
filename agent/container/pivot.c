/* Making the prepared rootfs the process's root.
 *
 * pivot_root: pivot_root(".", ".") from inside the rootfs stacks the old root on top of the
 * new one; we step onto the old root (an fd opened before), make it rslave so that what we
 * unmount cannot propagate anywhere, and detach it: nothing of the guest stays reachable.
 *
 * The initramfs (fstype "rootfs") is the root of the mount tree and has no parent mount,
 * so pivot_root refuses to move it (EINVAL). There the rootfs mount is moved onto "/" and
 * the process chroots into it, as runc and Kata do with no_pivot. The guest's mounts stay
 * in this namespace, hidden under the container's root: a ".." walk that climbs out of a
 * chroot lands on the guest's "/" and crosses straight back into the mount stacked on it.
 * Only an fd opened before could reach them (none survives the exec). Still, nothing of the
 * guest is left at all after a pivot: it is the default. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/container/rootfs.h"
#include "agent/container/rootfs_steps.h"
#include "init/mounts.h"

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

static int pivot(int root, struct pd_error *err)
{
	int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		return pd_error_errno(err, errno, "open the old root");
	int rc = -1;
	if (fchdir(root) < 0)
		pd_error_errno(err, errno, "chdir into the rootfs");
	else if (syscall(SYS_pivot_root, ".", ".") < 0)
		pd_error_errno(err, errno, "pivot_root into the rootfs");
	else if (fchdir(old) < 0)
		pd_error_errno(err, errno, "chdir to the old root");
	else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		pd_error_errno(err, errno, "make the old root rslave");
	else if (umount2(".", MNT_DETACH) < 0)
		pd_error_errno(err, errno, "detach the old root");
	else
		rc = 0;
	close(old);
	return rc;
}

static int move_and_chroot(int root, struct pd_error *err)
{
	if (fchdir(root) < 0)
		return pd_error_errno(err, errno, "chdir into the rootfs");
	/* "." is the rootfs mount's root: the whole mount (and those under it) moves. */
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return pd_error_errno(err, errno, "move the rootfs onto /");
	if (chroot(".") < 0)
		return pd_error_errno(err, errno, "chroot into the rootfs");
	return 0;
}

int pd_rootfs_enter(int root, bool no_pivot, struct pd_error *err)
{
	if ((no_pivot ? move_and_chroot(root, err) : pivot(root, err)) < 0)
		return -1;
	if (chdir("/") < 0)
		return pd_error_errno(err, errno, "chdir /");
	return 0;
}

/* statfs first: it needs no /proc and says "no" for any disk or overlay root. A tmpfs root
 * the boot switched into has a parent and can be pivoted from: only mountinfo's fstype
 * "rootfs" tells the initramfs itself. Without /proc, assume the initramfs: move + chroot
 * works from any root, pivot_root does not. */
bool pd_rootfs_is_initramfs(void)
{
	struct statfs st;
	if (statfs("/", &st) < 0)
		return false;
	if (st.f_type != RAMFS_MAGIC && st.f_type != TMPFS_MAGIC)
		return false;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return true;
	bool initramfs = pd_mountinfo_has(f, "/", "rootfs");
	fclose(f);
	return initramfs;
}
