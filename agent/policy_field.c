/* Field rules: a path of proto field names ("OCI.Process.Args[0]") compiled against a
 * request's descriptor once, when the policy is loaded, then followed through decoded
 * messages generically with the protobuf-c descriptors (offsets, labels, oneof cases), so
 * a rule can name any field of any request without code per message. */
#include "agent/policy_rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"
#include "agent/pb_desc.h"

#define MAX_INDEX 1000000L

const ProtobufCMessageDescriptor *pd_policy_request_of(const char *method)
{
	static const ProtobufCServiceDescriptor *const services[] = {
	    &grpc__agent_service__descriptor,
	    &grpc__health__descriptor,
	};
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const ProtobufCMethodDescriptor *m =
		    protobuf_c_service_descriptor_get_method_by_name(services[i], method);
		if (m)
			return m->input;
	}
	return NULL;
}

/* "[N]" or "[*]" at *p (advanced past it); PD_POLICY_NO_INDEX if there is none. */
static int parse_index(const char **p, long *index)
{
	*index = PD_POLICY_NO_INDEX;
	if (**p != '[')
		return 0;
	const char *c = *p + 1;
	if (c[0] == '*' && c[1] == ']') {
		*index = PD_POLICY_INDEX_ANY;
		*p = c + 2;
		return 0;
	}
	long v = 0;
	const char *start = c;
	for (; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (*c - '0');
		if (v > MAX_INDEX)
			return -1;
	}
	if (c == start || *c != ']')
		return -1;
	*index = v;
	*p = c + 1;
	return 0;
}

static bool leaf_type_ok(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_MESSAGE && t != PROTOBUF_C_TYPE_FLOAT &&
	       t != PROTOBUF_C_TYPE_DOUBLE;
}

int pd_policy_compile_field(const ProtobufCMessageDescriptor *msg, const char *path,
			    struct pd_policy_rule *r, struct pd_error *err)
{
	const char *p = path;
	r->n_steps = 0;
	for (;;) {
		char name[64];
		size_t n = strcspn(p, ".[");
		if (n == 0 || n >= sizeof(name))
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "field \"%.100s\": empty or too long name", path);
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		const ProtobufCFieldDescriptor *f =
		    msg ? protobuf_c_message_descriptor_get_field_by_name(msg, name) : NULL;
		if (!f)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "field \"%.100s\": %s has no field \"%s\"", path,
					    msg ? msg->name : "a scalar", name);
		struct pd_policy_step *s = &r->steps[r->n_steps++];
		s->field = f;
		if (parse_index(&p, &s->index) < 0)
			return pd_error_set(
			    err, PD_INVALID_ARGUMENT, EINVAL,
			    "field \"%.100s\": bad index after %s (want [N] or [*])", path, name);
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		if (repeated != (s->index != PD_POLICY_NO_INDEX))
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "field \"%.100s\": %s %s", path, name,
					    repeated ? "is repeated: give [N] or [*]"
						     : "is not repeated: no index");
		if (*p == '\0')
			break;
		if (*p != '.' || r->n_steps == PD_POLICY_MAX_STEPS)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "field \"%.100s\": bad path (at most %d names joined "
					    "by '.')",
					    path, PD_POLICY_MAX_STEPS);
		p++;
		msg = f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
	}
	if (!leaf_type_ok(r->steps[r->n_steps - 1].field->type))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "field \"%.100s\" must end at a string, bytes, number, bool or "
				    "enum field",
				    path);
	return 0;
}

/* --- matching ---------------------------------------------------------------------------- */

static const void *member(const ProtobufCMessage *m, unsigned offset)
{
	return (const char *)m + offset;
}

/* A oneof member that is not the one set, an unset proto2 optional or an absent message
 * has no value to compare. */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)member(m, f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_BYTES)
		return *(const protobuf_c_boolean *)member(m, f->quantifier_offset);
	return true;
}

/* The value at v (a field of type f->type) as bytes to compare. */
static const char *as_text(const ProtobufCFieldDescriptor *f, const void *v, char *buf, size_t size,
			   size_t *len)
{
	const char *s = buf;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)v ? *(char *const *)v : "";
		break;
	case PROTOBUF_C_TYPE_BYTES:
		*len = ((const ProtobufCBinaryData *)v)->len;
		return *len ? (const char *)((const ProtobufCBinaryData *)v)->data : "";
	case PROTOBUF_C_TYPE_BOOL:
		s = *(const protobuf_c_boolean *)v ? "true" : "false";
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *e =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
		if (e)
			s = e->name;
		else
			snprintf(buf, size, "%d", *(const int *)v);
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, size, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, size, "%" PRIu32, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, size, "%" PRId64, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, size, "%" PRIu64, *(const uint64_t *)v);
		break;
	default:
		buf[0] = '\0';
	}
	*len = strlen(s);
	return s;
}

static bool compare(const struct pd_policy_rule *r, const ProtobufCFieldDescriptor *f,
		    const void *v)
{
	char buf[32];
	size_t len;
	const char *s = as_text(f, v, buf, sizeof(buf), &len);
	if (r->op == PD_POLICY_PREFIX)
		return len >= r->value_len && memcmp(s, r->value, r->value_len) == 0;
	return len == r->value_len && memcmp(s, r->value, len) == 0;
}

static bool match_from(const struct pd_policy_rule *r, unsigned i, const ProtobufCMessage *m);

/* Element v (a value of step i's field): the leaf compares, a message goes one step down. */
static bool match_value(const struct pd_policy_rule *r, unsigned i, const void *v)
{
	const ProtobufCFieldDescriptor *f = r->steps[i].field;
	if (i + 1 == r->n_steps)
		return compare(r, f, v);
	const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)v;
	return sub && match_from(r, i + 1, sub);
}

static bool match_from(const struct pd_policy_rule *r, unsigned i, const ProtobufCMessage *m)
{
	const struct pd_policy_step *s = &r->steps[i];
	const ProtobufCFieldDescriptor *f = s->field;
	if (!present(m, f))
		return false;
	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return match_value(r, i, member(m, f->offset));
	size_t count = *(const size_t *)member(m, f->quantifier_offset);
	const char *arr = *(const char *const *)member(m, f->offset);
	size_t size = pd_pb_value_size(f->type);
	if (!arr)
		return false;
	if (s->index >= 0)
		return (size_t)s->index < count && match_value(r, i, arr + (size_t)s->index * size);
	for (size_t k = 0; k < count; k++)
		if (match_value(r, i, arr + k * size))
			return true;
	return false;
}

bool pd_policy_field_matches(const struct pd_policy_rule *r, const ProtobufCMessage *m)
{
	/* The path was compiled against this message's descriptor; a mismatch is a bug in the
	 * caller, answered "no match" rather than by reading a foreign layout. */
	if (!m || r->n_steps == 0 ||
	    protobuf_c_message_descriptor_get_field_by_name(
		m->descriptor, r->steps[0].field->name) != r->steps[0].field)
		return false;
	return match_from(r, 0, m);
}
