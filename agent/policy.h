/* The agent policy: which RPCs the host may call, by method name and simple rules on the
 * fields of the decoded request. The format (JSON) is in docs/policy.md.
 *
 * One policy for the process. It starts as "allow everything", is loaded at boot from
 * PD_POLICY_FILE when the image has one, and is replaced by SetPolicy (which is itself
 * checked against the policy in force). The ttRPC server asks pd_policy_check before every
 * handler. */
#ifndef PD_POLICY_H
#define PD_POLICY_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"

#define PD_POLICY_FILE	    "/etc/pidone/policy.json"
#define PD_POLICY_MAX_BYTES (1u << 20)
#define PD_POLICY_MAX_RULES 4096

/* pd_policy_check: denied, but answer with an empty reply rather than an error (ReadStdout
 * and ReadStderr, as Kata does: the output is redacted, which the host reads as EOF). */
#define PD_POLICY_REDACT 1

/* May the call go on? 0: yes. -1: no, err is PERMISSION_DENIED "<method> is blocked by
 * policy: rule N (...)". PD_POLICY_REDACT: no, answer it empty. */
int pd_policy_check(const char *service, const char *method, const ProtobufCMessage *req,
		    struct pd_error *err);

/* Replace the policy with the JSON document text[len]. A document that is not a valid policy
 * (syntax, unknown keys or RPCs, fields the request does not have, limits) is
 * INVALID_ARGUMENT and the policy in force stays. */
int pd_policy_set(const char *text, size_t len, struct pd_error *err);

/* At boot: load path. No file: allow everything. A file that cannot be read or is not a
 * valid policy: deny everything, every denial naming why (fail closed; pid 1 stays up so the
 * reason reaches the host). Logs the outcome. */
void pd_policy_load_boot(const char *path);

/* Back to "allow everything" (tests). */
void pd_policy_reset(void);

/* Rules in force (0 for allow-all), for logs and tests. */
size_t pd_policy_rule_count(void);

#endif
