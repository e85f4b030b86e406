/* StatsContainer on cgroup v2, in the v1 shapes of the Kata API (as runc fills its v1-era
 * stats from v2 files): microseconds become nanoseconds, "swap" is memory + swap as v1's
 * memsw was, io.stat becomes bytes and operations per device ("read", "write", "discard"). */
#include "cgroup_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void cpu(const char *dir, char *buf, struct pd_cgroup_stats *st)
{
	uint64_t v;
	if (!pd_cg_read_opt(dir, "cpu.stat", buf))
		return;
	if (pd_cg_flat_get(buf, "usage_usec", &v))
		st->cpu.total = v * 1000;
	if (pd_cg_flat_get(buf, "user_usec", &v))
		st->cpu.user = v * 1000;
	if (pd_cg_flat_get(buf, "system_usec", &v))
		st->cpu.kernel = v * 1000;
	pd_cg_flat_get(buf, "nr_periods", &st->cpu.periods);
	pd_cg_flat_get(buf, "nr_throttled", &st->cpu.throttled_periods);
	if (pd_cg_flat_get(buf, "throttled_usec", &v))
		st->cpu.throttled_time = v * 1000;
}

static uint64_t event(const char *dir, const char *file, const char *key, char *buf)
{
	uint64_t v = 0;
	if (pd_cg_read_opt(dir, file, buf))
		pd_cg_flat_get(buf, key, &v);
	return v;
}

static int memory(const char *dir, char *buf, struct pd_cgroup_stats *st, struct pd_error *err)
{
	struct pd_mem_data *u = &st->memory.usage, *s = &st->memory.swap;
	if (!pd_cg_exists(dir, "memory.current"))
		return 0;
	u->usage = pd_cg_u64_opt(dir, "memory.current", buf);
	u->max_usage = pd_cg_u64_opt(dir, "memory.peak", buf);
	u->limit = pd_cg_u64_opt(dir, "memory.max", buf);
	u->failcnt = event(dir, "memory.events", "max", buf);
	s->usage = sat_add(pd_cg_u64_opt(dir, "memory.swap.current", buf), u->usage);
	s->max_usage = pd_cg_u64_opt(dir, "memory.swap.peak", buf);
	s->limit = sat_add(pd_cg_u64_opt(dir, "memory.swap.max", buf), u->limit);
	s->failcnt = event(dir, "memory.swap.events", "fail", buf);
	st->memory.use_hierarchy = true; /* v2 is always hierarchical */
	if (!pd_cg_read_opt(dir, "memory.stat", buf))
		return 0;
	pd_cg_flat_get(buf, "file", &st->memory.cache);
	uint64_t stack = 0, slab = 0;
	if (!pd_cg_flat_get(buf, "kernel", &st->memory.kernel.usage)) { /* before Linux 5.18 */
		pd_cg_flat_get(buf, "kernel_stack", &stack);
		pd_cg_flat_get(buf, "slab", &slab);
		st->memory.kernel.usage = stack + slab;
	}
	return pd_cg_flat_all(buf, &st->memory.stats, &st->memory.n_stats, err);
}

int pd_cg_v2_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err)
{
	char *buf = malloc(PD_CG_STAT_BUF);
	if (!buf)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "cgroup stats buffer");
	const char *dir = cg->dir;
	cpu(dir, buf, st);
	st->pids.current = pd_cg_u64_opt(dir, "pids.current", buf);
	st->pids.limit = pd_cg_u64_opt(dir, "pids.max", buf);
	if (st->pids.limit == UINT64_MAX)
		st->pids.limit = 0;
	int rc = 0;
	if (memory(dir, buf, st, err) < 0)
		rc = -1;
	else if (pd_cg_read_opt(dir, "io.stat", buf) &&
		 pd_cg_io_stat_parse(
		     buf, &st->blkio[PD_BLKIO_SERVICE_BYTES], &st->n_blkio[PD_BLKIO_SERVICE_BYTES],
		     &st->blkio[PD_BLKIO_SERVICED], &st->n_blkio[PD_BLKIO_SERVICED], err) < 0)
		rc = -1;
	else if (pd_cg_hugetlb_stats(dir, "current", NULL, "events", "max", buf, st, err) < 0)
		rc = -1;
	free(buf);
	return rc;
}
