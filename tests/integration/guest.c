/* Guest-management RPCs end to end over ttRPC (agent/rpc/guest.c), against an agent that
 * tests/integration/guest.sh starts in its own mount AND network namespace, with a tmpfs
 * (size=8m, nr_inodes=1000) on IT_VOLUME.
 *
 *   guest ADDR VOLUME AGENT_PID - [CASE...]
 *
 * Only what is harmless on a host is done for real here: nothing sets the clock, turns on
 * swap, onlines a CPU or memory block, or writes a kernel knob. Each check compares the
 * agent's answer with what this program reads itself through /proc/AGENT_PID/root, i.e.
 * in the agent's mount namespace.
 *
 * Two runs: the first with the image as it is (iptables-save present or not: both are
 * checked); the second after guest.sh has put stand-in iptables programs (marked
 * "pidone-fake") on /usr/sbin in the agent's namespace, to drive the parked helper-program
 * path: output, failures, concurrency, deadlines, a host that goes away. */
#include "itest.h"

#include <sys/random.h>
#include <sys/statfs.h>

#include "csi.pb-c.h"

#define FAKE_MARK "pidone-fake"

static const char *volume(struct it *t)
{
	return t->rootfs; /* the second argument */
}

static bool agent_file_exists(struct it *t, const char *path)
{
	char p[PATH_MAX];
	struct stat st;
	return stat(it_agent_path(t, p, sizeof(p), "%s", path), &st) == 0;
}

/* Children of the agent (pids), as text; "" when none. */
static void agent_children(struct it *t, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->agent, (int)t->agent);
	char *text = it_read_file(path, NULL);
	snprintf(buf, size, "%s", text ? text : "?");
	free(text);
}

static int expect_no_children(struct it *t, const char *what)
{
	char ch[256] = "";
	int64_t end = 0;
	do {
		agent_children(t, ch, sizeof(ch));
		if (ch[0] == '\0')
			return 0;
	} while (it_retry(&end));
	return it_why(t, "%s: the agent still has children [%s] after %d s", what, ch,
		      IT_WAIT_MS / 1000);
}

/* ---- GetGuestDetails -------------------------------------------------------------------- */

static int details(struct it *t)
{
	Grpc__GuestDetailsRequest req = GRPC__GUEST_DETAILS_REQUEST__INIT;
	Grpc__GuestDetailsResponse *d = NULL, *d0 = NULL;
	Grpc__VersionCheckResponse *v = NULL;
	Grpc__CheckRequest creq = GRPC__CHECK_REQUEST__INIT;
	static const char *const handlers[] = {"9p",  "virtio-fs", "ephemeral", "local", "bind",
					       "blk", "mmioblk",   "scsi",	    "nvdimm"};
	char path[PATH_MAX];
	int rc = -1;

	/* What the agent should say, read here: the block size is hex without 0x. */
	uint64_t want_block = 0;
	char *text = it_read_file(it_agent_path(t, path, sizeof(path),
					       "/sys/devices/system/memory/block_size_bytes"),
				  NULL);
	if (text)
		want_block = strtoull(text, NULL, 16);
	free(text);
	bool want_probe = agent_file_exists(t, "/sys/devices/system/memory/probe");

	req.mem_block_size = req.mem_hotplug_probe = true;
	TRY(it_ok(t, "GetGuestDetails", &req.base, &grpc__guest_details_response__descriptor, &d));
	EXPECT(d->mem_block_size_bytes == want_block, "mem_block_size_bytes %llu, want %llu",
	       (unsigned long long)d->mem_block_size_bytes, (unsigned long long)want_block);
	EXPECT(d->support_mem_hotplug_probe == want_probe, "support_mem_hotplug_probe %d, want %d",
	       d->support_mem_hotplug_probe, want_probe);
	Grpc__AgentDetails *a = d->agent_details;
	EXPECT(a, "no agent_details");
	int code = it_call_svc(t, &t->c, "grpc.Health", "Version", &creq.base,
			       &grpc__version_check_response__descriptor, &v, IT_CALL_MS);
	EXPECT(code == 0 && v, "Health.Version: %s", t->msg);
	EXPECT(strcmp(a->version, v->agent_version) == 0, "version '%s', Health.Version says '%s'",
	       a->version, v->agent_version);
	EXPECT(!a->init_daemon, "init_daemon is true, but the agent is pid %d", (int)t->agent);
	EXPECT(a->supports_seccomp, "supports_seccomp is false");
	EXPECT(a->n_device_handlers == 0, "%zu device handlers", a->n_device_handlers);
	EXPECT(a->n_storage_handlers == IT_N(handlers), "%zu storage handlers",
	       a->n_storage_handlers);
	for (size_t i = 0; i < IT_N(handlers); i++)
		EXPECT(strcmp(a->storage_handlers[i], handlers[i]) == 0,
		       "storage_handlers[%zu] '%s'", i, a->storage_handlers[i]);

	/* Not asked: not reported. */
	req.mem_block_size = req.mem_hotplug_probe = false;
	TRY(it_ok(t, "GetGuestDetails", &req.base, &grpc__guest_details_response__descriptor,
		  &d0));
	EXPECT(d0->mem_block_size_bytes == 0 && !d0->support_mem_hotplug_probe,
	       "unasked fields set: %llu %d", (unsigned long long)d0->mem_block_size_bytes,
	       d0->support_mem_hotplug_probe);
	EXPECT(d0->agent_details && strcmp(d0->agent_details->version, a->version) == 0,
	       "agent_details missing when memory facts are not asked");
	rc = 0;
out:
	if (d)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	if (d0)
		protobuf_c_message_free_unpacked(&d0->base, NULL);
	if (v)
		protobuf_c_message_free_unpacked(&v->base, NULL);
	return rc;
}

