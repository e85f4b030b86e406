/* Storages on the filesystem: every step goes through fds resolved beneath the storage root.
 *
 * A mount point is a host string, and its directories may lie on a share the host writes
 * (9p, virtio-fs) or that CopyFile filled — where a symlink can be planted (CopyFile makes
 * any symlink it is asked for). Checked as a string and then used by mkdir/mount/chmod, a
 * path through such a symlink made directories, changed modes and mounted filesystems
 * outside /run/kata-containers. So:
 *
 *   - the root (/run/kata-containers, the agent's own) is opened without following any
 *     symlink, and each component below it is resolved from there with
 *     openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): a symlink
 *     anywhere is refused (ELOOP), and a missing directory is made with mkdirat in the one
 *     just resolved (resolve.c's pd_in_root_mkdirs_with);
 *   - the filesystem is made detached (fsopen/fsmount; open_tree for a bind, whose source
 *     is resolved the same way) and moved onto the directory's fd (move_mount). The mount's
 *     own fd is kept with the storage: remounts and the unmount act on exactly that mount,
 *     wherever the host has moved the path since;
 *   - mode and owner are set with fchmod/fchown on the directory's fd.
 *
 * Removing the directory at the end re-resolves its parent the same way and unlinkat's the
 * last name (AT_REMOVEDIR: only an empty directory, never contents). */
#include "storage.h"
#include "storage_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/mountopts.h"
#include "agent/container/resolve.h"
#include "agent/log.h"

#define RESOLVE_STRICT RESOLVE_NO_SYMLINKS
#define DIR_MODE       0755

/* mp's part below PD_STORAGE_ROOT ("/shared/containers/x"); mp was checked to be below. */
static const char *below_root(const char *mp)
{
	return mp + strlen(PD_STORAGE_ROOT);
}

int pd_storage_root_open(struct pd_error *err)
{
	if (mkdir(PD_STORAGE_ROOT, DIR_MODE) < 0 && errno != EEXIST)
		return pd_error_errno(err, errno, "mkdir " PD_STORAGE_ROOT);
	int fd = pd_open_nosymlinks(PD_STORAGE_ROOT, O_DIRECTORY);
	if (fd < 0)
		return pd_error_errno(err, -fd, "open " PD_STORAGE_ROOT " (without symlinks)");
	return fd;
}

/* A resolution error as the host should read it: a symlink is its doing (INVALID_ARGUMENT). */
static int resolve_error(int rc, const char *what, const char *path, struct pd_error *err)
{
	if (rc == -ELOOP || rc == -EXDEV)
		return pd_error_set(err, PD_INVALID_ARGUMENT, -rc,
				    "%s %s: the path is or passes through a symlink (storage "
				    "paths are resolved beneath " PD_STORAGE_ROOT
				    " without symlinks)",
				    what, path);
	if (rc == -ENOTDIR)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENOTDIR,
				    "%s %s: a component is not a directory", what, path);
	return pd_error_errno(err, -rc, "%s %s", what, path);
}

int pd_storage_dir_open(int root, const char *mp, struct pd_error *err)
{
	int dir = pd_in_root_mkdirs_with(root, below_root(mp), RESOLVE_STRICT);
	return dir >= 0 ? dir : resolve_error(dir, "storage mount point", mp, err);
}

/* 9p below 256 KiB msize is several times slower (measured): raise it. */
static int fix_9p_msize(struct pd_arena *a, char **data)
{
	const char *m = *data ? strstr(*data, "msize=") : NULL;
	if (m && (m == *data || m[-1] == ',') && strtoul(m + 6, NULL, 10) >= PD_9P_MIN_MSIZE)
		return 0;
	char buf[512];
	if (!*data || !**data) {
		snprintf(buf, sizeof(buf), "trans=virtio,version=9p2000.L,msize=%d",
			 PD_9P_MIN_MSIZE);
	} else if (m) {
		size_t pre = (size_t)(m - *data);
		const char *rest = strchr(m, ',');
		snprintf(buf, sizeof(buf), "%.*smsize=%d%s", (int)pre, *data, PD_9P_MIN_MSIZE,
			 rest ? rest : "");
	} else {
		snprintf(buf, sizeof(buf), "%s,msize=%d", *data, PD_9P_MIN_MSIZE);
	}
	*data = pd_arena_strdup(a, buf);
	return *data ? 0 : -1;
}

/* The detached bind of spec->source (below the root, resolved like the mount point). */
static int clone_source(int root, const char *source, struct pd_error *err)
{
	int src = pd_in_root_open(root, below_root(source), 0, RESOLVE_STRICT);
	if (src < 0)
		return resolve_error(src, "bind storage source", source, err);
	int mnt = pd_clone_tree(src, true);
	close(src);
	return mnt >= 0 ? mnt : pd_error_errno(err, -mnt, "bind storage source %s", source);
}

