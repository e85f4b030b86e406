/* The ttRPC frame reader: headers, frames in any pieces, limits, and the spec's worked
 * Health.Check bytes (docs: kata-agent-protocol.md §1.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ttrpc/frame.h"
#include "health.pb-c.h"
#include "ttrpc.pb-c.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* Append one frame (header + body filled with a pattern that depends on the stream id). */
static size_t put_frame(uint8_t *buf, uint32_t len, uint32_t stream, uint8_t type,
			uint8_t flags)
{
	struct pd_frame_header h = {len, stream, type, flags};
	pd_frame_header_encode(buf, &h);
	for (uint32_t i = 0; i < len; i++)
		buf[PD_TTRPC_HEADER_LEN + i] = (uint8_t)(stream * 31 + i);
	return PD_TTRPC_HEADER_LEN + len;
}

static void check_body(const struct pd_frame *f)
{
	for (uint32_t i = 0; i < f->h.length; i++)
		assert_int_equal(f->data[i], (uint8_t)(f->h.stream_id * 31 + i));
}

/* Feed buf in pieces of `piece` bytes; collect at most max frames. Returns the count. */
static size_t feed_pieces(struct pd_frame_reader *r, const uint8_t *buf, size_t len,
			  size_t piece, struct pd_frame *frames, size_t max)
{
	size_t n = 0;
	for (size_t off = 0; off < len;) {
		size_t chunk = len - off < piece ? len - off : piece;
		size_t pos = 0;
		while (pos < chunk) {
			size_t used;
			struct pd_frame f;
			int st = pd_frame_reader_feed(r, buf + off + pos, chunk - pos, &used, &f);
			assert_true(st >= 0);
			assert_true(used <= chunk - pos);
			pos += used;
			if (st == PD_FRAME_READY || st == PD_FRAME_OVERSIZED) {
				assert_true(n < max);
				frames[n++] = f;
			} else {
				assert_int_equal(pos, chunk); /* NEED_MORE consumes everything */
			}
		}
		off += chunk;
	}
	return n;
}

static void free_frames(struct pd_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(frames[i].data);
}

/* ---- header ----------------------------------------------------------------------------- */

static void test_header_encode_decode(void **state)
{
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd1, 0x02, 0x05};
	struct pd_frame_header h = {0x01020304, 0xa0b0c0d1, 2, 5}, back;
	uint8_t out[PD_TTRPC_HEADER_LEN];
	pd_frame_header_encode(out, &h);
	assert_memory_equal(out, want, sizeof(want));
	pd_frame_header_decode(out, &back);
	assert_int_equal(back.length, 0x01020304);
	assert_int_equal(back.stream_id, 0xa0b0c0d1);
	assert_int_equal(back.type, 2);
	assert_int_equal(back.flags, 5);
}

/* ---- the worked example of the spec -------------------------------------------------------- */

static const uint8_t check_frame[] = {
	0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, /* header */
	0x0a, 0x0b, 'g', 'r', 'p', 'c', '.', 'H', 'e', 'a', 'l', 't', 'h',
	0x12, 0x05, 'C', 'h', 'e', 'c', 'k',
};

static void test_spec_check_request_bytes(void **state)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = "grpc.Health";
	req.method = "Check";
	uint8_t body[64];
	assert_int_equal(ttrpc__request__get_packed_size(&req), 20);
	assert_int_equal(ttrpc__request__pack(&req, body), 20);
	assert_memory_equal(body, check_frame + PD_TTRPC_HEADER_LEN, 20);

	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	pd_frame_reader_init(&r, 0);
	assert_int_equal(pd_frame_reader_feed(&r, check_frame, sizeof(check_frame), &used, &f),
			 PD_FRAME_READY);
	assert_int_equal(used, sizeof(check_frame));
	assert_int_equal(f.h.length, 20);
	assert_int_equal(f.h.stream_id, 1);
	assert_int_equal(f.h.type, PD_TTRPC_REQUEST);
	assert_int_equal(f.h.flags, 0);

	Ttrpc__Request *got = ttrpc__request__unpack(NULL, f.h.length, f.data);
	assert_non_null(got);
	assert_string_equal(got->service, "grpc.Health");
	assert_string_equal(got->method, "Check");
	assert_int_equal(got->payload.len, 0);
	assert_int_equal(got->timeout_nano, 0);
	assert_int_equal(got->n_metadata, 0);
	ttrpc__request__free_unpacked(got, NULL);
	free(f.data);
	pd_frame_reader_reset(&r);
}