/* ---- GetVolumeStats --------------------------------------------------------------------- */

static int volume_call(struct it *t, const char *path, Grpc__VolumeStatsResponse **r)
{
	Grpc__VolumeStatsRequest req = GRPC__VOLUME_STATS_REQUEST__INIT;
	req.volume_guest_path = (char *)path;
	if (it_ok(t, "GetVolumeStats", &req.base, &grpc__volume_stats_response__descriptor, r) < 0)
		return -1;
	if ((*r)->n_usage != 2 || (*r)->usage[0]->unit != GRPC__VOLUME_USAGE__UNIT__BYTES ||
	    (*r)->usage[1]->unit != GRPC__VOLUME_USAGE__UNIT__INODES)
		return it_why(t, "GetVolumeStats: want a BYTES and an INODES usage, got %zu",
			      (*r)->n_usage);
	if (!(*r)->volume_condition || (*r)->volume_condition->abnormal)
		return it_why(t, "GetVolumeStats: volume condition missing or abnormal");
	return 0;
}

static int volume_stats(struct it *t)
{
	Grpc__VolumeStatsResponse *r0 = NULL, *r1 = NULL;
	Grpc__VolumeStatsRequest req = GRPC__VOLUME_STATS_REQUEST__INIT;
	char path[PATH_MAX], file[PATH_MAX];
	int rc = -1, fd = -1;
	struct statfs st;

	TRY(volume_call(t, volume(t), &r0));
	Grpc__VolumeUsage *b = r0->usage[0], *i = r0->usage[1];
	EXPECT(b->total == 8u << 20, "bytes total %llu, the tmpfs has size=8m",
	       (unsigned long long)b->total);
	EXPECT(i->total == 1000, "inodes total %llu, the tmpfs has nr_inodes=1000",
	       (unsigned long long)i->total);
	EXPECT(b->used + b->available == b->total && i->used + i->available == i->total,
	       "used + available != total (%llu + %llu, %llu + %llu)",
	       (unsigned long long)b->used, (unsigned long long)b->available,
	       (unsigned long long)i->used, (unsigned long long)i->available);
	EXPECT(statfs(it_agent_path(t, path, sizeof(path), "%s", volume(t)), &st) == 0,
	       "statfs %s: %s", path, strerror(errno));
	EXPECT(i->available == (uint64_t)st.f_ffree, "inodes available %llu, statfs says %llu",
	       (unsigned long long)i->available, (unsigned long long)st.f_ffree);

	/* 1 MiB more in one more file: both figures move. */
	snprintf(file, sizeof(file), "%s/it-data", path);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	EXPECT(fd >= 0, "create %s: %s", file, strerror(errno));
	static char block[65536];
	memset(block, 'v', sizeof(block));
	for (int k = 0; k < 16; k++)
		EXPECT(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block), "write: %s",
		       strerror(errno));
	close(fd);
	fd = -1;
	TRY(volume_call(t, volume(t), &r1));
	EXPECT(r1->usage[0]->used >= b->used + (1u << 20), "bytes used %llu -> %llu after 1 MiB",
	       (unsigned long long)b->used, (unsigned long long)r1->usage[0]->used);
	EXPECT(r1->usage[1]->used == i->used + 1, "inodes used %llu -> %llu after one file",
	       (unsigned long long)i->used, (unsigned long long)r1->usage[1]->used);
	unlink(file);

	req.volume_guest_path = (char *)"run/relative";
	TRY(it_code_msg(t, "GetVolumeStats", &req.base, PD_INVALID_ARGUMENT, "relative"));
	req.volume_guest_path = (char *)"/run/no-such-volume";
	TRY(it_code_msg(t, "GetVolumeStats", &req.base, PD_NOT_FOUND, "/run/no-such-volume"));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r0)
		protobuf_c_message_free_unpacked(&r0->base, NULL);
	if (r1)
		protobuf_c_message_free_unpacked(&r1->base, NULL);
	return rc;
}

