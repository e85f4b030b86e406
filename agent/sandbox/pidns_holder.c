/* The agent's side of the sandbox's pid namespace holder: clone it into new namespaces,
 * exec it, wait for its handshake, pin its pid namespace, watch it, kill it.
 *
 * Why an exec: whatever is pid 1 of a shared pid namespace is visible to every container
 * in it, and one with CAP_SYS_PTRACE reads its root, cwd, fds, memory and namespaces
 * through /proc/1. A fork of the agent would show it all; the fresh image
 * (pidns_holder_run.c) holds nothing. Until the exec the child is non-dumpable (inherited
 * from the agent, agent/child_fds.h) and holds no fd but the handshake pipe. The exec is
 * of /proc/self/exe: the very binary the agent runs, whatever happened to its path since. */
#include "pidns_holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/log.h"
#include "agent/sandbox/sandbox.h"
#include "agent/sandbox/sandbox_ns.h"
#include "agent/signals.h"
#include "init/mounts.h"

#define PF_EXITING    0x00000004 /* the kernel's task flag, /proc/<pid>/stat field 9 */
#define READY_WAIT_MS 5000       /* an exec and a few system calls */
/* Every namespace but the user one (it stays the agent's: the holder needs no ids of its
 * own and keeps no capability in it) and time (it only applies to children): a container
 * that setns into the holder's (CAP_SYS_ADMIN) finds fresh, empty ones. */
#define HOLDER_CLONE_FLAGS                                                                         \
	(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* In the clone, before the exec: default signals, no mask, the pipe on its fixed number and
 * nothing else, an empty environment. */
__attribute__((noreturn)) static void holder_exec(int ready_fd)
{
	static char *const argv[] = {PD_PIDNS_HOLDER_ARGV0, NULL};
	static char *const envp[] = {NULL};
	int *const keep[] = {&ready_fd};
	pd_undumpable();
	/* The pipe lands on 3 = PD_PIDNS_HOLDER_READY_FD; 0-2 go too (/dev/null or the
	 * console: the holder has nothing to say). */
	if (pd_child_keep_fds(keep, 1) < 0 || ready_fd != PD_PIDNS_HOLDER_READY_FD ||
	    fcntl(ready_fd, F_SETFD, 0) < 0)
		_exit(126);
	close(0);
	close(1);
	close(2);
	pd_signals_reset_for_child();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execve("/proc/self/exe", argv, envp);
	_exit(127);
}

/* The namespace is dead with it (no process can enter it any more): unpin it, so that the
 * next container that joins gets a new one rather than a clone failing with ENOMEM. */
static void on_holder_exit(struct pd_proc_watch *w, int status)
{
	struct pd_pidns_holder *h = pd_container_of(w, struct pd_pidns_holder, watch);
	pd_warn("pid namespace holder exited", "pid=%d status=%d", (int)h->pid,
		pd_exit_code(status));
	h->pid = 0;
	pd_sandbox_ns_unbind("pid");
	h->pinned = false;
}

static void kill_and_unpin(struct pd_pidns_holder *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		/* Reaped as an orphan: the watch must not outlive this holder (a new one may
		 * be started on the same struct). */
		pd_proc_watch_cancel(&h->watch);
		h->pid = 0;
	}
	pd_sandbox_ns_unbind("pid");
	h->pinned = false;
}

/* Not dying: a holder that was killed takes its namespace down before we reap it, and
 * from its PF_EXITING on no process can enter that namespace (clone fails with ENOMEM). */
static bool holder_alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'), state = 0;
	unsigned flags = 0;
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return false;
	return state != 'Z' && state != 'X' && !(flags & PF_EXITING);
}

/* "r", or "!why" from a holder that failed, or EOF from one that died (or whose exec
 * failed). */
static int wait_ready(int fd, pid_t pid, struct pd_error *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char msg[PD_ERROR_MSG_MAX];
	ssize_t n;
	int rc;
	while ((rc = poll(&pfd, 1, READY_WAIT_MS)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		return pd_error_set(err, PD_DEADLINE_EXCEEDED, 0,
				    "the pid namespace holder (pid %d) was not ready within %d ms",
				    (int)pid, READY_WAIT_MS);
	while ((n = read(fd, msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	if (n == 1 && msg[0] == 'r')
		return 0;
	if (n > 1 && msg[0] == '!') {
		msg[n] = '\0';
		return pd_error_set(err, PD_INTERNAL, 0, "the pid namespace holder (pid %d): %s",
				    (int)pid, msg + 1);
	}
	return pd_error_set(err, PD_INTERNAL, 0,
			    "the pid namespace holder (pid %d) died while starting", (int)pid);
}

int pd_pidns_holder_start(struct pd_pidns_holder *h, struct pd_error *err)
{
	if (h->pid > 0 && holder_alive(h->pid))
		return 0;
	kill_and_unpin(h); /* a dying one: forgotten, reaped as an orphan */
	if (pd_mkdir_p(PD_SANDBOX_NS_DIR, 0755, err) < 0)
		return -1;
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return pd_error_errno(err, errno, "pipe for the pid namespace holder");
	pid_t pid = (pid_t)syscall(SYS_clone, HOLDER_CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		holder_exec(ready[1]);
	int e = errno;
	close(ready[1]);
	if (pid < 0) {
		close(ready[0]);
		return pd_error_errno(err, e, "clone the pid namespace holder");
	}
	h->pid = pid;
	pd_list_init(&h->watch.node);
	pd_proc_watch_add(&h->watch, pid, on_holder_exit);
	int rc = wait_ready(ready[0], pid, err);
	close(ready[0]);
	if (rc < 0 || pd_sandbox_ns_bind(pid, "pid", err) < 0) {
		kill_and_unpin(h); /* a restart that failed: still wanted */
		return -1;
	}
	h->pinned = true;
	h->wanted = true;
	pd_info("pid namespace holder started", "pid=%d", (int)pid);
	return 0;
}

void pd_pidns_holder_stop(struct pd_pidns_holder *h)
{
	kill_and_unpin(h);
	h->wanted = false;
}
