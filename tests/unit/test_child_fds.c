/* What a child of the agent keeps (agent/child_fds.h) and the container child's first step
 * (pd_child_hold_own_fds, agent/container/child.h).
 *
 * Closing fds changes the calling process for good, so every case forks: the child sets
 * up fds, keeps some, then checks ITSELF through /proc/self/fd (exactly the fds wanted,
 * each still the file it was: same device and inode, close-on-exec) and exits 0 only if
 * everything matched; the parent asserts that. Children end with _exit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/container/child.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int fails; /* mismatches found by the child */

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mismatch: " __VA_ARGS__);                                 \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static int in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fails = 0;
		int rc = fn();
		fflush(NULL);
		_exit(rc == 0 && fails == 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- looking at ourselves --------------------------------------------------------------- */

struct id {
	dev_t dev;
	ino_t ino;
};

static struct id id_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return (struct id){0, 0};
	return (struct id){st.st_dev, st.st_ino};
}

static bool same(struct id a, struct id b)
{
	return a.ino && a.dev == b.dev && a.ino == b.ino;
}

/* Our open fds, "0 1 2 3" (the directory's own fd left out). */
static const char *open_fds(char *buf, size_t size)
{
	DIR *d = opendir("/proc/self/fd");
	bool open[256] = {false};
	size_t o = 0;
	buf[0] = '\0';
	if (!d)
		return "(no /proc/self/fd)";
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && atoi(e->d_name) < 256)
			open[atoi(e->d_name)] = true;
	closedir(d);
	for (int fd = 0; fd < 256 && o + 8 < size; fd++)
		if (open[fd])
			o += (size_t)snprintf(buf + o, size - o, "%s%d", o ? " " : "", fd);
	return buf;
}
#define OPEN_FDS() open_fds((char[1024]){0}, 1024)

static bool cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl >= 0 && (fl & FD_CLOEXEC);
}

/* Open what fd names, at exactly that number. */
static void open_at(int fd, const char *path)
{
	int f = open(path, O_RDONLY);
	if (f >= 0 && f != fd) {
		dup2(f, fd);
		close(f);
	}
}

/* ---- pd_child_keep_fds ------------------------------------------------------------------ */

/* Kept fds go to 3, 4, 5 (a repeat once, -1 left alone), the same files, close-on-exec;
 * everything else of ours is closed. */
static int keep_moves_and_closes(void)
{
	int p[2], neg = -1;
	if (pipe(p) < 0)
		return -1;
	open_at(100, "/dev/null");
	open_at(57, "/dev/zero");
	open_at(40, "/dev/urandom"); /* not kept */
	int a = p[0], a2 = p[0], b = 100, c = 57;
	struct id ia = id_of(a), ib = id_of(b), ic = id_of(c);
	int *const keep[] = {&a, &b, &neg, &a2, &c};
	EXPECT(pd_child_keep_fds(keep, ARRAY_LEN(keep)) == 0, "keep: %s", strerror(errno));
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2 3 4 5"), "open fds: %s, want 0 1 2 3 4 5", OPEN_FDS());
	EXPECT(a >= 3 && a <= 5 && b >= 3 && b <= 5 && c >= 3 && c <= 5 && a != b && b != c &&
		   a != c,
	       "kept at %d %d %d, want 3, 4 and 5", a, b, c);
	EXPECT(a2 == a && neg == -1, "the repeat at %d (want %d), -1 became %d", a2, a, neg);
	EXPECT(same(id_of(a), ia) && same(id_of(b), ib) && same(id_of(c), ic),
	       "a kept fd is no longer the file it was");
	EXPECT(cloexec(a) && cloexec(b) && cloexec(c), "a kept fd is not close-on-exec");
	return 0;
}

static void test_keep_moves_and_closes(void **state)
{
	assert_int_equal(in_child(keep_moves_and_closes), 0);
}

/* A kept fd already at its place stays there; the others take the free places, over fds
 * of the agent that were there. */
static int keep_in_place_stays(void)
{
	syscall(SYS_close_range, 3U, ~0U, 0U);
	open_at(3, "/dev/null");
	open_at(4, "/dev/zero"); /* kept, in [3, 5): stays */
	open_at(9, "/dev/urandom");
	int b = 4, c = 9;
	struct id ib = id_of(4), ic = id_of(9);
	int *const keep[] = {&c, &b};
	EXPECT(pd_child_keep_fds(keep, 2) == 0, "keep: %s", strerror(errno));
	EXPECT(b == 4 && c == 3, "kept at %d %d, want 4 (stayed) and 3", b, c);
	EXPECT(same(id_of(4), ib) && same(id_of(3), ic), "a kept fd is no longer its file");
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2 3 4"), "open fds: %s, want 0 1 2 3 4", OPEN_FDS());
	return 0;
}

