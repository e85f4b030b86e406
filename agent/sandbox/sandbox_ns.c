/* The sandbox's ipc and uts namespaces, pinned by bind-mounting their ns files onto
 * /var/run/sandbox-ns/{ipc,uts}: every container joins them, and they outlive any
 * process. A short-lived child makes them (our own namespaces must not change): it
 * unshares, sets the hostname, says ready and waits while we bind its ns files. */
#include "sandbox_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/signals.h"
#include "init/mounts.h"

static const char *const kinds[] = {"ipc", "uts"};

__attribute__((noreturn)) static void holder(int ready, int release, const char *hostname)
{
	pd_undumpable();
	int *const keep[] = {&ready, &release};
	if (pd_child_keep_fds(keep, 2) < 0)
		_exit(1);
	pd_signals_reset_for_child();
	char r = 1;
	if (unshare(CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		r = 0;
	else if (hostname[0] && sethostname(hostname, strlen(hostname)) < 0)
		r = 0;
	if (write(ready, &r, 1) != 1)
		_exit(1);
	char c;
	while (read(release, &c, 1) < 0 && errno == EINTR)
		; /* returns at EOF, when the agent has bound our namespaces */
	_exit(0);
}

int pd_sandbox_ns_bind(pid_t pid, const char *kind, struct pd_error *err)
{
	char src[64], dst[128];
	snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)pid, kind);
	snprintf(dst, sizeof(dst), PD_SANDBOX_NS_DIR "/%s", kind);
	int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	if (fd < 0)
		return pd_error_errno(err, errno, "create %s", dst);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return pd_error_errno(err, errno, "bind %s on %s", src, dst);
	return 0;
}

int pd_sandbox_ns_create(const char *hostname, struct pd_error *err)
{
	int ready[2], release[2];
	if (pd_mkdir_p(PD_SANDBOX_NS_DIR, 0755, err) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return pd_error_errno(err, errno, "pipe");
	if (pipe2(release, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return pd_error_errno(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0)
		holder(ready[1], release[0], hostname); /* closes the other ends too */
	close(ready[1]);
	close(release[0]);
	int rc = 0;
	char r = 0;
	if (pid < 0)
		rc = pd_error_errno(err, errno, "fork");
	else if (read(ready[0], &r, 1) != 1 || r != 1)
		rc = pd_error_set(err, PD_INTERNAL, 0, "sandbox namespaces could not be created");
	for (size_t i = 0; rc == 0 && i < 2; i++)
		rc = pd_sandbox_ns_bind(pid, kinds[i], err);
	if (rc < 0)
		pd_sandbox_ns_remove();
	close(ready[0]);
	close(release[1]); /* the holder exits; the reaper collects it like any orphan */
	return rc;
}

void pd_sandbox_ns_unbind(const char *kind)
{
	char dst[128];
	snprintf(dst, sizeof(dst), PD_SANDBOX_NS_DIR "/%s", kind);
	umount2(dst, MNT_DETACH);
	unlink(dst);
}

void pd_sandbox_ns_remove(void)
{
	for (size_t i = 0; i < 2; i++)
		pd_sandbox_ns_unbind(kinds[i]);
}

bool pd_sandbox_ns_exists(const char *kind)
{
	char dst[128];
	snprintf(dst, sizeof(dst), PD_SANDBOX_NS_DIR "/%s", kind);
	return pd_is_mount_point(dst, "nsfs");
}
