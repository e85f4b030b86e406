/* CreateContainer, StartContainer, RemoveContainer: decode, check, call the engine. */
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/container/hooks.h"
#include "agent/container/idmap.h"
#include "agent/container/process.h"
#include "agent/container/sysctl.h"
#include "agent/container/validate.h"
#include "agent/log.h"
#include "agent/rpc/cgroups.h"
#include "agent/rpc/devices.h"
#include "agent/rpc/lookup.h"
#include "agent/rpc/oci_hooks.h"
#include "agent/rpc/oci_spec.h"
#include "agent/rpc/storages.h"
#include "agent/sandbox/container.h"
#include "agent/sandbox/hooks_async.h"
#include "agent/sandbox/storage.h"

/* Kata's namespace rules: ipc and uts are the sandbox's, mnt is new per container, pid is
 * the sandbox's shared one (sandbox_pidns, pidns_holder.h) or new, unless the spec names
 * one; the rest as the spec says (the Kata runtime drops net, so containers share the
 * VM's). A container with a user namespace of its own gets its own ipc and uts too: it
 * could join the sandbox's, owned by the agent's user namespace, but never use them
 * (sethostname, mqueue mounts need capabilities there). */
static int kata_namespaces(struct pd_sandbox *sb, struct pd_container_config *cfg,
			   bool sandbox_pidns, bool cgroup_v2, struct pd_error *err)
{
	static char ipc[] = PD_SANDBOX_NS_DIR "/ipc", uts[] = PD_SANDBOX_NS_DIR "/uts";
	static char pidns[] = PD_SANDBOX_PIDNS;
	bool own_user = pd_userns_new(cfg);
	if (pd_userns_check(cfg, err) < 0)
		return -1;
	if (cfg->ns[PD_NS_IPC].enabled && !cfg->ns[PD_NS_IPC].path && !own_user)
		cfg->ns[PD_NS_IPC].path = ipc;
	if (cfg->ns[PD_NS_UTS].enabled && !cfg->ns[PD_NS_UTS].path && !own_user)
		cfg->ns[PD_NS_UTS].path = uts;
	cfg->ns[PD_NS_MNT] = (struct pd_namespace){.enabled = true};
	char *pid_path = cfg->ns[PD_NS_PID].enabled ? cfg->ns[PD_NS_PID].path : NULL;
	if (!pid_path && (sandbox_pidns || sb->pidns.wanted)) {
		if (own_user)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "a container with a new user namespace cannot join "
					    "the sandbox's pid namespace (sandbox_pidns): it "
					    "could not mount its /proc");
		pid_path = pidns;
	}
	cfg->ns[PD_NS_PID] = (struct pd_namespace){.enabled = true, .path = pid_path};
	/* A cgroup namespace of its own, always on a unified hierarchy (Kata), rooted at the
	 * container's cgroup (docs/cgroups.md); on v1 only when the spec asks, or when the
	 * container has a user namespace: only one that owns the cgroup namespace may mount
	 * the v1 hierarchies. */
	if (cgroup_v2 || own_user || (cfg->ns[PD_NS_CGROUP].enabled && !cfg->ns[PD_NS_CGROUP].path))
		cfg->ns[PD_NS_CGROUP] = (struct pd_namespace){.enabled = true};
	return 0;
}

/* CreateContainer's sandbox_pidns without CreateSandbox's: the shared namespace starts
 * with the first container that asks, once its request has passed every check. It then
 * stays, like the Rust agent's first-container namespace. A holder that was killed is
 * replaced here too. */
static int sandbox_pidns_ready(struct pd_sandbox *sb, const struct pd_container_config *cfg,
			       struct pd_error *err)
{
	const char *path = cfg->ns[PD_NS_PID].path;
	if (!path || strcmp(path, PD_SANDBOX_PIDNS) != 0)
		return 0;
	if (pd_pidns_holder_start(&sb->pidns, err) < 0)
		return pd_error_wrap(err, "sandbox_pidns");
	return 0;
}

