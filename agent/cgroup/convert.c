/* v1 values (what OCI specs carry) to the v2 files' scales. The formulas are the ones runc
 * and crun use, so a container gets the same weight under any of them. */
#include "cgroup_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t pd_cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	/* [2, 262144] onto [1, 10000] */
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t pd_cg_blkio_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	/* [10, 1000] onto [1, 10000] */
	return 1 + ((weight - 10) * 9999) / 990;
}

int pd_cg_swap_to_v2(int64_t memsw, int64_t mem_limit, bool has_limit, int64_t *out,
		     struct pd_error *err)
{
	if (!has_limit)
		mem_limit = 0;
	/* memory unlimited and swap not said: both unlimited, as on v1 */
	if (mem_limit == -1 && memsw == 0) {
		*out = -1;
		return 0;
	}
	if (memsw == -1 || memsw == 0) {
		*out = memsw;
		return 0;
	}
	if (memsw < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad memory swap limit %" PRId64,
				    memsw);
	if (mem_limit == 0 || mem_limit == -1)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "a swap limit needs a memory limit on cgroup v2");
	if (memsw < mem_limit)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "memory+swap limit %" PRId64
				    " is below the memory limit %" PRId64,
				    memsw, mem_limit);
	*out = memsw - mem_limit;
	return 0;
}

bool pd_cg_cpu_max(const struct pd_resources *res, const char *current, char *buf, size_t size)
{
	if (!res->has_cpu_quota && !res->has_cpu_period)
		return false;
	char quota[32] = "max";
	if (res->has_cpu_quota) {
		if (res->cpu_quota > 0)
			snprintf(quota, sizeof(quota), "%" PRId64, res->cpu_quota);
	} else if (current && current[0]) {
		/* only the period changes: keep the quota that is set */
		snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(current, " \n"), current);
	}
	if (res->has_cpu_period)
		snprintf(buf, size, "%s %" PRIu64, quota, res->cpu_period);
	else
		snprintf(buf, size, "%s", quota);
	return true;
}
