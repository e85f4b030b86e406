/* The RPC side of cgroups: LinuxResources from the wire to struct pd_resources (zeros are
 * "not given", checks name the field), and struct pd_cgroup_stats to a CgroupStats that
 * packs and unpacks to the same numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/rpc/resources.h"
#include "agent/rpc/stats_pb.h"

static void test_empty(void **state)
{
	struct pd_arena a;
	struct pd_resources r;
	struct pd_error err;
	pd_arena_init(&a, 0);
	assert_int_equal(pd_rpc_resources_from_pb(NULL, &a, &r, &err), 0);
	assert_false(r.has_mem_limit || r.has_cpu_shares || r.has_pids_limit || r.has_devices);
	Grpc__LinuxResources pb = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	pb.memory = &mem;
	pb.cpu = &cpu;
	/* messages present, all zero: nothing is set (proto3 cannot say "0") */
	assert_int_equal(pd_rpc_resources_from_pb(&pb, &a, &r, &err), 0);
	assert_false(r.has_mem_limit || r.has_mem_swap || r.has_swappiness || r.has_cpu_quota ||
		     r.has_cpu_period || r.cpuset_cpus || r.disable_oom_killer);
	pd_arena_free(&a);
}

static void test_full(void **state)
{
	Grpc__LinuxResources pb = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	Grpc__LinuxBlockIO bio = GRPC__LINUX_BLOCK_IO__INIT;
	Grpc__LinuxWeightDevice wd = GRPC__LINUX_WEIGHT_DEVICE__INIT;
	Grpc__LinuxThrottleDevice td = GRPC__LINUX_THROTTLE_DEVICE__INIT;
	Grpc__LinuxHugepageLimit hl = GRPC__LINUX_HUGEPAGE_LIMIT__INIT;
	Grpc__LinuxDeviceCgroup d0 = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup d1 = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxWeightDevice *wds[] = {&wd};
	Grpc__LinuxThrottleDevice *tds[] = {&td};
	Grpc__LinuxHugepageLimit *hls[] = {&hl};
	Grpc__LinuxDeviceCgroup *devs[] = {&d0, &d1};
	mem.limit = 1 << 20;
	mem.swap = -1;
	mem.swappiness = 30;
	mem.disableoomkiller = 1;
	mem.kernel = 12345; /* ignored */
	cpu.shares = 512;
	cpu.quota = -1;
	cpu.period = 100000;
	cpu.cpus = "0-1,3";
	pids.limit = 0; /* present with 0: unlimited, as Kata */
	bio.weight = 500;
	bio.n_weightdevice = 1;
	bio.weightdevice = wds;
	wd.major = 8;
	wd.weight = 200;
	bio.n_throttlewriteiopsdevice = 1;
	bio.throttlewriteiopsdevice = tds;
	td.major = 253;
	td.minor = 1;
	td.rate = 50;
	hl.pagesize = "2MB";
	hl.limit = 1 << 22;
	d0.type = "";	/* 'a' */
	d0.access = ""; /* rwm */
	d0.major = d0.minor = -1;
	d1.allow = 1;
	d1.type = "c";
	d1.major = 1;
	d1.minor = -1;
	d1.access = "mwr"; /* reordered */
	pb.memory = &mem;
	pb.cpu = &cpu;
	pb.pids = &pids;
	pb.blockio = &bio;
	pb.n_hugepagelimits = 1;
	pb.hugepagelimits = hls;
	pb.n_devices = 2;
	pb.devices = devs;
	struct pd_arena a;
	struct pd_resources r;
	struct pd_error err;
	pd_arena_init(&a, 0);
	if (pd_rpc_resources_from_pb(&pb, &a, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(r.has_mem_limit && r.mem_limit == 1 << 20);
	assert_true(r.has_mem_swap && r.mem_swap == -1);
	assert_false(r.has_mem_reservation);
	assert_true(r.has_swappiness && r.swappiness == 30);
	assert_true(r.disable_oom_killer);
	assert_true(r.has_cpu_shares && r.cpu_shares == 512);
	assert_true(r.has_cpu_quota && r.cpu_quota == -1);
	assert_true(r.has_cpu_period && r.cpu_period == 100000);
	assert_string_equal(r.cpuset_cpus, "0-1,3");
	assert_null(r.cpuset_mems);
	assert_true(r.has_pids_limit && r.pids_limit == -1);
	assert_true(r.has_blkio_weight && r.blkio_weight == 500);
	assert_int_equal(r.n_weight_devs, 1);
	assert_int_equal(r.weight_devs[0].weight, 200);
	assert_int_equal(r.n_throttle[PD_THROTTLE_WRITE_IOPS], 1);
	assert_int_equal(r.throttle[PD_THROTTLE_WRITE_IOPS][0].rate, 50);
	assert_int_equal(r.n_throttle[PD_THROTTLE_READ_BPS], 0);
	assert_int_equal(r.n_hugetlb, 1);
	assert_string_equal(r.hugetlb[0].pagesize, "2MB");
	assert_true(r.has_devices);
	assert_int_equal(r.n_devices, 2);
	assert_int_equal(r.devices[0].type, 'a');
	assert_false(r.devices[0].allow);
	assert_string_equal(r.devices[0].access, "rwm");
	assert_int_equal(r.devices[1].major, 1);
	assert_int_equal(r.devices[1].minor, PD_DEV_ANY);
	assert_string_equal(r.devices[1].access, "rwm");
	pd_arena_free(&a);
}

/* One bad field each; the error names it. */
static void expect_bad(Grpc__LinuxResources *pb, const char *field)
{
	struct pd_arena a;
	struct pd_resources r;
	struct pd_error err;
	pd_arena_init(&a, 0);
	assert_int_equal(pd_rpc_resources_from_pb(pb, &a, &r, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	if (!strstr(err.msg, field))
		fail_msg("'%s' does not name %s", err.msg, field);
	pd_arena_free(&a);
}

static void test_bad(void **state)
{
	Grpc__LinuxResources pb = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	pb.memory = &mem;
	mem.limit = -2;
	expect_bad(&pb, "Memory.Limit");
	mem.limit = 0;
	mem.swappiness = 101;
	expect_bad(&pb, "Memory.Swappiness");
	pb.memory = NULL;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	pb.cpu = &cpu;
	cpu.cpus = "0-1\n+memory";
	expect_bad(&pb, "CPU.Cpus");
	cpu.cpus = "";
	cpu.quota = -5;
	expect_bad(&pb, "CPU.Quota");
	pb.cpu = NULL;
	Grpc__LinuxBlockIO bio = GRPC__LINUX_BLOCK_IO__INIT;
	pb.blockio = &bio;
	bio.weight = 5;
	expect_bad(&pb, "BlockIO.Weight");
	pb.blockio = NULL;
	Grpc__LinuxHugepageLimit hl = GRPC__LINUX_HUGEPAGE_LIMIT__INIT;
	Grpc__LinuxHugepageLimit *hls[] = {&hl};
	pb.n_hugepagelimits = 1;
	pb.hugepagelimits = hls;
	const char *bad_sizes[] = {"2M", "MB", "2mb", "../2MB", "2MBB", ""};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		hl.pagesize = (char *)bad_sizes[i];
		expect_bad(&pb, "HugepageLimits[0].Pagesize");
	}
	pb.n_hugepagelimits = 0;
	Grpc__LinuxDeviceCgroup d = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup *devs[] = {&d};
	pb.n_devices = 1;
	pb.devices = devs;
	d.type = "u";
	expect_bad(&pb, "Devices[0].Type");
	d.type = "c";
	d.access = "rwx";
	expect_bad(&pb, "Devices[0].Access");
	d.access = "r";
	d.major = -2;
	expect_bad(&pb, "Devices[0]");
}

static void test_stats_pb(void **state)
{
	uint64_t percpu[] = {10, 20};
	struct pd_kv kv[] = {{"cache", 5}, {"rss", 6}};
	struct pd_blkio_entry io[] = {{8, 0, "read", 100}, {8, 0, "write", 200}};
	struct pd_hugetlb_stat hs[] = {{"2MB", 1, 2, 3}};
	struct pd_cgroup_stats st = {0};
	st.cpu.total = 1000;
	st.cpu.kernel = 300;
	st.cpu.user = 700;
	st.cpu.percpu = percpu;
	st.cpu.n_percpu = 2;
	st.cpu.throttled_time = 9;
	st.memory.cache = 5;
	st.memory.usage.usage = 4096;
	st.memory.swap.limit = UINT64_MAX;
	st.memory.use_hierarchy = true;
	st.memory.stats = kv;
	st.memory.n_stats = 2;
	st.pids.current = 3;
	st.pids.limit = 10;
	st.blkio[PD_BLKIO_SERVICE_BYTES] = io;
	st.n_blkio[PD_BLKIO_SERVICE_BYTES] = 2;
	st.blkio[PD_BLKIO_SECTORS] = io;
	st.n_blkio[PD_BLKIO_SECTORS] = 1;
	st.hugetlb = hs;
	st.n_hugetlb = 1;
	struct pd_arena a;
	pd_arena_init(&a, 0);
	struct pd_error err;
	Grpc__StatsContainerResponse resp = GRPC__STATS_CONTAINER_RESPONSE__INIT;
	assert_int_equal(pd_rpc_stats_to_pb(&st, &a, &resp.cgroup_stats, &err), 0);
	size_t len = protobuf_c_message_get_packed_size(&resp.base);
	uint8_t *buf = malloc(len);
	protobuf_c_message_pack(&resp.base, buf);
	pd_arena_free(&a);
	Grpc__StatsContainerResponse *back = grpc__stats_container_response__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(back);
	Grpc__CgroupStats *c = back->cgroup_stats;
	assert_int_equal(c->cpu_stats->cpu_usage->total_usage, 1000);
	assert_int_equal(c->cpu_stats->cpu_usage->usage_in_kernelmode, 300);
	assert_int_equal(c->cpu_stats->cpu_usage->usage_in_usermode, 700);
	assert_int_equal(c->cpu_stats->cpu_usage->n_percpu_usage, 2);
	assert_int_equal(c->cpu_stats->cpu_usage->percpu_usage[1], 20);
	assert_int_equal(c->cpu_stats->throttling_data->throttled_time, 9);
	assert_int_equal(c->memory_stats->cache, 5);
	assert_int_equal(c->memory_stats->usage->usage, 4096);
	assert_int_equal(c->memory_stats->swap_usage->limit, UINT64_MAX);
	assert_true(c->memory_stats->use_hierarchy);
	assert_int_equal(c->memory_stats->n_stats, 2);
	assert_string_equal(c->memory_stats->stats[1]->key, "rss");
	assert_int_equal(c->memory_stats->stats[1]->value, 6);
	assert_int_equal(c->pids_stats->current, 3);
	assert_int_equal(c->pids_stats->limit, 10);
	assert_int_equal(c->blkio_stats->n_io_service_bytes_recursive, 2);
	assert_string_equal(c->blkio_stats->io_service_bytes_recursive[1]->op, "write");
	assert_int_equal(c->blkio_stats->io_service_bytes_recursive[1]->value, 200);
	assert_int_equal(c->blkio_stats->n_sectors_recursive, 1);
	assert_int_equal(c->blkio_stats->n_io_serviced_recursive, 0);
	assert_int_equal(c->n_hugetlb_stats, 1);
	assert_string_equal(c->hugetlb_stats[0]->key, "2MB");
	assert_int_equal(c->hugetlb_stats[0]->value->failcnt, 3);
	grpc__stats_container_response__free_unpacked(back, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_stats_pb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
