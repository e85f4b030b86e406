#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/hooks.h"
#include "agent/container/process.h"
#include "agent/log.h"
#include "agent/sandbox/storage.h"
#include "agent/sandbox/task.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The rootfs must be a real directory reached without any symlink (Kata's rule): a
 * symlinked rootfs could point the container at any of the guest's directories. */
static int check_rootfs(const char *rootfs, struct pd_error *err)
{
	char real[4096];
	if (!realpath(rootfs, real))
		return pd_error_errno(err, errno, "rootfs %s", rootfs);
	if (strcmp(real, rootfs) != 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "rootfs %s is or passes through a symlink (resolves to %s)",
				    rootfs, real);
	return 0;
}

/* Open the init's namespaces and root now, so execs join exactly these even after the
 * pid is reused. */
static int pin_namespaces(struct pd_container *ctr, struct pd_error *err)
{
	char path[64];
	pid_t pid = ctr->init->pid;
	for (int t = 0; t < PD_NS_COUNT; t++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, pd_ns_proc_name(t));
		ctr->ns_fds[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (ctr->ns_fds[t] < 0 && errno != ENOENT)
			return pd_error_errno(err, errno, "pin %s", path);
	}
	/* Joining our own namespaces is a no-op but not always allowed (user ns): skip. */
	for (int t = 0; t < PD_NS_COUNT; t++) {
		char self[64];
		struct stat a, b;
		snprintf(self, sizeof(self), "/proc/self/ns/%s", pd_ns_proc_name(t));
		if (ctr->ns_fds[t] >= 0 && stat(self, &a) == 0 && fstat(ctr->ns_fds[t], &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			close_fd(&ctr->ns_fds[t]);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	ctr->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctr->root_fd < 0)
		return pd_error_errno(err, errno, "pin %s", path);
	return 0;
}

/* starttime (field 22 of /proc/<pid>/stat): with the pid, names the process uniquely. */
static uint64_t start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces and parens */
	unsigned long long v = 0;
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			       "%*d %*d %*d %llu",
			&v) == 1)
		return v;
	return 0;
}

/* startContainer hooks run inside the container: their binaries are looked up under the
 * rootfs, with the rule of the others (regular, executable, not a symlink). */
static int check_start_hooks(const struct pd_container_config *cfg, struct pd_error *err)
{
	const struct pd_hooks *h = cfg->hooks;
	char what[64];
	for (size_t i = 0; h && i < h->n[PD_HOOK_START_CONTAINER]; i++) {
		snprintf(what, sizeof(what), "Hooks.StartContainer[%zu]", i);
		if (pd_hook_check_path(cfg->rootfs, h->list[PD_HOOK_START_CONTAINER][i].path, what,
				       err) < 0)
			return -1;
	}
	return 0;
}

static struct pd_container *container_new(struct pd_sandbox *sb, struct pd_container_config *cfg)
{
	struct pd_container *ctr = calloc(1, sizeof(*ctr));
	if (!ctr)
		return NULL;
	ctr->sb = sb;
	snprintf(ctr->id, sizeof(ctr->id), "%s", cfg->id);
	ctr->cfg = *cfg; /* the arena moves with it */
	pd_arena_init(&cfg->arena, 0);
	ctr->root_fd = -1;
	for (int t = 0; t < PD_NS_COUNT; t++)
		ctr->ns_fds[t] = -1;
	pd_list_init(&ctr->tasks);
	pd_list_init(&ctr->removers);
	pd_list_init(&ctr->node);
	clock_gettime(CLOCK_REALTIME, &ctr->created);
	return ctr;
}

int pd_container_create(struct pd_sandbox *sb, const char *exec_id, struct pd_container_config *cfg,
			struct pd_cgroup *cg, int64_t deadline_ns, struct pd_container **out,
			struct pd_error *err)
{
	if (check_rootfs(cfg->rootfs, err) < 0 || check_start_hooks(cfg, err) < 0) {
		pd_arena_free(&cfg->arena);
		return -1;
	}
	struct pd_container *ctr = container_new(sb, cfg);
	if (!ctr || !(ctr->init = pd_task_new(ctr, exec_id, true))) {
		pd_arena_free(ctr ? &ctr->cfg.arena : &cfg->arena);
		free(ctr);
		return pd_error_errno(err, ENOMEM, "new container");
	}
	pd_list_add_tail(&ctr->tasks, &ctr->init->node);
	ctr->n_tasks = 1;
	ctr->cgroup = cg;
	struct pd_spawn_request req = {.cfg = &ctr->cfg, .proc = &ctr->cfg.process, .init = true,
				       .cgroup = cg};
	if (pd_task_spawn(ctr->init, PD_TASK_OP_CREATE, &req, deadline_ns, err) < 0) {
		pd_container_destroy(ctr);
		return -1;
	}
	ctr->creating = true;
	pd_list_add_tail(&sb->creating, &ctr->node);
	sb->n_creating++;
	*out = ctr;
	return 0;
}

int pd_container_ready(struct pd_container *ctr, struct pd_error *err)
{
	struct pd_sandbox *sb = ctr->sb;
	if (pin_namespaces(ctr, err) < 0)
		return -1;
	ctr->init_start_ticks = start_ticks(ctr->init->pid);
	ctr->status = PD_CTR_CREATED;
	pd_list_del(&ctr->node);
	sb->n_creating--;
	ctr->creating = false;
	pd_list_add_tail(&sb->containers, &ctr->node);
	sb->n_containers++;
	pd_container_save_state(ctr);
	return 0;
}

void pd_container_abort_create(struct pd_container *ctr, const struct pd_error *why)
{
	if (ctr->creating)
		pd_spawn_abort(&ctr->init->spawn, why);
}

