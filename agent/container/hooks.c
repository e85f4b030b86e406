/* Running one OCI hook: its state on stdin, the exec, a bounded wait. See hooks.h. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/container/json_write.h"
#include "agent/signals.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define STATE_MAX_BYTES (4u << 20)

const char *pd_hook_kind_name(int kind)
{
	static const char *names[PD_HOOK_KINDS] = {"prestart",	      "createRuntime",
						   "createContainer", "startContainer",
						   "poststart",	      "poststop"};
	return kind >= 0 && kind < PD_HOOK_KINDS ? names[kind] : "?";
}

static char **copy_strv(struct pd_arena *a, char *const *src, size_t n)
{
	char **out = pd_arena_calloc(a, n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = pd_arena_strdup(a, src[i])))
			return NULL;
	return out;
}

int pd_hooks_add(struct pd_arena *a, struct pd_hooks **hooks, int kind, const char *path,
		 char *const *args, size_t n_args, char *const *env, size_t n_env, int timeout_s,
		 struct pd_error *err)
{
	if (!*hooks && !(*hooks = pd_arena_calloc(a, 1, sizeof(**hooks))))
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "hooks: out of memory");
	struct pd_hooks *hs = *hooks;
	size_t n = hs->n[kind];
	if (n >= PD_HOOKS_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "more than %d %s hooks",
				    PD_HOOKS_MAX, pd_hook_kind_name(kind));
	if (!hs->list[kind] &&
	    !(hs->list[kind] = pd_arena_calloc(a, PD_HOOKS_MAX, sizeof(struct pd_hook))))
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "hooks: out of memory");
	struct pd_hook *h = &hs->list[kind][n];
	char *const self[] = {(char *)path};
	if (!n_args) { /* execv needs an argv[0]: the path, as runc gives */
		args = self;
		n_args = 1;
	}
	h->path = pd_arena_strdup(a, path);
	h->args = copy_strv(a, args, n_args);
	h->env = copy_strv(a, env, n_env);
	if (!h->path || !h->args || !h->env)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "hooks: out of memory");
	h->n_args = n_args;
	h->n_env = n_env;
	h->timeout_s = timeout_s;
	hs->n[kind] = n + 1;
	return 0;
}

int pd_hooks_append(struct pd_arena *a, struct pd_hooks **hooks, const struct pd_hooks *src,
		    struct pd_error *err)
{
	for (int k = 0; k < PD_HOOK_KINDS; k++) {
		for (size_t i = 0; i < src->n[k]; i++) {
			const struct pd_hook *h = &src->list[k][i];
			if (pd_hooks_add(a, hooks, k, h->path, h->args, h->n_args, h->env, h->n_env,
					 h->timeout_s, err) < 0)
				return -1;
		}
	}
	return 0;
}

int pd_hook_check_path(const char *root, const char *path, const char *what, struct pd_error *err)
{
	char full[4096];
	struct stat st;
	int w = snprintf(full, sizeof(full), "%s%s", root, path);
	if (w < 0 || (size_t)w >= sizeof(full))
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG, "%s: path too long",
				    what);
	if (fstatat(AT_FDCWD, full, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, errno, "%s: %s: %s", what, path,
				    strerror(errno));
	if (S_ISLNK(st.st_mode))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s: %s is a symlink (hooks must be regular files)", what,
				    path);
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s: %s is not a regular executable file", what, path);
	return 0;
}

static void render_annotations(struct pd_json *j, const struct pd_hooks *hooks)
{
	pd_json_key(j, "annotations");
	pd_json_begin_object(j);
	for (size_t i = 0; i < hooks->n_annotations; i++)
		pd_json_kv_string(j, hooks->annotation_keys[i], hooks->annotation_values[i]);
	pd_json_end_object(j);
}

int pd_hook_state_render(const struct pd_hooks *hooks, const char *id, const char *rootfs,
			 const char *status, pid_t pid, char **out, size_t *len,
			 struct pd_error *err)
{
	struct pd_json j;
	const char *slash = strrchr(rootfs, '/');
	size_t blen = slash && slash != rootfs ? (size_t)(slash - rootfs) : 1;
	pd_json_init(&j, STATE_MAX_BYTES);
	pd_json_begin_object(&j);
	pd_json_kv_string(&j, "ociVersion", hooks->oci_version ? hooks->oci_version : "");
	pd_json_kv_string(&j, "id", id);
	pd_json_kv_string(&j, "status", status);
	pd_json_kv_int(&j, "pid", pid);
	pd_json_key(&j, "bundle");
	pd_json_string_n(&j, rootfs, blen);
	render_annotations(&j, hooks);
	pd_json_end_object(&j);
	if (pd_json_finish(&j, err) < 0) {
		pd_json_free(&j);
		return pd_error_wrap(err, "hook state");
	}
	*out = j.buf;
	*len = j.len;
	return 0;
}

