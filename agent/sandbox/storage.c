#include "storage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/mountopts.h"
#include "agent/container/validate.h"
#include "init/mounts.h"
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

/* 9p below 256 KiB msize is several times slower (measured): raise it. */
static int fix_9p_msize(struct pd_arena *a, char **data)
{
	const char *m = *data ? strstr(*data, "msize=") : NULL;
	if (m && (m == *data || m[-1] == ',') && strtoul(m + 6, NULL, 10) >= PD_9P_MIN_MSIZE)
		return 0;
	char buf[512];
	if (!*data || !**data) {
		snprintf(buf, sizeof(buf), "trans=virtio,version=9p2000.L,msize=%d", PD_9P_MIN_MSIZE);
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

static int do_mount(const struct pd_storage_spec *spec, const char *mp, struct pd_error *err)
{
	struct pd_arena a;
	pd_arena_init(&a, 1 << 20);
	unsigned long flags = 0, prop = 0;
	char *data = NULL;
	bool bind = false;
	int rc = pd_mount_options_parse(spec->options, spec->n_options, &a, &flags, &prop, &data,
					&bind, err);
	const char *type = spec->fstype;
	const char *d = spec->driver;
	const char *source = spec->device ? spec->device : spec->source;
	if (rc == 0 && strcmp(d, "9p") == 0) {
		type = "9p";
		rc = fix_9p_msize(&a, &data) < 0 ? pd_error_errno(err, ENOMEM, "9p options") : 0;
	} else if (strcmp(d, "virtio-fs") == 0) {
		type = "virtiofs";
	} else if (strcmp(d, "ephemeral") == 0) {
		type = type && *type ? type : "tmpfs";
	} else if (strcmp(d, "bind") == 0) {
		flags |= MS_BIND | MS_REC;
		type = NULL;
	}
	/* A disk mounted read-only is mounted so at once: ext4 would replay its journal. */
	unsigned long first = spec->device ? flags : flags & ~MS_RDONLY;
	if (rc == 0 && mount(source, mp, type, first, data) < 0)
		rc = pd_error_errno(err, errno, "mount %s (%s) on %s", source,
				    type ? type : "bind", mp);
	if (rc == 0 && (flags & MS_RDONLY) && !spec->device &&
	    mount(NULL, mp, NULL, MS_REMOUNT | (flags & MS_BIND) | flags, NULL) < 0) {
		rc = pd_error_errno(err, errno, "remount %s read-only", mp);
		umount2(mp, MNT_DETACH);
	}
	pd_arena_free(&a);
	return rc;
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
	if (strcmp(spec->driver, "bind") == 0 && !under_storage_root(spec->source))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "bind storage source %s is not under " PD_STORAGE_ROOT,
				    spec->source);
	return 0;
}

/* "mode=0777" and fs_group for a local (directory) storage, as Kata's local driver does. */
static int apply_local(const struct pd_storage_spec *spec, const char *mp, struct pd_error *err)
{
	for (size_t i = 0; i < spec->n_options; i++) {
		const char *o = spec->options[i];
		if (strncmp(o, "mode=", 5) == 0) {
			char *end;
			unsigned long mode = strtoul(o + 5, &end, 8);
			if (*end || mode > 07777)
				return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad %s", o);
			if (chmod(mp, (mode_t)mode) < 0)
				return pd_error_errno(err, errno, "chmod %s", mp);
		}
	}
	return 0;
}

static int mount_new(struct pd_sandbox *sb, const struct pd_storage_spec *spec, const char *mp,
		     struct pd_error *err)
{
	bool local = strcmp(spec->driver, "local") == 0;
	bool premounted = !local && pd_is_mount_point(mp, NULL) &&
			  spec->source && strcmp(spec->source, "kataShared") == 0;
	unsigned n = 0;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &sb->storages) n++;
	if (n >= PD_MAX_STORAGES)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "too many storages");
	if (pd_mkdir_p(mp, 0755, err) < 0)
		return -1;
	if (local ? apply_local(spec, mp, err) < 0 : (!premounted && do_mount(spec, mp, err) < 0))
		return -1;
	if (spec->has_fs_group && chown(mp, (uid_t)-1, spec->fs_group) < 0)
		pd_warn("storage fs_group not applied", "mp=%s errno=%d", mp, errno);
	struct pd_storage *s = calloc(1, sizeof(*s));
	char *copy = strdup(mp);
	if (!s || !copy) {
		free(s);
		free(copy);
		if (!local && !premounted)
			umount2(mp, MNT_DETACH);
		return pd_error_errno(err, ENOMEM, "storage record");
	}
	s->mount_point = copy;
	s->refs = 1;
	s->shared = spec->shared;
	s->mounted = !local && !premounted;
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
	if (s->mounted && umount2(s->mount_point, MNT_DETACH) < 0)
		pd_warn("storage unmount failed", "mp=%s errno=%d", s->mount_point, errno);
	if (s->mounted)
		rmdir(s->mount_point); /* only if empty: a directory, never its contents */
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
	else if (rc == 0 && (!s || !s->mounted))
		rc = pd_error_set(err, PD_NOT_FOUND, 0, "no ephemeral storage mounted at %s", mp);
	if (rc == 0)
		rc = pd_mount_options_parse(spec->options, spec->n_options, &a, &flags, &prop, &data,
					    &bind, err);
	if (rc == 0 && mount(NULL, mp, NULL, MS_REMOUNT | flags, data) < 0)
		rc = pd_error_errno(err, errno, "remount %s (%s)", mp, data ? data : "");
	pd_arena_free(&a);
	return rc;
}
