/* The guest itself: hotplug, clock, entropy, details, swap, volume figures, iptables, memory
 * agent settings. The work is in agent/guest/; these handlers decode, call it with the real
 * kernel paths, and encode. Get/SetIPTables park their call while the helper program runs. */
#include "rpc.h"

#include <stdio.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/device/devwait.h"
#include "agent/guest/guest.h"
#include "agent/log.h"
#include "agent/rpc/cgroups.h"
#include "csi.pb-c.h"

static int rpc_online_cpu_mem(struct pd_call *call, const ProtobufCMessage *msg,
			      struct pd_error *err)
{
	const Grpc__OnlineCPUMemRequest *req = (const void *)msg;
	unsigned cpus = 0, blocks = 0;
	/* `wait` is ignored, as in Kata: the answer always comes once the work is done. */
	if (req->nb_cpus > 0 && pd_cpus_online(PD_GUEST_SYSFS, req->nb_cpus, &cpus, err) < 0)
		return -1;
	if (!req->cpu_only && pd_memory_online(PD_GUEST_SYSFS, &blocks, err) < 0)
		return -1;
	/* As Kata: after CPUs came online, containers that do not pin their own get them. */
	if (req->nb_cpus > 0 && pd_rpc_cgroups_cpus_online(err) < 0)
		return pd_error_wrap(err, "cpus online, container cpusets not updated");
	pd_info("cpu and memory online", "nb_cpus=%u cpus_online=%u memory_blocks_onlined=%u",
		req->nb_cpus, cpus, blocks);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_reseed_random_dev(struct pd_call *call, const ProtobufCMessage *msg,
				 struct pd_error *err)
{
	const Grpc__ReseedRandomDevRequest *req = (const void *)msg;
	if (pd_random_reseed(PD_GUEST_DEV "/random", req->data.data, req->data.len, err) < 0)
		return -1;
	pd_info("random pool reseeded", "bytes=%zu", req->data.len);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_get_guest_details(struct pd_call *call, const ProtobufCMessage *msg,
				 struct pd_error *err)
{
	const Grpc__GuestDetailsRequest *req = (const void *)msg;
	struct pd_guest_details d;
	if (pd_guest_details(PD_GUEST_SYSFS, req->mem_block_size, req->mem_hotplug_probe, &d,
			     err) < 0)
		return -1;
	Grpc__AgentDetails agent = GRPC__AGENT_DETAILS__INIT;
	agent.version = (char *)d.version;
	agent.init_daemon = d.init_daemon;
	agent.n_storage_handlers = d.n_storage_handlers;
	agent.storage_handlers = (char **)d.storage_handlers;
	agent.supports_seccomp = d.supports_seccomp;
	agent.n_extra_features = d.n_extra_features;
	agent.extra_features = (char **)d.extra_features;
	Grpc__GuestDetailsResponse resp = GRPC__GUEST_DETAILS_RESPONSE__INIT;
	resp.mem_block_size_bytes = d.mem_block_size_bytes;
	resp.support_mem_hotplug_probe = d.support_mem_hotplug_probe;
	resp.agent_details = &agent;
	pd_call_reply(call, &resp.base);
	return 0;
}

static int rpc_mem_hotplug_by_probe(struct pd_call *call, const ProtobufCMessage *msg,
				    struct pd_error *err)
{
	const Grpc__MemHotplugByProbeRequest *req = (const void *)msg;
	if (pd_memory_probe(PD_GUEST_SYSFS, req->memhotplugprobeaddr, req->n_memhotplugprobeaddr,
			    err) < 0)
		return -1;
	pd_info("memory probed", "addresses=%zu", req->n_memhotplugprobeaddr);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_set_guest_date_time(struct pd_call *call, const ProtobufCMessage *msg,
				   struct pd_error *err)
{
	const Grpc__SetGuestDateTimeRequest *req = (const void *)msg;
	if (pd_guest_time_set(req->sec, req->usec, err) < 0)
		return -1;
	pd_info("guest clock set", "sec=%lld usec=%lld", (long long)req->sec,
		(long long)req->usec);
	pd_call_reply(call, NULL);
	return 0;
}

/* The disk may still be on its way (the host hot-plugs it just before): wait for its uevent,
 * up to agent.hotplug_timeout. */
static int rpc_add_swap(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	const Grpc__AddSwapRequest *req = (const void *)msg;
	struct pd_agent *agent = pd_call_agent(call);
	struct pd_blk_want want = {.kind = PD_BLK_PCI, .n_slots = req->n_pcipath};
	struct pd_devwait_req r = {&agent->loop, call, rpc_add_swap, msg, agent->cfg.hotplug_timeout_s};
	struct pd_blk_found dev;
	char path[PD_BLK_NAME_MAX + 8];
	if (pd_pci_path_check(req->pcipath, req->n_pcipath, err) < 0)
		return -1;
	memcpy(want.slots, req->pcipath, req->n_pcipath * sizeof(want.slots[0]));
	int rc = pd_devwait_find(&r, PD_GUEST_SYSFS, &want, &dev, err);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), PD_GUEST_DEV "/%s", dev.name);
	if (pd_swap_on(path, err) < 0)
		return -1;
	pd_info("swap on a disk", "dev=%s", path);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_add_swap_path(struct pd_call *call, const ProtobufCMessage *msg,
			     struct pd_error *err)
{
	const Grpc__AddSwapPathRequest *req = (const void *)msg;
	if (pd_swap_on(req->path, err) < 0)
		return -1;
	pd_info("swap on a file", "path=%s", req->path);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_get_volume_stats(struct pd_call *call, const ProtobufCMessage *msg,
				struct pd_error *err)
{
	const Grpc__VolumeStatsRequest *req = (const void *)msg;
	struct pd_volume_usage bytes, inodes;
	if (pd_volume_stats(req->volume_guest_path, &bytes, &inodes, err) < 0)
		return -1;
	Grpc__VolumeUsage u[2] = {GRPC__VOLUME_USAGE__INIT, GRPC__VOLUME_USAGE__INIT};
	const struct pd_volume_usage *src[2] = {&bytes, &inodes};
	Grpc__VolumeUsage *usage[2] = {&u[0], &u[1]};
	for (int i = 0; i < 2; i++) {
		u[i].total = src[i]->total;
		u[i].available = src[i]->available;
		u[i].used = src[i]->used;
	}
	u[0].unit = GRPC__VOLUME_USAGE__UNIT__BYTES;
	u[1].unit = GRPC__VOLUME_USAGE__UNIT__INODES;
	Grpc__VolumeCondition cond = GRPC__VOLUME_CONDITION__INIT;
	cond.abnormal = false;
	cond.message = (char *)"OK";
	Grpc__VolumeStatsResponse resp = GRPC__VOLUME_STATS_RESPONSE__INIT;
	resp.n_usage = 2;
	resp.usage = usage;
	resp.volume_condition = &cond;
	pd_call_reply(call, &resp.base);
	return 0;
}

static int rpc_resize_volume(struct pd_call *call, const ProtobufCMessage *msg,
			     struct pd_error *err)
{
	return pd_error_set(err, PD_UNIMPLEMENTED, 0,
			    "ResizeVolume is not supported (as in the Kata agent)");
}

/* ---- iptables: parked while iptables-save / -restore runs ---------------------------------- */

static void iptables_reply(void *data, bool set, const uint8_t *out, size_t len,
			   const struct pd_error *err)
{
	struct pd_call *call = data;
	if (err) {
		pd_warn("iptables failed", "rpc=%s err=\"%s\"", call->method->name, err->msg);
		pd_call_fail(call, err);
	} else if (set) {
		Grpc__SetIPTablesResponse resp = GRPC__SET_IPTABLES_RESPONSE__INIT;
		resp.data.data = (uint8_t *)out;
		resp.data.len = len;
		pd_call_reply(call, &resp.base);
	} else {
		Grpc__GetIPTablesResponse resp = GRPC__GET_IPTABLES_RESPONSE__INIT;
		resp.data.data = (uint8_t *)out;
		resp.data.len = len;
		pd_call_reply(call, &resp.base);
	}
}

static void get_done(void *data, const uint8_t *out, size_t len, const struct pd_error *err)
{
	iptables_reply(data, false, out, len, err);
}

static void set_done(void *data, const uint8_t *out, size_t len, const struct pd_error *err)
{
	iptables_reply(data, true, out, len, err);
}

/* The host went away or gave up: the program is killed and never answers. */
static void iptables_cancel(struct pd_call *call)
{
	pd_runcmd_abandon(call->owner_data);
}

static int iptables_park(struct pd_call *call, bool ipv6, bool restore, const void *in,
			 size_t in_len, struct pd_error *err)
{
	struct pd_runcmd *rc =
		pd_iptables_start(&pd_call_agent(call)->loop, PD_GUEST_ROOT, ipv6, restore, in,
				  in_len, restore ? set_done : get_done, call, err);
	if (!rc)
		return -1;
	call->owner_data = rc;
	call->on_cancel = iptables_cancel;
	return PD_RPC_PARKED;
}

static int rpc_get_iptables(struct pd_call *call, const ProtobufCMessage *msg,
			    struct pd_error *err)
{
	const Grpc__GetIPTablesRequest *req = (const void *)msg;
	return iptables_park(call, req->is_ipv6, false, NULL, 0, err);
}

static int rpc_set_iptables(struct pd_call *call, const ProtobufCMessage *msg,
			    struct pd_error *err)
{
	const Grpc__SetIPTablesRequest *req = (const void *)msg;
	return iptables_park(call, req->is_ipv6, true, req->data.data, req->data.len, err);
}

/* ---- memory agent ------------------------------------------------------------------------- */

static struct pd_memagent *memagent(void)
{
	static struct pd_memagent ma;
	static bool ready;
	if (!ready)
		pd_memagent_init(&ma);
	ready = true;
	return &ma;
}

/* proto3 `optional` arrives as a one-member oneof: its case tells "set" from "absent". */
#define TAKE(req, v, set, field, bit)                                                          \
	do {                                                                                   \
		if ((req)->opt_##field##_case != 0) {                                          \
			(v).field = (req)->field;                                              \
			(set) |= (bit);                                                        \
		}                                                                              \
	} while (0)

static int rpc_mem_agent_memcg_set(struct pd_call *call, const ProtobufCMessage *msg,
				   struct pd_error *err)
{
	const Grpc__MemAgentMemcgConfig *req = (const void *)msg;
	struct pd_memcg_config v = {0};
	unsigned set = 0;
	TAKE(req, v, set, disabled, PD_MEMCG_DISABLED);
	TAKE(req, v, set, swap, PD_MEMCG_SWAP);
	TAKE(req, v, set, swappiness_max, PD_MEMCG_SWAPPINESS_MAX);
	TAKE(req, v, set, period_secs, PD_MEMCG_PERIOD_SECS);
	TAKE(req, v, set, period_psi_percent_limit, PD_MEMCG_PERIOD_PSI);
	TAKE(req, v, set, eviction_psi_percent_limit, PD_MEMCG_EVICTION_PSI);
	TAKE(req, v, set, eviction_run_aging_count_min, PD_MEMCG_AGING_COUNT_MIN);
	struct pd_memagent *ma = memagent();
	if (pd_memagent_memcg_set(ma, &v, set, PD_GUEST_SYSFS, err) < 0)
		return -1;
	pd_info("mem-agent memcg settings",
		"set=0x%x disabled=%d swap=%d swappiness_max=%u period_secs=%llu", set,
		ma->memcg.disabled, ma->memcg.swap, ma->memcg.swappiness_max,
		(unsigned long long)ma->memcg.period_secs);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_mem_agent_compact_set(struct pd_call *call, const ProtobufCMessage *msg,
				     struct pd_error *err)
{
	const Grpc__MemAgentCompactConfig *req = (const void *)msg;
	struct pd_compact_config v = {0};
	unsigned set = 0;
	TAKE(req, v, set, disabled, PD_COMPACT_DISABLED);
	TAKE(req, v, set, period_secs, PD_COMPACT_PERIOD_SECS);
	TAKE(req, v, set, period_psi_percent_limit, PD_COMPACT_PERIOD_PSI);
	TAKE(req, v, set, compact_psi_percent_limit, PD_COMPACT_PSI);
	TAKE(req, v, set, compact_sec_max, PD_COMPACT_SEC_MAX);
	TAKE(req, v, set, compact_order, PD_COMPACT_ORDER);
	TAKE(req, v, set, compact_threshold, PD_COMPACT_THRESHOLD);
	TAKE(req, v, set, compact_force_times, PD_COMPACT_FORCE_TIMES);
	struct pd_memagent *ma = memagent();
	if (pd_memagent_compact_set(ma, &v, set, PD_GUEST_PROCFS, err) < 0)
		return -1;
	pd_info("mem-agent compaction settings",
		"set=0x%x disabled=%d period_secs=%llu order=%u threshold=%llu", set,
		ma->compact.disabled, (unsigned long long)ma->compact.period_secs,
		ma->compact.compact_order, (unsigned long long)ma->compact.compact_threshold);
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_guest[] = {
	{"OnlineCPUMem", rpc_online_cpu_mem},
	{"ReseedRandomDev", rpc_reseed_random_dev},
	{"GetGuestDetails", rpc_get_guest_details},
	{"MemHotplugByProbe", rpc_mem_hotplug_by_probe},
	{"SetGuestDateTime", rpc_set_guest_date_time},
	{"AddSwap", rpc_add_swap},
	{"AddSwapPath", rpc_add_swap_path},
	{"GetVolumeStats", rpc_get_volume_stats},
	{"ResizeVolume", rpc_resize_volume},
	{"GetIPTables", rpc_get_iptables},
	{"SetIPTables", rpc_set_iptables},
	{"MemAgentMemcgSet", rpc_mem_agent_memcg_set},
	{"MemAgentCompactSet", rpc_mem_agent_compact_set},
	{NULL, NULL},
};
