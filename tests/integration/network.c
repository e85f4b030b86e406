/* The network RPCs end to end: UpdateInterface, UpdateRoutes, ListInterfaces, ListRoutes,
 * AddARPNeighbors over ttRPC, against an agent that runs in a network namespace made for
 * the test (tests/integration/network.sh), holding a veth pair:
 *   pdv0 02:00:00:00:0a:01 (down)   the guest's NIC, renamed eth0 by the tests
 *   pdv1 02:00:00:00:0a:02 (up)     its peer
 * What the agent reports is checked against what `ip -n NETNS` sees, so a wrong answer
 * cannot pass by agreeing with itself. Nothing leaves the namespace.
 *
 *   network ADDR NETNS [CASE...]
 * Cases run in order and build on each other (rejections first, while nothing changed). */
#include "itest.h"

#include <linux/rtnetlink.h>
#include <net/if.h>

#include "types.pb-c.h"

#define MAC0   "02:00:00:00:0a:01"
#define MAC1   "02:00:00:00:0a:02"
#define MAC_FB "02:00:00:00:0a:77" /* given to pdv1 by name: the fallback */

static const char *netns;

/* ---- the namespace as `ip` sees it ------------------------------------------------------- */

/* Output of `ip -n NETNS ARGS` (stderr too), or NULL. The caller frees it. */
__attribute__((format(printf, 2, 3))) static char *ip_out(struct it *t, const char *fmt, ...)
{
	char args[512], cmd[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "ip -n %s %s 2>&1", netns, args);
	FILE *p = popen(cmd, "r");
	if (!p) {
		it_why(t, "popen %s: %s", cmd, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	pclose(p);
	if (buf)
		buf[n] = '\0';
	else
		it_why(t, "out of memory");
	return buf;
}

/* `ip -n NETNS ARGS` shows (want) or does not show (!want) each of the NULL-ended strings. */
static int ip_shows(struct it *t, bool want, const char *args, ...)
{
	char *out = ip_out(t, "%s", args);
	if (!out)
		return -1;
	va_list ap;
	va_start(ap, args);
	int rc = 0;
	for (const char *s; (s = va_arg(ap, const char *));) {
		if ((strstr(out, s) != NULL) != want) {
			rc = it_why(t, "`ip %s` %s '%s': %s", args, want ? "lacks" : "still shows",
				    s, IT_SHOW(out, strlen(out)));
			break;
		}
	}
	va_end(ap);
	free(out);
	return rc;
}

/* ---- what the agent says -------------------------------------------------------------------- */

static Grpc__Interfaces *list_ifaces(struct it *t)
{
	Grpc__ListInterfacesRequest req = GRPC__LIST_INTERFACES_REQUEST__INIT;
	Grpc__Interfaces *l;
	return it_ok(t, "ListInterfaces", &req.base, &grpc__interfaces__descriptor, &l) < 0 ? NULL
											    : l;
}

static Grpc__Routes *list_routes(struct it *t)
{
	Grpc__ListRoutesRequest req = GRPC__LIST_ROUTES_REQUEST__INIT;
	Grpc__Routes *l;
	return it_ok(t, "ListRoutes", &req.base, &grpc__routes__descriptor, &l) < 0 ? NULL : l;
}

static const Types__Interface *find_iface(const Grpc__Interfaces *l, const char *name)
{
	for (size_t i = 0; l && i < l->n_interfaces; i++)
		if (strcmp(l->interfaces[i]->name, name) == 0)
			return l->interfaces[i];
	return NULL;
}

static bool has_addr(const Types__Interface *f, const char *addr, const char *mask, int family)
{
	for (size_t i = 0; f && i < f->n_ipaddresses; i++) {
		const Types__IPAddress *a = f->ipaddresses[i];
		if (strcmp(a->address, addr) == 0 && strcmp(a->mask, mask) == 0 &&
		    (int)a->family == family)
			return true;
	}
	return false;
}

static const Types__Route *find_route(const Grpc__Routes *l, const char *dest, const char *gw,
				      const char *dev)
{
	for (size_t i = 0; l && i < l->n_routes; i++) {
		const Types__Route *r = l->routes[i];
		if (!strcmp(r->dest, dest) && !strcmp(r->gateway, gw) && !strcmp(r->device, dev))
			return r;
	}
	return NULL;
}

/* Everything ListInterfaces and ListRoutes say plus `ip addr/link/route/neigh`, as one
 * text: equal texts before and after a refused call mean nothing changed. */
static char *snapshot(struct it *t)
{
	Grpc__Interfaces *l = list_ifaces(t);
	Grpc__Routes *r = l ? list_routes(t) : NULL;
	char *ip = r ? ip_out(t,
			      "-o addr; ip -n %s -o link; ip -n %s route show table all; "
			      "ip -n %s neigh",
			      netns, netns, netns)
		     : NULL;
	size_t cap = 65536, o = 0;
	char *s = ip ? malloc(cap) : NULL;
	for (size_t i = 0; s && i < l->n_interfaces; i++) {
		const Types__Interface *f = l->interfaces[i];
		o += (size_t)snprintf(s + o, cap - o, "%s %s %llu %x:", f->name, f->hwaddr,
				      (unsigned long long)f->mtu, f->raw_flags);
		for (size_t k = 0; k < f->n_ipaddresses && o < cap; k++)
			o += (size_t)snprintf(s + o, cap - o, " %s/%s", f->ipaddresses[k]->address,
					      f->ipaddresses[k]->mask);
		o += o < cap ? (size_t)snprintf(s + o, cap - o, "\n") : 0;
	}
	for (size_t i = 0; s && i < r->n_routes && o < cap; i++)
		o += (size_t)snprintf(s + o, cap - o, "route %s via %s dev %s src %s\n",
				      r->routes[i]->dest, r->routes[i]->gateway,
				      r->routes[i]->device, r->routes[i]->source);
	if (s && o < cap)
		snprintf(s + o, cap - o, "%s", ip);
	if (l)
		grpc__interfaces__free_unpacked(l, NULL);
	if (r)
		grpc__routes__free_unpacked(r, NULL);
	free(ip);
	return s;
}

/* A snapshot once the kernel is done with what a link coming up starts by itself (carrier
 * through the link watcher, IPv6 link-local addresses and duplicate address detection):
 * no tentative address, and the same twice in a row, 200 ms apart (bounded by IT_WAIT_MS). */
static char *settled_snapshot(struct it *t)
{
	char *prev = NULL;
	int64_t end = it_now_ms() + IT_WAIT_MS;
	while (it_now_ms() < end) {
		char *s = snapshot(t);
		if (!s)
			break;
		if (prev && !strstr(s, "tentative") && strcmp(prev, s) == 0) {
			free(prev);
			return s;
		}
		free(prev);
		prev = s;
		it_sleep_ms(200);
	}
	if (prev)
		it_why(t, "the namespace did not settle in %d s: %s", IT_WAIT_MS / 1000,
		       IT_SHOW(prev, strlen(prev)));
	free(prev);
	return NULL;
}

/* The call fails with `code` and the network is as it was. */
static int refused(struct it *t, const char *method, const ProtobufCMessage *req, int code)
{
	char *before = settled_snapshot(t), *after = NULL;
	char msg[sizeof(t->msg)];
	int rc = -1;
	if (!before || it_code(t, method, req, code) < 0)
		goto out;
	memcpy(msg, t->msg, sizeof(msg)); /* the snapshot's calls overwrite it */
	if (!(after = snapshot(t)))
		goto out;
	if (msg[0] == '\0')
		it_why(t, "%s: %s without a message", method, pd_code_name(code));
	else if (strcmp(before, after) != 0)
		it_why(t, "%s was refused (%s) but changed the network: before %s after %s", method,
		       msg, IT_SHOW(before, strlen(before)), IT_SHOW(after, strlen(after)));
	else
		rc = 0;
	memcpy(t->msg, msg, sizeof(msg));
out:
	free(before);
	free(after);
	return rc;
}

/* ---- UpdateInterface -------------------------------------------------------------------- */

struct iface_req {
	Grpc__UpdateInterfaceRequest req;
	Types__Interface f;
	Types__IPAddress a[4];
	Types__IPAddress *ap[4];
};

/* A request in place: r->req is ready to send. */
static void iface_req(struct iface_req *r, const char *mac, const char *name, uint64_t mtu)
{
	grpc__update_interface_request__init(&r->req);
	types__interface__init(&r->f);
	r->req.interface = &r->f;
	r->f.hwaddr = (char *)mac;
	r->f.name = (char *)name;
	r->f.mtu = mtu;
	r->f.ipaddresses = r->ap;
}

static void iface_addr(struct iface_req *r, int family, const char *addr, const char *mask)
{
	Types__IPAddress *a = &r->a[r->f.n_ipaddresses];
	types__ipaddress__init(a);
	a->family = family;
	a->address = (char *)addr;
	a->mask = (char *)mask;
	r->ap[r->f.n_ipaddresses++] = a;
}

static int case_list_interfaces(struct it *t)
{
	int rc = -1;
	Grpc__Interfaces *l = list_ifaces(t);
	EXPECT(l, "no list");
	const Types__Interface *lo = find_iface(l, "lo"), *v0 = find_iface(l, "pdv0"),
			       *v1 = find_iface(l, "pdv1");
	EXPECT(lo && v0 && v1 && l->n_interfaces == 3, "want lo, pdv0, pdv1; got %zu interfaces",
	       l->n_interfaces);
	EXPECT(lo->raw_flags & IFF_LOOPBACK, "lo flags %#x", lo->raw_flags);
	EXPECT(lo->mtu == 65536 && !strcmp(lo->hwaddr, "00:00:00:00:00:00"), "lo: mtu %llu mac %s",
	       (unsigned long long)lo->mtu, lo->hwaddr);
	EXPECT(!strcmp(v0->hwaddr, MAC0) && v0->mtu == 1500 && !strcmp(v0->type, "veth"),
	       "pdv0: mac %s mtu %llu type %s", v0->hwaddr, (unsigned long long)v0->mtu, v0->type);
	EXPECT(!(v0->raw_flags & IFF_UP) && (v1->raw_flags & IFF_UP), "flags pdv0 %#x pdv1 %#x",
	       v0->raw_flags, v1->raw_flags);
	EXPECT(!strcmp(v1->hwaddr, MAC1) && v0->n_ipaddresses == 0,
	       "pdv1 mac %s, pdv0 %zu addresses", v1->hwaddr, v0->n_ipaddresses);
	rc = 0;
out:
	if (l)
		grpc__interfaces__free_unpacked(l, NULL);
	return rc;
}

static int case_update_interface_refused(struct it *t)
{
	struct iface_req r;
	Grpc__UpdateInterfaceRequest empty = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	TRY(refused(t, "UpdateInterface", &empty.base, PD_INVALID_ARGUMENT));
	iface_req(&r, "02:00:00:00:0a", "eth0", 1400); /* a bad MAC */
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	EXPECT(strstr(t->msg, "MAC"), "message '%s' does not name the MAC", t->msg);
	iface_req(&r, "02:00:00:00:0a:55", "eth0", 1400); /* unknown, and no link named eth0 */
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_NOT_FOUND));
	EXPECT(strstr(t->msg, "02:00:00:00:0a:55"), "message '%s'", t->msg);
	iface_req(&r, MAC0, "eth0", 1400); /* a good address, then a bad one */
	iface_addr(&r, TYPES__IPFAMILY__v4, "10.213.0.2", "24");
	iface_addr(&r, TYPES__IPFAMILY__v4, "10.213.0.300", "24");
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	EXPECT(strstr(t->msg, "10.213.0.300"), "message '%s'", t->msg);
	r.a[1].address = "10.213.0.3", r.a[1].mask = "33";
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	r.a[1].mask = "24", r.a[1].family = TYPES__IPFAMILY__v6; /* v6 said, v4 written */
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	iface_req(&r, MAC0, "eth/0", 1400);
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	iface_req(&r, MAC0, "eth0", 1000); /* IPv6 needs 1280 */
	iface_addr(&r, TYPES__IPFAMILY__v6, "2001:db8:213::2", "64");
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	iface_req(&r, MAC0, "eth0", 70000);
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	return 0;
out:
	return -1;
}

