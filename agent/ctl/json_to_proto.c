#include "json_to_proto.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/container/json_read.h"
#include "agent/pb_desc.h"

#define PATH_LEN 256
#define RAW_SHOWN 40 /* bytes of a bad number quoted in a message */

struct j2p {
	const struct pd_json_doc *doc;
	const struct pd_j2p_unknown *unknown;
	struct pd_error *err;
	char path[PATH_LEN]; /* where we are, for messages: "linux.namespaces[2].type" */
	size_t path_len;
};

/* ---- where we are ------------------------------------------------------------------------ */

/* Append ".key" (or "key" at the top) or "[i]"; returns the length to go back to. */
static size_t path_push(struct j2p *j, const char *key, size_t index)
{
	size_t old = j->path_len, room = sizeof(j->path) - old;
	int n = key ? snprintf(j->path + old, room, "%s%s", old ? "." : "", key)
		    : snprintf(j->path + old, room, "[%zu]", index);
	if (n > 0)
		j->path_len = (size_t)n < room ? old + (size_t)n : sizeof(j->path) - 1;
	return old;
}

static size_t push_key(struct j2p *j, const char *key)
{
	return path_push(j, key, 0);
}

static size_t push_index(struct j2p *j, size_t i)
{
	return path_push(j, NULL, i);
}

static void path_pop(struct j2p *j, size_t old)
{
	j->path_len = old;
	j->path[old] = '\0';
}

__attribute__((format(printf, 2, 3))) static int bad(struct j2p *j, const char *fmt, ...)
{
	char msg[PD_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pd_error_set(j->err, PD_INVALID_ARGUMENT, EINVAL, "%s: %s",
			    j->path_len ? j->path : "top level", msg);
}

static int no_memory(struct j2p *j)
{
	return pd_error_set(j->err, PD_RESOURCE_EXHAUSTED, ENOMEM, "%s: out of memory",
			    j->path_len ? j->path : "top level");
}

/* ---- looking at tokens ------------------------------------------------------------------- */

static const char *kind(const struct pd_json_doc *d, int tok)
{
	switch (pd_json_type(d, tok)) {
	case PD_JSON_OBJECT:
		return "an object";
	case PD_JSON_ARRAY:
		return "an array";
	case PD_JSON_STRING:
		return "a string";
	case PD_JSON_PRIMITIVE:
		if (pd_json_is_literal(d, tok, "true") || pd_json_is_literal(d, tok, "false"))
			return "a boolean";
		return pd_json_is_literal(d, tok, "null") ? "null" : "a number";
	default:
		return "nothing";
	}
}

static bool is_number(const struct pd_json_doc *d, int tok)
{
	return strcmp(kind(d, tok), "a number") == 0;
}

/* The token's text, cut to fit buf (jsmn's text is not NUL-terminated). */
static void raw_text(const struct pd_json_doc *d, int tok, char *buf, size_t size)
{
	size_t start, end;
	pd_json_span(d, tok, &start, &end);
	size_t n = end - start < size - 1 ? end - start : size - 1;
	memcpy(buf, d->text + start, n);
	buf[n] = '\0';
}

/* ---- fields ------------------------------------------------------------------------------ */

/* Where the OCI JSON name is not the Go struct's field name (and so not the proto's). */
static const struct {
	const char *message, *key, *field;
} aliases[] = {
	{"grpc.Spec", "ociVersion", "Version"},
};

/* Equal ignoring case and '_': "noNewPrivileges" ~ "NoNewPrivileges", "linux" ~ "Linux_". */
static bool loose_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *key)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(d->name, aliases[i].message) == 0 && strcmp(key, aliases[i].key) == 0)
			return protobuf_c_message_descriptor_get_field_by_name(d, aliases[i].field);
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
	for (unsigned i = 0; !f && i < d->n_fields; i++)
		if (loose_equal(key, d->fields[i].name))
			f = &d->fields[i];
	return f;
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

/* ---- scalars ----------------------------------------------------------------------------- */

/* Why an integer token was refused: a fraction or exponent, or its size. */
static int bad_integer(struct j2p *j, int tok, const char *type_name)
{
	char raw[RAW_SHOWN];
	raw_text(j->doc, tok, raw, sizeof(raw));
	if (strpbrk(raw, ".eE"))
		return bad(j, "%s is not an integer (%s)", raw, type_name);
	return bad(j, "%s is out of range for %s", raw, type_name);
}

