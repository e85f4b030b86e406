/* The console and the little process state pid 1 sets up for everything it starts. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		/* No /dev yet: devtmpfs always has a console node. The early mounts later see
		 * it mounted and skip it. */
		mkdir("/dev", 0755);
		if (mount("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") == 0)
			fd = open("/dev/console", O_RDWR | O_NOCTTY);
	}
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	return fd;
}

void pd_console_ensure_stdio(void)
{
	/* open() returns the lowest free fd, so each call fills the lowest closed one of 0..2:
	 * at most three rounds. */
	while (!fd_is_open(0) || !fd_is_open(1) || !fd_is_open(2)) {
		int fd = open_console();
		if (fd < 0)
			return; /* nowhere to log to; boot goes on silently */
		if (fd > 2) {
			close(fd); /* cannot happen while one of 0..2 is closed */
			return;
		}
	}
}

int pd_console_take(struct pd_error *err)
{
	/* Fails with EPERM when we already lead a process group (host runs): harmless. */
	setsid();
	if (!isatty(0))
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOTTY, "stdin is not a terminal");
	if (ioctl(0, TIOCSCTTY, 1) < 0)
		return pd_error_errno(err, errno, "TIOCSCTTY");
	return 0;
}

int pd_console_link_ptmx(const char *devdir, struct pd_error *err)
{
	char path[256], target[16];
	if ((size_t)snprintf(path, sizeof(path), "%s/ptmx", devdir) >= sizeof(path))
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG, "ptmx path too long");
	ssize_t n = readlink(path, target, sizeof(target));
	if (n == 8 && memcmp(target, "pts/ptmx", 8) == 0)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return pd_error_errno(err, errno, "unlink %s", path);
	if (symlink("pts/ptmx", path) < 0)
		return pd_error_errno(err, errno, "symlink %s", path);
	return 0;
}

void pd_hostname_read(const char *file, char *name, size_t len)
{
	char buf[256];
	ssize_t n = -1;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	const char *start = buf + strspn(buf, " \t\r\n");
	size_t tok = strcspn(start, " \t\r\n");
	if (tok == 0 || tok >= len)
		snprintf(name, len, "localhost");
	else
		snprintf(name, len, "%.*s", (int)tok, start);
}

int pd_hostname_setup(const char *file, struct pd_error *err)
{
	char name[65]; /* HOST_NAME_MAX + 1 */
	pd_hostname_read(file, name, sizeof(name));
	if (sethostname(name, strlen(name)) < 0)
		return pd_error_errno(err, errno, "sethostname %s", name);
	return 0;
}
