/* The policy in force and the gate every call passes (docs/policy.md). Rules are tried in
 * order; the first whose rpc and condition match decides; none matching, the default
 * does. NULL means no policy: everything is allowed. */
#include "agent/policy.h"
#include "agent/policy_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"

static struct pd_policy *current;
/* What a boot policy that did not load leaves in force: static, so failing closed never
 * needs memory. */
static struct pd_policy deny_all = {.default_deny = true};

static bool rule_matches(const struct pd_policy_rule *r, const char *method,
			 const ProtobufCMessage *req)
{
	if (strcmp(r->rpc, "*") != 0 && strcmp(r->rpc, method) != 0)
		return false;
	return r->op == PD_POLICY_ALWAYS || pd_policy_field_matches(r, req);
}

/* Kata's exception: a denied read of a process's output answers "no data". */
static bool redacted(const char *service, const char *method)
{
	return strcmp(service, "grpc.AgentService") == 0 &&
	       (strcmp(method, "ReadStdout") == 0 || strcmp(method, "ReadStderr") == 0);
}

int pd_policy_check(const char *service, const char *method, const ProtobufCMessage *req,
		    struct pd_error *err)
{
	const struct pd_policy *p = current;
	if (!p)
		return 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pd_policy_rule *r = &p->rules[i];
		if (!rule_matches(r, method, req))
			continue;
		if (!r->deny)
			return 0;
		if (redacted(service, method))
			return PD_POLICY_REDACT;
		return pd_error_set(err, PD_PERMISSION_DENIED, EACCES,
				    "%s is blocked by policy: rule %zu (%s)", method, i + 1,
				    r->desc);
	}
	if (!p->default_deny)
		return 0;
	if (redacted(service, method))
		return PD_POLICY_REDACT;
	return pd_error_set(err, PD_PERMISSION_DENIED, EACCES, "%s is blocked by policy: %s",
			    method, p->why[0] ? p->why : "default deny");
}

static void install(struct pd_policy *p)
{
	if (current != &deny_all)
		pd_policy_free(current);
	current = p;
}

int pd_policy_set(const char *text, size_t len, struct pd_error *err)
{
	struct pd_policy *p = pd_policy_parse(text, len, err);
	if (!p)
		return -1;
	install(p);
	return 0;
}

void pd_policy_reset(void)
{
	install(NULL);
}

size_t pd_policy_rule_count(void)
{
	return current ? current->n_rules : 0;
}

/* The whole file, NUL-terminated, at most PD_POLICY_MAX_BYTES. */
static char *read_policy_file(const char *path, size_t *len, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		pd_error_errno(err, errno, "open %s", path);
		return NULL;
	}
	char *buf = malloc(PD_POLICY_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		pd_error_errno(err, ENOMEM, "read %s", path);
		return NULL;
	}
	size_t n = 0;
	ssize_t r = 1;
	while (n <= PD_POLICY_MAX_BYTES && r != 0) {
		r = read(fd, buf + n, PD_POLICY_MAX_BYTES + 1 - n);
		if (r < 0 && errno != EINTR)
			break;
		n += r > 0 ? (size_t)r : 0;
	}
	if (r < 0)
		pd_error_errno(err, errno, "read %s", path);
	else if (n > PD_POLICY_MAX_BYTES)
		pd_error_set(err, PD_INVALID_ARGUMENT, E2BIG, "%s: more than %u bytes", path,
			     PD_POLICY_MAX_BYTES);
	close(fd);
	if (r < 0 || n > PD_POLICY_MAX_BYTES) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

void pd_policy_load_boot(const char *path)
{
	struct pd_error err;
	pd_error_clear(&err);
	size_t len;
	char *text = read_policy_file(path, &len, &err);
	if (!text && err.errnum == ENOENT) {
		pd_debug("no policy file: every rpc is allowed", "path=%s", path);
		return;
	}
	if (text && pd_policy_set(text, len, &err) == 0) {
		pd_info("policy loaded", "path=%s rules=%zu", path, pd_policy_rule_count());
		free(text);
		return;
	}
	free(text);
	snprintf(deny_all.why, sizeof(deny_all.why), "%s did not load (%.120s)", path, err.msg);
	install(&deny_all);
	pd_error_log("policy file did not load: every rpc is denied", "path=%s err=\"%s\"", path,
		     err.msg);
}
