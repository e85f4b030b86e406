/* The cgroup v1 backend on the real kernel of this host (cgroup v1 hierarchies at
 * /sys/fs/cgroup/<controller>). Every cgroup is made under /sys/fs/cgroup/<ctl>/
 * pidone-test-<pid>/ and everything under it is killed and removed after each test, also
 * when a test fails (teardown) or the program dies early (atexit). Skipped without root or
 * without cgroup v1.
 *
 * What the kernel enforces: a memory limit (a child allocating past it is OOM-killed and
 * the OOM fd reports it), pids.max (a fork loop stops), the freezer (a counting child stops
 * counting), device rules (/dev/kmsg refused until a rule allows it), kill-all (a tree of
 * processes ignoring SIGTERM), removal only when empty. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/skip.h"
#include "helpers/wait.h"

#include "agent/cgroup/cgroup_internal.h"

#define ROOT "/sys/fs/cgroup"

static char parent[64]; /* pidone-test-<pid> */
static bool usable;

/* ---- cleanup: kill and remove everything under the parent, in every hierarchy ---------- */

static void thaw_kill(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("THAWED", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "r");
	int pid;
	while (f && fscanf(f, "%d", &pid) == 1)
		if (pid != getpid())
			kill(pid, SIGKILL);
	if (f)
		fclose(f);
}

static void remove_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.' && depth < 16) {
			char sub[PATH_MAX];
			snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
			remove_tree(sub, depth + 1);
		}
	closedir(d);
	uint64_t end = pd_test_now_ms() + PD_TEST_WAIT_S * 1000ull;
	while (rmdir(dir) < 0 && errno == EBUSY && pd_test_now_ms() < end) {
		thaw_kill(dir);
		pd_test_sleep_ms(10);
	}
}

static void cleanup_all(void)
{
	if (!parent[0])
		return;
	DIR *d = opendir(ROOT);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s/%s", ROOT, e->d_name, parent);
		struct stat st;
		if (e->d_name[0] != '.' && stat(dir, &st) == 0)
			remove_tree(dir, 0);
	}
	closedir(d);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int group_setup(void **state)
{
	snprintf(parent, sizeof(parent), "pidone-test-%d", (int)getpid());
	usable = geteuid() == 0 && pd_cgroup_detect(ROOT) == PD_CGROUP_V1;
	atexit(cleanup_all);
	return 0;
}

