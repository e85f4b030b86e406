/* pd_process_oom_score: first of all (child.c), with the agent's privileges.
 * pd_process_setup: the container process's credentials and limits, in the order the
 * kernel's permission rules require (docs/process.md):
 *   rlimits                  while root: raising a hard limit needs CAP_SYS_RESOURCE
 *   groups, gid, uid         CAP_SETGID/CAP_SETUID, also needed before the capabilities go
 *   capabilities             bounding, permitted/effective/inheritable, ambient
 *   no_new_privs             after the last privileged step, before exec (and seccomp)
 *   chdir(cwd)               as the final user, so the directory's permissions count */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/container/process.h"
#include "agent/container/process_steps.h"

/* Written through the agent's /proc (the child has not entered the container's mount
 * namespace or root yet); still checked to be a procfs, as a file named by path. */
static int set_oom_score_adj(int value, struct pd_error *err)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "oom_score_adj %d: open /proc/self/oom_score_adj",
				      value);
	struct statfs st;
	int rc = 0;
	if (fstatfs(fd, &st) < 0) {
		rc = pd_error_errno(err, errno, "oom_score_adj %d: fstatfs", value);
	} else if (st.f_type != PROC_SUPER_MAGIC) {
		rc =
		    pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				 "oom_score_adj %d: /proc is not a procfs in the container", value);
	} else {
		char buf[16];
		int len = snprintf(buf, sizeof(buf), "%d", value);
		if (write(fd, buf, (size_t)len) != len)
			rc = pd_error_errno(err, errno, "oom_score_adj %d", value);
	}
	close(fd);
	return rc;
}

int pd_process_oom_score(const struct pd_process_config *p, struct pd_error *err)
{
	/* Always written: the agent runs at -1000 so the OOM killer spares it, and its
	 * containers must not inherit that. Without a value in the spec, 0. */
	return set_oom_score_adj(p->has_oom_score_adj ? p->oom_score_adj : 0, err);
}

int pd_process_setup(const struct pd_process_config *p, struct pd_error *err)
{
	if (pd_rlimits_apply(p->rlimits, p->n_rlimits, err) < 0)
		return -1;
	if (pd_user_switch(p->uid, p->gid, p->additional_gids, p->n_additional_gids, p->has_caps,
			   err) < 0)
		return -1;
	if (p->has_caps && pd_caps_apply(&p->caps, err) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return pd_error_errno(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	if (chdir(p->cwd) < 0)
		return pd_error_errno(err, errno, "chdir %s", p->cwd);
	return 0;
}
