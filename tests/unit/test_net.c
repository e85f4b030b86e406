/* agent/net: the parsers of what the host sends (interface names, MACs, addresses,
 * prefixes, routes, neighbours, UpdateInterface), the netlink message builder (byte layout
 * of headers, attributes, padding, nesting), the attribute and ack parsers; and, in a
 * network namespace of its own, the loopback coming up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/net/net.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static struct pd_error e;

#define BAD(call)                                                                                  \
	do {                                                                                       \
		pd_error_clear(&e);                                                                \
		assert_int_equal((call), -1);                                                      \
		assert_int_equal(e.code, PD_INVALID_ARGUMENT);                                     \
		assert_true(e.msg[0] != '\0');                                                     \
	} while (0)

#define GOOD(call)                                                                                 \
	do {                                                                                       \
		pd_error_clear(&e);                                                                \
		if ((call) != 0)                                                                   \
			fail_msg("%s: %s", #call, e.msg);                                          \
	} while (0)

static const char *ip_str(const struct pd_ip *ip, bool prefix)
{
	static char buf[80];
	return pd_net_format_ip(ip, prefix, buf, sizeof(buf));
}

/* The attribute table of a built message. */
static void attrs_of(const struct pd_nlmsg *m, size_t hdrlen, const struct rtattr **tb,
		     unsigned max)
{
	assert_false(m->overflow);
	assert_int_equal(pd_nl_msg_attrs(pd_nlmsg_hdr(m), hdrlen, tb, max), 0);
}

static uint32_t u32_of(const struct rtattr *a)
{
	uint32_t v = 0;
	assert_true(pd_nl_attr_u32(a, &v));
	return v;
}

/* ---- names and MACs --------------------------------------------------------------------- */

static void test_ifname(void **state)
{
	GOOD(pd_net_check_ifname("eth0", &e));
	GOOD(pd_net_check_ifname("a23456789012345", &e)); /* 15 bytes: the most */
	BAD(pd_net_check_ifname("a234567890123456", &e));
	BAD(pd_net_check_ifname("", &e));
	BAD(pd_net_check_ifname(".", &e));
	BAD(pd_net_check_ifname("..", &e));
	BAD(pd_net_check_ifname("a/b", &e));
	BAD(pd_net_check_ifname("eth0:1", &e));
	BAD(pd_net_check_ifname("eth 0", &e));
	BAD(pd_net_check_ifname("eth\t0", &e));
	BAD(pd_net_check_ifname("eth\n", &e));
	BAD(pd_net_check_ifname("eth\x7f", &e));
	BAD(pd_net_check_ifname("\xc3\xa9th0", &e)); /* whatever the sign of char */
	GOOD(pd_net_check_ifname("..x", &e));
}

static void test_mac(void **state)
{
	unsigned char mac[PD_MAC_LEN];
	static const unsigned char want[] = {0x02, 0x42, 0xac, 0x11, 0x00, 0xff};
	GOOD(pd_net_parse_mac("02:42:ac:11:00:ff", mac, &e));
	assert_memory_equal(mac, want, sizeof(want));
	GOOD(pd_net_parse_mac("02:42:AC:11:00:FF", mac, &e));
	assert_memory_equal(mac, want, sizeof(want));
	BAD(pd_net_parse_mac("", mac, &e));
	BAD(pd_net_parse_mac("02:42:ac:11:00", mac, &e));
	BAD(pd_net_parse_mac("02:42:ac:11:00:ff:01", mac, &e));
	BAD(pd_net_parse_mac("02:42:ac:11:00:f", mac, &e));
	BAD(pd_net_parse_mac("02-42-ac-11-00-ff", mac, &e));
	BAD(pd_net_parse_mac("2:42:ac:11:00:ff0", mac, &e));
	BAD(pd_net_parse_mac("0g:42:ac:11:00:ff", mac, &e));
	BAD(pd_net_parse_mac("02:42:ac:11:00:ff ", mac, &e));
	BAD(pd_net_parse_mac(" 02:42:ac:11:00:f", mac, &e));
}

