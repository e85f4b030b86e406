/* A small blocking ttRPC client: pidonectl, the integration tests and the benchmarks use it.
 * It speaks to unix:// addresses (a QEMU virtio-serial chardev socket is one: the guest
 * side of that port runs ttRPC directly) and, inside a guest only, vsock://.
 *
 * Stream ids start at a random odd number and go up by 2: replies that a guest wrote to a
 * virtio-serial port for an earlier host connection are delivered to the next one, and the
 * client must drop replies for streams it did not open. */
#ifndef PD_TTRPC_CLIENT_H
#define PD_TTRPC_CLIENT_H

#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"
#include "agent/ttrpc/frame.h"

struct pd_client {
	int fd;
	uint32_t first_stream; /* streams this client opened: odd ids in [first, next) */
	uint32_t next_stream;
	struct pd_frame_reader reader;
};

/* One Response as it came off the wire. */
struct pd_client_reply {
	uint32_t stream_id;
	int code;       /* google.rpc.Status.code (0 = OK, also when the status is absent) */
	char message[512];
	uint8_t *payload; /* owned by the reply: pd_client_reply_free() */
	size_t payload_len;
};

/* Connect, retrying ECONNREFUSED/ENOENT (a QEMU chardev socket appears a moment before it
 * listens) for up to wait_ms milliseconds (0 = one try). */
int pd_client_connect(struct pd_client *c, const char *addr, int wait_ms, struct pd_error *err);
void pd_client_close(struct pd_client *c);

/* Send one unary Request. req may be NULL (empty message). timeout_nano goes on the wire
 * (0 = none). The stream id used is returned in *stream_id. */
int pd_client_send(struct pd_client *c, const char *service, const char *method,
		   const ProtobufCMessage *req, int64_t timeout_nano, uint32_t *stream_id,
		   struct pd_error *err);

/* pd_client_send with a payload that is already encoded (or deliberately garbage). */
int pd_client_send_raw(struct pd_client *c, const char *service, const char *method,
		       const uint8_t *payload, size_t len, int64_t timeout_nano,
		       uint32_t *stream_id, struct pd_error *err);

/* Wait up to timeout_ms (-1 = forever) for the next Response on any stream this client
 * opened (others are dropped). */
int pd_client_recv(struct pd_client *c, int timeout_ms, struct pd_client_reply *reply,
		   struct pd_error *err);
void pd_client_reply_free(struct pd_client_reply *reply);

/* Send a raw payload and wait for the Response on that stream (replies to other streams
 * are dropped). timeout_ms bounds the whole call and goes on the wire as timeout_nano.
 * Returns 0 when a Response arrived, whatever its status (see reply->code), and -1 only
 * for transport failures: so a caller can tell "the agent said no" from "no agent". */
int pd_client_call_raw(struct pd_client *c, const char *service, const char *method,
		       const uint8_t *payload, size_t len, int timeout_ms,
		       struct pd_client_reply *reply, struct pd_error *err);

/* send + recv for one call. On a remote error status, returns -1 with err->code and
 * err->msg taken from the status (err->errnum 0; transport failures set an errno).
 * On success *reply is the unpacked message of reply_desc (free with
 * protobuf_c_message_free_unpacked), or NULL if reply_desc is NULL. */
int pd_client_call(struct pd_client *c, const char *service, const char *method,
		   const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		   ProtobufCMessage **reply, int timeout_ms, struct pd_error *err);

#endif
