/* Storages the host asks for (CreateSandbox, CreateContainer): filesystems mounted in the
 * guest, reference-counted by mount point (a second user only takes a reference; the last
 * release unmounts). Drivers: 9p, virtio-fs, ephemeral (tmpfs), local (a directory), bind,
 * and the block drivers blk, mmioblk, scsi, nvdimm (a disk the caller has found: `device`).
 * Mount points must lie under /run/kata-containers: the host does not get to mount over the
 * guest's own directories. They are resolved beneath it without following any symlink, and
 * every mkdir, mount, chmod and chown acts on an fd (storage_mount.c). */
#ifndef PD_SANDBOX_STORAGE_H
#define PD_SANDBOX_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/container/resolve.h"
#include "agent/sandbox/sandbox.h"

#define PD_STORAGE_ROOT PD_KATA_ROOT
#define PD_MAX_STORAGES 256
#define PD_9P_MIN_MSIZE 262144

/* The drivers pd_storage_acquire accepts (GetGuestDetails reports them). */
extern const char *const pd_storage_drivers[];
extern const size_t pd_storage_n_drivers;

struct pd_storage_spec {
	const char *driver;
	const char *source;
	const char *fstype;
	const char *mount_point;
	const char *device; /* block drivers: the guest's node, "/dev/vdb" */
	char *const *options;
	size_t n_options;
	bool shared; /* kept until the sandbox ends */
	bool has_fs_group;
	gid_t fs_group;
};

struct pd_storage {
	char *mount_point;
	unsigned refs;
	bool shared;
	int fd; /* the mount we made (fsmount/open_tree, moved here), or -1: a directory we
		 * made, or a share already there. Remount and unmount act on it, not on
		 * the path. */
	struct pd_list node;
};

/* A block driver: its source names a disk to find (agent/device/blockdev.h) first. */
bool pd_storage_is_block(const char *driver);
/* Mount (or take a reference on) one storage. */
int pd_storage_acquire(struct pd_sandbox *sb, const struct pd_storage_spec *spec,
		       struct pd_error *err);
/* Drop a reference; the last one unmounts (non-shared storages). */
void pd_storage_release(struct pd_sandbox *sb, const char *mount_point);
/* Release every mount point of a list (malloc'd strings and array) and free it. */
void pd_storage_release_list(struct pd_sandbox *sb, char **mount_points, size_t n);
/* UpdateEphemeralMounts: remount an ephemeral (tmpfs) storage we hold with new options
 * (a new size, as Kata's runtime sends when a pod's memory limit changes). */
int pd_storage_remount_ephemeral(struct pd_sandbox *sb, const struct pd_storage_spec *spec,
				 struct pd_error *err);
/* Sandbox end: unmount everything, newest first. */
void pd_storage_release_all(struct pd_sandbox *sb);

#endif
