/* The stub sandbox under fuzz_dispatch: the handlers and everything they check run for real;
 * what would change the machine is replaced at link time (fuzz_dispatch.wrap lists every
 * wrapped symbol; a call to `f` from another object goes to __wrap_f here).
 *
 *  - the engine's entry points: spawning a container process, forking a hook, starting a
 *    helper program, making the sandbox namespaces, the cgroup engine: fakes that keep the
 *    state the callers read back (pids, exit statuses, cgroups) and never touch the kernel;
 *  - the kernel paths the guest handlers are given (/sys, /proc, /dev/random, the root of
 *    helper programs): redirected into the harness's own tree (FZ_HOME);
 *  - guards on the libc calls that change the machine: mounts succeed without effect;
 *    swapon, settimeofday, sethostname, setns and the syscall(2)s that make processes, load
 *    modules or programs are refused (EPERM); kill, waitpid and /proc/<pid> act on fake
 *    processes; fork, execve and a kill or wait of a real process abort: only a hole in the
 *    seam could reach them (then the fake is incomplete: fix the harness, not the agent).
 *
 * Fake processes have pids above PID_MAX_LIMIT (4194304), which no real process can have:
 * even a kill that slipped past the guard could not reach one. */
#include "dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cgroup/cgroup.h"
#include "agent/container/hooks.h"
#include "agent/container/spawn.h"
#include "agent/container/sync.h"
#include "agent/device/devwait.h"
#include "agent/guest/guest.h"
#include "agent/list.h"

#define FAKE_PID_BASE 5000000 /* > PID_MAX_LIMIT */
#define MAX_PROCS     4096

enum { P_FREE, P_ALIVE, P_EXITED, P_REAPED };

struct fake_proc {
	int state;
	int status; /* wait status once exited */
	int fd[3];  /* its stdin, stdout, stderr (the child's ends), -1 = none; closed at exit */
	/* A container process: the child's end of its sync socket until it "execs" (START) or
	 * exits, a watch in the agent's loop, so that it answers as the real child does. */
	struct pd_watch sync;
	struct pd_loop *loop;
};

static struct fake_proc procs[MAX_PROCS];
static unsigned n_procs; /* pids FAKE_PID_BASE .. + n_procs - 1 were handed out */
static bool spawn_fails, hooks_fail;

__attribute__((noreturn)) static void seam(const char *what)
{
	fprintf(stderr, "fuzz_dispatch: %s reached: the fake engine has a hole\n", what);
	abort();
}

static struct fake_proc *proc_of(pid_t pid)
{
	if (pid < 0)
		pid = -pid; /* a process group: ours have the leader's pid */
	if (pid < FAKE_PID_BASE || (unsigned)(pid - FAKE_PID_BASE) >= n_procs)
		return NULL;
	return &procs[pid - FAKE_PID_BASE];
}

static pid_t proc_new(int state, int status)
{
	if (n_procs >= MAX_PROCS)
		return -1;
	procs[n_procs] = (struct fake_proc){.state = state, .status = status, .fd = {-1, -1, -1},
					    .sync.fd = -1};
	return FAKE_PID_BASE + (pid_t)n_procs++;
}

/* The fake child's end of its sync socket closes (its exec, or its end). */
static void sync_close(struct fake_proc *p)
{
	if (p->sync.fd < 0)
		return;
	pd_loop_del(p->loop, &p->sync);
	close(p->sync.fd);
	p->sync.fd = -1;
}

/* A live process ends: its stdio closes (the agent reads EOF), its status waits for a reap. */
static void proc_exit(struct fake_proc *p, int status)
{
	if (p->state != P_ALIVE)
		return;
	p->state = P_EXITED;
	p->status = status;
	sync_close(p);
	for (int i = 0; i < 3; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}

static struct fake_proc *nth_alive(unsigned n)
{
	unsigned alive = fz_fake_procs_alive();
	if (!alive)
		return NULL;
	n %= alive;
	for (unsigned i = 0; i < n_procs; i++)
		if (procs[i].state == P_ALIVE && n-- == 0)
			return &procs[i];
	return NULL;
}

void fz_fake_reset(bool spawn_fail, bool hook_fail)
{
	spawn_fails = spawn_fail;
	hooks_fail = hook_fail;
}

void fz_fake_forget_all(void)
{
	for (unsigned i = 0; i < n_procs; i++)
		proc_exit(&procs[i], 0);
	n_procs = 0;
}

unsigned fz_fake_procs_alive(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < n_procs; i++)
		n += procs[i].state == P_ALIVE;
	return n;
}

