/* pd_process_config_check: what must hold before a container process is spawned. Found
 * here, a bad field is an INVALID_ARGUMENT naming it; found in the child, it would be a
 * failed spawn with a less helpful step name. */
#include <stdint.h>
#include <string.h>

#include "agent/container/names.h"
#include "agent/container/process.h"

#define BAD(err, ...) pd_error_set(err, PD_INVALID_ARGUMENT, 0, __VA_ARGS__)

static int check_counts(const struct pd_process_config *p, struct pd_error *err)
{
	const struct {
		const char *field;
		size_t n, max;
	} counts[] = {
	    {"process.args", p->n_args, PD_MAX_ARGS},
	    {"process.env", p->n_env, PD_MAX_ENV},
	    {"process.user.additionalGids", p->n_additional_gids, PD_MAX_GIDS},
	    {"process.rlimits", p->n_rlimits, PD_MAX_RLIMITS},
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (counts[i].n > counts[i].max)
			return BAD(err, "%s: %zu entries, at most %zu", counts[i].field,
				   counts[i].n, counts[i].max);
	return 0;
}

static int check_args_env(const struct pd_process_config *p, struct pd_error *err)
{
	if (p->n_args < 1 || !p->args || !p->args[0] || !p->args[0][0])
		return BAD(err, "process.args: no executable");
	for (size_t i = 0; i < p->n_args; i++)
		if (!p->args[i])
			return BAD(err, "process.args[%zu]: missing", i);
	if (p->args[p->n_args]) /* execve needs the terminating NULL */
		return BAD(err, "process.args: more than %zu entries", p->n_args);
	if (p->n_env && !p->env)
		return BAD(err, "process.env: missing");
	for (size_t i = 0; i < p->n_env; i++) {
		const char *eq = p->env[i] ? strchr(p->env[i], '=') : NULL;
		if (!eq || eq == p->env[i])
			return BAD(err, "process.env[%zu]: not of the form KEY=VALUE", i);
	}
	return 0;
}

static int check_user(const struct pd_process_config *p, struct pd_error *err)
{
	/* -1 means "leave unchanged" to setresuid/setresgid/chown: never a real id here. */
	if (p->uid == (uid_t)-1 || p->gid == (gid_t)-1)
		return BAD(err, "process.user: uid/gid -1");
	if (p->n_additional_gids && !p->additional_gids)
		return BAD(err, "process.user.additionalGids: missing");
	for (size_t i = 0; i < p->n_additional_gids; i++)
		if (p->additional_gids[i] == (gid_t)-1)
			return BAD(err, "process.user.additionalGids[%zu]: -1", i);
	if (!p->cwd || p->cwd[0] != '/')
		return BAD(err, "process.cwd: %s is not absolute", p->cwd ? p->cwd : "(none)");
	return 0;
}

static int check_caps(const struct pd_caps *c, struct pd_error *err)
{
	int n = pd_cap_count();
	uint64_t known = n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
	static const char *const set[] = {"bounding", "effective", "inheritable", "permitted",
					  "ambient"};
	const uint64_t mask[] = {c->bounding, c->effective, c->inheritable, c->permitted,
				 c->ambient};
	for (size_t i = 0; i < 5; i++)
		if (mask[i] & ~known)
			return BAD(err, "process.capabilities.%s: unknown capability %d", set[i],
				   __builtin_ctzll(mask[i] & ~known));
	return 0;
}

static int check_limits(const struct pd_process_config *p, struct pd_error *err)
{
	if (p->n_rlimits && !p->rlimits)
		return BAD(err, "process.rlimits: missing");
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct pd_rlimit *r = &p->rlimits[i];
		if (!pd_rlimit_name(r->resource))
			return BAD(err, "process.rlimits[%zu]: unknown resource %d", i,
				   r->resource);
		if (r->soft > r->hard)
			return BAD(err, "process.rlimits[%zu] %s: soft limit above the hard limit",
				   i, pd_rlimit_name(r->resource));
	}
	if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
		return BAD(err, "process.oomScoreAdj: %d not in [-1000, 1000]", p->oom_score_adj);
	return 0;
}

int pd_process_config_check(const struct pd_process_config *p, struct pd_error *err)
{
	if (check_counts(p, err) < 0 || check_args_env(p, err) < 0 || check_user(p, err) < 0 ||
	    check_caps(&p->caps, err) < 0 || check_limits(p, err) < 0)
		return -1;
	return 0;
}
