/* LinuxResources from the wire to the cgroup engine's struct, one converter per message. */
#include "resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PFX "Resources."

__attribute__((format(printf, 3, 4))) static int invalid(struct pd_error *err, const char *field,
							 const char *fmt, ...)
{
	char what[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, PFX "%s: %s", field, what);
}

static int no_memory(struct pd_error *err)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "resources: out of memory");
}

/* A byte limit: 0 not given, -1 unlimited, else > 0. */
static int limit(int64_t v, const char *field, bool *has, int64_t *out, struct pd_error *err)
{
	if (v < -1)
		return invalid(err, field, "%lld is neither -1 nor a size", (long long)v);
	*has = v != 0;
	*out = v;
	return 0;
}

static int memory(const Grpc__LinuxMemory *m, struct pd_resources *o, struct pd_error *err)
{
	if (!m)
		return 0;
	if (limit(m->limit, "Memory.Limit", &o->has_mem_limit, &o->mem_limit, err) < 0 ||
	    limit(m->reservation, "Memory.Reservation", &o->has_mem_reservation,
		  &o->mem_reservation, err) < 0 ||
	    limit(m->swap, "Memory.Swap", &o->has_mem_swap, &o->mem_swap, err) < 0)
		return -1;
	if (m->swappiness > 100)
		return invalid(err, "Memory.Swappiness", "%lld is not in 0..100",
			       (long long)m->swappiness);
	o->has_swappiness = m->swappiness != 0;
	o->swappiness = m->swappiness;
	o->disable_oom_killer = m->disableoomkiller;
	return 0;
}

/* "0-3,5": what cpuset.cpus / cpuset.mems accept (the kernel checks the numbers). */
static int cpu_list(const char *s, const char *field, struct pd_arena *a, const char **out,
		    struct pd_error *err)
{
	if (!s || !s[0])
		return 0;
	if (strlen(s) > 4096 || strspn(s, "0123456789,-") != strlen(s))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, PFX "%s: bad list '%.64s'", field,
				    s);
	*out = pd_arena_strdup(a, s);
	return *out ? 0 : no_memory(err);
}

