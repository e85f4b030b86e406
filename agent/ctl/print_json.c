#include "print_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "agent/pb_desc.h"

static void print_message(FILE *out, const ProtobufCMessage *msg, int depth);

static void indent(FILE *out, int depth)
{
	fprintf(out, "%*s", depth * 2, "");
}

void pd_print_base64(FILE *out, const uint8_t *data, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		fputc(abc[v >> 18 & 63], out);
		fputc(abc[v >> 12 & 63], out);
		fputc(i + 1 < len ? abc[v >> 6 & 63] : '=', out);
		fputc(i + 2 < len ? abc[v & 63] : '=', out);
	}
}

static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_double(FILE *out, double v)
{
	/* JSON has no NaN or infinities; protobuf's JSON mapping spells them as strings. */
	if (isnan(v))
		fputs("\"NaN\"", out);
	else if (isinf(v))
		fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
	else
		fprintf(out, "%.17g", v);
}

static void print_enum(FILE *out, const ProtobufCFieldDescriptor *f, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
	if (ev)
		print_string(out, ev->name);
	else
		fprintf(out, "%d", v);
}

/* One value of field f stored at p (an element of a repeated field, or the field). */
static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		print_double(out, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		print_double(out, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		print_enum(out, f, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		print_string(out, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		fputc('"', out);
		pd_print_base64(out, b->data, b->len);
		fputc('"', out);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m)
			print_message(out, m, depth);
		else
			fputs("null", out);
		break;
	}
	}
}

/* True when the value at p equals the proto3 default (zero, empty, unset). */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	default: {
		static const uint8_t zero[8];
		return memcmp(p, zero, pd_pb_value_size(f->type)) == 0;
	}
	}
}

/* Whether a singular field is there to print: its has_/oneof case when it has one,
 * otherwise "not at its default". */
static bool singular_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *p = base + f->offset;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return f->type != PROTOBUF_C_TYPE_MESSAGE || *(ProtobufCMessage *const *)p;
	return !is_default(f, p);
}

static void print_map(FILE *out, const ProtobufCFieldDescriptor *f, size_t count,
		      ProtobufCMessage *const *entries, int depth)
{
	const ProtobufCMessageDescriptor *d = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &d->fields[0];
	const ProtobufCFieldDescriptor *vf = &d->fields[1];
	fputs("{\n", out);
	for (size_t i = 0; i < count; i++) {
		const char *e = (const char *)entries[i];
		indent(out, depth + 1);
		if (kf->type == PROTOBUF_C_TYPE_STRING) {
			print_value(out, kf, e + kf->offset, depth + 1);
		} else { /* JSON keys are strings: quote integer and bool keys */
			fputc('"', out);
			print_value(out, kf, e + kf->offset, depth + 1);
			fputc('"', out);
		}
		fputs(": ", out);
		print_value(out, vf, e + vf->offset, depth + 1);
		fputs(i + 1 < count ? ",\n" : "\n", out);
	}
	indent(out, depth);
	fputc('}', out);
}

static void print_repeated(FILE *out, const ProtobufCFieldDescriptor *f, size_t count,
			   const char *array, int depth)
{
	if (pd_pb_is_map_entry(f)) {
		print_map(out, f, count, (ProtobufCMessage *const *)array, depth);
		return;
	}
	fputs("[\n", out);
	for (size_t i = 0; i < count; i++) {
		indent(out, depth + 1);
		print_value(out, f, array + i * pd_pb_value_size(f->type), depth + 1);
		fputs(i + 1 < count ? ",\n" : "\n", out);
	}
	indent(out, depth);
	fputc(']', out);
}

static void print_message(FILE *out, const ProtobufCMessage *msg, int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	bool first = true;

	fputc('{', out);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t count = 0;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(const size_t *)(base + f->quantifier_offset);
			if (count == 0)
				continue;
		} else if (!singular_present(msg, f)) {
			continue;
		}
		fputs(first ? "\n" : ",\n", out);
		first = false;
		indent(out, depth + 1);
		print_string(out, f->name);
		fputs(": ", out);
		const char *p = base + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			print_repeated(out, f, count, *(char *const *)p, depth + 1);
		else
			print_value(out, f, p, depth + 1);
	}
	if (!first) {
		fputc('\n', out);
		indent(out, depth);
	}
	fputc('}', out);
}

void pd_print_json(FILE *out, const ProtobufCMessage *msg)
{
	print_message(out, msg, 0);
	fputc('\n', out);
}
