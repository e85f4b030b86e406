/* poststart and poststop hooks from the event loop. See hooks_async.h. */
#include "hooks_async.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/container/hooks.h"
#include "agent/log.h"
#include "agent/proctable.h"
#include "agent/ttrpc/server.h"

struct pd_hook_run {
	bool in_use;
	struct pd_loop *loop;
	struct pd_arena arena; /* the copy of the hooks */
	struct pd_hooks *hooks;
	int kind;
	size_t next; /* the hook to start next */
	char cid[PD_ID_MAX + 1];
	int state_fd;
	pid_t pid; /* the hook running, 0 between two */
	bool timed_out;
	struct pd_proc_watch proc;
	struct pd_watch timer; /* fd -1 when closed */
	struct pd_list calls;  /* parked calls answered at the end */
};

static struct pd_hook_run runs[PD_HOOK_RUNS_MAX];

unsigned pd_hook_runs_busy(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < PD_HOOK_RUNS_MAX; i++)
		n += runs[i].in_use;
	return n;
}

static struct pd_hook_run *take_slot(void)
{
	for (size_t i = 0; i < PD_HOOK_RUNS_MAX; i++) {
		if (!runs[i].in_use) {
			struct pd_hook_run *r = &runs[i];
			memset(r, 0, sizeof(*r));
			r->in_use = true;
			r->state_fd = r->timer.fd = -1;
			pd_arena_init(&r->arena, PD_CONFIG_BYTES);
			pd_list_init(&r->calls);
			return r;
		}
	}
	return NULL;
}

static void release(struct pd_hook_run *r)
{
	if (r->state_fd >= 0)
		close(r->state_fd);
	if (r->timer.fd >= 0) {
		if (r->loop)
			pd_loop_del(r->loop, &r->timer);
		close(r->timer.fd);
	}
	r->state_fd = r->timer.fd = -1;
	pd_arena_free(&r->arena);
	r->in_use = false;
}

static int copy_state(struct pd_hook_run *r, const struct pd_container_config *cfg,
		      const char *status, pid_t pid, struct pd_error *err)
{
	char *state;
	size_t len;
	if (pd_hook_state_render(cfg->hooks, cfg->id, cfg->rootfs, status, pid, &state, &len, err) <
	    0)
		return -1;
	r->state_fd = pd_hook_state_fd(state, len, err);
	free(state);
	return r->state_fd < 0 ? -1 : 0;
}

struct pd_hook_run *pd_hook_run_prepare(const struct pd_container_config *cfg, int kind,
					const char *status, pid_t pid)
{
	const struct pd_hooks *src = cfg->hooks;
	struct pd_error err;
	if (!src || !src->n[kind])
		return NULL;
	struct pd_hook_run *r = take_slot();
	if (!r)
		return NULL;
	r->kind = kind;
	snprintf(r->cid, sizeof(r->cid), "%s", cfg->id);
	for (size_t i = 0; i < src->n[kind]; i++) {
		const struct pd_hook *h = &src->list[kind][i];
		if (pd_hooks_add(&r->arena, &r->hooks, kind, h->path, h->args, h->n_args, h->env,
				 h->n_env, h->timeout_s, &err) < 0)
			goto failed;
	}
	r->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer.fd < 0) {
		pd_error_errno(&err, errno, "timerfd_create");
		goto failed;
	}
	if (copy_state(r, cfg, status, pid, &err) < 0)
		goto failed;
	return r;
failed:
	pd_debug("hooks run from here instead", "cid=%s kind=%s error=\"%s\"", cfg->id,
		 pd_hook_kind_name(kind), err.msg);
	release(r);
	return NULL;
}

static void finish(struct pd_hook_run *r)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &r->calls)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_reply(call, NULL);
	}
	release(r);
}

static void set_timer(struct pd_hook_run *r, int seconds)
{
	struct itimerspec its = {.it_value = {.tv_sec = seconds}};
	if (r->timer.fd >= 0 && timerfd_settime(r->timer.fd, 0, &its, NULL) < 0)
		pd_warn("hook timer", "cid=%s errno=%d", r->cid, errno); /* runs untimed */
}

static void on_hook_exit(struct pd_proc_watch *w, int status);

/* Start the next hook that can start; the end of the run when there is none. */
static void next_hook(struct pd_hook_run *r)
{
	struct pd_error err;
	while (r->next < r->hooks->n[r->kind]) {
		size_t i = r->next++;
		const struct pd_hook *h = &r->hooks->list[r->kind][i];
		pid_t pid = pd_hook_fork(r->kind, i, h, r->state_fd, &err);
		if (pid < 0) {
			pd_warn("hook failed", "cid=%s kind=%s error=\"%s\"", r->cid,
				pd_hook_kind_name(r->kind), err.msg);
			continue;
		}
		r->pid = pid;
		r->timed_out = false;
		/* Before the loop runs again: the table hands the status to on_hook_exit. */
		pd_proc_watch_add(&r->proc, pid, on_hook_exit);
		set_timer(r, h->timeout_s);
		return;
	}
	finish(r);
}

static void on_hook_exit(struct pd_proc_watch *w, int status)
{
	struct pd_hook_run *r = pd_container_of(w, struct pd_hook_run, proc);
	size_t i = r->next - 1;
	r->pid = 0;
	set_timer(r, 0);
	if (r->timed_out || status != 0) {
		struct pd_error err;
		pd_hook_failed(r->kind, i, &r->hooks->list[r->kind][i], r->timed_out, status, &err);
		pd_warn("hook failed", "cid=%s kind=%s error=\"%s\"", r->cid,
			pd_hook_kind_name(r->kind), err.msg);
	}
	next_hook(r);
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_hook_run *r = pd_container_of(w, struct pd_hook_run, timer);
	uint64_t ticks;
	if (!r->in_use || w->fd < 0 || read(w->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* a stale event, or not expired */
	if (r->pid > 0) {
		r->timed_out = true;
		pd_hook_kill(r->pid); /* its exit comes through the table */
	}
}

static void drop_call(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

void pd_hook_run_launch(struct pd_hook_run *r, struct pd_loop *loop, struct pd_list *calls)
{
	struct pd_error err;
	r->loop = loop;
	r->timer.fn = on_timer;
	if (pd_loop_add(loop, &r->timer, EPOLLIN, &err) < 0) {
		pd_warn("hook timer", "cid=%s error=\"%s\"", r->cid, err.msg); /* runs untimed */
		close(r->timer.fd);
		r->timer.fd = -1;
	}
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls) pd_container_of(pos, struct pd_call, owner_node)
	    ->on_cancel = drop_call;
	pd_list_move_all(&r->calls, calls);
	next_hook(r);
}
