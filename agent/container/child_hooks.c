/* The container child's part of the hooks: stop before the rootfs so the agent can run
 * prestart and createRuntime, run createContainer before pivot_root, and startContainer
 * after START, right before the exec. See hooks.h for where each kind runs. */
#include "child_hooks.h"

#include <stdlib.h>
#include <unistd.h>

#include "agent/container/hooks.h"
#include "agent/container/sync.h"

/* Our pid as the agent sees it (getpid() says 1 in our pid namespace): the hooks' state
 * names it. Told by the agent in PD_SYNC_RESUME. */
static pid_t agent_side_pid;

static bool has(const struct pd_hooks *h, int kind)
{
	return h && h->n[kind] > 0;
}

static int run(const struct pd_container_config *cfg, int kind, const char *status,
	       struct pd_error *err)
{
	char *state;
	size_t len;
	if (pd_hook_state_render(cfg->hooks, cfg->id, cfg->rootfs, status, agent_side_pid, &state,
				 &len, err) < 0)
		return -1;
	int rc = pd_hooks_run_local(cfg->hooks, kind, state, len, err);
	free(state);
	return rc;
}

int pd_child_hooks_create(const struct pd_container_config *cfg, int sync_fd, struct pd_error *err)
{
	const struct pd_hooks *h = cfg->hooks;
	if (!has(h, PD_HOOK_PRESTART) && !has(h, PD_HOOK_CREATE_RUNTIME) &&
	    !has(h, PD_HOOK_CREATE_CONTAINER) && !has(h, PD_HOOK_START_CONTAINER))
		return 0;
	struct pd_sync_msg msg = {.kind = PD_SYNC_HOOKS};
	if (pd_sync_send(sync_fd, &msg, err) < 0 || pd_sync_recv(sync_fd, -1, &msg, err) < 0)
		return -1;
	if (msg.kind != PD_SYNC_RESUME)
		_exit(127); /* the runtime's hooks failed: the agent abandoned us */
	agent_side_pid = (pid_t)msg.code;
	pd_sync_step("createContainer hooks");
	return run(cfg, PD_HOOK_CREATE_CONTAINER, "creating", err);
}

int pd_child_hooks_start(const struct pd_container_config *cfg, struct pd_error *err)
{
	if (!has(cfg->hooks, PD_HOOK_START_CONTAINER))
		return 0;
	pd_sync_step("startContainer hooks");
	return run(cfg, PD_HOOK_START_CONTAINER, "created", err);
}