static int check_create(struct pd_call *call, const Grpc__CreateContainerRequest *req,
			const char **exec_id, struct pd_error *err)
{
	struct pd_sandbox *sb = &pd_call_agent(call)->sandbox;
	*exec_id = req->exec_id[0] ? req->exec_id : req->container_id;
	if (!sb->created)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0, "CreateSandbox first");
	if (pd_validate_container_id(req->container_id, err) < 0 ||
	    pd_validate_exec_id(*exec_id, err) < 0)
		return -1;
	if (pd_sandbox_find_any(sb, req->container_id))
		return pd_error_set(err, PD_ALREADY_EXISTS, 0, "container %s already exists",
				    req->container_id);
	if (sb->n_containers + sb->n_creating >= PD_MAX_CONTAINERS)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "too many containers");
	if (!req->oci)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "CreateContainer without an OCI spec");
	return 0;
}

int pd_rpc_park_op(struct pd_call *call, struct pd_task *t)
{
	call->deadline_ns = 0;
	pd_task_park_op(t, call);
	return PD_RPC_PARKED;
}

void pd_rpc_answer_op(struct pd_list *calls, const struct pd_error *err, const char *context)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		if (!err) {
			pd_call_reply(call, NULL);
			continue;
		}
		struct pd_error e = *err;
		pd_error_wrap(&e, "%s", context);
		pd_call_fail(call, &e);
	}
}

static int rpc_create_container(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__CreateContainerRequest *req = (const void *)msg;
	struct pd_sandbox *sb = &pd_call_agent(call)->sandbox;
	const char *exec_id;
	struct pd_agent *agent = pd_call_agent(call);
	struct pd_devwait_req r = {&agent->loop, call, rpc_create_container, msg,
				   agent->cfg.hotplug_timeout_s};
	struct pd_blk_found *devs;
	if (check_create(call, req, &exec_id, err) < 0)
		return -1;
	/* Devices and disks first: the call may park here until they appear (nothing done). */
	int rc = pd_rpc_create_devices(&r, (Grpc__CreateContainerRequest *)req, &devs, err);
	if (rc != 0)
		return rc;
	struct pd_container_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	bool cg_v2 = pd_rpc_cgroups_version(pd_call_agent(call)) == PD_CGROUP_V2;
	char **mps = NULL;
	size_t n_mps = 0;
	if (pd_oci_spec_to_config(req->oci, req->container_id, &cfg, err) < 0 ||
	    kata_namespaces(sb, &cfg, req->sandbox_pidns, cg_v2, err) < 0 ||
	    pd_sysctls_check(&cfg, err) < 0 || pd_process_config_check(&cfg.process, err) < 0 ||
	    sandbox_pidns_ready(sb, &cfg, err) < 0 ||
	    pd_oci_hooks_to_config(req->oci, sb->guest_hooks, &cfg, err) < 0 ||
	    pd_rpc_storages_acquire(sb, req->storages, devs, req->n_storages, false, &mps, &n_mps,
				    err) < 0) {
		free(devs);
		pd_arena_free(&cfg.arena);
		return -1;
	}
	free(devs);
	struct pd_container *ctr;
	struct pd_cgroup *cg;
	const Grpc__LinuxResources *res = req->oci->linux_ ? req->oci->linux_->resources : NULL;
	if (pd_rpc_cgroups_prepare(pd_call_agent(call), &cfg, res, &cg, err) < 0) {
		pd_storage_release_list(sb, mps, n_mps);
		pd_arena_free(&cfg.arena);
		return pd_error_wrap(err, "create container %s", req->container_id);
	}
	rc = pd_container_create(sb, exec_id, &cfg, cg, call->deadline_ns, &ctr, err);
	if (rc < 0) {
		pd_rpc_cgroups_create_failed(req->container_id);
		pd_storage_release_list(sb, mps, n_mps);
		return pd_error_wrap(err, "create container %s", req->container_id);
	}
	ctr->storage_mounts = mps; /* released with the container, also if its set-up fails */
	ctr->n_storage_mounts = n_mps;
	return pd_rpc_park_op(call, ctr->init);
}

/* The container's init reported READY (it is created: in sb->containers, state.json
 * written), or its set-up failed: then nothing of it may stay. */
