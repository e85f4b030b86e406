#include "sync.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

int pd_sync_send(int fd, const struct pd_sync_msg *msg, struct pd_error *err)
{
	ssize_t n;
	do
		n = send(fd, msg, sizeof(*msg), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*msg))
		return pd_error_errno(err, n < 0 ? errno : EPIPE, "sync send");
	return 0;
}

int pd_sync_recv(int fd, int timeout_ms, struct pd_sync_msg *msg, struct pd_error *err)
{
	memset(msg, 0, sizeof(*msg));
	pd_error_clear(err);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return pd_error_set(err, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
				    "container process did not report within %d ms", timeout_ms);
	if (r < 0)
		return pd_error_errno(err, errno, "sync poll");
	ssize_t n;
	do
		n = recv(fd, msg, sizeof(*msg), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		msg->kind = PD_SYNC_EOF;
		return 0;
	}
	if (n != (ssize_t)sizeof(*msg))
		return pd_error_errno(err, n < 0 ? errno : EPROTO, "sync receive");
	msg->msg[sizeof(msg->msg) - 1] = '\0';
	return 0;
}

int pd_sync_to_error(const struct pd_sync_msg *msg, struct pd_error *err)
{
	return pd_error_set(err, msg->code ? msg->code : PD_INTERNAL, msg->errnum, "%s", msg->msg);
}

void pd_sync_from_error(struct pd_sync_msg *msg, const struct pd_error *err)
{
	memset(msg, 0, sizeof(*msg));
	msg->kind = PD_SYNC_ERROR;
	msg->code = err->code;
	msg->errnum = err->errnum;
	memcpy(msg->msg, err->msg, sizeof(msg->msg));
}
