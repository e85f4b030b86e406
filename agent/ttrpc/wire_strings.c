/* String fields checked (requests) and repaired (replies) in their encoded bytes.
 *
 * Why the encoded bytes: protobuf-c decodes a string into a NUL-terminated char* and keeps
 * no length, so once a request is decoded an embedded NUL cannot be told from the end of
 * the string ("ctr\0x" is just "ctr"), whatever walk over the decoded message we do. The
 * wire still has every string with its length. So dispatch decodes the request as before
 * (a payload that does not decode is refused for that), then walks the same bytes with the
 * method's input descriptor: a length-delimited field that the descriptor calls a string is
 * checked (UTF-8, no NUL), one it calls a message — a nested message, an element of a
 * repeated one, a map entry (a message {key, value}) — is walked with that message's
 * descriptor. Every occurrence is checked, also of a field sent twice (decoding keeps the
 * last). One generic walk covers every RPC and every field of it, present and future,
 * in one pass over bytes already in memory.
 *
 * Replies are walked the same way after packing, and a byte that is not valid UTF-8 is
 * replaced by '?' in place: the length prefixes stay right, and whatever a handler put in
 * a reply (a file name, an interface name read from the guest), the Go client decodes it. */
#include "agent/ttrpc/wire_strings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum mode { CHECK, REPAIR };

struct walk {
	enum mode mode;
	long repaired;
	const char *path[PD_WIRE_MAX_DEPTH + 1]; /* field names from the top, for messages */
	char *why;
	size_t why_size;
};

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if there is none. */
static size_t seq_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c < 0xC2) /* a continuation byte, or C0/C1: an overlong 2-byte form */
		return 0;
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		lo = c == 0xE0 ? 0xA0 : lo; /* overlong */
		hi = c == 0xED ? 0x9F : hi; /* UTF-16 surrogates */
	} else if (c < 0xF5) {
		len = 4;
		lo = c == 0xF0 ? 0x90 : lo; /* overlong */
		hi = c == 0xF4 ? 0x8F : hi; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

bool pd_utf8_valid(const uint8_t *s, size_t n, size_t *bad)
{
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(s + i, n - i);
		if (l == 0) {
			if (bad)
				*bad = i;
			return false;
		}
		i += l;
	}
	return true;
}

size_t pd_utf8_repair(uint8_t *s, size_t n)
{
	size_t replaced = 0;
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(s + i, n - i);
		if (l == 0) {
			s[i] = '?';
			replaced++;
			l = 1;
		}
		i += l;
	}
	return replaced;
}

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Fill why with the field's path and what is wrong; -1. */
__attribute__((format(printf, 4, 5))) static int fail(struct walk *w, int depth, const char *name,
						      const char *fmt, ...)
{
	if (!w->why)
		return -1;
	size_t o = 0;
	for (int i = 0; i < depth && o < w->why_size; i++)
		o += (size_t)snprintf(w->why + o, w->why_size - o, "%s.", w->path[i]);
	if (o < w->why_size)
		o += (size_t)snprintf(w->why + o, w->why_size - o, "%s: ", name);
	if (o < w->why_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->why + o, w->why_size - o, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int string_field(struct walk *w, int depth, const char *name, uint8_t *s, size_t n)
{
	size_t bad;
	if (w->mode == REPAIR) {
		w->repaired += (long)pd_utf8_repair(s, n);
		return 0;
	}
	const uint8_t *nul = memchr(s, '\0', n);
	if (nul)
		return fail(w, depth, name, "NUL byte at offset %zu (strings may not hold NUL)",
			    (size_t)(nul - s));
	if (!pd_utf8_valid(s, n, &bad))
		return fail(w, depth, name, "not valid UTF-8 (byte %zu)", bad);
	return 0;
}

/* buf is writable only in REPAIR mode (the check casts a const buffer it never writes). */
static int walk(struct walk *w, const ProtobufCMessageDescriptor *desc, uint8_t *p,
		const uint8_t *end, int depth)
{
	if (depth > PD_WIRE_MAX_DEPTH)
		return fail(w, depth - 1, desc->name, "nested deeper than %d messages",
			    PD_WIRE_MAX_DEPTH);
	while (p < end) {
		uint64_t tag, n;
		const uint8_t *q = p;
		if (varint(&q, end, &tag) < 0)
			return fail(w, depth, desc->name, "does not parse (a tag)");
		p = (uint8_t *)q;
		switch (tag & 7) {
		case 0: /* varint */
			if (varint(&q, end, &n) < 0)
				return fail(w, depth, desc->name, "does not parse (a varint)");
			p = (uint8_t *)q;
			continue;
		case 1: /* 64-bit */
		case 5: /* 32-bit */
			n = (tag & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < n)
				return fail(w, depth, desc->name, "does not parse (cut short)");
			p += n;
			continue;
		case 2:
			break;
		default: /* groups: protobuf-c does not decode them either */
			return fail(w, depth, desc->name, "does not parse (wire type %u)",
				    (unsigned)(tag & 7));
		}
		if (varint(&q, end, &n) < 0 || (uint64_t)(end - q) < n)
			return fail(w, depth, desc->name, "does not parse (a length past the end)");
		p = (uint8_t *)q;
		const ProtobufCFieldDescriptor *f =
		    tag >> 3 <= UINT32_MAX
			? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3))
			: NULL;
		int rc = 0;
		if (f && f->type == PROTOBUF_C_TYPE_STRING) {
			rc = string_field(w, depth, f->name, p, (size_t)n);
		} else if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
			w->path[depth] = f->name;
			rc = walk(w, f->descriptor, p, p + n, depth + 1);
		}
		if (rc < 0)
			return -1;
		p += n;
	}
	return 0;
}

int pd_wire_strings_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
			  char *why, size_t why_size)
{
	struct walk w = {.mode = CHECK, .why = why_size ? why : NULL, .why_size = why_size};
	if (why_size)
		why[0] = '\0';
	if (len == 0)
		return 0; /* an empty message (its buf may be NULL: no buf + 0) */
	return walk(&w, desc, (uint8_t *)buf, buf + len, 0);
}

long pd_wire_strings_repair(const ProtobufCMessageDescriptor *desc, uint8_t *buf, size_t len)
{
	struct walk w = {.mode = REPAIR};
	if (len == 0)
		return 0;
	return walk(&w, desc, buf, buf + len, 0) < 0 ? -1 : w.repaired;
}