static void create_done(struct pd_container *ctr, struct pd_list *calls, const struct pd_error *err)
{
	struct pd_agent *agent = pd_container_of(ctr->sb, struct pd_agent, sandbox);
	if (!err) {
		pd_rpc_cgroups_created(ctr);
		pd_info("container created", "cid=%s pid=%d", ctr->id, (int)ctr->init->pid);
		pd_rpc_answer_op(calls, NULL, NULL);
		return;
	}
	char cid[PD_ID_MAX + 1], what[PD_ID_MAX + 32];
	snprintf(cid, sizeof(cid), "%s", ctr->id);
	snprintf(what, sizeof(what), "create container %s", cid);
	pd_rpc_answer_op(calls, err, what);
	pd_container_destroy(ctr);
	pd_rpc_cgroups_create_failed(cid);
	pd_rpc_sandbox_settled(agent, NULL);
}

static int rpc_start_container(struct pd_call *call, const ProtobufCMessage *msg,
			       struct pd_error *err)
{
	const Grpc__StartContainerRequest *req = (const void *)msg;
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr || pd_container_start(ctr, call->deadline_ns, err) < 0)
		return -1;
	return pd_rpc_park_op(call, ctr->init);
}

/* The init exec'd (the container runs: its poststart hooks before the answer,
 * runtime-spec), or its start failed (the init is gone or going: the container stops). */
static void start_done(struct pd_container *ctr, struct pd_list *calls, const struct pd_error *err)
{
	if (err) {
		char what[PD_ID_MAX + 32];
		snprintf(what, sizeof(what), "start container %s", ctr->id);
		pd_rpc_answer_op(calls, err, what);
		return;
	}
	pid_t pid = ctr->init->pid;
	pd_info("container started", "cid=%s pid=%d", ctr->id, (int)pid);
	struct pd_hook_run *r = pd_hook_run_prepare(&ctr->cfg, PD_HOOK_POSTSTART, "running", pid);
	pd_hook_run_launch(r, ctr->sb->loop, calls);
}

void pd_rpc_op_done(struct pd_task *t, int op, struct pd_list *calls, const struct pd_error *err)
{
	if (op == PD_TASK_OP_CREATE)
		create_done(t->ctr, calls, err);
	else if (op == PD_TASK_OP_START)
		start_done(t->ctr, calls, err);
	else
		pd_rpc_exec_done(t, calls, err);
}

/* The end of a removal: tear down first, answer after (a host that hears "removed" finds
 * nothing left), the poststop hooks in between. */
static void remove_now(struct pd_container *ctr, struct pd_list *calls)
{
	pid_t pid = ctr->init->pid;
	struct pd_hook_run *r = pd_hook_run_prepare(&ctr->cfg, PD_HOOK_POSTSTOP, "stopped", pid);
	pd_info("container removed", "cid=%s", ctr->id);
	pd_rpc_cgroups_removed(ctr);
	ctr->cgroup = NULL;
	struct pd_loop *loop = ctr->sb->loop;
	pd_container_destroy(ctr);
	pd_hook_run_launch(r, loop, calls);
}

static void remover_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

static int rpc_remove_container(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__RemoveContainerRequest *req = (const void *)msg;
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr)
		return -1;
	ctr->removing = true;
	pd_container_kill_all(ctr);
	pd_rpc_cgroups_kill_all(ctr);
	if (pd_container_all_exited(ctr)) {
		struct pd_list calls;
		pd_list_init(&calls);
		pd_list_add_tail(&calls, &call->owner_node);
		remove_now(ctr, &calls);
		return call->done ? 0 : PD_RPC_PARKED;
	}
	if (req->timeout) {
		int64_t deadline = pd_now_ns() + (int64_t)req->timeout * 1000000000LL;
		if (!call->deadline_ns || deadline < call->deadline_ns)
			call->deadline_ns = deadline;
	}
	call->on_cancel = remover_cancel;
	pd_list_add_tail(&ctr->removers, &call->owner_node);
	return PD_RPC_PARKED;
}

/* A process exited and the container is being removed: finish when it was the last. */
void pd_rpc_container_task_exited(struct pd_container *ctr)
{
	if (!ctr->removing || !pd_container_all_exited(ctr))
		return;
	struct pd_list removers;
	pd_list_move_all(&removers, &ctr->removers);
	remove_now(ctr, &removers);
}

const struct pd_rpc_entry pd_rpc_container[] = {
	{"CreateContainer", rpc_create_container},
	{"StartContainer", rpc_start_container},
	{"RemoveContainer", rpc_remove_container},
	{NULL, NULL},
};
