/* Network values as the host writes them: interface names, MAC addresses, IP addresses
 * with prefix lengths. Strict, since what passes goes straight into netlink requests. */
#include "net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define IP_TEXT_MAX 64 /* longer than any address (INET6_ADDRSTRLEN 46) plus "/128" */

int pd_net_check_ifname(const char *name, struct pd_error *err)
{
	size_t len = strnlen(name, IFNAMSIZ);
	if (len == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "empty interface name");
	if (len >= IFNAMSIZ)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "interface name longer than %d bytes", IFNAMSIZ - 1);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad interface name '%s'", name);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p >= 0x7f) /* ASCII only */
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "bad character in interface name '%s'", name);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pd_net_parse_mac(const char *s, unsigned char mac[PD_MAC_LEN], struct pd_error *err)
{
	/* "aa:bb:cc:dd:ee:ff": 17 characters, a colon after every pair but the last. */
	if (strnlen(s, 18) != 17)
		goto bad;
	for (int i = 0; i < PD_MAC_LEN; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < PD_MAC_LEN - 1 && s[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
bad:
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad MAC address '%.40s'", s);
}

void pd_net_format_hwaddr(const unsigned char *a, size_t len, char *buf, size_t size)
{
	size_t o = 0;
	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < len && o + 4 <= size; i++)
		o += (size_t)snprintf(buf + o, size - o, i ? ":%02x" : "%02x", a[i]);
}

size_t pd_ip_len(int family)
{
	return family == AF_INET6 ? 16 : family == AF_INET ? 4 : 0;
}

bool pd_ip_eq(const struct pd_ip *a, const struct pd_ip *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       memcmp(a->addr, b->addr, pd_ip_len(a->family)) == 0;
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

int pd_net_parse_ip(const char *s, int want, struct pd_ip *ip, struct pd_error *err)
{
	memset(ip, 0, sizeof(*ip));
	if (strnlen(s, IP_TEXT_MAX) >= IP_TEXT_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad IP address '%.40s...'", s);
	if (inet_pton(AF_INET, s, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad IP address '%s'", s);
	if (want != AF_UNSPEC && want != ip->family)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "'%s' is not an %s address", s,
				    family_name(want));
	ip->prefix = (unsigned)pd_ip_len(ip->family) * 8;
	return 0;
}

/* Decimal 0..max with nothing else around it (no sign, no spaces, at most 3 digits). */
static int parse_prefix_len(const char *s, unsigned max, unsigned *out, struct pd_error *err)
{
	unsigned v = 0;
	size_t n = strnlen(s, 4);
	if (n == 0 || n > 3)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "prefix length %u is over %u", v,
				    max);
	*out = v;
	return 0;
bad:
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad prefix length '%.8s'", s);
}

int pd_net_parse_ip_mask(const char *addr, const char *mask, int want, struct pd_ip *ip,
			 struct pd_error *err)
{
	if (pd_net_parse_ip(addr, want, ip, err) < 0)
		return -1;
	if (parse_prefix_len(mask, ip->prefix, &ip->prefix, err) < 0)
		return pd_error_wrap(err, "address %s", addr);
	return 0;
}

unsigned char pd_ip_mask_byte(unsigned prefix, size_t i)
{
	unsigned first = (unsigned)i * 8; /* the number of this byte's top bit */
	if (prefix >= first + 8)
		return 0xff;
	if (prefix <= first)
		return 0;
	return (unsigned char)(0xff << (8 - (prefix - first)));
}

/* Whether any bit past the prefix is set. */
static bool host_bits_set(const struct pd_ip *ip)
{
	size_t len = pd_ip_len(ip->family);
	for (size_t i = 0; i < len; i++)
		if (ip->addr[i] & (unsigned char)~pd_ip_mask_byte(ip->prefix, i))
			return true;
	return false;
}

int pd_net_parse_prefix(const char *s, int want, struct pd_ip *ip, struct pd_error *err)
{
	char text[IP_TEXT_MAX];
	if (s[0] == '\0') {
		memset(ip, 0, sizeof(*ip));
		ip->family = want;
		return 0;
	}
	if (strnlen(s, IP_TEXT_MAX) >= IP_TEXT_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad network '%.40s...'", s);
	snprintf(text, sizeof(text), "%s", s);
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (pd_net_parse_ip(text, want, ip, err) < 0)
		return -1;
	if (slash && parse_prefix_len(slash + 1, ip->prefix, &ip->prefix, err) < 0)
		return pd_error_wrap(err, "network %s", s);
	if (host_bits_set(ip))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "network %s has bits set past its prefix length", s);
	return 0;
}

const char *pd_net_format_ip(const struct pd_ip *ip, bool with_prefix, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	if (!ip->family || !inet_ntop(ip->family, ip->addr, a, sizeof(a)))
		a[0] = '\0';
	if (with_prefix && a[0])
		snprintf(buf, size, "%s/%u", a, ip->prefix);
	else
		snprintf(buf, size, "%s", a);
	return buf;
}
