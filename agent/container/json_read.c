#include "json_read.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The one place jsmn's code is compiled. Strict mode rejects bare words; parent links make
 * closing a bracket cost the depth, not the token count. */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* Deeper than anything we write (state.json nests 4 levels). jsmn itself does not recurse,
 * but closing brackets walks up the parent chain, so unbounded depth would cost
 * O(depth^2); a cheap scan rejects such input before jsmn sees it. */
#define MAX_DEPTH 64

static const jsmntok_t *tok(const struct pd_json_doc *d, int i)
{
	return &((const jsmntok_t *)d->toks)[i];
}

static bool valid(const struct pd_json_doc *d, int i)
{
	return d && d->toks && i >= 0 && i < d->n;
}

/* Bracket depth outside strings; jsmn checks the rest of the syntax. */
static bool depth_ok(const char *s, size_t len)
{
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

/* jsmn reports "not enough tokens" and can be re-run from scratch with a bigger array;
 * restarting (instead of resuming) keeps us independent of its resume semantics. */
static int tokenize(struct pd_json_doc *d, size_t max_tokens, struct pd_error *err)
{
	size_t cap = max_tokens < 256 ? max_tokens : 256;
	for (;;) {
		jsmntok_t *t = realloc(d->toks, cap * sizeof(*t));
		if (!t)
			return pd_error_errno(err, ENOMEM, "json: %zu tokens", cap);
		d->toks = t;
		jsmn_parser p;
		jsmn_init(&p);
		int r = jsmn_parse(&p, d->text, d->len, t, (unsigned)cap);
		if (r >= 0) {
			d->n = r;
			return 0;
		}
		if (r == JSMN_ERROR_PART)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "json: truncated");
		if (r != JSMN_ERROR_NOMEM)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "json: syntax error near byte %u", p.pos);
		if (cap >= max_tokens)
			return pd_error_set(err, PD_RESOURCE_EXHAUSTED, E2BIG,
					    "json: more than %zu tokens", max_tokens);
		cap = cap > max_tokens / 2 ? max_tokens : cap * 2;
	}
}

static int next_sibling(const struct pd_json_doc *d, int i);

static bool skip_digits(const char **p, const char *end)
{
	const char *start = *p;
	while (*p < end && **p >= '0' && **p <= '9')
		(*p)++;
	return *p > start;
}

/* jsmn takes any word starting with a digit, '-', 't', 'f' or 'n' for a primitive; we hold
 * it to JSON's: true, false, null, or -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?. */
static bool primitive_ok(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);
	if ((n == 4 && !memcmp(p, "true", 4)) || (n == 5 && !memcmp(p, "false", 5)) ||
	    (n == 4 && !memcmp(p, "null", 4)))
		return true;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!skip_digits(&p, end))
		return false;
	if (p < end && *p == '.' && (++p, !skip_digits(&p, end)))
		return false;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!skip_digits(&p, end))
			return false;
	}
	return p == end;
}

/* One value at the top, an object or array, and only whitespace after it; every primitive
 * a JSON one. */
static int check_top(struct pd_json_doc *d, struct pd_error *err)
{
	for (int i = 0; i < d->n; i++)
		if (tok(d, i)->type == JSMN_PRIMITIVE &&
		    !primitive_ok(d->text + tok(d, i)->start, d->text + tok(d, i)->end))
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "json: bad value at byte %d", tok(d, i)->start);
	if (d->n < 1 || (tok(d, 0)->type != JSMN_OBJECT && tok(d, 0)->type != JSMN_ARRAY))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "json: top level is not an object or array");
	if (next_sibling(d, 0) != d->n)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "json: several top values");
	for (size_t i = (size_t)tok(d, 0)->end; i < d->len; i++)
		if (!strchr(" \t\r\n", d->text[i]))
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "json: garbage after the document");
	return 0;
}

int pd_json_parse(struct pd_json_doc *d, const char *text, size_t len, size_t max_tokens,
		  struct pd_error *err)
{
	memset(d, 0, sizeof(*d));
	d->text = text;
	d->len = len;
	if (len >= INT_MAX || max_tokens > INT_MAX / sizeof(jsmntok_t))
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, E2BIG, "json: too large");
	if (max_tokens == 0 || memchr(text, '\0', len))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "json: NUL byte in text");
	if (!depth_ok(text, len))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "json: nested deeper than %d",
				    MAX_DEPTH);
	if (tokenize(d, max_tokens, err) < 0 || check_top(d, err) < 0) {
		pd_json_doc_free(d);
		return -1;
	}
	return 0;
}

void pd_json_doc_free(struct pd_json_doc *d)
{
	free(d->toks);
	d->toks = NULL;
	d->n = 0;
}

int pd_json_type(const struct pd_json_doc *d, int i)
{
	return valid(d, i) ? (int)tok(d, i)->type : PD_JSON_NONE;
}

int pd_json_count(const struct pd_json_doc *d, int i)
{
	int t = pd_json_type(d, i);
	return t == PD_JSON_OBJECT || t == PD_JSON_ARRAY ? tok(d, i)->size : 0;
}

void pd_json_span(const struct pd_json_doc *d, int i, size_t *start, size_t *end)
{
	*start = *end = 0;
	if (valid(d, i)) {
		*start = (size_t)tok(d, i)->start;
		*end = (size_t)tok(d, i)->end;
	}
}

/* --- walking ------------------------------------------------------------------------------ */

/* The first token after i's subtree: tokens come in text order, so it is the first one that
 * starts at or after i's end. */
static int next_sibling(const struct pd_json_doc *d, int i)
{
	int end = tok(d, i)->end, j = i + 1;
	while (j < d->n && tok(d, j)->start < end)
		j++;
	return j;
}