int pd_container_start(struct pd_container *ctr, int64_t deadline_ns, struct pd_error *err)
{
	if (ctr->init->op == PD_TASK_OP_START)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "container %s is being started", ctr->id);
	if (ctr->status != PD_CTR_CREATED || ctr->init->exited)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "container %s is not in the created state", ctr->id);
	if (pd_task_start(ctr->init, deadline_ns, err) < 0)
		return pd_error_wrap(err, "start container %s", ctr->id);
	return 0;
}

int pd_container_exec(struct pd_container *ctr, const char *exec_id, struct pd_arena *arena,
		      struct pd_process_config *proc, int64_t deadline_ns, struct pd_task **out,
		      struct pd_error *err)
{
	struct pd_task *t = NULL;
	int rc = -1;
	if (ctr->status != PD_CTR_RUNNING || ctr->init->exited || ctr->removing)
		pd_error_set(err, PD_FAILED_PRECONDITION, 0, "container %s is not running", ctr->id);
	else if (pd_container_find_task(ctr, exec_id))
		pd_error_set(err, PD_ALREADY_EXISTS, 0, "exec id %s already exists", exec_id);
	else if (ctr->n_tasks >= PD_MAX_TASKS)
		pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0, "too many processes in %s", ctr->id);
	else if (!(t = pd_task_new(ctr, exec_id, false)))
		pd_error_errno(err, ENOMEM, "new process");
	else
		rc = 0;
	if (rc < 0) {
		pd_arena_free(arena);
		return -1;
	}
	t->arena = *arena;
	pd_arena_init(arena, 0);
	t->proc = proc;
	if (!proc->has_caps) { /* an exec without capabilities inherits the container's */
		proc->caps = ctr->cfg.process.caps;
		proc->has_caps = ctr->cfg.process.has_caps;
	}
	struct pd_spawn_request req = {.cfg = &ctr->cfg, .proc = proc, .init = false,
				       .root_fd = ctr->root_fd, .cgroup = ctr->cgroup};
	memcpy(req.ns_fds, ctr->ns_fds, sizeof(req.ns_fds));
	if (pd_task_spawn(t, PD_TASK_OP_EXEC, &req, deadline_ns, err) < 0) {
		pd_task_free(t);
		return pd_error_wrap(err, "exec %s in %s", exec_id, ctr->id);
	}
	/* A process of the container from now on: found by its id, counted, killed with the
	 * others; it answers WaitProcess only once its exec has been reported. */
	pd_list_add_tail(&ctr->tasks, &t->node);
	ctr->n_tasks++;
	*out = t;
	return 0;
}

/* Does the process catch, ignore or block `sig`? (/proc/<pid>/status SigCgt/SigIgn/SigBlk) */
static bool handles_signal(pid_t pid, int sig)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true; /* cannot tell: send what was asked */
	bool handled = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long mask;
		if ((sscanf(line, "SigCgt: %llx", &mask) == 1 || sscanf(line, "SigIgn: %llx", &mask) == 1 ||
		     sscanf(line, "SigBlk: %llx", &mask) == 1) &&
		    (mask & (1ULL << (sig - 1))))
			handled = true;
	}
	fclose(f);
	return handled;
}

void pd_container_kill_all(struct pd_container *ctr)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &ctr->tasks)
	{
		struct pd_task *t = pd_container_of(pos, struct pd_task, node);
		if (t->pid > 0 && !t->exited && kill(t->pid, SIGKILL) < 0 && errno != ESRCH)
			pd_warn("kill failed", "cid=%s pid=%d errno=%d", ctr->id, (int)t->pid, errno);
	}
}

int pd_container_signal(struct pd_container *ctr, const char *exec_id, int sig,
			struct pd_error *err)
{
	if (sig < 0 || sig >= NSIG)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "bad signal %d", sig);
	if (!exec_id[0] && sig == SIGKILL) {
		/* Every process: the init's pid namespace dies with it, the execs too. */
		pd_container_kill_all(ctr);
		return 0;
	}
	struct pd_task *t = pd_container_find_task(ctr, exec_id);
	if (!t)
		return pd_error_set(err, PD_NOT_FOUND, 0, "process %s not found in %s", exec_id,
				    ctr->id);
	if (t->exited || t->pid <= 0)
		return 0; /* like ESRCH: nothing left to signal */
	if (t->init && sig == SIGTERM && !handles_signal(t->pid, SIGTERM))
		sig = SIGKILL; /* a pid-namespace init ignores signals it has no handler for */
	if (kill(t->pid, sig) < 0 && errno != ESRCH)
		return pd_error_errno(err, errno, "signal %d to pid %d", sig, (int)t->pid);
	return 0;
}

bool pd_container_all_exited(const struct pd_container *ctr)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, (struct pd_list *)&ctr->tasks)
	{
		struct pd_task *t = pd_container_of(pos, struct pd_task, node);
		if (t->pid > 0 && !t->exited)
			return false;
	}
	return true;
}

void pd_container_destroy(struct pd_container *ctr)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &ctr->tasks)
	pd_task_free(pd_container_of(pos, struct pd_task, node));
	for (int t = 0; t < PD_NS_COUNT; t++)
		close_fd(&ctr->ns_fds[t]);
	close_fd(&ctr->root_fd);
	pd_storage_release_list(ctr->sb, ctr->storage_mounts, ctr->n_storage_mounts);
	if (ctr->creating) {
		pd_list_del(&ctr->node);
		ctr->sb->n_creating--;
	} else if (!pd_list_empty(&ctr->node)) {
		pd_list_del(&ctr->node);
		ctr->sb->n_containers--;
		pd_container_remove_state(ctr);
	}
	pd_arena_free(&ctr->cfg.arena);
	free(ctr);
}
