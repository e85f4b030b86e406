/* GetOOMEvent: a long poll. Each container's OOM fd is in the event loop; an OOM kill
 * queues the container id, and the oldest queued id answers the oldest parked call (the
 * runtime keeps one such call in flight, and calls again after each answer). When the
 * sandbox is destroyed the parked calls get an error, as the Kata agent's closed channel
 * gives them (INTERNAL). */
#include "cgroups_internal.h"

#include <stdio.h>
#include <sys/epoll.h>

#include "agent.pb-c.h"
#include "agent/log.h"

static void reply(struct pd_call *call, const char *cid)
{
	Grpc__OOMEvent ev = GRPC__OOMEVENT__INIT;
	ev.container_id = (char *)cid;
	pd_call_reply(call, &ev.base);
}

static const char *queue_front(void)
{
	return pd_rpc_cg.pending[pd_rpc_cg.head];
}

static void queue_pop(void)
{
	pd_rpc_cg.head = (pd_rpc_cg.head + 1) % PD_OOM_QUEUE;
	pd_rpc_cg.count--;
}

static void queue_push(const char *cid)
{
	struct pd_rpc_cg_state *g = &pd_rpc_cg;
	if (g->count == PD_OOM_QUEUE) {
		pd_warn("oom event dropped: nobody asked for the older ones", "cid=%s",
			queue_front());
		queue_pop();
	}
	snprintf(g->pending[(g->head + g->count) % PD_OOM_QUEUE], sizeof(g->pending[0]), "%s", cid);
	g->count++;
}

static void deliver(void)
{
	struct pd_rpc_cg_state *g = &pd_rpc_cg;
	while (g->count && !pd_list_empty(&g->oom_waiters)) {
		struct pd_call *call =
		    pd_container_of(g->oom_waiters.next, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		reply(call, queue_front());
		queue_pop();
	}
}

static void on_oom(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_rpc_cg *e = pd_container_of(w, struct pd_rpc_cg, oom);
	if (!pd_cgroup_oom_check(e->cg))
		return;
	pd_info("oom kill in container", "cid=%s", e->id);
	queue_push(e->id);
	deliver();
}

void pd_rpc_oom_watch(struct pd_rpc_cg *e)
{
	struct pd_error err;
	int fd = pd_cgroup_oom_fd(e->cg, &err);
	if (fd < 0) {
		pd_debug("no oom notification", "cid=%s err=\"%s\"", e->id, err.msg);
		return;
	}
	e->oom.fd = fd;
	e->oom.fn = on_oom;
	if (pd_loop_add(e->loop, &e->oom, EPOLLIN, &err) < 0) {
		pd_warn("oom notification not watched", "cid=%s err=\"%s\"", e->id, err.msg);
		e->oom.fd = -1;
	}
}

void pd_rpc_oom_unwatch(struct pd_rpc_cg *e)
{
	if (e->oom.fd < 0)
		return;
	pd_loop_del(e->loop, &e->oom);
	e->oom.fd = -1;
}

void pd_rpc_oom_fail_waiters(void)
{
	struct pd_error err;
	pd_error_set(&err, PD_INTERNAL, 0, "the sandbox was destroyed");
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &pd_rpc_cg.oom_waiters)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_fail(call, &err);
	}
}

static void waiter_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

int pd_rpc_get_oom_event(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	pd_rpc_cgroups_init(pd_call_agent(call));
	if (pd_rpc_cg.destroyed)
		return pd_error_set(err, PD_INTERNAL, 0, "the sandbox was destroyed");
	if (pd_rpc_cg.count) {
		reply(call, queue_front());
		queue_pop();
		return 0;
	}
	call->on_cancel = waiter_cancel;
	pd_list_add_tail(&pd_rpc_cg.oom_waiters, &call->owner_node);
	return PD_RPC_PARKED;
}
