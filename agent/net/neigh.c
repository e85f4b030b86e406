/* ARP (IPv4) and NDP (IPv6) neighbours: static entries the host knows, so that the guest
 * does not have to ask (RTM_NEWNEIGH). */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int pd_neigh_parse(const struct pd_neigh_text *t, struct pd_neigh *n, struct pd_error *err)
{
	memset(n, 0, sizeof(*n));
	if (!t->address || !t->address[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "neighbour without an address");
	if (pd_net_parse_ip(t->address, t->v6 ? AF_INET6 : AF_UNSPEC, &n->ip, err) < 0)
		return pd_error_wrap(err, "toIPAddress");
	if (!t->device[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "neighbour without a device");
	if (pd_net_check_ifname(t->device, err) < 0)
		return pd_error_wrap(err, "device");
	strcpy(n->dev, t->device);
	if (t->lladdr[0]) {
		if (pd_net_parse_mac(t->lladdr, n->lladdr, err) < 0)
			return pd_error_wrap(err, "lladdr");
		n->has_lladdr = true;
	}
	/* NUD_* and NTF_* are bit sets of one byte each (state is a u16 on the wire). */
	if (t->state < 0 || t->state > 0xff)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "neighbour state %d is not a NUD_* set", t->state);
	if (t->flags < 0 || t->flags > 0xff)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "neighbour flags %d are not NTF_*",
				    t->flags);
	n->state = t->state ? (uint16_t)t->state : NUD_PERMANENT;
	n->flags = (uint8_t)t->flags;
	return 0;
}

void pd_neigh_build(struct pd_nlmsg *m, const struct pd_neigh *n)
{
	struct ndmsg *nd = pd_nlmsg_reserve(m, sizeof(*nd));
	if (!nd)
		return;
	nd->ndm_family = (unsigned char)n->ip.family;
	nd->ndm_ifindex = n->index;
	nd->ndm_state = n->state;
	nd->ndm_flags = n->flags;
	pd_nlmsg_attr(m, NDA_DST, n->ip.addr, pd_ip_len(n->ip.family));
	if (n->has_lladdr)
		pd_nlmsg_attr(m, NDA_LLADDR, n->lladdr, PD_MAC_LEN);
}

static int add_one(struct pd_nl *nl, const struct pd_neigh *n, struct pd_error *err)
{
	PD_NLMSG_BUF(buf);
	struct pd_nlmsg m;
	char ip[64];
	pd_nlmsg_init(&m, buf, sizeof(buf), RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	pd_neigh_build(&m, n);
	if (pd_nl_call(nl, &m, err) < 0)
		return pd_error_wrap(err, "add neighbour %s dev %s",
				     pd_net_format_ip(&n->ip, false, ip, sizeof(ip)), n->dev);
	return 0;
}

int pd_net_add_neighbors(struct pd_neigh *v, size_t n, struct pd_error *err)
{
	struct pd_nl nl;
	struct pd_links links = {0};
	int rc = -1;
	if (n > PD_NET_MAX_ITEMS)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%zu neighbours (at most %d)", n,
				    PD_NET_MAX_ITEMS);
	if (pd_nl_open(&nl, err) < 0)
		return -1;
	if (pd_link_list(&nl, &links, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pd_link *l = pd_link_by_name(&links, v[i].dev);
		if (!l) {
			pd_error_set(err, PD_NOT_FOUND, ENODEV,
				     "ARPNeighbors[%zu].device: no interface named %s", i,
				     v[i].dev);
			goto out;
		}
		v[i].index = l->index;
	}
	for (size_t i = 0; i < n; i++)
		if (add_one(&nl, &v[i], err) < 0)
			goto out;
	rc = 0;
out:
	pd_links_free(&links);
	pd_nl_close(&nl);
	return rc;
}
