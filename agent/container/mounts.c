/* The spec's Mounts, in order, each onto a destination resolved inside the rootfs.
 *
 * For one mount:
 *   1. the destination is checked (clean absolute path, not "/") and resolved under the
 *      rootfs, created when missing: a directory, or an empty file when a file is bound;
 *   2. proc and sysfs must land on a real directory: no symlink on the way (runc refuses the
 *      same); nothing may be mounted inside a procfs but the few files lxcfs replaces;
 *   3. mount onto the resolved fd; a bind gets only MS_BIND|MS_REC first, since the kernel
 *      ignores every other flag of a new bind: they take a second, remount step, which
 *      keeps the source's nosuid/nodev/noexec;
 *   4. the propagation type, on the new mount. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/container/rootfs_steps.h"
#include "agent/container/sync.h"
#include "agent/container/validate.h"

#define BIND_FLAGS     (MS_BIND | MS_REC)
#define SECURITY_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static bool is_type(const struct pd_mount *m, const char *type)
{
	return m->type && strcmp(m->type, type) == 0;
}

static bool needs_real_dir(const struct pd_mount *m)
{
	return !m->bind && (is_type(m, "proc") || is_type(m, "sysfs"));
}

/* Files of /proc a bind may replace (lxcfs); anything else inside a procfs could redirect
 * what the kernel shows or takes, e.g. /proc/self/attr. The list is runc's. */
static bool proc_bind_allowed(const char *dest)
{
	static const char *const allowed[] = {
	    "/proc/cpuinfo", "/proc/diskstats",
	    "/proc/meminfo", "/proc/stat",
	    "/proc/swaps",   "/proc/uptime",
	    "/proc/loadavg", "/proc/slabinfo",
	    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(dest, allowed[i]) == 0)
			return true;
	return false;
}

/* proc/sysfs: RESOLVE_NO_SYMLINKS, so a symlink anywhere on the way is refused (ELOOP). */
static int open_real_dir(int root, const char *dest, struct pd_error *err)
{
	int fd = pd_in_root_open(root, dest, O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (fd == -ENOENT) {
		fd = pd_in_root_mkdirs(root, dest);
		if (fd >= 0) {
			close(fd);
			fd = pd_in_root_open(root, dest, O_DIRECTORY, RESOLVE_NO_SYMLINKS);
		}
	}
	if (fd == -ELOOP || fd == -ENOTDIR)
		return pd_error_set(err, PD_INVALID_ARGUMENT, -fd,
				    "mount destination %s: must be a real directory, not a symlink",
				    dest);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create mount destination %s", dest);
	return fd;
}

/* A bind's source, opened once and then used only through its fd. Below
 * /run/kata-containers — shares the host writes, volumes containers write (an emptyDir's
 * subPath) — no symlink is followed on the way: a container that swapped a subPath for
 * "sub -> /" would otherwise hand the guest's root to the next container that binds it (the
 * kubelet's CVE-2017-1002101, inside the VM). Elsewhere (the guest's own /dev, /sys) the
 * path is taken as it is. */
static int open_bind_source(const char *source, const char *dest, struct pd_error *err)
{
	size_t n = strlen(PD_KATA_ROOT);
	if (!source || source[0] != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bind mount on %s: the source must be an absolute path", dest);
	int fd = strncmp(source, PD_KATA_ROOT, n) == 0 && source[n] == '/'
		     ? pd_open_nosymlinks(source, 0)
		     : open(source, O_PATH | O_CLOEXEC);
	if (fd == -1)
		fd = -errno;
	if (fd == -ELOOP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
				    "bind source %s: is or passes through a symlink (paths below "
				    "%s are taken without symlinks)",
				    source, PD_KATA_ROOT);
	return fd >= 0 ? fd : pd_error_errno(err, -fd, "bind source %s", source);
}

static int open_destination(int root, const struct pd_mount *m, int src, struct pd_error *err)
{
	if (needs_real_dir(m))
		return open_real_dir(root, m->destination, err);
	bool file = false;
	struct stat st;
	if (src >= 0) {
		if (fstat(src, &st) < 0)
			return pd_error_errno(err, errno, "bind source %s", m->source);
		file = !S_ISDIR(st.st_mode);
	}
	int fd = file ? pd_in_root_mkfile(root, m->destination)
		      : pd_in_root_mkdirs(root, m->destination);
	if (fd == -ELOOP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
				    "mount destination %s: passes through a symlink whose target "
				    "is not in the rootfs",
				    m->destination);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create mount destination %s", m->destination);
	return fd;
}

static int check_not_in_proc(int fd, const struct pd_mount *m, struct pd_error *err)
{
	struct statfs st;
	if (fstatfs(fd, &st) < 0)
		return pd_error_errno(err, errno, "statfs mount destination %s", m->destination);
	if (st.f_type == PROC_SUPER_MAGIC && !(m->bind && proc_bind_allowed(m->destination)))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "mount on %s: inside /proc only binds over %s are allowed",
				    m->destination, "cpuinfo, meminfo, stat, uptime ... (lxcfs)");
	return 0;
}

static int mount_at(int fd, const struct pd_mount *m, int src)
{
	if (m->bind)
		return pd_bind_fd_on_fd(src, fd, m->flags & MS_REC);
	const char *source = m->source && m->source[0] ? m->source : m->type;
	return pd_mount_on_fd(source, fd, m->type, m->flags, m->data);
}

/* The second step of a bind: ro, nosuid... A remount sets every flag at once, so the
 * source's nosuid/nodev/noexec would be dropped by a plain "ro": we keep them (an "ro"
 * volume must not become suid or dev). In a user namespace the kernel also refuses to
 * change the atime flags the source has: on EPERM, try again keeping those too. */
static int remount_bind(int fd, unsigned long flags)
{
	unsigned long kept = pd_mount_kept_flags(fd);
	flags = MS_REMOUNT | MS_BIND | (flags & ~(BIND_FLAGS | MS_REMOUNT));
	int rc = pd_mount_on_fd(NULL, fd, NULL, flags | (kept & SECURITY_FLAGS), NULL);
	if (rc == -EPERM)
		rc = pd_mount_on_fd(NULL, fd, NULL, flags | kept, NULL);
	return rc;
}

/* Steps on the new mount itself, reached by resolving the destination again. */
static int finish(int root, const struct pd_mount *m, struct pd_error *err)
{
	bool remount = m->bind && (m->flags & ~(BIND_FLAGS | MS_REMOUNT));
	if (!remount && !m->propagation)
		return 0;
	int fd = pd_in_root_open(root, m->destination, 0, 0);
	if (fd < 0)
		return pd_error_errno(err, -fd, "reopen mount %s", m->destination);
	int rc = remount ? remount_bind(fd, m->flags) : 0;
	if (rc < 0) {
		close(fd);
		return pd_error_errno(err, -rc, "remount bind %s", m->destination);
	}
	rc = m->propagation ? pd_mount_on_fd(NULL, fd, NULL, m->propagation, NULL) : 0;
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, -rc, "set propagation of %s", m->destination);
	return 0;
}

