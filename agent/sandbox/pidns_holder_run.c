/* The pid namespace holder's own main: `pidone` exec'd as argv[0] "pidns-holder" by
 * pidns_holder.c, pid 1 of the sandbox's shared pid namespace. A fresh image (no memory of
 * the agent), fresh mount/net/ipc/uts/cgroup namespaces from its clone, and here: an empty
 * read-only root, uid/gid 65534 with no supplementary groups, every capability set empty
 * (bounding and ambient too), no_new_privs, non-dumpable, a seccomp filter that lets it
 * only reap, and no fd once the agent was told it is ready. docs/security.md.
 *
 * Signals: a pid namespace's init gets no signal it has no handler for (SIGKILL and SIGSTOP
 * from an ancestor namespace excepted), unless it is blocked: then it is queued. SIGCHLD is
 * blocked and taken with sigwaitinfo; every other signal is dropped, so no container can
 * end the namespace by signalling its pid 1. The agent ends it with SIGKILL;
 * PR_SET_PDEATHSIG does when the agent dies (on a host run it must not linger). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>

#include "agent/sandbox/pidns_holder.h"

#define NOBODY 65534 /* the kernel's overflow uid and gid */
#define CAP_MAX 63   /* the kernel's capability sets are 64 bits */

static void report(const char *text)
{
	size_t len = strlen(text);
	if (write(PD_PIDNS_HOLDER_READY_FD, text, len) < 0)
		_exit(3);
}

__attribute__((noreturn)) static void fail(const struct pd_error *err)
{
	char msg[PD_ERROR_MSG_MAX + 1];
	snprintf(msg, sizeof(msg), "!%s", err->msg);
	report(msg);
	_exit(1);
}

/* Bounding and ambient first, while CAP_SETPCAP is still effective; then the ids; then
 * permitted, effective and inheritable. Checked afterwards through the kernel itself, for
 * capabilities newer than libcap-ng knows. */
static int drop_privileges(struct pd_error *err)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_BOUNDS) < 0 || capng_apply(CAPNG_SELECT_AMBIENT) < 0)
		return pd_error_errno(err, errno ? errno : EPERM, "drop bounding, ambient caps");
	for (int c = 0; c <= CAP_MAX; c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) == 1 &&
		    prctl(PR_CAPBSET_DROP, (unsigned long)c, 0L, 0L, 0L) < 0)
			return pd_error_errno(err, errno, "drop capability %d from bounding", c);
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return pd_error_errno(err, errno, "become %d:%d", NOBODY, NOBODY);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return pd_error_errno(err, errno ? errno : EPERM, "clear capability sets");
	capng_setpid(0);
	if (capng_get_caps_process() < 0 || capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return pd_error_set(err, PD_INTERNAL, 0, "capabilities left after dropping");
	for (int c = 0; c <= CAP_MAX; c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) == 1 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)c, 0L, 0L) == 1)
			return pd_error_set(err, PD_INTERNAL, 0, "capability %d left", c);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return pd_error_errno(err, errno, "no_new_privs");
	return 0;
}

/* libseccomp's program, through a pipe: loaded by hand, since seccomp_load frees memory
 * after loading (munmap), which the filter refuses. */
static int export_filter(scmp_filter_ctx ctx, struct sock_fprog *prog, struct pd_error *err)
{
	static struct sock_filter insns[BPF_MAXINSNS];
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return pd_error_errno(err, errno, "pipe");
	int rc = seccomp_export_bpf(ctx, p[1]);
	close(p[1]);
	ssize_t n = rc < 0 ? -1 : read(p[0], insns, sizeof(insns));
	close(p[0]);
	if (rc < 0 || n <= 0 || n % (ssize_t)sizeof(insns[0]) || n == (ssize_t)sizeof(insns))
		return pd_error_errno(err, rc < 0 ? -rc : EIO, "export the seccomp filter");
	prog->len = (unsigned short)(n / (ssize_t)sizeof(insns[0]));
	prog->filter = insns;
	return 0;
}

/* What it does from here on, and nothing else: were it ptraced (a container with
 * CAP_SYS_PTRACE can), an injected system call outside this list kills it. */
static int only_reaping(struct pd_error *err)
{
	static const int allowed[] = {
	    SCMP_SYS(rt_sigtimedwait), SCMP_SYS(wait4),	      SCMP_SYS(waitid),
	    SCMP_SYS(write),	       SCMP_SYS(close),	      SCMP_SYS(exit_group),
	    SCMP_SYS(exit),	       SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigreturn),
	};
	struct sock_fprog prog;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return pd_error_set(err, PD_INTERNAL, ENOMEM, "seccomp_init");
	int rc = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (rc < 0)
		pd_error_errno(err, -rc, "seccomp rule");
	else
		rc = export_filter(ctx, &prog, err);
	seccomp_release(ctx);
	if (rc < 0)
		return -1;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &prog) < 0)
		return pd_error_errno(err, errno, "load the seccomp filter");
	return 0;
}

__attribute__((noreturn)) void pd_pidns_holder_main(void)
{
	struct pd_error err;
	struct stat st;
	pd_error_clear(&err);
	prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L); /* the exec made it dumpable again */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
	if (fstat(PD_PIDNS_HOLDER_READY_FD, &st) < 0 || !S_ISFIFO(st.st_mode) || getpid() != 1) {
		fprintf(stderr, "pidone: %s is started by the agent only\n", PD_PIDNS_HOLDER_ARGV0);
		_exit(2);
	}
	prctl(PR_SET_NAME, PD_PIDNS_HOLDER_ARGV0, 0L, 0L, 0L); /* comm: what `ps` shows */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	if (pd_pidns_holder_empty_root(&err) < 0 || drop_privileges(&err) < 0)
		fail(&err);
	/* The uid change cleared it. An agent that dies before this: the ready write fails
	 * (EPIPE; SIGPIPE is dropped for a namespace's init) and the holder exits. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
	if (only_reaping(&err) < 0)
		fail(&err);
	report("r");
	close(PD_PIDNS_HOLDER_READY_FD);
	for (;;) {
		if (sigwaitinfo(&chld, NULL) < 0)
			continue; /* EINTR: a stop and continue */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}
