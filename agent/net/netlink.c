#include "netlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_RECV_START (32u << 10) /* the kernel's dump chunks are at most ~32 KiB */
#define NL_RECV_MAX   (1u << 20)  /* a datagram larger than this is refused, not buffered */
#define NL_TIMEOUT_S  5
#define NL_DUMP_TRIES 4 /* a dump interrupted by a concurrent change is repeated */

int pd_nl_open(struct pd_nl *nl, struct pd_error *err)
{
	nl->fd = -1;
	nl->seq = 0;
	nl->cap = NL_RECV_START;
	nl->buf = malloc(nl->cap);
	if (!nl->buf)
		return pd_error_errno(err, ENOMEM, "netlink buffer");
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0) {
		int e = errno;
		pd_nl_close(nl);
		return pd_error_errno(err, e, "netlink socket");
	}
	/* Best effort: the kernel's own words for an error, without our request echoed back. */
	int one = 1;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	struct timeval tv = {.tv_sec = NL_TIMEOUT_S};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		pd_nl_close(nl);
		return pd_error_errno(err, e, "netlink socket setup");
	}
	return 0;
}

void pd_nl_close(struct pd_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
	free(nl->buf);
	nl->buf = NULL;
	nl->cap = 0;
}

/* ---- building ------------------------------------------------------------------------------ */

void pd_nlmsg_init(struct pd_nlmsg *m, void *buf, size_t cap, uint16_t type, uint16_t flags)
{
	m->buf = buf;
	m->cap = cap;
	m->overflow = cap < NLMSG_HDRLEN;
	if (m->overflow)
		return;
	memset(buf, 0, NLMSG_HDRLEN);
	struct nlmsghdr *h = pd_nlmsg_hdr(m);
	h->nlmsg_len = NLMSG_HDRLEN;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
}

/* Room for len bytes (aligned to 4) at the end of the message, zeroed. */
static void *append(struct pd_nlmsg *m, size_t len)
{
	if (m->overflow)
		return NULL;
	struct nlmsghdr *h = pd_nlmsg_hdr(m);
	size_t at = h->nlmsg_len, need = NLMSG_ALIGN(len);
	if (len > m->cap || need > m->cap - at) {
		m->overflow = true;
		return NULL;
	}
	memset(m->buf + at, 0, need);
	h->nlmsg_len = (uint32_t)(at + need);
	return m->buf + at;
}

void *pd_nlmsg_reserve(struct pd_nlmsg *m, size_t len)
{
	return append(m, len);
}

void pd_nlmsg_attr(struct pd_nlmsg *m, uint16_t type, const void *data, size_t len)
{
	if (len > UINT16_MAX - RTA_LENGTH(0)) {
		m->overflow = true;
		return;
	}
	struct rtattr *a = append(m, RTA_LENGTH(len));
	if (!a)
		return;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	a->rta_type = type;
	if (len)
		memcpy(RTA_DATA(a), data, len);
}

void pd_nlmsg_attr_u32(struct pd_nlmsg *m, uint16_t type, uint32_t v)
{
	pd_nlmsg_attr(m, type, &v, sizeof(v));
}

void pd_nlmsg_attr_str(struct pd_nlmsg *m, uint16_t type, const char *s)
{
	pd_nlmsg_attr(m, type, s, strlen(s) + 1);
}

struct rtattr *pd_nlmsg_nest_begin(struct pd_nlmsg *m, uint16_t type)
{
	struct rtattr *a = append(m, RTA_LENGTH(0));
	if (a) {
		a->rta_len = RTA_LENGTH(0);
		a->rta_type = type | NLA_F_NESTED;
	}
	return a;
}

void pd_nlmsg_nest_end(struct pd_nlmsg *m, struct rtattr *nest)
{
	if (!nest || m->overflow)
		return;
	size_t len = m->buf + pd_nlmsg_hdr(m)->nlmsg_len - (unsigned char *)nest;
	if (len > UINT16_MAX)
		m->overflow = true;
	else
		nest->rta_len = (unsigned short)len;
}

/* ---- reading ------------------------------------------------------------------------------- */