/* ---- entropy, clock, swap, hotplug ------------------------------------------------------ */

static int reseed(struct it *t)
{
	Grpc__ReseedRandomDevRequest req = GRPC__RESEED_RANDOM_DEV_REQUEST__INIT;
	uint8_t data[64];
	if (getrandom(data, sizeof(data), 0) != (ssize_t)sizeof(data))
		return it_why(t, "getrandom: %s", strerror(errno));
	req.data.data = data; /* real random bytes: the credit the agent gives them is honest */
	req.data.len = sizeof(data);
	TRY(it_ok(t, "ReseedRandomDev", &req.base, NULL, NULL));
	req.data.len = 0;
	TRY(it_code_msg(t, "ReseedRandomDev", &req.base, PD_INVALID_ARGUMENT, "without data"));
	return 0;
out:
	return -1;
}

static int datetime_checks(struct it *t)
{
	/* Only refusals: setting the clock for real is for the QEMU boot test. */
	Grpc__SetGuestDateTimeRequest req = GRPC__SET_GUEST_DATE_TIME_REQUEST__INIT;
	req.sec = 1700000000;
	req.usec = 1000000;
	TRY(it_code_msg(t, "SetGuestDateTime", &req.base, PD_INVALID_ARGUMENT, "Usec 1000000"));
	req.usec = -1;
	TRY(it_code_msg(t, "SetGuestDateTime", &req.base, PD_INVALID_ARGUMENT, "Usec -1"));
	req.sec = -5;
	req.usec = 0;
	TRY(it_code_msg(t, "SetGuestDateTime", &req.base, PD_INVALID_ARGUMENT, "Sec -5"));
	return 0;
out:
	return -1;
}

