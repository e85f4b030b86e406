/* A policy document (docs/policy.md) → compiled rules. Everything is checked here, once:
 * unknown keys (a typo must not silently drop a rule), unknown RPC names, field paths the
 * request does not have, limits. The JSON is read with the shared jsmn helpers. */
#include "agent/policy.h"
#include "agent/policy_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/container/json_read.h"

/* A rule is about a dozen tokens; this bounds the token array (~2.5 MiB) for a 1 MiB text. */
#define MAX_TOKENS (16u * PD_POLICY_MAX_RULES)
#define MAX_NAME   64

static const char *const rule_keys[] = {"rpc", "action", "field", "equals", "prefix", "name"};
enum { K_RPC, K_ACTION, K_FIELD, K_EQUALS, K_PREFIX, K_NAME, K_COUNT };

void pd_policy_free(struct pd_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].rpc);
		free(p->rules[i].value);
	}
	free(p->rules);
	free(p);
}

/* The rule's members by key: each known key at most once, as a string. */
static int rule_members(const struct pd_json_doc *d, int obj, int vals[K_COUNT],
			struct pd_error *err)
{
	if (pd_json_type(d, obj) != PD_JSON_OBJECT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "not an object");
	for (int k = 0; k < K_COUNT; k++)
		vals[k] = -1;
	for (size_t i = 0; i < (size_t)pd_json_count(d, obj); i++) {
		int key, v = pd_json_member(d, obj, i, &key);
		int k = 0;
		while (k < K_COUNT && !pd_json_str_eq(d, key, rule_keys[k]))
			k++;
		size_t s, e;
		pd_json_span(d, key, &s, &e);
		if (v < 0 || k == K_COUNT)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "unknown key \"%.*s\"", (int)(e - s > 40 ? 40 : e - s),
					    d->text + s);
		if (vals[k] >= 0 || pd_json_type(d, v) != PD_JSON_STRING)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "\"%s\" must be one string", rule_keys[k]);
		vals[k] = v;
	}
	return 0;
}

/* "name: deny CreateContainer when OCI.Process.Args[0] equals "/bin/sh"" */
static void describe(struct pd_policy_rule *r, const char *name, const char *field)
{
	const char *op = r->op == PD_POLICY_PREFIX ? "starts with" : "equals";
	int n = snprintf(r->desc, sizeof(r->desc), "%s%s%s %s", name ? name : "", name ? ": " : "",
			 r->deny ? "deny" : "allow", r->rpc);
	if (field && n > 0 && (size_t)n < sizeof(r->desc))
		snprintf(r->desc + n, sizeof(r->desc) - (size_t)n, " when %s %s \"%.*s\"", field,
			 op, (int)(r->value_len > 60 ? 60 : r->value_len), r->value);
}

static int rule_action(const struct pd_json_doc *d, int tok, bool *deny, struct pd_error *err)
{
	if (pd_json_str_eq(d, tok, "deny") || pd_json_str_eq(d, tok, "allow")) {
		*deny = pd_json_str_eq(d, tok, "deny");
		return 0;
	}
	return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
			    "action must be \"allow\" or \"deny\"");
}

/* The rule's condition: a field with equals or prefix, or nothing at all. */
static int rule_condition(const struct pd_json_doc *d, const int v[K_COUNT],
			  struct pd_policy_rule *r, const char *field, struct pd_error *err)
{
	if (!field) {
		if (v[K_EQUALS] >= 0 || v[K_PREFIX] >= 0)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "\"equals\" and \"prefix\" need a \"field\"");
		r->op = PD_POLICY_ALWAYS;
		return 0;
	}
	if ((v[K_EQUALS] >= 0) == (v[K_PREFIX] >= 0))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "a \"field\" needs exactly one of \"equals\" and \"prefix\"");
	if (strcmp(r->rpc, "*") == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "a \"field\" needs one rpc, not \"*\"");
	r->op = v[K_EQUALS] >= 0 ? PD_POLICY_EQUALS : PD_POLICY_PREFIX;
	r->value = pd_json_str(d, v[K_EQUALS] >= 0 ? v[K_EQUALS] : v[K_PREFIX]);
	if (!r->value)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "out of memory");
	r->value_len = strlen(r->value);
	return pd_policy_compile_field(pd_policy_request_of(r->rpc), field, r, err);
}

