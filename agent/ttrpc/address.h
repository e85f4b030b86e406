/* Agent addresses, as given by agent.server_addr / --server-addr / pidonectl --addr:
 *   vsock://CID:PORT      CID -1 (or 4294967295) = any; the Kata default vsock://-1:1024
 *   unix:///abs/path      a filesystem socket
 *   unix://@name          an abstract socket
 *   serial://NAME         a virtio-serial port found by name under /sys/class/virtio-ports
 *                         (guest side only; ttRPC runs directly on the port, no yamux) */
#ifndef PD_TTRPC_ADDRESS_H
#define PD_TTRPC_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agent/error.h"

enum pd_addr_kind {
	PD_ADDR_VSOCK = 1,
	PD_ADDR_UNIX = 2,
	PD_ADDR_SERIAL = 3,
};

struct pd_addr {
	int kind;
	uint32_t cid;       /* vsock */
	uint32_t port;      /* vsock */
	bool abstract;      /* unix: name is in the abstract namespace */
	char path[108];     /* unix: path or abstract name; serial: port name */
};

int pd_addr_parse(const char *text, struct pd_addr *addr, struct pd_error *err);

/* Fill a sockaddr for a unix address; returns its length. */
socklen_t pd_addr_unix_sockaddr(const struct pd_addr *addr, struct sockaddr_un *sun);

#endif
