/* The cgroup v2 backend against a fake unified tree: controllers passed down through
 * cgroup.subtree_control, what each resource becomes (cpu.weight from shares, memory.swap.max
 * from memory+swap, io.weight/io.max from blkio), freeze through cgroup.freeze and
 * cgroup.events, kill through cgroup.kill or cgroup.procs, statistics from real-format
 * files, OOM through inotify on memory.events. A fake tree is not a cgroup2 mount, so the
 * device program is built and checked but not attached (test_cgroup_v2_real.c attaches). */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "agent/cgroup/cgroup_internal.h"
#include "cgroup_fake.h"

static const char controllers[] = "cpuset cpu io memory hugetlb pids\n";

/* The files the kernel makes in a v2 cgroup with every controller. */
static void fake_v2_dir(const char *d)
{
	static const char *const empty[] = {"cgroup.procs",  "cgroup.subtree_control",
					    "cgroup.freeze", "cgroup.kill",
					    "cpuset.cpus",   "cpuset.mems",
					    "io.weight",     "io.max",
					    "memory.low",    "memory.oom.group"};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		fk_write(d, empty[i], "");
	fk_write(d, "cgroup.controllers", controllers);
	fk_write(d, "cgroup.events", "populated 0\nfrozen 0\n");
	fk_write(d, "memory.max", "max\n");
	fk_write(d, "memory.swap.max", "max\n");
	fk_write(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
	fk_write(d, "cpu.weight", "100\n");
	fk_write(d, "cpu.max", "max 100000\n");
	fk_write(d, "pids.max", "max\n");
	fk_write(d, "hugetlb.2MB.max", "max\n");
}

struct fake {
	char root[256];
	char pod[512];
	char leaf[512];
};

static void fake_v2(struct fake *f)
{
	fk_tmpdir(f->root, sizeof(f->root));
	fk_write(f->root, "cgroup.controllers", controllers);
	fk_write(f->root, "cgroup.subtree_control", "");
	snprintf(f->pod, sizeof(f->pod), "%s/pod", f->root);
	snprintf(f->leaf, sizeof(f->leaf), "%s/pod/c1", f->root);
	fake_v2_dir(f->pod);
	fake_v2_dir(f->leaf);
}

static struct pd_cgroup *create(struct fake *f, const struct pd_resources *res)
{
	struct pd_cgroup *cg;
	struct pd_error err;
	if (pd_cgroup_create(f->root, "pod/c1", res, &cg, &err) < 0)
		fail_msg("create: %s", err.msg);
	return cg;
}

static void test_v2_create_apply(void **state)
{
	struct fake f;
	fake_v2(&f);
	static const struct pd_blkio_weight_dev wdev[] = {{8, 0, 1000, 0}};
	static const struct pd_blkio_throttle_dev rbps[] = {{8, 0, 1048576}};
	static const struct pd_blkio_throttle_dev wiops[] = {{8, 16, 0}};
	static const struct pd_hugetlb_limit huge[] = {{"2MB", 4194304}};
	static const struct pd_device_rule rules[] = {{true, 'c', 1, 11, "r"}};
	struct pd_resources res = {
	    .has_mem_limit = true,
	    .mem_limit = 104857600,
	    .has_mem_swap = true,
	    .mem_swap = 209715200,
	    .has_mem_reservation = true,
	    .mem_reservation = 52428800,
	    .has_swappiness = true,
	    .swappiness = 10, /* no v2 file: skipped */
	    .has_cpu_shares = true,
	    .cpu_shares = 1024,
	    .has_cpu_quota = true,
	    .cpu_quota = 50000,
	    .has_cpu_period = true,
	    .cpu_period = 100000,
	    .cpuset_cpus = "0-1",
	    .cpuset_mems = "0",
	    .has_pids_limit = true,
	    .pids_limit = 10,
	    .has_blkio_weight = true,
	    .blkio_weight = 500,
	    .hugetlb = huge,
	    .n_hugetlb = 1,
	    .has_devices = true,
	    .devices = rules,
	    .n_devices = 1,
	};
	struct pd_cgroup *cg = create(&f, &res);
	assert_int_equal(pd_cgroup_version(cg), PD_CGROUP_V2);
	assert_true(pd_cgroup_dirfd(cg) >= 0);
	/* the intermediate directory passes every controller down; the leaf does not (it
	 * holds processes) and the root is init's business */
	assert_string_equal(fk_read(f.pod, "cgroup.subtree_control"),
			    "+cpuset +cpu +io +memory +hugetlb +pids");
	assert_string_equal(fk_read(f.leaf, "cgroup.subtree_control"), "");
	assert_string_equal(fk_read(f.root, "cgroup.subtree_control"), "");
	assert_string_equal(fk_read(f.leaf, "memory.max"), "104857600");
	assert_string_equal(fk_read(f.leaf, "memory.low"), "52428800");
	assert_string_equal(fk_read(f.leaf, "memory.swap.max"), "104857600"); /* 200M - 100M */
	assert_string_equal(fk_read(f.leaf, "memory.oom.group"), "1");
	assert_string_equal(fk_read(f.leaf, "cpu.weight"), "39"); /* 1024 shares */
	assert_string_equal(fk_read(f.leaf, "cpu.max"), "50000 100000");
	assert_string_equal(fk_read(f.leaf, "cpuset.cpus"), "0-1");
	assert_string_equal(fk_read(f.leaf, "cpuset.mems"), "0");
	assert_string_equal(fk_read(f.leaf, "pids.max"), "10");
	assert_string_equal(fk_read(f.leaf, "hugetlb.2MB.max"), "4194304");
	/* blkio 500 → 4950 */
	assert_string_equal(fk_read(f.leaf, "io.weight"), "default 4950");
	/* per-device lines are commands (one device each): the fake file keeps them all;
	 * 1000 → 10000 */
	fk_write(f.leaf, "io.weight", "");
	struct pd_resources io = {.weight_devs = wdev, .n_weight_devs = 1};
	io.throttle[PD_THROTTLE_READ_BPS] = rbps;
	io.n_throttle[PD_THROTTLE_READ_BPS] = 1;
	io.throttle[PD_THROTTLE_WRITE_IOPS] = wiops;
	io.n_throttle[PD_THROTTLE_WRITE_IOPS] = 1;
	struct pd_error err;
	assert_int_equal(pd_cgroup_update(cg, &io, &err), 0);
	assert_string_equal(fk_read(f.leaf, "io.weight"), "8:0 10000\n");
	assert_string_equal(fk_read(f.leaf, "io.max"), "8:0 rbps=1048576\n8:16 wiops=max\n");
	const char *names[2], *paths[2];
	assert_int_equal(pd_cgroup_paths(cg, names, paths, 2), 1);
	assert_string_equal(names[0], "");
	assert_string_equal(paths[0], f.leaf);
	assert_int_equal(pd_cgroup_enter(cg, 99, &err), 0);
	assert_string_equal(fk_read(f.leaf, "cgroup.procs"), "99\n");
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static void test_v2_update_rules(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_error err;
	/* no limits at create: nothing written but oom.group */
	assert_string_equal(fk_read(f.leaf, "memory.max"), "max\n");
	assert_string_equal(fk_read(f.leaf, "memory.oom.group"), "1");
	/* swap alone: against the limit that is set */
	fk_write(f.leaf, "memory.max", "1000\n");
	struct pd_resources swap = {.has_mem_swap = true, .mem_swap = 1500};
	assert_int_equal(pd_cgroup_update(cg, &swap, &err), 0);
	assert_string_equal(fk_read(f.leaf, "memory.swap.max"), "500");
	/* memory unlimited, swap unsaid: both unlimited */
	struct pd_resources unl = {.has_mem_limit = true, .mem_limit = -1};
	assert_int_equal(pd_cgroup_update(cg, &unl, &err), 0);
	assert_string_equal(fk_read(f.leaf, "memory.max"), "max");
	assert_string_equal(fk_read(f.leaf, "memory.swap.max"), "max");
	/* swap without any limit: cannot be said on v2 */
	struct pd_resources bad = {.has_mem_swap = true, .mem_swap = 1500};
	assert_int_equal(pd_cgroup_update(cg, &bad, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	/* the period alone keeps the quota */
	fk_write(f.leaf, "cpu.max", "20000 100000\n");
	struct pd_resources period = {.has_cpu_period = true, .cpu_period = 50000};
	assert_int_equal(pd_cgroup_update(cg, &period, &err), 0);
	assert_string_equal(fk_read(f.leaf, "cpu.max"), "20000 50000");
	/* what v2 cannot do */
	struct pd_resources rt = {.has_rt_runtime = true, .rt_runtime = 1000};
	assert_int_equal(pd_cgroup_update(cg, &rt, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	struct pd_resources net = {.has_net_classid = true, .net_classid = 1};
	assert_int_equal(pd_cgroup_update(cg, &net, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	struct pd_resources leaf_w = {.has_blkio_leaf_weight = true, .blkio_leaf_weight = 100};
	assert_int_equal(pd_cgroup_update(cg, &leaf_w, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	/* a controller not enabled has no files: FAILED_PRECONDITION naming it */
	char path[600];
	snprintf(path, sizeof(path), "%s/pids.max", f.leaf);
	assert_int_equal(unlink(path), 0);
	struct pd_resources pids = {.has_pids_limit = true, .pids_limit = 3};
	assert_int_equal(pd_cgroup_update(cg, &pids, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "pids controller is not enabled"));
	/* a bad device rule fails even where no program can be attached */
	struct pd_device_rule r = {true, 'c', 1, 1, "rwx"};
	struct pd_resources dev = {.has_devices = true, .devices = &r, .n_devices = 1};
	assert_int_equal(pd_cgroup_update(cg, &dev, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static void test_v2_made_dirs(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_cgroup *cg;
	struct pd_error err;
	/* "new" is made, but a fake directory has no cgroup.controllers to pass down: the
	 * create fails and removes what it made */
	assert_int_equal(pd_cgroup_create(f.root, "new/c2", NULL, &cg, &err), -1);
	char d[600];
	snprintf(d, sizeof(d), "%s/new", f.root);
	assert_false(fk_exists(d));
	/* a path of one component needs nothing passed down; the leaf has no cgroup.events:
	 * also refused */
	assert_int_equal(pd_cgroup_create(f.root, "c3", NULL, &cg, &err), -1);
	snprintf(d, sizeof(d), "%s/c3", f.root);
	assert_false(fk_exists(d));
	fk_rm_rf(f.root);
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_v2_freeze(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_error err;
	assert_false(pd_cgroup_is_frozen(cg));
	/* the kernel reports frozen: done at once */
	fk_write(f.leaf, "cgroup.events", "populated 1\nfrozen 1\n");
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_string_equal(fk_read(f.leaf, "cgroup.freeze"), "1");
	assert_true(pd_cgroup_is_frozen(cg));
	assert_int_equal(pd_cgroup_freeze(cg, false, &err), 0);
	assert_string_equal(fk_read(f.leaf, "cgroup.freeze"), "0");
	/* never reported frozen: UNAVAILABLE after the bound, and thawed again */
	fk_write(f.leaf, "cgroup.events", "populated 1\nfrozen 0\n");
	int64_t t0 = ms_now();
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), -1);
	int64_t took = ms_now() - t0;
	assert_int_equal(err.code, PD_UNAVAILABLE);
	assert_true(took >= PD_CGROUP_FREEZE_MS - 50); /* a floor: waited the whole bound */
	assert_string_equal(fk_read(f.leaf, "cgroup.freeze"), "0");
	/* a kernel without the v2 freezer */
	char path[600];
	snprintf(path, sizeof(path), "%s/cgroup.freeze", f.leaf);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		for (;;)
			pause();
	return pid;
}

static void test_v2_kill(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_error err;
	/* cgroup.kill: one write, the kernel does the rest */
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 0);
	assert_string_equal(fk_read(f.leaf, "cgroup.kill"), "1\n");
	/* without it (Linux < 5.14): freeze, kill what cgroup.procs lists, thaw */
	char path[600], procs[64];
	snprintf(path, sizeof(path), "%s/cgroup.kill", f.leaf);
	assert_int_equal(unlink(path), 0);
	pid_t a = sleeper();
	snprintf(procs, sizeof(procs), "%d\n%d\n", (int)getpid(), (int)a);
	fk_write(f.leaf, "cgroup.procs", procs);
	fk_write(f.leaf, "cgroup.events", "populated 1\nfrozen 1\n");
	assert_false(pd_cgroup_is_empty(cg));
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 1);
	int st;
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_string_equal(fk_read(f.leaf, "cgroup.freeze"), "0");
	fk_write(f.leaf, "cgroup.events", "populated 0\nfrozen 0\n");
	assert_true(pd_cgroup_is_empty(cg));
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static void test_v2_stats(void **state)
{
	struct fake f;
	fake_v2(&f);
	fk_write(f.leaf, "cpu.stat",
		 "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n"
		 "core_sched.force_idle_usec 0\nnr_periods 4\nnr_throttled 1\n"
		 "throttled_usec 700\nnr_bursts 0\nburst_usec 0\n");
	fk_write(f.leaf, "memory.current", "3497984\n");
	fk_write(f.leaf, "memory.peak", "4000000\n");
	fk_write(f.leaf, "memory.max", "33554432\n");
	fk_write(f.leaf, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	fk_write(f.leaf, "memory.swap.current", "1000\n");
	fk_write(f.leaf, "memory.swap.max", "max\n");
	fk_write(f.leaf, "memory.swap.events", "high 0\nmax 0\nfail 2\n");
	fk_write(f.leaf, "memory.stat",
		 "anon 2342912\nfile 1155072\nkernel 65536\n"
		 "kernel_stack 16384\nslab 40000\nsock 0\n");
	fk_write(f.leaf, "pids.current", "3\n");
	fk_write(f.leaf, "pids.max", "100\n");
	fk_write(f.leaf, "io.stat",
		 "8:0 rbytes=1048576 wbytes=4096 rios=16 wios=1 dbytes=0 "
		 "dios=0\n");
	fk_write(f.leaf, "hugetlb.2MB.current", "2097152\n");
	fk_write(f.leaf, "hugetlb.2MB.events", "max 4\n");
	fk_write(f.leaf, "hugetlb.2MB.rsvd.current", "0\n");
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_cgroup_stats st;
	struct pd_error err;
	assert_int_equal(pd_cgroup_stats(cg, &st, &err), 0);
	assert_int_equal(st.cpu.total, 5000000); /* microseconds to nanoseconds */
	assert_int_equal(st.cpu.user, 3000000);
	assert_int_equal(st.cpu.kernel, 2000000);
	assert_int_equal(st.cpu.n_percpu, 0);
	assert_int_equal(st.cpu.periods, 4);
	assert_int_equal(st.cpu.throttled_periods, 1);
	assert_int_equal(st.cpu.throttled_time, 700000);
	assert_int_equal(st.memory.usage.usage, 3497984);
	assert_int_equal(st.memory.usage.max_usage, 4000000);
	assert_int_equal(st.memory.usage.limit, 33554432);
	assert_int_equal(st.memory.usage.failcnt, 3);
	assert_int_equal(st.memory.swap.usage, 3497984 + 1000); /* memory + swap, as memsw */
	assert_int_equal(st.memory.swap.limit, UINT64_MAX);
	assert_int_equal(st.memory.swap.failcnt, 2);
	assert_int_equal(st.memory.kernel.usage, 65536);
	assert_int_equal(st.memory.cache, 1155072);
	assert_true(st.memory.use_hierarchy);
	assert_int_equal(st.memory.n_stats, 6);
	assert_int_equal(st.pids.current, 3);
	assert_int_equal(st.pids.limit, 100);
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICE_BYTES], 3);
	assert_int_equal(st.blkio[PD_BLKIO_SERVICE_BYTES][0].value, 1048576);
	assert_int_equal(st.n_blkio[PD_BLKIO_SERVICED], 3);
	assert_int_equal(st.blkio[PD_BLKIO_SERVICED][0].value, 16);
	assert_int_equal(st.n_hugetlb, 1);
	assert_string_equal(st.hugetlb[0].pagesize, "2MB");
	assert_int_equal(st.hugetlb[0].usage, 2097152);
	assert_int_equal(st.hugetlb[0].failcnt, 4);
	pd_cgroup_stats_free(&st);
	/* before Linux 5.18: no "kernel" line, stack + slab */
	fk_write(f.leaf, "memory.stat", "anon 1\nfile 2\nkernel_stack 16384\nslab 40000\n");
	assert_int_equal(pd_cgroup_stats(cg, &st, &err), 0);
	assert_int_equal(st.memory.kernel.usage, 56384);
	pd_cgroup_stats_free(&st);
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static void test_v2_oom(void **state)
{
	struct fake f;
	fake_v2(&f);
	fk_write(f.leaf, "memory.events", "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n");
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_error err;
	int fd = pd_cgroup_oom_fd(cg, &err);
	assert_true(fd >= 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);
	/* the kernel modifies memory.events: the fd is readable, but no new kill yet */
	fk_write(f.leaf, "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_false(pd_cgroup_oom_check(cg));
	assert_int_equal(poll(&p, 1, 0), 0); /* drained */
	fk_write(f.leaf, "memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_true(pd_cgroup_oom_check(cg));
	assert_false(pd_cgroup_oom_check(cg));
	pd_cgroup_free(cg);
	/* no memory controller: no memory.events */
	char path[600];
	snprintf(path, sizeof(path), "%s/memory.events", f.leaf);
	assert_int_equal(unlink(path), 0);
	cg = create(&f, NULL);
	assert_int_equal(pd_cgroup_oom_fd(cg, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_false(pd_cgroup_oom_check(cg));
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

static void test_v2_remove(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_cgroup *cg = create(&f, NULL);
	struct pd_error err;
	fk_rm_rf(f.leaf);
	fk_mkdir("%s/sub", f.leaf);
	assert_int_equal(pd_cgroup_destroy(cg, &err), 0);
	assert_false(fk_exists(f.leaf));
	assert_true(fk_exists(f.pod));
	fk_rm_rf(f.pod);
	fk_mkdir("%s/pidone-x/p2", f.root);
	pd_cgroup_remove_parent(f.root, "pidone-x/p2");
	char d[600];
	snprintf(d, sizeof(d), "%s/pidone-x", f.root);
	assert_false(fk_exists(d));
	fk_rm_rf(f.root);
}

/* OnlineCPUMem on v2: effective CPUs follow by themselves where cpuset.cpus is empty; a
 * level with a list of its own gets the root's effective list, a pinned container its pin. */
static void test_v2_cpuset_online(void **state)
{
	struct fake f;
	fake_v2(&f);
	struct pd_error err;
	fk_write(f.root, "cpuset.cpus.effective", "0-3\n");
	struct pd_cgroup *cg = create(&f, NULL);
	assert_int_equal(pd_cgroup_cpuset_online(cg, &err), 0);
	assert_string_equal(fk_read(f.pod, "cpuset.cpus"), "");
	assert_string_equal(fk_read(f.leaf, "cpuset.cpus"), "");
	fk_write(f.pod, "cpuset.cpus", "0-1\n");
	assert_int_equal(pd_cgroup_cpuset_online(cg, &err), 0);
	assert_string_equal(fk_read(f.pod, "cpuset.cpus"), "0-3");
	assert_string_equal(fk_read(f.leaf, "cpuset.cpus"), "");
	struct pd_resources pin = {.cpuset_cpus = "1"};
	assert_int_equal(pd_cgroup_update(cg, &pin, &err), 0);
	fk_write(f.root, "cpuset.cpus.effective", "0-7\n");
	assert_int_equal(pd_cgroup_cpuset_online(cg, &err), 0);
	assert_string_equal(fk_read(f.pod, "cpuset.cpus"), "0-7");
	assert_string_equal(fk_read(f.leaf, "cpuset.cpus"), "1");
	/* no cpuset controller at the root: nothing to do */
	char path[600];
	snprintf(path, sizeof(path), "%s/cpuset.cpus.effective", f.root);
	assert_int_equal(unlink(path), 0);
	fk_write(f.pod, "cpuset.cpus", "0\n");
	assert_int_equal(pd_cgroup_cpuset_online(cg, &err), 0);
	assert_string_equal(fk_read(f.pod, "cpuset.cpus"), "0\n");
	pd_cgroup_free(cg);
	fk_rm_rf(f.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v2_create_apply), cmocka_unit_test(test_v2_update_rules),
	    cmocka_unit_test(test_v2_made_dirs),    cmocka_unit_test(test_v2_freeze),
	    cmocka_unit_test(test_v2_kill),	    cmocka_unit_test(test_v2_stats),
	    cmocka_unit_test(test_v2_oom),	    cmocka_unit_test(test_v2_remove),
	    cmocka_unit_test(test_v2_cpuset_online),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