void fz_fake_exit_one(unsigned n, int status)
{
	struct fake_proc *p = nth_alive(n);
	if (p)
		proc_exit(p, status);
}

void fz_fake_output(unsigned n, bool err, const uint8_t *data, size_t len)
{
	struct fake_proc *p = nth_alive(n);
	if (p && p->fd[err ? 2 : 1] >= 0 && write(p->fd[err ? 2 : 1], data, len) < 0) {
		/* full (non-blocking): the agent has not read yet */
	}
}

void fz_fake_input(unsigned n, size_t max)
{
	struct fake_proc *p = nth_alive(n);
	uint8_t buf[4096];
	while (p && p->fd[0] >= 0 && max > 0) {
		ssize_t r = read(p->fd[0], buf, max < sizeof(buf) ? max : sizeof(buf));
		if (r <= 0)
			break;
		max -= (size_t)r;
	}
}

/* ---- the libc guards ------------------------------------------------------------------------ */

extern int __real_open(const char *path, int flags, ...);

static int refuse(void)
{
	errno = EPERM;
	return -1;
}

/* Mounts "succeed" and change nothing: storages, the DNS bind, ephemeral remounts go on to
 * their bookkeeping (reference counts, release, unmount), which is what can go wrong here. */
int __wrap_mount(const char *src, const char *dst, const char *fs, unsigned long fl,
		 const void *data)
{
	return 0;
}
int __wrap_umount2(const char *target, int flags)
{
	return 0;
}
int __wrap_umount(const char *target)
{
	return 0;
}
int __wrap_swapon(const char *path, int flags)
{
	return refuse();
}
int __wrap_swapoff(const char *path)
{
	return refuse();
}
int __wrap_settimeofday(const void *tv, const void *tz)
{
	return refuse();
}
int __wrap_clock_settime(clockid_t id, const void *tp)
{
	return refuse();
}
int __wrap_sethostname(const char *name, size_t len)
{
	return refuse();
}
int __wrap_setns(int fd, int nstype)
{
	return refuse();
}
int __wrap_unshare(int flags)
{
	return refuse();
}
int __wrap_reboot(int cmd)
{
	seam("reboot");
}
pid_t __wrap_fork(void)
{
	seam("fork");
}
pid_t __wrap_vfork(void)
{
	seam("vfork");
}
int __wrap_execve(const char *path, char *const argv[], char *const envp[])
{
	seam("execve");
}

static bool kills(int sig)
{
	switch (sig) { /* default action: ignore, stop or continue */
	case 0:
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return false;
	default:
		return true;
	}
}

int __wrap_kill(pid_t pid, int sig)
{
	struct fake_proc *p = proc_of(pid);
	if (!p)
		seam("kill of a process that is not a fake one");
	if (sig < 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (p->state == P_REAPED) {
		errno = ESRCH;
		return -1;
	}
	if (p->state == P_ALIVE && kills(sig))
		proc_exit(p, sig); /* WIFSIGNALED, WTERMSIG == sig */
	return 0;
}

static pid_t reap(struct fake_proc *p, int *status)
{
	p->state = P_REAPED;
	if (status)
		*status = p->status;
	return FAKE_PID_BASE + (pid_t)(p - procs);
}

pid_t __wrap_waitpid(pid_t pid, int *status, int options)
{
	if (pid == -1) {
		bool any = false;
		for (unsigned i = 0; i < n_procs; i++) {
			if (procs[i].state == P_EXITED)
				return reap(&procs[i], status);
			any |= procs[i].state == P_ALIVE;
		}
		if (any)
			return 0;
		errno = ECHILD;
		return -1;
	}
	struct fake_proc *p = proc_of(pid);
	if (!p || pid < 0)
		seam("waitpid for a process that is not a fake one");
	if (p->state == P_EXITED)
		return reap(p, status);
	if (p->state == P_ALIVE && (options & WNOHANG))
		return 0;
	if (p->state == P_ALIVE)
		seam("a blocking waitpid for a live process");
	errno = ECHILD;
	return -1;
}

int __wrap_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	seam("waitid");
}

