/* UpdateInterface, UpdateRoutes, ListInterfaces, ListRoutes, AddARPNeighbors: checked by
 * net_pb.c, done by agent/net over rtnetlink. Like Kata, a request without its message
 * (no interface, no routes, no neighbours) is INVALID_ARGUMENT. */
#include "rpc.h"

#include <errno.h>
#include <stdlib.h>

#include "agent.pb-c.h"
#include "agent/arena.h"
#include "agent/log.h"
#include "agent/net/net.h"
#include "agent/rpc/net_pb.h"

#define REPLY_BYTES (16u << 20) /* cap of a reply's arena; the frame limit is lower anyway */

static int out_of_memory(struct pd_error *err)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "out of memory building the reply");
}

static int rpc_update_interface(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__UpdateInterfaceRequest *req = (const void *)msg;
	struct pd_iface_update u;
	struct pd_ifaces now;
	struct pd_arena arena;
	if (!req->interface)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "empty update interface request");
	int rc = pd_pb_to_iface_update(req->interface, &u, err);
	if (rc == 0)
		rc = pd_iface_update(&u, &now, err);
	pd_iface_update_free(&u);
	if (rc < 0)
		return pd_error_wrap(err, "update interface");
	pd_arena_init(&arena, REPLY_BYTES);
	Types__Interface *reply = pd_pb_from_iface(&arena, &now.v[0]);
	if (reply) {
		pd_info("interface updated", "iface=%s hwaddr=%s mtu=%llu addrs=%zu", reply->name,
			reply->hwaddr, (unsigned long long)reply->mtu, reply->n_ipaddresses);
		pd_call_reply(call, &reply->base);
	}
	pd_arena_free(&arena);
	pd_ifaces_free(&now);
	return reply ? 0 : out_of_memory(err);
}

static int reply_routes(struct pd_call *call, const struct pd_routes *l, struct pd_error *err)
{
	Grpc__Routes resp = GRPC__ROUTES__INIT;
	struct pd_arena arena;
	pd_arena_init(&arena, REPLY_BYTES);
	int rc = pd_pb_from_routes(&arena, l, &resp);
	if (rc == 0)
		pd_call_reply(call, &resp.base);
	pd_arena_free(&arena);
	return rc < 0 ? out_of_memory(err) : 0;
}

static int rpc_update_routes(struct pd_call *call, const ProtobufCMessage *msg,
			     struct pd_error *err)
{
	const Grpc__UpdateRoutesRequest *req = (const void *)msg;
	struct pd_route *want;
	struct pd_routes now = {0};
	size_t n;
	if (!req->routes)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "empty update routes request");
	int rc = pd_pb_to_routes(req->routes, &want, &n, err);
	if (rc == 0)
		rc = pd_net_replace_routes(want, n, &now, err);
	free(want);
	if (rc < 0)
		return pd_error_wrap(err, "update routes");
	pd_info("routes updated", "asked=%zu total=%zu", n, now.n);
	rc = reply_routes(call, &now, err);
	pd_routes_free(&now);
	return rc;
}

static int rpc_list_interfaces(struct pd_call *call, const ProtobufCMessage *msg,
			       struct pd_error *err)
{
	Grpc__Interfaces resp = GRPC__INTERFACES__INIT;
	struct pd_ifaces l;
	struct pd_arena arena;
	if (pd_iface_list(&l, err) < 0)
		return pd_error_wrap(err, "list interfaces");
	pd_arena_init(&arena, REPLY_BYTES);
	int rc = pd_pb_from_ifaces(&arena, &l, &resp);
	if (rc == 0)
		pd_call_reply(call, &resp.base);
	pd_arena_free(&arena);
	pd_ifaces_free(&l);
	return rc < 0 ? out_of_memory(err) : 0;
}

static int rpc_list_routes(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	struct pd_routes l;
	if (pd_net_list_routes(&l, err) < 0)
		return pd_error_wrap(err, "list routes");
	int rc = reply_routes(call, &l, err);
	pd_routes_free(&l);
	return rc;
}

static int rpc_add_arp_neighbors(struct pd_call *call, const ProtobufCMessage *msg,
				 struct pd_error *err)
{
	const Grpc__AddARPNeighborsRequest *req = (const void *)msg;
	struct pd_neigh *v;
	size_t n;
	if (!req->neighbors)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "empty add arp neighbours request");
	int rc = pd_pb_to_neighbors(req->neighbors, &v, &n, err);
	if (rc == 0)
		rc = pd_net_add_neighbors(v, n, err);
	free(v);
	if (rc < 0)
		return pd_error_wrap(err, "add arp neighbours");
	pd_info("neighbours added", "count=%zu", n);
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_network[] = {
    {"UpdateInterface", rpc_update_interface},	{"UpdateRoutes", rpc_update_routes},
    {"ListInterfaces", rpc_list_interfaces},	{"ListRoutes", rpc_list_routes},
    {"AddARPNeighbors", rpc_add_arp_neighbors}, {NULL, NULL},
};
