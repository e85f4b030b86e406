/* Resource limits on cgroup v1: one writer per controller, each to its own hierarchy. A
 * limit asked of a controller that is not mounted is FAILED_PRECONDITION, never dropped. */
#include "cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MEMSW "memory.memsw.limit_in_bytes"

static const char *need_dir(const struct pd_cgroup *cg, const char *ctl, struct pd_error *err)
{
	const char *dir = pd_cg_v1_dir(cg, ctl);
	if (!dir)
		pd_error_set(err, PD_FAILED_PRECONDITION, 0,
			     "the %s cgroup controller is not mounted", ctl);
	return dir;
}

/* limit_in_bytes may never exceed memsw.limit_in_bytes: raise memsw first when the new
 * limit goes above the current one, lower the limit first otherwise. */
static int memory_limits(const char *dir, const struct pd_resources *r, struct pd_error *err)
{
	bool set_swap = r->has_mem_swap;
	int64_t swap = r->mem_swap;
	bool have_memsw = pd_cg_exists(dir, MEMSW);
	if (r->has_mem_limit && r->mem_limit == -1 && !set_swap && have_memsw) {
		set_swap = true; /* memory unlimited, swap not said: both unlimited */
		swap = -1;
	}
	if (set_swap && !have_memsw) {
		if (swap != -1)
			return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
					    "swap limit asked but the kernel has no %s "
					    "(swap accounting off)",
					    MEMSW);
		set_swap = false;
	}
	if (set_swap && r->has_mem_limit) {
		uint64_t cur = UINT64_MAX;
		if (pd_cg_read_u64(dir, MEMSW, &cur, err) < 0)
			return -1;
		if (r->mem_limit == -1 || (uint64_t)r->mem_limit > cur) {
			if (pd_cg_write_i64(dir, MEMSW, swap, "-1", err) < 0)
				return -1;
			set_swap = false;
		}
	}
	if (r->has_mem_limit &&
	    pd_cg_write_i64(dir, "memory.limit_in_bytes", r->mem_limit, "-1", err) < 0)
		return -1;
	if (set_swap && pd_cg_write_i64(dir, MEMSW, swap, "-1", err) < 0)
		return -1;
	return 0;
}

static int memory(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->has_mem_limit && !r->has_mem_swap && !r->has_mem_reservation &&
	    !r->has_swappiness && !r->disable_oom_killer)
		return 0;
	const char *dir = need_dir(cg, "memory", err);
	if (!dir || memory_limits(dir, r, err) < 0)
		return -1;
	if (r->has_mem_reservation &&
	    pd_cg_write_i64(dir, "memory.soft_limit_in_bytes", r->mem_reservation, "-1", err) < 0)
		return -1;
	if (r->has_swappiness) {
		if (r->swappiness > 100)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "swappiness %" PRIu64 " is not in 0..100",
					    r->swappiness);
		if (pd_cg_write_u64(dir, "memory.swappiness", r->swappiness, err) < 0)
			return -1;
	}
	if (r->disable_oom_killer && pd_cg_write(dir, "memory.oom_control", "1", err) < 0)
		return -1;
	return 0;
}

/* A period and a quota are checked together by the kernel: if the new period is refused
 * with the old quota, set the quota first. */
static int pair(const char *dir, const char *period_file, bool has_period, uint64_t period,
		const char *quota_file, bool has_quota, int64_t quota, struct pd_error *err)
{
	if (has_period && pd_cg_write_u64(dir, period_file, period, err) < 0) {
		if (!has_quota || err->errnum != EINVAL)
			return -1;
		if (pd_cg_write_i64(dir, quota_file, quota, "-1", err) < 0 ||
		    pd_cg_write_u64(dir, period_file, period, err) < 0)
			return -1;
		return 0;
	}
	if (has_quota && pd_cg_write_i64(dir, quota_file, quota, "-1", err) < 0)
		return -1;
	return 0;
}

static int cpu(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->has_cpu_shares && !r->has_cpu_quota && !r->has_cpu_period && !r->has_rt_runtime &&
	    !r->has_rt_period)
		return 0;
	const char *dir = need_dir(cg, "cpu", err);
	if (!dir)
		return -1;
	if (r->has_cpu_shares && pd_cg_write_u64(dir, "cpu.shares", r->cpu_shares, err) < 0)
		return -1;
	if (pair(dir, "cpu.cfs_period_us", r->has_cpu_period, r->cpu_period, "cpu.cfs_quota_us",
		 r->has_cpu_quota, r->cpu_quota, err) < 0)
		return -1;
	return pair(dir, "cpu.rt_period_us", r->has_rt_period, r->rt_period, "cpu.rt_runtime_us",
		    r->has_rt_runtime, r->rt_runtime, err);
}

static int cpuset(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->cpuset_cpus && !r->cpuset_mems)
		return 0;
	const char *dir = need_dir(cg, "cpuset", err);
	if (!dir)
		return -1;
	if (r->cpuset_cpus && pd_cg_write(dir, "cpuset.cpus", r->cpuset_cpus, err) < 0)
		return -1;
	if (r->cpuset_mems && pd_cg_write(dir, "cpuset.mems", r->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

static int pids(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->has_pids_limit)
		return 0;
	const char *dir = need_dir(cg, "pids", err);
	if (!dir)
		return -1;
	return pd_cg_write_i64(dir, "pids.max", r->pids_limit, "max", err);
}

static int hugetlb(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	if (!r->n_hugetlb)
		return 0;
	const char *dir = need_dir(cg, "hugetlb", err);
	if (!dir)
		return -1;
	for (size_t i = 0; i < r->n_hugetlb; i++) {
		char file[64];
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", r->hugetlb[i].pagesize);
		if (pd_cg_write_u64(dir, file, r->hugetlb[i].limit, err) < 0)
			return -1;
	}
	return 0;
}

static int network(const struct pd_cgroup *cg, const struct pd_resources *r, struct pd_error *err)
{
	const char *dir = NULL;
	if (r->has_net_classid &&
	    (!(dir = need_dir(cg, "net_cls", err)) ||
	     pd_cg_write_u64(dir, "net_cls.classid", r->net_classid, err) < 0))
		return -1;
	if (r->n_net_prios && !(dir = need_dir(cg, "net_prio", err)))
		return -1;
	for (size_t i = 0; i < r->n_net_prios; i++) {
		char line[64];
		snprintf(line, sizeof(line), "%s %" PRIu32, r->net_prios[i].name,
			 r->net_prios[i].priority);
		if (pd_cg_command(dir, "net_prio.ifpriomap", line, err) < 0)
			return -1;
	}
	return 0;
}

int pd_cg_v1_apply(struct pd_cgroup *cg, const struct pd_resources *res, bool create,
		   struct pd_error *err)
{
	if (memory(cg, res, err) < 0 || cpu(cg, res, err) < 0 || cpuset(cg, res, err) < 0 ||
	    pids(cg, res, err) < 0 || hugetlb(cg, res, err) < 0 || network(cg, res, err) < 0)
		return -1;
	if (pd_cg_has_blkio(res)) {
		const char *dir = need_dir(cg, "blkio", err);
		if (!dir || pd_cg_v1_blkio(dir, res, err) < 0)
			return -1;
	}
	if (create || res->has_devices) {
		const char *dir = pd_cg_v1_dir(cg, "devices");
		if (!dir && res->has_devices)
			return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
					    "the devices cgroup controller is not mounted");
		if (dir && pd_cg_v1_devices_apply(dir, res, err) < 0)
			return -1;
	}
	return 0;
}
