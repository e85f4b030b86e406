/* Capability sets of a container process, through libcap-ng.
 *
 * Order (capabilities(7)):
 *   1. effective := permitted. After a uid change the kernel empties the effective set;
 *      dropping from the bounding set needs CAP_SETPCAP effective.
 *   2. bounding: drop every capability that is not asked for.
 *   3. permitted, effective, inheritable in one capset. An inheritable capability must be
 *      in the (new) bounding set; an effective one in the permitted set.
 *   4. ambient last: the kernel raises only what is permitted and inheritable by then.
 *
 * libcap-ng keeps per-thread state that records the pid to act on. The agent never calls
 * it, and we set the pid to 0 (= the caller) anyway: a raw clone skips pthread_atfork, so
 * state copied from a parent would name the parent. The bounding and ambient sets that
 * libcap-ng reads from the container's /proc are never used: every set we apply is cleared
 * and filled from the request first. */
#include <errno.h>
#include <cap-ng.h>
#include <stdint.h>
#include <sys/prctl.h>

#include "agent/container/process_steps.h"

#define BIT(c) ((uint64_t)1 << (c))

/* Asked the kernel rather than /proc/sys/kernel/cap_last_cap: the container's /proc may
 * be missing or be a file of the image. PR_CAPBSET_READ fails with EINVAL past the end. */
int pd_caps_last(void)
{
	int last = -1;
	while (last < 63 && prctl(PR_CAPBSET_READ, (unsigned long)(last + 1), 0L, 0L, 0L) >= 0)
		last++;
	return last;
}

static uint64_t known_mask(int last)
{
	return last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
}

static uint64_t current_bounding(int last)
{
	uint64_t mask = 0;
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) == 1)
			mask |= BIT(c);
	return mask;
}

/* Add every bit of mask to the libcap-ng sets in `type`. */
static int add_mask(capng_type_t type, uint64_t mask)
{
	for (unsigned c = 0; c < 64; c++)
		if ((mask & BIT(c)) && capng_update(CAPNG_ADD, type, c) < 0)
			return -1;
	return 0;
}

static int raise_effective(int last, struct pd_error *err)
{
	capng_setpid(0);
	if (capng_get_caps_process() < 0)
		return pd_error_errno(err, errno ? errno : EIO, "capget");
	for (int c = 0; c <= last; c++)
		if (capng_have_capability(CAPNG_PERMITTED, (unsigned)c) &&
		    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, (unsigned)c) < 0)
			return pd_error_errno(err, EINVAL, "capability %d", c);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return pd_error_errno(err, errno, "capset (raise effective to permitted)");
	return 0;
}

static int drop_bounding(uint64_t want, int last, struct pd_error *err)
{
	if ((current_bounding(last) & ~want) == 0)
		return 0; /* nothing to drop, so no need for CAP_SETPCAP */
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (add_mask(CAPNG_BOUNDING_SET, want) < 0)
		return pd_error_errno(err, EINVAL, "capability bounding set %#llx",
				      (unsigned long long)want);
	int rc = capng_apply(CAPNG_SELECT_BOUNDS);
	if (rc == -4) /* libcap-ng found no CAP_SETPCAP in the effective set */
		return pd_error_set(err, PD_PERMISSION_DENIED, EPERM,
				    "drop from the capability bounding set: CAP_SETPCAP not held");
	if (rc < 0)
		return pd_error_errno(err, errno, "drop from the capability bounding set");
	return 0;
}

static int set_pei(const struct pd_caps *c, uint64_t known, struct pd_error *err)
{
	capng_clear(CAPNG_SELECT_CAPS);
	if (add_mask(CAPNG_PERMITTED, c->permitted & known) < 0 ||
	    add_mask(CAPNG_EFFECTIVE, c->effective & known) < 0 ||
	    add_mask(CAPNG_INHERITABLE, c->inheritable & known) < 0)
		return pd_error_errno(err, EINVAL, "capability sets");
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return pd_error_errno(
		    err, errno, "capset (permitted %#llx, effective %#llx, inheritable %#llx)",
		    (unsigned long long)(c->permitted & known),
		    (unsigned long long)(c->effective & known),
		    (unsigned long long)(c->inheritable & known));
	return 0;
}

static int set_ambient(uint64_t want, struct pd_error *err)
{
	capng_clear(CAPNG_SELECT_AMBIENT);
	if (add_mask(CAPNG_AMBIENT, want) < 0)
		return pd_error_errno(err, EINVAL, "ambient capabilities %#llx",
				      (unsigned long long)want);
	if (capng_apply(CAPNG_SELECT_AMBIENT) < 0)
		return pd_error_errno(err, errno, "raise ambient capabilities %#llx",
				      (unsigned long long)want);
	return 0;
}

int pd_caps_apply(const struct pd_caps *caps, struct pd_error *err)
{
	int last = pd_caps_last();
	if (last < 0)
		return pd_error_set(err, PD_INTERNAL, 0, "cannot read the capability bounding set");
	uint64_t known = known_mask(last);
	if (raise_effective(last, err) < 0 ||
	    drop_bounding(caps->bounding & known, last, err) < 0 || set_pei(caps, known, err) < 0)
		return -1;
	return set_ambient(caps->ambient & caps->permitted & caps->inheritable & known, err);
}
