/* CreateSandbox and DestroySandbox. DestroySandbox kills every container process, waits
 * until all are reaped (so every parked WaitProcess gets its real status), tears the
 * sandbox down, answers, and then the agent stops (pid 1: powers the VM off). */
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/container/hooks.h"
#include "agent/container/validate.h"
#include "agent/log.h"
#include "agent/rpc/cgroups.h"
#include "agent/rpc/storages.h"
#include "agent/sandbox/container.h"
#include "agent/sandbox/hooks_async.h"
#include "agent/sandbox/sandbox_ns.h"
#include "agent/sandbox/storage.h"
#include "init/mounts.h"
#include "init/modules.h"

#define DESTROY_GRACE_NS (10LL * 1000 * 1000 * 1000)
#define GUEST_HOOK_PATH_MAX 255

static int check_hostname(const char *h, struct pd_error *err)
{
	size_t n = strlen(h);
	if (n > 64)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "hostname longer than 64 bytes");
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.' || h[i] == '_'))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad hostname '%s'", h);
	return 0;
}

static int check_sandbox(const Grpc__CreateSandboxRequest *req, struct pd_error *err)
{
	if (req->sandbox_id[0] && pd_validate_container_id(req->sandbox_id, err) < 0)
		return pd_error_wrap(err, "sandbox_id");
	if (check_hostname(req->hostname, err) < 0)
		return -1;
	if (req->n_dns > 64)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "too many dns lines");
	for (size_t i = 0; i < req->n_dns; i++)
		if (strlen(req->dns[i]) > 1024 || strpbrk(req->dns[i], "\n\r"))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad dns line %zu", i);
	if (req->guest_hook_path[0] &&
	    (strlen(req->guest_hook_path) > GUEST_HOOK_PATH_MAX ||
	     pd_validate_abs_path(req->guest_hook_path, "guest_hook_path", NULL, NULL, err) < 0))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "guest_hook_path: not an absolute path of at most %d bytes "
				    "without '..'",
				    GUEST_HOOK_PATH_MAX);
	return 0;
}

/* Read the guest's hook directory once, after the storages (it may be on one of them, e.g.
 * the shared directory); a retry starts afresh. */
static int load_guest_hooks(struct pd_sandbox *sb, const Grpc__CreateSandboxRequest *req,
			    struct pd_error *err)
{
	pd_arena_free(&sb->guest_hooks_arena);
	sb->guest_hooks = NULL;
	if (pd_hooks_add_guest(&sb->guest_hooks_arena, &sb->guest_hooks, req->guest_hook_path,
			       err) < 0)
		return pd_error_wrap(err, "guest_hook_path");
	return 0;
}

static int load_modules(const Grpc__CreateSandboxRequest *req, struct pd_error *err)
{
	for (size_t i = 0; i < req->n_kernel_modules; i++) {
		const Grpc__KernelModule *m = req->kernel_modules[i];
		char params[1024] = "";
		size_t used = 0;
		for (size_t j = 0; j < m->n_parameters; j++) {
			int w = snprintf(params + used, sizeof(params) - used, "%s%s", j ? " " : "",
					 m->parameters[j]);
			if (w < 0 || (size_t)w >= sizeof(params) - used)
				return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
						    "module %s: parameters too long", m->name);
			used += (size_t)w;
		}
		if (pd_module_load_by_name(m->name, params, err) < 0)
			return pd_error_wrap(err, "kernel module %s", m->name);
	}
	return 0;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int rpc_create_sandbox(struct pd_call *call, const ProtobufCMessage *msg,
			      struct pd_error *err)
{
	const Grpc__CreateSandboxRequest *req = (const void *)msg;
	struct pd_sandbox *sb = &pd_call_agent(call)->sandbox;
	char **mps = NULL;
	size_t n_mps = 0;
	struct pd_agent *agent = pd_call_agent(call);
	struct pd_devwait_req r = {&agent->loop, call, rpc_create_sandbox, msg,
				   agent->cfg.hotplug_timeout_s};
	struct pd_blk_found *devs;
	if (sb->created)
		return pd_error_set(err, PD_ALREADY_EXISTS, 0, "the sandbox exists already");
	/* Modules first: a disk's driver may be one. Loaded again on a retry: EEXIST is fine. */
	if (check_sandbox(req, err) < 0 || load_modules(req, err) < 0)
		return -1;
	int rc = pd_rpc_storages_devices(&r, req->storages, req->n_storages, &devs, err);
	if (rc != 0)
		return rc; /* parked until a disk shows up, or failed: no storage, no namespace yet */
	if (pd_sandbox_ns_create(req->hostname, err) < 0) {
		free(devs);
		return pd_error_wrap(err, "sandbox namespaces");
	}
	sb->ns_pinned = true;
	rc = req->sandbox_pidns ? pd_pidns_holder_start(&sb->pidns, err) : 0;
	if (rc == 0)
		rc = pd_rpc_storages_acquire(sb, req->storages, devs, req->n_storages, true, &mps,
					     &n_mps, err);
	free(devs);
	if (rc < 0 || pd_sandbox_set_dns(req->dns, req->n_dns, err) < 0 ||
	    load_guest_hooks(sb, req, err) < 0) {
		free_strv(mps, n_mps);
		pd_sandbox_destroy(sb);
		return -1;
	}
	/* Sandbox storages are held by the sandbox itself (shared), not by a list. */
	free_strv(mps, n_mps);
	snprintf(sb->id, sizeof(sb->id), "%s", req->sandbox_id);
	snprintf(sb->hostname, sizeof(sb->hostname), "%s", req->hostname);
	sb->created = true;
	pd_info("sandbox created", "id=%s hostname=%s storages=%zu pidns_holder=%d", sb->id,
		sb->hostname, req->n_storages, (int)sb->pidns.pid);
	pd_call_reply(call, NULL);
	return 0;
}

