#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/config.h"

static int listen_unix(const struct pd_addr *addr, struct pd_error *err)
{
	struct sockaddr_un sun;
	socklen_t len = pd_addr_unix_sockaddr(addr, &sun);
	struct stat st;
	if (!addr->abstract && lstat(addr->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(addr->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pd_error_errno(err, errno, "socket(AF_UNIX)");
	if (bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "listen on unix %s%s", addr->abstract ? "@" : "",
				      addr->path);
	}
	return fd;
}

static int listen_vsock(const struct pd_addr *addr, struct pd_error *err)
{
	struct sockaddr_vm svm;
	memset(&svm, 0, sizeof(svm));
	svm.svm_family = AF_VSOCK;
	svm.svm_cid = addr->cid;
	svm.svm_port = addr->port;
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pd_error_errno(err, errno, "socket(AF_VSOCK)");
	if (bind(fd, (struct sockaddr *)&svm, sizeof(svm)) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "listen on vsock port %u", addr->port);
	}
	return fd;
}

int pd_transport_listen(const struct pd_addr *addr, struct pd_error *err)
{
	switch (addr->kind) {
	case PD_ADDR_UNIX:
		return listen_unix(addr, err);
	case PD_ADDR_VSOCK:
		return listen_vsock(addr, err);
	default:
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "not a listening address");
	}
}

int pd_transport_parse_list(const char *text, struct pd_addr addrs[PD_MAX_SERVER_ADDRS],
			    struct pd_error *err)
{
	int n = 0, listeners = 0, serials = 0;
	for (const char *p = text;; n++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[256];
		if (n == PD_MAX_SERVER_ADDRS)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "more than %d server addresses", PD_MAX_SERVER_ADDRS);
		if (len >= sizeof(one))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "server address too long");
		memcpy(one, p, len);
		one[len] = '\0';
		if (pd_addr_parse(one, &addrs[n], err) < 0)
			return -1;
		bool serial = addrs[n].kind == PD_ADDR_SERIAL;
		if (serial ? ++serials > 1 : ++listeners > 1)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "two %s addresses: one listening socket and one "
					    "virtio-serial port at most",
					    serial ? "serial" : "listening");
		if (!comma)
			return n + 1;
		p = comma + 1;
	}
}

/* Read a small sysfs attribute without its trailing newline. */
static int read_attr(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int pd_serial_find(const char *sysfs_root, const char *name, char *dev, size_t len,
		   struct pd_error *err)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/class/virtio-ports", sysfs_root);
	DIR *d = opendir(dir);
	if (!d)
		return pd_error_errno(err, errno, "no virtio-serial ports (%s)", dir);
	struct dirent *de;
	int found = -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], port[128];
		snprintf(path, sizeof(path), "%s/%s/name", dir, de->d_name);
		if (read_attr(path, port, sizeof(port)) == 0 && strcmp(port, name) == 0) {
			snprintf(dev, len, "%s", de->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	if (found < 0)
		return pd_error_set(err, PD_NOT_FOUND, ENOENT, "no virtio-serial port named '%s'",
				    name);
	return 0;
}

int pd_serial_open(const char *name, struct pd_error *err)
{
	char dev[128], path[160];
	if (pd_serial_find("/sys", name, dev, sizeof(dev), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s (port %s)", path, name);
	return fd;
}

bool pd_vsock_available(void)
{
	DIR *d = opendir("/sys/bus/virtio/drivers/vmw_vsock_virtio_transport");
	if (!d)
		return false;
	struct dirent *de;
	bool bound = false;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "virtio", 6) == 0)
			bound = true;
	closedir(d);
	return bound;
}

const char *pd_transport_default_addr(void)
{
	char dev[128];
	if (pd_vsock_available())
		return PD_DEFAULT_SERVER_ADDR;
	if (pd_serial_find("/sys", PD_SERIAL_CHANNEL, dev, sizeof(dev), NULL) == 0)
		return "serial://" PD_SERIAL_CHANNEL;
	return PD_DEFAULT_SERVER_ADDR;
}