/* A member's key at k: a string under obj carrying exactly one value, also under it. */
static bool is_member(const struct pd_json_doc *d, int obj, int k)
{
	return k + 1 < d->n && tok(d, k)->type == JSMN_STRING && tok(d, k)->parent == obj &&
	       tok(d, k)->size == 1 && tok(d, k + 1)->parent == k;
}

int pd_json_member(const struct pd_json_doc *d, int obj, size_t i, int *key)
{
	if (pd_json_type(d, obj) != PD_JSON_OBJECT || i >= (size_t)tok(d, obj)->size)
		return -1;
	int k = obj + 1;
	for (size_t m = 0;; m++) {
		if (!is_member(d, obj, k))
			return -1;
		if (m == i)
			break;
		k = next_sibling(d, k + 1);
	}
	if (key)
		*key = k;
	return k + 1;
}

int pd_json_get(const struct pd_json_doc *d, int obj, const char *key)
{
	if (pd_json_type(d, obj) != PD_JSON_OBJECT)
		return -1;
	int k = obj + 1;
	for (int m = 0; m < tok(d, obj)->size; m++) {
		if (!is_member(d, obj, k))
			return -1;
		if (pd_json_str_eq(d, k, key))
			return k + 1;
		k = next_sibling(d, k + 1);
	}
	return -1;
}

int pd_json_at(const struct pd_json_doc *d, int arr, size_t i)
{
	if (pd_json_type(d, arr) != PD_JSON_ARRAY || i >= (size_t)tok(d, arr)->size)
		return -1;
	int e = arr + 1;
	for (size_t m = 0;; m++) {
		if (e >= d->n || tok(d, e)->parent != arr)
			return -1;
		if (m == i)
			return e;
		e = next_sibling(d, e);
	}
}

/* --- values ------------------------------------------------------------------------------- */

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int x = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (x < 0)
			return -1;
		v = v << 4 | (unsigned)x;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at s (6 bytes or more available up to end): the code point, a surrogate pair
 * joined; *used = bytes consumed. NUL and lone surrogates give U+FFFD. */
static unsigned unicode_escape(const char *s, const char *end, size_t *used)
{
	unsigned hi, lo;
	*used = 6;
	if (end - s < 6 || hex4(s + 2, &hi) < 0) {
		*used = 2;
		return 0xfffd;
	}
	if (hi >= 0xd800 && hi <= 0xdbff && end - s >= 12 && s[6] == '\\' && s[7] == 'u' &&
	    hex4(s + 8, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
		*used = 12;
		return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (hi == 0 || (hi >= 0xd800 && hi <= 0xdfff))
		return 0xfffd;
	return hi;
}

static char simple_escape(char c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return c; /* '"', '\\', '/' (jsmn rejects the others) */
	}
}

/* Decoding never lengthens: an escape of n bytes yields at most n bytes of UTF-8. */
char *pd_json_str(const struct pd_json_doc *d, int i)
{
	if (pd_json_type(d, i) != PD_JSON_STRING)
		return NULL;
	const char *s = d->text + tok(d, i)->start, *end = d->text + tok(d, i)->end;
	char *out = malloc((size_t)(end - s) + 1), *o = out;
	if (!out)
		return NULL;
	while (s < end) {
		if (*s != '\\' || end - s < 2) {
			*o++ = *s++;
		} else if (s[1] == 'u') {
			size_t used;
			o += put_utf8(o, unicode_escape(s, end, &used));
			s += used;
		} else {
			*o++ = simple_escape(s[1]);
			s += 2;
		}
	}
	*o = '\0';
	return out;
}

bool pd_json_str_eq(const struct pd_json_doc *d, int i, const char *s)
{
	if (pd_json_type(d, i) != PD_JSON_STRING)
		return false;
	size_t n = (size_t)(tok(d, i)->end - tok(d, i)->start);
	const char *raw = d->text + tok(d, i)->start;
	if (!memchr(raw, '\\', n))
		return strlen(s) == n && memcmp(raw, s, n) == 0;
	char *dec = pd_json_str(d, i);
	bool eq = dec && strcmp(dec, s) == 0;
	free(dec);
	return eq;
}

/* The digits of an integer primitive, copied out (jsmn's text is not NUL-terminated). */
static int number_text(const struct pd_json_doc *d, int i, char buf[32])
{
	if (pd_json_type(d, i) != PD_JSON_PRIMITIVE)
		return -1;
	size_t n = (size_t)(tok(d, i)->end - tok(d, i)->start);
	const char *raw = d->text + tok(d, i)->start;
	if (n == 0 || n >= 32)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (!(raw[k] >= '0' && raw[k] <= '9') && !(k == 0 && raw[k] == '-' && n > 1))
			return -1;
	memcpy(buf, raw, n);
	buf[n] = '\0';
	return 0;
}

int pd_json_int64(const struct pd_json_doc *d, int i, int64_t *out)
{
	char buf[32], *end;
	if (number_text(d, i, buf) < 0)
		return -1;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int pd_json_uint64(const struct pd_json_doc *d, int i, uint64_t *out)
{
	char buf[32], *end;
	if (number_text(d, i, buf) < 0 || buf[0] == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

bool pd_json_is_literal(const struct pd_json_doc *d, int i, const char *lit)
{
	if (pd_json_type(d, i) != PD_JSON_PRIMITIVE)
		return false;
	size_t n = (size_t)(tok(d, i)->end - tok(d, i)->start);
	return strlen(lit) == n && memcmp(d->text + tok(d, i)->start, lit, n) == 0;
}
