/* A spec's cgroup mount. containerd asks for type "cgroup" at /sys/fs/cgroup whatever the
 * host runs; what the container gets follows the guest:
 *   v2: a fresh cgroup2 mount. In the container's cgroup namespace its root is the
 *       container's own cgroup.
 *   v1: a tmpfs with one fresh "cgroup" mount per hierarchy the process belongs to (from
 *       /proc/self/cgroup; same options = the same hierarchy), named like the options
 *       ("memory", "systemd" for name=systemd). The spec's flags (usually
 *       ro,nosuid,nodev,noexec) go on each hierarchy, and on the tmpfs once it is filled. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/container/rootfs_steps.h"

#define TMPFS_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define TMPFS_DATA  "mode=755"

static bool guest_is_v2(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int mount_v2(int root, const struct pd_mount *m, struct pd_error *err)
{
	int fd = pd_in_root_mkdirs(root, m->destination);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create mount destination %s", m->destination);
	int rc = pd_mount_on_fd("cgroup2", fd, "cgroup2", m->flags & ~MS_BIND, NULL);
	if (rc == -EBUSY) /* the guest's cgroup2, with /sys bound in a user namespace */
		rc = pd_mount_detached_on_fd("cgroup2", fd, m->flags);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "mount cgroup2 on %s", m->destination);
	return 0;
}

/* One v1 hierarchy ("memory", "name=systemd", "cpu,cpuacct") in the tmpfs at dir. */
static int mount_hierarchy(int dir, const char *opts, const struct pd_mount *m,
			   struct pd_error *err)
{
	const char *name = strncmp(opts, "name=", 5) == 0 ? opts + 5 : opts;
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0; /* not a name we can give a directory */
	if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
		return pd_error_errno(err, errno, "mkdir %s/%s", m->destination, name);
	int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s/%s", m->destination, name);
	int rc = pd_mount_on_fd("cgroup", fd, "cgroup", m->flags & ~MS_BIND, opts);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "mount cgroup %s on %s/%s", opts, m->destination,
				      name);
	return 0;
}

/* Each "id:controllers:path" line of /proc/self/cgroup with a v1 hierarchy (id != 0). */
static int mount_hierarchies(int dir, const struct pd_mount *m, struct pd_error *err)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return pd_error_errno(err, errno, "open /proc/self/cgroup");
	char line[512];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *opts = strchr(line, ':');
		char *end = opts ? strchr(opts + 1, ':') : NULL;
		if (!end || strncmp(line, "0:", 2) == 0)
			continue;
		*end = '\0';
		rc = mount_hierarchy(dir, opts + 1, m, err);
	}
	fclose(f);
	return rc;
}

static int mount_v1(int root, const struct pd_mount *m, struct pd_error *err)
{
	int fd = pd_in_root_mkdirs(root, m->destination);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create mount destination %s", m->destination);
	int rc = pd_mount_on_fd("tmpfs", fd, "tmpfs", TMPFS_FLAGS, TMPFS_DATA);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "mount tmpfs on %s", m->destination);
	if ((fd = pd_in_root_open(root, m->destination, O_DIRECTORY, 0)) < 0)
		return pd_error_errno(err, -fd, "reopen mount %s", m->destination);
	rc = mount_hierarchies(fd, m, err);
	if (rc == 0 && (m->flags & MS_RDONLY)) {
		rc = pd_mount_on_fd("tmpfs", fd, "tmpfs", MS_REMOUNT | MS_RDONLY | TMPFS_FLAGS,
				    TMPFS_DATA);
		if (rc < 0)
			pd_error_errno(err, -rc, "remount %s read-only", m->destination);
	}
	close(fd);
	return rc < 0 ? -1 : 0;
}

int pd_rootfs_mount_cgroup(int root, const struct pd_mount *m, struct pd_error *err)
{
	return guest_is_v2() ? mount_v2(root, m, err) : mount_v1(root, m, err);
}
