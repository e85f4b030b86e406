/* Opening what the server serves on: a listening unix or vsock socket, or a virtio-serial
 * port found by its name. */
#ifndef PD_TTRPC_TRANSPORT_H
#define PD_TTRPC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/error.h"
#include "agent/ttrpc/address.h"

/* A non-blocking listening socket for a unix or vsock address. A stale unix socket file
 * left by an earlier run is replaced (only if it is a socket). */
int pd_transport_listen(const struct pd_addr *addr, struct pd_error *err);

/* agent.server_addr / --server-addr: one address, or two separated by a comma — at most one
 * listening socket (unix or vsock) and one virtio-serial port, e.g.
 * "serial://agent.channel.0,vsock://-1:1024": the vsock boot test's host talks on the port
 * while containers try the vsock listener. Fills addrs; returns how many (1 or 2). */
#define PD_MAX_SERVER_ADDRS 2
int pd_transport_parse_list(const char *text, struct pd_addr addrs[PD_MAX_SERVER_ADDRS],
			    struct pd_error *err);

/* Find the virtio-serial port named `name` under sysfs_root/class/virtio-ports (sysfs_root
 * is "/sys" in production) and return "vportNpM" in dev (the /dev entry). */
int pd_serial_find(const char *sysfs_root, const char *name, char *dev, size_t len,
		   struct pd_error *err);

/* Open the port once, O_RDWR|O_NONBLOCK (a second open of a port fails with EBUSY). */
int pd_serial_open(const char *name, struct pd_error *err);

/* Is there a vsock transport device (not only the vsock core module)? */
bool pd_vsock_available(void);

/* The address to serve on when none was given: vsock when a virtio vsock device exists,
 * else the virtio-serial port agent.channel.0 when it exists, else the vsock default. */
const char *pd_transport_default_addr(void);

#endif
