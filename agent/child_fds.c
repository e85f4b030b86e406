#include "child_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/log.h"

#define KEEP_MAX 32 /* the most a fork site keeps: an exec keeps 12 */

void pd_undumpable(void)
{
	prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L); /* cannot fail for 0 */
}

struct dirent64_raw { /* what getdents64 fills (no libc dirent: its layout varies) */
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int parse_fd(const char *s)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > INT32_MAX / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > INT32_MAX ? -1 : (int)v;
}

/* Each fd from lo up to the limit on fds: the agent opened none at or above its limit,
 * which the child still has. */
static int close_by_limit(unsigned lo)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	for (rlim_t fd = lo; fd < rl.rlim_cur && fd <= INT32_MAX; fd++)
		close((int)fd);
	return 0;
}

int pd_close_fds_from(unsigned lo)
{
	struct statfs sfs;
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A container without a proc mount may have a directory of its own there. */
	if (dir < 0 || fstatfs(dir, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		if (dir >= 0)
			close(dir);
		return close_by_limit(lo);
	}
	/* An fd's entry sits at position fd + 2 and the directory is read in fd order, so
	 * closing the entries already read does not move the ones still to come. */
	char buf[4096] __attribute__((aligned(8)));
	long n;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
			int fd = parse_fd(d->name);
			if (fd >= 0 && (unsigned)fd >= lo && fd != dir)
				close(fd);
			off += d->reclen;
		}
	}
	int e = errno;
	close(dir);
	if (n < 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Index of the first entry of orig[0..i] equal to orig[i]. */
static size_t first_of(const int *orig, size_t i)
{
	size_t j = 0;
	while (orig[j] != orig[i])
		j++;
	return j;
}

int pd_child_keep_fds(int *const keep[], size_t n)
{
	int orig[KEEP_MAX];
	bool taken[KEEP_MAX] = {false};
	unsigned k = 0;
	if (n > KEEP_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		orig[i] = *keep[i];
		k += orig[i] >= 0 && first_of(orig, i) == i;
	}
	/* The kept fds end up in [3, 3 + k): those already there stay, the others take the
	 * free places; dup3 over a place closes the fd of the agent that was there. */
	const int lo = 3, hi = 3 + (int)k;
	for (size_t i = 0; i < n; i++)
		if (orig[i] >= lo && orig[i] < hi)
			taken[orig[i] - lo] = true;
	for (size_t i = 0; i < n; i++) {
		size_t f = orig[i] < 0 ? i : first_of(orig, i);
		if (orig[i] < 0 || f != i) {
			*keep[i] = orig[i] < 0 ? -1 : *keep[f];
			continue;
		}
		if (orig[i] >= lo && orig[i] < hi) {
			if (fcntl(orig[i], F_SETFD, FD_CLOEXEC) < 0)
				return -1;
			continue;
		}
		int slot = 0;
		while (taken[slot])
			slot++;
		taken[slot] = true;
		if (dup3(orig[i], lo + slot, O_CLOEXEC) < 0)
			return -1;
		*keep[i] = lo + slot;
	}
	pd_log_set_sink(-1);
	if (syscall(SYS_close_range, (unsigned)hi, ~0U, 0U) == 0)
		return 0;
	return errno == ENOSYS ? pd_close_fds_from((unsigned)hi) : -1;
}
