/* Containers' cgroups as the RPC layer keeps them, and the hooks the container lifecycle
 * calls (docs/cgroups.md, "Integration"). The cgroup of each container lives in a side table
 * keyed by container id, so that nothing in agent/sandbox/ has to know the engine's types.
 *
 * Where the cgroups go: pid 1 uses /sys/fs/cgroup with no parent (Kata's layout: a container
 * with no CgroupsPath is at /<cid>). A host-mode agent (tests) makes cgroups only when
 * PIDONE_CGROUP_PARENT is set in its environment (then under that parent, created on demand
 * and removed when empty at DestroySandbox; PIDONE_CGROUP_ROOT overrides the root), so a test
 * run never touches the host's cgroups unless asked to. Without cgroups, containers run
 * without one and the cgroup RPCs answer FAILED_PRECONDITION. */
#ifndef PD_RPC_CGROUPS_H
#define PD_RPC_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent.h"
#include "agent/cgroup/cgroup.h"
#include "oci.pb-c.h"

/* Once at start (next to pd_rpc_sandbox_init). The handlers also call it lazily. */
void pd_rpc_cgroups_init(struct pd_agent *agent);

/* The cgroup version containers get (PD_CGROUP_V1/V2), PD_CGROUP_NONE when they get none:
 * on V2 every container has its own cgroup namespace (Kata). */
int pd_rpc_cgroups_version(struct pd_agent *agent);

/* CreateContainer, after the spec is converted and before pd_container_create: convert
 * Linux.Resources, add an allow rule for each device of cfg->devices, create the cgroup at
 * the path of cfg->cgroups_path (or "<cid>") and remember it under cfg->id. *out = the
 * cgroup for the spawn (v2: pd_cgroup_dirfd for clone3 CLONE_INTO_CGROUP; v1: the child
 * calls pd_cgroup_enter(cg, 0) first thing), or NULL when cgroups are off. ALREADY_EXISTS
 * when another live container uses the same cgroup path. */
int pd_rpc_cgroups_prepare(struct pd_agent *agent, const struct pd_container_config *cfg,
			   const Grpc__LinuxResources *res, struct pd_cgroup **out,
			   struct pd_error *err);
/* pd_container_create succeeded: bind the cgroup to the container and watch its OOM
 * events (not for the sandbox's own container, cid == sandbox id, as in Kata). */
void pd_rpc_cgroups_created(struct pd_container *ctr);
/* pd_container_create failed after prepare: kill what is left in the cgroup, remove it. */
void pd_rpc_cgroups_create_failed(const char *cid);

/* The cgroup of a container (for ExecProcess's spawn), NULL if none. */
struct pd_cgroup *pd_rpc_cgroups_of(const struct pd_container *ctr);

/* RemoveContainer / DestroySandbox / SignalProcess(all, SIGKILL): SIGKILL every process in
 * the container's cgroup (freeze, kill, thaw — a paused v1 container's processes die only
 * once thawed). Call it where pd_container_kill_all is called, in addition. */
void pd_rpc_cgroups_kill_all(struct pd_container *ctr);

/* The container is going (all its processes reaped), before pd_container_destroy: stop
 * watching OOM, rmdir the cgroup, free it (the caller clears ctr->cgroup). A cgroup still
 * busy is killed and retried later. */
void pd_rpc_cgroups_removed(struct pd_container *ctr);

/* DestroySandbox, after pd_sandbox_destroy (no container points at a cgroup any more) and
 * before its reply: answer parked GetOOMEvent calls with an error (Kata: INTERNAL), remove
 * every cgroup left, and refuse GetOOMEvent from then on. */
void pd_rpc_cgroups_sandbox_destroyed(void);

/* OnlineCPUMem brought CPUs online: every live container's cpuset follows
 * (pd_cgroup_cpuset_online). Every container is tried; the first failure is returned. */
int pd_rpc_cgroups_cpus_online(struct pd_error *err);

/* state.json cgroup_paths of a container (pd_cgroup_paths); 0 when it has none. */
size_t pd_rpc_cgroups_paths(const char *cid, const char **names, const char **paths, size_t max);

#endif
