/* Messages between the agent and a container process being set up, over a SEQPACKET
 * socketpair (one message per send, never split). */
#ifndef PD_CONTAINER_SYNC_H
#define PD_CONTAINER_SYNC_H

#include <stdint.h>

#include "agent/error.h"

enum pd_sync_kind {
	PD_SYNC_EOF = 0,   /* the peer closed: for START, the exec happened */
	PD_SYNC_READY = 1, /* child → agent: set up, waiting for START */
	PD_SYNC_START = 2, /* agent → child: exec now */
	PD_SYNC_ERROR = 3, /* child → agent: setup or exec failed (code, errno, msg) */
	PD_SYNC_MAPPED = 4, /* agent → child: its user namespace's id maps are written */
	PD_SYNC_HOOKS = 5, /* child → agent: namespaces exist, run prestart/createRuntime */
	PD_SYNC_RESUME = 6, /* agent → child: hooks done, go on; code = the child's pid */
	PD_SYNC_STEP = 7,   /* child → agent: the set-up step it begins (msg), named in a timeout */
};

struct pd_sync_msg {
	uint32_t kind;
	int32_t code;
	int32_t errnum;
	char msg[PD_ERROR_MSG_MAX];
};

int pd_sync_send(int fd, const struct pd_sync_msg *msg, struct pd_error *err);
/* Wait up to timeout_ms (-1 forever). EOF gives 0 with kind PD_SYNC_EOF and err cleared. */
int pd_sync_recv(int fd, int timeout_ms, struct pd_sync_msg *msg, struct pd_error *err);
/* Child: say which set-up step begins, on pd_sync_step_fd (set once by the child; -1 in
 * the agent, where it does nothing). Best effort: a lost step only blurs a message. */
extern int pd_sync_step_fd;
void pd_sync_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Agent: pd_sync_recv that takes in the child's STEP messages (the last one is kept in
 * step, size PD_SYNC_STEP_MAX) and waits for the next other message within the same
 * timeout_ms in all; at the timeout, DEADLINE_EXCEEDED names the step the child was in. */
#define PD_SYNC_STEP_MAX 96
int pd_sync_recv_step(int fd, int timeout_ms, struct pd_sync_msg *msg, char *step,
		      struct pd_error *err);
int pd_sync_to_error(const struct pd_sync_msg *msg, struct pd_error *err);
void pd_sync_from_error(struct pd_sync_msg *msg, const struct pd_error *err);

#endif
