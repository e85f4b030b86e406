/* UpdateContainer, StatsContainer, PauseContainer, ResumeContainer, GetOOMEvent: find the
 * container and its cgroup, call the cgroup engine (agent/cgroup/), answer.
 *
 * An unknown container is NOT_FOUND, as everywhere in pidone (the Kata agent says
 * INVALID_ARGUMENT "invalid container id" here). A container without a cgroup (cgroups not
 * available) is FAILED_PRECONDITION. Pause needs Created or Running, Resume needs Paused,
 * else FAILED_PRECONDITION; Resume gives back the state Pause found (Kata always says
 * Running, which would make a paused-then-resumed Created container unstartable). */
#include "cgroups_internal.h"

#include "agent.pb-c.h"
#include "agent/log.h"
#include "agent/rpc/lookup.h"
#include "agent/rpc/resources.h"
#include "agent/rpc/stats_pb.h"
#include "agent/sandbox/container.h"

static struct pd_rpc_cg *find(struct pd_call *call, const char *cid, struct pd_error *err)
{
	pd_rpc_cgroups_init(pd_call_agent(call));
	struct pd_container *ctr = pd_rpc_find_container(call, cid, err);
	if (!ctr)
		return NULL;
	struct pd_rpc_cg *e = pd_rpc_cg_find(ctr->id);
	if (!e || e->ctr != ctr) {
		pd_error_set(err, PD_FAILED_PRECONDITION, 0,
			     "container %s has no cgroup (cgroups are not available)", ctr->id);
		return NULL;
	}
	return e;
}

static int rpc_update_container(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__UpdateContainerRequest *req = (const void *)msg;
	struct pd_rpc_cg *e = find(call, req->container_id, err);
	if (!e)
		return -1;
	struct pd_arena a;
	struct pd_resources res;
	pd_arena_init(&a, PD_CONFIG_BYTES);
	int rc = pd_rpc_resources_from_pb(req->resources, &a, &res, err);
	if (rc == 0)
		rc = pd_cgroup_update(e->cg, &res, err);
	pd_arena_free(&a);
	if (rc < 0)
		return pd_error_wrap(err, "update container %s", e->id);
	pd_info("container updated", "cid=%s", e->id);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_stats_container(struct pd_call *call, const ProtobufCMessage *msg,
			       struct pd_error *err)
{
	const Grpc__StatsContainerRequest *req = (const void *)msg;
	struct pd_rpc_cg *e = find(call, req->container_id, err);
	if (!e)
		return -1;
	struct pd_cgroup_stats st;
	if (pd_cgroup_stats(e->cg, &st, err) < 0)
		return -1;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	Grpc__StatsContainerResponse resp = GRPC__STATS_CONTAINER_RESPONSE__INIT;
	int rc = pd_rpc_stats_to_pb(&st, &a, &resp.cgroup_stats, err);
	if (rc == 0)
		pd_call_reply(call, &resp.base);
	pd_arena_free(&a);
	pd_cgroup_stats_free(&st);
	return rc;
}

static int rpc_pause_container(struct pd_call *call, const ProtobufCMessage *msg,
			       struct pd_error *err)
{
	const Grpc__PauseContainerRequest *req = (const void *)msg;
	struct pd_rpc_cg *e = find(call, req->container_id, err);
	if (!e)
		return -1;
	struct pd_container *ctr = e->ctr;
	if (ctr->status != PD_CTR_RUNNING && ctr->status != PD_CTR_CREATED)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "container %s is neither running nor created", ctr->id);
	if (pd_cgroup_freeze(e->cg, true, err) < 0)
		return pd_error_wrap(err, "pause container %s", ctr->id);
	e->paused_from = ctr->status;
	ctr->status = PD_CTR_PAUSED;
	pd_container_save_state(ctr);
	pd_info("container paused", "cid=%s", ctr->id);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_resume_container(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__ResumeContainerRequest *req = (const void *)msg;
	struct pd_rpc_cg *e = find(call, req->container_id, err);
	if (!e)
		return -1;
	struct pd_container *ctr = e->ctr;
	if (ctr->status != PD_CTR_PAUSED)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0, "container %s is not paused",
				    ctr->id);
	if (pd_cgroup_freeze(e->cg, false, err) < 0)
		return pd_error_wrap(err, "resume container %s", ctr->id);
	ctr->status = e->paused_from;
	pd_container_save_state(ctr);
	pd_info("container resumed", "cid=%s", ctr->id);
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_cgroups[] = {
    {"UpdateContainer", rpc_update_container}, {"StatsContainer", rpc_stats_container},
    {"PauseContainer", rpc_pause_container},   {"ResumeContainer", rpc_resume_container},
    {"GetOOMEvent", pd_rpc_get_oom_event},     {NULL, NULL},
};
