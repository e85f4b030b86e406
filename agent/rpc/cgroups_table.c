/* The side table of containers' cgroups and the hooks the container lifecycle calls:
 * prepare (before the spawn), created, create_failed, kill_all, removed, sandbox_destroyed.
 * A cgroup that cannot be removed yet (a process still dying) waits on the busy list and is
 * retried at the next hook: nothing here blocks the loop. */
#include "cgroups_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/rpc/resources.h"

struct pd_rpc_cg_state pd_rpc_cg;

void pd_rpc_cgroups_init(struct pd_agent *agent)
{
	struct pd_rpc_cg_state *g = &pd_rpc_cg;
	if (g->ready)
		return;
	g->ready = true;
	g->loop = &agent->loop;
	pd_list_init(&g->entries);
	pd_list_init(&g->busy);
	pd_list_init(&g->oom_waiters);
	snprintf(g->root, sizeof(g->root), "%s", PD_CGROUP_ROOT_DIR);
	const char *parent = agent->is_pid1 ? NULL : getenv("PIDONE_CGROUP_PARENT");
	const char *root = agent->is_pid1 ? NULL : getenv("PIDONE_CGROUP_ROOT");
	g->enabled = agent->is_pid1 || (parent && parent[0]);
	if (parent)
		snprintf(g->parent, sizeof(g->parent), "%s", parent);
	if (root && root[0])
		snprintf(g->root, sizeof(g->root), "%s", root);
	if (g->enabled && pd_cgroup_detect(g->root) == PD_CGROUP_NONE) {
		pd_warn("no cgroups: containers run without limits", "root=%s", g->root);
		g->enabled = false;
	}
	g->version = g->enabled ? pd_cgroup_detect(g->root) : PD_CGROUP_NONE;
	pd_debug("cgroups", "enabled=%d root=%s parent=%s version=%d", g->enabled, g->root,
		 g->parent, g->version);
}

int pd_rpc_cgroups_version(struct pd_agent *agent)
{
	pd_rpc_cgroups_init(agent);
	return pd_rpc_cg.enabled ? pd_rpc_cg.version : PD_CGROUP_NONE;
}

struct pd_rpc_cg *pd_rpc_cg_find(const char *id)
{
	struct pd_list *pos, *tmp;
	if (!pd_rpc_cg.ready)
		return NULL;
	pd_list_for_each_safe(pos, tmp, &pd_rpc_cg.entries)
	{
		struct pd_rpc_cg *e = pd_container_of(pos, struct pd_rpc_cg, node);
		if (strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

int pd_rpc_cgroups_cpus_online(struct pd_error *err)
{
	struct pd_list *pos, *tmp;
	struct pd_error first = {0};
	unsigned n = 0;
	if (!pd_rpc_cg.ready || !pd_rpc_cg.enabled)
		return 0;
	pd_list_for_each_safe(pos, tmp, &pd_rpc_cg.entries)
	{
		struct pd_rpc_cg *e = pd_container_of(pos, struct pd_rpc_cg, node);
		struct pd_error e1;
		if (pd_cgroup_cpuset_online(e->cg, &e1) == 0)
			n++;
		else if (first.code == PD_OK)
			first = e1;
	}
	pd_debug("container cpusets follow the online CPUs", "updated=%u", n);
	if (first.code == PD_OK)
		return 0;
	if (err)
		*err = first;
	return -1;
}

static void entry_free(struct pd_rpc_cg *e)
{
	pd_rpc_oom_unwatch(e);
	pd_list_del(&e->node);
	pd_cgroup_free(e->cg);
	free(e);
}

/* rmdir now, or kill what is left and retry later. */
static void remove_or_park(struct pd_rpc_cg *e)
{
	struct pd_error err;
	pd_rpc_oom_unwatch(e);
	pd_list_del(&e->node);
	e->ctr = NULL;
	if (pd_cgroup_remove(e->cg, &err) == 0) {
		entry_free(e);
		return;
	}
	pd_debug("cgroup busy, removal retried later", "cid=%s err=\"%s\"", e->id, err.msg);
	pd_cgroup_kill_all(e->cg, &err);
	pd_list_add_tail(&pd_rpc_cg.busy, &e->node);
}

static void retry_busy(void)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &pd_rpc_cg.busy)
	{
		struct pd_rpc_cg *e = pd_container_of(pos, struct pd_rpc_cg, node);
		struct pd_error err;
		if (pd_cgroup_remove(e->cg, &err) == 0)
			entry_free(e);
	}
}

static bool path_in_use(const char *path)
{
	struct pd_list *lists[] = {&pd_rpc_cg.entries, &pd_rpc_cg.busy};
	for (int l = 0; l < 2; l++) {
		struct pd_list *pos, *tmp;
		pd_list_for_each_safe(pos, tmp, lists[l])
		{
			struct pd_rpc_cg *e = pd_container_of(pos, struct pd_rpc_cg, node);
			if (strcmp(pd_cgroup_path(e->cg), path) == 0)
				return true;
		}
	}
	return false;
}

/* The devices pidone makes in the container's /dev are allowed after the spec's rules. */
static int allow_spec_devices(const struct pd_container_config *cfg, struct pd_arena *a,
			      struct pd_resources *res, struct pd_error *err)
{
	if (!cfg->n_devices)
		return 0;
	size_t n = res->n_devices;
	struct pd_device_rule *r = pd_arena_calloc(a, n + cfg->n_devices, sizeof(*r));
	if (!r)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "device rules");
	if (n)
		memcpy(r, res->devices, n * sizeof(*r));
	for (size_t i = 0; i < cfg->n_devices; i++) {
		const struct pd_device *d = &cfg->devices[i];
		if (d->type == 'p')
			continue; /* a fifo is not a device the cgroup controls */
		r[n++] = (struct pd_device_rule){true, d->type == 'b' ? 'b' : 'c', d->major,
						 d->minor, "rwm"};
	}
	res->devices = r;
	res->n_devices = n;
	res->has_devices = true;
	return 0;
}

