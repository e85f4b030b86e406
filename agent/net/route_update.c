/* UpdateRoutes: the routes asked for become the routes of the links they name.
 *
 * Kata deletes every non-kernel route of every link (but lo) and adds the new list; a gap
 * without a default route follows, and links the host did not mention lose theirs. Here
 * only the named links are touched, a route that is already there stays, and the others
 * of those links (but the kernel's own, which come and go with addresses) are deleted.
 * Routes without a gateway go in first: the gateways of the others are reachable through
 * them, and the kernel checks that when a route is added. */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *describe(const struct pd_route *r, char *buf, size_t size)
{
	char dst[64], gw[64];
	pd_net_format_ip(&r->dst, true, dst, sizeof(dst));
	pd_net_format_ip(&r->gw, false, gw, sizeof(gw));
	snprintf(buf, size, "%s%s%s dev %s", r->dst.prefix ? dst : "default",
		 r->has_gw ? " via " : "", r->has_gw ? gw : "", r->dev);
	return buf;
}

static bool same_route(const struct pd_route *a, const struct pd_route *b)
{
	return a->family == b->family && a->index == b->index && pd_ip_eq(&a->dst, &b->dst) &&
	       a->has_gw == b->has_gw && (!a->has_gw || pd_ip_eq(&a->gw, &b->gw));
}

/* Whether route r of the kernel is one to delete: on a named link, not asked for. */
static bool stale(const struct pd_route *r, const struct pd_route *want, size_t n)
{
	bool named = false;
	if (r->protocol == RTPROT_KERNEL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (same_route(r, &want[i]))
			return false;
		named |= want[i].index == r->index;
	}
	return named;
}

static int route_op(struct pd_nl *nl, uint16_t type, uint16_t flags, const struct pd_route *r,
		    struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	char text[200];
	pd_nlmsg_init(&m, buf, sizeof(buf), type, flags);
	pd_route_build(&m, type, r);
	if (pd_nl_call(nl, &m, err) < 0)
		return pd_error_wrap(err, "%s route %s", type == RTM_NEWROUTE ? "add" : "delete",
				     describe(r, text, sizeof(text)));
	return 0;
}

static int delete_stale(struct pd_nl *nl, const struct pd_links *links, const struct pd_route *want,
			size_t n, struct pd_error *err)
{
	struct pd_routes now;
	if (pd_route_list(nl, links, &now, err) < 0)
		return -1;
	for (size_t i = 0; i < now.n; i++) {
		if (!stale(&now.v[i], want, n))
			continue;
		/* ESRCH: the kernel took it away with an earlier one. */
		if (route_op(nl, RTM_DELROUTE, 0, &now.v[i], err) < 0 && err->errnum != ESRCH) {
			pd_routes_free(&now);
			return -1;
		}
	}
	pd_routes_free(&now);
	return 0;
}

static int add_wanted(struct pd_nl *nl, const struct pd_route *want, size_t n, struct pd_error *err)
{
	for (int with_gw = 0; with_gw < 2; with_gw++)
		for (size_t i = 0; i < n; i++)
			if (want[i].has_gw == with_gw &&
			    route_op(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &want[i],
				     err) < 0)
				return -1;
	return 0;
}

int pd_net_replace_routes(struct pd_route *want, size_t n, struct pd_routes *out,
			  struct pd_error *err)
{
	struct pd_nl nl;
	struct pd_links links = {0};
	int rc = -1;
	out->v = NULL;
	out->n = 0;
	if (n > PD_NET_MAX_ITEMS)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%zu routes (at most %d)", n,
				    PD_NET_MAX_ITEMS);
	if (pd_nl_open(&nl, err) < 0)
		return -1;
	if (pd_link_list(&nl, &links, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pd_link *l = pd_link_by_name(&links, want[i].dev);
		if (!l) {
			pd_error_set(err, PD_NOT_FOUND, ENODEV,
				     "Routes[%zu].device: no interface named %s", i, want[i].dev);
			goto out;
		}
		want[i].index = l->index;
	}
	if (delete_stale(&nl, &links, want, n, err) < 0 || add_wanted(&nl, want, n, err) < 0 ||
	    pd_route_list(&nl, &links, out, err) < 0)
		goto out;
	rc = 0;
out:
	pd_links_free(&links);
	pd_nl_close(&nl);
	return rc;
}