static int signed_value(struct j2p *j, int tok, int64_t lo, int64_t hi, const char *type_name,
			int64_t *out)
{
	if (!is_number(j->doc, tok))
		return bad(j, "wants an integer (%s), not %s", type_name, kind(j->doc, tok));
	if (pd_json_int64(j->doc, tok, out) < 0 || *out < lo || *out > hi)
		return bad_integer(j, tok, type_name);
	return 0;
}

static int unsigned_value(struct j2p *j, int tok, uint64_t hi, const char *type_name,
			  uint64_t *out)
{
	if (!is_number(j->doc, tok))
		return bad(j, "wants an integer (%s), not %s", type_name, kind(j->doc, tok));
	if (pd_json_uint64(j->doc, tok, out) < 0 || *out > hi)
		return bad_integer(j, tok, type_name);
	return 0;
}

/* A number, or protobuf JSON's "NaN", "Infinity", "-Infinity". */
static int float_value(struct j2p *j, int tok, bool single, double *out)
{
	char raw[64];
	raw_text(j->doc, tok, raw, sizeof(raw));
	if (pd_json_type(j->doc, tok) == PD_JSON_STRING &&
	    (!strcmp(raw, "NaN") || !strcmp(raw, "Infinity") || !strcmp(raw, "-Infinity"))) {
		*out = raw[0] == 'N' ? NAN : raw[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (!is_number(j->doc, tok))
		return bad(j, "wants a number, not %s", kind(j->doc, tok));
	errno = 0;
	*out = strtod(raw, NULL);
	if (errno == ERANGE && fabs(*out) > 1.0)
		return bad(j, "%s is out of range for double", raw);
	if (single && fabs(*out) > FLT_MAX)
		return bad(j, "%s is out of range for float", raw);
	return 0;
}

static int bool_value(struct j2p *j, int tok, protobuf_c_boolean *out)
{
	if (pd_json_is_literal(j->doc, tok, "true") || pd_json_is_literal(j->doc, tok, "false")) {
		*out = pd_json_is_literal(j->doc, tok, "true");
		return 0;
	}
	return bad(j, "wants true or false, not %s", kind(j->doc, tok));
}

static int enum_value(struct j2p *j, int tok, const ProtobufCEnumDescriptor *e, int *out)
{
	if (is_number(j->doc, tok)) {
		int64_t v;
		if (signed_value(j, tok, INT32_MIN, INT32_MAX, "enum", &v) < 0)
			return -1;
		*out = (int)v;
		return 0;
	}
	char *name = pd_json_str(j->doc, tok);
	if (!name)
		return pd_json_type(j->doc, tok) == PD_JSON_STRING
			       ? no_memory(j)
			       : bad(j, "wants a %s name, not %s", e->short_name, kind(j->doc, tok));
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(e, name);
	for (unsigned i = 0; !v && i < e->n_values; i++)
		if (strcasecmp(e->values[i].name, name) == 0)
			v = &e->values[i];
	if (v)
		*out = v->value;
	int rc = v ? 0 : bad(j, "'%.64s' is not a %s", name, e->short_name);
	free(name);
	return rc;
}

static int string_value(struct j2p *j, int tok, char **out)
{
	if (pd_json_type(j->doc, tok) != PD_JSON_STRING)
		return bad(j, "wants a string, not %s", kind(j->doc, tok));
	*out = pd_json_str(j->doc, tok);
	return *out ? 0 : no_memory(j);
}

/* ---- bytes: base64, standard or URL alphabet, padding optional --------------------------- */

static int b64_digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int bytes_value(struct j2p *j, int tok, ProtobufCBinaryData *out)
{
	char *s;
	if (string_value(j, tok, &s) < 0)
		return -1;
	size_t n = strlen(s);
	for (int pad = 0; pad < 2 && n > 0 && s[n - 1] == '='; pad++)
		n--;
	uint8_t *data = malloc(n / 4 * 3 + 3);
	size_t len = 0, bits = 0;
	uint32_t acc = 0;
	bool ok = data && n % 4 != 1;
	for (size_t i = 0; ok && i < n; i++) {
		int v = b64_digit(s[i]);
		ok = v >= 0;
		acc = acc << 6 | (uint32_t)(v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			data[len++] = (uint8_t)(acc >> bits);
		}
	}
	free(s);
	if (!ok) {
		bool oom = !data && n % 4 != 1;
		free(data);
		return oom ? no_memory(j) : bad(j, "wants base64 bytes");
	}
	out->data = data;
	out->len = len;
	return 0;
}

/* ---- messages, lists, maps --------------------------------------------------------------- */

static int decode_message(struct j2p *j, int tok, ProtobufCMessage *msg);

/* One value of field f (an element, if f is repeated) into dst, which is left freeable by
 * protobuf_c_message_free_unpacked whatever happens. */
static int decode_value(struct j2p *j, int tok, const ProtobufCFieldDescriptor *f, void *dst)
{
	int64_t s;
	uint64_t u;
	double d;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (signed_value(j, tok, INT32_MIN, INT32_MAX, "int32", &s) < 0)
			return -1;
		*(int32_t *)dst = (int32_t)s;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return signed_value(j, tok, INT64_MIN, INT64_MAX, "int64", (int64_t *)dst);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (unsigned_value(j, tok, UINT32_MAX, "uint32", &u) < 0)
			return -1;
		*(uint32_t *)dst = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return unsigned_value(j, tok, UINT64_MAX, "uint64", (uint64_t *)dst);
	case PROTOBUF_C_TYPE_FLOAT:
		if (float_value(j, tok, true, &d) < 0)
			return -1;
		*(float *)dst = (float)d;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return float_value(j, tok, false, (double *)dst);
	case PROTOBUF_C_TYPE_BOOL:
		return bool_value(j, tok, (protobuf_c_boolean *)dst);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_value(j, tok, f->descriptor, (int *)dst);
	case PROTOBUF_C_TYPE_STRING:
		return string_value(j, tok, (char **)dst);
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_value(j, tok, (ProtobufCBinaryData *)dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		if (pd_json_type(j->doc, tok) != PD_JSON_OBJECT)
			return bad(j, "wants an object, not %s", kind(j->doc, tok));
		if (!(*(ProtobufCMessage **)dst = new_message(f->descriptor)))
			return no_memory(j);
		return decode_message(j, tok, *(ProtobufCMessage **)dst);
	}
	return bad(j, "field type %d is not supported", (int)f->type);
}

/* A zeroed array of n elements hung on the message at once, with its count: NULL strings
 * and messages in it are what free_unpacked skips, so a failure halfway leaks nothing. */
static void *new_array(struct j2p *j, const ProtobufCFieldDescriptor *f, ProtobufCMessage *msg,
		       size_t n, size_t elem)
{
	if (n > PD_J2P_MAX_ELEMS) {
		bad(j, "more than %d elements", PD_J2P_MAX_ELEMS);
		return NULL;
	}
	void *arr = calloc(n ? n : 1, elem);
	if (!arr) {
		no_memory(j);
		return NULL;
	}
	*(void **)((char *)msg + f->offset) = arr;
	*(size_t *)((char *)msg + f->quantifier_offset) = n;
	return arr;
}

static int decode_list(struct j2p *j, int tok, const ProtobufCFieldDescriptor *f,
		       ProtobufCMessage *msg)
{
	if (pd_json_type(j->doc, tok) != PD_JSON_ARRAY)
		return bad(j, "wants an array, not %s", kind(j->doc, tok));
	size_t n = (size_t)pd_json_count(j->doc, tok), size = pd_pb_value_size(f->type);
	char *arr = new_array(j, f, msg, n, size);
	if (!arr)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t old = push_index(j, i);
		int el = pd_json_at(j->doc, tok, i);
		if (el < 0)
			return bad(j, "malformed array");
		if (pd_json_is_literal(j->doc, el, "null"))
			return bad(j, "null in a list");
		if (decode_value(j, el, f, arr + i * size) < 0)
			return -1;
		path_pop(j, old);
	}
	return 0;
}

/* {"k": v, ...} into the map field's entries. Every map in our protos has string keys. */
static int decode_map(struct j2p *j, int tok, const ProtobufCFieldDescriptor *f,
		      ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	if (kf->type != PROTOBUF_C_TYPE_STRING)
		return bad(j, "maps with non-string keys are not supported");
	size_t n = (size_t)pd_json_count(j->doc, tok);
	ProtobufCMessage **arr = new_array(j, f, msg, n, sizeof(*arr));
	if (!arr)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int key, val = pd_json_member(j->doc, tok, i, &key);
		if (val < 0)
			return bad(j, "malformed object");
		if (!(arr[i] = new_message(ed)))
			return no_memory(j);
		char **k = (char **)((char *)arr[i] + kf->offset);
		if (string_value(j, key, k) < 0)
			return -1;
		size_t old = push_key(j, *k);
		if (decode_value(j, val, vf, (char *)arr[i] + vf->offset) < 0)
			return -1;
		path_pop(j, old);
	}
	return 0;
}

