/* The front door: pick the backend by what is mounted at the root, then every call goes
 * through its table. What both versions share lives here: the freeze wait, kill-all by
 * cgroup.procs, teardown. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "init/cgroups.h"

const struct pd_device_rule pd_cgroup_default_devices[] = {
    {true, 'c', PD_DEV_ANY, PD_DEV_ANY, "m"}, /* mknod of any device: using it needs a rule */
    {true, 'b', PD_DEV_ANY, PD_DEV_ANY, "m"},
    {true, 'c', 1, 3, "rwm"},		 /* /dev/null */
    {true, 'c', 1, 5, "rwm"},		 /* /dev/zero */
    {true, 'c', 1, 7, "rwm"},		 /* /dev/full */
    {true, 'c', 1, 8, "rwm"},		 /* /dev/random */
    {true, 'c', 1, 9, "rwm"},		 /* /dev/urandom */
    {true, 'c', 5, 0, "rwm"},		 /* /dev/tty */
    {true, 'c', 5, 1, "rwm"},		 /* /dev/console */
    {true, 'c', 5, 2, "rwm"},		 /* /dev/ptmx */
    {true, 'c', 136, PD_DEV_ANY, "rwm"}, /* /dev/pts/N */
    {true, 'c', 10, 200, "rwm"},	 /* /dev/net/tun */
};
const size_t pd_cgroup_n_default_devices =
    sizeof(pd_cgroup_default_devices) / sizeof(pd_cgroup_default_devices[0]);

void pd_device_rule_text(const struct pd_device_rule *r, char *buf, size_t size)
{
	char major[24] = "*", minor[24] = "*";
	if (r->major != PD_DEV_ANY)
		snprintf(major, sizeof(major), "%lld", (long long)r->major);
	if (r->minor != PD_DEV_ANY)
		snprintf(minor, sizeof(minor), "%lld", (long long)r->minor);
	snprintf(buf, size, "%c %s:%s %s", r->type, major, minor, r->access);
}

static bool is_dir(const char *root, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int pd_cgroup_detect(const char *root)
{
	struct statfs fs;
	if (statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return PD_CGROUP_V2;
	if (pd_cg_exists(root, "cgroup.controllers"))
		return PD_CGROUP_V2;
	for (int i = 0; pd_cgroup_v1_known[i]; i++)
		if (is_dir(root, pd_cgroup_v1_known[i]))
			return PD_CGROUP_V1;
	return PD_CGROUP_NONE;
}

static struct pd_cgroup *cgroup_new(int version, const char *root, const char *path)
{
	struct pd_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->version = version;
	cg->ops = version == PD_CGROUP_V2 ? &pd_cgroup_v2_ops : &pd_cgroup_v1_ops;
	cg->dirfd = cg->events_fd = cg->dev_prog_fd = cg->oom_fd = cg->oom_ctl_fd = -1;
	cg->root = strdup(root);
	cg->path = strdup(path);
	if (!cg->root || !cg->path) {
		pd_cgroup_free(cg);
		return NULL;
	}
	return cg;
}

/* Remove only the directories create() made (a reused cgroup stays). */
static void undo_create(struct pd_cgroup *cg)
{
	if (cg->version == PD_CGROUP_V2) {
		if (cg->dir)
			pd_cg_rmdir_made(cg->dir, cg->n_made);
		return;
	}
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].same_as < 0 && cg->hier[i].dir)
			pd_cg_rmdir_made(cg->hier[i].dir, cg->hier[i].n_made);
}

