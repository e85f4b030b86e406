/* Runs in the freshly cloned process. Order matters:
 *   0. (spawn.c, first thing after the clone) not dumpable, and every fd of the agent
 *      closed but the sync socket, the request's stdio and an exec's namespace and root
 *      fds (pd_child_hold_own_fds; docs/security.md)
 *   1. default signal dispositions, empty mask (we inherit the agent's blocked set);
 *      oom_score_adj while we still have the agent's privileges; in a new user namespace,
 *      wait for the agent to write its id maps and become its root
 *   2. join the namespaces that have paths (sandbox ipc/uts; an exec: all of the container's)
 *   3. hostname in a new uts namespace
 *   4. init: sysctls (through the agent's /proc, before the container's root hides it and
 *      its read-only /proc/sys applies), the OCI hooks' stop (the agent runs prestart and
 *      createRuntime, we run createContainer: child_hooks.h), then the rootfs (mounts,
 *      devices, pivot); exec: enter the container's root
 *   5. stdio, new session, controlling tty; then every fd but 0-2 and the sync socket is
 *      closed: what the process is left with before it drops its privileges
 *   6. seccomp, when no_new_privs is off: the kernel then wants CAP_SYS_ADMIN, which the
 *      next step may drop (runc's order)
 *   7. user, groups, capabilities, rlimits, no_new_privs, cwd (pd_process_setup)
 *   8. READY, wait for START, the startContainer hooks, exec — with no_new_privs, the
 *      seccomp filter goes on right before execve, after the binary has been looked up
 *      (pd_process_exec)
 * Any failure goes back to the agent as an error message naming the step; then _exit. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/container/child_hooks.h"
#include "agent/container/process.h"
#include "agent/container/rootfs.h"
#include "agent/container/seccomp.h"
#include "agent/container/sync.h"
#include "agent/container/sysctl.h"
#include "agent/container/userns.h"
#include "agent/signals.h"

__attribute__((noreturn)) static void fail(int sync_fd, const struct pd_error *err)
{
	struct pd_sync_msg msg;
	pd_sync_from_error(&msg, err);
	pd_sync_send(sync_fd, &msg, NULL);
	_exit(127);
}

static int join_path(int type, const char *path, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s namespace %s", pd_ns_proc_name(type), path);
	int rc = setns(fd, pd_ns_clone_flag(type));
	int e = errno;
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, e, "join %s namespace %s", pd_ns_proc_name(type), path);
	return 0;
}

/* init: namespaces given by path (the mount namespace is always new for a container; the
 * pid namespace is entered by the agent around the clone; a user namespace comes last). */
static int join_init_namespaces(const struct pd_container_config *cfg, struct pd_error *err)
{
	for (int t = 0; t < PD_NS_COUNT; t++) {
		if (!cfg->ns[t].enabled || !cfg->ns[t].path || t == PD_NS_MNT || t == PD_NS_PID ||
		    t == PD_NS_USER)
			continue;
		if (join_path(t, cfg->ns[t].path, err) < 0)
			return -1;
	}
	return 0;
}

/* exec: every pinned namespace of the container, the mount namespace last (after it, the
 * paths we could open are the container's), then the container's root. Each fd is closed
 * once joined. */