static void test_keep_in_place_stays(void **state)
{
	assert_int_equal(in_child(keep_in_place_stays), 0);
}

/* A stdio fd named (an agent started with 0-2 closed gets pipes there): copied up, and
 * 0-2 left as they are. Nothing named: 0-2 only. */
static int keep_stdio_named(void)
{
	int zero = 0;
	struct id i0 = id_of(0);
	int *const keep[] = {&zero};
	EXPECT(pd_child_keep_fds(keep, 1) == 0, "keep: %s", strerror(errno));
	EXPECT(zero == 3 && same(id_of(3), i0) && same(id_of(0), i0), "fd 0 kept at %d", zero);
	EXPECT(pd_child_keep_fds(NULL, 0) == 0, "keep nothing: %s", strerror(errno));
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2"), "open fds: %s, want 0 1 2", OPEN_FDS());
	return 0;
}

static void test_keep_stdio_named(void **state)
{
	assert_int_equal(in_child(keep_stdio_named), 0);
}

/* More than it can keep: EINVAL, and nothing closed. */
static int keep_too_many(void)
{
	int fds[33], *keep[33];
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		fds[i] = -1, keep[i] = &fds[i];
	open_at(20, "/dev/null");
	errno = 0;
	EXPECT(pd_child_keep_fds(keep, 33) < 0 && errno == EINVAL, "33 fds: errno %d", errno);
	EXPECT(fcntl(20, F_GETFD) >= 0, "fd 20 was closed");
	return 0;
}

static void test_keep_too_many(void **state)
{
	assert_int_equal(in_child(keep_too_many), 0);
}

/* The way without close_range: every entry of /proc/self/fd from lo on. */
static int close_from_proc(void)
{
	open_at(3, "/dev/null");
	open_at(4, "/dev/null");
	open_at(5, "/dev/zero");
	open_at(200, "/dev/zero");
	EXPECT(pd_close_fds_from(5) == 0, "from 5: %s", strerror(errno));
	EXPECT(!strncmp(OPEN_FDS(), "0 1 2 3 4", 9) && fcntl(5, F_GETFD) < 0 &&
		   fcntl(200, F_GETFD) < 0,
	       "open fds after closing from 5: %s", OPEN_FDS());
	EXPECT(pd_close_fds_from(3) == 0, "from 3: %s", strerror(errno));
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2"), "open fds after closing from 3: %s", OPEN_FDS());
	return 0;
}

static void test_close_from_proc(void **state)
{
	assert_int_equal(in_child(close_from_proc), 0);
}

/* Where /proc/self/fd is not a procfs (a container without a proc mount, which made a
 * directory of that name): every fd below the limit all the same. */
static int close_from_fake_proc(void)
{
	EXPECT(unshare(CLONE_NEWNS) == 0 &&
		   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
		   mount("tmpfs", "/proc", "tmpfs", 0, NULL) == 0 &&
		   mkdir("/proc/self", 0755) == 0 && mkdir("/proc/self/fd", 0755) == 0,
	       "a tmpfs with an empty self/fd on /proc: %s", strerror(errno));
	open_at(3, "/dev/null");
	open_at(100, "/dev/zero");
	EXPECT(pd_close_fds_from(3) == 0, "close: %s", strerror(errno));
	for (int fd = 3; fd <= 100; fd++)
		EXPECT(fcntl(fd, F_GETFD) < 0, "fd %d still open", fd);
	return 0;
}

static void test_close_from_fake_proc(void **state)
{
	if (geteuid() != 0)
		PD_SKIP("needs root: a mount namespace with a tmpfs on /proc");
	assert_int_equal(in_child(close_from_fake_proc), 0);
}

/* ---- pd_undumpable -------------------------------------------------------------------- */

static char self_exe[4096];

/* Not dumpable now; an exec of a readable image by a process whose ids are all the same
 * is dumpable again (the kernel's rule), which that image reports on a pipe. */
static int undumpable_until_exec(void)
{
	int p[2];
	char buf[8] = "";
	pd_undumpable();
	EXPECT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "still dumpable");
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(self_exe, self_exe, "--print-dumpable", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	EXPECT(read(p[0], buf, sizeof(buf) - 1) > 0 && !strcmp(buf, "1"),
	       "the exec'd image says dumpable '%s', want 1", buf);
	waitpid(pid, NULL, 0);
	return 0;
}

