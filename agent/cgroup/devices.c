/* The device rules a container's cgroup gets, in the order they are applied: deny
 * everything, the request's rules, then pidone's defaults (so the devices pidone itself puts
 * in the container's /dev always work, as in the Kata agent, which appends the same list). */
#include "cgroup_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool number_ok(int64_t v)
{
	return v == PD_DEV_ANY || (v >= 0 && v <= 0x7fffffff);
}

static int check_rule(const struct pd_device_rule *r, size_t i, struct pd_error *err)
{
	if (r->type != 'a' && r->type != 'b' && r->type != 'c')
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "device rule %zu: type '%c'", i,
				    r->type);
	if (!number_ok(r->major) || !number_ok(r->minor))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "device rule %zu: bad major/minor %lld:%lld", i,
				    (long long)r->major, (long long)r->minor);
	size_t n = strnlen(r->access, sizeof(r->access));
	if (n == 0 || n == sizeof(r->access) || strspn(r->access, "rwm") != n)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "device rule %zu: access '%.4s'",
				    i, r->access);
	return 0;
}

int pd_cg_device_rules(const struct pd_resources *res, struct pd_device_rule **out, size_t *n,
		       struct pd_error *err)
{
	static const struct pd_device_rule deny_all = {false, 'a', PD_DEV_ANY, PD_DEV_ANY, "rwm"};
	size_t own = res && res->has_devices ? res->n_devices : 0;
	if (own > PD_MAX_DEVICE_RULES)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "more than %d device rules",
				    PD_MAX_DEVICE_RULES);
	for (size_t i = 0; i < own; i++)
		if (check_rule(&res->devices[i], i, err) < 0)
			return -1;
	size_t total = 1 + own + pd_cgroup_n_default_devices;
	struct pd_device_rule *r = calloc(total, sizeof(*r));
	if (!r)
		return pd_error_errno(err, ENOMEM, "device rules");
	r[0] = deny_all;
	if (own)
		memcpy(r + 1, res->devices, own * sizeof(*r));
	memcpy(r + 1 + own, pd_cgroup_default_devices, pd_cgroup_n_default_devices * sizeof(*r));
	*out = r;
	*n = total;
	return 0;
}