static void test_format_hwaddr(void **state)
{
	char buf[100];
	static const unsigned char mac[] = {0x02, 0x42, 0xAC, 0x11, 0x00, 0xFF};
	pd_net_format_hwaddr(mac, sizeof(mac), buf, sizeof(buf));
	assert_string_equal(buf, "02:42:ac:11:00:ff");
	pd_net_format_hwaddr(mac, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	pd_net_format_hwaddr(mac, sizeof(mac), buf, 9); /* "02:42:ac" and its NUL fit */
	assert_string_equal(buf, "02:42:ac");
	pd_net_format_hwaddr(mac, sizeof(mac), buf, 8); /* cut at a whole byte */
	assert_string_equal(buf, "02:42");
}

/* ---- addresses ------------------------------------------------------------------------- */

static void test_parse_ip(void **state)
{
	struct pd_ip ip;
	GOOD(pd_net_parse_ip("10.0.0.1", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.prefix, 32);
	assert_string_equal(ip_str(&ip, true), "10.0.0.1/32");
	GOOD(pd_net_parse_ip("fe80::1", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ip.prefix, 128);
	assert_string_equal(ip_str(&ip, false), "fe80::1");
	GOOD(pd_net_parse_ip("::ffff:10.0.0.1", AF_INET6, &ip, &e));
	BAD(pd_net_parse_ip("10.0.0.1", AF_INET6, &ip, &e));
	BAD(pd_net_parse_ip("fe80::1", AF_INET, &ip, &e));
	BAD(pd_net_parse_ip("10.0.0.256", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip("10.0.0", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip(" 10.0.0.1", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip("fe80::1%eth0", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip("10.0.0.1/24", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip("", AF_UNSPEC, &ip, &e));
	char longs[300];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	BAD(pd_net_parse_ip(longs, AF_UNSPEC, &ip, &e));
}

static void test_parse_ip_mask(void **state)
{
	struct pd_ip ip;
	GOOD(pd_net_parse_ip_mask("10.0.0.2", "24", AF_UNSPEC, &ip, &e));
	assert_string_equal(ip_str(&ip, true), "10.0.0.2/24"); /* host bits are fine here */
	GOOD(pd_net_parse_ip_mask("10.0.0.2", "0", AF_UNSPEC, &ip, &e));
	GOOD(pd_net_parse_ip_mask("10.0.0.2", "32", AF_UNSPEC, &ip, &e));
	GOOD(pd_net_parse_ip_mask("2001:db8::2", "128", AF_INET6, &ip, &e));
	assert_int_equal(ip.prefix, 128);
	BAD(pd_net_parse_ip_mask("10.0.0.2", "33", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("2001:db8::2", "129", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "-1", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "+24", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", " 24", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "24 ", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "0024", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "255.255.255.0", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_ip_mask("10.0.0.2", "4294967320", AF_UNSPEC, &ip, &e)); /* 2^32 + 24 */
	BAD(pd_net_parse_ip_mask("bad", "24", AF_UNSPEC, &ip, &e));
}

static void test_parse_prefix(void **state)
{
	struct pd_ip ip;
	GOOD(pd_net_parse_prefix("10.1.0.0/16", AF_UNSPEC, &ip, &e));
	assert_string_equal(ip_str(&ip, true), "10.1.0.0/16");
	GOOD(pd_net_parse_prefix("10.1.0.7", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.prefix, 32);
	GOOD(pd_net_parse_prefix("0.0.0.0/0", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.prefix, 0);
	GOOD(pd_net_parse_prefix("10.1.2.128/25", AF_UNSPEC, &ip, &e));
	GOOD(pd_net_parse_prefix("2001:db8::/32", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.family, AF_INET6);
	GOOD(pd_net_parse_prefix("::/0", AF_INET6, &ip, &e));
	GOOD(pd_net_parse_prefix("", AF_UNSPEC, &ip, &e));
	assert_int_equal(ip.family, AF_UNSPEC);
	assert_int_equal(ip.prefix, 0);
	GOOD(pd_net_parse_prefix("", AF_INET6, &ip, &e));
	assert_int_equal(ip.family, AF_INET6);
	BAD(pd_net_parse_prefix("10.1.0.7/16", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("10.1.2.129/25", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("2001:db8::1/64", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("10.0.0.0/", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("10.0.0.0/33", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("10.0.0.0/8/8", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("/8", AF_UNSPEC, &ip, &e));
	BAD(pd_net_parse_prefix("10.0.0.0/8", AF_INET6, &ip, &e));
	BAD(pd_net_parse_prefix("default", AF_UNSPEC, &ip, &e));
}

/* ---- UpdateInterface, routes and neighbours as the host writes them -------------------- */

static void test_iface_parse(void **state)
{
	struct pd_iface_update u;
	struct pd_ip_text addrs[] = {{false, "10.0.0.2", "24"}, {false, "2001:db8::2", "64"}};
	struct pd_iface_text t = {.device = "",
				  .name = "eth0",
				  .hwaddr = "02:00:00:00:00:01",
				  .mtu = 1400,
				  .raw_flags = IFF_NOARP,
				  .addrs = addrs,
				  .n_addrs = 2};
	GOOD(pd_iface_parse(&t, &u, &e));
	assert_true(u.has_mac);
	assert_string_equal(u.find, "eth0");
	assert_string_equal(u.name, "eth0");
	assert_int_equal(u.mtu, 1400);
	assert_true(u.noarp);
	assert_int_equal(u.n_addrs, 2);
	assert_int_equal(u.addrs[1].family, AF_INET6); /* family v4 (the default) + a v6 text */
	pd_iface_update_free(&u);

	t.device = "ens3"; /* the guest's current name is looked for, name is what it becomes */
	t.raw_flags = 0;
	GOOD(pd_iface_parse(&t, &u, &e));
	assert_string_equal(u.find, "ens3");
	assert_false(u.noarp);
	pd_iface_update_free(&u);

	struct pd_iface_text bad = t;
	bad.mtu = 1000; /* an IPv6 address needs 1280 */
	BAD(pd_iface_parse(&bad, &u, &e));
	assert_non_null(strstr(e.msg, "1280"));
	bad = t, bad.mtu = 67;
	BAD(pd_iface_parse(&bad, &u, &e));
	bad = t, bad.mtu = 65537;
	BAD(pd_iface_parse(&bad, &u, &e));
	bad = t, bad.mtu = (1ull << 32) + 1400; /* would wrap to 1400 in a u32 */
	BAD(pd_iface_parse(&bad, &u, &e));
	bad = t, bad.hwaddr = "02:00:00:00:00";
	BAD(pd_iface_parse(&bad, &u, &e));
	assert_non_null(strstr(e.msg, "hwAddr"));
	bad = t, bad.name = "eth/0";
	BAD(pd_iface_parse(&bad, &u, &e));
	bad = t, bad.hwaddr = "", bad.name = "", bad.device = "";
	BAD(pd_iface_parse(&bad, &u, &e));
	struct pd_ip_text v6_said_v4[] = {{true, "10.0.0.2", "24"}};
	bad = t, bad.addrs = v6_said_v4, bad.n_addrs = 1;
	BAD(pd_iface_parse(&bad, &u, &e));
	assert_non_null(strstr(e.msg, "IPAddresses[0]"));
	struct pd_ip_text nomask[] = {{false, "10.0.0.2", "24"}, {false, "10.0.1.2", ""}};
	bad = t, bad.addrs = nomask, bad.n_addrs = 2;
	BAD(pd_iface_parse(&bad, &u, &e));
	assert_non_null(strstr(e.msg, "IPAddresses[1]"));
	assert_null(u.addrs); /* freed on error */

	struct pd_ip_text *many = calloc(PD_NET_MAX_ITEMS + 1, sizeof(*many));
	assert_non_null(many);
	for (int i = 0; i <= PD_NET_MAX_ITEMS; i++)
		many[i] = (struct pd_ip_text){false, "10.0.0.2", "24"};
	bad = t, bad.addrs = many, bad.n_addrs = PD_NET_MAX_ITEMS + 1;
	BAD(pd_iface_parse(&bad, &u, &e));
	bad.n_addrs = PD_NET_MAX_ITEMS;
	GOOD(pd_iface_parse(&bad, &u, &e));
	pd_iface_update_free(&u);
	free(many);
}

static struct pd_route_text rt(const char *dest, const char *gw, const char *dev)
{
	return (struct pd_route_text){.dest = dest, .gateway = gw, .device = dev, .source = ""};
}

static void test_route_parse(void **state)
{
	struct pd_route r;
	struct pd_route_text t = rt("10.1.0.0/24", "", "eth0");
	t.scope = RT_SCOPE_LINK;
	t.source = "10.1.0.2";
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.family, AF_INET);
	assert_false(r.has_gw);
	assert_true(r.has_src);
	assert_int_equal(r.scope, RT_SCOPE_LINK);
	assert_string_equal(r.dev, "eth0");

	t = rt("", "10.1.0.1", "eth0"); /* the default route: the gateway sets the family */
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.dst.family, AF_INET);
	assert_int_equal(r.dst.prefix, 0);
	assert_true(r.has_gw);

	t = rt("", "fe80::1", "eth0"); /* family 0 from an old host, v6 gateway */
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.dst.family, AF_INET6);

	t = rt("", "", "eth0");
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.family, AF_INET);
	t.v6 = true;
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.family, AF_INET6);

	t = rt("2001:db8::/64", "", "eth0");
	t.flags = RTNH_F_ONLINK | RTNH_F_LINKDOWN | RTNH_F_DEAD; /* kernel reports dropped */
	t.mtu = 1400;
	GOOD(pd_route_parse(&t, &r, &e));
	assert_int_equal(r.flags, RTNH_F_ONLINK);
	assert_int_equal(r.mtu, 1400);

	t = rt("10.1.0.0/24", "fe80::1", "eth0");
	BAD(pd_route_parse(&t, &r, &e));
	assert_non_null(strstr(e.msg, "gateway"));
	t = rt("10.1.0.0/24", "", "eth0"), t.v6 = true;
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "eth0"), t.source = "10.1.0.0/24";
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "eth0"), t.source = "2001:db8::1";
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.1/24", "", "eth0");
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "");
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "a234567890123456");
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("", "10.1.0.1", "eth0"), t.scope = RT_SCOPE_LINK;
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "eth0"), t.scope = 255;
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "eth0"), t.scope = 4096 + RT_SCOPE_LINK; /* no narrowing */
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "", "eth0"), t.mtu = 65536;
	BAD(pd_route_parse(&t, &r, &e));
	t = rt("10.1.0.0/24", "10.1.0.300", "eth0");
	BAD(pd_route_parse(&t, &r, &e));
}

static void test_neigh_parse(void **state)
{
	struct pd_neigh n;
	struct pd_neigh_text t = {
	    .address = "10.0.0.9", .device = "eth0", .lladdr = "02:00:00:00:00:99"};
	GOOD(pd_neigh_parse(&t, &n, &e));
	assert_int_equal(n.state, NUD_PERMANENT); /* 0 from the host */
	assert_true(n.has_lladdr);
	assert_int_equal(n.lladdr[5], 0x99);
	t.state = NUD_REACHABLE;
	t.flags = NTF_ROUTER;
	t.lladdr = "";
	GOOD(pd_neigh_parse(&t, &n, &e));
	assert_int_equal(n.state, NUD_REACHABLE);
	assert_int_equal(n.flags, NTF_ROUTER);
	assert_false(n.has_lladdr);

	struct pd_neigh_text bad = t;
	bad.lladdr = "02:00:00:00:00:9";
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.address = NULL; /* no toIPAddress */
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.address = "";
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.address = "10.0.0.9", bad.v6 = true;
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.device = "";
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.state = 0x100;
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.state = -1;
	BAD(pd_neigh_parse(&bad, &n, &e));
	bad = t, bad.flags = 256;
	BAD(pd_neigh_parse(&bad, &n, &e));
}

/* ---- the message builder ---------------------------------------------------------------- */

static void test_builder_layout(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	memset(buf, 0xAA, sizeof(buf)); /* padding must come out zeroed */
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWADDR, NLM_F_CREATE);
	struct ifaddrmsg *ifa = pd_nlmsg_reserve(&m, sizeof(*ifa));
	assert_ptr_equal(ifa, buf + 16);
	ifa->ifa_index = 7;
	static const unsigned char ip[] = {10, 0, 0, 2};
	pd_nlmsg_attr(&m, IFA_LOCAL, ip, sizeof(ip));
	pd_nlmsg_attr_str(&m, IFA_LABEL, "eth0");
	pd_nlmsg_attr_u32(&m, IFA_FLAGS, 0x11223344);
	struct nlmsghdr *h = pd_nlmsg_hdr(&m);
	/* 16 header + 8 ifaddrmsg + 8 (4+4) + 12 (4+5, padded) + 8 (4+4) */
	assert_int_equal(h->nlmsg_len, 52);
	assert_int_equal(h->nlmsg_type, RTM_NEWADDR);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE);
	static const unsigned char want[] = {
	    /* ifaddrmsg */ 0, 0, 0,	     0, 7,    0,    0,	  0,
	    /* IFA_LOCAL */ 8, 0, IFA_LOCAL, 0, 10,   0,    0,	  2,
	    /* IFA_LABEL */ 9, 0, IFA_LABEL, 0, 'e',  't',  'h',  '0',	0, 0, 0, 0,
	    /* IFA_FLAGS */ 8, 0, IFA_FLAGS, 0, 0x44, 0x33, 0x22, 0x11,
	};
	assert_memory_equal(buf + 16, want, sizeof(want));

	const struct rtattr *tb[IFA_MAX + 1];
	attrs_of(&m, sizeof(struct ifaddrmsg), tb, IFA_MAX);
	char label[IFNAMSIZ];
	assert_true(pd_nl_attr_str(tb[IFA_LABEL], label, sizeof(label)));
	assert_string_equal(label, "eth0");
	assert_int_equal(u32_of(tb[IFA_FLAGS]), 0x11223344);
	assert_int_equal(pd_nl_attr_len(tb[IFA_LOCAL]), 4);
	assert_null(tb[IFA_ADDRESS]);
}

static void test_builder_nest_and_overflow(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWROUTE, 0);
	pd_nlmsg_reserve(&m, sizeof(struct rtmsg));
	struct rtattr *nest = pd_nlmsg_nest_begin(&m, RTA_METRICS);
	pd_nlmsg_attr_u32(&m, RTAX_MTU, 1400);
	pd_nlmsg_attr_u32(&m, RTAX_HOPLIMIT, 9);
	pd_nlmsg_nest_end(&m, nest);
	pd_nlmsg_attr_u32(&m, RTA_OIF, 3);
	assert_int_equal(nest->rta_len, 4 + 8 + 8);
	assert_int_equal(nest->rta_type, RTA_METRICS | NLA_F_NESTED);
	const struct rtattr *tb[RTA_MAX + 1], *mx[RTAX_MAX + 1];
	attrs_of(&m, sizeof(struct rtmsg), tb, RTA_MAX);
	assert_ptr_equal(tb[RTA_METRICS], nest); /* found under its type, flag masked */
	assert_int_equal(u32_of(tb[RTA_OIF]), 3);
	assert_int_equal(pd_nl_attrs(pd_nl_attr_data(nest), pd_nl_attr_len(nest), mx, RTAX_MAX), 0);
	assert_int_equal(u32_of(mx[RTAX_MTU]), 1400);
	assert_int_equal(u32_of(mx[RTAX_HOPLIMIT]), 9);

	/* A buffer too small: flagged, never written past, and never sent. */
	unsigned char small[40] __attribute__((aligned(8)));
	pd_nlmsg_init(&m, small, sizeof(small), RTM_NEWLINK, 0);
	pd_nlmsg_reserve(&m, sizeof(struct ifinfomsg));
	assert_false(m.overflow);
	pd_nlmsg_attr_str(&m, IFLA_IFNAME, "a-long-interface-name");
	assert_true(m.overflow);
	assert_int_equal(pd_nlmsg_hdr(&m)->nlmsg_len, 32);
	struct pd_nl nl = {.fd = -1};
	pd_error_clear(&e);
	assert_int_equal(pd_nl_call(&nl, &m, &e), -1);
	assert_int_equal(e.code, PD_INTERNAL);
	assert_non_null(strstr(e.msg, "too large"));
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWLINK, 0);
	pd_nlmsg_attr(&m, IFLA_IFNAME, "x", 70000); /* longer than an attribute can be */
	assert_true(m.overflow);
	assert_int_equal(pd_nlmsg_hdr(&m)->nlmsg_len, NLMSG_HDRLEN);
}

static void test_attr_parser_rejects_bad_lengths(void **state)
{
	const struct rtattr *tb[8];
	unsigned char b[16] __attribute__((aligned(4))) = {0};
	struct rtattr *a = (struct rtattr *)(void *)b;
	a->rta_len = 20; /* past the end */
	a->rta_type = 1;
	assert_int_equal(pd_nl_attrs(b, sizeof(b), tb, 7), -1);
	a->rta_len = 3; /* shorter than its header */
	assert_int_equal(pd_nl_attrs(b, sizeof(b), tb, 7), -1);
	a->rta_len = 8;
	struct rtattr *a2 = (struct rtattr *)(void *)(b + 8);
	a2->rta_len = 8;
	a2->rta_type = 50; /* beyond max: skipped, not an error */
	assert_int_equal(pd_nl_attrs(b, sizeof(b), tb, 7), 0);
	assert_ptr_equal(tb[1], a);
	assert_int_equal(pd_nl_attrs(b, 3, tb, 7), 0); /* a tail shorter than a header */
	assert_null(tb[1]);

	struct nlmsghdr h = {.nlmsg_len = NLMSG_HDRLEN + 4};
	assert_int_equal(pd_nl_msg_attrs(&h, sizeof(struct ifinfomsg), tb, 7), -1);
}

/* An NLMSG_ERROR as the kernel writes it: error, our header, [our payload], TLVs. */
static size_t put_error(unsigned char *buf, int error, uint16_t flags, const char *text,
			size_t echoed)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	struct nlmsgerr *ne = NLMSG_DATA(h);
	memset(buf, 0, 512);
	ne->error = error;
	ne->msg.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + echoed);
	ne->msg.nlmsg_type = RTM_NEWROUTE;
	size_t off = NLMSG_HDRLEN + sizeof(*ne) + echoed;
	memset(buf + NLMSG_HDRLEN + sizeof(*ne), 0x5a, echoed);
	if (text) {
		struct rtattr *a = (struct rtattr *)(void *)(buf + off);
		a->rta_type = NLMSGERR_ATTR_MSG;
		a->rta_len = (unsigned short)RTA_LENGTH(strlen(text) + 1);
		memcpy(RTA_DATA(a), text, strlen(text) + 1);
		off += RTA_ALIGN(a->rta_len);
	}
	h->nlmsg_len = (uint32_t)off;
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = flags;
	return off;
}

static void test_ack_parser(void **state)
{
	unsigned char buf[512] __attribute__((aligned(8)));
	const struct nlmsghdr *h = (const void *)buf;
	char msg[128];
	int error = -99;

	put_error(buf, 0, NLM_F_CAPPED, NULL, 0);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, 0);
	assert_string_equal(msg, "");

	put_error(buf, -ENETUNREACH, NLM_F_CAPPED | NLM_F_ACK_TLVS, "Nexthop has invalid gateway",
		  0);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, ENETUNREACH);
	assert_string_equal(msg, "Nexthop has invalid gateway");

	/* Not capped: our 28-byte request body is echoed before the TLVs. */
	put_error(buf, -EEXIST, NLM_F_ACK_TLVS, "File exists here", 28);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, EEXIST);
	assert_string_equal(msg, "File exists here");

	put_error(buf, -EINVAL, NLM_F_ACK_TLVS | NLM_F_CAPPED, "a message cut short", 0);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, 6), 0);
	assert_string_equal(msg, "a mes");

	put_error(buf, -EINVAL, 0, NULL, 0); /* no TLV flag: no message even if bytes follow */
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, EINVAL);
	assert_string_equal(msg, "");

	size_t len = put_error(buf, -EINVAL, 0, NULL, 0);
	((struct nlmsghdr *)(void *)buf)->nlmsg_len = (uint32_t)len - 4; /* cut */
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), -1);

	put_error(buf, -EINVAL, NLM_F_ACK_TLVS | NLM_F_CAPPED, "x", 0);
	struct rtattr *a = (struct rtattr *)(void *)(buf + NLMSG_HDRLEN + sizeof(struct nlmsgerr));
	a->rta_len = 200; /* TLV past the end */
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), -1);
}