static int test_teardown(void **state)
{
	cleanup_all();
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static struct pd_cgroup *make(const char *leaf, const struct pd_resources *res)
{
	if (!usable)
		PD_SKIP("not root, or %s is not a cgroup v1 hierarchy", ROOT);
	char path[256];
	struct pd_cgroup *cg;
	struct pd_error err;
	snprintf(path, sizeof(path), "%s/%s", parent, leaf);
	if (pd_cgroup_create(ROOT, path, res, &cg, &err) < 0)
		fail_msg("create %s: %s", path, err.msg);
	return cg;
}

static const char *kread(struct pd_cgroup *cg, const char *ctl, const char *file)
{
	static char buf[8192];
	const char *dir = pd_cg_v1_dir(cg, ctl);
	assert_non_null(dir);
	if (pd_cg_read(dir, file, buf, sizeof(buf), NULL) < 0)
		return "<unreadable>";
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* Fork a child that moves itself in (pid 0), then runs fn; returns its pid. */
static pid_t spawn_in(struct pd_cgroup *cg, int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pd_error err;
		if (pd_cgroup_enter(cg, 0, &err) < 0)
			_exit(100);
		_exit(fn(arg));
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static uint64_t pids_current(struct pd_cgroup *cg)
{
	struct pd_error err;
	struct pd_cgroup_stats s;
	assert_int_equal(pd_cgroup_stats(cg, &s, &err), 0);
	uint64_t n = s.pids.current;
	pd_cgroup_stats_free(&s);
	return n;
}

static int do_pause(void *arg)
{
	for (;;)
		pause();
	return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_limits_written(void **state)
{
	struct pd_resources res = {
	    .has_mem_limit = true,
	    .mem_limit = 64 << 20,
	    .has_mem_reservation = true,
	    .mem_reservation = 32 << 20,
	    .has_swappiness = true,
	    .swappiness = 10,
	    .has_cpu_shares = true,
	    .cpu_shares = 512,
	    .has_cpu_quota = true,
	    .cpu_quota = 20000,
	    .has_cpu_period = true,
	    .cpu_period = 100000,
	    .cpuset_cpus = "0",
	    .cpuset_mems = "0",
	    .has_pids_limit = true,
	    .pids_limit = 16,
	};
	struct pd_cgroup *cg = make("sub/c1", &res);
	bool memsw = pd_cg_exists(pd_cg_v1_dir(cg, "memory"), "memory.memsw.limit_in_bytes");
	assert_string_equal(kread(cg, "memory", "memory.limit_in_bytes"), "67108864");
	assert_string_equal(kread(cg, "memory", "memory.soft_limit_in_bytes"), "33554432");
	assert_string_equal(kread(cg, "memory", "memory.swappiness"), "10");
	assert_string_equal(kread(cg, "cpu", "cpu.shares"), "512");
	assert_string_equal(kread(cg, "cpu", "cpu.cfs_quota_us"), "20000");
	assert_string_equal(kread(cg, "cpuset", "cpuset.cpus"), "0");
	assert_string_equal(kread(cg, "pids", "pids.max"), "16");
	/* the new parents got the root's cpuset, or nothing could join below them */
	char dir[PATH_MAX], want[64], got[64];
	snprintf(dir, sizeof(dir), "%s/cpuset/%s/sub", ROOT, parent);
	assert_true(pd_cg_read(ROOT "/cpuset", "cpuset.cpus", want, sizeof(want), NULL) > 0);
	assert_true(pd_cg_read(dir, "cpuset.cpus", got, sizeof(got), NULL) > 0);
	assert_string_equal(got, want);
	/* devices: only the allowed list */
	static char devs[8192];
	assert_true(
	    pd_cg_read(pd_cg_v1_dir(cg, "devices"), "devices.list", devs, sizeof(devs), NULL) > 0);
	assert_non_null(strstr(devs, "c 1:3 rwm"));
	assert_non_null(strstr(devs, "c 136:* rwm"));
	assert_null(strstr(devs, "a *:* rwm"));
	/* raising memory and memory+swap together: memsw first, or the kernel refuses */
	struct pd_error err;
	if (memsw) {
		struct pd_resources up = {.has_mem_limit = true,
					  .mem_limit = 128 << 20,
					  .has_mem_swap = true,
					  .mem_swap = 256 << 20};
		assert_int_equal(pd_cgroup_update(cg, &up, &err), 0);
		assert_string_equal(kread(cg, "memory", "memory.memsw.limit_in_bytes"),
				    "268435456");
		assert_string_equal(kread(cg, "memory", "memory.limit_in_bytes"), "134217728");
		/* and lowering both: the limit first */
		struct pd_resources down = {.has_mem_limit = true,
					    .mem_limit = 16 << 20,
					    .has_mem_swap = true,
					    .mem_swap = 16 << 20};
		assert_int_equal(pd_cgroup_update(cg, &down, &err), 0);
		assert_string_equal(kread(cg, "memory", "memory.memsw.limit_in_bytes"), "16777216");
		assert_string_equal(kread(cg, "memory", "memory.limit_in_bytes"), "16777216");
		/* the kernel's own check comes back as an error, not a silent drop */
		struct pd_resources bad = {.has_mem_swap = true, .mem_swap = 8 << 20};
		assert_int_equal(pd_cgroup_update(cg, &bad, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}
	pd_cgroup_free(cg);
}

static int check_own_cgroup(void *arg)
{
	const char *want = arg;
	char buf[4096];
	FILE *f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return 2;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, want) ? 0 : 3;
}

static void test_enter_and_kill(void **state)
{
	struct pd_cgroup *cg = make("c2", NULL);
	char want[128];
	snprintf(want, sizeof(want), ":memory:/%s/c2\n", parent);
	/* a child moves itself in first thing (pid 0) */
	assert_int_equal(wait_status(spawn_in(cg, check_own_cgroup, want)), 0);
	snprintf(want, sizeof(want), ":pids:/%s/c2\n", parent);
	assert_int_equal(wait_status(spawn_in(cg, check_own_cgroup, want)), 0);
	/* the agent moves a process in by pid */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		do_pause(NULL);
	struct pd_error err;
	assert_int_equal(pd_cgroup_enter(cg, pid, &err), 0);
	assert_false(pd_cgroup_is_empty(cg));
	/* removal refuses a busy cgroup and does not wait */
	assert_int_equal(pd_cgroup_remove(cg, &err), -1);
	assert_int_equal(err.errnum, EBUSY);
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 1);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	PD_WAIT_UNTIL(pd_cgroup_is_empty(cg), "the killed processes to leave the cgroup");
	const char *names[PD_CG_MAX_HIER], *paths[PD_CG_MAX_HIER];
	size_t n = pd_cgroup_paths(cg, names, paths, PD_CG_MAX_HIER);
	assert_true(n >= 5);
	assert_int_equal(pd_cgroup_destroy(cg, &err), 0);
	for (size_t i = 0; i < n; i++) {
		struct stat s;
		assert_int_equal(stat(paths[i], &s), -1); /* every hierarchy */
	}
}

static int hog(void *arg)
{
	size_t size = 256u << 20;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 4;
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	return 5; /* survived: the limit did not hold */
}

static void test_memory_limit_oom(void **state)
{
	struct pd_resources res = {.has_mem_limit = true, .mem_limit = 32 << 20};
	char swaps[256] = "";
	int fd = open("/proc/swaps", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, swaps, sizeof(swaps) - 1);
		swaps[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	struct pd_cgroup *cg = make("c3", &res);
	if (strchr(swaps, '\n') != strrchr(swaps, '\n')) { /* swap on: forbid it too */
		struct pd_resources sw = {.has_mem_swap = true, .mem_swap = 32 << 20};
		struct pd_error e;
		if (pd_cgroup_update(cg, &sw, &e) < 0)
			PD_SKIP("swap but no swap accounting: the hog would just swap");
	}
	struct pd_error err;
	int ofd = pd_cgroup_oom_fd(cg, &err);
	assert_true(ofd >= 0);
	int st = wait_status(spawn_in(cg, hog, NULL));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	struct pollfd p = {.fd = ofd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(pd_cgroup_oom_check(cg));
	struct pd_cgroup_stats s;
	assert_int_equal(pd_cgroup_stats(cg, &s, &err), 0);
	assert_int_equal(s.memory.usage.limit, 32 << 20);
	assert_true(s.memory.usage.failcnt > 0);
	assert_true(s.memory.usage.max_usage > (30u << 20));
	pd_cgroup_stats_free(&s);
	pd_cgroup_free(cg);
}

static int fork_loop(void *arg)
{
	int n = 0;
	for (int i = 0; i < 64; i++) {
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0)
			for (;;)
				pause();
		n++;
	}
	return n;
}

static void test_pids_max(void **state)
{
	struct pd_resources res = {.has_pids_limit = true, .pids_limit = 8};
	struct pd_cgroup *cg = make("c4", &res);
	int st = wait_status(spawn_in(cg, fork_loop, NULL));
	assert_true(WIFEXITED(st));
	/* the looping process is one of the 8 */
	assert_int_equal(WEXITSTATUS(st), 7);
	struct pd_error err;
	struct pd_cgroup_stats s;
	assert_int_equal(pd_cgroup_stats(cg, &s, &err), 0);
	assert_int_equal(s.pids.current, 7); /* its children, orphaned, still in there */
	assert_int_equal(s.pids.limit, 8);
	pd_cgroup_stats_free(&s);
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 7);
	PD_WAIT_UNTIL(pd_cgroup_is_empty(cg), "the killed processes to leave the cgroup");
	pd_cgroup_free(cg);
}

static int count(void *arg)
{
	volatile uint64_t *c = arg;
	for (;;)
		(*c)++;
	return 0;
}

static void test_freeze(void **state)
{
	struct pd_cgroup *cg = make("c5", NULL);
	volatile uint64_t *c =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(c != MAP_FAILED);
	pid_t pid = spawn_in(cg, count, (void *)c);
	PD_WAIT_UNTIL(*c != 0, "the counting child to start");
	struct pd_error err;
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_true(pd_cgroup_is_frozen(cg));
	assert_string_equal(kread(cg, "freezer", "freezer.state"), "FROZEN");
	uint64_t before = *c;
	pd_test_sleep_ms(200); /* a window to watch in: frozen, no CPU time can move the count */
	assert_true(*c == before); /* nothing runs */
	assert_int_equal(pd_cgroup_freeze(cg, false, &err), 0);
	assert_false(pd_cgroup_is_frozen(cg));
	PD_WAIT_UNTIL(*c > before, "the thawed child to count again");
	/* kill-all of a frozen cgroup: SIGKILL waits for the thaw, which kill-all does */
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 1);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_false(pd_cgroup_is_frozen(cg));
	munmap((void *)c, 4096);
	pd_cgroup_free(cg);
}

static int stubborn_tree(void *arg)
{
	signal(SIGTERM, SIG_IGN);
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			if (fork() == 0) /* grandchildren too */
				do_pause(NULL);
			do_pause(NULL);
		}
	do_pause(NULL);
	return 0;
}

static void test_kill_all_tree(void **state)
{
	struct pd_cgroup *cg = make("c6", NULL);
	pid_t pid = spawn_in(cg, stubborn_tree, NULL);
	struct pd_error err;
	PD_WAIT_UNTIL(pids_current(cg) == 7, "the tree of 7 processes to be in the cgroup");
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 7);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	PD_WAIT_UNTIL(pd_cgroup_is_empty(cg), "the killed processes to leave the cgroup");
	assert_int_equal(pd_cgroup_destroy(cg, &err), 0);
}

static int open_dev(void *arg)
{
	int fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EPERM ? 1 : 2;
}

static void test_devices(void **state)
{
	struct pd_cgroup *cg = make("c7", NULL);
	/* the defaults: /dev/null yes, /dev/kmsg (c 1:11) no */
	assert_int_equal(WEXITSTATUS(wait_status(spawn_in(cg, open_dev, "/dev/null"))), 0);
	assert_int_equal(WEXITSTATUS(wait_status(spawn_in(cg, open_dev, "/dev/kmsg"))), 1);
	/* a rule allowing reads of it */
	struct pd_device_rule r = {true, 'c', 1, 11, "r"};
	struct pd_resources res = {.has_devices = true, .devices = &r, .n_devices = 1};
	struct pd_error err;
	assert_int_equal(pd_cgroup_update(cg, &res, &err), 0);
	assert_int_equal(WEXITSTATUS(wait_status(spawn_in(cg, open_dev, "/dev/kmsg"))), 0);
	/* a later deny of the same device wins over the earlier allow */
	struct pd_device_rule r2[] = {{true, 'c', 1, 11, "r"}, {false, 'c', 1, 11, "r"}};
	struct pd_resources res2 = {.has_devices = true, .devices = r2, .n_devices = 2};
	assert_int_equal(pd_cgroup_update(cg, &res2, &err), 0);
	assert_int_equal(WEXITSTATUS(wait_status(spawn_in(cg, open_dev, "/dev/kmsg"))), 1);
	pd_cgroup_free(cg);
}

static int burn(void *arg)
{
	volatile char *p =
	    mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < (8u << 20); i += 4096)
		p[i] = 1; /* charged to the cgroup as it is touched */
	pd_test_burn_cpu_ms(150); /* CPU time: a busy machine makes it slower, not shorter */
	*(volatile char *)arg = 1;
	for (;;)
		pause();
}

