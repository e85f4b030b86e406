/* UpdateInterface: find the link, then change it step by step, in the order that keeps a
 * refusal by the kernel cheap: the MTU (checked against the device's range) before anything
 * else, then down, addresses, MAC, name, NOARP and up. */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/log.h"

struct update {
	struct pd_nl nl;
	struct pd_links links;
	const struct pd_link *target;
	const struct pd_link *clash; /* another link that already has the wanted name */
	bool set_mac;
};

static bool settable_mac(const unsigned char *mac)
{
	static const unsigned char zero[PD_MAC_LEN];
	return !(mac[0] & 1) && memcmp(mac, zero, PD_MAC_LEN) != 0;
}

/* By MAC; when no link has it, the named link, which gets the MAC (Kata does the same for
 * NICs whose MAC the host could not set). */
static int find_target(const struct pd_iface_update *u, struct update *s, struct pd_error *err)
{
	char mac[24];
	pd_net_format_hwaddr(u->mac, PD_MAC_LEN, mac, sizeof(mac));
	if (u->has_mac && (s->target = pd_link_by_mac(&s->links, u->mac)))
		return 0;
	if (u->find[0])
		s->target = pd_link_by_name(&s->links, u->find);
	if (!s->target && u->has_mac)
		return pd_error_set(err, PD_NOT_FOUND, ENODEV, "no interface has MAC %s%s%s", mac,
				    u->find[0] ? " or is named " : "", u->find);
	if (!s->target)
		return pd_error_set(err, PD_NOT_FOUND, ENODEV, "no interface named %s", u->find);
	if (u->has_mac && !settable_mac(u->mac))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "cannot give %s the MAC %s: multicast or zero", u->find, mac);
	s->set_mac = u->has_mac;
	return 0;
}

static int change(struct update *s, const struct pd_link_change *c, const char *what,
		  struct pd_error *err)
{
	if (pd_link_change(&s->nl, c, err) < 0)
		return pd_error_wrap(err, "%s of %s", what, s->target->name);
	return 0;
}

/* Drop every address of the link, then add the wanted ones. IPv6 ones are skipped when
 * the link cannot have IPv6 (as Kata does), so a v4-only guest kernel still works. */
static int replace_addrs(const struct pd_iface_update *u, struct update *s, struct pd_error *err)
{
	struct pd_ifaddrs old;
	int index = s->target->index;
	bool v6 = pd_net_ipv6_enabled(s->target->name);
	if (pd_ifaddr_list(&s->nl, index, &old, err) < 0)
		return -1;
	for (size_t i = 0; i < old.n; i++)
		if (pd_ifaddr_del(&s->nl, index, &old.v[i].ip, err) < 0 &&
		    err->errnum != EADDRNOTAVAIL) {
			pd_ifaddrs_free(&old); /* EADDRNOTAVAIL: gone with an earlier one */
			return pd_error_wrap(err, "%s", s->target->name);
		}
	pd_ifaddrs_free(&old);
	for (size_t i = 0; i < u->n_addrs; i++) {
		char text[64];
		if (u->addrs[i].family == AF_INET6 && !v6) {
			pd_debug("IPv6 address skipped", "iface=%s addr=%s", s->target->name,
				 pd_net_format_ip(&u->addrs[i], true, text, sizeof(text)));
			continue;
		}
		if (pd_ifaddr_add(&s->nl, index, &u->addrs[i], err) < 0)
			return pd_error_wrap(err, "%s", s->target->name);
	}
	return 0;
}

/* Give the link its name; a link that has the name now gets the link's old one (a swap,
 * like Kata). A link must be down to be renamed. */
static int rename_link(const struct pd_iface_update *u, struct update *s, struct pd_error *err)
{
	char old[IFNAMSIZ], tmp[IFNAMSIZ];
	const struct pd_link *c = s->clash;
	int index = s->target->index;
	snprintf(old, sizeof(old), "%s", s->target->name);
	if (!u->name[0] || strcmp(u->name, old) == 0)
		return 0;
	if (c) {
		snprintf(tmp, sizeof(tmp), "pdtmp%d", c->index);
		struct pd_link_change down = {.index = c->index, .mask = IFF_UP};
		struct pd_link_change away = {.index = c->index, .name = tmp};
		if (pd_link_change(&s->nl, &down, err) < 0 ||
		    pd_link_change(&s->nl, &away, err) < 0)
			return pd_error_wrap(err, "move %s out of the way", c->name);
	}
	struct pd_link_change ours = {.index = index, .name = u->name};
	if (change(s, &ours, "rename", err) < 0)
		return -1;
	if (c) {
		struct pd_link_change back = {
		    .index = c->index, .name = old, .flags = c->flags, .mask = IFF_UP};
		if (pd_link_change(&s->nl, &back, err) < 0)
			return pd_error_wrap(err, "rename %s to %s", tmp, old);
	}
	return 0;
}

static int apply(const struct pd_iface_update *u, struct update *s, struct pd_error *err)
{
	const struct pd_link *t = s->target;
	if (u->mtu && u->mtu != t->mtu) {
		struct pd_link_change c = {.index = t->index, .mtu = u->mtu};
		if (change(s, &c, "set MTU", err) < 0)
			return -1;
	}
	if (t->flags & IFF_UP) {
		struct pd_link_change c = {.index = t->index, .mask = IFF_UP};
		if (change(s, &c, "bring down", err) < 0)
			return -1;
	}
	if (replace_addrs(u, s, err) < 0)
		return -1;
	if (s->set_mac) {
		struct pd_link_change c = {.index = t->index, .mac = u->mac};
		if (change(s, &c, "set MAC", err) < 0)
			return -1;
	}
	if (rename_link(u, s, err) < 0)
		return -1;
	struct pd_link_change c = {.index = t->index,
				   .flags = IFF_UP | (u->noarp ? IFF_NOARP : 0),
				   .mask = IFF_UP | IFF_NOARP};
	if (pd_link_change(&s->nl, &c, err) < 0)
		return pd_error_wrap(err, "bring up %s", u->name[0] ? u->name : t->name);
	return 0;
}

/* The interface as the kernel has it now, as the only entry of out. */
static int read_back(struct update *s, int index, struct pd_ifaces *out, struct pd_error *err)
{
	if (pd_iface_list_nl(&s->nl, out, err) < 0)
		return pd_error_wrap(err, "read back");
	for (size_t i = 0; i < out->n; i++) {
		if (out->v[i].link->index == index) {
			out->v[0] = out->v[i];
			out->n = 1;
			return 0;
		}
	}
	pd_ifaces_free(out);
	return pd_error_set(err, PD_INTERNAL, ENODEV, "the link went away while it was updated");
}

int pd_iface_update(const struct pd_iface_update *u, struct pd_ifaces *out, struct pd_error *err)
{
	struct update s = {0};
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (pd_nl_open(&s.nl, err) < 0)
		return -1;
	if (pd_link_list(&s.nl, &s.links, err) < 0 || find_target(u, &s, err) < 0)
		goto out;
	if (u->name[0] && strcmp(u->name, s.target->name) != 0)
		s.clash = pd_link_by_name(&s.links, u->name);
	int index = s.target->index;
	if (apply(u, &s, err) < 0 || read_back(&s, index, out, err) < 0)
		goto out;
	rc = 0;
out:
	pd_links_free(&s.links);
	pd_nl_close(&s.nl);
	return rc;
}
