#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vfill(struct pd_error *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int pd_error_set(struct pd_error *err, int code, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	err->code = code;
	err->errnum = errnum;
	va_start(ap, fmt);
	vfill(err, fmt, ap);
	va_end(ap);
	return -1;
}

int pd_error_errno(struct pd_error *err, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	err->code = pd_code_from_errno(errnum);
	err->errnum = errnum;
	va_start(ap, fmt);
	vfill(err, fmt, ap);
	va_end(ap);
	size_t n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

int pd_error_wrap(struct pd_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[PD_ERROR_MSG_MAX];
	char old[PD_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

void pd_error_clear(struct pd_error *err)
{
	if (!err)
		return;
	err->code = PD_OK;
	err->errnum = 0;
	err->msg[0] = '\0';
}

int pd_code_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return PD_OK;
	case ENOENT:
	case ESRCH:
		return PD_NOT_FOUND;
	case EEXIST:
		return PD_ALREADY_EXISTS;
	case EPERM:
	case EACCES:
		return PD_PERMISSION_DENIED;
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP:
	case ENOTDIR:
	case EXDEV:
		return PD_INVALID_ARGUMENT;
	case ENOMEM:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EAGAIN:
		return PD_RESOURCE_EXHAUSTED;
	case ETIMEDOUT:
	case ETIME:
		return PD_DEADLINE_EXCEEDED;
	case EBUSY:
		return PD_FAILED_PRECONDITION;
	case ENOSYS:
	case EOPNOTSUPP:
		return PD_UNIMPLEMENTED;
	default:
		return PD_INTERNAL;
	}
}

const char *pd_code_name(int code)
{
	static const char *const names[] = {
		"OK",		     "CANCELLED",	  "UNKNOWN",	   "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND",	  "ALREADY_EXISTS", "PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",	   "OUT_OF_RANGE",
		"UNIMPLEMENTED",     "INTERNAL",	  "UNAVAILABLE",   "DATA_LOSS",
		"UNAUTHENTICATED",
	};
	if (code < 0 || code > PD_UNAUTHENTICATED)
		return "UNKNOWN_CODE";
	return names[code];
}
