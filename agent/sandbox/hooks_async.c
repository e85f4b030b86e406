/* poststart and poststop hooks from the event loop. See hooks_async.h. */
#include "hooks_async.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/container/hooks_seq.h"
#include "agent/log.h"
#include "agent/ttrpc/server.h"

struct pd_hook_run {
	struct pd_arena arena; /* the copy of the hooks */
	struct pd_hooks *hooks;
	char *state; /* malloc'd */
	size_t state_len;
	struct pd_hook_seq seq;
	struct pd_list calls; /* parked calls answered at the end */
	struct pd_list node;  /* in runs */
};

static struct pd_list runs = {&runs, &runs};
static unsigned n_runs;
static void (*idle_fn)(void *);
static void *idle_data;

unsigned pd_hook_runs_busy(void)
{
	return n_runs;
}

void pd_hook_runs_when_idle(void (*fn)(void *data), void *data)
{
	if (!n_runs) {
		fn(data);
		return;
	}
	idle_fn = fn;
	idle_data = data;
}

static void run_free(struct pd_hook_run *r)
{
	pd_list_del(&r->node);
	n_runs--;
	pd_arena_free(&r->arena);
	free(r->state);
	free(r);
}

static void answer_all(struct pd_list *calls)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_reply(call, NULL);
	}
}

struct pd_hook_run *pd_hook_run_prepare(const struct pd_container_config *cfg, int kind,
					const char *status, pid_t pid)
{
	const struct pd_hooks *src = cfg->hooks;
	struct pd_error err;
	if (!src || !src->n[kind])
		return NULL;
	struct pd_hook_run *r = n_runs < PD_HOOK_RUNS_MAX ? calloc(1, sizeof(*r)) : NULL;
	if (!r) {
		pd_error_log("hooks not run", "cid=%s kind=%s error=\"%s\"", cfg->id,
			     pd_hook_kind_name(kind),
			     n_runs < PD_HOOK_RUNS_MAX ? "out of memory" : "too many hook runs");
		return NULL;
	}
	pd_list_add_tail(&runs, &r->node);
	n_runs++;
	pd_arena_init(&r->arena, PD_CONFIG_BYTES);
	pd_list_init(&r->calls);
	pd_hook_seq_init(&r->seq);
	for (size_t i = 0; i < src->n[kind]; i++) {
		const struct pd_hook *h = &src->list[kind][i];
		if (pd_hooks_add(&r->arena, &r->hooks, kind, h->path, h->args, h->n_args, h->env,
				 h->n_env, h->timeout_s, &err) < 0)
			goto failed;
	}
	if (pd_hook_state_render(cfg->hooks, cfg->id, cfg->rootfs, status, pid, &r->state,
				 &r->state_len, &err) < 0)
		goto failed;
	r->seq.hooks = r->hooks;
	r->seq.kinds[0] = kind;
	r->seq.kinds[1] = -1;
	r->seq.must_pass = false;
	snprintf(r->seq.cid, sizeof(r->seq.cid), "%s", cfg->id);
	return r;
failed:
	pd_error_log("hooks not run", "cid=%s kind=%s error=\"%s\"", cfg->id,
		     pd_hook_kind_name(kind), err.msg);
	run_free(r);
	return NULL;
}

/* The end of a run: answer, free, and tell who waits for every run to end. */
static void run_done(struct pd_hook_seq *s, const struct pd_error *err)
{
	struct pd_hook_run *r = pd_container_of(s, struct pd_hook_run, seq);
	answer_all(&r->calls);
	run_free(r);
	if (!n_runs && idle_fn) {
		void (*fn)(void *) = idle_fn;
		idle_fn = NULL;
		fn(idle_data);
	}
}

static void drop_call(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

void pd_hook_run_launch(struct pd_hook_run *r, struct pd_loop *loop, struct pd_list *calls)
{
	struct pd_error err;
	if (!r) {
		answer_all(calls);
		return;
	}
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls)
	pd_container_of(pos, struct pd_call, owner_node)->on_cancel = drop_call;
	pd_list_move_all(&r->calls, calls);
	r->seq.done = run_done;
	int rc = pd_hook_seq_start(&r->seq, loop, r->state, r->state_len, &err);
	if (rc == 0)
		return; /* run_done comes from the loop */
	if (rc < 0)
		pd_warn("hooks not run", "cid=%s error=\"%s\"", r->seq.cid, err.msg);
	run_done(&r->seq, NULL);
}
