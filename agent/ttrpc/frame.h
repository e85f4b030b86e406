/* ttRPC framing: a 10-byte big-endian header {length u32, stream id u32, type u8, flags u8}
 * then `length` bytes of protobuf. This file knows bytes only, no sockets and no protobuf,
 * so the parser is tested and fuzzed on its own.
 *
 * The reader is incremental: feed it whatever read() returned, in pieces of any size, and
 * it hands out whole frames. A body is buffered only as its bytes arrive (a client that
 * announces 4 MiB and sends 10 bytes holds 10 bytes, not 4 MiB). A frame over the 4 MiB
 * limit is drained without being stored and reported once, so the server can answer it on
 * its stream id and keep the connection. */
#ifndef PD_TTRPC_FRAME_H
#define PD_TTRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PD_TTRPC_HEADER_LEN 10
#define PD_TTRPC_MAX_DATA   (4u << 20)

enum pd_ttrpc_type {
	PD_TTRPC_REQUEST = 1,
	PD_TTRPC_RESPONSE = 2,
	PD_TTRPC_DATA = 3,
};

enum pd_ttrpc_flag {
	PD_TTRPC_FLAG_REMOTE_CLOSED = 0x01,
	PD_TTRPC_FLAG_REMOTE_OPEN = 0x02,
	PD_TTRPC_FLAG_NO_DATA = 0x04,
};

struct pd_frame_header {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void pd_frame_header_encode(uint8_t out[PD_TTRPC_HEADER_LEN], const struct pd_frame_header *h);
void pd_frame_header_decode(const uint8_t in[PD_TTRPC_HEADER_LEN], struct pd_frame_header *h);

/* One complete frame. `data` is owned by whoever took it from the reader (free()). */
struct pd_frame {
	struct pd_frame_header h;
	uint8_t *data; /* NULL when length == 0 */
};

enum pd_frame_status {
	PD_FRAME_NEED_MORE = 0, /* all input consumed, no frame complete */
	PD_FRAME_READY = 1,     /* *out holds a frame; call again with the rest of the input */
	PD_FRAME_OVERSIZED = 2, /* an oversized frame was drained: out->h valid, data NULL */
	PD_FRAME_NOMEM = -1,    /* could not grow the body buffer; the reader must be reset */
};

struct pd_frame_reader {
	uint8_t hdr[PD_TTRPC_HEADER_LEN];
	size_t hdr_have;
	struct pd_frame_header h;
	uint8_t *body;
	size_t body_have;
	size_t body_cap;
	bool draining; /* inside an oversized frame: bytes are counted, not kept */
	uint32_t max_data;
};

void pd_frame_reader_init(struct pd_frame_reader *r, uint32_t max_data);
/* Drop any partial frame (a serial host went away, or an error). */
void pd_frame_reader_reset(struct pd_frame_reader *r);

/* Consume bytes from buf[0..len). *used tells how many were consumed (always all of them
 * unless a frame completed first). Returns enum pd_frame_status. */
int pd_frame_reader_feed(struct pd_frame_reader *r, const uint8_t *buf, size_t len,
			 size_t *used, struct pd_frame *out);

/* True if a partial frame is buffered (a peer that vanishes now vanished mid-frame). */
bool pd_frame_reader_busy(const struct pd_frame_reader *r);

#endif
