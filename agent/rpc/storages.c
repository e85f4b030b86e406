#include "storages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/guest/guest.h"
#include "agent/sandbox/storage.h"

/* Every block storage's source, parsed before any waiting: bad input fails at once. */
static int storage_wants(Grpc__Storage *const *st, size_t n, struct pd_blk_want *w,
			 struct pd_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (pd_storage_is_block(st[i]->driver) &&
		    pd_blk_want_parse(st[i]->driver, st[i]->source, &w[i], err) < 0)
			return pd_error_wrap(err, "storage %zu (%s at %s)", i, st[i]->driver,
					     st[i]->mount_point);
	return 0;
}

int pd_rpc_storages_devices(const struct pd_devwait_req *r, Grpc__Storage *const *st, size_t n,
			    struct pd_blk_found **found, struct pd_error *err)
{
	*found = NULL;
	if (n > PD_MAX_STORAGES)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "too many storages (%zu)", n);
	struct pd_blk_found *f = calloc(n ? n : 1, sizeof(*f));
	struct pd_blk_want *w = calloc(n ? n : 1, sizeof(*w));
	int rc = f && w ? storage_wants(st, n, w, err) : pd_error_errno(err, ENOMEM, "storages");
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (pd_storage_is_block(st[i]->driver))
			rc = pd_devwait_find(r, PD_GUEST_SYSFS, &w[i], &f[i], err);
	free(w);
	if (rc != 0) {
		free(f);
		return rc;
	}
	*found = f;
	return 0;
}

static int acquire_one(struct pd_sandbox *sb, const Grpc__Storage *s,
		       const struct pd_blk_found *dev, bool shared, struct pd_error *err)
{
	char node[PD_BLK_NAME_MAX + 8];
	snprintf(node, sizeof(node), PD_GUEST_DEV "/%s", dev ? dev->name : "");
	struct pd_storage_spec spec = {
		.device = dev && dev->name[0] ? node : NULL,
		.driver = s->driver,
		.source = s->source,
		.fstype = s->fstype,
		.mount_point = s->mount_point,
		.options = s->options,
		.n_options = s->n_options,
		.shared = shared || s->shared,
		.has_fs_group = s->fs_group != NULL,
		.fs_group = s->fs_group ? s->fs_group->group_id : 0,
	};
	return pd_storage_acquire(sb, &spec, err);
}

int pd_rpc_storages_acquire(struct pd_sandbox *sb, Grpc__Storage *const *st,
			    const struct pd_blk_found *devs, size_t n, bool shared, char ***mount_points, size_t *n_mount_points,
			    struct pd_error *err)
{
	*mount_points = NULL;
	*n_mount_points = 0;
	if (n > PD_MAX_STORAGES)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "too many storages (%zu)", n);
	char **mps = calloc(n ? n : 1, sizeof(*mps));
	if (!mps)
		return pd_error_errno(err, ENOMEM, "storages");
	size_t i;
	for (i = 0; i < n; i++) {
		if (acquire_one(sb, st[i], devs ? &devs[i] : NULL, shared, err) < 0)
			break;
		if (!(mps[i] = strdup(st[i]->mount_point))) {
			pd_storage_release(sb, st[i]->mount_point);
			pd_error_errno(err, ENOMEM, "storages");
			break;
		}
	}
	if (i < n) {
		pd_error_wrap(err, "storage %zu (%s)", i, st[i]->driver);
		pd_storage_release_list(sb, mps, i);
		return -1;
	}
	*mount_points = mps;
	*n_mount_points = n;
	return 0;
}
