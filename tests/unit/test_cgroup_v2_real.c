/* The cgroup v2 backend on a real cgroup2 mount. This host boots cgroup v1 but also mounts
 * the (controller-less) unified hierarchy at /sys/fs/cgroup/unified, which is enough for
 * what v2 does without controllers: clone3(CLONE_INTO_CGROUP) and the cgroup namespace
 * rooted at the new cgroup, cgroup.freeze with its cgroup.events notification, cgroup.kill,
 * removal rules, and the eBPF device program (cgroup BPF belongs to the unified hierarchy).
 * The controllers' limits on v2 are checked in the QEMU boot test, whose guest runs
 * systemd.unified_cgroup_hierarchy=1 (docs/cgroups.md). PD_CGROUP2_ROOT overrides where the
 * cgroup2 mount is. Everything lives under <root>/pidone-test-<pid>/ and is killed and
 * removed after each test and at exit. Skipped without root or without a cgroup2 mount. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
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
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/skip.h"
#include "helpers/wait.h"

#include "agent/cgroup/cgroup_internal.h"

static char root[256];
static char parent[64];
static bool usable;

static void kill_in(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("0", f);
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
		kill_in(dir);
		pd_test_sleep_ms(10);
	}
}

static void cleanup_all(void)
{
	if (!usable)
		return;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", root, parent);
	remove_tree(dir, 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int group_setup(void **state)
{
	const char *env = getenv("PD_CGROUP2_ROOT");
	snprintf(root, sizeof(root), "%s", env ? env : "/sys/fs/cgroup/unified");
	struct statfs fs;
	if (statfs(root, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(root, sizeof(root), "/sys/fs/cgroup");
		if (statfs(root, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
			root[0] = '\0';
	}
	snprintf(parent, sizeof(parent), "pidone-test-%d", (int)getpid());
	usable = geteuid() == 0 && root[0];
	atexit(cleanup_all);
	return 0;
}

static int test_teardown(void **state)
{
	cleanup_all();
	return 0;
}

static struct pd_cgroup *make(const char *leaf, const struct pd_resources *res)
{
	if (!usable)
		PD_SKIP("not root, or no cgroup v2 hierarchy to test under");
	char path[256];
	struct pd_cgroup *cg;
	struct pd_error err;
	snprintf(path, sizeof(path), "%s/%s", parent, leaf);
	if (pd_cgroup_create(root, path, res, &cg, &err) < 0)
		fail_msg("create %s under %s: %s", path, root, err.msg);
	assert_int_equal(pd_cgroup_version(cg), PD_CGROUP_V2);
	return cg;
}

/* What pidone's spawn does: clone3 straight into the cgroup, with a cgroup namespace. The
 * child runs fn; returns its pid. */
static pid_t clone_into(struct pd_cgroup *cg, uint64_t flags, int (*fn)(void *), void *arg)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP | flags;
	args.cgroup = (uint64_t)pd_cgroup_dirfd(cg);
	args.exit_signal = SIGCHLD;
	fflush(NULL);
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	return (pid_t)pid;
}

