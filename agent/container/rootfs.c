/* pd_rootfs_setup: the order of the steps (docs/rootfs.md says why in more words).
 *
 *   1. "/" rslave (rprivate if the spec asks): our mounts must never reach the agent.
 *   2. The rootfs, found without following any symlink, bound onto itself: pivot_root needs
 *      a mount point, and every later path is resolved from an fd of that mount.
 *   3. Mounts, devices, the cwd, masked and readonly paths, the read-only root: all while
 *      the agent's /proc is still visible, since each mount goes through /proc/self/fd.
 *   4. pivot_root (or move + chroot from an initramfs), then the spec's root propagation
 *      if it is one the first step could not give (shared, unbindable): only now is "/"
 *      the container's own mount, so it cannot affect the agent's. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/rootfs.h"
#include "agent/container/rootfs_steps.h"
#include "agent/container/sync.h"
#include "agent/container/validate.h"
#include "agent/log.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define ROOT_RESOLVE (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static int isolate_from_agent(const struct pd_container_config *cfg, struct pd_error *err)
{
	unsigned long flags = (cfg->rootfs_propagation & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE;
	if (mount(NULL, "/", NULL, flags | MS_REC, NULL) < 0)
		return pd_error_errno(err, errno, "make / %s",
				      flags == MS_PRIVATE ? "rprivate" : "rslave");
	return 0;
}

/* The rootfs path itself must be free of symlinks (Kata: cleaned path == canonical path). */
static int open_rootfs_path(const char *path, struct pd_error *err)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = ROOT_RESOLVE};
	char shown[PD_SHOWN_MAX];
	if (!pd_path_is_clean(path))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "rootfs %s: not a clean absolute path",
				    pd_shown(path ? path : "", shown, sizeof(shown)));
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
				    "rootfs %s: the path is or contains a symlink", path);
	if (errno == ENOSYS)
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOSYS,
				    "openat2: the kernel lacks it (Linux 5.6 or later is needed)");
	return pd_error_errno(err, errno, "open rootfs %s", path);
}

static bool same_inode(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Bind the rootfs onto itself; the fd returned is on the new mount (opened again by path,
 * which now crosses into it) and checked to be the same directory. */
static int bind_rootfs(const char *path, struct pd_error *err)
{
	int under = open_rootfs_path(path, err);
	if (under < 0)
		return -1;
	int rc = pd_bind_fd_on_fd(under, under, MS_REC);
	if (rc < 0) {
		close(under);
		return pd_error_errno(err, -rc, "bind rootfs %s onto itself", path);
	}
	int root = open_rootfs_path(path, err);
	if (root >= 0 && !same_inode(under, root)) {
		close(root);
		root =
		    pd_error_set(err, PD_ABORTED, 0, "rootfs %s changed while it was bound", path);
	}
	close(under);
	return root;
}

/* Kata creates a missing cwd as root before the root may turn read-only. */
static int make_cwd(int root, const char *cwd, struct pd_error *err)
{
	if (!cwd || !pd_path_is_clean(cwd) || strcmp(cwd, "/") == 0)
		return 0; /* nothing to create; a bad cwd fails at chdir, naming it */
	int fd = pd_in_root_mkdirs(root, cwd);
	if (fd < 0)
		return pd_error_errno(err, -fd, "create cwd %s", cwd);
	close(fd);
	return 0;
}

static int readonly_root(int root, struct pd_error *err)
{
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | pd_mount_kept_flags(root);
	int rc = pd_mount_on_fd(NULL, root, NULL, flags, NULL);
	if (rc < 0)
		return pd_error_errno(err, -rc, "remount / read-only");
	return 0;
}

static int prepare(int root, const struct pd_container_config *cfg, struct pd_error *err)
{
	if (pd_rootfs_mount_all(root, cfg, err) < 0 || pd_rootfs_devices(root, cfg, err) < 0 ||
	    make_cwd(root, cfg->process.cwd, err) < 0 ||
	    pd_rootfs_mask_paths(root, cfg->masked_paths, cfg->n_masked_paths, err) < 0 ||
	    pd_rootfs_readonly_paths(root, cfg->readonly_paths, cfg->n_readonly_paths, err) < 0)
		return -1;
	return cfg->rootfs_readonly ? readonly_root(root, err) : 0;
}

static int root_propagation(const struct pd_container_config *cfg, struct pd_error *err)
{
	unsigned long p = cfg->rootfs_propagation;
	if (!(p & (MS_SHARED | MS_UNBINDABLE)))
		return 0; /* slave or private: done in the first step */
	if (mount(NULL, "/", NULL, p, NULL) < 0)
		return pd_error_errno(err, errno, "set the propagation of /");
	return 0;
}

int pd_rootfs_setup(const struct pd_container_config *cfg, bool no_pivot, struct pd_error *err)
{
	if (isolate_from_agent(cfg, err) < 0)
		return -1;
	int root = bind_rootfs(cfg->rootfs, err);
	if (root < 0)
		return -1;
	int rc = prepare(root, cfg, err);
	if (rc == 0) {
		pd_sync_step("rootfs set-up: %s", no_pivot ? "chroot" : "pivot_root");
		rc = pd_rootfs_enter(root, no_pivot, err);
	}
	close(root);
	if (rc == 0)
		rc = root_propagation(cfg, err);
	if (rc == 0)
		pd_debug("rootfs ready", "rootfs=%s pivot=%s", cfg->rootfs,
			 no_pivot ? "no" : "yes");
	return rc;
}