/* A present, non-null JSON value for field f of msg. */
static int decode_field(struct j2p *j, int tok, const ProtobufCFieldDescriptor *f,
			ProtobufCMessage *msg)
{
	char *base = (char *)msg;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return pd_pb_is_map_entry(f) && pd_json_type(j->doc, tok) == PD_JSON_OBJECT
			       ? decode_map(j, tok, f, msg)
			       : decode_list(j, tok, f, msg);
	uint32_t *oneof_case = (uint32_t *)(base + f->quantifier_offset);
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *oneof_case != 0)
		return bad(j, "another field of the same oneof is already set");
	if (decode_value(j, tok, f, base + f->offset) < 0) {
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*oneof_case = f->id; /* so that free_unpacked frees what was stored */
		return -1;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*oneof_case = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		 f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	return 0;
}

/* Member i of an object: the field it names, or the unknown-key report. */
static int decode_member(struct j2p *j, int obj, size_t i, ProtobufCMessage *msg, bool *seen)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int key, val = pd_json_member(j->doc, obj, i, &key);
	if (val < 0)
		return bad(j, "malformed object");
	char *name = pd_json_str(j->doc, key);
	if (!name)
		return no_memory(j);
	size_t old = push_key(j, name);
	const ProtobufCFieldDescriptor *f = find_field(d, name);
	free(name);
	int rc = 0;
	if (!f) {
		if (j->unknown && j->unknown->fn)
			j->unknown->fn(j->unknown->ctx, j->path);
	} else if (seen[f - d->fields]) {
		rc = bad(j, "given twice (as field %s)", f->name);
	} else {
		seen[f - d->fields] = true;
		if (!pd_json_is_literal(j->doc, val, "null"))
			rc = decode_field(j, val, f, msg);
	}
	if (rc == 0)
		path_pop(j, old);
	return rc;
}

