/* The pid namespace holder's root: an empty read-only tmpfs, in a mount namespace that
 * holds nothing else of the agent's (docs/security.md, "The shared pid namespace's PID 1").
 *
 * The holder was cloned with CLONE_NEWNS: its mount namespace starts as a copy of the
 * agent's. Everything is made private first, so that nothing done here propagates back.
 * The tmpfs is made detached (fsmount, read-only, nosuid, nodev, noexec) and stacked on "/".
 *
 * - A root that has a parent mount (a disk, a 9p or a tmpfs root the boot switched into;
 *   every host run): pivot_root(".", ".") from inside the tmpfs stacks the old root on top
 *   of it, and detaching that takes the agent's whole tree with it.
 * - An initramfs root (fstype rootfs) has no parent: pivot_root refuses it (EINVAL), as for
 *   the containers (agent/container/pivot.c). Its submounts (/proc, /sys, /dev, /run with
 *   the sandbox's storages and the containers' rootfs...) are detached one by one while
 *   they can still be named, then the process chroots into the tmpfs. What stays under it
 *   is the initramfs' own files, reachable by no path (setns into this namespace lands on
 *   the tmpfs stacked on "/"), and no filesystem of a disk is kept mounted by the holder.
 *
 * Only the new mount API here: <linux/mount.h> and <sys/mount.h> do not mix. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/rootfs.h"
#include "agent/sandbox/pidns_holder.h"
#include "init/mounts.h"

#define UMOUNT_DETACH   0x2 /* <sys/mount.h>'s MNT_DETACH */
#define UMOUNT_NO_FOLLOW 0x8 /* <sys/mount.h>'s UMOUNT_NOFOLLOW */
#define DETACH_PASSES   16  /* a pass detaches at least the topmost of every stack */

/* The empty tmpfs, detached: an fd on its root. */
static int make_empty_tmpfs(struct pd_error *err)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return pd_error_errno(err, errno, "fsopen tmpfs");
	int mnt = -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		pd_error_errno(err, errno, "configure the tmpfs");
	else if ((mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					 MOUNT_ATTR_NOEXEC)) < 0)
		pd_error_errno(err, errno, "fsmount the tmpfs");
	close(fs);
	return mnt;
}

/* One pass over mountinfo: detach every mount point but "/"; *left: those that failed. */
static void detach_pass(FILE *f, int *left)
{
	char *line = NULL;
	size_t cap = 0;
	*left = 0;
	rewind(f); /* a fresh listing from the start: what is mounted now */
	while (getline(&line, &cap, f) > 0) {
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) < 0 || strcmp(e.mount_point, "/") == 0)
			continue;
		/* Fails for one whose parent went earlier in this pass (ENOENT, EINVAL): fine,
		 * it went with it. */
		if (syscall(SYS_umount2, e.mount_point, UMOUNT_DETACH | UMOUNT_NO_FOLLOW) < 0)
			(*left)++;
	}
	free(line);
}

/* Every mount but "/" itself: needed where "/" cannot be pivoted away (initramfs). The
 * file is opened once: /proc goes in the first pass, its open mountinfo still reads. */
static int detach_submounts(struct pd_error *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return pd_error_errno(err, errno, "open /proc/self/mountinfo");
	int left = 0;
	for (int pass = 0; pass < DETACH_PASSES; pass++) {
		detach_pass(f, &left);
		if (left == 0)
			break;
	}
	fclose(f);
	if (left > 0)
		return pd_error_set(err, PD_INTERNAL, 0, "%d mounts could not be detached", left);
	return 0;
}

int pd_pidns_holder_empty_root(struct pd_error *err)
{
	if (syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return pd_error_errno(err, errno, "make / rprivate");
	bool initramfs = pd_rootfs_is_initramfs(); /* reads mountinfo: before detaching */
	if (initramfs && detach_submounts(err) < 0)
		return -1;
	int mnt = make_empty_tmpfs(err);
	if (mnt < 0)
		return -1;
	int rc = -1;
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		pd_error_errno(err, errno, "stack the tmpfs on /");
	else if (fchdir(mnt) < 0)
		pd_error_errno(err, errno, "chdir into the tmpfs");
	else if (initramfs && chroot(".") < 0)
		pd_error_errno(err, errno, "chroot into the tmpfs");
	else if (!initramfs && syscall(SYS_pivot_root, ".", ".") < 0)
		pd_error_errno(err, errno, "pivot_root into the tmpfs");
	/* pivot_root stacked the old root on ".": resolving "." climbs to it (pivot_root(2)). */
	else if (!initramfs && syscall(SYS_umount2, ".", UMOUNT_DETACH) < 0)
		pd_error_errno(err, errno, "detach the old root");
	else if (chdir("/") < 0)
		pd_error_errno(err, errno, "chdir /");
	else
		rc = 0;
	close(mnt);
	return rc;
}
