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
};

struct pd_sync_msg {
	uint32_t kind;
	int32_t code;
	int32_t errnum;
	char msg[PD_ERROR_MSG_MAX];
};

int pd_sync_send(int fd, const struct pd_sync_msg *msg, struct pd_error *err);
/* Child: wait up to timeout_ms (-1 forever); the child is a process of its own and may
 * wait. EOF gives 0 with kind PD_SYNC_EOF and err cleared. The agent never waits: it reads
 * with pd_sync_try_recv when the loop says the socket is readable. */
int pd_sync_recv(int fd, int timeout_ms, struct pd_sync_msg *msg, struct pd_error *err);
/* The set-up step a child is in, for the message of a wait that times out. The child writes
 * it into a page it shares with the agent (mapped before the clone) rather than sending it:
 * no system call per step, and the agent reads it only when a wait times out. A torn read
 * there only blurs a message. pd_sync_step_page is NULL in the agent: a step is nothing. */
#define PD_SYNC_STEP_MAX 96
extern char *pd_sync_step_page;
void pd_sync_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Agent: a fresh shared page holding `first` (NULL if it cannot be mapped), and its end. */
char *pd_sync_steps_map(const char *first);
void pd_sync_steps_unmap(char *page);
/* Agent, from the loop: one message if there is one, without waiting: 1 (msg; kind
 * PD_SYNC_EOF once the child's end is closed), 0 when none has come yet, -1 (err). */
int pd_sync_try_recv(int fd, struct pd_sync_msg *msg, struct pd_error *err);
/* Agent: the DEADLINE_EXCEEDED of a wait that ran out, naming the step in `steps` (may be
 * NULL): "container set-up did not finish within 2983 ms, stuck at: createContainer hooks"
 * (what = "set-up"). Returns -1. */
int pd_sync_stuck(struct pd_error *err, const char *what, long long ms, const char *steps);
int pd_sync_to_error(const struct pd_sync_msg *msg, struct pd_error *err);
void pd_sync_from_error(struct pd_sync_msg *msg, const struct pd_error *err);

#endif