/* ---- the request messages -------------------------------------------------------------- */

static void test_link_change_build(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	static const unsigned char mac[] = {2, 0, 0, 0, 0, 1};
	struct pd_link_change c = {.index = 5,
				   .name = "eth0",
				   .mtu = 1400,
				   .mac = mac,
				   .flags = IFF_UP | IFF_NOARP | IFF_PROMISC,
				   .mask = IFF_UP | IFF_NOARP};
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWLINK, 0);
	pd_link_change_build(&m, &c);
	const struct ifinfomsg *ifi = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(ifi->ifi_index, 5);
	assert_int_equal(ifi->ifi_change, IFF_UP | IFF_NOARP);
	assert_int_equal(ifi->ifi_flags, IFF_UP | IFF_NOARP); /* bits outside the mask dropped */
	const struct rtattr *tb[IFLA_MAX + 1];
	attrs_of(&m, sizeof(struct ifinfomsg), tb, IFLA_MAX);
	assert_int_equal(u32_of(tb[IFLA_MTU]), 1400);
	assert_int_equal(pd_nl_attr_len(tb[IFLA_IFNAME]), 5); /* NUL included */
	assert_memory_equal(pd_nl_attr_data(tb[IFLA_ADDRESS]), mac, 6);

	struct pd_link_change up = {.index = 1, .flags = IFF_UP, .mask = IFF_UP};
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWLINK, 0);
	pd_link_change_build(&m, &up);
	assert_int_equal(pd_nlmsg_hdr(&m)->nlmsg_len, NLMSG_LENGTH(sizeof(struct ifinfomsg)));
}

