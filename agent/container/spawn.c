#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/container/child.h"
#include "agent/container/hooks.h"
#include "agent/container/sync.h"
#include "agent/container/userns.h"
#include "agent/log.h"

static unsigned long new_ns_flags(const struct pd_spawn_request *req)
{
	unsigned long flags = 0;
	if (!req->init)
		return 0;
	for (int t = 0; t < PD_NS_COUNT; t++)
		if (req->cfg->ns[t].enabled && !req->cfg->ns[t].path)
			flags |= (unsigned long)pd_ns_clone_flag(t);
	return flags;
}

/* fork() with namespace flags: a raw clone without a new stack behaves like fork. With a
 * v2 cgroup, clone3(CLONE_INTO_CGROUP) creates the child inside it (no migration; a new
 * cgroup namespace is then rooted at that cgroup). Otherwise (v1, or a kernel before 5.7)
 * *into stays false: the child enters by cgroup.procs first thing, and only then unshares
 * its cgroup namespace, so that its root is the container's cgroup too. */
static pid_t clone_fork(unsigned long flags, const struct pd_cgroup *cg, bool *into)
{
	int fd = cg ? pd_cgroup_dirfd(cg) : -1;
	*into = false;
	if (fd >= 0) {
		struct clone_args args;
		memset(&args, 0, sizeof(args));
		args.flags = flags | CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)fd;
		args.exit_signal = SIGCHLD;
		*into = true; /* what the child sees in its copy */
		long pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0 || (errno != ENOSYS && errno != EINVAL && errno != E2BIG))
			return (pid_t)pid;
		*into = false;
	}
	if (cg)
		flags &= ~(unsigned long)CLONE_NEWCGROUP;
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

__attribute__((noreturn)) static void child_fail(int sync_fd, const struct pd_error *err)
{
	struct pd_sync_msg msg;
	pd_sync_from_error(&msg, err);
	pd_sync_send(sync_fd, &msg, NULL);
	_exit(127);
}

/* The child's first steps: not dumpable, none of the agent's fds but its own (child.h),
 * then in the container's cgroup. Its own copy of the request carries its fd numbers. */
__attribute__((noreturn)) static void child_start(const struct pd_spawn_request *req, bool into,
						  int sync_fd)
{
	pd_undumpable();
	struct pd_error err;
	struct pd_spawn_request own = *req;
	if (pd_child_hold_own_fds(&own, &sync_fd) < 0) {
		pd_error_errno(&err, errno, "close the agent's fds in the container process");
		child_fail(sync_fd, &err);
	}
	if (own.cgroup && !into) {
		int rc = pd_cgroup_enter(own.cgroup, 0, &err);
		if (rc == 0 && (new_ns_flags(&own) & CLONE_NEWCGROUP) &&
		    unshare(CLONE_NEWCGROUP) < 0)
			rc = pd_error_errno(&err, errno, "unshare the cgroup namespace");
		if (rc < 0) {
			pd_error_wrap(&err, "enter the container's cgroup");
			child_fail(sync_fd, &err);
		}
	}
	pd_child_main(&own, sync_fd);
}

/* Our own pid namespace, opened once: an exec enters the container's pid namespace for
 * the clone only (setns(CLONE_NEWPID) affects children), then comes back here. */
static int own_pidns_fd(void)
{
	static int fd = -1;
	if (fd < 0)
		fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	return fd;
}

/* The pid namespace to clone into: an exec's container's, or an init's by path (the
 * sandbox's shared one, or the spec's); *fd = -1: the agent's or a new one. An fd opened
 * here is closed here. */
static int enter_pidns(const struct pd_spawn_request *req, int *fd, struct pd_error *err)
{
	const struct pd_namespace *ns = req->init ? &req->cfg->ns[PD_NS_PID] : NULL;
	int opened = -1;
	*fd = req->init ? -1 : req->ns_fds[PD_NS_PID];
	if (ns && ns->enabled && ns->path) {
		if ((opened = open(ns->path, O_RDONLY | O_CLOEXEC)) < 0)
			return pd_error_errno(err, errno, "open pid namespace %s", ns->path);
		*fd = opened;
	}
	int rc = 0;
	if (*fd >= 0 && own_pidns_fd() < 0)
		rc = pd_error_errno(err, errno, "open /proc/self/ns/pid");
	else if (*fd >= 0 && setns(*fd, CLONE_NEWPID) < 0)
		rc = pd_error_errno(err, errno, "setns pid namespace");
	if (opened >= 0)
		close(opened);
	return rc;
}

static pid_t clone_child(const struct pd_spawn_request *req, bool *into, struct pd_error *err)
{
	int pidns;
	if (enter_pidns(req, &pidns, err) < 0)
		return -1;
	pid_t pid = clone_fork(new_ns_flags(req), req->cgroup, into);
	int saved = errno;
	if (pid == 0)
		return 0;
	if (pidns >= 0 && setns(own_pidns_fd(), CLONE_NEWPID) < 0)
		pd_error_errno(err, errno, "setns back to the agent's pid namespace");
	if (pid < 0)
		return pd_error_errno(err, saved, "clone");
	return pid;
}

/* The pid was never published: kill it and reap it here, so that a child that died by
 * itself says what of. But not at any cost: a process that cannot die yet (frozen by a
 * cgroup v1 freezer, in uninterruptible sleep on a stuck file system) would hold the
 * agent's one loop for good, so after KILL_WAIT_MS it is left to the loop, which reaps every
 * child, known or not. Returns its wait status, 0 if it was left. */
