/* Blocking ttRPC client. The socket is non-blocking underneath so that every wait is a
 * poll() with the caller's deadline: a guest that stops answering (or a QEMU chardev whose
 * guest never opened its port) costs a timeout, never a hang. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent/ttrpc/address.h"
#include "ttrpc.pb-c.h"

#define CONNECT_RETRY_MS 50
#define READ_CHUNK	 (16 * 1024)
#define NO_DEADLINE	 (-1)

/* ---- time ----------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? NO_DEADLINE : now_ms() + timeout_ms;
}

/* Milliseconds left for poll(): -1 for no deadline, 0 once it has passed. */
static int remaining_ms(int64_t deadline)
{
	if (deadline == NO_DEADLINE)
		return -1;
	int64_t left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait until fd is ready for `events` or the deadline passes (EINTR-safe). */
static int wait_fd(int fd, short events, int64_t deadline, struct pd_error *err)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, remaining_ms(deadline));
		if (n > 0)
			return 0; /* POLLERR/POLLHUP too: the following read/send reports it */
		if (n == 0)
			return pd_error_set(err, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
					    "timed out waiting for the agent");
		if (errno != EINTR)
			return pd_error_errno(err, errno, "poll");
	}
}

/* ---- connect -------------------------------------------------------------------------- */

/* Odd, random (so that stale replies a guest wrote for an earlier host connection of a
 * serial port are not mistaken for ours), and below 2^30 so a session never wraps. */
static uint32_t random_first_stream(void)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^
		    (uint32_t)getpid() << 12;
	}
	return (r & 0x3fffffffu) | 1u;
}

/* One connect attempt; returns the connected fd or -1 with err->errnum set. */
static int connect_once(const struct pd_addr *a, struct pd_error *err)
{
	struct sockaddr_un sun;
	struct sockaddr_vm svm;
	const struct sockaddr *sa;
	socklen_t salen;
	int family;

	if (a->kind == PD_ADDR_UNIX) {
		family = AF_UNIX;
		salen = pd_addr_unix_sockaddr(a, &sun);
		sa = (const struct sockaddr *)&sun;
	} else {
		/* Only ever reached inside a guest: host tests use unix:// addresses. */
		family = AF_VSOCK;
		memset(&svm, 0, sizeof(svm));
		svm.svm_family = AF_VSOCK;
		svm.svm_cid = a->cid;
		svm.svm_port = a->port;
		salen = sizeof(svm);
		sa = (const struct sockaddr *)&svm;
	}
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pd_error_errno(err, errno, "socket");
	int rc;
	do
		rc = connect(fd, sa, salen);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "connect");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "fcntl O_NONBLOCK");
	}
	return fd;
}

static bool connect_retryable(int errnum)
{
	return errnum == ECONNREFUSED || errnum == ENOENT || errnum == EAGAIN;
}

int pd_client_connect(struct pd_client *c, const char *addr, int wait_ms, struct pd_error *err)
{
	struct pd_addr a;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	pd_frame_reader_init(&c->reader, 0);
	if (pd_addr_parse(addr, &a, err) < 0)
		return -1;
	if (a.kind == PD_ADDR_SERIAL)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "serial:// names the guest's end of a port; from the host, "
				    "connect to QEMU's chardev socket as unix:///path");
	int64_t deadline = now_ms() + (wait_ms > 0 ? wait_ms : 0);
	for (;;) {
		int fd = connect_once(&a, err);
		if (fd >= 0) {
			c->fd = fd;
			break;
		}
		int left = remaining_ms(deadline);
		if (!connect_retryable(err->errnum) || left == 0)
			return pd_error_wrap(err, "%s", addr);
		sleep_ms(left < CONNECT_RETRY_MS ? left : CONNECT_RETRY_MS);
	}
	c->first_stream = random_first_stream();
	c->next_stream = c->first_stream;
	return 0;
}

void pd_client_close(struct pd_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pd_frame_reader_reset(&c->reader);
}

/* ---- send ----------------------------------------------------------------------------- */

static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline,
		    struct pd_error *err)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return pd_error_errno(err, errno, "send");
		if (wait_fd(fd, POLLOUT, deadline, err) < 0)
			return -1;
	}
	return 0;
}

