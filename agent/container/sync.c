#include "sync.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

char *pd_sync_step_page;

void pd_sync_step(const char *fmt, ...)
{
	if (!pd_sync_step_page)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pd_sync_step_page, PD_SYNC_STEP_MAX, fmt, ap);
	va_end(ap);
}

char *pd_sync_steps_map(const char *first)
{
	char *page = mmap(NULL, PD_SYNC_STEP_MAX, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return NULL;
	snprintf(page, PD_SYNC_STEP_MAX, "%s", first);
	return page;
}

void pd_sync_steps_unmap(char *page)
{
	if (page)
		munmap(page, PD_SYNC_STEP_MAX);
}

int pd_sync_try_recv(int fd, struct pd_sync_msg *msg, struct pd_error *err)
{
	memset(msg, 0, sizeof(*msg));
	ssize_t n;
	do
		n = recv(fd, msg, sizeof(*msg), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		msg->kind = PD_SYNC_EOF;
		return 1;
	}
	if (n != (ssize_t)sizeof(*msg))
		return pd_error_errno(err, n < 0 ? errno : EPROTO, "sync receive");
	msg->msg[sizeof(msg->msg) - 1] = '\0';
	return 1;
}

int pd_sync_stuck(struct pd_error *err, const char *what, long long ms, const char *steps)
{
	char step[PD_SYNC_STEP_MAX];
	const char *from = steps && steps[0] ? steps : "(unknown)";
	/* The child may be writing it right now: a bounded copy, then terminate. */
	size_t n = strnlen(from, PD_SYNC_STEP_MAX - 1);
	memcpy(step, from, n);
	step[n] = '\0';
	return pd_error_set(err, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
			    "container %s did not finish within %lld ms, stuck at: %s", what, ms,
			    step);
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