#define KILL_WAIT_MS 2000
static int kill_unpublished(pid_t pid)
{
	int st = 0;
	struct pd_error err;
	kill(pid, SIGKILL);
	if (pd_hook_wait_exit(pid, KILL_WAIT_MS, &err) == 1) {
		pd_warn("container process did not die within 2 s of SIGKILL; reaped later",
			"pid=%d", (int)pid);
		return 0;
	}
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
	return st;
}

/* The child went away before READY without a word: say what it died of (a seccomp filter
 * of a spec without no_new_privs is on during the set-up, and may kill it). */
static int died_in_setup(int st, struct pd_error *err)
{
	if (WIFSIGNALED(st))
		return pd_error_set(err, PD_INTERNAL, 0,
				    "the container process died during set-up: signal %d (%s)",
				    WTERMSIG(st), strsignal(WTERMSIG(st)));
	return pd_error_set(err, PD_INTERNAL, 0,
			    "the container process exited during set-up with status %d",
			    WIFEXITED(st) ? WEXITSTATUS(st) : st);
}

/* The child stopped before its rootfs for the runtime's hooks: run them, let it go on, and
 * wait for READY (its createContainer hooks run meanwhile). */
static int hooks_then_ready(const struct pd_spawn_request *req, pid_t pid, int fd,
			    struct pd_sync_msg *msg, const char *steps, struct pd_error *err)
{
	if (!req->run_hooks)
		return pd_error_set(err, PD_INTERNAL, 0, "unexpected hooks request from the child");
	if (req->run_hooks(req->hooks_data, pid, err) < 0)
		return -1;
	struct pd_sync_msg resume = {.kind = PD_SYNC_RESUME, .code = (int32_t)pid};
	if (pd_sync_send(fd, &resume, err) < 0)
		return -1;
	return pd_sync_recv_step(fd, pd_spawn_bound_ms(req->deadline_ns,
						       req->timeout_ms + req->hooks_ms),
				 msg, steps, err);
}

int pd_spawn_bound_ms(int64_t deadline_ns, int ms)
{
	if (!deadline_ns)
		return ms;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t left = (deadline_ns - ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec)) / 1000000;
	return left < 1 ? 1 : left < ms ? (int)left : ms;
}

/* After the clone: the id maps, then the messages up to READY (the runtime hooks between). */
static int wait_ready(const struct pd_spawn_request *req, pid_t pid, int fd, const char *steps,
		      struct pd_sync_msg *msg, struct pd_error *err)
{
	if (pd_userns_map_child(req, pid, fd, err) < 0)
		return -1;
	int rc = pd_sync_recv_step(fd, pd_spawn_bound_ms(req->deadline_ns, req->timeout_ms), msg,
				   steps, err);
	if (rc == 0 && msg->kind == PD_SYNC_HOOKS)
		rc = hooks_then_ready(req, pid, fd, msg, steps, err);
	return rc;
}

int pd_spawn(const struct pd_spawn_request *req, struct pd_spawned *out, struct pd_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return pd_error_errno(err, errno, "socketpair");
	bool into = false;
	char *steps = pd_sync_steps_map("clone, entering the cgroup (before its first step)");
	pd_sync_step_page = steps; /* for the child's copy; the agent's goes back to NULL */
	pid_t pid = pd_userns_chown_stdio(req, err) < 0 ? -1 : clone_child(req, &into, err);
	if (pid == 0)
		child_start(req, into, sv[1]); /* closes sv[0] with the agent's other fds */
	pd_sync_step_page = NULL;
	close(sv[1]);
	struct pd_sync_msg msg = {.kind = PD_SYNC_EOF};
	int rc = pid < 0 ? -1 : wait_ready(req, pid, sv[0], steps, &msg, err);
	pd_sync_steps_unmap(steps);
	if (rc < 0 || msg.kind != PD_SYNC_READY) {
		bool eof = rc == 0 && msg.kind == PD_SYNC_EOF;
		if (rc == 0 && msg.kind == PD_SYNC_ERROR)
			pd_sync_to_error(&msg, err);
		close(sv[0]);
		if (pid < 0)
			return -1;
		int st = kill_unpublished(pid);
		return eof ? died_in_setup(st, err) : -1;
	}
	out->pid = pid;
	out->sync_fd = sv[0];
	return 0;
}

int pd_spawn_start(struct pd_spawned *s, int timeout_ms, struct pd_error *err)
{
	struct pd_sync_msg msg = {.kind = PD_SYNC_START};

	int rc = pd_sync_send(s->sync_fd, &msg, err);
	if (rc == 0)
		rc = pd_sync_recv_step(s->sync_fd, timeout_ms, &msg, "exec", err);
	if (rc == 0 && msg.kind == PD_SYNC_ERROR)
		rc = pd_sync_to_error(&msg, err);
	else if (rc == 0 && msg.kind != PD_SYNC_EOF)
		rc = pd_error_set(err, PD_INTERNAL, 0, "unexpected sync message %u", msg.kind);
	/* rc == 0 here means EOF: the socket closed on exec, the container binary runs. */
	close(s->sync_fd);
	s->sync_fd = -1;
	return rc;
}

void pd_spawn_abandon(struct pd_spawned *s)
{
	if (s->sync_fd >= 0)
		close(s->sync_fd);
	s->sync_fd = -1;
}
