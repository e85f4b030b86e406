/* One error type for every fallible call in pidone.
 *
 * A function that can fail takes `struct pd_error *err` last, returns < 0 on failure and
 * fills err with a gRPC status code, the errno that caused it (0 if none) and a message.
 * Callers add context with pd_error_wrap() as the error rises; the ttRPC edge turns it into
 * a google.rpc.Status in exactly one place (agent/ttrpc/server.c). Nothing logs and drops.
 * The message lives inline so that reporting ENOMEM never needs memory. */
#ifndef PD_ERROR_H
#define PD_ERROR_H

#include <stddef.h>

enum pd_code {
	PD_OK = 0,
	PD_CANCELLED = 1,
	PD_UNKNOWN = 2,
	PD_INVALID_ARGUMENT = 3,
	PD_DEADLINE_EXCEEDED = 4,
	PD_NOT_FOUND = 5,
	PD_ALREADY_EXISTS = 6,
	PD_PERMISSION_DENIED = 7,
	PD_RESOURCE_EXHAUSTED = 8,
	PD_FAILED_PRECONDITION = 9,
	PD_ABORTED = 10,
	PD_OUT_OF_RANGE = 11,
	PD_UNIMPLEMENTED = 12,
	PD_INTERNAL = 13,
	PD_UNAVAILABLE = 14,
	PD_DATA_LOSS = 15,
	PD_UNAUTHENTICATED = 16,
};

#define PD_ERROR_MSG_MAX 512

struct pd_error {
	int code;  /* enum pd_code */
	int errnum; /* errno behind it, 0 if none */
	char msg[PD_ERROR_MSG_MAX];
};

/* Fill err (if not NULL) and return -1. errnum may be 0. */
int pd_error_set(struct pd_error *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Like pd_error_set with the code derived from errnum (ENOENT -> NOT_FOUND, ...);
 * the message gets ": strerror(errnum)" appended. */
int pd_error_errno(struct pd_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message with context ("create container x: " + old message); returns -1. */
int pd_error_wrap(struct pd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void pd_error_clear(struct pd_error *err);

/* gRPC code that best describes an errno value. */
int pd_code_from_errno(int errnum);

/* "INVALID_ARGUMENT" etc.; "CODE(n)" style text for unknown values goes to buf. */
const char *pd_code_name(int code);

#endif
