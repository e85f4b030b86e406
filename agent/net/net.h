/* Guest networking over rtnetlink: interfaces (a link and its addresses), routes and
 * ARP/NDP neighbours, as the host sets them up before CreateSandbox; and the loopback,
 * brought up at boot. No protobuf types here: agent/rpc/network.c converts.
 *
 * Every value from the host goes through a parser below (text.c, *_parse) before anything
 * is changed, so a bad request fails with INVALID_ARGUMENT and leaves the network as it was.
 * What the kernel refuses part-way is reported with the step that failed. */
#ifndef PD_NET_H
#define PD_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"
#include "agent/net/netlink.h"

#define PD_NET_MAX_ITEMS 1024  /* addresses, routes or neighbours in one request */
#define PD_NET_MAX_DUMP	 16384 /* objects of one kind read back from the kernel */
#define PD_MAC_LEN	 6
#define PD_HWADDR_MAX	 32 /* the kernel's MAX_ADDR_LEN */
#define PD_MTU_MIN	 68 /* IPv4's minimum */
#define PD_MTU_MAX	 65536
#define PD_IPV6_MTU_MIN	 1280

/* An IPv4 or IPv6 address with a prefix length (the full length for a plain address). */
struct pd_ip {
	int family; /* AF_INET or AF_INET6; 0 only for an empty route destination */
	unsigned prefix;
	unsigned char addr[16];
};

/* ---- text from the host (text.c) -------------------------------------------------------- */

/* A kernel interface name: 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
int pd_net_check_ifname(const char *name, struct pd_error *err);
/* "aa:bb:cc:dd:ee:ff", two hex digits per byte, either case. */
int pd_net_parse_mac(const char *s, unsigned char mac[PD_MAC_LEN], struct pd_error *err);
/* Bytes as "aa:bb:..." (lowercase, like Go's net.HardwareAddr); "" for none. */
void pd_net_format_hwaddr(const unsigned char *a, size_t len, char *buf, size_t size);
/* A plain address. want = AF_INET or AF_INET6 requires that family, AF_UNSPEC takes either. */
int pd_net_parse_ip(const char *s, int want, struct pd_ip *ip, struct pd_error *err);
/* An address with its prefix length as decimal text ("24"), as types.IPAddress has them. */
int pd_net_parse_ip_mask(const char *addr, const char *mask, int want, struct pd_ip *ip,
			 struct pd_error *err);
/* A network "10.1.0.0/16" or a host "10.1.0.7" (full length); no bits set past the prefix.
 * "" is the default route: prefix 0, family want (may stay AF_UNSPEC). */
int pd_net_parse_prefix(const char *s, int want, struct pd_ip *ip, struct pd_error *err);
/* The address alone ("10.0.0.1", "fe80::1"); with_prefix adds "/len". */
const char *pd_net_format_ip(const struct pd_ip *ip, bool with_prefix, char *buf, size_t size);
size_t pd_ip_len(int family);
bool pd_ip_eq(const struct pd_ip *a, const struct pd_ip *b);
/* Byte i of the netmask of a prefix length (prefix 20: ff ff f0 00 ...). */
unsigned char pd_ip_mask_byte(unsigned prefix, size_t i);

/* ---- links (link.c) ------------------------------------------------------------------------ */

struct pd_link {
	int index;
	char name[IFNAMSIZ];
	unsigned char hwaddr[PD_HWADDR_MAX];
	size_t hwaddr_len;
	uint32_t mtu;
	uint32_t flags; /* IFF_* */
	char kind[16];	/* IFLA_INFO_KIND: "veth", "" when the kernel names none */
};

struct pd_links {
	struct pd_link *v;
	size_t n;
};

int pd_link_list(struct pd_nl *nl, struct pd_links *out, struct pd_error *err);
void pd_links_free(struct pd_links *l);
const struct pd_link *pd_link_by_name(const struct pd_links *l, const char *name);
const struct pd_link *pd_link_by_index(const struct pd_links *l, int index);
const struct pd_link *pd_link_by_mac(const struct pd_links *l, const unsigned char *mac);

/* One RTM_NEWLINK on an existing link; each field is sent only when set. */
struct pd_link_change {
	int index;
	const char *name;	  /* NULL: keep */
	uint32_t mtu;		  /* 0: keep */
	const unsigned char *mac; /* NULL: keep */
	uint32_t flags, mask;	  /* the IFF_* bits of mask get their value from flags */
};
void pd_link_change_build(struct pd_nlmsg *m, const struct pd_link_change *c);
int pd_link_change(struct pd_nl *nl, const struct pd_link_change *c, struct pd_error *err);

/* Bring "lo" up (pid 1 at boot: nobody else will). */
int pd_net_loopback_up(struct pd_error *err);

/* ---- addresses (addr.c) -------------------------------------------------------------------- */

struct pd_ifaddr {
	int index;
	struct pd_ip ip; /* the local address and its prefix */
};

struct pd_ifaddrs {
	struct pd_ifaddr *v;
	size_t n;
};

