/* pid 1's boot and shutdown for real, where that is safe on a host:
 *   - cgroup helpers on fake directories and sample /proc/cgroups text (mounting cgroups on
 *     the host would move its controllers, so that part is left to the QEMU boot test);
 *   - the early mounts inside a private mount namespace, chrooted into an empty tmpfs —
 *     what an initramfs looks like to pid 1;
 *   - pd_shutdown as pid 1 of a fresh pid namespace, where reboot(RB_POWER_OFF) ends the
 *     namespace with SIGINT instead of powering anything off.
 * The namespace tests need root and are skipped without it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include "init/boot.h"
#include "init/cgroups.h"
#include "init/console.h"
#include "init/mounts.h"

#define CHILD_SKIP 77

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Run fn in a child; returns its exit status (CHILD_SKIP -> cmocka skip). */
static int run_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP)
		PD_SKIP("not root, or no new namespaces");
	return status;
}

/* A private mount namespace: nothing mounted or unmounted here reaches the host. */
static int private_mount_ns(int extra_flags)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNS | extra_flags) < 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -2;
	return 0;
}

/* --- cgroups -------------------------------------------------------------------------------- */

static void test_cgroup_v1_enabled(void **state)
{
	static const char text[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
				   "cpuset\t3\t1\t1\n"
				   "cpu\t1\t1\t1\n"
				   "cpuacct\t2\t1\t1\n"
				   "memory\t4\t26\t1\n"
				   "devices\t5\t1\t1\n"
				   "rdma\t0\t1\t0\n" /* disabled */
				   "misc\t0\t1\t1\n" /* not in Kata's set */
				   "garbage line\n"
				   "pids\t8\t1\t1"; /* no newline */
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	unsigned mask = pd_cgroup_v1_enabled(f);
	fclose(f);
	unsigned want = 0;
	static const char *const on[] = {"cpuset", "cpu", "cpuacct", "memory", "devices", "pids"};
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		for (int k = 0; pd_cgroup_v1_known[k]; k++)
			if (strcmp(pd_cgroup_v1_known[k], on[i]) == 0)
				want |= 1u << k;
	assert_int_equal(mask, want);
}

static void test_cgroup2_enable_all(void **state)
{
	char dir[] = "/tmp/pd-cg-XXXXXX", path[128], buf[256];
	assert_non_null(mkdtemp(dir));
	struct pd_error err = {0};

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	write_text(path, "cpuset cpu io memory hugetlb pids rdma misc\n");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	write_text(path, "");
	assert_int_equal(pd_cgroup2_enable_all(dir, &err), 0);
	read_text(path, buf, sizeof(buf));
	assert_string_equal(buf, "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc");

	/* No controllers: nothing written. */
	write_text(path, "untouched");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	write_text(path, "\n");
	assert_int_equal(pd_cgroup2_enable_all(dir, &err), 0);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	read_text(path, buf, sizeof(buf));
	assert_string_equal(buf, "untouched");

	/* A subtree_control that refuses every write: each controller is tried and counted. */
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	write_text(path, "cpu memory pids");
	assert_int_equal(pd_cgroup2_enable_all(dir, &err), 3);

	/* No cgroup.controllers: an error. */
	unlink(path);
	assert_int_equal(pd_cgroup2_enable_all(dir, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	rm_rf(dir);
}

/* --- console helpers ---------------------------------------------------------------------------
 */

static void test_hostname_read(void **state)
{
	char dir[] = "/tmp/pd-host-XXXXXX", path[128], name[65];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hostname", dir);

	write_text(path, "sandbox-1\nignored\n");
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "sandbox-1");
	write_text(path, "  \t spaced   host\n");
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "spaced");
	write_text(path, "");
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "localhost");
	write_text(path, "\n\n   \n");
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "localhost");
	write_text(path, "a-name-of-seventy-characters-is-more-than-HOST_NAME_MAX-allows-xxxxxx");
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "localhost");
	unlink(path);
	pd_hostname_read(path, name, sizeof(name));
	assert_string_equal(name, "localhost");
	rmdir(dir);
}

