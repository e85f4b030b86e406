/* Strings on the wire: every protobuf string field of a message, checked or repaired in its
 * encoded bytes (wire_strings.c says why the encoded bytes and not the decoded message).
 *
 * A request string must be valid UTF-8 without NUL: protobuf says strings are UTF-8 (Go's
 * client refuses a reply that is not, and would refuse to send such a request), and
 * protobuf-c hands strings to C as NUL-terminated char*, so "abc\0def" would silently
 * become "abc". A reply string must be valid UTF-8: one bad byte and the Go runtime cannot
 * decode the reply at all. */
#ifndef PD_TTRPC_WIRE_STRINGS_H
#define PD_TTRPC_WIRE_STRINGS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting deeper than this is refused (protobuf's own default recursion limit). */
#define PD_WIRE_MAX_DEPTH 100

/* s[0..n) is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no cut sequence). If not, *bad (when given) is the offset of the first byte
 * that is not part of a valid sequence. */
bool pd_utf8_valid(const uint8_t *s, size_t n, size_t *bad);

/* Every byte of s[0..n) that is not part of a valid UTF-8 sequence becomes '?': the length
 * does not change. Returns how many bytes were replaced. */
size_t pd_utf8_repair(uint8_t *s, size_t n);

/* Check every string field of the message of type desc encoded in buf[0..len), in nested
 * messages, repeated fields and map entries too, every occurrence. Returns 0, or -1 with
 * why filled: the field's path ("storages.mount_point") and what is wrong with it.
 * Fields the descriptor does not know and bytes fields are not looked at. */
int pd_wire_strings_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
			  char *why, size_t why_size);

/* The same walk, repairing each string in place with pd_utf8_repair. Returns the number of
 * bytes replaced, or -1 if buf does not parse as desc (then nothing is changed beyond the
 * strings already walked). */
long pd_wire_strings_repair(const ProtobufCMessageDescriptor *desc, uint8_t *buf, size_t len);

#endif
