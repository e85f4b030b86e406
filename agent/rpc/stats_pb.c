/* CgroupStats for the wire: every nested message in one arena, so the handler frees the
 * whole reply at once after it is packed. */
#include "stats_pb.h"

#include <errno.h>
#include <string.h>

#define NEW(a, type, init)                                                                         \
	({                                                                                         \
		type *m_ = pd_arena_alloc(a, sizeof(type));                                        \
		if (m_)                                                                            \
			*m_ = (type)init;                                                          \
		m_;                                                                                \
	})

static Grpc__CpuStats *cpu(const struct pd_cgroup_stats *st, struct pd_arena *a)
{
	Grpc__CpuStats *c = NEW(a, Grpc__CpuStats, GRPC__CPU_STATS__INIT);
	Grpc__CpuUsage *u = NEW(a, Grpc__CpuUsage, GRPC__CPU_USAGE__INIT);
	Grpc__ThrottlingData *t = NEW(a, Grpc__ThrottlingData, GRPC__THROTTLING_DATA__INIT);
	if (!c || !u || !t)
		return NULL;
	u->total_usage = st->cpu.total;
	u->usage_in_kernelmode = st->cpu.kernel;
	u->usage_in_usermode = st->cpu.user;
	u->percpu_usage = st->cpu.percpu;
	u->n_percpu_usage = st->cpu.n_percpu;
	t->periods = st->cpu.periods;
	t->throttled_periods = st->cpu.throttled_periods;
	t->throttled_time = st->cpu.throttled_time;
	c->cpu_usage = u;
	c->throttling_data = t;
	return c;
}

static Grpc__MemoryData *mem_data(const struct pd_mem_data *d, struct pd_arena *a)
{
	Grpc__MemoryData *m = NEW(a, Grpc__MemoryData, GRPC__MEMORY_DATA__INIT);
	if (m) {
		m->usage = d->usage;
		m->max_usage = d->max_usage;
		m->failcnt = d->failcnt;
		m->limit = d->limit;
	}
	return m;
}

static Grpc__MemoryStats *memory(const struct pd_cgroup_stats *st, struct pd_arena *a)
{
	Grpc__MemoryStats *m = NEW(a, Grpc__MemoryStats, GRPC__MEMORY_STATS__INIT);
	if (!m || !(m->usage = mem_data(&st->memory.usage, a)) ||
	    !(m->swap_usage = mem_data(&st->memory.swap, a)) ||
	    !(m->kernel_usage = mem_data(&st->memory.kernel, a)))
		return NULL;
	m->cache = st->memory.cache;
	m->use_hierarchy = st->memory.use_hierarchy;
	m->stats = pd_arena_calloc(a, st->memory.n_stats + 1, sizeof(*m->stats));
	if (!m->stats)
		return NULL;
	for (size_t i = 0; i < st->memory.n_stats; i++) {
		Grpc__MemoryStats__StatsEntry *e =
		    NEW(a, Grpc__MemoryStats__StatsEntry, GRPC__MEMORY_STATS__STATS_ENTRY__INIT);
		if (!e || !(e->key = pd_arena_strdup(a, st->memory.stats[i].key)))
			return NULL;
		e->value = st->memory.stats[i].value;
		m->stats[m->n_stats++] = e;
	}
	return m;
}

static Grpc__BlkioStatsEntry **entries(const struct pd_blkio_entry *in, size_t n,
				       struct pd_arena *a)
{
	Grpc__BlkioStatsEntry **v = pd_arena_calloc(a, n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) {
		Grpc__BlkioStatsEntry *e =
		    NEW(a, Grpc__BlkioStatsEntry, GRPC__BLKIO_STATS_ENTRY__INIT);
		if (!e || !(e->op = pd_arena_strdup(a, in[i].op)))
			return NULL;
		e->major = in[i].major;
		e->minor = in[i].minor;
		e->value = in[i].value;
		v[i] = e;
	}
	return v;
}

static Grpc__BlkioStats *blkio(const struct pd_cgroup_stats *st, struct pd_arena *a)
{
	Grpc__BlkioStats *b = NEW(a, Grpc__BlkioStats, GRPC__BLKIO_STATS__INIT);
	if (!b)
		return NULL;
	struct {
		size_t *n;
		Grpc__BlkioStatsEntry ***v;
	} kinds[PD_BLKIO_KINDS] = {
	    {&b->n_io_service_bytes_recursive, &b->io_service_bytes_recursive},
	    {&b->n_io_serviced_recursive, &b->io_serviced_recursive},
	    {&b->n_io_queued_recursive, &b->io_queued_recursive},
	    {&b->n_io_service_time_recursive, &b->io_service_time_recursive},
	    {&b->n_io_wait_time_recursive, &b->io_wait_time_recursive},
	    {&b->n_io_merged_recursive, &b->io_merged_recursive},
	    {&b->n_io_time_recursive, &b->io_time_recursive},
	    {&b->n_sectors_recursive, &b->sectors_recursive},
	};
	for (int k = 0; k < PD_BLKIO_KINDS; k++) {
		if (!st->n_blkio[k])
			continue;
		if (!(*kinds[k].v = entries(st->blkio[k], st->n_blkio[k], a)))
			return NULL;
		*kinds[k].n = st->n_blkio[k];
	}
	return b;
}

static int hugetlb(const struct pd_cgroup_stats *st, struct pd_arena *a, Grpc__CgroupStats *c)
{
	c->hugetlb_stats = pd_arena_calloc(a, st->n_hugetlb + 1, sizeof(*c->hugetlb_stats));
	if (!c->hugetlb_stats)
		return -1;
	for (size_t i = 0; i < st->n_hugetlb; i++) {
		Grpc__CgroupStats__HugetlbStatsEntry *e =
		    NEW(a, Grpc__CgroupStats__HugetlbStatsEntry,
			GRPC__CGROUP_STATS__HUGETLB_STATS_ENTRY__INIT);
		Grpc__HugetlbStats *h = NEW(a, Grpc__HugetlbStats, GRPC__HUGETLB_STATS__INIT);
		if (!e || !h || !(e->key = pd_arena_strdup(a, st->hugetlb[i].pagesize)))
			return -1;
		h->usage = st->hugetlb[i].usage;
		h->max_usage = st->hugetlb[i].max_usage;
		h->failcnt = st->hugetlb[i].failcnt;
		e->value = h;
		c->hugetlb_stats[c->n_hugetlb_stats++] = e;
	}
	return 0;
}

int pd_rpc_stats_to_pb(const struct pd_cgroup_stats *st, struct pd_arena *a,
		       Grpc__CgroupStats **out, struct pd_error *err)
{
	Grpc__CgroupStats *c = NEW(a, Grpc__CgroupStats, GRPC__CGROUP_STATS__INIT);
	Grpc__PidsStats *p = NEW(a, Grpc__PidsStats, GRPC__PIDS_STATS__INIT);
	if (!c || !p || !(c->cpu_stats = cpu(st, a)) || !(c->memory_stats = memory(st, a)) ||
	    !(c->blkio_stats = blkio(st, a)) || hugetlb(st, a, c) < 0)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
				    "stats reply: out of memory");
	p->current = st->pids.current;
	p->limit = st->pids.limit;
	c->pids_stats = p;
	*out = c;
	return 0;
}