static int swap_path_checks(struct it *t)
{
	Grpc__AddSwapPathRequest req = GRPC__ADD_SWAP_PATH_REQUEST__INIT;
	char path[PATH_MAX], file[PATH_MAX];
	req.path = (char *)"swapfile";
	TRY(it_code_msg(t, "AddSwapPath", &req.base, PD_INVALID_ARGUMENT, "relative"));
	req.path = (char *)"";
	TRY(it_code_msg(t, "AddSwapPath", &req.base, PD_INVALID_ARGUMENT, NULL));
	req.path = (char *)"/run/no-such-swapfile";
	TRY(it_code_msg(t, "AddSwapPath", &req.base, PD_NOT_FOUND, NULL));
	req.path = (char *)volume(t); /* a directory */
	TRY(it_code_msg(t, "AddSwapPath", &req.base, PD_INVALID_ARGUMENT, "neither"));
	/* A file of zeros on tmpfs: the kernel refuses it (no signature, and tmpfs cannot
	 * hold swap), so nothing is enabled on this host. */
	snprintf(file, sizeof(file), "%s/it-swap", volume(t));
	int fd = open(it_agent_path(t, path, sizeof(path), "%s", file), O_WRONLY | O_CREAT, 0600);
	EXPECT(fd >= 0, "create %s: %s", path, strerror(errno));
	EXPECT(ftruncate(fd, 1 << 20) == 0, "ftruncate: %s", strerror(errno));
	close(fd);
	req.path = file;
	TRY(it_code_msg(t, "AddSwapPath", &req.base, PD_INVALID_ARGUMENT, "not a swap area"));
	unlink(path);
	return 0;
out:
	return -1;
}

static int swap_pci_checks(struct it *t)
{
	Grpc__AddSwapRequest req = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t bad_slot[] = {40}, deep[9] = {0}, free_slot[1];
	req.n_pcipath = 0;
	TRY(it_code_msg(t, "AddSwap", &req.base, PD_INVALID_ARGUMENT, "empty PCI path"));
	req.pcipath = bad_slot;
	req.n_pcipath = 1;
	TRY(it_code_msg(t, "AddSwap", &req.base, PD_INVALID_ARGUMENT, "slot 40"));
	req.pcipath = deep;
	req.n_pcipath = 9;
	TRY(it_code_msg(t, "AddSwap", &req.base, PD_INVALID_ARGUMENT, NULL));
	/* A slot with no device (this host's disks are left alone: a slot that holds anything
	 * is never named). */
	int slot = -1;
	for (int s = 31; s > 0 && slot < 0; s--) {
		char p[96];
		snprintf(p, sizeof(p), "/sys/devices/pci0000:00/0000:00:%02x.0", s);
		if (!agent_file_exists(t, p))
			slot = s;
	}
	EXPECT(slot > 0, "every PCI slot of the root bus is taken: no safe slot to name");
	free_slot[0] = (uint32_t)slot;
	req.pcipath = free_slot;
	req.n_pcipath = 1;
	/* Waited for (agent.hotplug_timeout, 3 s by default), in vain: docs/storage.md. */
	TRY(it_code_msg(t, "AddSwap", &req.base, PD_DEADLINE_EXCEEDED, "did not appear"));
	return 0;
out:
	return -1;
}

static int online_cpu_mem(struct it *t)
{
	/* One CPU is online on any host: nothing to write. cpu_only keeps the memory pass
	 * (which would online this host's offline blocks) out of it. */
	Grpc__OnlineCPUMemRequest req = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	req.nb_cpus = 1;
	req.cpu_only = true;
	TRY(it_ok(t, "OnlineCPUMem", &req.base, NULL, NULL));
	req.nb_cpus = 1u << 20; /* more than any kernel's possible CPUs */
	TRY(it_code_msg(t, "OnlineCPUMem", &req.base, PD_INVALID_ARGUMENT, "possible CPUs"));
	return 0;
out:
	return -1;
}

static int mem_hotplug_probe(struct it *t)
{
	Grpc__MemHotplugByProbeRequest req = GRPC__MEM_HOTPLUG_BY_PROBE_REQUEST__INIT;
	uint64_t addr = 0x100000000ULL;
	TRY(it_ok(t, "MemHotplugByProbe", &req.base, NULL, NULL)); /* no addresses: no write */
	if (agent_file_exists(t, "/sys/devices/system/memory/probe")) {
		printf("# MemHotplugByProbe with an address skipped: this host has a probe file\n");
		return 0;
	}
	req.memhotplugprobeaddr = &addr;
	req.n_memhotplugprobeaddr = 1;
	TRY(it_code_msg(t, "MemHotplugByProbe", &req.base, PD_FAILED_PRECONDITION,
			"CONFIG_ARCH_MEMORY_PROBE"));
	return 0;
out:
	return -1;
}

