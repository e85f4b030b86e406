/* A spawn's state machine, driven by the loop: the sync socket's messages, the prestart and
 * createRuntime hooks, the deadline timer, the child's exit. See spawn.h for the phases.
 *
 * Every path that ends an operation ends in finish(), as the last thing it does: the owner's
 * done may free the spawn. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/container/hooks.h"
#include "agent/container/sync.h"
#include "agent/container/userns.h"
#include "agent/log.h"

/* A killed child is normally gone at once. One that cannot die yet (frozen by a cgroup v1
 * freezer, in uninterruptible sleep on a stuck file system) ends the operation after this
 * long anyway; the process table reaps it whenever it goes. */
#define KILL_WAIT_MS 2000

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool pd_spawn_busy(const struct pd_spawn *s)
{
	return s->phase == PD_SPAWN_SETUP || s->phase == PD_SPAWN_HOOKS ||
	       s->phase == PD_SPAWN_STARTING || s->phase == PD_SPAWN_KILLING;
}

/* ---- resources --------------------------------------------------------------------------- */

static void stop_sync(struct pd_spawn *s)
{
	if (s->sync_watched)
		pd_loop_del(s->loop, &s->sync); /* and its event still pending in this batch */
	s->sync_watched = false;
}

static void close_sync(struct pd_spawn *s)
{
	stop_sync(s);
	if (s->sync.fd >= 0)
		close(s->sync.fd);
	s->sync.fd = -1;
}

static void stop_timer(struct pd_spawn *s)
{
	if (s->timer.fd >= 0) {
		pd_loop_del(s->loop, &s->timer);
		close(s->timer.fd);
	}
	s->timer.fd = -1;
}

static void unmap_steps(struct pd_spawn *s)
{
	pd_sync_steps_unmap(s->steps);
	s->steps = NULL;
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events);
static void on_sync(struct pd_loop *loop, struct pd_watch *w, uint32_t events);

static int watch_sync(struct pd_spawn *s, struct pd_error *err)
{
	if (s->sync_watched)
		return 0;
	s->sync.fn = on_sync;
	if (pd_loop_add(s->loop, &s->sync, EPOLLIN, err) < 0)
		return -1;
	s->sync_watched = true;
	return 0;
}