/* The new mount API, faked: a filesystem context is an fd of /dev/null, a new mount an
 * O_PATH fd of a fresh directory in the harness's tree (FZ_MNT), a cloned tree an fd of the
 * source directory itself; configuring, attaching and setting attributes succeed without
 * effect. What the agent then does through those fds happens in the harness's tmpfs. */
static unsigned n_mounts;

static long fake_fsmount(void)
{
	char dir[64];
	snprintf(dir, sizeof(dir), FZ_MNT "/%u", n_mounts++);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return __real_open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

unsigned fz_fake_mounts(void)
{
	return n_mounts;
}

void fz_fake_mounts_forget(void)
{
	n_mounts = 0;
}

/* syscall(2): what the agent's own side uses and cannot change the machine goes through, the
 * mount API is faked (above), everything else is refused (clone, clone3, finit_module, bpf,
 * pivot_root, seccomp). pidfd_open of a fake pid: no such process. */
extern long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	long a[5] = {0};
	int n;
	switch (nr) {
	case SYS_openat2:
	case SYS_move_mount:
	case SYS_fsconfig:
	case SYS_statx:
	case SYS_mount_setattr:
		n = 5;
		break;
	case SYS_close_range:
	case SYS_fsmount:
	case SYS_open_tree:
	case SYS_getdents64:
		n = 3;
		break;
	case SYS_pidfd_open:
	case SYS_fsopen:
		n = 2;
		break;
	default:
		n = 0;
	}
	va_start(ap, nr); /* only the arguments this call has: the others were never passed */
	for (int i = 0; i < n; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_openat2:
	case SYS_close_range:
	case SYS_statx:
	case SYS_getdents64:
		return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4]);
	case SYS_fsopen:
		return __real_open("/dev/null", O_RDONLY | O_CLOEXEC);
	case SYS_fsconfig:
	case SYS_move_mount:
	case SYS_mount_setattr:
		return 0;
	case SYS_fsmount:
		return fake_fsmount();
	case SYS_open_tree:
		return fcntl((int)a[0], F_DUPFD_CLOEXEC, 3);
	case SYS_pidfd_open:
		if (proc_of((pid_t)a[0]))
			errno = ESRCH;
		else
			seam("pidfd_open of a process that is not a fake one");
		return -1;
	default:
		return refuse();
	}
}

/* /proc/<fake pid>/... is /proc/self/...: a fake container init "has" our namespaces and
 * root (pin_namespaces then keeps no ns fd, as for namespaces shared with the agent). */
int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	char buf[4096];
	long pid;
	char *end;
	if (strncmp(path, "/proc/", 6) == 0 && (pid = strtol(path + 6, &end, 10)) > 0 &&
	    *end == '/' && proc_of((pid_t)pid)) {
		if (proc_of((pid_t)pid)->state == P_REAPED) {
			errno = ENOENT;
			return -1;
		}
		snprintf(buf, sizeof(buf), "/proc/self%s", end);
		path = buf;
	}
	return __real_open(path, flags, mode);
}

/* ---- the engine: container processes ------------------------------------------------------ */