/* By MAC: addresses v4 + v6, MTU 1400, renamed eth0, up; the reply is what was applied. */
static int case_update_interface(struct it *t)
{
	struct iface_req r;
	Types__Interface *got = NULL;
	Grpc__Interfaces *l = NULL;
	int rc = -1;
	iface_req(&r, MAC0, "eth0", 1400);
	iface_addr(&r, TYPES__IPFAMILY__v4, "10.213.0.2", "24");
	iface_addr(&r, TYPES__IPFAMILY__v6, "2001:db8:213::2", "64");
	TRY(it_ok(t, "UpdateInterface", &r.req.base, &types__interface__descriptor, &got));
	EXPECT(!strcmp(got->name, "eth0") && !strcmp(got->hwaddr, MAC0) && got->mtu == 1400,
	       "reply: name %s mac %s mtu %llu", got->name, got->hwaddr,
	       (unsigned long long)got->mtu);
	EXPECT((got->raw_flags & IFF_UP) && !(got->raw_flags & IFF_NOARP), "reply flags %#x",
	       got->raw_flags);
	EXPECT(has_addr(got, "10.213.0.2", "24", TYPES__IPFAMILY__v4) &&
		   has_addr(got, "2001:db8:213::2", "64", TYPES__IPFAMILY__v6),
	       "reply lacks an address (%zu addresses)", got->n_ipaddresses);
	TRY(ip_shows(t, true, "-o link show dev eth0", "mtu 1400", "link/ether " MAC0, ",UP",
		     NULL));
	TRY(ip_shows(t, true, "-o addr show dev eth0", "inet 10.213.0.2/24 brd 10.213.0.255",
		     "inet6 2001:db8:213::2/64", NULL));
	TRY(ip_shows(t, false, "-o link", "pdv0", NULL));
	l = list_ifaces(t);
	const Types__Interface *eth0 = find_iface(l, "eth0");
	EXPECT(eth0 && eth0->mtu == 1400 && has_addr(eth0, "10.213.0.2", "24", 0),
	       "ListInterfaces does not show eth0 as updated");
	rc = 0;
out:
	if (got)
		types__interface__free_unpacked(got, NULL);
	if (l)
		grpc__interfaces__free_unpacked(l, NULL);
	return rc;
}

