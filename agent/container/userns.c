#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "agent/container/idmap.h"
#include "agent/container/sync.h"

int pd_userns_chown_stdio(const struct pd_spawn_request *req, struct pd_error *err)
{
	const struct pd_container_config *cfg = req->cfg;
	uint32_t uid, gid;
	if (!cfg || !cfg->ns[PD_NS_USER].enabled || !cfg->n_uid_map ||
	    !pd_idmap_to_host(cfg->uid_map, cfg->n_uid_map, req->proc->uid, &uid) ||
	    !pd_idmap_to_host(cfg->gid_map, cfg->n_gid_map, req->proc->gid, &gid))
		return 0; /* unmapped ids fail in the child, at setresuid, naming the id */
	for (int i = 0; i < 3; i++)
		if (req->stdio[i] >= 0 && fchown(req->stdio[i], uid, gid) < 0)
			return pd_error_errno(err, errno, "chown stdio %d to %u:%u", i, uid, gid);
	return 0;
}

int pd_userns_map_child(const struct pd_spawn_request *req, pid_t pid, int sync_fd,
			struct pd_error *err)
{
	const struct pd_container_config *cfg = req->cfg;
	struct pd_sync_msg msg = {.kind = PD_SYNC_MAPPED};
	if (!req->init || !pd_userns_new(cfg))
		return 0;
	if (pd_idmap_write(pid, "uid_map", cfg->uid_map, cfg->n_uid_map, err) < 0 ||
	    pd_idmap_write(pid, "gid_map", cfg->gid_map, cfg->n_gid_map, err) < 0)
		return pd_error_wrap(err, "user namespace maps");
	return pd_sync_send(sync_fd, &msg, err);
}

int pd_userns_become_root(const struct pd_spawn_request *req, int sync_fd, struct pd_error *err)
{
	struct pd_sync_msg msg;
	if (!req->init || !pd_userns_new(req->cfg))
		return 0;
	if (pd_sync_recv(sync_fd, req->timeout_ms, &msg, err) < 0)
		return -1;
	if (msg.kind != PD_SYNC_MAPPED)
		return pd_error_set(err, PD_INTERNAL, 0, "waited for the id maps, got message %u",
				    msg.kind);
	/* Root of the namespace only when 0 is mapped; otherwise the process's own ids are
	 * set later, and what needs root here fails then, naming the step. */
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		return pd_error_errno(err, errno, "setresgid 0 in the user namespace");
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		return pd_error_errno(err, errno, "setresuid 0 in the user namespace");
	/* We stay not dumpable (docs/security.md): our /proc/self files belong to the
	 * agent's root, unmapped here, so what needs them (oom_score_adj) was done before.
	 * Dumpable, any root process of the initial user namespace could open our fds: it
	 * owns this namespace, capabilities or not. The exec sets dumpability again. */
	return 0;
}

int pd_userns_open_joined(const struct pd_container_config *cfg, int *fd, struct pd_error *err)
{
	const struct pd_namespace *user = &cfg->ns[PD_NS_USER];
	*fd = -1;
	if (!user->enabled || !user->path)
		return 0;
	*fd = open(user->path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return pd_error_errno(err, errno, "open user namespace %s", user->path);
	return 0;
}

int pd_userns_enter_joined(int fd, struct pd_error *err)
{
	if (fd < 0)
		return 0;
	int rc = setns(fd, CLONE_NEWUSER);
	int e = errno;
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, e, "join the user namespace");
	return 0;
}
