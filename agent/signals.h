/* Signals are blocked from the first instruction of main() and read from a signalfd in the
 * event loop (catatonit's way): no async handlers, no races with the loop. */
#ifndef PD_SIGNALS_H
#define PD_SIGNALS_H

#include <signal.h>

#include "error.h"
#include "list.h"
#include "loop.h"

/* Block every catchable signal for this process. Returns the old mask in *old. */
void pd_signals_block_all(sigset_t *old);

/* Restore default dispositions and an empty mask: every child does this before exec. */
void pd_signals_reset_for_child(void);

struct pd_signals {
	struct pd_watch watch;
	void (*on_child)(void *data);               /* SIGCHLD */
	void (*on_terminate)(void *data, int signo); /* SIGTERM, SIGPWR, (host: SIGINT) */
	void *data;
	int is_pid1;
};

int pd_signals_open(struct pd_signals *s, struct pd_loop *loop, struct pd_error *err);

#endif