/* The fake child's words on its sync socket (an error: its message), as the real one's. */
static void child_says(struct fake_proc *p, uint32_t kind, const char *text)
{
	struct pd_sync_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	if (text) {
		m.code = PD_INTERNAL;
		m.errnum = EIO;
		snprintf(m.msg, sizeof(m.msg), "%s", text);
	}
	if (send(p->sync.fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the agent's end is gone: it hears nothing more anyway */
	}
}

/* What the agent says to the fake child: RESUME after its hooks (then READY), START (then
 * the exec: the socket closes, the process runs on), or nothing more (its end closed: a
 * child that was never started exits). */
static void child_on_sync(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct fake_proc *p = (struct fake_proc *)((char *)w - offsetof(struct fake_proc, sync));
	struct pd_sync_msg m;
	ssize_t n = recv(w->fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(m)) {
		proc_exit(p, 1 << 8);
		return;
	}
	if (m.kind == PD_SYNC_RESUME)
		child_says(p, PD_SYNC_READY, NULL);
	else if (m.kind == PD_SYNC_START)
		sync_close(p);
}

static bool stops_for_hooks(const struct pd_spawn_request *req)
{
	const struct pd_hooks *h = req->init && req->cfg ? req->cfg->hooks : NULL;
	return h && (h->n[PD_HOOK_PRESTART] || h->n[PD_HOOK_CREATE_RUNTIME] ||
		     h->n[PD_HOOK_CREATE_CONTAINER] || h->n[PD_HOOK_START_CONTAINER]);
}

/* No clone: a fake process whose sync socket speaks the child's side of the protocol, and
 * the real state machine (spawn_events.c) on the agent's side. */
int __wrap_pd_spawn_begin(struct pd_spawn *s, struct pd_loop *loop,
			  const struct pd_spawn_request *req, struct pd_error *err)
{
	int sv[2];
	pid_t pid = proc_new(P_ALIVE, 0);
	if (pid < 0)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, EAGAIN, "fuzz: too many processes");
	struct fake_proc *p = &procs[pid - FAKE_PID_BASE];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		p->state = P_REAPED;
		return pd_error_errno(err, errno, "fuzz: socketpair");
	}
	/* Its stdio, as the child would hold it; non-blocking, so that the harness never waits. */
	for (int i = 0; i < 3; i++)
		if (req->stdio[i] >= 0 &&
		    (p->fd[i] = fcntl(req->stdio[i], F_DUPFD_CLOEXEC, 3)) >= 0)
			fcntl(p->fd[i], F_SETFL, O_NONBLOCK);
	p->loop = loop;
	p->sync.fd = sv[1];
	p->sync.fn = child_on_sync;
	if (pd_loop_add(loop, &p->sync, EPOLLIN, err) < 0) {
		close(sv[0]);
		proc_exit(p, 1 << 8);
		p->state = P_REAPED;
		return -1;
	}
	if (spawn_fails) {
		child_says(p, PD_SYNC_ERROR, "fuzz: the container child failed");
		proc_exit(p, 127 << 8);
	} else {
		child_says(p, stops_for_hooks(req) ? PD_SYNC_HOOKS : PD_SYNC_READY, NULL);
	}
	s->loop = loop;
	s->pid = pid;
	s->sync.fd = sv[0];
	s->steps = pd_sync_steps_map("fuzz: a fake child");
	pd_spawn_events_begin(s, req);
	return 0;
}

/* Hooks: "run" at once, exit 0 (or 1 when the input says hooks fail). */
pid_t __wrap_pd_hook_fork(int kind, size_t i, const void *h, int state_fd, struct pd_error *err)
{
	pid_t pid = proc_new(P_EXITED, hooks_fail ? 1 << 8 : 0);
	if (pid < 0)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, EAGAIN, "fuzz: too many processes");
	return pid;
}

int __wrap_pd_hook_wait_exit(pid_t pid, int timeout_ms, struct pd_error *err)
{
	if (!proc_of(pid))
		seam("a hook wait for a process that is not a fake one");
	return 0;
}

/* Helper programs (iptables-save/-restore) are not run. */
struct pd_runcmd *__wrap_pd_runcmd_start(struct pd_loop *loop, const struct pd_runcmd_spec *spec,
					 pd_runcmd_done_fn done, void *data, struct pd_error *err)
{
	pd_error_set(err, PD_FAILED_PRECONDITION, 0, "fuzz: helper programs are not run");
	return NULL;
}

/* The sandbox's ipc/uts namespaces: "made" (a child that unshares and a bind mount). */
int __wrap_pd_sandbox_ns_create(const char *hostname, struct pd_error *err)
{
	return 0;
}

void __wrap_pd_sandbox_ns_remove(void)
{
}

/* ---- the guest's kernel paths, redirected ---------------------------------------------------- */