/* Encode header + ttrpc.Request in one buffer so the frame leaves in one piece. */
static int encode_request(const char *service, const char *method, const uint8_t *payload,
			  size_t len, int64_t timeout_nano, uint32_t stream, uint8_t **out,
			  size_t *out_len, struct pd_error *err)
{
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	r.service = (char *)service;
	r.method = (char *)method;
	r.payload.data = (uint8_t *)payload;
	r.payload.len = len;
	r.timeout_nano = timeout_nano;

	size_t body = ttrpc__request__get_packed_size(&r);
	if (body > PD_TTRPC_MAX_DATA)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, EMSGSIZE,
				    "request of %zu bytes exceeds the 4 MiB frame limit", body);
	uint8_t *buf = malloc(PD_TTRPC_HEADER_LEN + body);
	if (!buf)
		return pd_error_errno(err, ENOMEM, "encode request");
	struct pd_frame_header h = {
		.length = (uint32_t)body, .stream_id = stream, .type = PD_TTRPC_REQUEST};
	pd_frame_header_encode(buf, &h);
	ttrpc__request__pack(&r, buf + PD_TTRPC_HEADER_LEN);
	*out = buf;
	*out_len = PD_TTRPC_HEADER_LEN + body;
	return 0;
}

static int send_request(struct pd_client *c, const char *service, const char *method,
			const uint8_t *payload, size_t len, int64_t timeout_nano,
			int64_t deadline, uint32_t *stream_id, struct pd_error *err)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	uint32_t stream = c->next_stream;

	if (c->fd < 0)
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOTCONN, "client not connected");
	if (encode_request(service, method, payload, len, timeout_nano, stream, &buf, &n, err) < 0)
		return -1;
	c->next_stream += 2;
	int rc = send_all(c->fd, buf, n, deadline, err);
	free(buf);
	if (rc < 0)
		return pd_error_wrap(err, "%s/%s", service, method);
	if (stream_id)
		*stream_id = stream;
	return 0;
}

/* Pack a message into a fresh buffer (NULL message = empty payload). */
static int pack_message(const ProtobufCMessage *msg, uint8_t **out, size_t *len,
			struct pd_error *err)
{
	*out = NULL;
	*len = 0;
	if (!msg)
		return 0;
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n == 0)
		return 0;
	*out = malloc(n);
	if (!*out)
		return pd_error_errno(err, ENOMEM, "encode %s", msg->descriptor->name);
	*len = protobuf_c_message_pack(msg, *out);
	return 0;
}

int pd_client_send_raw(struct pd_client *c, const char *service, const char *method,
		       const uint8_t *payload, size_t len, int64_t timeout_nano,
		       uint32_t *stream_id, struct pd_error *err)
{
	return send_request(c, service, method, payload, len, timeout_nano, NO_DEADLINE,
			    stream_id, err);
}

int pd_client_send(struct pd_client *c, const char *service, const char *method,
		   const ProtobufCMessage *req, int64_t timeout_nano, uint32_t *stream_id,
		   struct pd_error *err)
{
	uint8_t *buf;
	size_t len;
	if (pack_message(req, &buf, &len, err) < 0)
		return -1;
	int rc = pd_client_send_raw(c, service, method, buf, len, timeout_nano, stream_id, err);
	free(buf);
	return rc;
}

/* ---- receive -------------------------------------------------------------------------- */

/* Bytes that complete the reader's current header or body. Reading no more than that
 * leaves the next frame in the socket, so the client needs no buffer of its own. */
static size_t reader_want(const struct pd_frame_reader *r)
{
	if (r->hdr_have < PD_TTRPC_HEADER_LEN)
		return PD_TTRPC_HEADER_LEN - r->hdr_have;
	return r->h.length - r->body_have;
}

/* Read until one frame is complete. Returns PD_FRAME_READY or PD_FRAME_OVERSIZED. */
static int read_frame(struct pd_client *c, int64_t deadline, struct pd_frame *f,
		      struct pd_error *err)
{
	uint8_t buf[READ_CHUNK];
	for (;;) {
		size_t want = reader_want(&c->reader);
		ssize_t n = read(c->fd, buf, want < sizeof(buf) ? want : sizeof(buf));
		if (n == 0)
			return pd_error_set(err, PD_UNAVAILABLE, ECONNRESET,
					    "connection closed by the agent%s",
					    pd_frame_reader_busy(&c->reader) ? " mid-frame" : "");
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return pd_error_errno(err, errno, "read");
			if (wait_fd(c->fd, POLLIN, deadline, err) < 0)
				return -1;
			continue;
		}
		size_t used;
		int st = pd_frame_reader_feed(&c->reader, buf, (size_t)n, &used, f);
		if (st == PD_FRAME_NOMEM) {
			pd_frame_reader_reset(&c->reader);
			return pd_error_errno(err, ENOMEM, "buffer reply");
		}
		if (st != PD_FRAME_NEED_MORE)
			return st;
	}
}