int pd_nl_attrs(const void *attrs, size_t len, const struct rtattr **tb, unsigned max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	const unsigned char *p = attrs;
	while (len >= sizeof(struct rtattr)) {
		const struct rtattr *a = (const void *)p;
		if (a->rta_len < sizeof(*a) || a->rta_len > len)
			return -1;
		unsigned type = a->rta_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		size_t step = RTA_ALIGN(a->rta_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

int pd_nl_msg_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct rtattr **tb, unsigned max)
{
	size_t off = NLMSG_LENGTH(NLMSG_ALIGN(hdrlen));
	if (h->nlmsg_len < NLMSG_LENGTH(hdrlen))
		return -1;
	if (h->nlmsg_len <= off) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return 0;
	}
	return pd_nl_attrs((const unsigned char *)h + off, h->nlmsg_len - off, tb, max);
}

bool pd_nl_attr_u32(const struct rtattr *a, uint32_t *v)
{
	if (!a || pd_nl_attr_len(a) < sizeof(*v))
		return false;
	memcpy(v, pd_nl_attr_data(a), sizeof(*v));
	return true;
}

bool pd_nl_attr_str(const struct rtattr *a, char *buf, size_t size)
{
	if (!a || size == 0)
		return false;
	const char *s = pd_nl_attr_data(a);
	size_t n = strnlen(s, pd_nl_attr_len(a));
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

int pd_nl_parse_ack(const struct nlmsghdr *h, int *error, char *msg, size_t size)
{
	msg[0] = '\0';
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -1;
	const struct nlmsgerr *e = NLMSG_DATA(h);
	if (e->error < -PD_NL_MAX_ERRNO || e->error > PD_NL_MAX_ERRNO)
		return -1; /* not an errno (and INT_MIN has no positive) */
	*error = e->error < 0 ? -e->error : e->error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* The TLVs follow the error and, unless capped, a copy of our whole request. */
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return -1;
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	off = NLMSG_ALIGN(off);
	if (off >= h->nlmsg_len)
		return 0;
	const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	const unsigned char *tlv = (const unsigned char *)h + off;
	if (pd_nl_attrs(tlv, h->nlmsg_len - off, tb, NLMSGERR_ATTR_MAX) < 0)
		return -1;
	pd_nl_attr_str(tb[NLMSGERR_ATTR_MSG], msg, size);
	return 0;
}

int pd_nl_parse_done(const struct nlmsghdr *h, int *error)
{
	int e = 0;
	if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(e)))
		memcpy(&e, NLMSG_DATA(h), sizeof(e));
	if (e < -PD_NL_MAX_ERRNO)
		return -1;
	*error = e < 0 ? -e : 0;
	return 0;
}

/* ---- the exchange -------------------------------------------------------------------------- */