static void test_spec_check_response_bytes(void **state)
{
	static const uint8_t want[] = {0x0a, 0x00, 0x12, 0x02, 0x08, 0x01};
	static const uint8_t hdr[] = {0, 0, 0, 6, 0, 0, 0, 1, 2, 0};
	Google__Rpc__Status ok = GOOGLE__RPC__STATUS__INIT;
	Grpc__HealthCheckResponse hc = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	hc.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	uint8_t inner[8], body[16], h[PD_TTRPC_HEADER_LEN];
	size_t inner_len = grpc__health_check_response__pack(&hc, inner);

	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.status = &ok;
	resp.payload.data = inner;
	resp.payload.len = inner_len;
	size_t n = ttrpc__response__pack(&resp, body);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(body, want, sizeof(want));
	struct pd_frame_header fh = {(uint32_t)n, 1, PD_TTRPC_RESPONSE, 0};
	pd_frame_header_encode(h, &fh);
	assert_memory_equal(h, hdr, sizeof(hdr));

	Ttrpc__Response *got = ttrpc__response__unpack(NULL, sizeof(want), want);
	assert_non_null(got);
	assert_non_null(got->status);
	assert_int_equal(got->status->code, 0);
	Grpc__HealthCheckResponse *g =
		grpc__health_check_response__unpack(NULL, got->payload.len, got->payload.data);
	assert_non_null(g);
	assert_int_equal(g->status, 1);
	grpc__health_check_response__free_unpacked(g, NULL);
	ttrpc__response__free_unpacked(got, NULL);
}

static void test_spec_error_response_bytes(void **state)
{
	static const uint8_t want[] = {0x0a, 0x05, 0x08, 0x05, 0x12, 0x01, 0x78};
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	st.code = 5;
	st.message = "x";
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.status = &st;
	uint8_t body[16];
	assert_int_equal(ttrpc__response__pack(&resp, body), sizeof(want));
	assert_memory_equal(body, want, sizeof(want));

	Ttrpc__Response *got = ttrpc__response__unpack(NULL, sizeof(want), want);
	assert_non_null(got);
	assert_int_equal(got->status->code, 5);
	assert_string_equal(got->status->message, "x");
	assert_int_equal(got->payload.len, 0);
	ttrpc__response__free_unpacked(got, NULL);
}

/* ---- pieces ----------------------------------------------------------------------------- */

static void test_split_at_every_boundary(void **state)
{
	uint8_t buf[1024];
	size_t len = 0;
	len += put_frame(buf + len, 0, 1, PD_TTRPC_REQUEST, 0);
	len += put_frame(buf + len, 20, 3, PD_TTRPC_REQUEST, 0);
	len += put_frame(buf + len, 300, 5, PD_TTRPC_DATA, PD_TTRPC_FLAG_REMOTE_CLOSED);
	len += put_frame(buf + len, 1, 7, PD_TTRPC_REQUEST, 0);

	for (size_t split = 0; split <= len; split++) {
		struct pd_frame_reader r;
		struct pd_frame frames[8];
		size_t n;
		pd_frame_reader_init(&r, 0);
		n = feed_pieces(&r, buf, split, len, frames, 8);
		n += feed_pieces(&r, buf + split, len - split, len, frames + n, 8 - n);
		assert_int_equal(n, 4);
		static const uint32_t lens[] = {0, 20, 300, 1}, ids[] = {1, 3, 5, 7};
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(frames[i].h.length, lens[i]);
			assert_int_equal(frames[i].h.stream_id, ids[i]);
			check_body(&frames[i]);
		}
		assert_int_equal(frames[2].h.type, PD_TTRPC_DATA);
		assert_int_equal(frames[2].h.flags, PD_TTRPC_FLAG_REMOTE_CLOSED);
		assert_false(pd_frame_reader_busy(&r));
		free_frames(frames, n);
		pd_frame_reader_reset(&r);
	}
}

