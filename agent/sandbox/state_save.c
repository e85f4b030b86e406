/* The container's state.json, rewritten on every change of state (runc's layout, under
 * /run/libcontainer/<sandbox-id>/<container-id>/). */
#include "container.h"

#include <stdio.h>

#include "agent/container/state.h"
#include "agent/log.h"

static const char *status_name(int status)
{
	switch (status) {
	case PD_CTR_CREATED:
		return "created";
	case PD_CTR_RUNNING:
		return "running";
	case PD_CTR_PAUSED:
		return "paused";
	default:
		return "stopped";
	}
}

void pd_container_save_state(struct pd_container *ctr)
{
	char paths[PD_NS_COUNT][64];
	struct pd_state st = {
		.id = ctr->id,
		.init_pid = ctr->init ? ctr->init->pid : 0,
		.init_start = ctr->init_start_ticks,
		.created = ctr->created,
		.status = status_name(ctr->status),
		.cfg = &ctr->cfg,
	};
	for (int t = 0; t < PD_NS_COUNT; t++) {
		if (!ctr->cfg.ns[t].enabled)
			continue;
		if (ctr->cfg.ns[t].path)
			st.ns_paths[t] = ctr->cfg.ns[t].path;
		else if (st.init_pid > 0) {
			snprintf(paths[t], sizeof(paths[t]), "/proc/%d/ns/%s", (int)st.init_pid,
				 pd_ns_proc_name(t));
			st.ns_paths[t] = paths[t];
		}
	}
	const char *cg_names[16], *cg_paths[16];
	if (ctr->cgroup) {
		size_t n = pd_cgroup_paths(ctr->cgroup, cg_names, cg_paths, 16);
		st.cgroup_names = cg_names;
		st.cgroup_paths = cg_paths;
		st.n_cgroups = n < 16 ? n : 16;
	}
	struct pd_error err;
	if (pd_state_write(PD_STATE_ROOT, ctr->sb->id, &st, &err) < 0)
		pd_warn("state not written", "cid=%s err=\"%s\"", ctr->id, err.msg);
}

void pd_container_remove_state(struct pd_container *ctr)
{
	struct pd_error err;
	if (pd_state_remove(PD_STATE_ROOT, ctr->sb->id, ctr->id, &err) < 0)
		pd_debug("state not removed", "cid=%s err=\"%s\"", ctr->id, err.msg);
}
