#include "uevent.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UEVENT_BUF 8192

static int copy_field(char *dst, size_t size, const char *val)
{
	size_t n = strlen(val);
	if (n >= size)
		return -1;
	memcpy(dst, val, n + 1);
	return 0;
}

static int take_field(struct pd_uevent *ev, const char *kv, unsigned *seen)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
	    {"ACTION=", offsetof(struct pd_uevent, action), sizeof(ev->action)},
	    {"DEVPATH=", offsetof(struct pd_uevent, devpath), sizeof(ev->devpath)},
	    {"SUBSYSTEM=", offsetof(struct pd_uevent, subsystem), sizeof(ev->subsystem)},
	    {"DEVNAME=", offsetof(struct pd_uevent, devname), sizeof(ev->devname)},
	};
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t k = strlen(fields[i].key);
		if (strncmp(kv, fields[i].key, k) == 0) {
			*seen |= 1u << i;
			return copy_field((char *)ev + fields[i].off, fields[i].size, kv + k);
		}
	}
	char *end;
	if (strncmp(kv, "MAJOR=", 6) == 0) {
		ev->major = (unsigned)strtoul(kv + 6, &end, 10);
		ev->has_devnum = !*end && kv[6];
	} else if (strncmp(kv, "MINOR=", 6) == 0) {
		ev->minor = (unsigned)strtoul(kv + 6, &end, 10);
		ev->has_devnum &= !*end && kv[6];
	}
	return 0;
}

int pd_uevent_parse(const char *buf, size_t len, struct pd_uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	/* The kernel's records start "action@devpath"; libudev's start "libudev". */
	const char *first_end = memchr(buf, '\0', len);
	if (!first_end || !memchr(buf, '@', (size_t)(first_end - buf)))
		return -1;
	unsigned seen = 0;
	for (const char *p = first_end + 1; p < buf + len;) {
		const char *end = memchr(p, '\0', (size_t)(buf + len - p));
		if (!end)
			return -1; /* a field cut short */
		if (take_field(ev, p, &seen) < 0)
			return -1;
		p = end + 1;
	}
	return (seen & 7u) == 7u ? 0 : -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool pd_uevent_matches(const struct pd_uevent *ev, const struct pd_blk_want *w)
{
	char needle[64];
	if (strcmp(ev->action, "add") != 0 || strcmp(ev->subsystem, "block") != 0)
		return false;
	switch (w->kind) {
	case PD_BLK_PCI:
		return strncmp(ev->devpath, "/devices/pci0000:00/", 20) == 0 &&
		       strstr(ev->devpath, "/virtio") && strstr(ev->devpath, "/block/");
	case PD_BLK_NAME:
		snprintf(needle, sizeof(needle), "/block/%s", w->name);
		return ends_with(ev->devpath, needle);
	case PD_BLK_SCSI:
		snprintf(needle, sizeof(needle), ":0:%u:%u/block/", w->target, w->lun);
		return strstr(ev->devpath, needle) != NULL;
	}
	return false;
}

int pd_uevent_open(struct pd_error *err)
{
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return pd_error_errno(err, errno, "uevent socket");
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1}; /* the kernel's */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return pd_error_errno(err, e, "uevent socket bind");
	}
	return fd;
}

int pd_uevent_read(int fd, struct pd_uevent *ev)
{
	static char buf[UEVENT_BUF];
	struct sockaddr_nl from;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {
	    .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
	for (;;) {
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS)
			return 2;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		/* Only the kernel (port 0) speaks for devices; anything else is ignored. */
		if (from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC) ||
		    pd_uevent_parse(buf, (size_t)n, ev) < 0)
			continue;
		return 1;
	}
}