extern int __real_pd_cpus_online(const char *, unsigned, unsigned *, struct pd_error *);
int __wrap_pd_cpus_online(const char *sysfs, unsigned want, unsigned *online, struct pd_error *err)
{
	return __real_pd_cpus_online(FZ_SYSFS, want, online, err);
}

extern int __real_pd_memory_online(const char *, unsigned *, struct pd_error *);
int __wrap_pd_memory_online(const char *sysfs, unsigned *onlined, struct pd_error *err)
{
	return __real_pd_memory_online(FZ_SYSFS, onlined, err);
}

extern int __real_pd_memory_probe(const char *, const uint64_t *, size_t, struct pd_error *);
int __wrap_pd_memory_probe(const char *sysfs, const uint64_t *addrs, size_t n, struct pd_error *err)
{
	return __real_pd_memory_probe(FZ_SYSFS, addrs, n, err);
}

extern int __real_pd_guest_details(const char *, bool, bool, struct pd_guest_details *,
				   struct pd_error *);
int __wrap_pd_guest_details(const char *sysfs, bool bs, bool probe, struct pd_guest_details *d,
			    struct pd_error *err)
{
	return __real_pd_guest_details(FZ_SYSFS, bs, probe, d, err);
}

extern int __real_pd_memagent_memcg_set(struct pd_memagent *, const struct pd_memcg_config *,
					unsigned, const char *, struct pd_error *);
int __wrap_pd_memagent_memcg_set(struct pd_memagent *ma, const struct pd_memcg_config *v,
				 unsigned set, const char *sysfs, struct pd_error *err)
{
	return __real_pd_memagent_memcg_set(ma, v, set, FZ_SYSFS, err);
}

extern int __real_pd_memagent_compact_set(struct pd_memagent *, const struct pd_compact_config *,
					  unsigned, const char *, struct pd_error *);
int __wrap_pd_memagent_compact_set(struct pd_memagent *ma, const struct pd_compact_config *v,
				   unsigned set, const char *procfs, struct pd_error *err)
{
	return __real_pd_memagent_compact_set(ma, v, set, FZ_PROCFS, err);
}

/* A regular file in place of /dev/random: written for real, its ioctls refused (ENOTTY). */
extern int __real_pd_random_reseed(const char *, const void *, size_t, struct pd_error *);
int __wrap_pd_random_reseed(const char *dev, const void *data, size_t len, struct pd_error *err)
{
	return __real_pd_random_reseed(FZ_DEV "/random", data, len, err);
}

extern struct pd_runcmd *__real_pd_iptables_start(struct pd_loop *, const char *, bool, bool,
						  const void *, size_t, pd_runcmd_done_fn, void *,
						  struct pd_error *);
struct pd_runcmd *__wrap_pd_iptables_start(struct pd_loop *loop, const char *root, bool ipv6,
					   bool restore, const void *in, size_t in_len,
					   pd_runcmd_done_fn done, void *data, struct pd_error *err)
{
	return __real_pd_iptables_start(loop, FZ_ROOT, ipv6, restore, in, in_len, done, data, err);
}

extern int __real_pd_devwait_find(const struct pd_devwait_req *, const char *,
				  const struct pd_blk_want *, struct pd_blk_found *,
				  struct pd_error *);
int __wrap_pd_devwait_find(const struct pd_devwait_req *r, const char *sysfs,
			   const struct pd_blk_want *want, struct pd_blk_found *found,
			   struct pd_error *err)
{
	return __real_pd_devwait_find(r, FZ_SYSFS, want, found, err);
}

/* ---- the cgroup engine ---------------------------------------------------------------------- */

struct pd_cgroup {
	struct pd_list node;
	char path[PD_CGROUP_PATH_MAX + 1];
	char dir[PD_CGROUP_PATH_MAX + 64];
	bool frozen;
	int oom_fd; /* an eventfd: fz_fake_oom_one writes it */
};

static struct pd_list cgroups = {&cgroups, &cgroups};
static unsigned n_cgroups;

unsigned fz_fake_cgroups(void)
{
	return n_cgroups;
}