/* The addresses of link `index` (0: of every link), in the kernel's order. */
int pd_ifaddr_list(struct pd_nl *nl, int index, struct pd_ifaddrs *out, struct pd_error *err);
void pd_ifaddrs_free(struct pd_ifaddrs *a);
/* RTM_NEWADDR (create or replace) or RTM_DELADDR of ip on link index. */
void pd_ifaddr_build(struct pd_nlmsg *m, uint16_t type, int index, const struct pd_ip *ip);
int pd_ifaddr_add(struct pd_nl *nl, int index, const struct pd_ip *ip, struct pd_error *err);
int pd_ifaddr_del(struct pd_nl *nl, int index, const struct pd_ip *ip, struct pd_error *err);
/* Whether link `ifname` can have IPv6 addresses (IPv6 built in and not disabled on it). */
bool pd_net_ipv6_enabled(const char *ifname);

/* ---- interfaces: a link and its addresses (iface.c) ----------------------------------------- */

struct pd_iface {
	const struct pd_link *link;
	const struct pd_ifaddr *addrs; /* n_addrs of them, all of this link */
	size_t n_addrs;
};

struct pd_ifaces {
	struct pd_iface *v;
	size_t n;
	struct pd_links links; /* what v points into */
	struct pd_ifaddrs addrs;
};

/* Every interface, in the kernel's link order. */
int pd_iface_list(struct pd_ifaces *out, struct pd_error *err);
int pd_iface_list_nl(struct pd_nl *nl, struct pd_ifaces *out, struct pd_error *err);
void pd_ifaces_free(struct pd_ifaces *l);

/* An address as the host writes it. v6 = the host said IPv6 (family 1); its default (v4)
 * cannot be told apart from "not sent" by old hosts, so then the address decides. */
struct pd_ip_text {
	bool v6;
	const char *address, *mask;
};

/* UpdateInterface, as the host writes it. */
struct pd_iface_text {
	const char *device, *name, *hwaddr;
	uint64_t mtu;
	uint32_t raw_flags;
	const struct pd_ip_text *addrs;
	size_t n_addrs;
};

/* UpdateInterface, checked. */
struct pd_iface_update {
	bool has_mac;
	unsigned char mac[PD_MAC_LEN];
	char find[IFNAMSIZ]; /* the link to take when no MAC is given or no link has it */
	char name[IFNAMSIZ]; /* the name it gets; "" keeps it */
	uint32_t mtu;	     /* 0 keeps it */
	bool noarp;
	struct pd_ip *addrs; /* owned: pd_iface_update_free */
	size_t n_addrs;
};

int pd_iface_parse(const struct pd_iface_text *t, struct pd_iface_update *u, struct pd_error *err);
void pd_iface_update_free(struct pd_iface_update *u);
/* Find the link (by MAC; else by name, and give it the MAC), bring it down, replace its
 * addresses, set MTU, name (a link that has the name gets ours), NOARP, bring it up. *out
 * is then the interface as the kernel has it (one entry). */
int pd_iface_update(const struct pd_iface_update *u, struct pd_ifaces *out, struct pd_error *err);

/* ---- routes (route.c, route_update.c) ------------------------------------------------------ */

struct pd_route {
	int family;
	struct pd_ip dst; /* prefix 0: the default route */
	bool has_gw;
	struct pd_ip gw;
	bool has_src;
	struct pd_ip src; /* preferred source address (RTA_PREFSRC) */
	char dev[IFNAMSIZ];
	int index;
	uint8_t scope, protocol, type;
	uint32_t flags;	   /* RTNH_F_ONLINK is the one kept */
	uint32_t mtu;	   /* 0: none */
	uint32_t priority; /* the metric; 0 in a request: the kernel's default */
};

struct pd_routes {
	struct pd_route *v;
	size_t n;
};

/* A route as the host writes it. */
struct pd_route_text {
	bool v6;
	const char *dest, *gateway, *device, *source;
	uint32_t scope, flags, mtu;
};

int pd_route_parse(const struct pd_route_text *t, struct pd_route *r, struct pd_error *err);
/* RTM_NEWROUTE (create or replace, main table, protocol boot) or RTM_DELROUTE. */
void pd_route_build(struct pd_nlmsg *m, uint16_t type, const struct pd_route *r);
/* Unicast routes of the main table that have an output link, IPv4 then IPv6, their dev
 * named from links. */
int pd_route_list(struct pd_nl *nl, const struct pd_links *links, struct pd_routes *out,
		  struct pd_error *err);
int pd_net_list_routes(struct pd_routes *out, struct pd_error *err);
void pd_routes_free(struct pd_routes *l);
/* Make want[] the routes of the links it names: delete their other routes (but the
 * kernel's own), add or replace the wanted ones, those without a gateway first. *out is
 * then the full list (pd_route_list). */
int pd_net_replace_routes(struct pd_route *want, size_t n, struct pd_routes *out,
			  struct pd_error *err);

/* ---- neighbours (neigh.c) ------------------------------------------------------------------ */

struct pd_neigh {
	struct pd_ip ip;
	char dev[IFNAMSIZ];
	int index;
	bool has_lladdr;
	unsigned char lladdr[PD_MAC_LEN];
	uint16_t state; /* NUD_*; the host's 0 means NUD_PERMANENT */
	uint8_t flags;	/* NTF_* */
};

struct pd_neigh_text {
	bool v6;
	const char *address, *device, *lladdr;
	int32_t state, flags;
};

int pd_neigh_parse(const struct pd_neigh_text *t, struct pd_neigh *n, struct pd_error *err);
void pd_neigh_build(struct pd_nlmsg *m, const struct pd_neigh *n);
/* Add (or replace) each neighbour; all links are looked up before the first is added. */
int pd_net_add_neighbors(struct pd_neigh *v, size_t n, struct pd_error *err);

#endif