/* The new mount, detached. Its filesystem, source and data as the driver wants. */
static int make_mount(int root, const struct pd_storage_spec *spec, unsigned long flags, char *data,
		      struct pd_arena *a, struct pd_error *err)
{
	const char *d = spec->driver, *type = spec->fstype;
	const char *source = spec->device ? spec->device : spec->source;
	if (strcmp(d, "bind") == 0)
		return clone_source(root, spec->source, err);
	if (strcmp(d, "9p") == 0) {
		type = "9p";
		if (fix_9p_msize(a, &data) < 0)
			return pd_error_errno(err, ENOMEM, "9p options");
	} else if (strcmp(d, "virtio-fs") == 0) {
		type = "virtiofs";
	} else if (strcmp(d, "ephemeral") == 0) {
		type = type && *type ? type : "tmpfs";
	}
	if (!type || !*type)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "storage %s: no fstype",
				    spec->mount_point);
	/* A disk mounted read-only is mounted so at once: ext4 would replay its journal. */
	int mnt = pd_fsmount(type, source && *source ? source : type, data, flags);
	if (mnt < 0)
		return pd_error_errno(err, -mnt, "mount %s (%s) on %s", source ? source : "", type,
				      spec->mount_point);
	return mnt;
}

int pd_storage_mount(int root, int dir, const struct pd_storage_spec *spec, struct pd_error *err)
{
	struct pd_arena a;
	pd_arena_init(&a, 1 << 20);
	unsigned long flags = 0, prop = 0;
	char *data = NULL;
	bool bind = false, is_bind = strcmp(spec->driver, "bind") == 0;
	int mnt = -1, rc = pd_mount_options_parse(spec->options, spec->n_options, &a, &flags, &prop,
						  &data, &bind, err);
	if (rc == 0 && ((flags & MS_REMOUNT) || (bind && !is_bind)))
		rc = pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				  "storage %s: options bind, rbind and remount are not for the "
				  "%s driver",
				  spec->mount_point, spec->driver);
	if (rc == 0)
		mnt = make_mount(root, spec, flags, data, &a, err);
	pd_arena_free(&a);
	if (mnt < 0)
		return -1;
	rc = pd_move_mount_on_fd(mnt, dir);
	if (rc < 0) {
		close(mnt);
		return pd_error_errno(err, -rc, "attach the mount on %s", spec->mount_point);
	}
	/* A new bind has its source's flags; ro, nosuid, nodev, noexec are a remount of the new
	 * mount alone, keeping the source's own. */
	unsigned long want = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	unsigned long re = MS_REMOUNT | MS_BIND | want | pd_mount_kept_flags(mnt);
	if (is_bind && want && (rc = pd_mount_on_fd(NULL, mnt, NULL, re, NULL)) < 0) {
		pd_error_errno(err, -rc, "remount %s with its options", spec->mount_point);
		pd_umount_fd(mnt, MNT_DETACH);
		close(mnt);
		return -1;
	}
	return mnt;
}

int pd_storage_local(int dir, const struct pd_storage_spec *spec, struct pd_error *err)
{
	mode_t mode = (mode_t)-1;
	for (size_t i = 0; i < spec->n_options; i++) {
		const char *o = spec->options[i];
		if (strncmp(o, "mode=", 5) != 0)
			continue;
		char *end;
		unsigned long m = strtoul(o + 5, &end, 8);
		if (*end || end == o + 5 || m > 07777)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad %s", o);
		mode = (mode_t)m;
	}
	if (mode == (mode_t)-1)
		return 0;
	/* fchmod needs a real fd: "." of the O_PATH one is the same directory. */
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 || fchmod(fd, mode) < 0
		     ? pd_error_errno(err, errno, "chmod %s", spec->mount_point)
		     : 0;
	if (fd >= 0)
		close(fd);
	return rc;
}

void pd_storage_fs_group(int fd, const struct pd_storage_spec *spec)
{
	if (spec->has_fs_group && fchownat(fd, "", (uid_t)-1, spec->fs_group, AT_EMPTY_PATH) < 0)
		pd_warn("storage fs_group not applied", "mp=%s errno=%d", spec->mount_point, errno);
}

/* The empty directory at mp, removed beneath the root (its parent re-resolved). */
static void remove_dir(const char *mp)
{
	char parent[PATH_MAX];
	const char *rel = below_root(mp), *slash = strrchr(rel, '/');
	struct pd_error err;
	if (!slash || slash[1] == '\0')
		return;
	snprintf(parent, sizeof(parent), "%.*s", slash == rel ? 1 : (int)(slash - rel), rel);
	int root = pd_storage_root_open(&err);
	int dir = root >= 0 ? pd_in_root_open(root, parent, O_DIRECTORY, RESOLVE_STRICT) : -1;
	if (dir >= 0 && unlinkat(dir, slash + 1, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY)
		pd_debug("storage directory not removed", "mp=%s errno=%d", mp, errno);
	if (dir >= 0)
		close(dir);
	if (root >= 0)
		close(root);
}

void pd_storage_unmount(struct pd_storage *s)
{
	if (s->fd < 0)
		return;
	int rc = pd_umount_fd(s->fd, MNT_DETACH);
	close(s->fd);
	s->fd = -1;
	if (rc < 0)
		pd_warn("storage unmount failed", "mp=%s errno=%d", s->mount_point, -rc);
	else
		remove_dir(s->mount_point);
}

int pd_storage_remount(struct pd_storage *s, unsigned long flags, const char *data,
		       struct pd_error *err)
{
	int rc = pd_mount_on_fd(NULL, s->fd, NULL, MS_REMOUNT | flags, data);
	if (rc < 0)
		return pd_error_errno(err, -rc, "remount %s (%s)", s->mount_point,
				      data ? data : "");
	return 0;
}
