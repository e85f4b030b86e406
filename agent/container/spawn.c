#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/container/child.h"
#include "agent/container/sync.h"
#include "agent/container/userns.h"

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

void pd_spawn_init(struct pd_spawn *s)
{
	memset(s, 0, sizeof(*s));
	s->sync.fd = s->timer.fd = -1;
	pd_hook_seq_init(&s->hooks);
}

int pd_spawn_begin(struct pd_spawn *s, struct pd_loop *loop, const struct pd_spawn_request *req,
		   struct pd_error *err)
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
	if (pid < 0) {
		close(sv[0]);
		pd_sync_steps_unmap(steps);
		return -1;
	}
	s->loop = loop;
	s->pid = pid;
	s->sync.fd = sv[0];
	s->steps = steps;
	pd_spawn_events_begin(s, req);
	return 0;
}
