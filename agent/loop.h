/* The one event loop: epoll over listeners, connections, the signalfd, the timer and
 * process output. Everything the agent waits for is an fd in this set; nothing sleeps. */
#ifndef PD_LOOP_H
#define PD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct pd_loop;
struct pd_watch;
struct epoll_event;

typedef void (*pd_watch_fn)(struct pd_loop *loop, struct pd_watch *w, uint32_t events);

/* Embedded in whatever owns the fd; the loop never owns or closes the fd. */
struct pd_watch {
	int fd;
	pd_watch_fn fn;
};

/* Called once per loop iteration after events are handled (deferred work). */
typedef void (*pd_idle_fn)(struct pd_loop *loop, void *data);

struct pd_loop {
	int epfd;
	bool stop;
	pd_idle_fn idle;
	void *idle_data;
	/* The batch being dispatched: events [batch_next, batch_n) are still to come. */
	struct epoll_event *batch;
	int batch_n;
	int batch_next;
};

int pd_loop_init(struct pd_loop *loop, struct pd_error *err);
void pd_loop_close(struct pd_loop *loop);
int pd_loop_add(struct pd_loop *loop, struct pd_watch *w, uint32_t events, struct pd_error *err);
int pd_loop_mod(struct pd_loop *loop, struct pd_watch *w, uint32_t events, struct pd_error *err);
/* Remove w from the set and drop its events still pending in the current batch: once this
 * returns, w->fn is never called for w again (unless it is added anew), so the owner may
 * free w at once, even from inside another watch's handler of the same batch. */
void pd_loop_del(struct pd_loop *loop, struct pd_watch *w);
/* Run until pd_loop_stop(); returns 0, or -1 if epoll itself fails. */
int pd_loop_run(struct pd_loop *loop, struct pd_error *err);
void pd_loop_stop(struct pd_loop *loop);

#endif
