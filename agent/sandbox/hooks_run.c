/* Hooks in the agent's namespaces, their statuses from the process table. See hooks_run.h. */
#include "hooks_run.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/container/hooks.h"
#include "agent/list.h"
#include "agent/log.h"
#include "agent/proctable.h"

#define KILLED_REAP_MS 5000 /* a SIGKILLed hook is gone by then, unless in D state */

struct hook_wait {
	struct pd_proc_watch watch;
	bool exited;
	int status;
};

static void on_hook_exit(struct pd_proc_watch *w, int status)
{
	struct hook_wait *hw = pd_container_of(w, struct hook_wait, watch);
	hw->exited = true;
	hw->status = status;
}

static int run_one(int kind, size_t i, const struct pd_hook *h, int state_fd, struct pd_error *err)
{
	struct hook_wait hw = {.exited = false};
	pid_t pid = pd_hook_fork(kind, i, h, state_fd, err);
	if (pid < 0)
		return -1;
	/* Before anything else can reap: the table hands the status to hw. */
	pd_proc_watch_add(&hw.watch, pid, on_hook_exit);
	int r = pd_hook_wait_exit(pid, h->timeout_s * 1000, err);
	if (r != 0) {
		struct pd_error ignored;
		pd_hook_kill(pid);
		pd_hook_wait_exit(pid, KILLED_REAP_MS, &ignored);
	}
	pd_proctable_reap_pid(pid);
	if (!hw.exited) { /* stuck: the table reaps it later as an orphan */
		pd_proc_watch_cancel(&hw.watch);
		return pd_error_set(err, PD_INTERNAL, 0, "%s hook %zu (%s): pid %d did not die",
				    pd_hook_kind_name(kind), i, h->path, (int)pid);
	}
	if (r < 0)
		return -1;
	if (r == 1 || hw.status != 0)
		return pd_hook_failed(kind, i, h, r == 1, hw.status, err);
	return 0;
}

int pd_hooks_run_agent(const struct pd_container_config *cfg, int kind, const char *status,
		       pid_t pid, struct pd_error *err)
{
	const struct pd_hooks *hooks = cfg->hooks;
	bool must_pass = kind == PD_HOOK_PRESTART || kind == PD_HOOK_CREATE_RUNTIME;
	if (!hooks || !hooks->n[kind])
		return 0;
	char *state;
	size_t len;
	int fd = -1;
	if (pd_hook_state_render(hooks, cfg->id, cfg->rootfs, status, pid, &state, &len, err) < 0)
		goto failed;
	fd = pd_hook_state_fd(state, len, err);
	free(state);
	if (fd < 0)
		goto failed;
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		if (run_one(kind, i, &hooks->list[kind][i], fd, err) == 0)
			continue;
		if (must_pass)
			goto failed;
		pd_warn("hook failed", "cid=%s kind=%s error=\"%s\"", cfg->id,
			pd_hook_kind_name(kind), err->msg);
	}
	close(fd);
	pd_error_clear(err);
	return 0;
failed:
	if (fd >= 0)
		close(fd);
	if (!must_pass) {
		pd_warn("hooks not run", "cid=%s kind=%s error=\"%s\"", cfg->id,
			pd_hook_kind_name(kind), err->msg);
		pd_error_clear(err);
		return 0;
	}
	return -1;
}