static void test_stats(void **state)
{
	struct pd_cgroup *cg = make("c8", NULL);
	volatile char *ready =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(ready != MAP_FAILED);
	pid_t pid = spawn_in(cg, burn, (void *)ready);
	PD_WAIT_UNTIL(*ready, "the burner to use 150 ms of CPU");
	struct pd_error err;
	struct pd_cgroup_stats s;
	assert_int_equal(pd_cgroup_stats(cg, &s, &err), 0);
	assert_true(s.cpu.total >= 100000000ull); /* 150 ms burnt */
	assert_int_equal(s.cpu.n_percpu, (size_t)sysconf(_SC_NPROCESSORS_CONF));
	assert_true(s.cpu.user + s.cpu.kernel > 0);
	if (s.memory.usage.usage < (8u << 20))
		fail_msg("usage %llu", (unsigned long long)s.memory.usage.usage);
	assert_true(s.memory.n_stats > 10);
	assert_int_equal(s.pids.current, 1);
	pd_cgroup_stats_free(&s);
	assert_int_equal(pd_cgroup_kill_all(cg, &err), 1);
	wait_status(pid);
	munmap((void *)ready, 4096);
	pd_cgroup_free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_limits_written, test_teardown),
	    cmocka_unit_test_teardown(test_enter_and_kill, test_teardown),
	    cmocka_unit_test_teardown(test_memory_limit_oom, test_teardown),
	    cmocka_unit_test_teardown(test_pids_max, test_teardown),
	    cmocka_unit_test_teardown(test_freeze, test_teardown),
	    cmocka_unit_test_teardown(test_kill_all_tree, test_teardown),
	    cmocka_unit_test_teardown(test_devices, test_teardown),
	    cmocka_unit_test_teardown(test_stats, test_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
