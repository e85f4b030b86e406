#include "json_write.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_json_init(struct pd_json *j, size_t limit)
{
	memset(j, 0, sizeof(*j));
	j->limit = limit;
}

void pd_json_free(struct pd_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static int fail(struct pd_json *j, int errnum)
{
	if (!j->error)
		j->error = errnum;
	return -1;
}

/* Room for n more bytes plus the terminating NUL. Grows by doubling so that a document of
 * many small writes costs O(size); never past the limit. */
static int reserve(struct pd_json *j, size_t n)
{
	if (j->error)
		return -1;
	if (n > j->limit || j->len > j->limit - n)
		return fail(j, EFBIG);
	size_t need = j->len + n + 1;
	if (need <= j->cap)
		return 0;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > j->limit + 1)
		cap = j->limit + 1;
	char *b = realloc(j->buf, cap);
	if (!b)
		return fail(j, ENOMEM);
	j->buf = b;
	j->cap = cap;
	return 0;
}

static int put(struct pd_json *j, const char *s, size_t n)
{
	if (reserve(j, n) < 0)
		return -1;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
	return 0;
}

static int put_char(struct pd_json *j, char c)
{
	return put(j, &c, 1);
}

/* --- structure: commas, keys, nesting ----------------------------------------------------- */

static uint32_t level_bit(const struct pd_json *j)
{
	return 1u << (j->depth - 1);
}

static bool in_object(const struct pd_json *j)
{
	return j->depth > 0 && (j->objects & level_bit(j));
}

/* Everything a value needs before it: a key in an object, a comma between array elements;
 * only one value at the top. */
static int before_value(struct pd_json *j)
{
	if (j->error)
		return -1;
	if (j->depth == 0)
		return j->len ? fail(j, EINVAL) : 0;
	if (in_object(j)) {
		if (!j->after_key)
			return fail(j, EINVAL);
		j->after_key = false;
		return 0;
	}
	if (j->nonempty & level_bit(j))
		return put_char(j, ',');
	return 0;
}

static int after_value(struct pd_json *j)
{
	if (j->error)
		return -1;
	if (j->depth > 0)
		j->nonempty |= level_bit(j);
	return 0;
}

static int begin(struct pd_json *j, bool object)
{
	if (before_value(j) < 0)
		return -1;
	if (j->depth >= PD_JSON_MAX_DEPTH)
		return fail(j, EINVAL);
	if (put_char(j, object ? '{' : '[') < 0)
		return -1;
	j->depth++;
	if (object)
		j->objects |= level_bit(j);
	else
		j->objects &= ~level_bit(j);
	j->nonempty &= ~level_bit(j);
	return 0;
}

static int end(struct pd_json *j, bool object)
{
	if (j->error)
		return -1;
	if (j->depth == 0 || in_object(j) != object || j->after_key)
		return fail(j, EINVAL);
	if (put_char(j, object ? '}' : ']') < 0)
		return -1;
	j->depth--;
	return after_value(j);
}

int pd_json_begin_object(struct pd_json *j)
{
	return begin(j, true);
}

int pd_json_end_object(struct pd_json *j)
{
	return end(j, true);
}

int pd_json_begin_array(struct pd_json *j)
{
	return begin(j, false);
}

int pd_json_end_array(struct pd_json *j)
{
	return end(j, false);
}

/* --- strings ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left, s[0] >= 0x80), or 0. The ranges of
 * the second byte exclude overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The escape for a byte that cannot appear raw, or NULL for one that can. */
static const char *escape_for(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(tmp, 8, "\\u%04x", c);
		return tmp;
	}
	return NULL;
}

/* Copies runs of plain bytes in one go; only bytes that need an escape break a run. */
static int put_escaped(struct pd_json *j, const unsigned char *s, size_t n)
{
	size_t run = 0, i = 0;
	char tmp[8];
	while (i < n) {
		const char *esc = NULL;
		size_t step = 1;
		if (s[i] >= 0x80) {
			step = utf8_seq_len(s + i, n - i);
			if (!step) {
				esc = "\\ufffd";
				step = 1;
			}
		} else {
			esc = escape_for(s[i], tmp);
		}
		if (esc) {
			if (put(j, (const char *)s + run, i - run) < 0 ||
			    put(j, esc, strlen(esc)) < 0)
				return -1;
			run = i + step;
		}
		i += step;
	}
	return put(j, (const char *)s + run, n - run);
}

static int put_string(struct pd_json *j, const char *s, size_t n)
{
	if (put_char(j, '"') < 0 || put_escaped(j, (const unsigned char *)s, n) < 0)
		return -1;
	return put_char(j, '"');
}

int pd_json_key(struct pd_json *j, const char *key)
{
	if (j->error)
		return -1;
	if (!in_object(j) || j->after_key || !key)
		return fail(j, EINVAL);
	if ((j->nonempty & level_bit(j)) && put_char(j, ',') < 0)
		return -1;
	if (put_string(j, key, strlen(key)) < 0 || put_char(j, ':') < 0)
		return -1;
	j->nonempty |= level_bit(j);
	j->after_key = true;
	return 0;
}

int pd_json_string_n(struct pd_json *j, const char *s, size_t n)
{
	if (before_value(j) < 0 || put_string(j, s, n) < 0)
		return -1;
	return after_value(j);
}

int pd_json_string(struct pd_json *j, const char *s)
{
	return s ? pd_json_string_n(j, s, strlen(s)) : pd_json_null(j);
}

/* --- scalars ------------------------------------------------------------------------------ */

static int put_scalar(struct pd_json *j, const char *text)
{
	if (before_value(j) < 0 || put(j, text, strlen(text)) < 0)
		return -1;
	return after_value(j);
}

int pd_json_int(struct pd_json *j, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return put_scalar(j, buf);
}

int pd_json_uint(struct pd_json *j, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return put_scalar(j, buf);
}

int pd_json_bool(struct pd_json *j, bool v)
{
	return put_scalar(j, v ? "true" : "false");
}

int pd_json_null(struct pd_json *j)
{
	return put_scalar(j, "null");
}

int pd_json_kv_string(struct pd_json *j, const char *key, const char *s)
{
	return pd_json_key(j, key) < 0 ? -1 : pd_json_string(j, s);
}

int pd_json_kv_int(struct pd_json *j, const char *key, int64_t v)
{
	return pd_json_key(j, key) < 0 ? -1 : pd_json_int(j, v);
}

int pd_json_kv_uint(struct pd_json *j, const char *key, uint64_t v)
{
	return pd_json_key(j, key) < 0 ? -1 : pd_json_uint(j, v);
}

int pd_json_kv_bool(struct pd_json *j, const char *key, bool v)
{
	return pd_json_key(j, key) < 0 ? -1 : pd_json_bool(j, v);
}

int pd_json_finish(struct pd_json *j, struct pd_error *err)
{
	if (j->error == ENOMEM)
		return pd_error_errno(err, ENOMEM, "json");
	if (j->error == EFBIG)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, EFBIG,
				    "json: document larger than %zu bytes", j->limit);
	if (j->error || j->depth || j->after_key || !j->len)
		return pd_error_set(err, PD_INTERNAL, EINVAL, "json: malformed document built");
	return 0;
}