static int cpu(const Grpc__LinuxCPU *c, struct pd_arena *a, struct pd_resources *o,
	       struct pd_error *err)
{
	if (!c)
		return 0;
	o->has_cpu_shares = c->shares != 0;
	o->cpu_shares = c->shares;
	if (c->quota < -1)
		return invalid(err, "CPU.Quota", "%lld is neither -1 nor a quota",
			       (long long)c->quota);
	o->has_cpu_quota = c->quota != 0;
	o->cpu_quota = c->quota;
	o->has_cpu_period = c->period != 0;
	o->cpu_period = c->period;
	if (c->realtimeruntime < -1)
		return invalid(err, "CPU.RealtimeRuntime", "%lld is neither -1 nor a runtime",
			       (long long)c->realtimeruntime);
	o->has_rt_runtime = c->realtimeruntime != 0;
	o->rt_runtime = c->realtimeruntime;
	o->has_rt_period = c->realtimeperiod != 0;
	o->rt_period = c->realtimeperiod;
	if (cpu_list(c->cpus, "CPU.Cpus", a, &o->cpuset_cpus, err) < 0 ||
	    cpu_list(c->mems, "CPU.Mems", a, &o->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

static int dev_number(int64_t v, const char *field, struct pd_error *err)
{
	if (v < 0 || v > 0x7fffffff)
		return invalid(err, field, "device number %lld", (long long)v);
	return 0;
}

static int weight(uint32_t w, const char *field, struct pd_error *err)
{
	if (w != 0 && (w < 10 || w > 1000))
		return invalid(err, field, "%lld is not in 10..1000", (long long)w);
	return 0;
}

static int weight_devs(const Grpc__LinuxBlockIO *b, struct pd_arena *a, struct pd_resources *o,
		       struct pd_error *err)
{
	if (b->n_weightdevice > PD_MAX_BLKIO_DEVS)
		return invalid(err, "BlockIO.WeightDevice", "more than %d", PD_MAX_BLKIO_DEVS);
	struct pd_blkio_weight_dev *d = pd_arena_calloc(a, b->n_weightdevice + 1, sizeof(*d));
	if (!d)
		return no_memory(err);
	for (size_t i = 0; i < b->n_weightdevice; i++) {
		const Grpc__LinuxWeightDevice *w = b->weightdevice[i];
		if (dev_number(w->major, "BlockIO.WeightDevice.Major", err) < 0 ||
		    dev_number(w->minor, "BlockIO.WeightDevice.Minor", err) < 0 ||
		    weight(w->weight, "BlockIO.WeightDevice.Weight", err) < 0 ||
		    weight(w->leafweight, "BlockIO.WeightDevice.LeafWeight", err) < 0)
			return -1;
		d[i] = (struct pd_blkio_weight_dev){w->major, w->minor, (uint16_t)w->weight,
						    (uint16_t)w->leafweight};
	}
	o->weight_devs = d;
	o->n_weight_devs = b->n_weightdevice;
	return 0;
}

static int throttles(Grpc__LinuxThrottleDevice *const *in, size_t n, int kind, struct pd_arena *a,
		     struct pd_resources *o, struct pd_error *err)
{
	if (n > PD_MAX_BLKIO_DEVS)
		return invalid(err, "BlockIO", "more than %d throttle devices", PD_MAX_BLKIO_DEVS);
	struct pd_blkio_throttle_dev *d = pd_arena_calloc(a, n + 1, sizeof(*d));
	if (!d)
		return no_memory(err);
	for (size_t i = 0; i < n; i++) {
		if (dev_number(in[i]->major, "BlockIO.Throttle*.Major", err) < 0 ||
		    dev_number(in[i]->minor, "BlockIO.Throttle*.Minor", err) < 0)
			return -1;
		d[i] = (struct pd_blkio_throttle_dev){in[i]->major, in[i]->minor, in[i]->rate};
	}
	o->throttle[kind] = d;
	o->n_throttle[kind] = n;
	return 0;
}

static int blkio(const Grpc__LinuxBlockIO *b, struct pd_arena *a, struct pd_resources *o,
		 struct pd_error *err)
{
	if (!b)
		return 0;
	if (weight(b->weight, "BlockIO.Weight", err) < 0 ||
	    weight(b->leafweight, "BlockIO.LeafWeight", err) < 0)
		return -1;
	o->has_blkio_weight = b->weight != 0;
	o->blkio_weight = (uint16_t)b->weight;
	o->has_blkio_leaf_weight = b->leafweight != 0;
	o->blkio_leaf_weight = (uint16_t)b->leafweight;
	if (weight_devs(b, a, o, err) < 0 ||
	    throttles(b->throttlereadbpsdevice, b->n_throttlereadbpsdevice, PD_THROTTLE_READ_BPS, a,
		      o, err) < 0 ||
	    throttles(b->throttlewritebpsdevice, b->n_throttlewritebpsdevice, PD_THROTTLE_WRITE_BPS,
		      a, o, err) < 0 ||
	    throttles(b->throttlereadiopsdevice, b->n_throttlereadiopsdevice, PD_THROTTLE_READ_IOPS,
		      a, o, err) < 0 ||
	    throttles(b->throttlewriteiopsdevice, b->n_throttlewriteiopsdevice,
		      PD_THROTTLE_WRITE_IOPS, a, o, err) < 0)
		return -1;
	return 0;
}

/* "2MB", "1GB", "64KB": digits and a unit, the name the kernel gives hugetlb.<size>.* */
static bool pagesize_ok(const char *s)
{
	size_t d = strspn(s, "0123456789");
	return d > 0 && d < 8 && s[d] && strchr("KMG", s[d]) && s[d + 1] == 'B' && !s[d + 2];
}

static int hugetlb(const Grpc__LinuxResources *r, struct pd_arena *a, struct pd_resources *o,
		   struct pd_error *err)
{
	if (r->n_hugepagelimits > PD_MAX_HUGETLB_SIZES)
		return invalid(err, "HugepageLimits", "more than %d", PD_MAX_HUGETLB_SIZES);
	struct pd_hugetlb_limit *h = pd_arena_calloc(a, r->n_hugepagelimits + 1, sizeof(*h));
	if (!h)
		return no_memory(err);
	for (size_t i = 0; i < r->n_hugepagelimits; i++) {
		const char *ps = r->hugepagelimits[i]->pagesize;
		if (!ps || !pagesize_ok(ps))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    PFX "HugepageLimits[%zu].Pagesize: '%.16s' is not like "
						"\"2MB\"",
					    i, ps ? ps : "");
		snprintf(h[i].pagesize, sizeof(h[i].pagesize), "%s", ps);
		h[i].limit = r->hugepagelimits[i]->limit;
	}
	o->hugetlb = h;
	o->n_hugetlb = r->n_hugepagelimits;
	return 0;
}

static int network(const Grpc__LinuxNetwork *n, struct pd_arena *a, struct pd_resources *o,
		   struct pd_error *err)
{
	if (!n)
		return 0;
	o->has_net_classid = n->classid != 0;
	o->net_classid = n->classid;
	if (n->n_priorities > PD_MAX_NET_PRIOS)
		return invalid(err, "Network.Priorities", "more than %d", PD_MAX_NET_PRIOS);
	struct pd_net_prio *p = pd_arena_calloc(a, n->n_priorities + 1, sizeof(*p));
	if (!p)
		return no_memory(err);
	for (size_t i = 0; i < n->n_priorities; i++) {
		const char *name = n->priorities[i]->name;
		size_t len = name ? strlen(name) : 0;
		if (len == 0 || len >= sizeof(p[i].name) || strcspn(name, " /\n\t") != len)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    PFX "Network.Priorities[%zu].Name: bad interface name",
					    i);
		memcpy(p[i].name, name, len);
		p[i].priority = n->priorities[i]->priority;
	}
	o->net_prios = p;
	o->n_net_prios = n->n_priorities;
	return 0;
}

/* "rw", "mrw", "" → "rwm"-ordered, duplicates folded; "" = everything. */
static int access_of(const char *in, char out[4], size_t i, struct pd_error *err)
{
	const char *s = in && in[0] ? in : "rwm";
	if (strlen(s) > 3 || strspn(s, "rwm") != strlen(s))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    PFX "Devices[%zu].Access: '%.8s' is not made of r, w, m", i, s);
	size_t k = 0;
	for (const char *c = "rwm"; *c; c++)
		if (strchr(s, *c))
			out[k++] = *c;
	out[k] = '\0';
	return 0;
}

