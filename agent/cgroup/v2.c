/* cgroup v2: one unified tree. The container's directory gets its controllers from its
 * parents' cgroup.subtree_control (init enables every controller at the root; the
 * directories made here do the same for their children). The directory fd is what
 * clone3(CLONE_INTO_CGROUP) takes; cgroup.events tells when freezing is done. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init/cgroups.h"

/* Every directory between the root and the leaf passes all its controllers down. */
static int enable_down(const struct pd_cgroup *cg, struct pd_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", cg->dir);
	size_t base = strlen(cg->root), leaf = strlen(dir) - strlen(strrchr(dir, '/'));
	for (size_t i = base + 1; i <= leaf; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		int rc = pd_cgroup2_enable_all(dir, err);
		dir[i] = '/';
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int v2_create(struct pd_cgroup *cg, struct pd_error *err)
{
	cg->dir = pd_cg_path_dup(cg->root, cg->path, NULL);
	if (!cg->dir)
		return pd_error_errno(err, ENOMEM, "cgroup path");
	if (pd_cg_mkdir_path(cg->root, cg->path, &cg->n_made, err) < 0)
		return -1;
	if (enable_down(cg, err) < 0)
		goto fail;
	cg->dirfd = open(cg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0) {
		pd_error_errno(err, errno, "open %s", cg->dir);
		goto fail;
	}
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), cg->dir, "cgroup.events", err) < 0)
		goto fail;
	cg->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cg->events_fd < 0) {
		pd_error_errno(err, errno, "open %s", path);
		goto fail;
	}
	return 0;
fail:
	pd_cg_rmdir_made(cg->dir, cg->n_made);
	return -1;
}

static int v2_enter(struct pd_cgroup *cg, pid_t pid, struct pd_error *err)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return pd_cg_command(cg->dir, "cgroup.procs", buf, err);
}

static int v2_set_frozen(struct pd_cgroup *cg, bool frozen, struct pd_error *err)
{
	if (!pd_cg_exists(cg->dir, "cgroup.freeze"))
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "no cgroup.freeze in %s (the v2 freezer needs Linux 5.2)",
				    cg->dir);
	return pd_cg_write(cg->dir, "cgroup.freeze", frozen ? "1" : "0", err);
}

static int v2_frozen_state(const struct pd_cgroup *cg)
{
	char buf[256];
	uint64_t v;
	if (pd_cg_read(cg->dir, "cgroup.events", buf, sizeof(buf), NULL) < 0 ||
	    !pd_cg_flat_get(buf, "frozen", &v))
		return -1;
	return v == 1;
}

static int v2_notify_fd(const struct pd_cgroup *cg)
{
	return cg->events_fd;
}

static const char *v2_procs_dir(const struct pd_cgroup *cg)
{
	return cg->dir;
}

/* cgroup.kill (Linux 5.14) kills the whole subtree, including what forks meanwhile. */
static int v2_kill_fast(struct pd_cgroup *cg, struct pd_error *err)
{
	if (!pd_cg_exists(cg->dir, "cgroup.kill"))
		return 0;
	return pd_cg_command(cg->dir, "cgroup.kill", "1", err) < 0 ? -1 : 1;
}

static int v2_remove(struct pd_cgroup *cg, struct pd_error *err)
{
	return pd_cg_rmdir_tree(cg->dir, err);
}

static size_t v2_paths(const struct pd_cgroup *cg, const char **names, const char **paths,
		       size_t max)
{
	if (max > 0) {
		names[0] = ""; /* runc's key for the unified hierarchy */
		paths[0] = cg->dir;
	}
	return 1;
}

const struct pd_cgroup_ops pd_cgroup_v2_ops = {
    .name = "v2",
    .create = v2_create,
    .apply = pd_cg_v2_apply,
    .enter = v2_enter,
    .set_frozen = v2_set_frozen,
    .frozen_state = v2_frozen_state,
    .freeze_notify_fd = v2_notify_fd,
    .procs_dir = v2_procs_dir,
    .kill_fast = v2_kill_fast,
    .remove = v2_remove,
    .oom_open = pd_cg_v2_oom_open,
    .oom_check = pd_cg_v2_oom_check,
    .stats = pd_cg_v2_stats,
    .paths = v2_paths,
};
