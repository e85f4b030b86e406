/* libFuzzer target: the bytes a host can put on the agent's connection.
 *
 * Input layout: byte 0 steers the run, the rest is the byte stream.
 *   bits 0-6: seed of the piece sizes, so that frames arrive split and coalesced in ways
 *             that change with the input;
 *   bit 7:    use a small frame limit (8..1024 bytes) so that the drain path of oversized
 *             frames is reached with inputs of fuzzer size.
 * Every complete frame is decoded the way the server and the client decode it: a Request
 * as ttrpc.Request and then its payload as the input type of the named method (and its
 * strings walked as dispatch walks them), a Response as ttrpc.Response. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/ttrpc/frame.h"
#include "agent/ttrpc/wire_strings.h"
#include "health.pb-c.h"
#include "ttrpc.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
	&grpc__agent_service__descriptor,
	&grpc__health__descriptor,
};

static const ProtobufCMethodDescriptor *find_method(const char *service, const char *method)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (service && method && strcmp(services[i]->name, service) == 0)
			return protobuf_c_service_descriptor_get_method_by_name(services[i],
										method);
	return NULL;
}

/* The string walk dispatch runs on a payload that decoded (agent/ttrpc/wire_strings.c):
 * it must not read out of bounds, and its repair must leave bytes that still decode and
 * whose strings are all UTF-8 (a NUL is the only thing the check may still refuse). */
static void check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len)
{
	char why[256];
	int ok = pd_wire_strings_check(d, p, len, why, sizeof(why));
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, p, len);
	long fixed = pd_wire_strings_repair(d, copy, len);
	if (fixed < 0 || (ok == 0 && fixed != 0))
		abort(); /* it decoded, so it parses; a clean message needs no repair */
	ProtobufCMessage *again = protobuf_c_message_unpack(d, NULL, len, copy);
	if (!again)
		abort(); /* the repair broke the encoding */
	protobuf_c_message_free_unpacked(again, NULL);
	if (pd_wire_strings_check(d, copy, len, why, sizeof(why)) < 0 && !strstr(why, "NUL"))
		abort(); /* something that is not UTF-8 survived the repair */
	free(copy);
}

static void decode_request(const struct pd_frame *f)
{
	static const uint8_t empty[1];
	Ttrpc__Request *req =
		ttrpc__request__unpack(NULL, f->h.length, f->data ? f->data : empty);
	if (!req)
		return;
	const ProtobufCMethodDescriptor *m = find_method(req->service, req->method);
	if (m) {
		const uint8_t *p = req->payload.data ? req->payload.data : empty;
		ProtobufCMessage *msg =
			protobuf_c_message_unpack(m->input, NULL, req->payload.len, p);
		if (msg) {
			check_strings(m->input, p, req->payload.len);
			protobuf_c_message_free_unpacked(msg, NULL);
		}
	}
	ttrpc__request__free_unpacked(req, NULL);
}

static void decode_response(const struct pd_frame *f)
{
	static const uint8_t empty[1];
	Ttrpc__Response *resp =
		ttrpc__response__unpack(NULL, f->h.length, f->data ? f->data : empty);
	if (resp)
		ttrpc__response__free_unpacked(resp, NULL);
}

static void handle(const struct pd_frame *f)
{
	if (f->h.type == PD_TTRPC_REQUEST)
		decode_request(f);
	else if (f->h.type == PD_TTRPC_RESPONSE)
		decode_response(f);
}

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* 1..64 bytes mostly, sometimes everything that is left. */
static size_t piece_size(uint32_t *s, size_t left)
{
	uint32_t r = next_rand(s);
	size_t n = (r & 7) == 0 ? left : 1 + (r >> 8) % 64;
	return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t seed = 0x9e3779b9u ^ (data[0] & 0x7f);
	uint32_t limit = (data[0] & 0x80) ? 8 + (data[0] & 0x7f) * 8 : 0;
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	struct pd_frame_reader r;

	pd_frame_reader_init(&r, limit);
	for (size_t off = 0; off < len;) {
		size_t n = piece_size(&seed, len - off);
		size_t pos = 0;
		while (pos < n) {
			struct pd_frame f;
			size_t used;
			int st = pd_frame_reader_feed(&r, in + off + pos, n - pos, &used, &f);
			if (used > n - pos)
				abort(); /* the reader claims bytes it was not given */
			pos += used;
			if (st == PD_FRAME_READY) {
				if ((f.h.length == 0) != (f.data == NULL))
					abort();
				handle(&f);
				free(f.data);
			} else if (st == PD_FRAME_OVERSIZED) {
				if (f.data || f.h.length <= (limit ? limit : PD_TTRPC_MAX_DATA))
					abort();
			} else if (st == PD_FRAME_NOMEM) {
				pd_frame_reader_reset(&r);
				break;
			} else if (pos != n) {
				abort(); /* NEED_MORE must consume all input */
			}
		}
		off += n;
	}
	pd_frame_reader_reset(&r);
	return 0;
}
