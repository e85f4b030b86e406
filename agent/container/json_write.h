/* A small JSON writer into a growable buffer, for the files we write for others to read
 * (state.json). Compact output, no whitespace, like Go's encoding/json.
 *
 * Errors are sticky: every call returns -1 once the writer has failed (out of memory, over
 * its size limit, or a misuse such as a value in an object without a key) and writes nothing
 * more, so a caller can emit a whole document and check once with pd_json_finish().
 *
 * Strings: '"' and '\\' are escaped, control bytes use \b \f \n \r \t or \u00XX, DEL is
 * \u007f; valid UTF-8 passes through as is. Each byte that is not part of a valid UTF-8
 * sequence (overlong forms, surrogates, > U+10FFFF, cut sequences) becomes \ufffd — what Go's
 * encoding/json does, so our files read like runc's, and any strict JSON parser accepts them. */
#ifndef PD_CONTAINER_JSON_WRITE_H
#define PD_CONTAINER_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

#define PD_JSON_MAX_DEPTH 32

struct pd_json {
	char *buf; /* NUL-terminated while no error; owned */
	size_t len, cap;
	size_t limit;	   /* bytes of output allowed */
	int error;	   /* errno of the first failure, 0 while all is well */
	int depth;	   /* open objects and arrays */
	uint32_t objects;  /* bit d: the container at depth d is an object */
	uint32_t nonempty; /* bit d: it has a member already (the next needs a comma) */
	bool after_key;	   /* a key was written, its value comes next */
};

void pd_json_init(struct pd_json *j, size_t limit);
void pd_json_free(struct pd_json *j);

int pd_json_begin_object(struct pd_json *j);
int pd_json_end_object(struct pd_json *j);
int pd_json_begin_array(struct pd_json *j);
int pd_json_end_array(struct pd_json *j);

/* A member name; the next call writes its value. */
int pd_json_key(struct pd_json *j, const char *key);

int pd_json_string(struct pd_json *j, const char *s); /* NULL writes null */
int pd_json_string_n(struct pd_json *j, const char *s, size_t n);
int pd_json_int(struct pd_json *j, int64_t v);
int pd_json_uint(struct pd_json *j, uint64_t v);
int pd_json_bool(struct pd_json *j, bool v);
int pd_json_null(struct pd_json *j);

/* Shorthands for "key": value. */
int pd_json_kv_string(struct pd_json *j, const char *key, const char *s);
int pd_json_kv_int(struct pd_json *j, const char *key, int64_t v);
int pd_json_kv_uint(struct pd_json *j, const char *key, uint64_t v);
int pd_json_kv_bool(struct pd_json *j, const char *key, bool v);

/* 0 when the writer holds one complete document; else fills err (ENOMEM, EFBIG over the
 * limit, EINVAL for a misuse or a document left open). */
int pd_json_finish(struct pd_json *j, struct pd_error *err);

#endif