static int wait_status(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int do_pause(void *arg)
{
	for (;;)
		pause();
	return 0;
}

static int read_own_cgroup(void *arg)
{
	char buf[512];
	int fd = open("/proc/self/cgroup", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 2;
	buf[n] = '\0';
	/* in its own cgroup namespace, rooted at its cgroup: "0::/" */
	return strstr(buf, "0::/\n") ? 0 : 3;
}

static void test_clone_into_cgroup(void **state)
{
	struct pd_cgroup *cg = make("c1", NULL);
	/* into the cgroup, in a new cgroup namespace whose root is that cgroup */
	pid_t pid = clone_into(cg, CLONE_NEWCGROUP, read_own_cgroup, NULL);
	assert_int_equal(WEXITSTATUS(wait_status(pid)), 0);
	/* seen from here: the full path */
	pid = clone_into(cg, 0, do_pause, NULL);
	char path[64], buf[512], want[128];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "0::/%s/c1\n", parent);
	if (strcmp(root, "/sys/fs/cgroup/unified") == 0 || strcmp(root, "/sys/fs/cgroup") == 0)
		assert_non_null(strstr(buf, want));
	assert_false(pd_cgroup_is_empty(cg));
	struct pd_error err;
	/* busy: refused at once */
	assert_int_equal(pd_cgroup_remove(cg, &err), -1);
	assert_int_equal(err.errnum, EBUSY);
	assert_true(pd_cgroup_kill_all(cg, &err) >= 0);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_true(pd_cgroup_is_empty(cg));
	const char *names[1], *paths[1];
	assert_int_equal(pd_cgroup_paths(cg, names, paths, 1), 1);
	assert_string_equal(names[0], "");
	snprintf(want, sizeof(want), "%s/%s/c1", root, parent);
	assert_string_equal(paths[0], want);
	assert_int_equal(pd_cgroup_destroy(cg, &err), 0);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s/c1", root, parent);
	struct stat s;
	assert_int_equal(stat(dir, &s), -1);
}

static int has_line(void *arg)
{
	char buf[512];
	int fd = open("/proc/self/cgroup", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 2;
	buf[n] = '\0';
	return strstr(buf, arg) ? 0 : 3;
}

static void test_enter_by_pid(void **state)
{
	struct pd_cgroup *cg = make("c2", NULL);
	char want[128];
	snprintf(want, sizeof(want), "0::/%s/c2\n", parent);
	if (strcmp(root, "/sys/fs/cgroup/unified") != 0 && strcmp(root, "/sys/fs/cgroup") != 0)
		PD_SKIP("cgroup2 mounted at %s: /proc's line is relative to another mount", root);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct pd_error err;
		_exit(pd_cgroup_enter(cg, 0, &err) == 0 ? has_line(want) : 5);
	}
	assert_int_equal(WEXITSTATUS(wait_status(pid)), 0);
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
	struct pd_cgroup *cg = make("c3", NULL);
	volatile uint64_t *c =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(c != MAP_FAILED);
	pid_t pid = clone_into(cg, 0, count, (void *)c);
	PD_WAIT_UNTIL(*c != 0, "the counting child to start");
	struct pd_error err;
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_true(pd_cgroup_is_frozen(cg));
	uint64_t before = *c;
	pd_test_sleep_ms(200); /* a window to watch in: frozen, no CPU time can move the count */
	assert_true(*c == before);
	assert_int_equal(pd_cgroup_freeze(cg, false, &err), 0);
	PD_WAIT_UNTIL(*c > before, "the thawed child to count again");
	assert_false(pd_cgroup_is_frozen(cg));
	/* kill while frozen */
	assert_int_equal(pd_cgroup_freeze(cg, true, &err), 0);
	assert_true(pd_cgroup_kill_all(cg, &err) >= 0);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	munmap((void *)c, 4096);
	pd_cgroup_free(cg);
}

static int tree(void *arg)
{
	signal(SIGTERM, SIG_IGN);
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			if (fork() == 0)
				do_pause(NULL);
			do_pause(NULL);
		}
	return do_pause(NULL);
}

static int procs_lines(struct pd_cgroup *cg)
{
	char buf[4096] = "";
	int lines = 0;

	pd_cg_read(cg->dir, "cgroup.procs", buf, sizeof(buf), NULL);
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	return lines;
}