static int nl_send(struct pd_nl *nl, struct pd_nlmsg *m, uint16_t flags, struct pd_error *err)
{
	if (m->overflow)
		return pd_error_set(err, PD_INTERNAL, 0, "netlink request too large");
	struct nlmsghdr *h = pd_nlmsg_hdr(m);
	h->nlmsg_flags |= flags;
	h->nlmsg_seq = ++nl->seq;
	h->nlmsg_pid = 0;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	ssize_t n;
	do
		n = sendto(nl->fd, m->buf, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pd_error_errno(err, errno, "netlink send");
	if ((size_t)n != h->nlmsg_len)
		return pd_error_set(err, PD_INTERNAL, 0, "netlink send: short write");
	return 0;
}

/* One datagram from the kernel into nl->buf, the buffer grown to fit it first. */
static ssize_t nl_recv(struct pd_nl *nl, struct pd_error *err)
{
	for (;;) {
		ssize_t want = recv(nl->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (want < 0 && errno == EINTR)
			continue;
		if (want < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return pd_error_set(err, PD_DEADLINE_EXCEEDED, errno,
					    "netlink: no answer from the kernel in %d s",
					    NL_TIMEOUT_S);
		if (want < 0)
			return pd_error_errno(err, errno, "netlink receive");
		if ((size_t)want > nl->cap) {
			if ((size_t)want > NL_RECV_MAX)
				return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
						    "netlink: %zd-byte message", want);
			unsigned char *nb = realloc(nl->buf, (size_t)want);
			if (!nb)
				return pd_error_errno(err, ENOMEM, "netlink buffer");
			nl->buf = nb;
			nl->cap = (size_t)want;
		}
		struct sockaddr_nl sa;
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(nl->fd, nl->buf, nl->cap, 0, (struct sockaddr *)&sa, &sl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pd_error_errno(err, errno, "netlink receive");
		if (sa.nl_pid == 0)
			return n; /* anything not from the kernel is dropped */
	}
}

/* The next whole message of a datagram, or NULL at its end. */
static const struct nlmsghdr *next_msg(const unsigned char *buf, size_t len, size_t *off)
{
	if (*off >= len || len - *off < sizeof(struct nlmsghdr))
		return NULL;
	const struct nlmsghdr *h = (const void *)(buf + *off);
	if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - *off)
		return NULL;
	*off += NLMSG_ALIGN(h->nlmsg_len);
	return h;
}

/* Feed the messages answering `seq` to fn until it returns 1 (done) or -1. */
typedef int (*msg_fn)(const struct nlmsghdr *h, void *ctx, struct pd_error *err);
static int nl_receive(struct pd_nl *nl, msg_fn fn, void *ctx, struct pd_error *err)
{
	for (;;) {
		ssize_t n = nl_recv(nl, err);
		if (n < 0)
			return -1;
		size_t off = 0;
		const struct nlmsghdr *h;
		while ((h = next_msg(nl->buf, (size_t)n, &off))) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			int rc = fn(h, ctx, err);
			if (rc != 0)
				return rc < 0 ? -1 : 0;
		}
	}
}

/* A kernel error as a pd_error: its extended message (if any) and the errno text. */
static int kernel_error(struct pd_error *err, int error, const char *ext)
{
	if (ext[0])
		return pd_error_set(err, pd_code_from_errno(error), error, "%s: %s", ext,
				    strerror(error));
	return pd_error_set(err, pd_code_from_errno(error), error, "%s", strerror(error));
}

struct ack {
	int error;
	char ext[256];
};

static int on_ack(const struct nlmsghdr *h, void *ctx, struct pd_error *err)
{
	struct ack *a = ctx;
	if (h->nlmsg_type != NLMSG_ERROR)
		return 0; /* an echo or notification we did not ask for */
	if (pd_nl_parse_ack(h, &a->error, a->ext, sizeof(a->ext)) < 0)
		return pd_error_set(err, PD_INTERNAL, EPROTO, "netlink: malformed ack");
	return 1;
}

int pd_nl_call(struct pd_nl *nl, struct pd_nlmsg *m, struct pd_error *err)
{
	struct ack a = {0};
	if (nl_send(nl, m, NLM_F_ACK, err) < 0 || nl_receive(nl, on_ack, &a, err) < 0)
		return -1;
	return a.error ? kernel_error(err, a.error, a.ext) : 0;
}

struct dump {
	pd_nl_dump_fn fn;
	void *arg;
	bool interrupted;
};

static int on_dump(const struct nlmsghdr *h, void *ctx, struct pd_error *err)
{
	struct dump *d = ctx;
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		d->interrupted = true;
	switch (h->nlmsg_type) {
	case NLMSG_DONE: {
		int e;
		if (pd_nl_parse_done(h, &e) < 0)
			return pd_error_set(err, PD_INTERNAL, EPROTO, "netlink: malformed done");
		return e ? kernel_error(err, e, "") : 1;
	}
	case NLMSG_ERROR: {
		struct ack a = {0};
		if (pd_nl_parse_ack(h, &a.error, a.ext, sizeof(a.ext)) < 0)
			return pd_error_set(err, PD_INTERNAL, EPROTO, "netlink: malformed error");
		return a.error ? kernel_error(err, a.error, a.ext) : 1;
	}
	case NLMSG_NOOP:
		return 0;
	default:
		return d->fn(h, d->arg, err) < 0 ? -1 : 0;
	}
}

int pd_nl_dump(struct pd_nl *nl, struct pd_nlmsg *m, pd_nl_dump_fn fn, void *arg,
	       struct pd_error *err)
{
	for (int try = 0; try < NL_DUMP_TRIES; try++) {
		struct dump d = {fn, arg, false};
		if (try > 0 && fn(NULL, arg, err) < 0)
			return -1;
		if (nl_send(nl, m, NLM_F_DUMP, err) < 0 || nl_receive(nl, on_dump, &d, err) < 0)
			return -1;
		if (!d.interrupted)
			return 0;
	}
	return pd_error_set(err, PD_ABORTED, EINTR,
			    "netlink dump interrupted by concurrent changes %d times",
			    NL_DUMP_TRIES);
}