static void test_undumpable_until_exec(void **state)
{
	assert_int_equal(in_child(undumpable_until_exec), 0);
}

/* ---- pd_child_hold_own_fds -------------------------------------------------------------- */

/* An exec: sync, stdio, the namespaces to join and the root are kept (not the pid
 * namespace: the agent entered it for the clone), nothing else. */
static int hold_exec(void)
{
	static const char *const ns[PD_NS_COUNT] = {
	    [PD_NS_MNT] = "mnt", [PD_NS_PID] = "pid", [PD_NS_NET] = "net",	[PD_NS_IPC] = "ipc",
	    [PD_NS_UTS] = "uts", [PD_NS_USER] = NULL, [PD_NS_CGROUP] = "cgroup"};
	struct pd_spawn_request req;
	struct id ids[PD_NS_COUNT], iroot, istdio[3], isync;
	int sv[2], p[2];
	memset(&req, 0, sizeof(req));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(p) < 0)
		return -1;
	open_at(60, "/dev/null"); /* an fd of "the agent" */
	req.stdio[0] = p[0], req.stdio[1] = p[1], req.stdio[2] = -1;
	for (int t = 0; t < PD_NS_COUNT; t++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[t] ? ns[t] : "none");
		req.ns_fds[t] = ns[t] ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		ids[t] = id_of(req.ns_fds[t]);
	}
	req.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	iroot = id_of(req.root_fd), isync = id_of(sv[1]);
	for (int i = 0; i < 2; i++)
		istdio[i] = id_of(req.stdio[i]);
	int sync_fd = sv[1];
	EXPECT(pd_child_hold_own_fds(&req, &sync_fd) == 0, "hold: %s", strerror(errno));
	/* sync + 2 stdio + mnt, net, ipc, uts, cgroup + root = 9: 3..11 */
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2 3 4 5 6 7 8 9 10 11"), "open fds: %s", OPEN_FDS());
	EXPECT(same(id_of(sync_fd), isync) && same(id_of(req.root_fd), iroot) &&
		   same(id_of(req.stdio[0]), istdio[0]) && same(id_of(req.stdio[1]), istdio[1]) &&
		   req.stdio[2] == -1,
	       "sync, root or stdio are not what they were");
	for (int t = 0; t < PD_NS_COUNT; t++)
		EXPECT(t == PD_NS_PID || t == PD_NS_USER ? req.ns_fds[t] == -1
							 : same(id_of(req.ns_fds[t]), ids[t]),
		       "namespace %d: fd %d", t, req.ns_fds[t]);
	return 0;
}

static void test_hold_exec(void **state)
{
	assert_int_equal(in_child(hold_exec), 0);
}

/* An init's request leaves its namespace and root fds 0 (it joins by path): not kept,
 * made -1; fd 0 is not touched. */
static int hold_init(void)
{
	struct pd_spawn_request req;
	int sv[2], p[2];
	memset(&req, 0, sizeof(req));
	req.init = true;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(p) < 0)
		return -1;
	req.stdio[0] = p[0], req.stdio[1] = p[1], req.stdio[2] = p[1];
	struct id i0 = id_of(0);
	int sync_fd = sv[1];
	EXPECT(pd_child_hold_own_fds(&req, &sync_fd) == 0, "hold: %s", strerror(errno));
	EXPECT(!strcmp(OPEN_FDS(), "0 1 2 3 4 5"), "open fds: %s", OPEN_FDS());
	EXPECT(req.root_fd == -1 && same(id_of(0), i0), "root_fd %d", req.root_fd);
	for (int t = 0; t < PD_NS_COUNT; t++)
		EXPECT(req.ns_fds[t] == -1, "namespace %d: fd %d", t, req.ns_fds[t]);
	EXPECT(req.stdio[1] == req.stdio[2], "stdio 1 and 2 were one fd: %d %d", req.stdio[1],
	       req.stdio[2]);
	return 0;
}

static void test_hold_init(void **state)
{
	assert_int_equal(in_child(hold_init), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--print-dumpable")) {
		printf("%d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keep_moves_and_closes),
	    cmocka_unit_test(test_keep_in_place_stays),
	    cmocka_unit_test(test_keep_stdio_named),
	    cmocka_unit_test(test_keep_too_many),
	    cmocka_unit_test(test_close_from_proc),
	    cmocka_unit_test(test_close_from_fake_proc),
	    cmocka_unit_test(test_undumpable_until_exec),
	    cmocka_unit_test(test_hold_exec),
	    cmocka_unit_test(test_hold_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
