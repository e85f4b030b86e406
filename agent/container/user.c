/* The process's identity: supplementary groups, then gid, then uid.
 *
 * Groups and gid first: both need CAP_SETGID, which a non-root uid no longer has.
 * setgroups runs even with no additional gids, so that the agent's own supplementary
 * groups never leak into a container. All three ids (real, effective, saved) are set, so
 * nothing can switch back. */
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "agent/container/process_steps.h"

int pd_user_switch(uid_t uid, gid_t gid, const gid_t *gids, size_t n_gids, bool keep_caps,
		   struct pd_error *err)
{
	if (setgroups(n_gids, n_gids ? gids : NULL) < 0)
		return pd_error_errno(err, errno, "setgroups (%zu additional gids)", n_gids);
	if (setresgid(gid, gid, gid) < 0)
		return pd_error_errno(err, errno, "setresgid %u", (unsigned)gid);
	/* Without KEEPCAPS, leaving uid 0 empties the permitted set and the caller could not
	 * set the capabilities it was asked for. The flag is reset right after (and by exec). */
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return pd_error_errno(err, errno, "prctl PR_SET_KEEPCAPS");
	if (setresuid(uid, uid, uid) < 0)
		return pd_error_errno(err, errno, "setresuid %u", (unsigned)uid);
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
		return pd_error_errno(err, errno, "prctl PR_SET_KEEPCAPS");
	return 0;
}
