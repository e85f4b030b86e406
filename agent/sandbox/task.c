/* Tasks: a container's init and execs, their exits, their spawn operations. See task.h. */
#include "task.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/container/hooks.h"
#include "agent/log.h"
#include "agent/sandbox/container.h"
#include "agent/ttrpc/server.h"

static void on_spawn_done(struct pd_spawn *s, const struct pd_error *err);

struct pd_task *pd_task_new(struct pd_container *ctr, const char *exec_id, bool init)
{
	struct pd_task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ctr = ctr;
	t->init = init;
	snprintf(t->exec_id, sizeof(t->exec_id), "%s", exec_id);
	pd_spawn_init(&t->spawn);
	t->spawn.done = on_spawn_done;
	pd_list_init(&t->op_calls);
	pd_list_init(&t->waiters);
	pd_list_init(&t->node);
	pd_list_init(&t->watch.node);
	pd_arena_init(&t->arena, PD_CONFIG_BYTES);
	for (int i = 0; i < 3; i++)
		t->io.child[i] = -1;
	t->io.pty_master = t->io.in.watch.fd = t->io.out.watch.fd = t->io.err.watch.fd = -1;
	t->io.out.quiet.fd = t->io.err.quiet.fd = -1;
	pd_list_init(&t->io.in.writers);
	pd_list_init(&t->io.out.readers);
	pd_list_init(&t->io.err.readers);
	return t;
}

static void fail_calls(struct pd_list *calls, const struct pd_error *err)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, calls)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, owner_node);
		pd_list_del(&call->owner_node);
		pd_call_fail(call, err);
	}
}

void pd_task_free(struct pd_task *t)
{
	/* Nobody may be left waiting on a process that goes away unreaped. */
	struct pd_error err;
	pd_error_set(&err, PD_NOT_FOUND, 0, "process %s was removed", t->exec_id);
	fail_calls(&t->waiters, &err);
	fail_calls(&t->op_calls, &err);
	pd_proc_watch_cancel(&t->watch);
	pd_spawn_release(&t->spawn);
	pd_stdio_close(&t->io);
	pd_list_del(&t->node);
	pd_arena_free(&t->arena);
	free(t);
}

/* The process's end, as the host sees it: WaitProcess, the container stopped. */
static void task_exited(struct pd_task *t, int status)
{
	struct pd_container *ctr = t->ctr;
	t->exited = true;
	t->exit_pending = false;
	t->exit_code = pd_exit_code(status);
	pd_spawn_release(&t->spawn); /* a held init's socket */
	pd_stdio_owner_exited(&t->io);
	pd_info("process exited", "cid=%s eid=%s pid=%d status=%d", ctr->id,
		t->init ? "" : t->exec_id, (int)t->pid, t->exit_code);
	if (t->init) {
		ctr->status = PD_CTR_STOPPED;
		pd_container_save_state(ctr);
	}
	if (ctr->sb->on_task_exit)
		ctr->sb->on_task_exit(t);
}

static void on_task_exit(struct pd_proc_watch *w, int status)
{
	struct pd_task *t = pd_container_of(w, struct pd_task, watch);
	if (pd_spawn_busy(&t->spawn)) {
		/* The operation ends now (the spawn reports at once); the rest after it. */
		t->exit_pending = true;
		t->exit_status = status;
		pd_spawn_child_exited(&t->spawn, status);
		return;
	}
	task_exited(t, status);
}

static void on_spawn_done(struct pd_spawn *s, const struct pd_error *err)
{
	struct pd_task *t = pd_container_of(s, struct pd_task, spawn);
	struct pd_container *ctr = t->ctr;
	struct pd_error ready_err;
	int op = t->op;
	t->op = PD_TASK_OP_NONE;
	if (!err && op == PD_TASK_OP_CREATE && pd_container_ready(ctr, &ready_err) < 0) {
		pd_spawn_release(&t->spawn); /* the held child exits */
		err = &ready_err;
	}
	if (!err && op == PD_TASK_OP_START) {
		ctr->status = PD_CTR_RUNNING;
		pd_container_save_state(ctr);
	}
	struct pd_list calls;
	pd_list_move_all(&calls, &t->op_calls);
	bool torn_down = err && op != PD_TASK_OP_START; /* the RPC layer's to free */
	bool exited = t->exit_pending;
	int status = t->exit_status;
	ctr->sb->on_op_done(t, op, &calls, err);
	if (!torn_down && exited)
		task_exited(t, status);
}

int pd_task_spawn(struct pd_task *t, int op, struct pd_spawn_request *req, int64_t deadline_ns,
		  struct pd_error *err)
{
	struct pd_sandbox *sb = t->ctr->sb;
	const struct pd_process_config *p = req->proc;
	if (pd_stdio_open(&t->io, sb->loop, p->terminal, p->rows, p->cols, sb->pipe_size, err) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		req->stdio[i] = t->io.child[i];
	req->timeout_ms = sb->spawn_timeout_ms;
	req->deadline_ns = deadline_ns;
	req->no_pivot = sb->no_pivot;
	req->start_at_ready = op == PD_TASK_OP_EXEC;
	int rc = pd_spawn_begin(&t->spawn, sb->loop, req, err);
	pd_stdio_close_child(&t->io);
	if (rc < 0)
		return -1;
	t->pid = t->spawn.pid;
	t->op = op;
	/* Before the loop runs again: the table hands its exit to on_task_exit. */
	pd_proc_watch_add(&t->watch, t->pid, on_task_exit);
	return 0;
}

int pd_task_start(struct pd_task *t, int64_t deadline_ns, struct pd_error *err)
{
	const struct pd_container_config *cfg = &t->ctr->cfg;
	int64_t ms = t->ctr->sb->spawn_timeout_ms +
		     pd_hooks_budget_ms(cfg->hooks, PD_HOOK_START_CONTAINER);
	if (pd_spawn_start(&t->spawn, deadline_ns, ms > INT32_MAX ? INT32_MAX : (int)ms, err) < 0)
		return -1;
	t->op = PD_TASK_OP_START;
	return 0;
}

/* The caller of a create or an exec went away before the answer: the host does not know
 * the process, so it does not run (the child is killed; the RPC layer hears of it through
 * on_op_done without a call). A start goes on: the container exists either way. */
static void op_call_cancel(struct pd_call *call)
{
	struct pd_task *t = call->owner_data;
	struct pd_error why;
	pd_list_del(&call->owner_node);
	if (!pd_list_empty(&t->op_calls) || t->op == PD_TASK_OP_START)
		return;
	pd_error_set(&why, PD_CANCELLED, 0, "the caller went away before the answer");
	pd_spawn_abort(&t->spawn, &why);
}

void pd_task_park_op(struct pd_task *t, struct pd_call *call)
{
	call->on_cancel = op_call_cancel;
	call->owner_data = t;
	pd_list_add_tail(&t->op_calls, &call->owner_node);
}

struct pd_task *pd_container_find_task(struct pd_container *ctr, const char *exec_id)
{
	if (!exec_id[0])
		return ctr->init;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &ctr->tasks)
	{
		struct pd_task *t = pd_container_of(pos, struct pd_task, node);
		if (strcmp(t->exec_id, exec_id) == 0)
			return t;
	}
	return NULL;
}

void pd_task_release(struct pd_task *t)
{
	if (t->init)
		return; /* the init stays until RemoveContainer: its status is the container's */
	t->ctr->n_tasks--;
	pd_task_free(t);
}
