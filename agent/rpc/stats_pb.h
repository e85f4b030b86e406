/* struct pd_cgroup_stats → grpc.CgroupStats (StatsContainer's reply). */
#ifndef PD_RPC_STATS_PB_H
#define PD_RPC_STATS_PB_H

#include "agent.pb-c.h"
#include "agent/arena.h"
#include "agent/cgroup/cgroup.h"
#include "agent/error.h"

/* Every message and string of the reply lives in `a`; *out points into it. */
int pd_rpc_stats_to_pb(const struct pd_cgroup_stats *st, struct pd_arena *a,
		       Grpc__CgroupStats **out, struct pd_error *err);

#endif