int pd_hook_state_fd(const char *state, size_t len, struct pd_error *err)
{
	int fd = memfd_create("pidone-hook-state", MFD_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "hook state: memfd_create");
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, state + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			return pd_error_errno(err, e, "hook state: write");
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "hook state: lseek");
	}
	return fd;
}

/* The agent runs at -1000: a hook it forks is an ordinary process for the OOM killer. A
 * hook of the container's init keeps the container's score. Best effort: a read-only or
 * missing /proc leaves the score as it is. */
static void reset_oom_score(void)
{
	char buf[16] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0 && strncmp(buf, "-1000", 5) == 0 && pwrite(fd, "0", 1, 0) < 0) {
		/* nothing better to do */
	}
	close(fd);
}

void pd_hook_exec(const struct pd_hook *h, int state_fd)
{
	pd_undumpable();
	pd_signals_reset_for_child();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dup2(state_fd, 0) < 0)
		_exit(127);
	if (null >= 0)
		dup2(null, 1);
	if (pd_child_keep_fds(NULL, 0) < 0) /* 0-2: the state, /dev/null, stderr */
		_exit(127);
	setsid(); /* its signals cannot reach the agent's session */
	reset_oom_score();
	execve(h->path, h->args, h->env);
	_exit(127);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without pidfd_open (Linux < 5.3): look without reaping every 10 ms. */
static int wait_exit_polling(pid_t pid, int64_t deadline, struct pd_error *err)
{
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 &&
		    errno != EINTR)
			return pd_error_errno(err, errno, "waitid %d", (int)pid);
		if (si.si_pid == pid)
			return 0;
		if (now_ms() >= deadline)
			return 1;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int pd_hook_wait_exit(pid_t pid, int timeout_ms, struct pd_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return wait_exit_polling(pid, deadline, err);
	int r;
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		r = poll(&p, 1, left > 0 ? (int)left : 0);
		if (r >= 0 || errno != EINTR)
			break;
	}
	int e = errno;
	close(pfd);
	if (r < 0)
		return pd_error_errno(err, e, "poll pidfd of %d", (int)pid);
	return r == 0 ? 1 : 0;
}

int pd_hook_failed(int kind, size_t i, const struct pd_hook *h, bool timed_out, int st,
		   struct pd_error *err)
{
	const char *k = pd_hook_kind_name(kind);
	if (timed_out)
		return pd_error_set(err, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
				    "%s hook %zu (%s) timed out after %d s and was killed", k, i,
				    h->path, h->timeout_s);
	if (WIFSIGNALED(st))
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "%s hook %zu (%s) was killed by signal %d", k, i, h->path,
				    WTERMSIG(st));
	return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
			    "%s hook %zu (%s) exited with status %d", k, i, h->path,
			    WIFEXITED(st) ? WEXITSTATUS(st) : st);
}

pid_t pd_hook_fork(int kind, size_t i, const struct pd_hook *h, int state_fd, struct pd_error *err)
{
	if (lseek(state_fd, 0, SEEK_SET) < 0)
		return pd_error_errno(err, errno, "hook state: lseek");
	pid_t pid = fork();
	if (pid < 0)
		return pd_error_errno(err, errno, "%s hook %zu: fork", pd_hook_kind_name(kind), i);
	if (pid == 0)
		pd_hook_exec(h, state_fd);
	return pid;
}

void pd_hook_kill(pid_t pid)
{
	kill(-pid, SIGKILL); /* its session's group: what it started, too */
	kill(pid, SIGKILL);  /* in case it was killed before its setsid */
}

static int run_one_local(int kind, size_t i, const struct pd_hook *h, int state_fd,
			 struct pd_error *err)
{
	pid_t pid = pd_hook_fork(kind, i, h, state_fd, err);
	if (pid < 0)
		return -1;
	int timed_out = pd_hook_wait_exit(pid, h->timeout_s * 1000, err);
	if (timed_out != 0)
		pd_hook_kill(pid);
	int st = 0;
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
	if (timed_out < 0)
		return -1;
	if (timed_out || st != 0)
		return pd_hook_failed(kind, i, h, timed_out, st, err);
	return 0;
}

int pd_hooks_run_local(const struct pd_hooks *hooks, int kind, const char *state, size_t len,
		       struct pd_error *err)
{
	if (!hooks || !hooks->n[kind])
		return 0;
	int fd = pd_hook_state_fd(state, len, err);
	if (fd < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < hooks->n[kind]; i++)
		rc = run_one_local(kind, i, &hooks->list[kind][i], fd, err);
	close(fd);
	return rc;
}

int64_t pd_hooks_budget_ms(const struct pd_hooks *hooks, int kind)
{
	int64_t ms = 0;
	for (size_t i = 0; hooks && i < hooks->n[kind]; i++)
		ms += (int64_t)hooks->list[kind][i].timeout_s * 1000 + 1000; /* + fork/exec/kill slack */
	return ms;
}