/* sysfs follows the network namespace: in a user namespace that does not own it (a
 * container in the VM's network, as Kata runs them) mounting one is refused with EPERM.
 * runc binds the host's /sys then, and so do we, with the spec's flags on the bind. */
static struct pd_mount sys_bind(const struct pd_mount *m)
{
	struct pd_mount b = *m;
	b.type = NULL;
	b.source = "/sys";
	b.bind = true;
	b.flags |= BIND_FLAGS;
	b.data = NULL;
	return b;
}

static int mount_one(int root, const struct pd_mount *m, struct pd_error *err)
{
	struct pd_mount sys;
	char shown[PD_SHOWN_MAX];
	if (!pd_path_is_clean(m->destination) || strcmp(m->destination, "/") == 0)
		return pd_error_set(
		    err, PD_INVALID_ARGUMENT, 0,
		    "mount destination %s: not a clean absolute path below /",
		    pd_shown(m->destination ? m->destination : "", shown, sizeof(shown)));
	if (!m->bind && !m->type)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "mount on %s: no type",
				    m->destination);
	if (!m->bind && (is_type(m, "cgroup") || is_type(m, "cgroup2")))
		return pd_rootfs_mount_cgroup(root, m, err);
	int src = m->bind ? open_bind_source(m->source, m->destination, err) : -1;
	if (m->bind && src < 0)
		return -1;
	int fd = open_destination(root, m, src, err);
	if (fd < 0) {
		if (src >= 0)
			close(src);
		return -1;
	}
	int rc = check_not_in_proc(fd, m, err);
	if (rc == 0) {
		rc = mount_at(fd, m, src);
		if (rc == -EPERM && !m->bind && is_type(m, "sysfs")) {
			sys = sys_bind(m);
			m = &sys;
			src = open(sys.source, O_PATH | O_CLOEXEC);
			rc = src < 0 ? -errno : mount_at(fd, m, src);
		}
		if (rc < 0)
			pd_error_errno(err, -rc, "mount %s on %s", m->bind ? m->source : m->type,
				       m->destination);
	}
	close(fd);
	if (src >= 0)
		close(src);
	return rc < 0 ? -1 : finish(root, m, err);
}

int pd_rootfs_mount_all(int root, const struct pd_container_config *cfg, struct pd_error *err)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct pd_mount *m = &cfg->mounts[i];
		pd_sync_step("rootfs set-up: mount %zu of %zu, %.40s on %.40s", i + 1, cfg->n_mounts,
			     m->bind ? "bind" : m->type ? m->type : "?",
			     m->destination ? m->destination : "?");
		if (mount_one(root, m, err) < 0)
			return -1;
	}
	return 0;
}