static void test_one_byte_at_a_time(void **state)
{
	uint8_t buf[512];
	size_t len = put_frame(buf, 200, 9, PD_TTRPC_REQUEST, 0);
	len += put_frame(buf + len, 0, 11, PD_TTRPC_REQUEST, 0);
	struct pd_frame_reader r;
	struct pd_frame frames[2];
	pd_frame_reader_init(&r, 0);
	assert_int_equal(feed_pieces(&r, buf, len, 1, frames, 2), 2);
	check_body(&frames[0]);
	assert_int_equal(frames[1].h.stream_id, 11);
	free_frames(frames, 2);
	pd_frame_reader_reset(&r);
}

static void test_many_frames_coalesced(void **state)
{
	enum { N = 1000 };
	uint8_t *buf = malloc(N * (PD_TTRPC_HEADER_LEN + 64));
	struct pd_frame *frames = calloc(N, sizeof(*frames));
	assert_non_null(buf);
	assert_non_null(frames);
	size_t len = 0;
	for (uint32_t i = 0; i < N; i++)
		len += put_frame(buf + len, i % 64, 2 * i + 1, PD_TTRPC_REQUEST, 0);

	struct pd_frame_reader r;
	pd_frame_reader_init(&r, 0);
	assert_int_equal(feed_pieces(&r, buf, len, len, frames, N), N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(frames[i].h.stream_id, 2 * i + 1);
		assert_int_equal(frames[i].h.length, i % 64);
		if (frames[i].h.length == 0)
			assert_null(frames[i].data);
		check_body(&frames[i]);
	}
	free_frames(frames, N);
	free(frames);
	free(buf);
	pd_frame_reader_reset(&r);
}

static void test_zero_length_frame(void **state)
{
	uint8_t buf[PD_TTRPC_HEADER_LEN];
	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	put_frame(buf, 0, 13, PD_TTRPC_DATA, PD_TTRPC_FLAG_NO_DATA | PD_TTRPC_FLAG_REMOTE_CLOSED);
	pd_frame_reader_init(&r, 0);
	assert_int_equal(pd_frame_reader_feed(&r, buf, sizeof(buf), &used, &f), PD_FRAME_READY);
	assert_int_equal(used, sizeof(buf));
	assert_int_equal(f.h.length, 0);
	assert_null(f.data);
	assert_int_equal(f.h.flags, PD_TTRPC_FLAG_NO_DATA | PD_TTRPC_FLAG_REMOTE_CLOSED);
	assert_false(pd_frame_reader_busy(&r));
}

/* The reader knows bytes, not rules: odd types, even or repeated stream ids and unknown
 * flags reach the server, which answers them (tested in the integration tests). */
static void test_bad_types_and_ids_pass_through(void **state)
{
	uint8_t buf[128];
	size_t len = put_frame(buf, 4, 2, 7, 0xff);
	len += put_frame(buf + len, 4, 2, PD_TTRPC_REQUEST, 0);
	len += put_frame(buf + len, 0, 0, 0, 0);
	struct pd_frame_reader r;
	struct pd_frame frames[3];
	pd_frame_reader_init(&r, 0);
	assert_int_equal(feed_pieces(&r, buf, len, 5, frames, 3), 3);
	assert_int_equal(frames[0].h.type, 7);
	assert_int_equal(frames[0].h.flags, 0xff);
	assert_int_equal(frames[0].h.stream_id, 2);
	assert_int_equal(frames[1].h.stream_id, 2);
	assert_int_equal(frames[2].h.type, 0);
	check_body(&frames[0]);
	free_frames(frames, 3);
}

