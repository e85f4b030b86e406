/* Routes: the host's text checked into a route, route messages built, and the dump of the
 * main table (RTM_GETROUTE). Replacing a set of routes is route_update.c. */
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the request ---------------------------------------------------------------------------- */

/* The source is a preferred source address; a full-length prefix is accepted for it. */
static int parse_source(const char *s, int want, struct pd_ip *ip, struct pd_error *err)
{
	if (pd_net_parse_prefix(s, want, ip, err) < 0)
		return -1;
	if (ip->prefix != pd_ip_len(ip->family) * 8)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "'%s' is a network, not a source address", s);
	return 0;
}

/* The addresses, each of the family the ones before it set. */
static int parse_addresses(const struct pd_route_text *t, struct pd_route *r, struct pd_error *err)
{
	int want = t->v6 ? AF_INET6 : AF_UNSPEC;
	if (pd_net_parse_prefix(t->dest, want, &r->dst, err) < 0)
		return pd_error_wrap(err, "dest");
	want = r->dst.family;
	if (t->gateway[0]) {
		if (pd_net_parse_ip(t->gateway, want, &r->gw, err) < 0)
			return pd_error_wrap(err, "gateway");
		r->has_gw = true;
		want = r->gw.family;
	}
	if (t->source[0]) {
		if (parse_source(t->source, want, &r->src, err) < 0)
			return pd_error_wrap(err, "source");
		r->has_src = true;
		want = r->src.family;
	}
	r->family = want ? want : AF_INET; /* "default dev eth0" from a host that said v4 */
	r->dst.family = r->family;
	return 0;
}

int pd_route_parse(const struct pd_route_text *t, struct pd_route *r, struct pd_error *err)
{
	memset(r, 0, sizeof(*r));
	if (!t->device[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "route without a device");
	if (pd_net_check_ifname(t->device, err) < 0)
		return pd_error_wrap(err, "device");
	strcpy(r->dev, t->device);
	if (parse_addresses(t, r, err) < 0)
		return -1;
	if (t->scope >= RT_SCOPE_NOWHERE)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "scope %u is not in 0..%d",
				    t->scope, RT_SCOPE_NOWHERE - 1);
	/* The kernel would say "Nexthop has invalid scope" after the routes before it were set. */
	if (r->family == AF_INET && r->has_gw && t->scope >= RT_SCOPE_LINK)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "a route via a gateway needs scope universe (0), not %u",
				    t->scope);
	if (t->mtu > 65535)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "route mtu %u is over 65535",
				    t->mtu);
	r->scope = (uint8_t)t->scope;
	r->mtu = t->mtu;
	/* RTNH_F_ONLINK is a request; the other flags are the kernel's reports (dead, linkdown). */
	r->flags = t->flags & RTNH_F_ONLINK;
	r->protocol = RTPROT_BOOT;
	r->type = RTN_UNICAST;
	return 0;
}

void pd_route_build(struct pd_nlmsg *m, uint16_t type, const struct pd_route *r)
{
	struct rtmsg *rt = pd_nlmsg_reserve(m, sizeof(*rt));
	if (!rt)
		return;
	size_t len = pd_ip_len(r->family);
	rt->rtm_family = (unsigned char)r->family;
	rt->rtm_dst_len = (unsigned char)r->dst.prefix;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = r->protocol;
	rt->rtm_type = r->type ? r->type : RTN_UNICAST;
	rt->rtm_scope = type == RTM_NEWROUTE ? r->scope : RT_SCOPE_NOWHERE; /* delete: any */
	rt->rtm_flags = r->flags & RTNH_F_ONLINK;
	if (r->dst.prefix)
		pd_nlmsg_attr(m, RTA_DST, r->dst.addr, len);
	pd_nlmsg_attr_u32(m, RTA_OIF, (uint32_t)r->index);
	if (r->has_gw)
		pd_nlmsg_attr(m, RTA_GATEWAY, r->gw.addr, len);
	if (r->priority)
		pd_nlmsg_attr_u32(m, RTA_PRIORITY, r->priority);
	if (type != RTM_NEWROUTE)
		return;
	if (r->has_src)
		pd_nlmsg_attr(m, RTA_PREFSRC, r->src.addr, len);
	if (r->mtu) {
		struct rtattr *metrics = pd_nlmsg_nest_begin(m, RTA_METRICS);
		pd_nlmsg_attr_u32(m, RTAX_MTU, r->mtu);
		pd_nlmsg_nest_end(m, metrics);
	}
}

/* ---- the dump ------------------------------------------------------------------------------- */

static bool get_ip(const struct rtattr *a, int family, struct pd_ip *ip)
{
	size_t len = pd_ip_len(family);
	if (!a || pd_nl_attr_len(a) != len)
		return false;
	ip->family = family;
	ip->prefix = (unsigned)len * 8;
	memcpy(ip->addr, pd_nl_attr_data(a), len);
	return true;
}

