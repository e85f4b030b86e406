/* Reading JSON documents we wrote ourselves (state.json) with jsmn: a token array over the
 * text, plus lookups that never trust the document's shape.
 *
 * jsmn is lenient (it does not insist on ':' between a key and its value, nor on commas),
 * so every lookup here checks what it walks: an object's members must be string keys with
 * exactly one value, indexes stay below the token count, and nothing recurses — a document
 * nested 100000 deep costs tokens, not stack. Token indexes are ints; -1 means "absent". */
#ifndef PD_CONTAINER_JSON_READ_H
#define PD_CONTAINER_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

enum pd_json_type {
	PD_JSON_NONE = 0,
	PD_JSON_OBJECT = 1,
	PD_JSON_ARRAY = 2,
	PD_JSON_STRING = 3,
	PD_JSON_PRIMITIVE = 4, /* number, true, false, null */
};

struct pd_json_doc {
	const char *text; /* not owned; must outlive the doc */
	size_t len;
	void *toks; /* jsmntok_t[n]: only json_read.c sees jsmn */
	int n;
};

/* Tokenize text (len bytes) whose top level is an object or array with nothing but
 * whitespace after it. The token array starts small and doubles up to max_tokens; more
 * than that is RESOURCE_EXHAUSTED, bad syntax (or a NUL byte) INVALID_ARGUMENT. */
int pd_json_parse(struct pd_json_doc *d, const char *text, size_t len, size_t max_tokens,
		  struct pd_error *err);
void pd_json_doc_free(struct pd_json_doc *d);

int pd_json_type(const struct pd_json_doc *d, int tok); /* PD_JSON_NONE for -1 */
/* Members of an object, elements of an array; 0 for other tokens. */
int pd_json_count(const struct pd_json_doc *d, int tok);
/* Byte span of a token's raw text: strings without their quotes. */
void pd_json_span(const struct pd_json_doc *d, int tok, size_t *start, size_t *end);

/* The value of member `key` of object obj (the first one, if repeated), or -1. */
int pd_json_get(const struct pd_json_doc *d, int obj, const char *key);
/* Element i of array arr, or -1. */
int pd_json_at(const struct pd_json_doc *d, int arr, size_t i);
/* Member i of object obj: its key token in *key, returns its value token; -1 if none. */
int pd_json_member(const struct pd_json_doc *d, int obj, size_t i, int *key);

/* A string token decoded to UTF-8 (escapes undone; \u0000 and lone surrogates become
 * U+FFFD so the result is a proper C string). malloc'd; NULL if not a string or no memory. */
char *pd_json_str(const struct pd_json_doc *d, int tok);
/* Decoded string equals s. */
bool pd_json_str_eq(const struct pd_json_doc *d, int tok, const char *s);
/* Integers without fraction or exponent, in range; -1 otherwise. */
int pd_json_int64(const struct pd_json_doc *d, int tok, int64_t *out);
int pd_json_uint64(const struct pd_json_doc *d, int tok, uint64_t *out);
bool pd_json_is_literal(const struct pd_json_doc *d, int tok, const char *lit); /* true/null */

#endif