static void test_addr_build(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	struct pd_ip ip;
	const struct rtattr *tb[IFA_MAX + 1];
	GOOD(pd_net_parse_ip_mask("10.0.3.2", "22", AF_INET, &ip, &e));
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWADDR, 0);
	pd_ifaddr_build(&m, RTM_NEWADDR, 4, &ip);
	const struct ifaddrmsg *ifa = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 22);
	assert_int_equal(ifa->ifa_index, 4);
	attrs_of(&m, sizeof(*ifa), tb, IFA_MAX);
	static const unsigned char brd[] = {10, 0, 3, 255};
	assert_memory_equal(pd_nl_attr_data(tb[IFA_BROADCAST]), brd, 4);
	assert_memory_equal(pd_nl_attr_data(tb[IFA_LOCAL]), ip.addr, 4);
	assert_memory_equal(pd_nl_attr_data(tb[IFA_ADDRESS]), ip.addr, 4);

	GOOD(pd_net_parse_ip_mask("10.0.3.2", "31", AF_INET, &ip, &e));
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWADDR, 0);
	pd_ifaddr_build(&m, RTM_NEWADDR, 4, &ip);
	attrs_of(&m, sizeof(*ifa), tb, IFA_MAX);
	assert_null(tb[IFA_BROADCAST]);

	GOOD(pd_net_parse_ip_mask("2001:db8::2", "64", AF_INET6, &ip, &e));
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_DELADDR, 0);
	pd_ifaddr_build(&m, RTM_DELADDR, 4, &ip);
	attrs_of(&m, sizeof(*ifa), tb, IFA_MAX);
	assert_int_equal(pd_nl_attr_len(tb[IFA_LOCAL]), 16);
	assert_null(tb[IFA_ADDRESS]);
	assert_null(tb[IFA_BROADCAST]);
}