static int decode_message(struct j2p *j, int tok, ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	if (pd_json_type(j->doc, tok) != PD_JSON_OBJECT)
		return bad(j, "wants an object (%s), not %s", d->short_name, kind(j->doc, tok));
	size_t n = (size_t)pd_json_count(j->doc, tok);
	if (n > PD_J2P_MAX_ELEMS)
		return bad(j, "more than %d members", PD_J2P_MAX_ELEMS);
	bool *seen = calloc(d->n_fields + 1, sizeof(*seen));
	if (!seen)
		return no_memory(j);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = decode_member(j, tok, i, msg, seen);
	free(seen);
	return rc;
}

int pd_json_to_proto(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		     const struct pd_j2p_unknown *unknown, ProtobufCMessage **out,
		     struct pd_error *err)
{
	struct pd_json_doc doc;
	*out = NULL;
	if (len > PD_J2P_MAX_TEXT)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, E2BIG,
				    "json: %zu bytes, more than the %u allowed", len,
				    PD_J2P_MAX_TEXT);
	/* a token takes at least two bytes of text, counting its separator */
	if (pd_json_parse(&doc, text, len, len / 2 + 2, err) < 0)
		return -1;
	struct j2p j = {.doc = &doc, .unknown = unknown, .err = err};
	ProtobufCMessage *msg = new_message(desc);
	int rc = msg ? decode_message(&j, 0, msg) : no_memory(&j);
	pd_json_doc_free(&doc);
	if (rc < 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		return -1;
	}
	*out = msg;
	return 0;
}
