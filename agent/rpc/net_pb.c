#include "net_pb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TOO_MANY(what, n)                                                                          \
	pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%zu %s (at most %d)", (size_t)(n), what,        \
		     PD_NET_MAX_ITEMS)

/* ---- from the host -------------------------------------------------------------------------- */

int pd_pb_to_iface_update(const Types__Interface *pb, struct pd_iface_update *u,
			  struct pd_error *err)
{
	memset(u, 0, sizeof(*u));
	if (pb->n_ipaddresses > PD_NET_MAX_ITEMS)
		return TOO_MANY("IPAddresses", pb->n_ipaddresses);
	struct pd_ip_text *addrs = calloc(pb->n_ipaddresses + 1, sizeof(*addrs));
	if (!addrs)
		return pd_error_errno(err, ENOMEM, "interface");
	for (size_t i = 0; i < pb->n_ipaddresses; i++) {
		const Types__IPAddress *a = pb->ipaddresses[i];
		addrs[i] =
		    (struct pd_ip_text){a->family == TYPES__IPFAMILY__v6, a->address, a->mask};
	}
	struct pd_iface_text t = {
	    .device = pb->device,
	    .name = pb->name,
	    .hwaddr = pb->hwaddr,
	    .mtu = pb->mtu,
	    .raw_flags = pb->raw_flags,
	    .addrs = addrs,
	    .n_addrs = pb->n_ipaddresses,
	};
	int rc = pd_iface_parse(&t, u, err);
	free(addrs);
	return rc;
}

int pd_pb_to_routes(const Grpc__Routes *pb, struct pd_route **out, size_t *n, struct pd_error *err)
{
	*n = 0;
	*out = NULL;
	if (pb->n_routes > PD_NET_MAX_ITEMS)
		return TOO_MANY("Routes", pb->n_routes);
	*out = calloc(pb->n_routes + 1, sizeof(**out));
	if (!*out)
		return pd_error_errno(err, ENOMEM, "routes");
	for (size_t i = 0; i < pb->n_routes; i++) {
		const Types__Route *r = pb->routes[i];
		struct pd_route_text t = {
		    .v6 = r->family == TYPES__IPFAMILY__v6,
		    .dest = r->dest,
		    .gateway = r->gateway,
		    .device = r->device,
		    .source = r->source,
		    .scope = r->scope,
		    .flags = r->flags,
		    .mtu = r->mtu,
		};
		if (pd_route_parse(&t, &(*out)[i], err) < 0)
			return pd_error_wrap(err, "Routes[%zu]", i);
		(*n)++;
	}
	return 0;
}

int pd_pb_to_neighbors(const Grpc__ARPNeighbors *pb, struct pd_neigh **out, size_t *n,
		       struct pd_error *err)
{
	*n = 0;
	*out = NULL;
	if (pb->n_arpneighbors > PD_NET_MAX_ITEMS)
		return TOO_MANY("ARPNeighbors", pb->n_arpneighbors);
	*out = calloc(pb->n_arpneighbors + 1, sizeof(**out));
	if (!*out)
		return pd_error_errno(err, ENOMEM, "neighbours");
	for (size_t i = 0; i < pb->n_arpneighbors; i++) {
		const Types__ARPNeighbor *a = pb->arpneighbors[i];
		const Types__IPAddress *ip = a->toipaddress;
		struct pd_neigh_text t = {
		    .v6 = ip && ip->family == TYPES__IPFAMILY__v6,
		    .address = ip ? ip->address : NULL,
		    .device = a->device,
		    .lladdr = a->lladdr,
		    .state = a->state,
		    .flags = a->flags,
		};
		if (pd_neigh_parse(&t, &(*out)[i], err) < 0)
			return pd_error_wrap(err, "ARPNeighbors[%zu]", i);
		(*n)++;
	}
	return 0;
}

/* ---- to the host ---------------------------------------------------------------------------- */

static Types__IPFamily pb_family(int family)
{
	return family == AF_INET6 ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
}

static char *ip_text(struct pd_arena *a, const struct pd_ip *ip, bool with_prefix)
{
	char buf[64];
	return pd_arena_strdup(a, pd_net_format_ip(ip, with_prefix, buf, sizeof(buf)));
}

static Types__IPAddress *pb_address(struct pd_arena *a, const struct pd_ip *ip)
{
	Types__IPAddress *p = pd_arena_alloc(a, sizeof(*p));
	char mask[8];
	if (!p)
		return NULL;
	types__ipaddress__init(p);
	p->family = pb_family(ip->family);
	p->address = ip_text(a, ip, false);
	snprintf(mask, sizeof(mask), "%u", ip->prefix);
	p->mask = pd_arena_strdup(a, mask);
	return p->address && p->mask ? p : NULL;
}

Types__Interface *pd_pb_from_iface(struct pd_arena *a, const struct pd_iface *f)
{
	Types__Interface *p = pd_arena_alloc(a, sizeof(*p));
	char mac[3 * PD_HWADDR_MAX + 1];
	if (!p)
		return NULL;
	types__interface__init(p);
	pd_net_format_hwaddr(f->link->hwaddr, f->link->hwaddr_len, mac, sizeof(mac));
	p->device = pd_arena_strdup(a, f->link->name);
	p->name = pd_arena_strdup(a, f->link->name);
	p->hwaddr = pd_arena_strdup(a, mac);
	p->type = pd_arena_strdup(a, f->link->kind);
	p->mtu = f->link->mtu;
	p->raw_flags = f->link->flags;
	p->ipaddresses = pd_arena_calloc(a, f->n_addrs + 1, sizeof(*p->ipaddresses));
	if (!p->device || !p->name || !p->hwaddr || !p->type || !p->ipaddresses)
		return NULL;
	for (size_t i = 0; i < f->n_addrs; i++)
		if (!(p->ipaddresses[p->n_ipaddresses++] = pb_address(a, &f->addrs[i].ip)))
			return NULL;
	return p;
}

int pd_pb_from_ifaces(struct pd_arena *a, const struct pd_ifaces *l, Grpc__Interfaces *out)
{
	out->interfaces = pd_arena_calloc(a, l->n + 1, sizeof(*out->interfaces));
	if (!out->interfaces)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (!(out->interfaces[out->n_interfaces++] = pd_pb_from_iface(a, &l->v[i])))
			return -1;
	return 0;
}

/* Kata's text: dest "10.0.0.0/24" ("" for the default route), gateway and source plain. */
static Types__Route *pb_route(struct pd_arena *a, const struct pd_route *r)
{
	Types__Route *p = pd_arena_alloc(a, sizeof(*p));
	if (!p)
		return NULL;
	types__route__init(p);
	p->dest = r->dst.prefix ? ip_text(a, &r->dst, true) : pd_arena_strdup(a, "");
	p->gateway = r->has_gw ? ip_text(a, &r->gw, false) : pd_arena_strdup(a, "");
	p->source = r->has_src ? ip_text(a, &r->src, false) : pd_arena_strdup(a, "");
	p->device = pd_arena_strdup(a, r->dev);
	p->scope = r->scope;
	p->family = pb_family(r->family);
	p->flags = r->flags;
	p->mtu = r->mtu;
	return p->dest && p->gateway && p->source && p->device ? p : NULL;
}

int pd_pb_from_routes(struct pd_arena *a, const struct pd_routes *l, Grpc__Routes *out)
{
	out->routes = pd_arena_calloc(a, l->n + 1, sizeof(*out->routes));
	if (!out->routes)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (!(out->routes[out->n_routes++] = pb_route(a, &l->v[i])))
			return -1;
	return 0;
}
