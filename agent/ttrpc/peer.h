/* Who may connect to the agent's sockets: on vsock, the host only. One accept for the three
 * vsock listeners — ttRPC (server.c), the debug console (debug_console.c) and the log port
 * (logport.c). docs/security.md, "The agent's vsock ports answer only the host". */
#ifndef PD_TTRPC_PEER_H
#define PD_TTRPC_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The host is CID 2 (VMADDR_CID_HOST) on every hypervisor's vsock: vhost-vsock, and the
 * hybrid vsock of Firecracker and Cloud Hypervisor, which the host reaches through a unix
 * socket. Anything inside the guest that reaches our listeners comes through the loopback
 * transport as CID 1 (VMADDR_CID_LOCAL), whichever CID it dialled, from a container as from
 * a shell of pid 1: vsock has no namespaces. local: accept CID 1 too. */
bool pd_peer_vsock_allowed(uint32_t cid, bool local);

/* agent.unsafe_vsock_loopback_peers: CID 1 is accepted too (the in-guest boot test only; it
 * lets every process of the guest, containers included, call the agent). Set at start. */
void pd_peer_accept_local(bool on);

/* accept4() for the agent's listeners. A vsock peer that pd_peer_vsock_allowed refuses is
 * closed at once, before a byte is read or written, logged (one line per listening port
 * per second at most), and the next pending connection is taken. Returns the accepted fd,
 * or -1 with accept4's errno — EAGAIN also after a burst of refusals was cut short (the
 * level-triggered listener wakes the loop again). Unix peers are not checked: unix
 * listeners serve host tests, where the socket file's permissions say who may connect. */
int pd_peer_accept(int listen_fd, int flags);

/* The check alone, on an accepted fd and the address accept4 gave for it: returns fd, or
 * closes it, logs and returns -1 (errno ECONNREFUSED). */
int pd_peer_admit(int fd, const struct sockaddr *peer, socklen_t len);

#ifdef PD_TESTING
/* The clock of the refusal log's rate limit (CLOCK_MONOTONIC ns); NULL restores it. */
void pd_peer_set_clock(int64_t (*now_ns)(void));
#endif

#endif
