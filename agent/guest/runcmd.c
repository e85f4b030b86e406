/* A helper program (iptables-save, iptables-restore) run from the event loop: stdin fed,
 * stdout and stderr collected through loop watches, the exit status from the process table
 * (nobody else may waitpid), a timer that kills a program that hangs. Nothing blocks.
 *
 * The program gets its own session, so a timeout kills its whole process group, and the
 * console's signals never reach it. It ends when it exits: what it wrote is in the pipes by
 * then and is drained; a grandchild that keeps a pipe open does not hold the answer back.
 *
 * Runs live in a fixed table, never freed: an epoll batch may still carry an event for the
 * watches of a run that finished earlier in the same batch, and such an event must land on
 * valid memory. Handlers treat every event as a hint (non-blocking I/O, EAGAIN is fine). */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/log.h"
#include "agent/proctable.h"
#include "agent/signals.h"

#define ERR_KEEP  1024 /* bytes of stderr kept for the message */
#define OUT_CHUNK 65536

struct pd_runcmd {
	bool in_use;
	struct pd_loop *loop;
	char name[64]; /* basename of the program, for messages */
	pid_t pid;
	struct pd_proc_watch proc;
	struct pd_watch in, out, err, timer; /* fd -1 once closed */
	uint8_t *in_data;
	size_t in_len, in_off;
	uint8_t *out_buf;
	size_t out_len, out_cap, out_max;
	char err_buf[ERR_KEEP];
	size_t err_len;
	unsigned timeout_ms;
	bool timed_out, too_much, no_memory;
	pd_runcmd_done_fn done; /* NULL once abandoned */
	void *data;
};

static struct pd_runcmd runs[PD_RUNCMD_MAX];

unsigned pd_runcmd_busy(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < PD_RUNCMD_MAX; i++)
		n += runs[i].in_use;
	return n;
}

static void close_watch(struct pd_runcmd *rc, struct pd_watch *w, bool watched)
{
	if (w->fd < 0)
		return;
	if (watched)
		pd_loop_del(rc->loop, w);
	close(w->fd);
	w->fd = -1;
}

static void kill_group(struct pd_runcmd *rc)
{
	kill(-rc->pid, SIGKILL);
	kill(rc->pid, SIGKILL); /* in case it left its group */
}

/* ---- output ------------------------------------------------------------------------------ */

static void keep_out(struct pd_runcmd *rc, const uint8_t *p, size_t n)
{
	if (rc->too_much)
		return;
	if (rc->out_len + n > rc->out_max) {
		rc->too_much = true;
		kill_group(rc);
		return;
	}
	if (rc->out_len + n > rc->out_cap) {
		size_t cap = rc->out_cap ? rc->out_cap : OUT_CHUNK;
		while (cap < rc->out_len + n)
			cap *= 2;
		uint8_t *grown = realloc(rc->out_buf, cap);
		if (!grown) {
			rc->too_much = rc->no_memory = true;
			kill_group(rc);
			return;
		}
		rc->out_buf = grown;
		rc->out_cap = cap;
	}
	memcpy(rc->out_buf + rc->out_len, p, n);
	rc->out_len += n;
}

static void keep_err(struct pd_runcmd *rc, const uint8_t *p, size_t n)
{
	size_t room = sizeof(rc->err_buf) - 1 - rc->err_len;
	if (n > room)
		n = room;
	memcpy(rc->err_buf + rc->err_len, p, n);
	rc->err_len += n;
}

/* Read a pipe until it would block; close it at EOF. */
static void drain(struct pd_runcmd *rc, struct pd_watch *w, bool is_out)
{
	uint8_t buf[16384];
	while (w->fd >= 0) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n > 0) {
			if (is_out)
				keep_out(rc, buf, (size_t)n);
			else
				keep_err(rc, buf, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			close_watch(rc, w, true);
		}
	}
}

static void on_out(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_runcmd *rc = pd_container_of(w, struct pd_runcmd, out);
	if (rc->in_use)
		drain(rc, w, true);
}

static void on_err(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_runcmd *rc = pd_container_of(w, struct pd_runcmd, err);
	if (rc->in_use)
		drain(rc, w, false);
}

/* ---- input ------------------------------------------------------------------------------- */

static void feed(struct pd_runcmd *rc)
{
	while (rc->in.fd >= 0 && rc->in_off < rc->in_len) {
		ssize_t n = write(rc->in.fd, rc->in_data + rc->in_off, rc->in_len - rc->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* EPIPE: it stopped reading (a parse error); its exit status says why. */
			pd_debug("helper stdin closed early", "prog=%s errno=%d", rc->name, errno);
			break;
		}
		rc->in_off += (size_t)n;
	}
	close_watch(rc, &rc->in, true); /* all written: the program reads EOF */
}

static void on_in(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_runcmd *rc = pd_container_of(w, struct pd_runcmd, in);
	if (rc->in_use)
		feed(rc);
}

/* ---- the end ----------------------------------------------------------------------------- */