static int devices(const Grpc__LinuxResources *r, struct pd_arena *a, struct pd_resources *o,
		   struct pd_error *err)
{
	if (!r->n_devices)
		return 0;
	if (r->n_devices > PD_MAX_DEVICE_RULES)
		return invalid(err, "Devices", "more than %d rules", PD_MAX_DEVICE_RULES);
	struct pd_device_rule *d = pd_arena_calloc(a, r->n_devices, sizeof(*d));
	if (!d)
		return no_memory(err);
	for (size_t i = 0; i < r->n_devices; i++) {
		const Grpc__LinuxDeviceCgroup *g = r->devices[i];
		const char *t = g->type ? g->type : "";
		if (strlen(t) > 1 || (t[0] && !strchr("abc", t[0])))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    PFX "Devices[%zu].Type: '%.8s' is not a, b or c", i, t);
		if (g->major < -1 || g->major > 0x7fffffff || g->minor < -1 ||
		    g->minor > 0x7fffffff)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    PFX "Devices[%zu]: bad major/minor %" PRId64
						":%" PRId64,
					    i, g->major, g->minor);
		d[i].allow = g->allow;
		d[i].type = t[0] ? t[0] : 'a';
		d[i].major = g->major;
		d[i].minor = g->minor;
		if (access_of(g->access, d[i].access, i, err) < 0)
			return -1;
	}
	o->has_devices = true;
	o->devices = d;
	o->n_devices = r->n_devices;
	return 0;
}

int pd_rpc_resources_from_pb(const Grpc__LinuxResources *r, struct pd_arena *a,
			     struct pd_resources *out, struct pd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!r)
		return 0;
	if (memory(r->memory, out, err) < 0 || cpu(r->cpu, a, out, err) < 0 ||
	    blkio(r->blockio, a, out, err) < 0 || hugetlb(r, a, out, err) < 0 ||
	    network(r->network, a, out, err) < 0 || devices(r, a, out, err) < 0)
		return -1;
	if (r->pids) {
		out->has_pids_limit = true;
		out->pids_limit = r->pids->limit > 0 ? r->pids->limit : -1;
	}
	return 0;
}
