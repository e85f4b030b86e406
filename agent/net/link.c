/* Links: the dump (RTM_GETLINK), lookups in it, and RTM_NEWLINK on an existing link. */
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct link_dump {
	struct pd_links *out;
	size_t cap;
};

static void parse_kind(const struct rtattr *linkinfo, struct pd_link *l)
{
	const struct rtattr *info[IFLA_INFO_MAX + 1];
	if (linkinfo && pd_nl_attrs(pd_nl_attr_data(linkinfo), pd_nl_attr_len(linkinfo), info,
				    IFLA_INFO_MAX) == 0)
		pd_nl_attr_str(info[IFLA_INFO_KIND], l->kind, sizeof(l->kind));
}

static int parse_link(const struct nlmsghdr *h, struct pd_link *l, struct pd_error *err)
{
	const struct rtattr *tb[IFLA_MAX + 1];
	if (pd_nl_msg_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX) < 0)
		return pd_error_set(err, PD_INTERNAL, EPROTO, "malformed link message");
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	pd_nl_attr_str(tb[IFLA_IFNAME], l->name, sizeof(l->name));
	pd_nl_attr_u32(tb[IFLA_MTU], &l->mtu);
	if (tb[IFLA_ADDRESS]) {
		size_t n = pd_nl_attr_len(tb[IFLA_ADDRESS]);
		l->hwaddr_len = n < PD_HWADDR_MAX ? n : PD_HWADDR_MAX;
		memcpy(l->hwaddr, pd_nl_attr_data(tb[IFLA_ADDRESS]), l->hwaddr_len);
	}
	parse_kind(tb[IFLA_LINKINFO], l);
	return 0;
}

static int on_link(const struct nlmsghdr *h, void *arg, struct pd_error *err)
{
	struct link_dump *d = arg;
	if (!h) {
		d->out->n = 0;
		return 0;
	}
	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (d->out->n == d->cap) {
		if (d->cap >= PD_NET_MAX_DUMP)
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "more than %d links",
					    PD_NET_MAX_DUMP);
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct pd_link *v = realloc(d->out->v, cap * sizeof(*v));
		if (!v)
			return pd_error_errno(err, ENOMEM, "link list");
		d->out->v = v;
		d->cap = cap;
	}
	if (parse_link(h, &d->out->v[d->out->n], err) < 0)
		return -1;
	d->out->n++;
	return 0;
}

int pd_link_list(struct pd_nl *nl, struct pd_links *out, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	struct link_dump d = {out, 0};
	out->v = NULL;
	out->n = 0;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_GETLINK, 0);
	struct ifinfomsg *ifi = pd_nlmsg_reserve(&m, sizeof(*ifi));
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	if (pd_nl_dump(nl, &m, on_link, &d, err) < 0) {
		pd_links_free(out);
		return pd_error_wrap(err, "list links");
	}
	return 0;
}

void pd_links_free(struct pd_links *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct pd_link *pd_link_by_name(const struct pd_links *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

const struct pd_link *pd_link_by_index(const struct pd_links *l, int index)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].index == index)
			return &l->v[i];
	return NULL;
}

const struct pd_link *pd_link_by_mac(const struct pd_links *l, const unsigned char *mac)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].hwaddr_len == PD_MAC_LEN &&
		    memcmp(l->v[i].hwaddr, mac, PD_MAC_LEN) == 0)
			return &l->v[i];
	return NULL;
}

void pd_link_change_build(struct pd_nlmsg *m, const struct pd_link_change *c)
{
	struct ifinfomsg *ifi = pd_nlmsg_reserve(m, sizeof(*ifi));
	if (!ifi)
		return;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = c->index;
	ifi->ifi_flags = c->flags & c->mask;
	ifi->ifi_change = c->mask;
	if (c->name)
		pd_nlmsg_attr_str(m, IFLA_IFNAME, c->name);
	if (c->mtu)
		pd_nlmsg_attr_u32(m, IFLA_MTU, c->mtu);
	if (c->mac)
		pd_nlmsg_attr(m, IFLA_ADDRESS, c->mac, PD_MAC_LEN);
}

int pd_link_change(struct pd_nl *nl, const struct pd_link_change *c, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWLINK, 0);
	pd_link_change_build(&m, c);
	return pd_nl_call(nl, &m, err);
}

int pd_net_loopback_up(struct pd_error *err)
{
	struct pd_nl nl;
	if (pd_nl_open(&nl, err) < 0)
		return pd_error_wrap(err, "loopback up");
	unsigned index = if_nametoindex("lo");
	struct pd_link_change c = {.index = (int)index, .flags = IFF_UP, .mask = IFF_UP};
	int rc = index ? pd_link_change(&nl, &c, err)
		       : pd_error_errno(err, errno ? errno : ENODEV, "no link named lo");
	pd_nl_close(&nl);
	return rc < 0 ? pd_error_wrap(err, "loopback up") : 0;
}