static int resize_volume(struct it *t)
{
	Grpc__ResizeVolumeRequest req = GRPC__RESIZE_VOLUME_REQUEST__INIT;
	req.volume_guest_path = (char *)volume(t);
	req.size = 1 << 30;
	return it_code_msg(t, "ResizeVolume", &req.base, PD_UNIMPLEMENTED,
			   "ResizeVolume is not supported (as in the Kata agent)");
}

/* ---- memory agent: only what touches no knob of this host -------------------------------- */

static int mem_agent(struct it *t)
{
	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	Grpc__MemAgentCompactConfig cc = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	/* Fields that only steer the policy: kept. */
	mc.opt_period_secs_case = GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_PERIOD_SECS_PERIOD_SECS;
	mc.period_secs = 120;
	mc.opt_swappiness_max_case =
		GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_SWAPPINESS_MAX_SWAPPINESS_MAX;
	mc.swappiness_max = 60;
	TRY(it_ok(t, "MemAgentMemcgSet", &mc.base, NULL, NULL));
	TRY(it_ok(t, "MemAgentMemcgSet", NULL, NULL, NULL)); /* nothing set: nothing to do */
	mc.swappiness_max = 201;
	TRY(it_code_msg(t, "MemAgentMemcgSet", &mc.base, PD_INVALID_ARGUMENT, "swappiness_max"));
	/* A zero that is *set* is not an absent field. */
	mc = (Grpc__MemAgentMemcgConfig)GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	mc.opt_period_secs_case = GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_PERIOD_SECS_PERIOD_SECS;
	mc.period_secs = 0;
	TRY(it_code_msg(t, "MemAgentMemcgSet", &mc.base, PD_INVALID_ARGUMENT, "period_secs"));
	/* Enabling memcg eviction needs MGLRU: only tried where the host has none. */
	if (!agent_file_exists(t, "/sys/kernel/mm/lru_gen/enabled")) {
		mc = (Grpc__MemAgentMemcgConfig)GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
		mc.opt_disabled_case = GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_DISABLED_DISABLED;
		mc.disabled = false;
		TRY(it_code_msg(t, "MemAgentMemcgSet", &mc.base, PD_FAILED_PRECONDITION,
				"CONFIG_LRU_GEN"));
	}

	cc.opt_compact_order_case = GRPC__MEM_AGENT_COMPACT_CONFIG__OPT_COMPACT_ORDER_COMPACT_ORDER;
	cc.compact_order = 8;
	cc.opt_compact_threshold_case =
		GRPC__MEM_AGENT_COMPACT_CONFIG__OPT_COMPACT_THRESHOLD_COMPACT_THRESHOLD;
	cc.compact_threshold = 4096;
	TRY(it_ok(t, "MemAgentCompactSet", &cc.base, NULL, NULL));
	cc.opt_compact_sec_max_case =
		GRPC__MEM_AGENT_COMPACT_CONFIG__OPT_COMPACT_SEC_MAX_COMPACT_SEC_MAX;
	cc.compact_sec_max = -1;
	TRY(it_code_msg(t, "MemAgentCompactSet", &cc.base, PD_INVALID_ARGUMENT, "compact_sec_max"));
	if (!agent_file_exists(t, "/proc/sys/vm/compaction_proactiveness")) {
		cc = (Grpc__MemAgentCompactConfig)GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
		cc.opt_disabled_case = GRPC__MEM_AGENT_COMPACT_CONFIG__OPT_DISABLED_DISABLED;
		cc.disabled = true;
		TRY(it_code_msg(t, "MemAgentCompactSet", &cc.base, PD_FAILED_PRECONDITION,
				"compaction"));
	}
	return 0;
out:
	return -1;
}

/* ---- iptables, the image as it is --------------------------------------------------------- */

static bool tool_present(struct it *t, const char *name)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	for (size_t i = 0; i < 4; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (agent_file_exists(t, p))
			return true;
	}
	return false;
}

static int get_iptables(struct it *t, bool v6, Grpc__GetIPTablesResponse **r)
{
	Grpc__GetIPTablesRequest req = GRPC__GET_IPTABLES_REQUEST__INIT;
	req.is_ipv6 = v6;
	return it_ok(t, "GetIPTables", &req.base, &grpc__get_iptables_response__descriptor, r);
}

