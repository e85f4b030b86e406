/* ReseedRandomDev: a VM cloned from a template starts with its template's entropy pool, so
 * every clone would draw the same "random" numbers. The host sends fresh bytes; we mix them
 * into the pool, credit them, and force the CRNG to reseed from the pool now. */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char *p, size_t len, const char *dev,
		     struct pd_error *err)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pd_error_errno(err, errno, "write %s", dev);
		if (n == 0)
			return pd_error_set(err, PD_INTERNAL, 0, "write %s: no progress", dev);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pd_random_reseed(const char *dev, const void *data, size_t len, struct pd_error *err)
{
	if (len == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "ReseedRandomDev without data");
	if (len > PD_RESEED_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "ReseedRandomDev with %zu bytes (at most %u)", len,
				    PD_RESEED_MAX);
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", dev);
	int rc = write_all(fd, data, len, dev, err);
	/* Kata credits one bit per byte: a cautious count. What a clone needs is the forced
	 * reseed below, which takes the new bytes into the CRNG at once. */
	int bits = (int)len;
	if (rc == 0 && ioctl(fd, RNDADDTOENTCNT, &bits) < 0)
		rc = pd_error_errno(err, errno, "RNDADDTOENTCNT on %s", dev);
	/* ENODATA: the kernel's CRNG is not initialised yet (a young VM, seen under TCG on
	 * 6.1). The bytes are mixed in and credited; it seeds from them when it initialises. */
	if (rc == 0 && ioctl(fd, RNDRESEEDCRNG) < 0 && errno != ENODATA)
		rc = pd_error_errno(err, errno, "RNDRESEEDCRNG on %s", dev);
	close(fd);
	return rc;
}
