/* storage_mount.c: the filesystem side of storages, every step through an fd resolved
 * beneath PD_STORAGE_ROOT without symlinks. Private to storage.c and storage_mount.c. */
#ifndef PD_SANDBOX_STORAGE_STEPS_H
#define PD_SANDBOX_STORAGE_STEPS_H

#include "agent/sandbox/storage.h"

/* O_PATH fd of PD_STORAGE_ROOT (made 0755 if missing), opened without following symlinks. */
int pd_storage_root_open(struct pd_error *err);

/* O_PATH fd of the directory mp (below PD_STORAGE_ROOT), missing directories made 0755 one
 * at a time beneath root; a symlink on the way is INVALID_ARGUMENT. */
int pd_storage_dir_open(int root, const char *mp, struct pd_error *err);

/* Mount spec (not local) onto dir: the attached mount's fd, which pd_storage_unmount and
 * pd_storage_remount act on. */
int pd_storage_mount(int root, int dir, const struct pd_storage_spec *spec, struct pd_error *err);

/* A local storage: its "mode=" option applied to dir with fchmod. */
int pd_storage_local(int dir, const struct pd_storage_spec *spec, struct pd_error *err);

/* fs_group: the group of fd's inode (a warning if it cannot be set, as Kata). */
void pd_storage_fs_group(int fd, const struct pd_storage_spec *spec);

/* Unmount s->fd's mount (detached), close it, remove the empty directory. */
void pd_storage_unmount(struct pd_storage *s);

/* MS_REMOUNT of exactly s's mount with flags and data. */
int pd_storage_remount(struct pd_storage *s, unsigned long flags, const char *data,
		       struct pd_error *err);

#endif