static uint32_t metric_mtu(const struct rtattr *metrics)
{
	const struct rtattr *tb[RTAX_MAX + 1];
	uint32_t mtu = 0;
	if (metrics &&
	    pd_nl_attrs(pd_nl_attr_data(metrics), pd_nl_attr_len(metrics), tb, RTAX_MAX) == 0)
		pd_nl_attr_u32(tb[RTAX_MTU], &mtu);
	return mtu;
}

/* A unicast route of the main table with one output link; false for anything else
 * (other tables, local/broadcast/multicast, multipath, source-specific, cached clones). */
static bool parse_route(const struct nlmsghdr *h, struct pd_route *r)
{
	const struct rtattr *tb[RTA_MAX + 1];
	if (pd_nl_msg_attrs(h, sizeof(struct rtmsg), tb, RTA_MAX) < 0)
		return false;
	const struct rtmsg *rt = NLMSG_DATA(h);
	uint32_t table = rt->rtm_table, oif = 0;
	pd_nl_attr_u32(tb[RTA_TABLE], &table);
	size_t len = pd_ip_len(rt->rtm_family);
	if (!len || table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST || rt->rtm_src_len ||
	    (rt->rtm_flags & RTM_F_CLONED) || !pd_nl_attr_u32(tb[RTA_OIF], &oif) ||
	    rt->rtm_dst_len > len * 8)
		return false;
	memset(r, 0, sizeof(*r));
	r->family = rt->rtm_family;
	r->dst.family = r->family;
	if (tb[RTA_DST] && !get_ip(tb[RTA_DST], r->family, &r->dst))
		return false;
	r->dst.prefix = rt->rtm_dst_len;
	r->has_gw = get_ip(tb[RTA_GATEWAY], r->family, &r->gw);
	r->has_src = get_ip(tb[RTA_PREFSRC], r->family, &r->src);
	r->index = (int)oif;
	r->scope = rt->rtm_scope;
	r->protocol = rt->rtm_protocol;
	r->type = rt->rtm_type;
	r->flags = rt->rtm_flags & RTNH_F_ONLINK;
	pd_nl_attr_u32(tb[RTA_PRIORITY], &r->priority);
	r->mtu = metric_mtu(tb[RTA_METRICS]);
	return true;
}

struct route_dump {
	struct pd_routes *out;
	size_t cap, start; /* start: where this family's dump began */
	int family;
};

static int on_route(const struct nlmsghdr *h, void *arg, struct pd_error *err)
{
	struct route_dump *d = arg;
	struct pd_route r;
	if (!h) {
		d->out->n = d->start;
		return 0;
	}
	if (h->nlmsg_type != RTM_NEWROUTE || !parse_route(h, &r) || r.family != d->family)
		return 0;
	if (d->out->n == d->cap) {
		if (d->cap >= PD_NET_MAX_DUMP)
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "more than %d routes",
					    PD_NET_MAX_DUMP);
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pd_route *v = realloc(d->out->v, cap * sizeof(*v));
		if (!v)
			return pd_error_errno(err, ENOMEM, "route list");
		d->out->v = v;
		d->cap = cap;
	}
	d->out->v[d->out->n++] = r;
	return 0;
}

static int dump_family(struct pd_nl *nl, int family, struct route_dump *d, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_GETROUTE, 0);
	struct rtmsg *rt = pd_nlmsg_reserve(&m, sizeof(*rt));
	if (rt)
		rt->rtm_family = (unsigned char)family;
	d->start = d->out->n;
	d->family = family;
	return pd_nl_dump(nl, &m, on_route, d, err);
}

int pd_route_list(struct pd_nl *nl, const struct pd_links *links, struct pd_routes *out,
		  struct pd_error *err)
{
	struct route_dump d = {out, 0, 0, 0};
	out->v = NULL;
	out->n = 0;
	/* One family at a time, and IPv6 only if the kernel has it: a dump for a family it
	 * does not know falls back to all families. */
	bool v6 = access("/proc/sys/net/ipv6", F_OK) == 0;
	if (dump_family(nl, AF_INET, &d, err) < 0 ||
	    (v6 && dump_family(nl, AF_INET6, &d, err) < 0)) {
		pd_routes_free(out);
		return pd_error_wrap(err, "list routes");
	}
	for (size_t i = 0; i < out->n; i++) {
		const struct pd_link *l = pd_link_by_index(links, out->v[i].index);
		if (l)
			memcpy(out->v[i].dev, l->name, sizeof(l->name));
	}
	return 0;
}

int pd_net_list_routes(struct pd_routes *out, struct pd_error *err)
{
	struct pd_nl nl;
	struct pd_links links = {0};
	out->v = NULL;
	out->n = 0;
	if (pd_nl_open(&nl, err) < 0)
		return -1;
	int rc = pd_link_list(&nl, &links, err);
	if (rc == 0)
		rc = pd_route_list(&nl, &links, out, err);
	pd_links_free(&links);
	pd_nl_close(&nl);
	return rc;
}

void pd_routes_free(struct pd_routes *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