static int join_container(struct pd_spawn_request *req, struct pd_error *err)
{
	static const int order[] = {PD_NS_USER, PD_NS_IPC, PD_NS_UTS, PD_NS_NET, PD_NS_CGROUP,
				    PD_NS_MNT, PD_NS_USER};
	/* A user namespace the init made owns the others: first. One it joined by path owns
	 * none of them: last, as the init did. */
	bool joined = req->cfg && req->cfg->ns[PD_NS_USER].path;
	for (size_t i = joined; i < sizeof(order) / sizeof(order[0]) - !joined; i++) {
		int t = order[i];
		if (req->ns_fds[t] >= 0 && setns(req->ns_fds[t], pd_ns_clone_flag(t)) < 0)
			return pd_error_errno(err, errno, "join the container's %s namespace",
					      pd_ns_proc_name(t));
	}
	if (fchdir(req->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return pd_error_errno(err, errno, "enter the container's root");
	for (int t = 0; t < PD_NS_COUNT; t++) {
		if (req->ns_fds[t] >= 0)
			close(req->ns_fds[t]);
		req->ns_fds[t] = -1;
	}
	close(req->root_fd);
	req->root_fd = -1;
	return 0;
}

static int setup_stdio(const struct pd_spawn_request *req, struct pd_error *err)
{
	int null = -1;
	for (int i = 0; i < 3; i++) {
		int fd = req->stdio[i];
		if (fd < 0) {
			if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				return pd_error_errno(err, errno, "open /dev/null");
			fd = null;
		}
		if (dup2(fd, i) < 0)
			return pd_error_errno(err, errno, "dup2 stdio %d", i);
	}
	/* A non-root process must be able to reopen its stdio (/dev/stdout is
	 * /proc/self/fd/1): give it the pipes or the tty. */
	for (int i = 0; i < 3 && req->proc->uid != 0; i++)
		if (req->stdio[i] >= 0 && fchown(i, req->proc->uid, req->proc->gid) < 0 && errno != EPERM)
			return pd_error_errno(err, errno, "chown stdio %d", i);
	if (setsid() < 0)
		return pd_error_errno(err, errno, "setsid");
	if (req->proc->terminal && ioctl(0, TIOCSCTTY, 0) < 0)
		return pd_error_errno(err, errno, "set the controlling terminal");
	return 0;
}

/* init: a user namespace joined by path is opened now (its path is the agent's view) and
 * entered after the rootfs, which the agent's root sets up (docs/namespaces.md). The
 * createContainer hooks run in the new mount namespace, before the rootfs is set up. */
static int set_up_init(const struct pd_spawn_request *req, int sync_fd, struct pd_error *err)
{
	const struct pd_container_config *cfg = req->cfg;
	int user_fd = -1;
	pd_sync_step("joining the namespaces given by path");
	if (join_init_namespaces(cfg, err) < 0 || pd_userns_open_joined(cfg, &user_fd, err) < 0)
		return -1;
	if (cfg->hostname && cfg->ns[PD_NS_UTS].enabled && !cfg->ns[PD_NS_UTS].path &&
	    sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return pd_error_errno(err, errno, "sethostname %s", cfg->hostname);
	pd_sync_step("sysctls");
	if (pd_sysctls_apply(cfg->sysctls, cfg->n_sysctls, err) < 0 ||
	    pd_child_hooks_create(cfg, sync_fd, err) < 0)
		return -1;
	pd_sync_step("rootfs set-up: binding the rootfs");
	if (pd_rootfs_setup(cfg, req->no_pivot, err) < 0)
		return -1;
	return pd_userns_enter_joined(user_fd, err);
}

static int set_up(struct pd_spawn_request *req, int *sync_fd, struct pd_error *err)
{
	const struct pd_container_config *cfg = req->cfg;
	if (!req->init)
		pd_sync_step("joining the container's namespaces");
	if (req->init ? set_up_init(req, *sync_fd, err) < 0 : join_container(req, err) < 0)
		return -1;
	pd_sync_step("stdio, seccomp, process set-up (user, capabilities, rlimits)");
	if (setup_stdio(req, err) < 0)
		return -1;
	/* Before the process drops any privilege: 0-2 and the sync socket, nothing else. */
	int *const keep[] = {sync_fd};
	if (pd_child_keep_fds(keep, 1) < 0)
		return pd_error_errno(err, errno, "close the fds the process does not need");
	for (int i = 0; i < 3; i++)
		req->stdio[i] = i; /* their copies are closed: what is left is 0-2 */
	if (cfg && cfg->seccomp && !req->proc->no_new_privileges &&
	    pd_seccomp_load(cfg->seccomp, err) < 0)
		return -1;
	return pd_process_setup(req->proc, err);
}

int pd_child_hold_own_fds(struct pd_spawn_request *req, int *sync_fd)
{
	int *keep[1 + 3 + PD_NS_COUNT + 1];
	size_t n = 0;
	keep[n++] = sync_fd;
	for (int i = 0; i < 3; i++)
		keep[n++] = &req->stdio[i];
	for (int t = 0; t < PD_NS_COUNT; t++) {
		/* An init has none (its request leaves them 0); an exec's pid namespace was
		 * entered by the agent around the clone. */
		if (req->init || t == PD_NS_PID)
			req->ns_fds[t] = -1;
		keep[n++] = &req->ns_fds[t];
	}
	if (req->init)
		req->root_fd = -1;
	keep[n++] = &req->root_fd;
	return pd_child_keep_fds(keep, n);
}

void pd_child_main(struct pd_spawn_request *req, int sync_fd)
{
	struct pd_error err;
	pd_error_clear(&err);
	pd_signals_reset_for_child();
	/* oom_score_adj first, while we have the agent's privileges: lowering it needs
	 * CAP_SYS_RESOURCE in the initial user namespace, and once we are root of a user
	 * namespace of our own our /proc/self files (we are not dumpable) are not ours. */
	if (pd_process_oom_score(req->proc, &err) < 0 ||
	    pd_userns_become_root(req, sync_fd, &err) < 0 || set_up(req, &sync_fd, &err) < 0)
		fail(sync_fd, &err);
	struct pd_sync_msg msg = {.kind = PD_SYNC_READY};
	if (pd_sync_send(sync_fd, &msg, &err) < 0)
		_exit(127);
	if (pd_sync_recv(sync_fd, -1, &msg, &err) < 0 || msg.kind != PD_SYNC_START)
		_exit(127); /* the agent abandoned us */
	const struct pd_container_config *cfg = req->cfg;
	if (req->init && pd_child_hooks_start(cfg, &err) < 0)
		fail(sync_fd, &err);
	bool late_seccomp = cfg && cfg->seccomp && req->proc->no_new_privileges;
	pd_sync_step("exec of %s", req->proc->args[0]);
	pd_process_exec(req->proc, late_seccomp ? cfg->seccomp : NULL, &err);
	fail(sync_fd, &err);
}