/* ---- limits ----------------------------------------------------------------------------- */

static void test_oversized_drained_then_next_frame(void **state)
{
	const uint32_t big = PD_TTRPC_MAX_DATA + 1;
	const size_t piece = 64 * 1024;
	uint8_t *chunk = calloc(1, piece + 64);
	assert_non_null(chunk);
	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	int reported = 0;

	pd_frame_reader_init(&r, 0);
	struct pd_frame_header h = {big, 7, PD_TTRPC_REQUEST, 0};
	pd_frame_header_encode(chunk, &h);
	assert_int_equal(pd_frame_reader_feed(&r, chunk, PD_TTRPC_HEADER_LEN, &used, &f),
			 PD_FRAME_NEED_MORE);

	size_t left = big;
	while (left > 0) {
		size_t n = left < piece ? left : piece;
		size_t total = n;
		if (n == left) /* the tail of the big body and a whole Check in one read */
			total += put_frame(chunk + n, 3, 9, PD_TTRPC_REQUEST, 0);
		size_t pos = 0;
		while (pos < total) {
			int st = pd_frame_reader_feed(&r, chunk + pos, total - pos, &used, &f);
			pos += used;
			if (st == PD_FRAME_OVERSIZED) {
				reported++;
				assert_int_equal(f.h.stream_id, 7);
				assert_int_equal(f.h.length, big);
				assert_null(f.data);
				assert_int_equal(pos, n);
			} else if (st == PD_FRAME_READY) {
				assert_int_equal(reported, 1);
				assert_int_equal(f.h.stream_id, 9);
				assert_int_equal(f.h.length, 3);
				check_body(&f);
				free(f.data);
				reported++;
			} else {
				assert_int_equal(st, PD_FRAME_NEED_MORE);
				assert_int_equal(r.body_cap, 0); /* drained, never stored */
			}
		}
		left -= n;
	}
	assert_int_equal(reported, 2);
	assert_false(pd_frame_reader_busy(&r));
	free(chunk);
}

static void test_exactly_max_is_allowed(void **state)
{
	const uint32_t max = PD_TTRPC_MAX_DATA;
	uint8_t *buf = malloc(PD_TTRPC_HEADER_LEN + max);
	assert_non_null(buf);
	put_frame(buf, max, 21, PD_TTRPC_REQUEST, 0);
	struct pd_frame_reader r;
	struct pd_frame frames[1];
	pd_frame_reader_init(&r, 0);
	assert_int_equal(feed_pieces(&r, buf, PD_TTRPC_HEADER_LEN + max, 100000, frames, 1), 1);
	assert_int_equal(frames[0].h.length, max);
	assert_non_null(frames[0].data);
	check_body(&frames[0]);
	free_frames(frames, 1);
	free(buf);
}

static void test_custom_limit(void **state)
{
	uint8_t buf[64];
	size_t len = put_frame(buf, 17, 1, PD_TTRPC_REQUEST, 0);
	len += put_frame(buf + len, 16, 3, PD_TTRPC_REQUEST, 0);
	struct pd_frame_reader r;
	struct pd_frame frames[2];
	pd_frame_reader_init(&r, 16);
	assert_int_equal(feed_pieces(&r, buf, len, 3, frames, 2), 2);
	assert_null(frames[0].data); /* 17 > 16: drained */
	assert_int_equal(frames[0].h.stream_id, 1);
	assert_int_equal(frames[1].h.length, 16);
	check_body(&frames[1]);
	free_frames(frames, 2);
}

/* A peer that announces 4 MiB and trickles bytes holds memory in proportion to what it
 * sent (with a 4 KiB floor for the first allocation), not to what it announced. */
