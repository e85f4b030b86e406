/* The kernel's side of rtnetlink for fuzz_parsers: the agent's netlink client
 * (agent/net/netlink.c) talks to a socket whose answers are the fuzzer's datagrams.
 *
 * socket(AF_NETLINK) gives /dev/null; bind and setsockopt on it succeed; sendto notes the
 * request's sequence number; recv with MSG_PEEK|MSG_TRUNC and recvfrom hand out the next
 * datagram, then EAGAIN (what the receive timeout gives) when there is none left.
 *
 * Recording (seeds): with fz_nl_record on, every call goes to the real kernel and each
 * datagram received is kept, so that seeds are real kernel answers. */
#include "parsers.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern int __real_socket(int, int, int);
extern int __real_bind(int, const struct sockaddr *, socklen_t);
extern int __real_setsockopt(int, int, int, const void *, socklen_t);
extern ssize_t __real_sendto(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
extern ssize_t __real_recv(int, void *, size_t, int);
extern ssize_t __real_recvfrom(int, void *, size_t, int, struct sockaddr *, socklen_t *);

static const uint8_t *in;
static size_t in_len;
static uint32_t seq;
static int fake_fd = -1;
static bool recording;
static uint8_t *rec;
static size_t rec_len, rec_cap;

void fz_nl_feed(const uint8_t *data, size_t len)
{
	in = data;
	in_len = len;
	seq = 0;
}

void fz_nl_record(bool on, uint8_t *buf, size_t cap)
{
	recording = on;
	rec = buf;
	rec_cap = cap;
	rec_len = 0;
}

size_t fz_nl_recorded(void)
{
	return rec_len;
}

/* The next datagram of the input: {u16 length LE, u8 flags, bytes}; flags bit 0: stamp our
 * sequence number on its messages, bit 1: it comes from a process, not the kernel. */
static bool next(const uint8_t **p, size_t *n, uint8_t *flags, bool consume)
{
	if (in_len < 3)
		return false;
	size_t len = (size_t)in[0] | (size_t)in[1] << 8;
	if (len > in_len - 3)
		len = in_len - 3;
	*p = in + 3;
	*n = len;
	*flags = in[2];
	if (consume) {
		in += 3 + len;
		in_len -= 3 + len;
	}
	return true;
}

static void stamp(uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (off < n && n - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		h.nlmsg_seq = seq;
		memcpy(buf + off, &h, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
			break;
		off += NLMSG_ALIGN((size_t)h.nlmsg_len);
	}
}

int __wrap_socket(int domain, int type, int protocol)
{
	if (recording || domain != AF_NETLINK)
		return __real_socket(domain, type, protocol);
	fake_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return fake_fd;
}

int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	return fd == fake_fd && !recording ? 0 : __real_bind(fd, sa, len);
}

int __wrap_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	return fd == fake_fd && !recording ? 0 : __real_setsockopt(fd, level, name, v, len);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
		      socklen_t len)
{
	if (fd != fake_fd || recording)
		return __real_sendto(fd, buf, n, flags, sa, len);
	struct nlmsghdr h;
	if (n >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		seq = h.nlmsg_seq;
	}
	return (ssize_t)n;
}

ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
	if (fd != fake_fd || recording)
		return __real_recv(fd, buf, n, flags);
	const uint8_t *p;
	size_t len;
	uint8_t f;
	if (!next(&p, &len, &f, false)) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)len; /* MSG_PEEK | MSG_TRUNC: the datagram's whole length */
}

ssize_t __wrap_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
			socklen_t *salen)
{
	if (fd != fake_fd || recording) {
		ssize_t r = __real_recvfrom(fd, buf, n, flags, sa, salen);
		if (recording && r >= 0 && rec_len + 3 + (size_t)r <= rec_cap) {
			rec[rec_len++] = (uint8_t)(r & 0xff);
			rec[rec_len++] = (uint8_t)(r >> 8);
			rec[rec_len++] = 1; /* replayed with the fuzz run's sequence numbers */
			memcpy(rec + rec_len, buf, (size_t)r);
			rec_len += (size_t)r;
		}
		return r;
	}
	const uint8_t *p;
	size_t len;
	uint8_t f;
	if (!next(&p, &len, &f, true)) {
		errno = EAGAIN;
		return -1;
	}
	size_t copy = len < n ? len : n;
	memcpy(buf, p, copy);
	if (f & 1)
		stamp(buf, copy);
	if (sa && salen && *salen >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_pid = f & 2 ? 4242 : 0};
		memcpy(sa, &nl, sizeof(nl));
		*salen = sizeof(nl);
	}
	return (ssize_t)copy;
}