int pd_rpc_cgroups_prepare(struct pd_agent *agent, const struct pd_container_config *cfg,
			   const Grpc__LinuxResources *pb, struct pd_cgroup **out,
			   struct pd_error *err)
{
	pd_rpc_cgroups_init(agent);
	retry_busy();
	*out = NULL;
	if (!pd_rpc_cg.enabled)
		return 0;
	char path[PD_CGROUP_PATH_MAX + 1];
	struct pd_arena a;
	struct pd_resources res;
	struct pd_rpc_cg *e = NULL;
	pd_arena_init(&a, PD_CONFIG_BYTES);
	int rc = -1;
	if (pd_rpc_resources_from_pb(pb, &a, &res, err) < 0 ||
	    allow_spec_devices(cfg, &a, &res, err) < 0 ||
	    pd_cgroup_path_from_spec(pd_rpc_cg.parent, cfg->cgroups_path, cfg->id, path,
				     sizeof(path), err) < 0)
		goto out;
	if (path_in_use(path) || pd_rpc_cg_find(cfg->id)) {
		pd_error_set(err, PD_ALREADY_EXISTS, 0, "cgroup %s is in use by another container",
			     path);
		goto out;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		pd_error_errno(err, ENOMEM, "cgroup entry");
		goto out;
	}
	if (pd_cgroup_create(pd_rpc_cg.root, path, &res, &e->cg, err) < 0) {
		free(e);
		goto out;
	}
	snprintf(e->id, sizeof(e->id), "%s", cfg->id);
	e->loop = pd_rpc_cg.loop;
	e->oom.fd = -1;
	pd_list_add_tail(&pd_rpc_cg.entries, &e->node);
	*out = e->cg;
	rc = 0;
out:
	pd_arena_free(&a);
	return rc;
}

void pd_rpc_cgroups_created(struct pd_container *ctr)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(ctr->id);
	if (!e)
		return;
	e->ctr = ctr;
	if (strcmp(ctr->id, ctr->sb->id) != 0)
		pd_rpc_oom_watch(e);
}

void pd_rpc_cgroups_create_failed(const char *cid)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(cid);
	if (e)
		remove_or_park(e);
}

struct pd_cgroup *pd_rpc_cgroups_of(const struct pd_container *ctr)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(ctr->id);
	return e ? e->cg : NULL;
}

void pd_rpc_cgroups_kill_all(struct pd_container *ctr)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(ctr->id);
	struct pd_error err;
	if (e && pd_cgroup_kill_all(e->cg, &err) < 0)
		pd_warn("cgroup kill failed", "cid=%s err=\"%s\"", ctr->id, err.msg);
}

void pd_rpc_cgroups_removed(struct pd_container *ctr)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(ctr->id);
	if (e)
		remove_or_park(e);
	if (pd_rpc_cg.ready)
		retry_busy();
}

void pd_rpc_cgroups_sandbox_destroyed(void)
{
	if (!pd_rpc_cg.ready)
		return;
	pd_rpc_cg.destroyed = true;
	pd_rpc_oom_fail_waiters();
	pd_rpc_cg.count = 0;
	struct pd_list *lists[] = {&pd_rpc_cg.entries, &pd_rpc_cg.busy};
	for (int l = 0; l < 2; l++) {
		struct pd_list *pos, *tmp;
		pd_list_for_each_safe(pos, tmp, lists[l])
		{
			struct pd_rpc_cg *e = pd_container_of(pos, struct pd_rpc_cg, node);
			struct pd_error err;
			pd_rpc_oom_unwatch(e);
			if (pd_cgroup_remove(e->cg, &err) < 0) {
				pd_cgroup_kill_all(e->cg, &err);
				if (pd_cgroup_remove(e->cg, &err) < 0)
					pd_warn("cgroup left behind", "cid=%s err=\"%s\"", e->id,
						err.msg);
			}
			entry_free(e);
		}
	}
	if (pd_rpc_cg.parent[0]) /* host mode: the parent made on demand, once empty */
		pd_cgroup_remove_parent(pd_rpc_cg.root, pd_rpc_cg.parent);
}

size_t pd_rpc_cgroups_paths(const char *cid, const char **names, const char **paths, size_t max)
{
	struct pd_rpc_cg *e = pd_rpc_cg_find(cid);
	return e ? pd_cgroup_paths(e->cg, names, paths, max) : 0;
}
