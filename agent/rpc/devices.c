#include "devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/guest/guest.h"
#include "agent/rpc/storages.h"

int pd_rpc_device_want(const Grpc__Device *d, struct pd_blk_want *w, struct pd_error *err)
{
	const char *t = d->type ? d->type : "";
	const char *source = NULL;
	if (strcmp(t, "blk") == 0)
		source = d->id && d->id[0] ? d->id : d->vm_path;
	else if (strcmp(t, "mmioblk") == 0 || strcmp(t, "nvdimm") == 0)
		source = d->vm_path;
	else if (strcmp(t, "scsi") == 0)
		source = d->id;
	if (!source)
		return pd_error_set(
		    err, PD_UNIMPLEMENTED, 0,
		    "device type '%.32s' is not supported (blk, mmioblk, scsi, nvdimm)", t);
	/* nvdimm is a /dev/pmemN name, found like an mmio disk. */
	return pd_blk_want_parse(strcmp(t, "nvdimm") == 0 ? "mmioblk" : t, source, w, err);
}

static Grpc__LinuxDevice *spec_device(Grpc__Linux *l, const char *path)
{
	for (size_t i = 0; l && i < l->n_devices; i++)
		if (l->devices[i]->path && strcmp(l->devices[i]->path, path) == 0)
			return l->devices[i];
	return NULL;
}

static bool rule_names(const Grpc__LinuxDeviceCgroup *g, const char *type, int64_t major,
		       int64_t minor)
{
	bool type_ok = !g->type || !g->type[0] || strcmp(g->type, "a") == 0 ||
		       (type && strcmp(g->type, type) == 0);
	return type_ok && g->major == major && g->minor == minor;
}

int pd_rpc_devices_check(const Grpc__Spec *oci, Grpc__Device *const *d, size_t n,
			 struct pd_error *err)
{
	Grpc__Linux *l = oci ? oci->linux_ : NULL;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (d[i]->container_path[0] &&
			    strcmp(d[i]->container_path, d[j]->container_path) == 0)
				return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
						    "devices %zu and %zu both go to %s", j, i,
						    d[i]->container_path);
		if (d[i]->container_path[0] && !spec_device(l, d[i]->container_path))
			return pd_error_set(err, PD_NOT_FOUND, 0,
					    "device %zu (%s): the spec has no linux.devices entry "
					    "at %s",
					    i, d[i]->id, d[i]->container_path);
	}
	return 0;
}

int pd_rpc_devices_rewrite(Grpc__Spec *oci, Grpc__Device *const *d, size_t n,
			   const struct pd_blk_found *found, struct pd_error *err)
{
	Grpc__Linux *l = oci ? oci->linux_ : NULL;
	Grpc__LinuxResources *res = l ? l->resources : NULL;
	size_t n_rules = res ? res->n_devices : 0;
	if (pd_rpc_devices_check(oci, d, n, err) < 0)
		return -1;
	bool *done = calloc(n_rules ? n_rules : 1, sizeof(*done));
	if (!done)
		return pd_error_errno(err, ENOMEM, "device rules");
	for (size_t i = 0; i < n; i++) {
		Grpc__LinuxDevice *e =
		    d[i]->container_path[0] ? spec_device(l, d[i]->container_path) : NULL;
		if (!e)
			continue;
		int64_t host_major = e->major, host_minor = e->minor;
		e->major = found[i].major;
		e->minor = found[i].minor;
		for (size_t k = 0; k < n_rules; k++) {
			if (done[k] ||
			    !rule_names(res->devices[k], e->type, host_major, host_minor))
				continue;
			res->devices[k]->major = found[i].major;
			res->devices[k]->minor = found[i].minor;
			done[k] = true;
		}
	}
	free(done);
	return 0;
}

int pd_rpc_create_devices(const struct pd_devwait_req *r, Grpc__CreateContainerRequest *req,
			  struct pd_blk_found **storage_devs, struct pd_error *err)
{
	size_t n = req->n_devices;
	*storage_devs = NULL;
	if (n > PD_MAX_DEVICE_MSGS)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "too many devices (%zu)", n);
	struct pd_blk_found *found = calloc(n ? n : 1, sizeof(*found));
	struct pd_blk_want *wants = calloc(n ? n : 1, sizeof(*wants));
	int rc = found && wants ? 0 : pd_error_errno(err, ENOMEM, "devices");
	/* Bad input fails before any waiting. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((rc = pd_rpc_device_want(req->devices[i], &wants[i], err)) < 0)
			pd_error_wrap(err, "device %zu (%s)", i, req->devices[i]->id);
	if (rc == 0)
		rc = pd_rpc_devices_check(req->oci, req->devices, n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pd_devwait_find(r, PD_GUEST_SYSFS, &wants[i], &found[i], err);
	free(wants);
	if (rc == 0)
		rc = pd_rpc_devices_rewrite(req->oci, req->devices, n, found, err);
	free(found);
	if (rc == 0)
		rc = pd_rpc_storages_devices(r, req->storages, req->n_storages, storage_devs, err);
	return rc;
}
