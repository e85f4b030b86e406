/* The container's /dev, unless the spec binds /dev itself (then it is the guest's or a
 * volume's, not ours to fill):
 *   - the devices every OCI runtime provides (null zero full tty random urandom, 0666,
 *     root), then the spec's devices; a spec device at the same path replaces a default;
 *   - a device path must be clean and under /dev. The spec converter checks that too; we do
 *     not rely on it, since a node elsewhere could shadow any file of the image;
 *   - mknod needs CAP_MKNOD in the initial user namespace: in a user namespace (EPERM) the
 *     guest's node at the same path is bound onto an empty file instead;
 *   - /dev/fd, /dev/std{in,out,err} -> /proc/self/fd/...; /dev/ptmx -> pts/ptmx when a devpts
 *     is mounted at /dev/pts, so ptys come from the container's own devpts instance. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/container/rootfs_steps.h"
#include "agent/container/validate.h"

#define MAJOR_MAX 0xfffL   /* what dev_t holds in the kernel: 12 bits */
#define MINOR_MAX 0xfffffL /* and 20 bits */

static const struct pd_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
};

static bool has_mount(const struct pd_container_config *cfg, const char *dest, const char *type)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct pd_mount *m = &cfg->mounts[i];
		if (!m->destination || strcmp(m->destination, dest) != 0)
			continue;
		if (type ? m->type && strcmp(m->type, type) == 0 : m->bind)
			return true;
	}
	return false;
}

static int node_mode(const struct pd_device *d, mode_t *mode, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	if (!pd_path_is_clean(d->path) || strncmp(d->path, "/dev/", 5) != 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "device %s: not a clean path under /dev",
				    pd_shown(d->path ? d->path : "", shown, sizeof(shown)));
	if (d->major < 0 || d->major > MAJOR_MAX || d->minor < 0 || d->minor > MINOR_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "device %s: bad number %lld:%lld",
				    d->path, (long long)d->major, (long long)d->minor);
	switch (d->type) {
	case 'c':
	case 'u':
		*mode = S_IFCHR;
		break;
	case 'b':
		*mode = S_IFBLK;
		break;
	case 'p':
		*mode = S_IFIFO;
		break;
	default:
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "device %s: unknown type",
				    d->path);
	}
	*mode |= d->file_mode ? (d->file_mode & 07777) : 0666;
	return 0;
}

/* mknod, replacing whatever the image has at the name (not a directory: unlinkat fails). */
static int mknod_fresh(int dir, const char *name, mode_t mode, dev_t dev)
{
	if (mknodat(dir, name, mode, dev) == 0)
		return 0;
	if (errno != EEXIST || unlinkat(dir, name, 0) < 0 || mknodat(dir, name, mode, dev) < 0)
		return -errno;
	return 0;
}

/* No CAP_MKNOD (a user namespace): bind the guest's node onto an empty file. */
static int bind_guest_node(int root, const struct pd_device *d, struct pd_error *err)
{
	int fd = pd_in_root_mkfile(root, d->path);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create %s to bind the device onto", d->path);
	int rc = pd_mount_on_fd(d->path, fd, NULL, MS_BIND, NULL);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "bind device %s", d->path);
	return 0;
}

static int make_node(int root, const struct pd_device *d, struct pd_error *err)
{
	mode_t mode = 0;
	char name[NAME_MAX + 1];
	if (node_mode(d, &mode, err) < 0)
		return -1;
	int dir = pd_in_root_parent(root, d->path, name, sizeof(name));
	if (dir < 0)
		return pd_error_errno(err, -dir, "create the directory of device %s", d->path);
	dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
	int rc = mknod_fresh(dir, name, mode, dev);
	if (rc == -EPERM && !S_ISFIFO(mode)) {
		close(dir);
		return bind_guest_node(root, d, err);
	}
	/* mknod applied our umask: set the exact mode, then the owner. */
	if (rc == 0 && fchmodat(dir, name, mode & 07777, 0) < 0)
		rc = -errno;
	if (rc == 0 && fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	close(dir);
	if (rc < 0)
		return pd_error_errno(err, -rc, "mknod %s", d->path);
	return 0;
}

static int make_link(int dev, const char *target, const char *name, bool replace,
		     struct pd_error *err)
{
	if (replace && unlinkat(dev, name, 0) < 0 && errno != ENOENT)
		return pd_error_errno(err, errno, "remove /dev/%s", name);
	if (symlinkat(target, dev, name) < 0 && errno != EEXIST)
		return pd_error_errno(err, errno, "symlink /dev/%s -> %s", name, target);
	return 0;
}

static int make_links(int root, bool ptmx, struct pd_error *err)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},
	    {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"},
	    {"/proc/self/fd/2", "stderr"},
	};
	int dev = pd_in_root_mkdirs(root, "/dev");
	if (dev < 0)
		return pd_error_errno(err, -dev, "create /dev");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(links) / sizeof(links[0]); i++)
		rc = make_link(dev, links[i][0], links[i][1], false, err);
	if (rc == 0 && ptmx)
		rc = make_link(dev, "pts/ptmx", "ptmx", true, err);
	close(dev);
	return rc;
}

int pd_rootfs_devices(int root, const struct pd_container_config *cfg, struct pd_error *err)
{
	if (has_mount(cfg, "/dev", NULL))
		return 0;
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		if (make_node(root, &default_devices[i], err) < 0)
			return -1;
	for (size_t i = 0; i < cfg->n_devices; i++)
		if (make_node(root, &cfg->devices[i], err) < 0)
			return -1;
	return make_links(root, has_mount(cfg, "/dev/pts", "devpts"), err);
}
