/* Storages as the sandbox keeps them: checks, references, the list. The filesystem work,
 * all of it through fds beneath the storage root, is storage_mount.c's. */
#include "storage.h"
#include "storage_steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/container/mountopts.h"
#include "agent/container/resolve.h"
#include "agent/container/validate.h"
#include "agent/log.h"

const char *const pd_storage_drivers[] = {"9p",	 "virtio-fs", "ephemeral", "local", "bind",
					  "blk", "mmioblk",   "scsi",	   "nvdimm"};
const size_t pd_storage_n_drivers = sizeof(pd_storage_drivers) / sizeof(pd_storage_drivers[0]);

bool pd_storage_is_block(const char *driver)
{
	static const char *const block[] = {"blk", "mmioblk", "scsi", "nvdimm"};
	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		if (strcmp(driver, block[i]) == 0)
			return true;
	return false;
}

static struct pd_storage *find(struct pd_sandbox *sb, const char *mount_point)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &sb->storages)
	{
		struct pd_storage *s = pd_container_of(pos, struct pd_storage, node);
		if (strcmp(s->mount_point, mount_point) == 0)
			return s;
	}
	return NULL;
}

static bool under_storage_root(const char *path)
{
	size_t n = strlen(PD_STORAGE_ROOT);
	return strncmp(path, PD_STORAGE_ROOT, n) == 0 && path[n] == '/';
}

static int check_spec(const struct pd_storage_spec *spec, struct pd_error *err)
{
	bool known = false;
	for (size_t i = 0; i < pd_storage_n_drivers; i++)
		known |= strcmp(spec->driver, pd_storage_drivers[i]) == 0;
	if (!known)
		return pd_error_set(err, PD_UNIMPLEMENTED, 0, "storage driver '%s' is not supported",
				    spec->driver);
	if (!under_storage_root(spec->mount_point))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "storage mount point %s is not under " PD_STORAGE_ROOT,
				    spec->mount_point);
	bool block = pd_storage_is_block(spec->driver);
	if (block && !spec->device)
		return pd_error_set(err, PD_INTERNAL, 0, "block storage %s: no device looked up",
				    spec->mount_point);
	if (block && (!spec->fstype || !spec->fstype[0]))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "block storage %s: no fstype (ext4, xfs, ...)", spec->mount_point);
	if (strcmp(spec->driver, "bind") == 0 &&
	    (!spec->source || !pd_path_is_clean(spec->source) || !under_storage_root(spec->source)))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bind storage source %s is not a clean path under " PD_STORAGE_ROOT,
				    spec->source ? spec->source : "");
	return 0;
}

/* A new storage: its directory (and mount) beneath the root, then its record. A share
 * already mounted there (kataShared, mounted at boot) is only recorded. */
static int mount_new(struct pd_sandbox *sb, const struct pd_storage_spec *spec, const char *mp,
		     struct pd_error *err)
{
	bool local = strcmp(spec->driver, "local") == 0;
	unsigned n = 0;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &sb->storages) n++;
	if (n >= PD_MAX_STORAGES)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "too many storages");
	struct pd_storage *s = calloc(1, sizeof(*s));
	char *copy = strdup(mp);
	if (!s || !copy) {
		free(s);
		free(copy);
		return pd_error_errno(err, ENOMEM, "storage record");
	}
	s->mount_point = copy;
	s->fd = -1;
	int root = pd_storage_root_open(err);
	int dir = root >= 0 ? pd_storage_dir_open(root, mp, err) : -1;
	bool premounted = dir >= 0 && !local && spec->source &&
			  strcmp(spec->source, "kataShared") == 0 && pd_fd_is_mount_root(dir);
	int rc = dir < 0 ? -1 : 0;
	if (rc == 0 && local)
		rc = pd_storage_local(dir, spec, err);
	else if (rc == 0 && !premounted)
		rc = (s->fd = pd_storage_mount(root, dir, spec, err)) < 0 ? -1 : 0;
	if (rc == 0)
		pd_storage_fs_group(s->fd >= 0 ? s->fd : dir, spec);
	if (dir >= 0)
		close(dir);
	if (root >= 0)
		close(root);
	if (rc < 0) {
		free(s->mount_point);
		free(s);
		return -1;
	}
	s->refs = 1;
	s->shared = spec->shared;
	pd_list_add_tail(&sb->storages, &s->node);
	pd_info("storage ready", "driver=%s mp=%s premounted=%d", spec->driver, mp, premounted);
	return 0;
}

int pd_storage_acquire(struct pd_sandbox *sb, const struct pd_storage_spec *spec,
		       struct pd_error *err)
{
	struct pd_arena a;
	char *mp;
	pd_arena_init(&a, 1 << 16);
	int rc = pd_validate_abs_path(spec->mount_point, "storage mount point", &a, &mp, err);
	struct pd_storage *s = rc == 0 ? find(sb, mp) : NULL;
	if (s) {
		s->refs++;
	} else if (rc == 0) {
		struct pd_storage_spec checked = *spec;
		checked.mount_point = mp;
		rc = check_spec(&checked, err);
		if (rc == 0)
			rc = mount_new(sb, &checked, mp, err);
	}
	pd_arena_free(&a);
	return rc;
}

static void storage_drop(struct pd_storage *s)
{
	pd_storage_unmount(s); /* only if we mounted it */
	pd_list_del(&s->node);
	free(s->mount_point);
	free(s);
}

void pd_storage_release(struct pd_sandbox *sb, const char *mount_point)
{
	struct pd_arena a;
	char *clean = NULL;
	pd_arena_init(&a, 1 << 16);
	pd_validate_abs_path(mount_point, "storage mount point", &a, &clean, NULL);
	struct pd_storage *s = clean ? find(sb, clean) : NULL;
	pd_arena_free(&a);
	/* A shared storage at zero references stays until the sandbox ends. */
	if (s && s->refs > 0 && --s->refs == 0 && !s->shared)
		storage_drop(s);
}

void pd_storage_release_all(struct pd_sandbox *sb)
{
	while (!pd_list_empty(&sb->storages))
		storage_drop(pd_container_of(sb->storages.prev, struct pd_storage, node));
}

void pd_storage_release_list(struct pd_sandbox *sb, char **mount_points, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		pd_storage_release(sb, mount_points[i]);
		free(mount_points[i]);
	}
	free(mount_points);
}

int pd_storage_remount_ephemeral(struct pd_sandbox *sb, const struct pd_storage_spec *spec,
				 struct pd_error *err)
{
	struct pd_arena a;
	char *mp = NULL, *data = NULL;
	unsigned long flags = 0, prop = 0;
	bool bind = false;
	pd_arena_init(&a, 1 << 20);
	int rc = pd_validate_abs_path(spec->mount_point, "storage mount point", &a, &mp, err);
	struct pd_storage *s = rc == 0 ? find(sb, mp) : NULL;
	if (rc == 0 && strcmp(spec->driver, "ephemeral") != 0)
		rc = pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				  "storage %s: only ephemeral storages can be updated", mp);
	else if (rc == 0 && (!s || s->fd < 0))
		rc = pd_error_set(err, PD_NOT_FOUND, 0, "no ephemeral storage mounted at %s", mp);
	if (rc == 0)
		rc = pd_mount_options_parse(spec->options, spec->n_options, &a, &flags, &prop, &data,
					    &bind, err);
	if (rc == 0)
		rc = pd_storage_remount(s, flags, data, err);
	pd_arena_free(&a);
	return rc;
}