static void test_route_build(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	struct pd_route r;
	const struct rtattr *tb[RTA_MAX + 1];
	struct pd_route_text t = rt("", "10.1.0.1", "eth0");
	GOOD(pd_route_parse(&t, &r, &e));
	r.index = 3;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	pd_route_build(&m, RTM_NEWROUTE, &r);
	const struct rtmsg *rtm = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_protocol, RTPROT_BOOT);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	attrs_of(&m, sizeof(*rtm), tb, RTA_MAX);
	assert_null(tb[RTA_DST]); /* the default route has none */
	assert_int_equal(u32_of(tb[RTA_OIF]), 3);
	static const unsigned char gw[] = {10, 1, 0, 1};
	assert_memory_equal(pd_nl_attr_data(tb[RTA_GATEWAY]), gw, 4);
	assert_null(tb[RTA_METRICS]);
	assert_null(tb[RTA_PRIORITY]);

	t = rt("2001:db8:1::/48", "", "eth0");
	t.scope = RT_SCOPE_LINK;
	t.source = "2001:db8:1::2";
	t.mtu = 1300;
	GOOD(pd_route_parse(&t, &r, &e));
	r.index = 3;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWROUTE, 0);
	pd_route_build(&m, RTM_NEWROUTE, &r);
	rtm = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 48);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	attrs_of(&m, sizeof(*rtm), tb, RTA_MAX);
	assert_int_equal(pd_nl_attr_len(tb[RTA_DST]), 16);
	assert_int_equal(pd_nl_attr_len(tb[RTA_PREFSRC]), 16);
	assert_non_null(tb[RTA_METRICS]);

	/* Delete: any scope, the metric given, no source or metrics. */
	r.priority = 1024;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_DELROUTE, 0);
	pd_route_build(&m, RTM_DELROUTE, &r);
	rtm = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	attrs_of(&m, sizeof(*rtm), tb, RTA_MAX);
	assert_int_equal(u32_of(tb[RTA_PRIORITY]), 1024);
	assert_null(tb[RTA_PREFSRC]);
	assert_null(tb[RTA_METRICS]);
}