/* Naming pdv1 "eth0" swaps the names; naming it back restores them. Up stays up. */
static int case_update_interface_swap(struct it *t)
{
	struct iface_req r;
	iface_req(&r, MAC1, "eth0", 0);
	TRY(it_ok(t, "UpdateInterface", &r.req.base, NULL, NULL));
	TRY(ip_shows(t, true, "-o link show dev eth0", "link/ether " MAC1, NULL));
	TRY(ip_shows(t, true, "-o link show dev pdv1", "link/ether " MAC0, ",UP", "mtu 1400",
		     NULL));
	TRY(ip_shows(t, true, "-o addr show dev pdv1", "inet 10.213.0.2/24", NULL));
	iface_req(&r, MAC0, "eth0", 1400);
	iface_addr(&r, TYPES__IPFAMILY__v4, "10.213.0.2", "24");
	iface_addr(&r, TYPES__IPFAMILY__v6, "2001:db8:213::2", "64");
	TRY(it_ok(t, "UpdateInterface", &r.req.base, NULL, NULL));
	TRY(ip_shows(t, true, "-o link show dev eth0", "link/ether " MAC0, ",UP", NULL));
	TRY(ip_shows(t, true, "-o link show dev pdv1", "link/ether " MAC1, ",UP", NULL));
	return 0;
out:
	return -1;
}