static void test_link_ptmx(void **state)
{
	char dir[] = "/tmp/pd-dev-XXXXXX", path[128], target[32];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ptmx", dir);
	struct pd_error err = {0};

	write_text(path, "a device node in real life");
	assert_int_equal(pd_console_link_ptmx(dir, &err), 0);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	assert_int_equal(n, 8);
	target[n] = '\0';
	assert_string_equal(target, "pts/ptmx");
	assert_int_equal(pd_console_link_ptmx(dir, &err), 0); /* again: unchanged */
	unlink(path);
	assert_int_equal(pd_console_link_ptmx(dir, &err), 0); /* missing: created */
	assert_int_equal(readlink(path, target, sizeof(target) - 1), 8);
	unlink(path);
	rmdir(dir);
	assert_int_equal(pd_console_link_ptmx(dir, &err), -1); /* no such directory */
	assert_int_equal(err.errnum, ENOENT);
}

/* --- early mounts in an empty root -------------------------------------------------------- */

static const struct {
	const char *path, *fstype;
} expected_mounts[] = {
    {"/proc", "proc"},	    {"/sys", "sysfs"}, {"/dev", "devtmpfs"}, {"/dev/shm", "tmpfs"},
    {"/dev/pts", "devpts"}, {"/run", "tmpfs"}, {"/tmp", "tmpfs"},
};

/* Mounts listed at path (NULL = all) by an open mountinfo file, read from its start. */
static int count_mounts_fd(int fd, const char *path)
{
	static char text[1 << 16];
	ssize_t len = pread(fd, text, sizeof(text) - 1, 0);
	if (len < 0)
		return -1;
	text[len] = '\0';
	int n = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) == 0 &&
		    (!path || strcmp(e.mount_point, path) == 0))
			n++;
	}
	return n;
}

static int count_mounts(const char *path)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = count_mounts_fd(fd, path);
	close(fd);
	return n;
}

static int check_early_mounts(void)
{
	for (size_t i = 0; i < sizeof(expected_mounts) / sizeof(expected_mounts[0]); i++) {
		if (!pd_is_mount_point(expected_mounts[i].path, expected_mounts[i].fstype) ||
		    count_mounts(expected_mounts[i].path) != 1) {
			fprintf(stderr, "mount %s: expected once as %s\n", expected_mounts[i].path,
				expected_mounts[i].fstype);
			return 1;
		}
	}
	return 0;
}

static char empty_root[] = "/tmp/pd-root-XXXXXX"; /* made and removed by the parent */

static int early_mounts_child(void)
{
	int rc = private_mount_ns(CLONE_NEWUTS);
	if (rc == -1)
		return CHILD_SKIP;
	if (rc < 0 || mount("tmpfs", empty_root, "tmpfs", 0, "mode=0755") < 0 ||
	    chroot(empty_root) < 0 || chdir("/") < 0)
		return 2;
	/* An initramfs root: nothing mounted, no directories. */
	struct pd_error err = {0};
	if (pd_is_mount_point("/proc", NULL) || pd_mounts_early(&err) < 0)
		return 3;
	if (check_early_mounts())
		return 4;
	struct stat st;
	if (stat("/tmp", &st) < 0 || (st.st_mode & 07777) != 01777 || stat("/dev/shm", &st) < 0 ||
	    (st.st_mode & 07777) != 01777)
		return 5;
	/* Twice: everything is already there, nothing is stacked. */
	if (pd_mounts_early(&err) < 0 || check_early_mounts())
		return 6;
	/* The hostname, in our own UTS namespace. */
	char name[65];
	if (mkdir("/etc", 0755) < 0)
		return 7;
	FILE *f = fopen("/etc/hostname", "w");
	if (!f || fputs("pidone-test\n", f) < 0 || fclose(f) != 0)
		return 7;
	if (pd_hostname_setup("/etc/hostname", &err) < 0 || gethostname(name, sizeof(name)) < 0 ||
	    strcmp(name, "pidone-test") != 0)
		return 8;
	/* Closed standard fds come back on /dev/console. Last: stderr is gone after this. */
	close(0);
	close(1);
	close(2);
	pd_console_ensure_stdio();
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return 9;
	return 0;
}