void fz_fake_oom_one(unsigned n)
{
	if (!n_cgroups)
		return;
	n %= n_cgroups;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &cgroups)
	{
		struct pd_cgroup *cg = pd_container_of(pos, struct pd_cgroup, node);
		if (n-- == 0 && cg->oom_fd >= 0) {
			uint64_t one = 1;
			if (write(cg->oom_fd, &one, sizeof(one)) < 0)
				abort();
		}
	}
}

int __wrap_pd_cgroup_detect(const char *root)
{
	return PD_CGROUP_V2;
}

int __wrap_pd_cgroup_create(const char *root, const char *path, const struct pd_resources *res,
			    struct pd_cgroup **out, struct pd_error *err)
{
	struct pd_cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return pd_error_errno(err, ENOMEM, "fuzz: cgroup");
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	snprintf(cg->dir, sizeof(cg->dir), "%s/%s", root, path);
	cg->oom_fd = -1;
	pd_list_add_tail(&cgroups, &cg->node);
	n_cgroups++;
	*out = cg;
	return 0;
}

const char *__wrap_pd_cgroup_path(const struct pd_cgroup *cg)
{
	return cg->path;
}

int __wrap_pd_cgroup_update(struct pd_cgroup *cg, const struct pd_resources *res,
			    struct pd_error *err)
{
	return 0;
}

int __wrap_pd_cgroup_cpuset_online(struct pd_cgroup *cg, struct pd_error *err)
{
	return 0;
}

int __wrap_pd_cgroup_freeze(struct pd_cgroup *cg, bool frozen, struct pd_error *err)
{
	cg->frozen = frozen;
	return 0;
}

int __wrap_pd_cgroup_kill_all(struct pd_cgroup *cg, struct pd_error *err)
{
	return 0; /* the container's processes are killed through kill(2) as well */
}

int __wrap_pd_cgroup_remove(struct pd_cgroup *cg, struct pd_error *err)
{
	return 0;
}

void __wrap_pd_cgroup_free(struct pd_cgroup *cg)
{
	if (!cg)
		return;
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	pd_list_del(&cg->node);
	n_cgroups--;
	free(cg);
}

void __wrap_pd_cgroup_remove_parent(const char *root, const char *parent)
{
}

int __wrap_pd_cgroup_oom_fd(struct pd_cgroup *cg, struct pd_error *err)
{
	if (cg->oom_fd < 0)
		cg->oom_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return cg->oom_fd >= 0 ? cg->oom_fd : pd_error_errno(err, errno, "fuzz: eventfd");
}

bool __wrap_pd_cgroup_oom_check(struct pd_cgroup *cg)
{
	uint64_t n;
	return cg->oom_fd >= 0 && read(cg->oom_fd, &n, sizeof(n)) == sizeof(n);
}

size_t __wrap_pd_cgroup_paths(const struct pd_cgroup *cg, const char **names, const char **paths,
			      size_t max)
{
	if (max > 0) {
		names[0] = "";
		paths[0] = cg->dir;
	}
	return 1;
}

/* Figures of every kind, so that every part of the reply is built. */
int __wrap_pd_cgroup_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err)
{
	memset(st, 0, sizeof(*st));
	st->cpu.total = 3;
	st->cpu.percpu = calloc(2, sizeof(*st->cpu.percpu));
	st->cpu.n_percpu = st->cpu.percpu ? 2 : 0;
	st->memory.stats = calloc(1, sizeof(*st->memory.stats));
	if (st->memory.stats) {
		snprintf(st->memory.stats[0].key, sizeof(st->memory.stats[0].key), "anon");
		st->memory.n_stats = 1;
	}
	st->blkio[0] = calloc(1, sizeof(*st->blkio[0]));
	if (st->blkio[0]) {
		snprintf(st->blkio[0]->op, sizeof(st->blkio[0]->op), "read");
		st->n_blkio[0] = 1;
	}
	st->hugetlb = calloc(1, sizeof(*st->hugetlb));
	if (st->hugetlb) {
		snprintf(st->hugetlb->pagesize, sizeof(st->hugetlb->pagesize), "2MB");
		st->n_hugetlb = 1;
	}
	st->pids.current = 1;
	return 0;
}
