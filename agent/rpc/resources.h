/* grpc.LinuxResources (CreateContainer's Linux.Resources, UpdateContainer's resources) →
 * struct pd_resources, checked. The line between protobuf and the cgroup engine.
 *
 * proto3 has no presence: a zero is "not given" (has_* false), as in the Kata agent, which
 * converts through Option and then skips zeros. Pids present with Limit <= 0 = unlimited
 * (Kata). Device rules: Type "" = 'a', Access "" = "rwm", Major/Minor -1 = any. Ignored:
 * Memory.Kernel and KernelTCP (kernel memory limits are gone from Linux 6.x; runc ignores
 * them too). INVALID_ARGUMENT names the field ("Resources.Memory.Swappiness: 150 ..."). */
#ifndef PD_RPC_RESOURCES_H
#define PD_RPC_RESOURCES_H

#include "agent/arena.h"
#include "agent/cgroup/resources.h"
#include "agent/error.h"
#include "oci.pb-c.h"

/* r may be NULL (everything unset). Arrays and strings go to `a`. */
int pd_rpc_resources_from_pb(const Grpc__LinuxResources *r, struct pd_arena *a,
			     struct pd_resources *out, struct pd_error *err);

#endif