/* "a/b/c": relative, no empty, "." or ".." component (what pd_cgroup_path_from_spec makes). */
static bool clean_relative(const char *path)
{
	if (!path[0] || strlen(path) > PD_CGROUP_PATH_MAX)
		return false;
	for (const char *p = path; *p;) {
		size_t w = strcspn(p, "/");
		if (w == 0 || (w == 1 && p[0] == '.') || (w == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += w;
		if (*p && !*++p)
			return false; /* a trailing slash */
	}
	return true;
}

int pd_cgroup_create(const char *root, const char *path, const struct pd_resources *res,
		     struct pd_cgroup **out, struct pd_error *err)
{
	int version = pd_cgroup_detect(root);
	if (version == PD_CGROUP_NONE)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0, "no cgroup filesystem at %s",
				    root);
	if (!clean_relative(path))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad cgroup path '%.200s'", path);
	struct pd_cgroup *cg = cgroup_new(version, root, path);
	if (!cg)
		return pd_error_errno(err, ENOMEM, "cgroup %s", path);
	struct statfs fs;
	cg->fake = version == PD_CGROUP_V2 &&
		   !(statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC);
	if (cg->ops->create(cg, err) < 0) {
		pd_cgroup_free(cg);
		return pd_error_wrap(err, "create cgroup %s", path);
	}
	static const struct pd_resources none;
	char *pin;
	if (pd_cg_remember_pin(cg, res, &pin, err) < 0 ||
	    cg->ops->apply(cg, res ? res : &none, true, err) < 0) {
		free(pin);
		undo_create(cg);
		pd_cgroup_free(cg);
		return pd_error_wrap(err, "cgroup %s", path);
	}
	pd_cg_keep_pin(cg, pin);
	*out = cg;
	return 0;
}

int pd_cgroup_version(const struct pd_cgroup *cg)
{
	return cg->version;
}

const char *pd_cgroup_path(const struct pd_cgroup *cg)
{
	return cg->path;
}

int pd_cgroup_dirfd(const struct pd_cgroup *cg)
{
	return cg->version == PD_CGROUP_V2 ? cg->dirfd : -1;
}

int pd_cgroup_enter(struct pd_cgroup *cg, pid_t pid, struct pd_error *err)
{
	return cg->ops->enter(cg, pid, err);
}

int pd_cgroup_update(struct pd_cgroup *cg, const struct pd_resources *res, struct pd_error *err)
{
	char *pin;
	if (pd_cg_remember_pin(cg, res, &pin, err) < 0)
		return -1;
	if (cg->ops->apply(cg, res, false, err) < 0) {
		free(pin);
		return pd_error_wrap(err, "update cgroup %s", cg->path);
	}
	pd_cg_keep_pin(cg, pin);
	return 0;
}

int pd_cgroup_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err)
{
	memset(st, 0, sizeof(*st));
	if (cg->ops->stats(cg, st, err) < 0) {
		pd_cgroup_stats_free(st);
		return pd_error_wrap(err, "stats of cgroup %s", cg->path);
	}
	return 0;
}

void pd_cgroup_stats_free(struct pd_cgroup_stats *st)
{
	free(st->cpu.percpu);
	free(st->memory.stats);
	for (int k = 0; k < PD_BLKIO_KINDS; k++)
		free(st->blkio[k]);
	free(st->hugetlb);
	memset(st, 0, sizeof(*st));
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until frozen or timeout_ms: on v2 the kernel notifies cgroup.events (POLLPRI); v1's
 * freezer has no notification, so its state is read again at growing intervals (each read
 * also moves the kernel from FREEZING to FROZEN once every task has stopped). */
static int wait_frozen(struct pd_cgroup *cg, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	long pause_us = 100;
	for (;;) {
		int st = cg->ops->frozen_state(cg);
		if (st != 0)
			return st;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		int fd = cg->ops->freeze_notify_fd(cg);
		if (fd >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLPRI};
			poll(&p, 1, left > 100 ? 100 : (int)left);
		} else {
			struct timespec ts = {0, pause_us * 1000};
			nanosleep(&ts, NULL);
			if (pause_us < 10000)
				pause_us *= 2;
		}
	}
}

int pd_cgroup_freeze(struct pd_cgroup *cg, bool frozen, struct pd_error *err)
{
	if (cg->ops->set_frozen(cg, frozen, err) < 0)
		return pd_error_wrap(err, "%s cgroup %s", frozen ? "freeze" : "thaw", cg->path);
	if (!frozen)
		return 0;
	int st = wait_frozen(cg, PD_CGROUP_FREEZE_MS);
	if (st == 1)
		return 0;
	struct pd_error e;
	cg->ops->set_frozen(cg, false, &e);
	if (st < 0)
		return pd_error_set(err, PD_INTERNAL, 0, "cgroup %s: freezer state unreadable",
				    cg->path);
	return pd_error_set(err, PD_UNAVAILABLE, 0, "cgroup %s did not freeze within %d ms",
			    cg->path, PD_CGROUP_FREEZE_MS);
}

bool pd_cgroup_is_frozen(const struct pd_cgroup *cg)
{
	return cg->ops->frozen_state(cg) == 1;
}