static void trim_err(struct pd_runcmd *rc)
{
	rc->err_buf[rc->err_len] = '\0';
	while (rc->err_len && (rc->err_buf[rc->err_len - 1] == '\n' ||
			       rc->err_buf[rc->err_len - 1] == ' '))
		rc->err_buf[--rc->err_len] = '\0';
	for (char *p = rc->err_buf; *p; p++)
		if (*p == '\n' || (unsigned char)*p < 0x20)
			*p = ' ';
}

static void outcome(struct pd_runcmd *rc, int status, struct pd_error *e)
{
	trim_err(rc);
	const char *sep = rc->err_len ? ": " : "";
	if (rc->timed_out)
		pd_error_set(e, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
			     "%s did not finish within %u ms and was killed", rc->name,
			     rc->timeout_ms);
	else if (rc->no_memory)
		pd_error_set(e, PD_RESOURCE_EXHAUSTED, ENOMEM, "%s output: out of memory",
			     rc->name);
	else if (rc->too_much)
		pd_error_set(e, PD_RESOURCE_EXHAUSTED, 0, "%s wrote more than %zu bytes",
			     rc->name, rc->out_max);
	else if (WIFSIGNALED(status))
		pd_error_set(e, PD_INTERNAL, 0, "%s was killed by signal %d%s%s", rc->name,
			     WTERMSIG(status), sep, rc->err_buf);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		pd_error_set(e, PD_INTERNAL, 0, "%s failed with exit status %d%s%s", rc->name,
			     pd_exit_code(status), sep, rc->err_buf);
	else
		pd_error_clear(e);
}

static void on_exit_status(struct pd_proc_watch *w, int status)
{
	struct pd_runcmd *rc = pd_container_of(w, struct pd_runcmd, proc);
	/* Everything the program wrote is in the pipes now: take it, then stop listening. */
	drain(rc, &rc->out, true);
	drain(rc, &rc->err, false);
	close_watch(rc, &rc->out, true);
	close_watch(rc, &rc->err, true);
	close_watch(rc, &rc->in, true);
	close_watch(rc, &rc->timer, true);
	struct pd_error e;
	outcome(rc, status, &e);
	pd_debug("helper exited", "prog=%s pid=%d status=%d out=%zu", rc->name, (int)rc->pid,
		 pd_exit_code(status), rc->out_len);
	if (rc->done)
		rc->done(rc->data, rc->out_buf, rc->out_len, e.code ? &e : NULL);
	free(rc->out_buf);
	free(rc->in_data);
	rc->out_buf = rc->in_data = NULL;
	rc->in_use = false;
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_runcmd *rc = pd_container_of(w, struct pd_runcmd, timer);
	uint64_t ticks;
	if (!rc->in_use || w->fd < 0 || read(w->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* a stale event, or not expired */
	pd_warn("helper timed out", "prog=%s pid=%d timeout_ms=%u", rc->name, (int)rc->pid,
		rc->timeout_ms);
	rc->timed_out = true;
	kill_group(rc);
	close_watch(rc, w, true);
}

void pd_runcmd_abandon(struct pd_runcmd *rc)
{
	if (!rc || !rc->in_use)
		return;
	rc->done = NULL;
	kill_group(rc); /* still running: its exit would have answered and freed the slot */
}

/* ---- start ------------------------------------------------------------------------------- */

/* In the child: not dumpable, only its stdio and the report pipe, default signals, a
 * session of its own, then the program. What makes it fail is written to `report`. */
__attribute__((noreturn)) static void child_exec(const char *const *argv, int fds[3], int report)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	pd_undumpable();
	int *const keep[] = {&report, &fds[0], &fds[1], &fds[2]};
	int e = pd_child_keep_fds(keep, 4) < 0 ? errno : 0;
	for (int i = 0; i < 3 && !e; i++)
		if (dup2(fds[i], i) < 0)
			e = errno;
	if (!e && pd_child_keep_fds(keep, 1) < 0) /* the copies of 0-2 */
		e = errno;
	pd_signals_reset_for_child();
	if (!e && setsid() < 0)
		e = errno;
	if (!e) {
		execve(argv[0], (char *const *)argv, envp);
		e = errno;
	}
	if (write(report, &e, sizeof(e)) < 0) {
		/* the agent sees EOF and takes the exit status */
	}
	_exit(127);
}

/* fork, not posix_spawn: the child runs our code before its exec (agent/child_fds.h). A
 * failed exec is reported on a close-on-exec pipe, as posix_spawn does it: EOF = it ran. */
static int spawn(struct pd_runcmd *rc, const char *const *argv, int fds[3], struct pd_error *err)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return pd_error_errno(err, errno, "run %s: pipe", argv[0]);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(argv, fds, report[1]);
	int e = errno;
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		return pd_error_errno(err, e, "run %s: fork", argv[0]);
	}
	ssize_t n;
	e = 0;
	while ((n = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n > 0) /* it exits 127: reaped by the process table like any orphan */
		return pd_error_errno(err, e, "run %s", argv[0]);
	rc->pid = pid;
	/* Before going back to the loop, where SIGCHLD is handled. */
	pd_proc_watch_add(&rc->proc, rc->pid, on_exit_status);
	return 0;
}