static int parse_rule(const struct pd_json_doc *d, int obj, struct pd_policy_rule *r,
		      struct pd_error *err)
{
	int v[K_COUNT];
	if (rule_members(d, obj, v, err) < 0)
		return -1;
	if (v[K_RPC] < 0 || v[K_ACTION] < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "\"rpc\" and \"action\" are required");
	if (rule_action(d, v[K_ACTION], &r->deny, err) < 0)
		return -1;
	r->rpc = pd_json_str(d, v[K_RPC]);
	char *field = v[K_FIELD] >= 0 ? pd_json_str(d, v[K_FIELD]) : NULL;
	char *name = v[K_NAME] >= 0 ? pd_json_str(d, v[K_NAME]) : NULL;
	int rc = 0;
	if (!r->rpc || (v[K_FIELD] >= 0 && !field) || (v[K_NAME] >= 0 && !name))
		rc = pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "out of memory");
	else if (strcmp(r->rpc, "*") != 0 && !pd_policy_request_of(r->rpc))
		rc = pd_error_set(
		    err, PD_INVALID_ARGUMENT, EINVAL,
		    "rpc \"%.60s\" is not a method of grpc.AgentService or grpc.Health", r->rpc);
	else if (name && strlen(name) > MAX_NAME)
		rc = pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "name longer than %d bytes",
				  MAX_NAME);
	else
		rc = rule_condition(d, v, r, field, err);
	if (rc == 0)
		describe(r, name, field);
	free(field);
	free(name);
	return rc;
}

static int parse_rules(const struct pd_json_doc *d, int arr, struct pd_policy *p,
		       struct pd_error *err)
{
	if (pd_json_type(d, arr) != PD_JSON_ARRAY)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "policy: \"rules\" is not an array");
	size_t n = (size_t)pd_json_count(d, arr);
	if (n > PD_POLICY_MAX_RULES)
		return pd_error_set(err, PD_INVALID_ARGUMENT, E2BIG,
				    "policy: %zu rules, more than %d", n, PD_POLICY_MAX_RULES);
	p->rules = calloc(n ? n : 1, sizeof(*p->rules));
	if (!p->rules)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "policy: out of memory");
	for (size_t i = 0; i < n; i++) {
		p->n_rules = i + 1; /* pd_policy_free frees what rule i got, even if it fails */
		if (parse_rule(d, pd_json_at(d, arr, i), &p->rules[i], err) < 0)
			return pd_error_wrap(err, "policy: rule %zu", i + 1);
	}
	return 0;
}

static int parse_top(const struct pd_json_doc *d, struct pd_policy *p, struct pd_error *err)
{
	if (pd_json_type(d, 0) != PD_JSON_OBJECT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "policy: not a JSON object");
	int def = -1, rules = -1;
	for (size_t i = 0; i < (size_t)pd_json_count(d, 0); i++) {
		int key, v = pd_json_member(d, 0, i, &key);
		int *slot = pd_json_str_eq(d, key, "default") ? &def
			    : pd_json_str_eq(d, key, "rules") ? &rules
							      : NULL;
		if (v < 0 || !slot || *slot >= 0)
			return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
					    "policy: only \"default\" and \"rules\" go at the top, "
					    "once each");
		*slot = v;
	}
	if (def >= 0 && !pd_json_str_eq(d, def, "allow") && !pd_json_str_eq(d, def, "deny"))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "policy: \"default\" must be \"allow\" or \"deny\"");
	p->default_deny = def >= 0 && pd_json_str_eq(d, def, "deny");
	return rules >= 0 ? parse_rules(d, rules, p, err) : 0;
}

struct pd_policy *pd_policy_parse(const char *text, size_t len, struct pd_error *err)
{
	if (len > PD_POLICY_MAX_BYTES) {
		pd_error_set(err, PD_INVALID_ARGUMENT, E2BIG, "policy: %zu bytes, more than %u",
			     len, PD_POLICY_MAX_BYTES);
		return NULL;
	}
	struct pd_json_doc d;
	if (pd_json_parse(&d, text, len, MAX_TOKENS, err) < 0) {
		err->code = PD_INVALID_ARGUMENT; /* too many tokens is a bad document too */
		pd_error_wrap(err, "policy");
		return NULL;
	}
	struct pd_policy *p = calloc(1, sizeof(*p));
	if (!p)
		pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "policy: out of memory");
	else if (parse_top(&d, p, err) < 0) {
		pd_policy_free(p);
		p = NULL;
	}
	pd_json_doc_free(&d);
	return p;
}
