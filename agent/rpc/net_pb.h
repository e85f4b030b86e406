/* The line between protobuf and agent/net: types.Interface / Route / ARPNeighbor from the
 * host become checked pd_* values (every field through the parsers of agent/net), and what
 * the kernel has goes back as protobuf built in an arena.
 *
 * Errors: INVALID_ARGUMENT naming the field ("Routes[2].gateway: bad IP address 'x'"),
 * counts over PD_NET_MAX_ITEMS included. */
#ifndef PD_RPC_NET_PB_H
#define PD_RPC_NET_PB_H

#include "agent.pb-c.h"
#include "agent/arena.h"
#include "agent/error.h"
#include "agent/net/net.h"
#include "types.pb-c.h"

/* *u is freed by the caller with pd_iface_update_free (also after an error). */
int pd_pb_to_iface_update(const Types__Interface *pb, struct pd_iface_update *u,
			  struct pd_error *err);
/* *out (n of them) is malloc'ed; the caller frees it, also after an error. */
int pd_pb_to_routes(const Grpc__Routes *pb, struct pd_route **out, size_t *n, struct pd_error *err);
int pd_pb_to_neighbors(const Grpc__ARPNeighbors *pb, struct pd_neigh **out, size_t *n,
		       struct pd_error *err);

/* Replies, every string and array in a. NULL / -1 when the arena runs out. */
Types__Interface *pd_pb_from_iface(struct pd_arena *a, const struct pd_iface *f);
int pd_pb_from_ifaces(struct pd_arena *a, const struct pd_ifaces *l, Grpc__Interfaces *out);
int pd_pb_from_routes(struct pd_arena *a, const struct pd_routes *l, Grpc__Routes *out);

#endif