static void test_slow_body_memory_proportional(void **state)
{
	uint8_t buf[PD_TTRPC_HEADER_LEN];
	uint8_t piece[1000];
	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	memset(piece, 0x5a, sizeof(piece));
	struct pd_frame_header h = {PD_TTRPC_MAX_DATA, 1, PD_TTRPC_REQUEST, 0};
	pd_frame_header_encode(buf, &h);
	pd_frame_reader_init(&r, 0);
	assert_int_equal(pd_frame_reader_feed(&r, buf, sizeof(buf), &used, &f),
			 PD_FRAME_NEED_MORE);
	assert_int_equal(r.body_cap, 0);
	for (size_t got = 0; got < 300000; got += sizeof(piece)) {
		assert_int_equal(pd_frame_reader_feed(&r, piece, sizeof(piece), &used, &f),
				 PD_FRAME_NEED_MORE);
		size_t have = got + sizeof(piece);
		size_t bound = have * 2 > 4096 ? have * 2 : 4096;
		assert_true(r.body_cap >= have);
		assert_true(r.body_cap <= bound);
	}
	assert_true(pd_frame_reader_busy(&r));
	pd_frame_reader_reset(&r);
}

static void test_huge_length_is_not_allocated(void **state)
{
	uint8_t buf[PD_TTRPC_HEADER_LEN + 100] = {0};
	struct pd_frame_header h = {UINT32_MAX, 1, PD_TTRPC_REQUEST, 0};
	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	pd_frame_header_encode(buf, &h);
	pd_frame_reader_init(&r, 0);
	assert_int_equal(pd_frame_reader_feed(&r, buf, sizeof(buf), &used, &f),
			 PD_FRAME_NEED_MORE);
	assert_int_equal(used, sizeof(buf));
	assert_int_equal(r.body_cap, 0);
	assert_true(pd_frame_reader_busy(&r));
	pd_frame_reader_reset(&r);
}

static void test_reset_mid_frame(void **state)
{
	uint8_t buf[256];
	size_t len = put_frame(buf, 100, 1, PD_TTRPC_REQUEST, 0);
	struct pd_frame_reader r;
	struct pd_frame f;
	size_t used;
	pd_frame_reader_init(&r, 0);
	assert_false(pd_frame_reader_busy(&r));
	assert_int_equal(pd_frame_reader_feed(&r, buf, 5, &used, &f), PD_FRAME_NEED_MORE);
	assert_true(pd_frame_reader_busy(&r)); /* inside a header */
	pd_frame_reader_reset(&r);
	assert_false(pd_frame_reader_busy(&r));
	assert_int_equal(pd_frame_reader_feed(&r, buf, len - 1, &used, &f), PD_FRAME_NEED_MORE);
	assert_true(pd_frame_reader_busy(&r)); /* inside a body */
	pd_frame_reader_reset(&r);              /* frees the partial body (ASan would tell) */
	assert_false(pd_frame_reader_busy(&r));

	len = put_frame(buf, 40, 3, PD_TTRPC_REQUEST, 0);
	assert_int_equal(pd_frame_reader_feed(&r, buf, len, &used, &f), PD_FRAME_READY);
	assert_int_equal(f.h.stream_id, 3);
	check_body(&f);
	free(f.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_encode_decode),
		cmocka_unit_test(test_spec_check_request_bytes),
		cmocka_unit_test(test_spec_check_response_bytes),
		cmocka_unit_test(test_spec_error_response_bytes),
		cmocka_unit_test(test_split_at_every_boundary),
		cmocka_unit_test(test_one_byte_at_a_time),
		cmocka_unit_test(test_many_frames_coalesced),
		cmocka_unit_test(test_zero_length_frame),
		cmocka_unit_test(test_bad_types_and_ids_pass_through),
		cmocka_unit_test(test_oversized_drained_then_next_frame),
		cmocka_unit_test(test_exactly_max_is_allowed),
		cmocka_unit_test(test_custom_limit),
		cmocka_unit_test(test_slow_body_memory_proportional),
		cmocka_unit_test(test_huge_length_is_not_allocated),
		cmocka_unit_test(test_reset_mid_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
