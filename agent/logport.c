#include "logport.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/ttrpc/address.h"
#include "agent/ttrpc/peer.h"
#include "agent/ttrpc/transport.h"

static struct pd_watch listener = {.fd = -1};
static int reader = -1;

static void on_accept(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	int fd = pd_peer_accept(w->fd, SOCK_CLOEXEC); /* the host only: the log names every call */
	if (fd < 0)
		return;
	/* Non-blocking: a reader that stops reading loses lines instead of stalling pid 1. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (reader >= 0)
		close(reader);
	reader = fd;
	pd_log_set_sink(fd);
	pd_info("log reader attached", "fd=%d", fd);
}

int pd_logport_open(struct pd_loop *loop, unsigned port, struct pd_error *err)
{
	struct pd_addr addr = {.kind = PD_ADDR_VSOCK, .cid = (uint32_t)-1, .port = port};
	int fd = pd_transport_listen(&addr, err);
	if (fd < 0)
		return pd_error_wrap(err, "agent.log_vport %u", port);
	listener.fd = fd;
	listener.fn = on_accept;
	if (pd_loop_add(loop, &listener, EPOLLIN, err) < 0) {
		close(fd);
		listener.fd = -1;
		return -1;
	}
	return 0;
}
