/* AddSwap and AddSwapPath: swap on a file of the guest, or on a virtio-blk disk the host
 * plugged in for it, named by its PCI path (the lookup and the wait are agent/device/'s). */
#include "guest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "agent/container/resolve.h"
#include "agent/container/validate.h"

/* The swap file or disk, opened without following a symlink anywhere on its path: a
 * container that can write where the host keeps its swap file must not be able to point
 * swapon at another of the guest's files. Returns an O_PATH fd. */
static int open_swap(const char *path, struct pd_error *err)
{
	struct stat st;
	if (pd_validate_abs_path(path, "swap path", NULL, NULL, err) < 0)
		return -1;
	int fd = pd_open_nosymlinks(path, 0);
	if (fd == -ELOOP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
				    "swap path %s is or passes through a symlink", path);
	if (fd < 0)
		return pd_error_errno(err, -fd, "swap path %s", path);
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "swap path %s is neither a regular file nor a block device",
				    path);
	}
	return fd;
}

int pd_swap_check_path(const char *path, struct pd_error *err)
{
	int fd = open_swap(path, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int pd_swap_on(const char *path, struct pd_error *err)
{
	char by_fd[PD_FD_PATH_MAX];
	int fd = open_swap(path, err);
	if (fd < 0)
		return -1;
	int rc = swapon(pd_fd_path(fd, by_fd, sizeof(by_fd)), 0);
	int e = errno;
	close(fd);
	if (rc == 0)
		return 0;
	if (e == ENOSYS)
		return pd_error_set(err, PD_FAILED_PRECONDITION, e,
				    "swapon %s: this guest kernel has no swap (CONFIG_SWAP)", path);
	if (e == EINVAL)
		return pd_error_set(err, PD_INVALID_ARGUMENT, e,
				    "swapon %s: not a swap area (no mkswap signature, or a file "
				    "with holes)", path);
	return pd_error_errno(err, e, "swapon %s", path);
}
