#include "frame.h"

#include <stdlib.h>
#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pd_frame_header_encode(uint8_t out[PD_TTRPC_HEADER_LEN], const struct pd_frame_header *h)
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void pd_frame_header_decode(const uint8_t in[PD_TTRPC_HEADER_LEN], struct pd_frame_header *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

void pd_frame_reader_init(struct pd_frame_reader *r, uint32_t max_data)
{
	memset(r, 0, sizeof(*r));
	r->max_data = max_data ? max_data : PD_TTRPC_MAX_DATA;
}

void pd_frame_reader_reset(struct pd_frame_reader *r)
{
	uint32_t max = r->max_data;
	free(r->body);
	pd_frame_reader_init(r, max);
}

bool pd_frame_reader_busy(const struct pd_frame_reader *r)
{
	return r->hdr_have > 0;
}

/* Grow the body buffer to hold `need` bytes, doubling so that a body arriving in many
 * small reads is copied O(log n) times, never past the announced length. */
static int body_reserve(struct pd_frame_reader *r, size_t need)
{
	if (need <= r->body_cap)
		return 0;
	size_t cap = r->body_cap ? r->body_cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > r->h.length)
		cap = r->h.length;
	uint8_t *p = realloc(r->body, cap);
	if (!p)
		return -1;
	r->body = p;
	r->body_cap = cap;
	return 0;
}

/* Hand the finished frame out and make the reader ready for the next header. */
static int finish(struct pd_frame_reader *r, struct pd_frame *out, int status)
{
	out->h = r->h;
	out->data = status == PD_FRAME_READY ? r->body : NULL;
	if (status != PD_FRAME_READY)
		free(r->body);
	r->body = NULL;
	r->body_cap = r->body_have = 0;
	r->hdr_have = 0;
	r->draining = false;
	return status;
}

int pd_frame_reader_feed(struct pd_frame_reader *r, const uint8_t *buf, size_t len,
			 size_t *used, struct pd_frame *out)
{
	size_t pos = 0;
	*used = 0;
	while (pos < len) {
		if (r->hdr_have < PD_TTRPC_HEADER_LEN) {
			size_t take = PD_TTRPC_HEADER_LEN - r->hdr_have;
			if (take > len - pos)
				take = len - pos;
			memcpy(r->hdr + r->hdr_have, buf + pos, take);
			r->hdr_have += take;
			pos += take;
			if (r->hdr_have < PD_TTRPC_HEADER_LEN)
				break;
			pd_frame_header_decode(r->hdr, &r->h);
			r->draining = r->h.length > r->max_data;
		}
		size_t want = r->h.length - r->body_have;
		size_t take = want < len - pos ? want : len - pos;
		if (!r->draining && take > 0) {
			if (body_reserve(r, r->body_have + take) < 0) {
				*used = pos;
				return PD_FRAME_NOMEM;
			}
			memcpy(r->body + r->body_have, buf + pos, take);
		}
		r->body_have += take;
		pos += take;
		if (r->body_have == r->h.length) {
			*used = pos;
			return finish(r, out, r->draining ? PD_FRAME_OVERSIZED : PD_FRAME_READY);
		}
	}
	*used = pos;
	return PD_FRAME_NEED_MORE;
}