/* SIGKILL every pid listed in dir/cgroup.procs, never ourselves. */
static int kill_listed(const char *dir, struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), dir, "cgroup.procs", err) < 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return pd_error_errno(err, errno, "open %s", path);
	int pid, n = 0;
	pid_t self = getpid();
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid <= 0 || pid == self)
			continue;
		if (kill(pid, SIGKILL) == 0)
			n++;
		else if (errno != ESRCH)
			pd_debug("cgroup kill failed", "pid=%d errno=%d", pid, errno);
	}
	fclose(f);
	return n;
}

int pd_cgroup_kill_all(struct pd_cgroup *cg, struct pd_error *err)
{
	int fast = cg->ops->kill_fast(cg, err);
	if (fast != 0)
		return fast < 0 ? pd_error_wrap(err, "kill cgroup %s", cg->path) : 0;
	struct pd_error e;
	bool frozen = pd_cgroup_freeze(cg, true, &e) == 0;
	if (!frozen)
		pd_debug("kill without freezing", "cgroup=%s err=\"%s\"", cg->path, e.msg);
	int n = kill_listed(cg->ops->procs_dir(cg), err);
	/* A frozen process dies only once thawed (v1); thaw even when it was paused. */
	if (frozen || pd_cgroup_is_frozen(cg))
		cg->ops->set_frozen(cg, false, &e);
	return n < 0 ? pd_error_wrap(err, "kill cgroup %s", cg->path) : n;
}

bool pd_cgroup_is_empty(const struct pd_cgroup *cg)
{
	char buf[256];
	if (cg->version == PD_CGROUP_V2) {
		uint64_t populated = 1;
		if (pd_cg_read(cg->dir, "cgroup.events", buf, sizeof(buf), NULL) < 0)
			return !pd_cg_exists(cg->dir, "");
		return pd_cg_flat_get(buf, "populated", &populated) && populated == 0;
	}
	if (pd_cg_read(cg->ops->procs_dir(cg), "cgroup.procs", buf, sizeof(buf), NULL) < 0)
		return true; /* gone */
	return strspn(buf, " \n") == strlen(buf);
}

int pd_cgroup_remove(struct pd_cgroup *cg, struct pd_error *err)
{
	return cg->ops->remove(cg, err);
}

void pd_cgroup_free(struct pd_cgroup *cg)
{
	if (!cg)
		return;
	int *fds[] = {&cg->dirfd, &cg->events_fd, &cg->dev_prog_fd, &cg->oom_fd, &cg->oom_ctl_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	for (size_t i = 0; i < cg->n_hier; i++)
		free(cg->hier[i].dir);
	free(cg->dir);
	free(cg->root);
	free(cg->path);
	free(cg->cpus_pin);
	free(cg);
}

int pd_cgroup_destroy(struct pd_cgroup *cg, struct pd_error *err)
{
	int rc = pd_cgroup_remove(cg, err);
	pd_cgroup_free(cg);
	return rc;
}

void pd_cgroup_remove_parent(const char *root, const char *parent)
{
	char dir[PATH_MAX];
	size_t parts = 1;
	for (const char *p = parent; *p; p++)
		parts += *p == '/';
	int version = pd_cgroup_detect(root);
	for (int i = -1; i < 0 || pd_cgroup_v1_known[i]; i++) {
		if ((i < 0) != (version == PD_CGROUP_V2))
			continue;
		int n = i < 0 ? snprintf(dir, sizeof(dir), "%s/%s", root, parent)
			      : snprintf(dir, sizeof(dir), "%s/%s/%s", root, pd_cgroup_v1_known[i],
					 parent);
		if (n > 0 && (size_t)n < sizeof(dir) && parent[0])
			pd_cg_rmdir_made(dir, parts);
	}
}

int pd_cgroup_oom_fd(struct pd_cgroup *cg, struct pd_error *err)
{
	if (cg->oom_fd >= 0)
		return cg->oom_fd;
	return cg->ops->oom_open(cg, err);
}

bool pd_cgroup_oom_check(struct pd_cgroup *cg)
{
	return cg->oom_fd >= 0 && cg->ops->oom_check(cg);
}

size_t pd_cgroup_paths(const struct pd_cgroup *cg, const char **names, const char **paths,
		       size_t max)
{
	return cg->ops->paths(cg, names, paths, max);
}
