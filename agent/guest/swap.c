/* AddSwap and AddSwapPath: swap on a file of the guest, or on a virtio-blk disk the host
 * plugged in for it, named by its PCI path (the lookup and the wait are agent/device/'s). */
#include "guest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>

#include "agent/container/validate.h"

int pd_swap_check_path(const char *path, struct pd_error *err)
{
	struct stat st;
	if (pd_validate_abs_path(path, "swap path", NULL, NULL, err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return pd_error_errno(err, errno, "swap path %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "swap path %s is neither a regular file nor a block device",
				    path);
	return 0;
}

int pd_swap_on(const char *path, struct pd_error *err)
{
	if (pd_swap_check_path(path, err) < 0)
		return -1;
	if (swapon(path, 0) == 0)
		return 0;
	int e = errno;
	if (e == ENOSYS)
		return pd_error_set(err, PD_FAILED_PRECONDITION, e,
				    "swapon %s: this guest kernel has no swap (CONFIG_SWAP)", path);
	if (e == EINVAL)
		return pd_error_set(err, PD_INVALID_ARGUMENT, e,
				    "swapon %s: not a swap area (no mkswap signature, or a file "
				    "with holes)", path);
	return pd_error_errno(err, e, "swapon %s", path);
}
