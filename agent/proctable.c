#include "proctable.h"

#include <sys/wait.h>

#include "log.h"

static struct pd_list watches = {&watches, &watches};

void pd_proctable_init(void)
{
	pd_list_init(&watches);
}

void pd_proc_watch_add(struct pd_proc_watch *w, pid_t pid, pd_proc_exit_fn on_exit)
{
	w->pid = pid;
	w->on_exit = on_exit;
	pd_list_add_tail(&watches, &w->node);
}

void pd_proc_watch_cancel(struct pd_proc_watch *w)
{
	pd_list_del(&w->node);
}

static struct pd_proc_watch *find(pid_t pid)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &watches)
	{
		struct pd_proc_watch *w = pd_container_of(pos, struct pd_proc_watch, node);
		if (w->pid == pid)
			return w;
	}
	return NULL;
}

int pd_proctable_reap(void)
{
	int reaped = 0;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid <= 0)
			break; /* 0: children left but none exited; -1/ECHILD: none at all */
		reaped++;
		struct pd_proc_watch *w = find(pid);
		if (!w) {
			/* An orphan reparented to us (we are the subreaper): nothing waits. */
			pd_debug("reaped orphan", "pid=%d status=%d", (int)pid, pd_exit_code(status));
			continue;
		}
		pd_list_del(&w->node);
		w->on_exit(w, status);
	}
	return reaped;
}

int pd_exit_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 255;
}
