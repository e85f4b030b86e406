/* Masked and readonly paths (Linux.MaskedPaths, Linux.ReadonlyPaths): kernel interfaces
 * under /proc and /sys the container may not read or may not change.
 *
 * Masked: a file is covered by a bind of /dev/null (reads empty, writes vanish), a directory
 * by an empty read-only tmpfs. Readonly: the path is bound onto itself and the new mount
 * remounted read-only, keeping the nosuid/nodev/noexec it already had (a remount sets all
 * flags at once, and in a user namespace dropping them is refused). A path the rootfs or the
 * kernel does not have is skipped, as every runtime does: spec lists are generic. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/rootfs_steps.h"
#include "agent/container/validate.h"

#define MASK_TMPFS_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int check_path(const char *path, const char *what, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	if (pd_path_is_clean(path))
		return 0;
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s %s: not a clean absolute path", what,
			    pd_shown(path ? path : "", shown, sizeof(shown)));
}

static int mask_one(int root, const char *path, struct pd_error *err)
{
	if (check_path(path, "masked path", err) < 0)
		return -1;
	int fd = pd_in_root_open(root, path, 0, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return pd_error_errno(err, -fd, "open masked path %s", path);
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && S_ISDIR(st.st_mode))
		rc = pd_mount_on_fd("tmpfs", fd, "tmpfs", MASK_TMPFS_FLAGS, NULL);
	else if (rc == 0)
		rc = pd_mount_on_fd("/dev/null", fd, NULL, MS_BIND, NULL);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "mask %s", path);
	return 0;
}

int pd_rootfs_mask_paths(int root, char *const *paths, size_t n, struct pd_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (mask_one(root, paths[i], err) < 0)
			return -1;
	return 0;
}

static int readonly_one(int root, const char *path, struct pd_error *err)
{
	if (check_path(path, "readonly path", err) < 0)
		return -1;
	int fd = pd_in_root_open(root, path, 0, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return pd_error_errno(err, -fd, "open readonly path %s", path);
	int rc = pd_bind_fd_on_fd(fd, fd, MS_REC);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "bind readonly path %s", path);
	/* Again by path: the fd is on the inode under the new mount. */
	if ((fd = pd_in_root_open(root, path, 0, 0)) < 0)
		return pd_error_errno(err, -fd, "reopen readonly path %s", path);
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | pd_mount_kept_flags(fd);
	rc = pd_mount_on_fd(NULL, fd, NULL, flags, NULL);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "remount readonly path %s read-only", path);
	return 0;
}

int pd_rootfs_readonly_paths(int root, char *const *paths, size_t n, struct pd_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (readonly_one(root, paths[i], err) < 0)
			return -1;
	return 0;
}
