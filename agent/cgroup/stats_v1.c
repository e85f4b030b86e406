/* StatsContainer on cgroup v1: the files the Kata agent reads (through cgroups-rs), with
 * the same units: cpu in nanoseconds (cpuacct.stat ticks converted), memory in bytes, blkio
 * per device and operation ("read", "write", "sync", "async", "total"). */
#include "cgroup_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cpu(const struct pd_cgroup *cg, char *buf, struct pd_cgroup_stats *st,
	       struct pd_error *err)
{
	const char *acct = pd_cg_v1_dir(cg, "cpuacct");
	st->cpu.total = pd_cg_u64_opt(acct, "cpuacct.usage", buf);
	if (pd_cg_read_opt(acct, "cpuacct.usage_percpu", buf) &&
	    pd_cg_numbers(buf, &st->cpu.percpu, &st->cpu.n_percpu, err) < 0)
		return -1;
	if (pd_cg_read_opt(acct, "cpuacct.stat", buf)) {
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100), v;
		if (pd_cg_flat_get(buf, "user", &v))
			st->cpu.user = v * ns_per_tick;
		if (pd_cg_flat_get(buf, "system", &v))
			st->cpu.kernel = v * ns_per_tick;
	}
	if (pd_cg_read_opt(pd_cg_v1_dir(cg, "cpu"), "cpu.stat", buf)) {
		pd_cg_flat_get(buf, "nr_periods", &st->cpu.periods);
		pd_cg_flat_get(buf, "nr_throttled", &st->cpu.throttled_periods);
		pd_cg_flat_get(buf, "throttled_time", &st->cpu.throttled_time);
	}
	return 0;
}

/* memory.<prefix>usage_in_bytes, max_usage_in_bytes, failcnt, limit_in_bytes */
static void mem_data(const char *dir, const char *prefix, char *buf, struct pd_mem_data *d)
{
	static const char *const names[] = {"usage_in_bytes", "max_usage_in_bytes", "failcnt",
					    "limit_in_bytes"};
	uint64_t *fields[] = {&d->usage, &d->max_usage, &d->failcnt, &d->limit};
	for (int i = 0; i < 4; i++) {
		char file[64];
		snprintf(file, sizeof(file), "memory.%s%s", prefix, names[i]);
		*fields[i] = pd_cg_u64_opt(dir, file, buf);
	}
}

static int memory(const struct pd_cgroup *cg, char *buf, struct pd_cgroup_stats *st,
		  struct pd_error *err)
{
	const char *dir = pd_cg_v1_dir(cg, "memory");
	if (!dir)
		return 0;
	mem_data(dir, "", buf, &st->memory.usage);
	mem_data(dir, "memsw.", buf, &st->memory.swap);
	mem_data(dir, "kmem.", buf, &st->memory.kernel);
	st->memory.use_hierarchy = pd_cg_u64_opt(dir, "memory.use_hierarchy", buf) == 1;
	if (pd_cg_read_opt(dir, "memory.stat", buf)) {
		pd_cg_flat_get(buf, "cache", &st->memory.cache);
		if (pd_cg_flat_all(buf, &st->memory.stats, &st->memory.n_stats, err) < 0)
			return -1;
	}
	return 0;
}

static int blkio_file(const char *dir, const char *file, char *buf, struct pd_cgroup_stats *st,
		      int kind, struct pd_error *err)
{
	if (!pd_cg_read_opt(dir, file, buf))
		return 0;
	return pd_cg_blkio_v1_parse(buf, &st->blkio[kind], &st->n_blkio[kind], err);
}

/* The CFQ/BFQ recursive counters when the scheduler keeps them, else the throttling
 * layer's, which every kernel has (what runc and Kata do). */
static int blkio(const struct pd_cgroup *cg, char *buf, struct pd_cgroup_stats *st,
		 struct pd_error *err)
{
	static const char *const cfq[PD_BLKIO_KINDS] = {"blkio.io_service_bytes_recursive",
							"blkio.io_serviced_recursive",
							"blkio.io_queued_recursive",
							"blkio.io_service_time_recursive",
							"blkio.io_wait_time_recursive",
							"blkio.io_merged_recursive",
							"blkio.time_recursive",
							"blkio.sectors_recursive"};
	const char *dir = pd_cg_v1_dir(cg, "blkio");
	if (!dir)
		return 0;
	if (pd_cg_read_opt(dir, cfq[PD_BLKIO_SERVICED], buf) && strchr(buf, ':')) {
		for (int k = 0; k < PD_BLKIO_KINDS; k++)
			if (blkio_file(dir, cfq[k], buf, st, k, err) < 0)
				return -1;
		return 0;
	}
	bool rec = pd_cg_exists(dir, "blkio.throttle.io_service_bytes_recursive");
	const char *bytes =
	    rec ? "blkio.throttle.io_service_bytes_recursive" : "blkio.throttle.io_service_bytes";
	const char *ios =
	    rec ? "blkio.throttle.io_serviced_recursive" : "blkio.throttle.io_serviced";
	if (blkio_file(dir, bytes, buf, st, PD_BLKIO_SERVICE_BYTES, err) < 0)
		return -1;
	return blkio_file(dir, ios, buf, st, PD_BLKIO_SERVICED, err);
}

int pd_cg_v1_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err)
{
	char *buf = malloc(PD_CG_STAT_BUF);
	if (!buf)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "cgroup stats buffer");
	const char *pids = pd_cg_v1_dir(cg, "pids");
	st->pids.current = pd_cg_u64_opt(pids, "pids.current", buf);
	st->pids.limit = pd_cg_u64_opt(pids, "pids.max", buf);
	if (st->pids.limit == UINT64_MAX)
		st->pids.limit = 0;
	int rc = 0;
	if (cpu(cg, buf, st, err) < 0 || memory(cg, buf, st, err) < 0 ||
	    blkio(cg, buf, st, err) < 0 ||
	    pd_cg_hugetlb_stats(pd_cg_v1_dir(cg, "hugetlb"), "usage_in_bytes", "max_usage_in_bytes",
				"failcnt", NULL, buf, st, err) < 0)
		rc = -1;
	free(buf);
	return rc;
}
