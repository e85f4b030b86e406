/* One-value kernel files (sysfs, procfs): paths under a root prefix, whole reads, one-write
 * writes. */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pd_kpath(char *buf, size_t size, struct pd_error *err, const char *root, const char *fmt, ...)
{
	int n = snprintf(buf, size, "%s", root);
	if (n < 0 || (size_t)n >= size)
		return pd_error_errno(err, ENAMETOOLONG, "path under %.100s", root);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - (size_t)n)
		return pd_error_errno(err, ENAMETOOLONG, "path under %.100s", root);
	return 0;
}

ssize_t pd_kfile_read(const char *path, char *buf, size_t size, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return pd_error_errno(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char extra;
			ssize_t more = read(fd, &extra, 1);
			close(fd);
			if (more > 0)
				return pd_error_set(err, PD_INTERNAL, 0,
						    "%s holds more than %zu bytes", path, size - 1);
			buf[len] = '\0';
			return (ssize_t)len;
		}
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int pd_kfile_write(const char *path, const char *value, struct pd_error *err)
{
	/* O_TRUNC as a shell's "echo 1 > file": sysfs and procfs ignore it, a plain file (tests)
	 * is replaced rather than overwritten in part. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	size_t len = strlen(value);
	ssize_t n;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return pd_error_errno(err, e, "write '%s' to %s", value, path);
	if ((size_t)n != len)
		return pd_error_set(err, PD_INTERNAL, 0, "short write of '%s' to %s", value, path);
	return 0;
}

bool pd_kfile_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}
