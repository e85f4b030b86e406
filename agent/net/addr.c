/* Interface addresses: the dump (RTM_GETADDR), add and delete. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct addr_dump {
	struct pd_ifaddrs *out;
	size_t cap;
	int index;
};

/* The local address of an address message: IFA_LOCAL where the kernel gives it (IPv4, and
 * point-to-point links where IFA_ADDRESS is the peer), else IFA_ADDRESS. */
static bool parse_addr(const struct nlmsghdr *h, struct pd_ifaddr *a)
{
	const struct rtattr *tb[IFA_MAX + 1];
	if (pd_nl_msg_attrs(h, sizeof(struct ifaddrmsg), tb, IFA_MAX) < 0)
		return false;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct rtattr *at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	size_t len = pd_ip_len(ifa->ifa_family);
	if (!at || !len || pd_nl_attr_len(at) != len)
		return false;
	memset(a, 0, sizeof(*a));
	a->index = (int)ifa->ifa_index;
	a->ip.family = ifa->ifa_family;
	a->ip.prefix = ifa->ifa_prefixlen;
	memcpy(a->ip.addr, pd_nl_attr_data(at), len);
	return true;
}

static int on_addr(const struct nlmsghdr *h, void *arg, struct pd_error *err)
{
	struct addr_dump *d = arg;
	struct pd_ifaddr a;
	if (!h) {
		d->out->n = 0;
		return 0;
	}
	if (h->nlmsg_type != RTM_NEWADDR || !parse_addr(h, &a))
		return 0; /* a family we do not show */
	if (d->index && a.index != d->index)
		return 0;
	if (d->out->n == d->cap) {
		if (d->cap >= PD_NET_MAX_DUMP)
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "more than %d addresses",
					    PD_NET_MAX_DUMP);
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pd_ifaddr *v = realloc(d->out->v, cap * sizeof(*v));
		if (!v)
			return pd_error_errno(err, ENOMEM, "address list");
		d->out->v = v;
		d->cap = cap;
	}
	d->out->v[d->out->n++] = a;
	return 0;
}

int pd_ifaddr_list(struct pd_nl *nl, int index, struct pd_ifaddrs *out, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	struct addr_dump d = {out, 0, index};
	out->v = NULL;
	out->n = 0;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_GETADDR, 0);
	struct ifaddrmsg *ifa = pd_nlmsg_reserve(&m, sizeof(*ifa));
	if (ifa)
		ifa->ifa_family = AF_UNSPEC;
	if (pd_nl_dump(nl, &m, on_addr, &d, err) < 0) {
		pd_ifaddrs_free(out);
		return pd_error_wrap(err, "list addresses");
	}
	return 0;
}

void pd_ifaddrs_free(struct pd_ifaddrs *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

void pd_ifaddr_build(struct pd_nlmsg *m, uint16_t type, int index, const struct pd_ip *ip)
{
	struct ifaddrmsg *ifa = pd_nlmsg_reserve(m, sizeof(*ifa));
	if (!ifa)
		return;
	size_t len = pd_ip_len(ip->family);
	ifa->ifa_family = (unsigned char)ip->family;
	ifa->ifa_prefixlen = (unsigned char)ip->prefix;
	ifa->ifa_index = (unsigned)index;
	pd_nlmsg_attr(m, IFA_LOCAL, ip->addr, len);
	if (type != RTM_NEWADDR)
		return;
	pd_nlmsg_attr(m, IFA_ADDRESS, ip->addr, len);
	/* IPv4 gets the broadcast address of its subnet, as `ip addr add ... brd +` and the
	 * Go and Rust netlink libraries give it; /31 and /32 have none. */
	if (ip->family == AF_INET && ip->prefix < 31) {
		unsigned char brd[4];
		for (size_t i = 0; i < 4; i++)
			brd[i] = ip->addr[i] | (unsigned char)~pd_ip_mask_byte(ip->prefix, i);
		pd_nlmsg_attr(m, IFA_BROADCAST, brd, sizeof(brd));
	}
}

static int addr_op(struct pd_nl *nl, uint16_t type, uint16_t flags, int index,
		   const struct pd_ip *ip, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	char text[64];
	pd_nlmsg_init(&m, buf, sizeof(buf), type, flags);
	pd_ifaddr_build(&m, type, index, ip);
	if (pd_nl_call(nl, &m, err) < 0)
		return pd_error_wrap(err, "%s address %s", type == RTM_NEWADDR ? "add" : "delete",
				     pd_net_format_ip(ip, true, text, sizeof(text)));
	return 0;
}

int pd_ifaddr_add(struct pd_nl *nl, int index, const struct pd_ip *ip, struct pd_error *err)
{
	return addr_op(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, ip, err);
}

int pd_ifaddr_del(struct pd_nl *nl, int index, const struct pd_ip *ip, struct pd_error *err)
{
	return addr_op(nl, RTM_DELADDR, 0, index, ip, err);
}

bool pd_net_ipv6_enabled(const char *ifname)
{
	char path[96], c = '1';
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* no IPv6 in this kernel (or no such link) */
	ssize_t n = read(fd, &c, 1);
	close(fd);
	return n == 1 && c == '0';
}
