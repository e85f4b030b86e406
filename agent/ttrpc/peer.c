#include "peer.h"

#include <errno.h>
#include <linux/vm_sockets.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"

/* Refused peers taken per call before the loop gets to its other fds. */
#define REFUSALS_PER_CALL 16
/* Listening ports with a refusal log of their own (we have three). */
#define LOG_SLOTS    4
#define LOG_QUIET_NS 1000000000LL

static bool accept_local;

bool pd_peer_vsock_allowed(uint32_t cid, bool local)
{
	return cid == VMADDR_CID_HOST || (local && cid == VMADDR_CID_LOCAL);
}

void pd_peer_accept_local(bool on)
{
	accept_local = on;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t (*now_ns)(void) = monotonic_ns;

#ifdef PD_TESTING
void pd_peer_set_clock(int64_t (*fn)(void))
{
	now_ns = fn ? fn : monotonic_ns;
}
#endif

/* A container dialling in a loop must not flood the console: per listening port, one line
 * and then silence for a second; the next line counts the refusals not logged. */
struct refusal_log {
	bool used;
	uint32_t port;
	int64_t quiet_until;
	unsigned quiet;
};

static struct refusal_log logs[LOG_SLOTS];

static struct refusal_log *log_for(uint32_t port)
{
	struct refusal_log *free_slot = NULL, *oldest = &logs[0];
	for (int i = 0; i < LOG_SLOTS; i++) {
		if (logs[i].used && logs[i].port == port)
			return &logs[i];
		if (!logs[i].used && !free_slot)
			free_slot = &logs[i];
		if (logs[i].quiet_until < oldest->quiet_until)
			oldest = &logs[i];
	}
	struct refusal_log *l = free_slot ? free_slot : oldest;
	*l = (struct refusal_log){.used = true, .port = port};
	return l;
}

static void log_refusal(int fd, const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_vm self;
	socklen_t self_len = sizeof(self);
	uint32_t port = 0;
	if (getsockname(fd, (struct sockaddr *)&self, &self_len) == 0 &&
	    self.svm_family == AF_VSOCK)
		port = self.svm_port;
	struct refusal_log *l = log_for(port);
	int64_t now = now_ns();
	if (now < l->quiet_until) {
		l->quiet++;
		return;
	}
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)peer;
	if (len >= (socklen_t)sizeof(*svm) && peer->sa_family == AF_VSOCK)
		pd_warn("connection refused: only the host may use this vsock port",
			"port=%u peer_cid=%u peer_port=%u not_logged=%u", port, svm->svm_cid,
			svm->svm_port, l->quiet);
	else
		pd_warn("connection refused: not a vsock or unix peer",
			"port=%u family=%d len=%u not_logged=%u", port,
			len >= (socklen_t)sizeof(sa_family_t) ? peer->sa_family : -1, (unsigned)len,
			l->quiet);
	l->quiet = 0;
	l->quiet_until = now + LOG_QUIET_NS;
}

int pd_peer_admit(int fd, const struct sockaddr *peer, socklen_t len)
{
	if (len >= (socklen_t)sizeof(sa_family_t) && peer->sa_family == AF_UNIX)
		return fd;
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)peer;
	if (len >= (socklen_t)sizeof(*svm) && peer->sa_family == AF_VSOCK &&
	    pd_peer_vsock_allowed(svm->svm_cid, accept_local))
		return fd;
	log_refusal(fd, peer, len);
	close(fd);
	errno = ECONNREFUSED;
	return -1;
}

int pd_peer_accept(int listen_fd, int flags)
{
	for (int i = 0; i < REFUSALS_PER_CALL; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, flags);
		if (fd < 0)
			return -1;
		if (pd_peer_admit(fd, (struct sockaddr *)&peer, len) >= 0)
			return fd;
	}
	errno = EAGAIN;
	return -1;
}