/* Arm the timer for at_ns (CLOCK_MONOTONIC; 0 = disarmed), made on first use. */
static int arm_at(struct pd_spawn *s, int64_t at_ns, struct pd_error *err)
{
	if (s->timer.fd < 0) {
		s->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		s->timer.fn = on_timer;
		if (s->timer.fd < 0)
			return pd_error_errno(err, errno, "spawn: timerfd_create");
		if (pd_loop_add(s->loop, &s->timer, EPOLLIN, err) < 0) {
			close(s->timer.fd);
			s->timer.fd = -1;
			return -1;
		}
	}
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (at_ns > 0) {
		its.it_value.tv_sec = at_ns / 1000000000LL;
		its.it_value.tv_nsec = at_ns % 1000000000LL;
	}
	if (timerfd_settime(s->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return pd_error_errno(err, errno, "spawn: timerfd_settime");
	return 0;
}

/* The end of a phase that may take `ms` (< 0: no bound of its own), cut at the caller's
 * deadline. */
static int arm_phase(struct pd_spawn *s, int64_t ms, struct pd_error *err)
{
	int64_t at = ms >= 0 ? now_ns() + ms * 1000000LL : 0;
	if (s->deadline_ns && (!at || s->deadline_ns < at))
		at = s->deadline_ns;
	return arm_at(s, at, err);
}

/* ---- ends -------------------------------------------------------------------------------- */

/* The operation ends: READY (HELD keeps the socket and the step page for the start), the
 * exec, or a failure. done may free s: nothing touches s after it. */
static void finish(struct pd_spawn *s, const struct pd_error *err)
{
	stop_timer(s);
	pd_hook_seq_cancel(&s->hooks);
	if (!err && s->phase == PD_SPAWN_HELD) {
		stop_sync(s);
	} else {
		close_sync(s);
		unmap_steps(s);
		s->phase = PD_SPAWN_IDLE;
	}
	s->done(s, err);
}

/* A failure while the child lives: kill it (and the hook running), report once it is
 * gone. The done never comes from here. */
static void fail(struct pd_spawn *s, const struct pd_error *err)
{
	struct pd_error terr;
	pd_hook_seq_cancel(&s->hooks);
	stop_sync(s);
	s->failure = *err;
	s->phase = PD_SPAWN_KILLING;
	kill(s->pid, SIGKILL);
	if (arm_at(s, now_ns() + KILL_WAIT_MS * 1000000LL, &terr) < 0)
		pd_warn("no timer for a killed container process", "pid=%d err=\"%s\"",
			(int)s->pid, terr.msg); /* its exit still ends the operation */
}

/* The child went away before READY without a word: say what it died of (a seccomp filter
 * of a spec without no_new_privs is on during the set-up, and may kill it). */
static void died_in_setup(int st, struct pd_error *err)
{
	if (WIFSIGNALED(st))
		pd_error_set(err, PD_INTERNAL, 0,
			     "the container process died during set-up: signal %d (%s)",
			     WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		pd_error_set(err, PD_INTERNAL, 0,
			     "the container process exited during set-up with status %d",
			     WIFEXITED(st) ? WEXITSTATUS(st) : st);
}

/* The child is gone: its last word, if it sent an error before dying. */
static bool last_error(struct pd_spawn *s, struct pd_error *err)
{
	struct pd_sync_msg msg;
	struct pd_error ignored;
	while (s->sync.fd >= 0 && pd_sync_try_recv(s->sync.fd, &msg, &ignored) == 1 &&
	       msg.kind != PD_SYNC_EOF)
		if (msg.kind == PD_SYNC_ERROR) {
			pd_sync_to_error(&msg, err);
			return true;
		}
	return false;
}

void pd_spawn_child_exited(struct pd_spawn *s, int status)
{
	struct pd_error err;
	switch (s->phase) {
	case PD_SPAWN_KILLING:
		finish(s, &s->failure);
		return;
	case PD_SPAWN_STARTING: /* EOF or nothing: it exec'd (and is gone already) */
		finish(s, last_error(s, &err) ? &err : NULL);
		return;
	case PD_SPAWN_SETUP:
	case PD_SPAWN_HOOKS:
		if (!last_error(s, &err))
			died_in_setup(status, &err);
		finish(s, &err);
		return;
	default:
		return; /* not busy: the owner's own business */
	}
}

void pd_spawn_abort(struct pd_spawn *s, const struct pd_error *why)
{
	if (pd_spawn_busy(s) && s->phase != PD_SPAWN_KILLING)
		fail(s, why);
}

void pd_spawn_release(struct pd_spawn *s)
{
	if (s->pid > 0 && pd_spawn_busy(s) && s->phase != PD_SPAWN_KILLING)
		kill(s->pid, SIGKILL); /* a HELD child exits when its socket closes */
	pd_hook_seq_cancel(&s->hooks);
	close_sync(s);
	stop_timer(s);
	unmap_steps(s);
	s->phase = PD_SPAWN_IDLE;
}

/* ---- the hooks between the namespaces and the rootfs ------------------------------------ */

static void resume(struct pd_spawn *s)
{
	struct pd_error err;
	struct pd_sync_msg msg = {.kind = PD_SYNC_RESUME, .code = (int32_t)s->pid};
	s->phase = PD_SPAWN_SETUP;
	if (s->steps)
		snprintf(s->steps, PD_SYNC_STEP_MAX, "resuming after the runtime's hooks");
	/* The child's createContainer hooks run next: their budget comes on top. */
	if (pd_sync_send(s->sync.fd, &msg, &err) < 0 || watch_sync(s, &err) < 0 ||
	    arm_phase(s, s->timeout_ms + s->hooks_ms, &err) < 0)
		fail(s, &err);
}

static void hooks_done(struct pd_hook_seq *h, const struct pd_error *err)
{
	struct pd_spawn *s = pd_container_of(h, struct pd_spawn, hooks);
	if (err)
		fail(s, err);
	else
		resume(s);
}

/* The child stopped before its rootfs (PD_SYNC_HOOKS): prestart, then createRuntime
 * (runtime-spec order), from the loop; the child waits for RESUME meanwhile. */
static void run_hooks(struct pd_spawn *s)
{
	const struct pd_container_config *cfg = s->cfg;
	struct pd_error err;
	char *state;
	size_t len;
	if (!cfg) {
		pd_error_set(&err, PD_INTERNAL, 0, "unexpected hooks request from the child");
		fail(s, &err);
		return;
	}
	s->hooks.hooks = cfg->hooks;
	s->hooks.kinds[0] = PD_HOOK_PRESTART;
	s->hooks.kinds[1] = PD_HOOK_CREATE_RUNTIME;
	s->hooks.must_pass = true;
	s->hooks.done = hooks_done;
	snprintf(s->hooks.cid, sizeof(s->hooks.cid), "%s", cfg->id);
	if (pd_hook_state_render(cfg->hooks, cfg->id, cfg->rootfs, "creating", s->pid, &state,
				 &len, &err) < 0) {
		fail(s, &err);
		return;
	}
	int r = pd_hook_seq_start(&s->hooks, s->loop, state, len, &err);
	free(state);
	if (r < 0) {
		fail(s, &err);
	} else if (r == 1) {
		resume(s); /* none of these two kinds: only the child's own */
	} else {
		s->phase = PD_SPAWN_HOOKS;
		/* Each hook has its own timeout; the caller's deadline still holds. */
		if (arm_phase(s, -1, &err) < 0)
			fail(s, &err);
	}
}

/* ---- events ------------------------------------------------------------------------------ */

static void on_ready(struct pd_spawn *s)
{
	struct pd_error err;
	if (!s->start_at_ready) {
		s->phase = PD_SPAWN_HELD;
		finish(s, NULL);
		return;
	}
	struct pd_sync_msg msg = {.kind = PD_SYNC_START};
	s->phase = PD_SPAWN_STARTING;
	if (s->steps)
		snprintf(s->steps, PD_SYNC_STEP_MAX, "START sent, not yet received");
	if (pd_sync_send(s->sync.fd, &msg, &err) < 0 || arm_phase(s, s->timeout_ms, &err) < 0)
		fail(s, &err);
}

static void on_message(struct pd_spawn *s, const struct pd_sync_msg *msg)
{
	struct pd_error err;
	if (msg->kind == PD_SYNC_EOF && s->phase == PD_SPAWN_STARTING) {
		finish(s, NULL); /* the socket closed on exec: the binary runs */
	} else if (msg->kind == PD_SYNC_EOF) {
		/* Gone without a word: what it died of comes with its exit status. */
		stop_sync(s);
	} else if (msg->kind == PD_SYNC_ERROR) {
		pd_sync_to_error(msg, &err);
		fail(s, &err);
	} else if (msg->kind == PD_SYNC_HOOKS && s->phase == PD_SPAWN_SETUP) {
		run_hooks(s);
	} else if (msg->kind == PD_SYNC_READY && s->phase == PD_SPAWN_SETUP) {
		on_ready(s);
	} else {
		pd_error_set(&err, PD_INTERNAL, 0, "unexpected sync message %u", msg->kind);
		fail(s, &err);
	}
}

/* One message per event: the loop is level-triggered, the next comes with the next turn. */
static void on_sync(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_spawn *s = pd_container_of(w, struct pd_spawn, sync);
	struct pd_sync_msg msg;
	struct pd_error err;
	int r = pd_sync_try_recv(w->fd, &msg, &err);
	if (r < 0)
		fail(s, &err);
	else if (r == 1)
		on_message(s, &msg);
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_spawn *s = pd_container_of(w, struct pd_spawn, timer);
	struct pd_error err;
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* re-armed meanwhile */
	if (s->phase == PD_SPAWN_KILLING) {
		pd_warn("container process did not die within 2 s of SIGKILL; reaped later",
			"pid=%d", (int)s->pid);
		finish(s, &s->failure);
		return;
	}
	char hook[PD_SYNC_STEP_MAX];
	const char *step = s->phase == PD_SPAWN_HOOKS
				   ? pd_hook_seq_step(&s->hooks, hook, sizeof(hook))
				   : s->steps;
	pd_sync_stuck(&err, s->what, (long long)((now_ns() - s->began_ns) / 1000000), step);
	fail(s, &err);
}

/* ---- beginnings -------------------------------------------------------------------------- */

void pd_spawn_events_begin(struct pd_spawn *s, const struct pd_spawn_request *req)
{
	struct pd_error err;
	s->cfg = req->init ? req->cfg : NULL;
	s->start_at_ready = req->start_at_ready;
	s->timeout_ms = req->timeout_ms;
	s->deadline_ns = req->deadline_ns;
	s->hooks_ms = req->init && req->cfg ? pd_hooks_budget_ms(req->cfg->hooks,
								 PD_HOOK_CREATE_CONTAINER)
					    : 0;
	s->what = "set-up";
	s->began_ns = now_ns();
	s->phase = PD_SPAWN_SETUP;
	/* Our end never waits: sends go into an empty buffer, receives come from the loop. */
	if (fcntl(s->sync.fd, F_SETFL, O_NONBLOCK) < 0) {
		pd_error_errno(&err, errno, "spawn: sync socket O_NONBLOCK");
		fail(s, &err);
	} else if (watch_sync(s, &err) < 0 || arm_phase(s, s->timeout_ms, &err) < 0 ||
		   pd_userns_map_child(req, s->pid, s->sync.fd, &err) < 0) {
		fail(s, &err);
	}
}

int pd_spawn_start(struct pd_spawn *s, int64_t deadline_ns, int timeout_ms, struct pd_error *err)
{
	struct pd_sync_msg msg = {.kind = PD_SYNC_START};
	if (s->phase != PD_SPAWN_HELD || s->sync.fd < 0)
		return pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				    "the process is not waiting to be started");
	s->deadline_ns = deadline_ns;
	s->timeout_ms = timeout_ms;
	s->what = "start";
	s->began_ns = now_ns();
	if (watch_sync(s, err) < 0 || arm_phase(s, timeout_ms, err) < 0) {
		stop_sync(s);
		stop_timer(s);
		return -1;
	}
	if (s->steps)
		snprintf(s->steps, PD_SYNC_STEP_MAX, "START sent, not yet received");
	if (pd_sync_send(s->sync.fd, &msg, err) < 0) {
		/* Its socket is gone: the child died; its exit is the owner's to see. */
		pd_spawn_release(s);
		return -1;
	}
	s->phase = PD_SPAWN_STARTING;
	return 0;
}
