/* The compiled form of a policy, shared by policy.c (state, check), policy_parse.c (JSON →
 * rules) and policy_field.c (field paths over protobuf-c messages). Private to those files. */
#ifndef PD_POLICY_RULES_H
#define PD_POLICY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"

#define PD_POLICY_MAX_STEPS 16	/* components of a field path */
#define PD_POLICY_DESC	    200 /* a rule as shown in a denial */
#define PD_POLICY_INDEX_ANY (-2)
#define PD_POLICY_NO_INDEX  (-1)

/* One component of a field path: a field of the message at that depth, and for a repeated
 * field which element ([N] or [*]). */
struct pd_policy_step {
	const ProtobufCFieldDescriptor *field;
	long index;
};

enum pd_policy_op {
	PD_POLICY_ALWAYS, /* no field: the rule applies to every call of its rpc */
	PD_POLICY_EQUALS,
	PD_POLICY_PREFIX,
};

struct pd_policy_rule {
	char *rpc; /* method name, "*" for every method */
	struct pd_policy_step steps[PD_POLICY_MAX_STEPS];
	unsigned n_steps;
	int op; /* enum pd_policy_op */
	char *value;
	size_t value_len;
	bool deny;
	char desc[PD_POLICY_DESC];
};

struct pd_policy {
	bool default_deny;
	char why[PD_POLICY_DESC]; /* a boot policy that did not load: the reason for denials */
	struct pd_policy_rule *rules;
	size_t n_rules;
};

/* policy_parse.c: the document → a policy (malloc'd), or NULL with err INVALID_ARGUMENT. */
struct pd_policy *pd_policy_parse(const char *text, size_t len, struct pd_error *err);
void pd_policy_free(struct pd_policy *p);

/* policy_field.c */
/* Compile path ("OCI.Process.Args[0]") against the request message of the rule's rpc. */
int pd_policy_compile_field(const ProtobufCMessageDescriptor *msg, const char *path,
			    struct pd_policy_rule *r, struct pd_error *err);
/* Does some value the rule's path reaches in m compare as the rule says? */
bool pd_policy_field_matches(const struct pd_policy_rule *r, const ProtobufCMessage *m);

/* The request descriptor of method name in the agent's services, NULL if none has it. */
const ProtobufCMessageDescriptor *pd_policy_request_of(const char *method);

#endif
