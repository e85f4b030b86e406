#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/child.h"
#include "agent/container/sync.h"

/* fork() with namespace flags: a raw clone without a new stack behaves like fork. */
static pid_t clone_fork(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static unsigned long new_ns_flags(const struct pd_spawn_request *req)
{
	unsigned long flags = 0;
	if (!req->init)
		return 0;
	for (int t = 0; t < PD_NS_COUNT; t++)
		if (req->cfg->ns[t].enabled && !req->cfg->ns[t].path && t != PD_NS_USER)
			flags |= (unsigned long)pd_ns_clone_flag(t);
	return flags;
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

static pid_t clone_child(const struct pd_spawn_request *req, struct pd_error *err)
{
	int pidns = req->init ? -1 : req->ns_fds[PD_NS_PID];
	if (pidns >= 0) {
		if (own_pidns_fd() < 0)
			return pd_error_errno(err, errno, "open /proc/self/ns/pid");
		if (setns(pidns, CLONE_NEWPID) < 0)
			return pd_error_errno(err, errno, "setns pid namespace");
	}
	pid_t pid = clone_fork(new_ns_flags(req));
	int saved = errno;
	if (pid == 0)
		return 0;
	if (pidns >= 0 && setns(own_pidns_fd(), CLONE_NEWPID) < 0)
		pd_error_errno(err, errno, "setns back to the agent's pid namespace");
	if (pid < 0)
		return pd_error_errno(err, saved, "clone");
	return pid;
}

/* The pid was never published and the loop is not running: nothing else can reap it.
 * Returns its wait status (what it died of, if it died by itself). */
static int kill_unpublished(pid_t pid)
{
	int st = 0;
	kill(pid, SIGKILL);
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

int pd_spawn(const struct pd_spawn_request *req, struct pd_spawned *out, struct pd_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return pd_error_errno(err, errno, "socketpair");
	pid_t pid = clone_child(req, err);
	if (pid == 0) {
		close(sv[0]);
		pd_child_main(req, sv[1]); /* never returns */
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	struct pd_sync_msg msg;
	int rc = pd_sync_recv(sv[0], req->timeout_ms, &msg, err);
	if (rc < 0 || msg.kind != PD_SYNC_READY) {
		bool eof = rc == 0 && msg.kind == PD_SYNC_EOF;
		if (rc == 0 && msg.kind == PD_SYNC_ERROR)
			pd_sync_to_error(&msg, err);
		close(sv[0]);
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
		rc = pd_sync_recv(s->sync_fd, timeout_ms, &msg, err);
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
