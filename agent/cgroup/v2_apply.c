/* Resource limits on cgroup v2, from the v1-shaped values of the OCI spec: shares become
 * cpu.weight, quota/period cpu.max, memory+swap becomes swap alone (memory.swap.max). What v2
 * has no file for is refused (realtime cpu, net_cls/net_prio) or, where runc and Kata let it
 * pass, skipped (swappiness, disabling the OOM killer). */
#include "cgroup_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/log.h"

/* A controller not enabled for this cgroup has no files: say so instead of ENOENT. */
static int need(const char *dir, const char *file, struct pd_error *err)
{
	if (pd_cg_exists(dir, file))
		return 0;
	return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
			    "%s/%s does not exist: the %.*s controller is not enabled", dir, file,
			    (int)strcspn(file, "."), file);
}

static int write_need(const char *dir, const char *file, const char *v, struct pd_error *err)
{
	return need(dir, file, err) < 0 ? -1 : pd_cg_write(dir, file, v, err);
}

static int write_i64(const char *dir, const char *file, int64_t v, struct pd_error *err)
{
	char buf[32];
	if (v == -1)
		snprintf(buf, sizeof(buf), "max");
	else
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	return write_need(dir, file, buf, err);
}

static int swap(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->has_mem_swap && !(r->has_mem_limit && r->mem_limit == -1))
		return 0;
	int64_t limit = r->mem_limit, v;
	bool has_limit = r->has_mem_limit;
	if (!has_limit) { /* an update of swap alone: against the limit that is set */
		uint64_t cur;
		if (pd_cg_read_u64(dir, "memory.max", &cur, err) < 0)
			return -1;
		limit = cur == UINT64_MAX ? -1 : (int64_t)cur;
		has_limit = true;
	}
	if (pd_cg_swap_to_v2(r->has_mem_swap ? r->mem_swap : 0, limit, has_limit, &v, err) < 0)
		return -1;
	if (v == 0 || (v == -1 && !pd_cg_exists(dir, "memory.swap.max")))
		return 0; /* nothing to limit, or no swap support to limit it with */
	return write_i64(dir, "memory.swap.max", v, err);
}

static int memory(const char *dir, const struct pd_resources *r, bool create, struct pd_error *err)
{
	if (r->has_mem_limit && write_i64(dir, "memory.max", r->mem_limit, err) < 0)
		return -1;
	if (r->has_mem_reservation && write_i64(dir, "memory.low", r->mem_reservation, err) < 0)
		return -1;
	if (swap(dir, r, err) < 0)
		return -1;
	if (r->has_swappiness || r->disable_oom_killer)
		pd_debug("memory setting without a cgroup v2 file skipped", "dir=%s", dir);
	/* The container is one workload: an OOM kill takes all of it, as the kubelet asks on
	 * v2, instead of leaving a container without its init. */
	if (create && pd_cg_exists(dir, "memory.oom.group") &&
	    pd_cg_write(dir, "memory.oom.group", "1", err) < 0)
		return -1;
	return 0;
}

static int cpu(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	if (r->has_rt_runtime || r->has_rt_period)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "realtime cpu limits need cgroup v1");
	if (r->has_cpu_shares) {
		char w[24];
		snprintf(w, sizeof(w), "%" PRIu64, pd_cg_shares_to_weight(r->cpu_shares));
		if (write_need(dir, "cpu.weight", w, err) < 0)
			return -1;
	}
	char cur[64] = "", v[64];
	if (r->has_cpu_period && !r->has_cpu_quota &&
	    (need(dir, "cpu.max", err) < 0 ||
	     pd_cg_read(dir, "cpu.max", cur, sizeof(cur), err) < 0))
		return -1;
	if (pd_cg_cpu_max(r, cur, v, sizeof(v)) && write_need(dir, "cpu.max", v, err) < 0)
		return -1;
	if (r->cpuset_cpus && write_need(dir, "cpuset.cpus", r->cpuset_cpus, err) < 0)
		return -1;
	if (r->cpuset_mems && write_need(dir, "cpuset.mems", r->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

static int hugetlb(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	for (size_t i = 0; i < r->n_hugetlb; i++) {
		char file[64], v[32];
		snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugetlb[i].pagesize);
		snprintf(v, sizeof(v), "%" PRIu64, r->hugetlb[i].limit);
		if (write_need(dir, file, v, err) < 0)
			return -1;
	}
	return 0;
}

int pd_cg_v2_apply(struct pd_cgroup *cg, const struct pd_resources *res, bool create,
		   struct pd_error *err)
{
	const char *dir = cg->dir;
	if (res->has_net_classid || res->n_net_prios)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "net_cls and net_prio exist only on cgroup v1");
	if (memory(dir, res, create, err) < 0 || cpu(dir, res, err) < 0 ||
	    hugetlb(dir, res, err) < 0)
		return -1;
	if (res->has_pids_limit && write_i64(dir, "pids.max", res->pids_limit, err) < 0)
		return -1;
	if (pd_cg_has_blkio(res) && pd_cg_v2_io(dir, res, err) < 0)
		return -1;
	if (create || res->has_devices) {
		/* A fake tree (unit tests) cannot hold a program: build and check it only. */
		int rc = cg->fake ? pd_cg_v2_devices_check(res, err)
				  : pd_cg_v2_devices_apply(dir, res, &cg->dev_prog_fd, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}