/* No link has the MAC: the one named takes it. Then NOARP from raw_flags, on and off. */
static int case_update_interface_by_name(struct it *t)
{
	struct iface_req r;
	Types__Interface *got = NULL;
	int rc = -1;
	iface_req(&r, "03:00:00:00:0a:77", "pdv1", 0); /* multicast: no link may have it */
	TRY(refused(t, "UpdateInterface", &r.req.base, PD_INVALID_ARGUMENT));
	iface_req(&r, MAC_FB, "pdv1", 0);
	r.f.raw_flags = IFF_NOARP;
	TRY(it_ok(t, "UpdateInterface", &r.req.base, &types__interface__descriptor, &got));
	EXPECT(!strcmp(got->hwaddr, MAC_FB) && (got->raw_flags & IFF_NOARP),
	       "reply mac %s flags %#x", got->hwaddr, got->raw_flags);
	TRY(ip_shows(t, true, "-o link show dev pdv1", "link/ether " MAC_FB, "NOARP", NULL));
	r.f.raw_flags = 0;
	TRY(it_ok(t, "UpdateInterface", &r.req.base, NULL, NULL));
	TRY(ip_shows(t, false, "-o link show dev pdv1", "NOARP", NULL));
	rc = 0;
out:
	if (got)
		types__interface__free_unpacked(got, NULL);
	return rc;
}

