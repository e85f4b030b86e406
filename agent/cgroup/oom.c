/* OOM notification for the event loop.
 *   v1: an eventfd registered through cgroup.event_control on memory.oom_control. The
 *       kernel signals it when the cgroup runs out of memory — before it picks a victim, so
 *       the oom_kill counter has not moved yet when we look — and once more when the cgroup
 *       is removed. So every signal of a cgroup that still exists is an OOM event (what the
 *       Kata agent and runc report on v1; with the OOM killer disabled nothing is killed).
 *   v2: inotify on memory.events, which the kernel modifies on every memory event, the
 *       OOM kill included, after counting it: an event when oom_kill grew. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* oom_kill of dir/file; false if unreadable or without the counter. */
static bool oom_kills(const char *dir, const char *file, uint64_t *v)
{
	char buf[512];
	return pd_cg_read(dir, file, buf, sizeof(buf), NULL) >= 0 &&
	       pd_cg_flat_get(buf, "oom_kill", v);
}

int pd_cg_v1_oom_open(struct pd_cgroup *cg, struct pd_error *err)
{
	const char *dir = pd_cg_v1_dir(cg, "memory");
	char path[PATH_MAX], cmd[64];
	if (!dir)
		return pd_error_set(err, PD_NOT_FOUND, 0, "no memory cgroup hierarchy");
	if (pd_cg_join(path, sizeof(path), dir, "memory.oom_control", err) < 0)
		return -1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return pd_error_errno(err, errno, "eventfd");
	int cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cfd < 0) {
		pd_error_errno(err, errno, "open %s", path);
		close(efd);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%d %d", efd, cfd);
	if (pd_cg_command(dir, "cgroup.event_control", cmd, err) < 0) {
		close(efd);
		close(cfd);
		return -1;
	}
	cg->oom_fd = efd;
	cg->oom_ctl_fd = cfd;
	return efd;
}

bool pd_cg_v1_oom_check(struct pd_cgroup *cg)
{
	uint64_t events = 0;
	if (read(cg->oom_fd, &events, sizeof(events)) != sizeof(events) || events == 0)
		return false;
	/* the signal of a removal: the cgroup is gone */
	return pd_cg_exists(pd_cg_v1_dir(cg, "memory"), "memory.oom_control");
}

int pd_cg_v2_oom_open(struct pd_cgroup *cg, struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), cg->dir, "memory.events", err) < 0)
		return -1;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "inotify_init1");
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		int saved = errno;
		close(fd);
		if (saved == ENOENT)
			return pd_error_set(err, PD_NOT_FOUND, ENOENT, "no memory controller in %s",
					    cg->dir);
		return pd_error_errno(err, saved, "inotify_add_watch %s", path);
	}
	cg->oom_kills = 0;
	oom_kills(cg->dir, "memory.events", &cg->oom_kills);
	cg->oom_fd = fd;
	return fd;
}

bool pd_cg_v2_oom_check(struct pd_cgroup *cg)
{
	char events[4096];
	while (read(cg->oom_fd, events, sizeof(events)) > 0)
		;
	uint64_t kills;
	if (!oom_kills(cg->dir, "memory.events", &kills) || kills <= cg->oom_kills)
		return false;
	cg->oom_kills = kills;
	return true;
}