static bool owns_stream(const struct pd_client *c, uint32_t id)
{
	return (id & 1) && id >= c->first_stream && id < c->next_stream;
}

static int decode_response(const struct pd_frame *f, struct pd_client_reply *reply,
			   struct pd_error *err)
{
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, f->h.length, f->data);
	if (!resp)
		return pd_error_set(err, PD_INTERNAL, EPROTO,
				    "stream %u: reply is not a ttrpc.Response", f->h.stream_id);
	reply->stream_id = f->h.stream_id;
	if (resp->status) {
		reply->code = resp->status->code;
		snprintf(reply->message, sizeof(reply->message), "%s",
			 resp->status->message ? resp->status->message : "");
	}
	if (resp->payload.len > 0) {
		reply->payload = malloc(resp->payload.len);
		if (!reply->payload) {
			ttrpc__response__free_unpacked(resp, NULL);
			return pd_error_errno(err, ENOMEM, "reply payload");
		}
		memcpy(reply->payload, resp->payload.data, resp->payload.len);
		reply->payload_len = resp->payload.len;
	}
	ttrpc__response__free_unpacked(resp, NULL);
	return 0;
}

static int recv_reply(struct pd_client *c, int64_t deadline, struct pd_client_reply *reply,
		      struct pd_error *err)
{
	memset(reply, 0, sizeof(*reply));
	if (c->fd < 0)
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOTCONN, "client not connected");
	for (;;) {
		struct pd_frame f;
		int st = read_frame(c, deadline, &f, err);
		if (st < 0)
			return -1;
		if (f.h.type != PD_TTRPC_RESPONSE || !owns_stream(c, f.h.stream_id)) {
			free(f.data); /* not ours: a stale reply or a frame type we do not use */
			continue;
		}
		if (st == PD_FRAME_OVERSIZED) {
			reply->stream_id = f.h.stream_id;
			reply->code = PD_RESOURCE_EXHAUSTED;
			snprintf(reply->message, sizeof(reply->message),
				 "reply of %u bytes exceeds the 4 MiB frame limit", f.h.length);
			return 0;
		}
		int rc = decode_response(&f, reply, err);
		free(f.data);
		return rc;
	}
}

int pd_client_recv(struct pd_client *c, int timeout_ms, struct pd_client_reply *reply,
		   struct pd_error *err)
{
	return recv_reply(c, deadline_after(timeout_ms), reply, err);
}

void pd_client_reply_free(struct pd_client_reply *reply)
{
	free(reply->payload);
	reply->payload = NULL;
	reply->payload_len = 0;
}

/* ---- calls ---------------------------------------------------------------------------- */

int pd_client_call_raw(struct pd_client *c, const char *service, const char *method,
		       const uint8_t *payload, size_t len, int timeout_ms,
		       struct pd_client_reply *reply, struct pd_error *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	int64_t timeout_nano = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0;
	uint32_t id;

	memset(reply, 0, sizeof(*reply));
	if (send_request(c, service, method, payload, len, timeout_nano, deadline, &id, err) < 0)
		return -1;
	for (;;) {
		if (recv_reply(c, deadline, reply, err) < 0)
			return pd_error_wrap(err, "%s/%s", service, method);
		if (reply->stream_id == id)
			return 0;
		pd_client_reply_free(reply); /* late answer to an earlier call of ours */
	}
}

int pd_client_call(struct pd_client *c, const char *service, const char *method,
		   const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		   ProtobufCMessage **reply, int timeout_ms, struct pd_error *err)
{
	static const uint8_t empty[1];
	struct pd_client_reply r;
	uint8_t *buf;
	size_t len;

	if (reply)
		*reply = NULL;
	if (pack_message(req, &buf, &len, err) < 0)
		return -1;
	int rc = pd_client_call_raw(c, service, method, buf, len, timeout_ms, &r, err);
	free(buf);
	if (rc < 0)
		return -1;
	if (r.code != PD_OK) {
		pd_error_set(err, r.code, 0, "%s", r.message);
		pd_client_reply_free(&r);
		return -1;
	}
	if (reply_desc && reply) {
		*reply = protobuf_c_message_unpack(reply_desc, NULL, r.payload_len,
						   r.payload ? r.payload : empty);
		if (!*reply)
			rc = pd_error_set(err, PD_INTERNAL, EPROTO,
					  "%s/%s: reply does not decode as %s", service, method,
					  reply_desc->name);
	}
	pd_client_reply_free(&r);
	return rc;
}