static int open_fds(struct pd_runcmd *rc, int child[3], struct pd_error *err)
{
	int p[3][2];
	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			int e = errno;
			for (int j = 0; j < i; j++) {
				close(p[j][0]);
				close(p[j][1]);
			}
			return pd_error_errno(err, e, "pipe");
		}
	}
	child[0] = p[0][0];
	rc->in.fd = p[0][1];
	rc->out.fd = p[1][0];
	child[1] = p[1][1];
	rc->err.fd = p[2][0];
	child[2] = p[2][1];
	for (int i = 0; i < 3; i++) {
		struct pd_watch *w = i == 0 ? &rc->in : i == 1 ? &rc->out : &rc->err;
		fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
	}
	rc->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rc->timer.fd < 0)
		return pd_error_errno(err, errno, "timerfd_create");
	struct itimerspec its = {.it_value = {.tv_sec = rc->timeout_ms / 1000,
					      .tv_nsec = (long)(rc->timeout_ms % 1000) * 1000000}};
	if (timerfd_settime(rc->timer.fd, 0, &its, NULL) < 0)
		return pd_error_errno(err, errno, "timerfd_settime");
	return 0;
}

static int watch_all(struct pd_runcmd *rc, struct pd_error *err)
{
	if (pd_loop_add(rc->loop, &rc->out, EPOLLIN, err) < 0)
		return -1;
	if (pd_loop_add(rc->loop, &rc->err, EPOLLIN, err) < 0) {
		pd_loop_del(rc->loop, &rc->out);
		return -1;
	}
	if (pd_loop_add(rc->loop, &rc->timer, EPOLLIN, err) < 0) {
		pd_loop_del(rc->loop, &rc->out);
		pd_loop_del(rc->loop, &rc->err);
		return -1;
	}
	if (rc->in_len == 0 || pd_loop_add(rc->loop, &rc->in, EPOLLOUT, NULL) < 0)
		close_watch(rc, &rc->in, false); /* nothing to feed (or no watch): EOF now */
	return 0;
}

static struct pd_runcmd *take_slot(struct pd_loop *loop, const struct pd_runcmd_spec *spec,
				   struct pd_error *err)
{
	struct pd_runcmd *rc = NULL;
	for (size_t i = 0; i < PD_RUNCMD_MAX && !rc; i++)
		if (!runs[i].in_use)
			rc = &runs[i];
	if (!rc) {
		pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
			     "%u helper programs are running already", PD_RUNCMD_MAX);
		return NULL;
	}
	memset(rc, 0, sizeof(*rc));
	rc->loop = loop;
	rc->in = (struct pd_watch){-1, on_in};
	rc->out = (struct pd_watch){-1, on_out};
	rc->err = (struct pd_watch){-1, on_err};
	rc->timer = (struct pd_watch){-1, on_timer};
	rc->out_max = spec->out_max;
	rc->timeout_ms = spec->timeout_ms ? spec->timeout_ms : 1;
	const char *slash = strrchr(spec->argv[0], '/');
	snprintf(rc->name, sizeof(rc->name), "%s", slash ? slash + 1 : spec->argv[0]);
	return rc;
}

static void release_slot(struct pd_runcmd *rc)
{
	close_watch(rc, &rc->in, false);
	close_watch(rc, &rc->out, false);
	close_watch(rc, &rc->err, false);
	close_watch(rc, &rc->timer, false);
	free(rc->in_data);
	rc->in_data = NULL;
}

struct pd_runcmd *pd_runcmd_start(struct pd_loop *loop, const struct pd_runcmd_spec *spec,
				  pd_runcmd_done_fn done, void *data, struct pd_error *err)
{
	struct pd_runcmd *rc = take_slot(loop, spec, err);
	if (!rc)
		return NULL;
	int child[3] = {-1, -1, -1};
	if (spec->in_len && !(rc->in_data = malloc(spec->in_len))) {
		pd_error_errno(err, ENOMEM, "%s input", rc->name);
		return NULL;
	}
	if (spec->in_len)
		memcpy(rc->in_data, spec->in, spec->in_len);
	rc->in_len = spec->in_len;
	int rc_fds = open_fds(rc, child, err);
	int rc_spawn = rc_fds == 0 ? spawn(rc, spec->argv, child, err) : -1;
	for (int i = 0; i < 3; i++)
		if (child[i] >= 0)
			close(child[i]);
	if (rc_spawn < 0) {
		release_slot(rc);
		return NULL;
	}
	rc->in_use = true;
	rc->done = done;
	rc->data = data;
	if (watch_all(rc, err) < 0) {
		/* It runs, but we cannot listen: kill it; the slot goes when it is reaped. */
		release_slot(rc);
		rc->done = NULL;
		kill_group(rc);
		return NULL;
	}
	return rc;
}
