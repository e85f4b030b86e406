/* Resource limits of a container process (OCI process.rlimits). Set while still root:
 * raising a hard limit needs CAP_SYS_RESOURCE, which the process may not keep. */
#include <errno.h>
#include <sys/resource.h>

#include "agent/container/names.h"
#include "agent/container/process_steps.h"

/* OCI limits are uint64 with UINT64_MAX meaning unlimited, which is RLIM_INFINITY too on
 * every 64-bit Linux ABI; clamp for a 32-bit rlim_t. */
static rlim_t to_rlim(uint64_t v)
{
	return v >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)v;
}

int pd_rlimits_apply(const struct pd_rlimit *rl, size_t n, struct pd_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct rlimit r = {.rlim_cur = to_rlim(rl[i].soft),
				   .rlim_max = to_rlim(rl[i].hard)};
		if (setrlimit(rl[i].resource, &r) < 0) {
			const char *name = pd_rlimit_name(rl[i].resource);
			if (name)
				return pd_error_errno(err, errno, "rlimit %s", name);
			return pd_error_errno(err, errno, "rlimit %d", rl[i].resource);
		}
	}
	return 0;
}
