#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int pd_loop_init(struct pd_loop *loop, struct pd_error *err)
{
	loop->stop = false;
	loop->idle = NULL;
	loop->idle_data = NULL;
	loop->batch = NULL;
	loop->batch_n = loop->batch_next = 0;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return pd_error_errno(err, errno, "epoll_create1");
	return 0;
}

void pd_loop_close(struct pd_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

static int ctl(struct pd_loop *loop, int op, struct pd_watch *w, uint32_t events,
	       struct pd_error *err)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(loop->epfd, op, w->fd, &ev) < 0)
		return pd_error_errno(err, errno, "epoll_ctl fd %d", w->fd);
	return 0;
}

int pd_loop_add(struct pd_loop *loop, struct pd_watch *w, uint32_t events, struct pd_error *err)
{
	return ctl(loop, EPOLL_CTL_ADD, w, events, err);
}

int pd_loop_mod(struct pd_loop *loop, struct pd_watch *w, uint32_t events, struct pd_error *err)
{
	return ctl(loop, EPOLL_CTL_MOD, w, events, err);
}

void pd_loop_del(struct pd_loop *loop, struct pd_watch *w)
{
	/* Failure means the fd is not in the set; nothing to undo. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	/* The kernel forgets w, but this batch may still hold an event for it: a handler
	 * earlier in the batch deleted (and maybe freed) it. Forget it here too. */
	for (int i = loop->batch_next; i < loop->batch_n; i++)
		if (loop->batch[i].data.ptr == w)
			loop->batch[i].data.ptr = NULL;
}

void pd_loop_stop(struct pd_loop *loop)
{
	loop->stop = true;
}

int pd_loop_run(struct pd_loop *loop, struct pd_error *err)
{
	struct epoll_event events[64];
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, events, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pd_error_errno(err, errno, "epoll_wait");
		}
		loop->batch = events;
		loop->batch_n = n;
		for (int i = 0; i < n; i++) {
			struct pd_watch *w = events[i].data.ptr;
			loop->batch_next = i + 1;
			if (w) /* NULL: deleted by an earlier handler of this batch */
				w->fn(loop, w, events[i].events);
		}
		loop->batch_n = loop->batch_next = 0;
		if (loop->idle)
			loop->idle(loop, loop->idle_data);
	}
	return 0;
}