static void test_early_mounts_in_empty_root(void **state)
{
	assert_non_null(mkdtemp(empty_root));
	int status = run_child(early_mounts_child);
	assert_int_equal(rmdir(empty_root), 0); /* the tmpfs on it lived in the child's namespace */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The host saw none of it. */
	assert_true(pd_is_mount_point("/proc", "proc"));
}

/* --- shutdown --------------------------------------------------------------------------------- */

static int shutdown_not_pid1_child(void)
{
	pd_shutdown(7);
}

static void test_shutdown_not_pid1_exits(void **state)
{
	int status = run_child(shutdown_not_pid1_child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
}

static int report_fd = -1;

static void on_term(int sig)
{
	if (write(report_fd, "T", 1) != 1)
		_exit(3);
	_exit(0);
}

/* pid 1 of a new pid namespace with a polite child (leaves on SIGTERM) and a stubborn one
 * (ignores it); pd_shutdown must end both and reach reboot(). */
static void pid1_shutdown(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL); /* as main() has it when pd_shutdown runs */
	if (fork() == 0) {
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	if (fork() == 0) {
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	usleep(100 * 1000); /* let the children install their dispositions */
	if (getpid() == 1)  /* never on the host: pd_shutdown would then just exit */
		pd_shutdown(0);
	_exit(4);
}

static int shutdown_pid1_child(void)
{
	int rc = private_mount_ns(CLONE_NEWPID);
	if (rc == -1)
		return CHILD_SKIP;
	if (rc < 0)
		return 2;
	/* Opened before: after the shutdown our /proc is detached too, but the open file still
	 * lists this mount namespace, which the ns init shares with us. */
	int mountinfo = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mountinfo < 0 || count_mounts_fd(mountinfo, NULL) < 5)
		return 3;
	pid_t pid = fork();
	if (pid == 0)
		pid1_shutdown();
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 3;
	/* reboot(RB_POWER_OFF) in a pid namespace: its init dies "by SIGINT". */
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGINT) {
		fprintf(stderr, "ns init status 0x%x\n", status);
		return 4;
	}
	/* Everything but "/" was unmounted. */
	if (count_mounts_fd(mountinfo, NULL) != 1 || count_mounts_fd(mountinfo, "/") != 1) {
		fprintf(stderr, "mounts left after shutdown: %d\n",
			count_mounts_fd(mountinfo, NULL));
		return 5;
	}
	return 0;
}

static void test_shutdown_as_pid1(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	report_fd = fds[1];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = run_child(shutdown_pid1_child);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fds[1]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char buf[8] = {0};
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 1); /* the polite child got SIGTERM */
	assert_int_equal(buf[0], 'T');
	close(fds[0]);
	/* The stubborn child held on through the whole grace period, then got SIGKILL. */
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(s >= 2.0); /* a floor the agent enforces; a busy machine only adds to it */
	/* Unmounting everything in the namespace left the host's mounts alone. */
	assert_true(pd_is_mount_point("/proc", "proc"));
	assert_true(pd_is_mount_point("/dev", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup_v1_enabled),
	    cmocka_unit_test(test_cgroup2_enable_all),
	    cmocka_unit_test(test_hostname_read),
	    cmocka_unit_test(test_link_ptmx),
	    cmocka_unit_test(test_early_mounts_in_empty_root),
	    cmocka_unit_test(test_shutdown_not_pid1_exits),
	    cmocka_unit_test(test_shutdown_as_pid1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
