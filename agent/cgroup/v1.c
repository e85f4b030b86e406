/* cgroup v1: one hierarchy per controller under the root (init/cgroups.c mounts Kata's set
 * as separate hierarchies; a host may co-mount cpu,cpuacct). The container gets the same
 * relative path in every hierarchy. */
#include "cgroup_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "init/cgroups.h"

static int find_hierarchies(struct pd_cgroup *cg, struct pd_error *err)
{
	struct stat seen[PD_CG_MAX_HIER];
	for (int i = 0; pd_cgroup_v1_known[i] && cg->n_hier < PD_CG_MAX_HIER; i++) {
		const char *name = pd_cgroup_v1_known[i];
		char mnt[PATH_MAX];
		struct stat st;
		if (pd_cg_join(mnt, sizeof(mnt), cg->root, name, err) < 0)
			return -1;
		if (stat(mnt, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		struct pd_cg_hier *h = &cg->hier[cg->n_hier];
		h->name = name;
		h->same_as = -1;
		for (size_t j = 0; j < cg->n_hier; j++)
			if (cg->hier[j].same_as < 0 && seen[j].st_dev == st.st_dev &&
			    seen[j].st_ino == st.st_ino)
				h->same_as = (int)j;
		h->dir = pd_cg_path_dup(cg->root, name, cg->path);
		if (!h->dir)
			return pd_error_errno(err, ENOMEM, "cgroup path");
		seen[cg->n_hier++] = st;
	}
	if (cg->n_hier == 0)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0, "no cgroup v1 hierarchy at %s",
				    cg->root);
	return 0;
}

const char *pd_cg_v1_dir(const struct pd_cgroup *cg, const char *controller)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (strcmp(cg->hier[i].name, controller) == 0)
			return cg->hier[i].dir;
	return NULL;
}

/* A new cpuset cgroup starts with no cpus and no mems, and no process may join it until
 * both are set: give every level that is still empty its parent's values. */
static int cpuset_inherit(const struct pd_cgroup *cg, const char *dir, struct pd_error *err)
{
	char parent[PATH_MAX], cur[PATH_MAX];
	size_t base = strlen(cg->root) + strlen("/cpuset");
	snprintf(cur, sizeof(cur), "%s", dir);
	size_t len = strlen(cur);
	for (size_t i = base + 1; i <= len; i++) {
		if (cur[i] != '/' && cur[i] != '\0')
			continue;
		char saved = cur[i];
		cur[i] = '\0';
		snprintf(parent, sizeof(parent), "%s", cur);
		*strrchr(parent, '/') = '\0';
		static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
		for (int f = 0; f < 2; f++) {
			char val[4096];
			if (pd_cg_read(cur, files[f], val, sizeof(val), err) < 0)
				return -1;
			if (!pd_cg_blank(val))
				continue;
			if (pd_cg_read(parent, files[f], val, sizeof(val), err) < 0)
				return -1;
			val[strcspn(val, "\n")] = '\0';
			if (pd_cg_write(cur, files[f], val, err) < 0)
				return -1;
		}
		cur[i] = saved;
	}
	return 0;
}

static void undo(struct pd_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].same_as < 0)
			pd_cg_rmdir_made(cg->hier[i].dir, cg->hier[i].n_made);
}

static int v1_create(struct pd_cgroup *cg, struct pd_error *err)
{
	if (find_hierarchies(cg, err) < 0)
		return -1;
	for (size_t i = 0; i < cg->n_hier; i++) {
		struct pd_cg_hier *h = &cg->hier[i];
		if (h->same_as >= 0)
			continue;
		char mnt[PATH_MAX];
		snprintf(mnt, sizeof(mnt), "%s/%s", cg->root, h->name);
		int rc = pd_cg_mkdir_path(mnt, cg->path, &h->n_made, err);
		if (rc == 0 && strcmp(h->name, "cpuset") == 0)
			rc = cpuset_inherit(cg, h->dir, err);
		if (rc < 0) {
			undo(cg);
			return -1;
		}
	}
	return 0;
}

static int v1_enter(struct pd_cgroup *cg, pid_t pid, struct pd_error *err)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].same_as < 0 &&
		    pd_cg_command(cg->hier[i].dir, "cgroup.procs", buf, err) < 0)
			return -1;
	return 0;
}

static int v1_set_frozen(struct pd_cgroup *cg, bool frozen, struct pd_error *err)
{
	const char *dir = pd_cg_v1_dir(cg, "freezer");
	if (!dir)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "no freezer cgroup hierarchy mounted");
	return pd_cg_write(dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err);
}

static int v1_frozen_state(const struct pd_cgroup *cg)
{
	const char *dir = pd_cg_v1_dir(cg, "freezer");
	char buf[32];
	if (!dir || pd_cg_read(dir, "freezer.state", buf, sizeof(buf), NULL) < 0)
		return -1;
	return strncmp(buf, "FROZEN", 6) == 0;
}

static int no_fd(const struct pd_cgroup *cg)
{
	return -1;
}

static const char *v1_procs_dir(const struct pd_cgroup *cg)
{
	const char *dir = pd_cg_v1_dir(cg, "freezer");
	if (!dir)
		dir = pd_cg_v1_dir(cg, "memory");
	return dir ? dir : cg->hier[0].dir;
}

static int v1_kill_fast(struct pd_cgroup *cg, struct pd_error *err)
{
	return 0;
}

static int v1_remove(struct pd_cgroup *cg, struct pd_error *err)
{
	int rc = 0;
	struct pd_error e;
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].same_as < 0 && pd_cg_rmdir_tree(cg->hier[i].dir, &e) < 0 &&
		    rc == 0) {
			rc = -1;
			if (err)
				*err = e;
		}
	return rc;
}

static size_t v1_paths(const struct pd_cgroup *cg, const char **names, const char **paths,
		       size_t max)
{
	for (size_t i = 0; i < cg->n_hier && i < max; i++) {
		names[i] = cg->hier[i].name;
		paths[i] = cg->hier[i].dir;
	}
	return cg->n_hier;
}

const struct pd_cgroup_ops pd_cgroup_v1_ops = {
    .name = "v1",
    .create = v1_create,
    .apply = pd_cg_v1_apply,
    .enter = v1_enter,
    .set_frozen = v1_set_frozen,
    .frozen_state = v1_frozen_state,
    .freeze_notify_fd = no_fd,
    .procs_dir = v1_procs_dir,
    .kill_fast = v1_kill_fast,
    .remove = v1_remove,
    .oom_open = pd_cg_v1_oom_open,
    .oom_check = pd_cg_v1_oom_check,
    .stats = pd_cg_v1_stats,
    .paths = v1_paths,
};