static void test_neigh_build(void **state)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	struct pd_neigh n;
	const struct rtattr *tb[NDA_MAX + 1];
	struct pd_neigh_text t = {
	    .address = "2001:db8::9", .device = "eth0", .lladdr = "02:00:00:00:00:99"};
	GOOD(pd_neigh_parse(&t, &n, &e));
	n.index = 6;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	pd_neigh_build(&m, &n);
	const struct ndmsg *nd = NLMSG_DATA(pd_nlmsg_hdr(&m));
	assert_int_equal(nd->ndm_family, AF_INET6);
	assert_int_equal(nd->ndm_ifindex, 6);
	assert_int_equal(nd->ndm_state, NUD_PERMANENT);
	attrs_of(&m, sizeof(*nd), tb, NDA_MAX);
	assert_int_equal(pd_nl_attr_len(tb[NDA_DST]), 16);
	assert_memory_equal(pd_nl_attr_data(tb[NDA_LLADDR]), n.lladdr, 6);
}

/* ---- against the kernel, in a network namespace of our own ------------------------------ */

static int lo_flags(void)
{
	struct pd_ifaces l;
	int flags = -1;
	if (pd_iface_list(&l, &e) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].link->name, "lo") == 0)
			flags = (int)l.v[i].link->flags;
	pd_ifaces_free(&l);
	return flags;
}