/* ---- routes ----------------------------------------------------------------------------- */

struct routes_req {
	Grpc__UpdateRoutesRequest req;
	Grpc__Routes routes;
	Types__Route r[8];
	Types__Route *rp[8];
};

static void routes_req(struct routes_req *q)
{
	grpc__update_routes_request__init(&q->req);
	grpc__routes__init(&q->routes);
	q->req.routes = &q->routes;
	q->routes.routes = q->rp;
}

static Types__Route *route(struct routes_req *q, const char *dest, const char *gw, const char *dev,
			   uint32_t scope)
{
	Types__Route *r = &q->r[q->routes.n_routes];
	types__route__init(r);
	r->dest = (char *)dest;
	r->gateway = (char *)gw;
	r->device = (char *)dev;
	r->scope = scope;
	q->rp[q->routes.n_routes++] = r;
	return r;
}

static int case_update_routes_refused(struct it *t)
{
	struct routes_req q;
	Grpc__UpdateRoutesRequest empty = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	TRY(refused(t, "UpdateRoutes", &empty.base, PD_INVALID_ARGUMENT));
	routes_req(&q);
	route(&q, "10.214.0.0/24", "", "eth0", RT_SCOPE_LINK);
	route(&q, "", "10.214.0.1", "nosuchdev", 0);
	TRY(refused(t, "UpdateRoutes", &q.req.base, PD_NOT_FOUND));
	EXPECT(strstr(t->msg, "nosuchdev"), "message '%s'", t->msg);
	routes_req(&q);
	route(&q, "10.214.0.0/24", "", "eth0", RT_SCOPE_LINK);
	route(&q, "10.214.1.1/24", "", "eth0", RT_SCOPE_LINK); /* host bits */
	TRY(refused(t, "UpdateRoutes", &q.req.base, PD_INVALID_ARGUMENT));
	routes_req(&q);
	route(&q, "", "fe80::1", "eth0", 0)->source = "10.213.0.2";
	TRY(refused(t, "UpdateRoutes", &q.req.base, PD_INVALID_ARGUMENT));
	routes_req(&q);
	route(&q, "", "10.214.0.1", "eth0", RT_SCOPE_LINK);
	TRY(refused(t, "UpdateRoutes", &q.req.base, PD_INVALID_ARGUMENT));
	return 0;
out:
	return -1;
}

/* A default route via a gateway on a subnet that only the connected route of the same
 * request reaches, listed first: it works only if routes without a gateway go in first. */