static void test_kill_tree(void **state)
{
	struct pd_cgroup *cg = make("c4", NULL);
	pid_t pid = clone_into(cg, 0, tree, NULL);
	PD_WAIT_UNTIL(procs_lines(cg) == 7, "the tree of 7 processes to be in the cgroup");
	struct pd_error err;
	assert_true(pd_cgroup_kill_all(cg, &err) >= 0);
	int st = wait_status(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	PD_WAIT_UNTIL(pd_cgroup_is_empty(cg), "the killed tree to leave the cgroup");
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

static int run_open(struct pd_cgroup *cg, const char *dev)
{
	return WEXITSTATUS(wait_status(clone_into(cg, 0, open_dev, (void *)dev)));
}

/* How many device programs are attached to the cgroup itself. */
static unsigned attached(struct pd_cgroup *cg)
{
	int fd = open(cg->dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	uint32_t ids[16];
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_cnt = 16;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)), 0);
	close(fd);
	return attr.query.prog_cnt;
}

static void test_device_program(void **state)
{
	struct pd_cgroup *cg = make("c5", NULL);
	/* the program attached at create: the defaults only */
	assert_true(cg->dev_prog_fd >= 0);
	assert_int_equal(run_open(cg, "/dev/null"), 0);
	assert_int_equal(run_open(cg, "/dev/zero"), 0);
	assert_int_equal(run_open(cg, "/dev/kmsg"), 1);
	/* replaced by one that also allows reading c 1:11 */
	struct pd_device_rule r = {true, 'c', 1, 11, "r"};
	struct pd_resources res = {.has_devices = true, .devices = &r, .n_devices = 1};
	struct pd_error err;
	assert_int_equal(attached(cg), 1);
	assert_int_equal(pd_cgroup_update(cg, &res, &err), 0);
	assert_true(cg->dev_prog_fd >= 0);
	assert_int_equal(attached(cg), 1); /* replaced, not added */
	assert_int_equal(run_open(cg, "/dev/kmsg"), 0);
	/* the last rule wins: allow then deny */
	struct pd_device_rule r2[] = {{true, 'c', 1, 11, "r"}, {false, 'c', 1, 11, "w"}};
	struct pd_resources res2 = {.has_devices = true, .devices = r2, .n_devices = 2};
	assert_int_equal(pd_cgroup_update(cg, &res2, &err), 0);
	assert_int_equal(run_open(cg, "/dev/kmsg"), 0); /* a read is not a write */
	struct pd_device_rule r3[] = {{true, 'c', 1, 11, "r"}, {false, 'c', 1, 11, "r"}};
	struct pd_resources res3 = {.has_devices = true, .devices = r3, .n_devices = 2};
	assert_int_equal(pd_cgroup_update(cg, &res3, &err), 0);
	assert_int_equal(run_open(cg, "/dev/kmsg"), 1);
	assert_int_equal(attached(cg), 1);
	/* an update without device rules keeps the program */
	struct pd_resources none = {0};
	assert_int_equal(pd_cgroup_update(cg, &none, &err), 0);
	assert_int_equal(run_open(cg, "/dev/kmsg"), 1);
	pd_cgroup_free(cg);
}

static void test_no_controller(void **state)
{
	/* nothing passes controllers down to the test's cgroups here (the host's root keeps
	 * its subtree_control): a memory limit has no file to go to */
	struct pd_cgroup *cg = make("c6", NULL);
	if (pd_cg_exists(cg->dir, "memory.max")) {
		pd_cgroup_free(cg);
		PD_SKIP("this root passes memory down (as in the QEMU guest)");
	}
	struct pd_resources res = {.has_mem_limit = true, .mem_limit = 1 << 24};
	struct pd_error err;
	assert_int_equal(pd_cgroup_update(cg, &res, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_int_equal(pd_cgroup_oom_fd(cg, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	pd_cgroup_free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_clone_into_cgroup, test_teardown),
	    cmocka_unit_test_teardown(test_enter_by_pid, test_teardown),
	    cmocka_unit_test_teardown(test_freeze, test_teardown),
	    cmocka_unit_test_teardown(test_kill_tree, test_teardown),
	    cmocka_unit_test_teardown(test_device_program, test_teardown),
	    cmocka_unit_test_teardown(test_no_controller, test_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
