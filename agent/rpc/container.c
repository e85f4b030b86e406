/* CreateContainer, StartContainer, RemoveContainer: decode, check, call the engine. */
#include "rpc.h"

#include <errno.h>
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
#include "agent/sandbox/hooks_run.h"
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
	if (pd_sandbox_find(sb, req->container_id))
		return pd_error_set(err, PD_ALREADY_EXISTS, 0, "container %s already exists",
				    req->container_id);
	if (sb->n_containers >= PD_MAX_CONTAINERS)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "too many containers");
	if (!req->oci)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "CreateContainer without an OCI spec");
	return 0;
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
	sb->call_deadline_ns = call->deadline_ns;
	rc = pd_container_create(sb, exec_id, &cfg, cg, &ctr, err);
	sb->call_deadline_ns = 0;
	if (rc < 0) {
		pd_rpc_cgroups_create_failed(req->container_id);
		pd_storage_release_list(sb, mps, n_mps);
		return pd_error_wrap(err, "create container %s", req->container_id);
	}
	pd_rpc_cgroups_created(ctr);
	ctr->storage_mounts = mps;
	ctr->n_storage_mounts = n_mps;
	pd_info("container created", "cid=%s pid=%d", ctr->id, (int)ctr->init->pid);
	pd_call_reply(call, NULL);
	return 0;
}

/* Answer the calls when the hooks of run r have ended (true: they are parked with it), or
 * now when there is no run (its hooks, if any, ran with the loop stopped). */
static bool answer_after(struct pd_loop *loop, struct pd_hook_run *r, struct pd_list *calls)
{
	if (r) {
		pd_hook_run_launch(r, loop, calls);
		return true;
	}
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_reply(call, NULL);
	}
	return false;
}

static int rpc_start_container(struct pd_call *call, const ProtobufCMessage *msg,
			       struct pd_error *err)
{
	const Grpc__StartContainerRequest *req = (const void *)msg;
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr)
		return -1;
	ctr->sb->call_deadline_ns = call->deadline_ns;
	int rc = pd_container_start(ctr, err);
	ctr->sb->call_deadline_ns = 0;
	if (rc < 0)
		return -1;
	pd_info("container started", "cid=%s pid=%d", ctr->id, (int)ctr->init->pid);
	/* The poststart hooks run before the answer (runtime-spec). */
	pid_t pid = ctr->init->pid;
	struct pd_hook_run *r = pd_hook_run_prepare(&ctr->cfg, PD_HOOK_POSTSTART, "running", pid);
	if (!r)
		pd_hooks_run_agent(&ctr->cfg, PD_HOOK_POSTSTART, "running", pid, err);
	struct pd_list calls;
	pd_list_init(&calls);
	pd_list_add_tail(&calls, &call->owner_node);
	return answer_after(ctr->sb->loop, r, &calls) ? PD_RPC_PARKED : 0;
}

/* The end of a removal: tear down first, answer after (a host that hears "removed" finds
 * nothing left), the poststop hooks in between. True when the calls wait for the hooks. */
static bool remove_now(struct pd_container *ctr, struct pd_list *calls)
{
	pid_t pid = ctr->init->pid;
	struct pd_hook_run *r = pd_hook_run_prepare(&ctr->cfg, PD_HOOK_POSTSTOP, "stopped", pid);
	ctr->poststop_taken = r != NULL;
	pd_info("container removed", "cid=%s", ctr->id);
	pd_rpc_cgroups_removed(ctr);
	ctr->cgroup = NULL;
	struct pd_loop *loop = ctr->sb->loop;
	pd_container_destroy(ctr); /* runs the poststop hooks itself when r is NULL */
	return answer_after(loop, r, calls);
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
		return remove_now(ctr, &calls) ? PD_RPC_PARKED : 0;
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
