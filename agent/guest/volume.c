/* GetVolumeStats: capacity and inode figures of a volume mounted in the guest, for the
 * kubelet's volume metrics. */
#include "guest.h"

#include <errno.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent/container/resolve.h"
#include "agent/container/validate.h"

static struct pd_volume_usage usage(uint64_t total, uint64_t free, uint64_t avail, uint64_t unit)
{
	struct pd_volume_usage u;
	u.total = total * unit;
	u.used = total > free ? (total - free) * unit : 0;
	u.available = avail * unit;
	return u;
}

int pd_volume_stats(const char *path, struct pd_volume_usage *bytes,
		    struct pd_volume_usage *inodes, struct pd_error *err)
{
	struct statfs st;
	if (pd_validate_abs_path(path, "volume_guest_path", NULL, NULL, err) < 0)
		return -1;
	/* Without symlinks, as every path below /run/kata-containers: the figures are of the
	 * volume the host named, not of wherever a container pointed it. */
	int fd = pd_open_nosymlinks(path, 0);
	if (fd == -ELOOP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
				    "volume %s is or passes through a symlink", path);
	if (fd < 0)
		return pd_error_errno(err, -fd, "statfs %s", path);
	int rc = fstatfs(fd, &st);
	close(fd);
	if (rc < 0)
		return pd_error_errno(err, errno, "statfs %s", path);
	/* f_frsize is the unit of the block counts (f_bsize is only the preferred I/O size,
	 * though the two agree on most file systems); older kernels leave it 0. */
	uint64_t unit = st.f_frsize ? (uint64_t)st.f_frsize : (uint64_t)st.f_bsize;
	/* Available as the kubelet counts it: what a non-root writer can still use. */
	*bytes = usage(st.f_blocks, st.f_bfree, st.f_bavail, unit);
	*inodes = usage(st.f_files, st.f_ffree, st.f_ffree, 1);
	return 0;
}