static int case_update_routes(struct it *t)
{
	struct routes_req q;
	Grpc__Routes *got = NULL, *l = NULL;
	int rc = -1;
	routes_req(&q);
	route(&q, "", "10.214.0.1", "eth0", 0);
	route(&q, "10.214.0.0/24", "", "eth0", RT_SCOPE_LINK)->source = "10.213.0.2";
	route(&q, "2001:db8:214::/64", "", "eth0", 0)->family = TYPES__IPFAMILY__v6;
	/* A route of a link the request does not name, which must stay. (Set here: the earlier
	 * cases took pdv1 down, and the kernel drops the IPv4 routes of a link that goes down.) */
	char *o = ip_out(t, "route replace 10.99.0.0/24 dev pdv1");
	EXPECT(o && !o[0], "ip route replace: %s", o ? o : "?");
	free(o);
	TRY(it_ok(t, "UpdateRoutes", &q.req.base, &grpc__routes__descriptor, &got));
	const Types__Route *def = find_route(got, "", "10.214.0.1", "eth0"),
			   *net = find_route(got, "10.214.0.0/24", "", "eth0"),
			   *v6 = find_route(got, "2001:db8:214::/64", "", "eth0");
	EXPECT(def && net && v6, "reply lacks a route asked for (%zu routes)", got->n_routes);
	EXPECT(net->scope == RT_SCOPE_LINK && !strcmp(net->source, "10.213.0.2") &&
		   v6->family == TYPES__IPFAMILY__v6 && def->family == TYPES__IPFAMILY__v4,
	       "route fields: scope %u source '%s' v6 family %d", net->scope, net->source,
	       v6->family);
	EXPECT(find_route(got, "10.213.0.0/24", "", "eth0") &&
		   find_route(got, "10.99.0.0/24", "", "pdv1"),
	       "the kernel's route of eth0 or pdv1's route is missing from the reply");
	TRY(ip_shows(t, true, "route", "default via 10.214.0.1 dev eth0",
		     "10.214.0.0/24 dev eth0 scope link src 10.213.0.2", "10.99.0.0/24 dev pdv1",
		     NULL));
	TRY(ip_shows(t, true, "-6 route", "2001:db8:214::/64 dev eth0", NULL));
	l = list_routes(t);
	EXPECT(l && l->n_routes == got->n_routes && find_route(l, "", "10.214.0.1", "eth0"),
	       "ListRoutes differs from the UpdateRoutes reply");
	rc = 0;
out:
	if (got)
		grpc__routes__free_unpacked(got, NULL);
	if (l)
		grpc__routes__free_unpacked(l, NULL);
	return rc;
}

/* A second list replaces the first on eth0; the kernel's route and pdv1's stay. An empty
 * list changes nothing. */
static int case_update_routes_replace(struct it *t)
{
	struct routes_req q;
	Grpc__Routes *got = NULL;
	int rc = -1;
	routes_req(&q);
	route(&q, "", "10.215.0.1", "eth0", 0);
	route(&q, "10.215.0.0/24", "", "eth0", RT_SCOPE_LINK)->mtu = 1300;
	TRY(it_ok(t, "UpdateRoutes", &q.req.base, &grpc__routes__descriptor, &got));
	const Types__Route *net = find_route(got, "10.215.0.0/24", "", "eth0");
	EXPECT(net && net->mtu == 1300, "10.215.0.0/24 with mtu 1300 missing from the reply");
	EXPECT(!find_route(got, "", "10.214.0.1", "eth0") &&
		   !find_route(got, "10.214.0.0/24", "", "eth0") &&
		   !find_route(got, "2001:db8:214::/64", "", "eth0"),
	       "an old route of eth0 is still listed");
	TRY(ip_shows(t, true, "route", "default via 10.215.0.1 dev eth0",
		     "10.215.0.0/24 dev eth0 scope link mtu 1300",
		     "10.213.0.0/24 dev eth0 proto kernel", "10.99.0.0/24 dev pdv1", NULL));
	TRY(ip_shows(t, false, "route", "10.214.0", NULL));
	TRY(ip_shows(t, false, "-6 route", "2001:db8:214::", NULL));
	grpc__routes__free_unpacked(got, NULL);
	got = NULL;
	routes_req(&q);
	char *before = settled_snapshot(t);
	TRY(it_ok(t, "UpdateRoutes", &q.req.base, &grpc__routes__descriptor, &got));
	char *after = snapshot(t);
	bool same = before && after && strcmp(before, after) == 0;
	free(before);
	free(after);
	EXPECT(same && got->n_routes > 0, "an empty UpdateRoutes changed something");
	rc = 0;
out:
	if (got)
		grpc__routes__free_unpacked(got, NULL);
	return rc;
}

