/* The holder is a fork of the agent that never execs: nothing to install in the guest, and
 * it needs nothing but waitpid. Its signals are blocked and taken with sigwaitinfo: a pid
 * namespace's init never gets a signal it has no handler for, but a blocked one is queued.
 * PR_SET_PDEATHSIG covers the agent dying (on a guest the VM ends anyway, on a host run it
 * must not linger). */
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

#include "agent/log.h"
#include "agent/sandbox/sandbox.h"
#include "agent/sandbox/sandbox_ns.h"
#include "agent/signals.h"
#include "init/mounts.h"

#define HOLDER_NAME "pidns-holder" /* its comm: what `ps` in a container shows as pid 1 */
#define PF_EXITING  0x00000004     /* the kernel's task flag, /proc/<pid>/stat field 9 */
#define READY_WAIT_MS 5000         /* the holder's set-up is a few system calls */

/* ready_fd: written once the holder has its name and its signals blocked, so that no
 * container can see (or signal) a half-made holder. */
__attribute__((noreturn)) static void holder_main(int ready_fd)
{
	sigset_t set;
	pd_signals_reset_for_child();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, HOLDER_NAME);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	syscall(SYS_close_range, 0U, ~0U, 0U); /* hold none of the agent's sockets */
	for (;;) {
		if (sigwaitinfo(&set, NULL) == SIGTERM)
			_exit(0);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
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

static int wait_ready(int fd, pid_t pid, struct pd_error *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;
	int n;
	while ((n = poll(&pfd, 1, READY_WAIT_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return pd_error_set(err, PD_DEADLINE_EXCEEDED, 0,
				    "the pid namespace holder (pid %d) was not ready within %d ms",
				    (int)pid, READY_WAIT_MS);
	if (n < 0 || read(fd, &c, 1) != 1)
		return pd_error_set(err, PD_INTERNAL, 0,
				    "the pid namespace holder (pid %d) died while starting", (int)pid);
	return 0;
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
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		holder_main(ready[1]);
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
