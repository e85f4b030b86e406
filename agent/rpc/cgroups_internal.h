/* The RPC layer's cgroup state, shared by cgroups.c (handlers), cgroups_table.c (the side
 * table and the lifecycle hooks) and oom_events.c (OOM watches and GetOOMEvent). */
#ifndef PD_RPC_CGROUPS_INTERNAL_H
#define PD_RPC_CGROUPS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include "agent/list.h"
#include "agent/loop.h"
#include "agent/rpc/cgroups.h"
#include "agent/rpc/rpc.h"

#define PD_OOM_QUEUE 64 /* OOM events kept for the next GetOOMEvent; the oldest go first */

/* One container's cgroup. */
struct pd_rpc_cg {
	struct pd_list node;
	char id[PD_ID_MAX + 1];
	struct pd_container *ctr; /* NULL between prepare and created */
	struct pd_cgroup *cg;
	struct pd_loop *loop;
	struct pd_watch oom; /* fd -1 = not watched */
	int paused_from;     /* the status PauseContainer found (Created or Running) */
};

struct pd_rpc_cg_state {
	bool ready;
	bool enabled;	/* cgroups are made for containers */
	bool destroyed; /* DestroySandbox ran: GetOOMEvent fails */
	int version;	/* PD_CGROUP_V1 / V2 when enabled */
	char root[PATH_MAX];
	char parent[256];
	struct pd_loop *loop;
	struct pd_list entries;	    /* struct pd_rpc_cg of live containers */
	struct pd_list busy;	    /* removed, but rmdir failed: retried at the next hook */
	struct pd_list oom_waiters; /* parked GetOOMEvent calls */
	char pending[PD_OOM_QUEUE][PD_ID_MAX + 1];
	unsigned head, count;
};

extern struct pd_rpc_cg_state pd_rpc_cg;

struct pd_rpc_cg *pd_rpc_cg_find(const char *id);

/* oom_events.c */
void pd_rpc_oom_watch(struct pd_rpc_cg *e);
void pd_rpc_oom_unwatch(struct pd_rpc_cg *e);
void pd_rpc_oom_fail_waiters(void);
int pd_rpc_get_oom_event(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err);

#endif
