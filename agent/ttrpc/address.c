#include "address.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int parse_u32(const char *s, uint32_t *out)
{
	if (!*s)
		return -1;
	if (strcmp(s, "-1") == 0) {
		*out = UINT32_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX || s[0] == '-' || s[0] == '+')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_vsock(const char *rest, struct pd_addr *addr, struct pd_error *err)
{
	const char *colon = strrchr(rest, ':');
	char cid[16];
	if (!colon || (size_t)(colon - rest) >= sizeof(cid))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "vsock address needs CID:PORT");
	memcpy(cid, rest, colon - rest);
	cid[colon - rest] = '\0';
	if (parse_u32(cid, &addr->cid) < 0 || parse_u32(colon + 1, &addr->port) < 0 ||
	    addr->port == UINT32_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad vsock CID or port in '%s'",
				    rest);
	addr->kind = PD_ADDR_VSOCK;
	return 0;
}

static int parse_unix(const char *rest, struct pd_addr *addr, struct pd_error *err)
{
	addr->abstract = rest[0] == '@';
	const char *name = addr->abstract ? rest + 1 : rest;
	if (!addr->abstract && rest[0] != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "unix socket path must be absolute");
	if (!*name || strlen(name) >= sizeof(addr->path) - 1)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad unix socket path length");
	strcpy(addr->path, name);
	addr->kind = PD_ADDR_UNIX;
	return 0;
}

static int parse_serial(const char *rest, struct pd_addr *addr, struct pd_error *err)
{
	size_t n = strlen(rest);
	if (n == 0 || n >= sizeof(addr->path) || strchr(rest, '/') || strcmp(rest, ".") == 0 ||
	    strcmp(rest, "..") == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad serial port name '%s'", rest);
	strcpy(addr->path, rest);
	addr->kind = PD_ADDR_SERIAL;
	return 0;
}

int pd_addr_parse(const char *text, struct pd_addr *addr, struct pd_error *err)
{
	static const struct {
		const char *scheme;
		int (*parse)(const char *, struct pd_addr *, struct pd_error *);
	} schemes[] = {
		{"vsock://", parse_vsock},
		{"unix://", parse_unix},
		{"serial://", parse_serial},
	};
	memset(addr, 0, sizeof(*addr));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncmp(text, schemes[i].scheme, n) == 0)
			return schemes[i].parse(text + n, addr, err);
	}
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
			    "unknown address '%s' (want vsock://, unix:// or serial://)", text);
}

socklen_t pd_addr_unix_sockaddr(const struct pd_addr *addr, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	size_t n = strlen(addr->path);
	if (addr->abstract) {
		memcpy(sun->sun_path + 1, addr->path, n);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	}
	memcpy(sun->sun_path, addr->path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}