static bool sandbox_all_exited(struct pd_sandbox *sb)
{
	struct pd_list *pos, *tmp;
	if (!pd_list_empty(&sb->creating))
		return false;
	pd_list_for_each_safe(pos, tmp, &sb->containers)
	if (!pd_container_all_exited(pd_container_of(pos, struct pd_container, node)))
		return false;
	return true;
}

/* The sandbox was torn down and only the poststop hooks are left: a process that goes then
 * finds nothing more to finish. */
static bool destroyed;

/* The poststop hooks have ended: answer, then the agent stops (pid 1: powers off). A
 * DestroySandbox after that (an agent that served on: the fuzzer) starts afresh. */
static void destroy_answered(void *data)
{
	struct pd_agent *agent = data;
	struct pd_list *pos, *tmp;
	destroyed = false;
	pd_list_for_each_safe(pos, tmp, &agent->destroyers)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_reply(call, NULL);
	}
	pd_agent_request_stop(agent, 0, "DestroySandbox");
}

/* Every process is gone: tear down, run the poststop hooks of every created container from
 * the loop, answer when they (and any still running from a RemoveContainer) have ended. */
static void finish_destroy(struct pd_agent *agent)
{
	struct pd_sandbox *sb = &agent->sandbox;
	struct pd_hook_run *runs[PD_MAX_CONTAINERS];
	size_t n = 0;
	struct pd_list *pos, *tmp;
	if (destroyed)
		return;
	destroyed = true;
	pd_list_for_each_safe(pos, tmp, &sb->containers)
	{
		struct pd_container *ctr = pd_container_of(pos, struct pd_container, node);
		struct pd_hook_run *r = n < PD_MAX_CONTAINERS
					    ? pd_hook_run_prepare(&ctr->cfg, PD_HOOK_POSTSTOP,
								  "stopped", ctr->init->pid)
					    : NULL;
		if (r)
			runs[n++] = r;
	}
	pd_sandbox_destroy(sb);
	pd_rpc_cgroups_sandbox_destroyed(); /* after: no container points at a cgroup now */
	struct pd_list none;
	for (size_t i = 0; i < n; i++) {
		pd_list_init(&none);
		pd_hook_run_launch(runs[i], sb->loop, &none);
	}
	pd_hook_runs_when_idle(destroy_answered, agent);
}

/* The connection went, or the grace time ran out with processes still unreaped (the
 * host sees DEADLINE_EXCEEDED): forget the call; containers still go as they exit. */
static void destroyer_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

static int rpc_destroy_sandbox(struct pd_call *call, const ProtobufCMessage *req,
			       struct pd_error *err)
{
	struct pd_agent *agent = pd_call_agent(call);
	struct pd_sandbox *sb = &agent->sandbox;
	struct pd_error why;
	struct pd_list *pos, *tmp;
	pd_error_set(&why, PD_ABORTED, 0, "the sandbox is being destroyed");
	pd_list_for_each_safe(pos, tmp, &sb->creating)
	pd_container_abort_create(pd_container_of(pos, struct pd_container, node), &why);
	pd_list_for_each_safe(pos, tmp, &sb->containers)
	{
		struct pd_container *ctr = pd_container_of(pos, struct pd_container, node);
		ctr->removing = true;
		pd_container_kill_all(ctr);
		pd_rpc_cgroups_kill_all(ctr);
	}
	call->on_cancel = destroyer_cancel;
	pd_list_add_tail(&agent->destroyers, &call->owner_node);
	if (sandbox_all_exited(sb)) {
		finish_destroy(agent);
		return call->done ? 0 : PD_RPC_PARKED;
	}
	if (!call->deadline_ns || call->deadline_ns > pd_now_ns() + DESTROY_GRACE_NS)
		call->deadline_ns = pd_now_ns() + DESTROY_GRACE_NS;
	return PD_RPC_PARKED;
}

void pd_rpc_sandbox_settled(struct pd_agent *agent, struct pd_container *ctr)
{
	if (!pd_list_empty(&agent->destroyers)) {
		if (sandbox_all_exited(&agent->sandbox))
			finish_destroy(agent);
		return;
	}
	if (ctr)
		pd_rpc_container_task_exited(ctr);
}

/* Every reaped container process comes through here. */
static void on_task_exit(struct pd_task *t)
{
	struct pd_container *ctr = t->ctr;
	struct pd_agent *agent = pd_container_of(ctr->sb, struct pd_agent, sandbox);
	pd_rpc_process_exited(t);
	pd_rpc_sandbox_settled(agent, ctr);
}

void pd_rpc_sandbox_init(struct pd_agent *agent)
{
	pd_list_init(&agent->destroyers);
	agent->sandbox.on_task_exit = on_task_exit;
	agent->sandbox.on_op_done = pd_rpc_op_done;
	pd_rpc_cgroups_init(agent);
}

const struct pd_rpc_entry pd_rpc_sandbox[] = {
	{"CreateSandbox", rpc_create_sandbox},
	{"DestroySandbox", rpc_destroy_sandbox},
	{NULL, NULL},
};