static int set_iptables(struct it *t, bool v6, const char *rules, Grpc__SetIPTablesResponse **r)
{
	Grpc__SetIPTablesRequest req = GRPC__SET_IPTABLES_REQUEST__INIT;
	req.is_ipv6 = v6;
	req.data.data = (uint8_t *)rules;
	req.data.len = strlen(rules);
	return it_ok(t, "SetIPTables", &req.base, &grpc__set_iptables_response__descriptor, r);
}

/* Real iptables, in the agent's own network namespace (guest.sh starts it in one). */
static int iptables_real(struct it *t)
{
	static const char rules[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
				    ":OUTPUT ACCEPT [0:0]\n"
				    "-A INPUT -s 192.0.2.1/32 -j DROP\nCOMMIT\n";
	Grpc__SetIPTablesResponse *s = NULL;
	Grpc__GetIPTablesResponse *g = NULL;
	Grpc__SetIPTablesRequest bad = GRPC__SET_IPTABLES_REQUEST__INIT;
	int rc = -1;
	TRY(set_iptables(t, false, rules, &s));
	TRY(get_iptables(t, false, &g));
	char *text = strndup((const char *)g->data.data, g->data.len);
	bool has = text && strstr(text, "192.0.2.1");
	free(text);
	EXPECT(has, "GetIPTables after SetIPTables lacks the rule: %s",
	       IT_SHOW(g->data.data, g->data.len));
	bad.data.data = (uint8_t *)"this is not a rule set\n";
	bad.data.len = strlen("this is not a rule set\n");
	TRY(it_code_msg(t, "SetIPTables", &bad.base, PD_INTERNAL, "iptables-restore"));
	rc = 0;
out:
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
	if (g)
		protobuf_c_message_free_unpacked(&g->base, NULL);
	return rc;
}

static int iptables_image(struct it *t)
{
	Grpc__GetIPTablesRequest get = GRPC__GET_IPTABLES_REQUEST__INIT;
	Grpc__SetIPTablesRequest set = GRPC__SET_IPTABLES_REQUEST__INIT;
	bool save = tool_present(t, "iptables-save"), restore = tool_present(t, "iptables-restore");
	if (save && restore) {
		printf("# iptables is installed: checked in the agent's network namespace\n");
		return iptables_real(t);
	}
	if (!save)
		TRY(it_code_msg(t, "GetIPTables", &get.base, PD_FAILED_PRECONDITION,
				"iptables-save is not in the guest image"));
	if (!restore)
		TRY(it_code_msg(t, "SetIPTables", &set.base, PD_FAILED_PRECONDITION,
				"iptables-restore is not in the guest image"));
	get.is_ipv6 = set.is_ipv6 = true;
	if (!tool_present(t, "ip6tables-save"))
		TRY(it_code_msg(t, "GetIPTables", &get.base, PD_FAILED_PRECONDITION,
				"ip6tables-save is not in the guest image"));
	if (!tool_present(t, "ip6tables-restore"))
		TRY(it_code_msg(t, "SetIPTables", &set.base, PD_FAILED_PRECONDITION,
				"ip6tables-restore is not in the guest image"));
	return 0;
out:
	return -1;
}

/* ---- iptables through the stand-ins (second run) ------------------------------------------ */

static int fake_get(struct it *t)
{
	Grpc__GetIPTablesResponse *g4 = NULL, *g6 = NULL;
	static const char want4[] = "# " FAKE_MARK " iptables-save\n*filter\n:INPUT ACCEPT [0:0]\n"
				    "COMMIT\n";
	int rc = -1;
	TRY(get_iptables(t, false, &g4));
	EXPECT(g4->data.len == strlen(want4) && memcmp(g4->data.data, want4, g4->data.len) == 0,
	       "GetIPTables: %s", IT_SHOW(g4->data.data, g4->data.len));
	/* ip6tables-save writes 2,000,000 bytes: many pipe-fulls, one answer. */
	TRY(get_iptables(t, true, &g6));
	size_t head = strlen("# " FAKE_MARK " ip6tables-save\n");
	EXPECT(g6->data.len == head + 2000000, "GetIPTables v6: %zu bytes, want %zu", g6->data.len,
	       head + 2000000);
	EXPECT(memcmp(g6->data.data, "# " FAKE_MARK " ip6tables-save\n", head) == 0 &&
		       g6->data.data[head] == 'x' && g6->data.data[g6->data.len - 1] == 'x',
	       "GetIPTables v6: %s", IT_SHOW(g6->data.data, 80));
	rc = 0;
out:
	if (g4)
		protobuf_c_message_free_unpacked(&g4->base, NULL);
	if (g6)
		protobuf_c_message_free_unpacked(&g6->base, NULL);
	return rc;
}

static int fake_set(struct it *t)
{
	Grpc__SetIPTablesResponse *s = NULL;
	static const char rules[] = "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";
	static const char want[] = "restored --wait 5\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";
	int rc = -1;
	TRY(set_iptables(t, false, rules, &s));
	EXPECT(s->data.len == strlen(want) && memcmp(s->data.data, want, s->data.len) == 0,
	       "SetIPTables: %s", IT_SHOW(s->data.data, s->data.len));
	Grpc__SetIPTablesRequest bad = GRPC__SET_IPTABLES_REQUEST__INIT;
	bad.data.data = (uint8_t *)"*filter\nFAIL\n";
	bad.data.len = strlen("*filter\nFAIL\n");
	TRY(it_code_msg(t, "SetIPTables", &bad.base, PD_INTERNAL,
			"iptables-restore failed with exit status 1: "
			"iptables-restore: line 2 failed"));
	rc = 0;
out:
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
	return rc;
}

/* Three calls in flight on one connection, all parked at once, each answered on its own
 * stream: a running helper does not hold up the connection. The first one's helper waits
 * until the other two are answered (the stand-in on SLOW waits for GATE, made here). */
#define GATE "/run/pidone-it-slow.go"
static int fake_parallel(struct it *t)
{
	Grpc__GetIPTablesRequest g = GRPC__GET_IPTABLES_REQUEST__INIT;
	Grpc__SetIPTablesRequest s = GRPC__SET_IPTABLES_REQUEST__INIT;
	struct pd_error e = {0};
	uint32_t id[3];
	char gate[PATH_MAX];
	it_agent_path(t, gate, sizeof(gate), "%s", GATE);
	unlink(gate);
	s.data.data = (uint8_t *)"SLOW\n";
	s.data.len = 5;
	if (pd_client_send(&t->c, IT_SERVICE, "SetIPTables", &s.base, 0, &id[0], &e) < 0 ||
	    pd_client_send(&t->c, IT_SERVICE, "GetIPTables", &g.base, 0, &id[1], &e) < 0)
		return it_why(t, "send: %s", e.msg);
	g.is_ipv6 = true;
	if (pd_client_send(&t->c, IT_SERVICE, "GetIPTables", &g.base, 0, &id[2], &e) < 0)
		return it_why(t, "send: %s", e.msg);
	bool got[3] = {false, false, false};
	int order[3], n = 0, rc = -1;
	while (n < 3) {
		struct pd_client_reply r;
		if (n == 2) { /* the other two are in: let the first one's helper end */
			int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0)
				return it_why(t, "create %s: %s", gate, strerror(errno));
			close(fd);
		}
		if (pd_client_recv(&t->c, IT_CALL_MS, &r, &e) < 0) {
			it_why(t, "%d of 3 answers: %s", n, e.msg);
			goto out;
		}
		int k = -1;
		for (int j = 0; j < 3; j++)
			if (r.stream_id == id[j])
				k = j;
		if (k >= 0 && (r.code != 0 || got[k])) {
			it_why(t, "call %d: %s (%s)", k, pd_code_name(r.code), r.message);
			pd_client_reply_free(&r);
			goto out;
		}
		pd_client_reply_free(&r);
		if (k < 0)
			continue;
		got[k] = true;
		order[n++] = k;
	}
	/* The gated SetIPTables was sent first and answers last. */
	if (order[2] != 0)
		it_why(t, "answers came in order %d %d %d; the gated call should be last", order[0],
		       order[1], order[2]);
	else
		rc = 0;
out:
	if (n < 2) { /* let the gated helper end */
		int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

/* A helper that hangs (60 s): the call's 1 s deadline answers the host — within IT_CALL_MS,
 * so not the helper's end — and the program is killed. */
static int fake_deadline_kills(struct it *t)
{
	Grpc__SetIPTablesRequest s = GRPC__SET_IPTABLES_REQUEST__INIT;
	struct pd_error e = {0};
	struct pd_client_reply r;
	uint32_t id;
	s.data.data = (uint8_t *)"HANG\n";
	s.data.len = 5;
	if (pd_client_send(&t->c, IT_SERVICE, "SetIPTables", &s.base, 1000000000LL, &id, &e) < 0)
		return it_why(t, "send: %s", e.msg);
	do {
		if (pd_client_recv(&t->c, IT_CALL_MS, &r, &e) < 0)
			return it_why(t, "no answer within %d s: %s", IT_CALL_MS / 1000, e.msg);
		if (r.stream_id != id)
			pd_client_reply_free(&r);
	} while (r.stream_id != id);
	int code = r.code;
	pd_client_reply_free(&r);
	if (code != PD_DEADLINE_EXCEEDED)
		return it_why(t, "SetIPTables: %s, want DEADLINE_EXCEEDED", pd_code_name(code));
	return expect_no_children(t, "after the deadline");
}

/* The host goes away while a helper runs: the program is killed, the agent carries on. */
static int fake_host_goes_away(struct it *t)
{
	struct pd_client c2 = {.fd = -1};
	Grpc__SetIPTablesRequest s = GRPC__SET_IPTABLES_REQUEST__INIT;
	struct pd_error e = {0};
	uint32_t id;
	char ch[256];
	TRY(it_connect(t, &c2));
	s.data.data = (uint8_t *)"HANG\n";
	s.data.len = 5;
	if (pd_client_send(&c2, IT_SERVICE, "SetIPTables", &s.base, 0, &id, &e) < 0) {
		pd_client_close(&c2);
		return it_why(t, "send: %s", e.msg);
	}
	TRY(it_sync(t, &c2)); /* dispatched: the helper runs now */
	agent_children(t, ch, sizeof(ch));
	if (ch[0] == '\0') {
		pd_client_close(&c2);
		return it_why(t, "no helper process while SetIPTables is parked");
	}
	pd_client_close(&c2);
	TRY(expect_no_children(t, "after the host closed its connection"));
	return fake_set(t); /* and the next call works */
out:
	pd_client_close(&c2);
	return -1;
}

static const struct it_case cases[] = {
	{"details", details},
	{"volume_stats", volume_stats},
	{"reseed", reseed},
	{"datetime_refusals", datetime_checks},
	{"swap_path_refusals", swap_path_checks},
	{"swap_pci_refusals", swap_pci_checks},
	{"online_cpu_mem", online_cpu_mem},
	{"mem_hotplug_probe", mem_hotplug_probe},
	{"resize_volume", resize_volume},
	{"mem_agent", mem_agent},
	{"iptables_image", iptables_image},
	{NULL, NULL},
};

static const struct it_case fake_cases[] = {
	{"fake_iptables_get", fake_get},
	{"fake_iptables_set", fake_set},
	{"fake_iptables_parallel", fake_parallel},
	{"fake_iptables_deadline_kills", fake_deadline_kills},
	{"fake_iptables_host_goes_away", fake_host_goes_away},
	{NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (it_init(&t, argc, argv) < 0)
		return 1;
	char path[PATH_MAX];
	char *save = it_read_file(it_agent_path(&t, path, sizeof(path), "/usr/sbin/iptables-save"),
				  NULL);
	bool fake = save && strstr(save, FAKE_MARK);
	free(save);
	it_run_cases(&t, fake ? fake_cases : cases);
	return it_finish(&t, "guest");
}