/* The child: 0 = lo came up and lists right; 77 = no namespace here; other = failure. */
static int loopback_child(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return PD_SKIP_EXIT;
	int before = lo_flags();
	if (before < 0 || (before & IFF_UP))
		return 10;
	if (pd_net_loopback_up(&e) < 0)
		return 11;
	int after = lo_flags();
	if (after < 0 || !(after & IFF_UP) || !(after & IFF_LOOPBACK))
		return 12;
	/* lo up: 127.0.0.1/8 and ::1/128 are listed for it; the dumps parse. */
	struct pd_ifaces l;
	if (pd_iface_list(&l, &e) < 0 || l.n != 1 || l.v[0].n_addrs < 1)
		return 13;
	bool v4 = false;
	for (size_t i = 0; i < l.v[0].n_addrs; i++)
		v4 |= strcmp(ip_str(&l.v[0].addrs[i].ip, true), "127.0.0.1/8") == 0;
	pd_ifaces_free(&l);
	if (!v4)
		return 14;
	struct pd_routes r;
	if (pd_net_list_routes(&r, &e) < 0)
		return 15;
	pd_routes_free(&r);
	return 0;
}

static void test_loopback_up_in_netns(void **state)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(loopback_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == PD_SKIP_EXIT)
		PD_SKIP("not root, or no network namespaces in this kernel");
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ifname),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_format_hwaddr),
	    cmocka_unit_test(test_parse_ip),
	    cmocka_unit_test(test_parse_ip_mask),
	    cmocka_unit_test(test_parse_prefix),
	    cmocka_unit_test(test_iface_parse),
	    cmocka_unit_test(test_route_parse),
	    cmocka_unit_test(test_neigh_parse),
	    cmocka_unit_test(test_builder_layout),
	    cmocka_unit_test(test_builder_nest_and_overflow),
	    cmocka_unit_test(test_attr_parser_rejects_bad_lengths),
	    cmocka_unit_test(test_ack_parser),
	    cmocka_unit_test(test_link_change_build),
	    cmocka_unit_test(test_addr_build),
	    cmocka_unit_test(test_route_build),
	    cmocka_unit_test(test_neigh_build),
	    cmocka_unit_test(test_loopback_up_in_netns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
