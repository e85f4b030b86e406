/* Interfaces as the API sees them: a link with its addresses. Listing, and the check of an
 * UpdateInterface request (the update itself is iface_update.c). */
#include "net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Addresses in link-index order, each link's in the kernel's order (primary first). */
struct slot {
	int index;
	size_t pos;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int sort_addrs(struct pd_ifaddrs *a, struct pd_error *err)
{
	size_t n = a->n;
	struct slot *s = calloc(n + 1, sizeof(*s));
	struct pd_ifaddr *sorted = calloc(n + 1, sizeof(*sorted));
	if (!s || !sorted) {
		free(s);
		free(sorted);
		return pd_error_errno(err, ENOMEM, "address list");
	}
	for (size_t i = 0; i < n; i++)
		s[i] = (struct slot){a->v[i].index, i};
	qsort(s, n, sizeof(*s), cmp_slot);
	for (size_t i = 0; i < n; i++)
		sorted[i] = a->v[s[i].pos];
	free(s);
	free(a->v);
	a->v = sorted;
	return 0;
}

/* The first address of link `index` in the sorted list and how many it has. */
static size_t addrs_of(const struct pd_ifaddrs *a, int index, size_t *count)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->v[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < a->n && a->v[end].index == index)
		end++;
	*count = end - lo;
	return lo;
}

int pd_iface_list_nl(struct pd_nl *nl, struct pd_ifaces *out, struct pd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (pd_link_list(nl, &out->links, err) < 0 || pd_ifaddr_list(nl, 0, &out->addrs, err) < 0 ||
	    sort_addrs(&out->addrs, err) < 0)
		goto fail;
	out->v = calloc(out->links.n + 1, sizeof(*out->v));
	if (!out->v) {
		pd_error_errno(err, ENOMEM, "interface list");
		goto fail;
	}
	for (size_t i = 0; i < out->links.n; i++) {
		struct pd_iface *f = &out->v[i];
		size_t first = addrs_of(&out->addrs, out->links.v[i].index, &f->n_addrs);
		f->link = &out->links.v[i];
		f->addrs = out->addrs.v + first;
	}
	out->n = out->links.n;
	return 0;
fail:
	pd_ifaces_free(out);
	return -1;
}

int pd_iface_list(struct pd_ifaces *out, struct pd_error *err)
{
	struct pd_nl nl;
	memset(out, 0, sizeof(*out));
	if (pd_nl_open(&nl, err) < 0)
		return -1;
	int rc = pd_iface_list_nl(&nl, out, err);
	pd_nl_close(&nl);
	return rc;
}

void pd_ifaces_free(struct pd_ifaces *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
	pd_links_free(&l->links);
	pd_ifaddrs_free(&l->addrs);
}

/* ---- the request ---------------------------------------------------------------------------- */

static int parse_names(const struct pd_iface_text *t, struct pd_iface_update *u,
		       struct pd_error *err)
{
	if (t->device[0] && pd_net_check_ifname(t->device, err) < 0)
		return pd_error_wrap(err, "device");
	if (t->name[0] && pd_net_check_ifname(t->name, err) < 0)
		return pd_error_wrap(err, "name");
	/* Kata's runtime sends the same name in both; device is the guest's current name. */
	strcpy(u->find, t->device[0] ? t->device : t->name);
	strcpy(u->name, t->name);
	if (t->hwaddr[0]) {
		if (pd_net_parse_mac(t->hwaddr, u->mac, err) < 0)
			return pd_error_wrap(err, "hwAddr");
		u->has_mac = true;
	}
	if (!u->has_mac && !u->find[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "interface has neither hwAddr nor device nor name");
	return 0;
}

static int parse_addrs(const struct pd_iface_text *t, struct pd_iface_update *u,
		       struct pd_error *err)
{
	if (t->n_addrs > PD_NET_MAX_ITEMS)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%zu addresses (at most %d)",
				    t->n_addrs, PD_NET_MAX_ITEMS);
	u->addrs = calloc(t->n_addrs + 1, sizeof(*u->addrs));
	if (!u->addrs)
		return pd_error_errno(err, ENOMEM, "addresses");
	for (size_t i = 0; i < t->n_addrs; i++) {
		const struct pd_ip_text *a = &t->addrs[i];
		if (pd_net_parse_ip_mask(a->address, a->mask, a->v6 ? AF_INET6 : AF_UNSPEC,
					 &u->addrs[i], err) < 0)
			return pd_error_wrap(err, "IPAddresses[%zu]", i);
		u->n_addrs++;
		if (u->addrs[i].family == AF_INET6 && u->mtu && u->mtu < PD_IPV6_MTU_MIN)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "IPv6 address %s needs an MTU of at least %d, not %u",
					    a->address, PD_IPV6_MTU_MIN, u->mtu);
	}
	return 0;
}

int pd_iface_parse(const struct pd_iface_text *t, struct pd_iface_update *u, struct pd_error *err)
{
	memset(u, 0, sizeof(*u));
	if (t->mtu && (t->mtu < PD_MTU_MIN || t->mtu > PD_MTU_MAX))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "mtu %llu is not in %d..%d",
				    (unsigned long long)t->mtu, PD_MTU_MIN, PD_MTU_MAX);
	u->mtu = (uint32_t)t->mtu;
	u->noarp = t->raw_flags & IFF_NOARP;
	if (parse_names(t, u, err) < 0 || parse_addrs(t, u, err) < 0) {
		pd_iface_update_free(u);
		return -1;
	}
	return 0;
}

void pd_iface_update_free(struct pd_iface_update *u)
{
	free(u->addrs);
	u->addrs = NULL;
	u->n_addrs = 0;
}