/* ---- neighbours ------------------------------------------------------------------------- */

struct neigh_req {
	Grpc__AddARPNeighborsRequest req;
	Grpc__ARPNeighbors list;
	Types__ARPNeighbor n[4];
	Types__ARPNeighbor *np[4];
	Types__IPAddress ip[4];
};

static void neigh_req(struct neigh_req *q)
{
	grpc__add_arpneighbors_request__init(&q->req);
	grpc__arpneighbors__init(&q->list);
	q->req.neighbors = &q->list;
	q->list.arpneighbors = q->np;
}

static void neigh(struct neigh_req *q, int family, const char *ip, const char *dev,
		  const char *lladdr)
{
	size_t i = q->list.n_arpneighbors++;
	types__arpneighbor__init(&q->n[i]);
	types__ipaddress__init(&q->ip[i]);
	q->ip[i].family = family;
	q->ip[i].address = (char *)ip;
	q->n[i].toipaddress = &q->ip[i];
	q->n[i].device = (char *)dev;
	q->n[i].lladdr = (char *)lladdr;
	q->np[i] = &q->n[i];
}

static int case_add_arp_neighbors(struct it *t)
{
	struct neigh_req q;
	Grpc__AddARPNeighborsRequest empty = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	TRY(refused(t, "AddARPNeighbors", &empty.base, PD_INVALID_ARGUMENT));
	neigh_req(&q);
	neigh(&q, TYPES__IPFAMILY__v4, "10.213.0.10", "eth0", "02:00:00:00:0a:98");
	neigh(&q, TYPES__IPFAMILY__v4, "10.213.0.11", "eth0", "02:00:00:00:0a:9");
	TRY(refused(t, "AddARPNeighbors", &q.req.base, PD_INVALID_ARGUMENT));
	neigh_req(&q);
	neigh(&q, TYPES__IPFAMILY__v4, "10.213.0.10", "eth0", "02:00:00:00:0a:98");
	neigh(&q, TYPES__IPFAMILY__v4, "10.213.0.11", "nosuchdev", "02:00:00:00:0a:98");
	TRY(refused(t, "AddARPNeighbors", &q.req.base, PD_NOT_FOUND));
	neigh_req(&q);
	neigh(&q, TYPES__IPFAMILY__v4, "10.213.0.9", "eth0", "02:00:00:00:0a:99");
	neigh(&q, TYPES__IPFAMILY__v6, "2001:db8:213::9", "eth0", "02:00:00:00:0a:97");
	TRY(it_ok(t, "AddARPNeighbors", &q.req.base, NULL, NULL));
	TRY(ip_shows(t, true, "neigh show dev eth0",
		     "10.213.0.9 lladdr 02:00:00:00:0a:99 PERMANENT",
		     "2001:db8:213::9 lladdr 02:00:00:00:0a:97 PERMANENT", NULL));
	TRY(ip_shows(t, false, "neigh", "10.213.0.10", NULL));
	return 0;
out:
	return -1;
}

static const struct it_case cases[] = {
    {"list_interfaces", case_list_interfaces},
    {"update_interface_refused", case_update_interface_refused},
    {"update_interface", case_update_interface},
    {"update_interface_swap_names", case_update_interface_swap},
    {"update_interface_by_name_noarp", case_update_interface_by_name},
    {"update_routes_refused", case_update_routes_refused},
    {"update_routes", case_update_routes},
    {"update_routes_replace", case_update_routes_replace},
    {"add_arp_neighbors", case_add_arp_neighbors},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	memset(&t, 0, sizeof(t));
	t.c.fd = -1;
	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR NETNS [CASE...]\n", argv[0]);
		return 2;
	}
	t.addr = argv[1];
	netns = argv[2];
	t.only = argv + 3;
	t.n_only = argc - 3;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (it_connect(&t, &t.c) < 0) {
		printf("not ok - connect: %s\n", t.why);
		return 1;
	}
	it_run_cases(&t, cases);
	return it_finish(&t, "network");
}
