/* Hooks from the event loop, one after the other. See hooks_seq.h. */
#include "hooks_seq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/log.h"

void pd_hook_seq_init(struct pd_hook_seq *s)
{
	s->state_fd = s->timer.fd = -1;
	s->pid = 0;
	s->loop = NULL;
	pd_list_init(&s->proc.node);
}

bool pd_hook_seq_busy(const struct pd_hook_seq *s)
{
	return s->timer.fd >= 0;
}

static const struct pd_hook *hook_at(const struct pd_hook_seq *s, size_t i)
{
	return &s->hooks->list[s->kinds[s->k]][i];
}

const char *pd_hook_seq_step(const struct pd_hook_seq *s, char *buf, size_t size)
{
	buf[0] = '\0';
	if (s->pid > 0)
		snprintf(buf, size, "%s hook %zu (%s)", pd_hook_kind_name(s->kinds[s->k]),
			 s->next - 1, hook_at(s, s->next - 1)->path);
	return buf;
}

static void release(struct pd_hook_seq *s)
{
	if (s->timer.fd >= 0) {
		pd_loop_del(s->loop, &s->timer); /* and its event still pending in this batch */
		close(s->timer.fd);
	}
	if (s->state_fd >= 0)
		close(s->state_fd);
	s->timer.fd = s->state_fd = -1;
}

void pd_hook_seq_cancel(struct pd_hook_seq *s)
{
	if (s->pid > 0) {
		pd_proc_watch_cancel(&s->proc); /* reaped later as an orphan of ours */
		pd_hook_kill(s->pid);
	}
	s->pid = 0;
	release(s);
}

static void arm(struct pd_hook_seq *s, int seconds)
{
	struct itimerspec its = {.it_value = {.tv_sec = seconds}};
	if (timerfd_settime(s->timer.fd, 0, &its, NULL) < 0)
		pd_warn("hook timer", "cid=%s errno=%d", s->cid, errno); /* runs untimed */
}

static void on_exit_status(struct pd_proc_watch *w, int status);

/* Fork the next hook. 1: one runs; 0: none left; -1: must_pass and one could not start. */
static int start_next(struct pd_hook_seq *s, struct pd_error *err)
{
	for (; s->k < 2 && s->kinds[s->k] >= 0; s->k++, s->next = 0) {
		int kind = s->kinds[s->k];
		while (s->hooks && s->next < s->hooks->n[kind]) {
			size_t i = s->next++;
			pid_t pid = pd_hook_fork(kind, i, hook_at(s, i), s->state_fd, err);
			if (pid > 0) {
				s->pid = pid;
				s->timed_out = false;
				/* Before the loop runs again: the table hands its status to us. */
				pd_proc_watch_add(&s->proc, pid, on_exit_status);
				arm(s, hook_at(s, i)->timeout_s);
				return 1;
			}
			if (s->must_pass)
				return -1;
			pd_warn("hook failed", "cid=%s kind=%s error=\"%s\"", s->cid,
				pd_hook_kind_name(kind), err->msg);
		}
	}
	return 0;
}

/* The end: the run is idle before done, which may free it. */
static void finish(struct pd_hook_seq *s, const struct pd_error *err)
{
	release(s);
	s->done(s, err);
}

static void on_exit_status(struct pd_proc_watch *w, int status)
{
	struct pd_hook_seq *s = pd_container_of(w, struct pd_hook_seq, proc);
	struct pd_error err;
	size_t i = s->next - 1;
	int kind = s->kinds[s->k];
	s->pid = 0;
	arm(s, 0);
	if (s->timed_out || status != 0) {
		pd_hook_failed(kind, i, hook_at(s, i), s->timed_out, status, &err);
		if (s->must_pass) {
			finish(s, &err);
			return;
		}
		pd_warn("hook failed", "cid=%s kind=%s error=\"%s\"", s->cid,
			pd_hook_kind_name(kind), err.msg);
	}
	int r = start_next(s, &err);
	if (r <= 0)
		finish(s, r < 0 ? &err : NULL);
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_hook_seq *s = pd_container_of(w, struct pd_hook_seq, timer);
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* not expired after all (re-armed meanwhile) */
	if (s->pid > 0) {
		s->timed_out = true;
		pd_hook_kill(s->pid); /* its exit comes through the table */
	}
}

int pd_hook_seq_start(struct pd_hook_seq *s, struct pd_loop *loop, const char *state, size_t len,
		      struct pd_error *err)
{
	size_t total = 0;
	for (int k = 0; k < 2; k++)
		if (s->hooks && s->kinds[k] >= 0)
			total += s->hooks->n[s->kinds[k]];
	if (!total)
		return 1;
	s->loop = loop;
	s->k = 0;
	s->next = 0;
	s->pid = 0;
	s->state_fd = pd_hook_state_fd(state, len, err);
	if (s->state_fd < 0)
		return -1;
	s->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->timer.fn = on_timer;
	if (s->timer.fd < 0) {
		pd_error_errno(err, errno, "hooks: timerfd_create");
		release(s);
		return -1;
	}
	if (pd_loop_add(loop, &s->timer, EPOLLIN, err) < 0) {
		close(s->timer.fd);
		s->timer.fd = -1;
		release(s);
		return -1;
	}
	int r = start_next(s, err);
	if (r <= 0)
		release(s);
	return r < 0 ? -1 : r == 0 ? 1 : 0;
}
