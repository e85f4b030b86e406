/* Calls parked until their block device appears: one uevent socket and one timerfd in the
 * loop, a list of waiters. A matching uevent runs the waiter's handler again from the
 * start; the handler then finds the device in sysfs (or parks once more, for the next one it
 * needs, keeping its first deadline). */
#include "devwait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/device/uevent.h"
#include "agent/log.h"

struct waiter {
	struct pd_call *call;
	pd_rpc_fn fn;
	const ProtobufCMessageDescriptor *desc;
	uint8_t *packed; /* the request, as it came */
	size_t len;
	struct pd_blk_want want;
	unsigned timeout_s;
	int64_t deadline_ns;
	struct pd_list node;
};

static struct {
	struct pd_loop *loop;
	struct pd_watch uev, timer;
	struct pd_list waiters;
	unsigned n;
	struct waiter *retrying; /* its call is running again: a park keeps this waiter */
} dw = {.uev.fd = -1, .timer.fd = -1};

static void waiter_free(struct waiter *w)
{
	free(w->packed);
	free(w);
}

/* Off whichever list holds it (the waiters, or a list being run). */
static void unlink_waiter(struct waiter *w)
{
	pd_list_del(&w->node);
	dw.n--;
}

static void arm_timer(void)
{
	int64_t next = 0;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &dw.waiters)
	{
		struct waiter *w = pd_container_of(pos, struct waiter, node);
		if (!next || w->deadline_ns < next)
			next = w->deadline_ns;
	}
	struct itimerspec its = {0};
	its.it_value.tv_sec = next / 1000000000LL;
	its.it_value.tv_nsec = next % 1000000000LL;
	timerfd_settime(dw.timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void waiter_cancel(struct pd_call *call)
{
	struct waiter *w = call->owner_data;
	unlink_waiter(w);
	waiter_free(w);
}

/* Run the call's handler again; it answers, fails or parks (here) once more. */
static void retry(struct waiter *w)
{
	struct pd_call *call = w->call;
	struct pd_error err;
	int rc;
	pd_error_clear(&err);
	call->on_cancel = NULL;
	call->owner_data = NULL;
	ProtobufCMessage *msg = protobuf_c_message_unpack(w->desc, NULL, w->len, w->packed);
	if (!msg) {
		rc = pd_error_errno(&err, ENOMEM, "device wait: the kept request");
	} else {
		dw.retrying = w;
		rc = w->fn(call, msg, &err);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	bool kept = rc == PD_RPC_PARKED && !dw.retrying;
	dw.retrying = NULL;
	/* The call is parked: an answer frees it. 0 means the handler answered (do not touch
	 * the call again); -1 is ours to answer. */
	if (rc < 0)
		pd_call_fail(call, &err);
	if (!kept)
		waiter_free(w);
}

/* Fail or retry the waiters moved to `list`, one at a time from its head: answering a call
 * can end its connection, whose other parked calls (maybe on this list) are then cancelled
 * and unlinked, so nothing is held across an answer but the list head. */
static void run_list(struct pd_list *list, bool expired)
{
	while (!pd_list_empty(list)) {
		struct waiter *w = pd_container_of(list->next, struct waiter, node);
		unlink_waiter(w);
		if (!expired) {
			retry(w);
			continue;
		}
		char what[80];
		struct pd_error err;
		pd_blk_want_text(&w->want, what, sizeof(what));
		pd_error_set(&err, PD_DEADLINE_EXCEEDED, ETIMEDOUT,
			     "%s did not appear within %u s (agent.hotplug_timeout)", what,
			     w->timeout_s);
		w->call->on_cancel = NULL;
		pd_call_fail(w->call, &err);
		waiter_free(w);
	}
}

static void on_uevent(struct pd_loop *loop, struct pd_watch *watch, uint32_t events)
{
	struct pd_uevent ev;
	struct pd_list ready;
	pd_list_init(&ready);
	int rc;
	while ((rc = pd_uevent_read(watch->fd, &ev)) > 0) {
		struct pd_list *pos, *tmp;
		pd_list_for_each_safe(pos, tmp, &dw.waiters)
		{
			struct waiter *w = pd_container_of(pos, struct waiter, node);
			/* Records were lost (2): everyone looks again. */
			if (rc == 2 || pd_uevent_matches(&ev, &w->want)) {
				pd_list_del(&w->node);
				pd_list_add_tail(&ready, &w->node);
			}
		}
		if (rc == 1)
			pd_debug("uevent", "action=%s devpath=%s subsystem=%s devname=%s",
				 ev.action, ev.devpath, ev.subsystem, ev.devname);
	}
	if (rc < 0)
		pd_warn("uevent socket read failed", "errno=%d", errno);
	run_list(&ready, false);
	arm_timer();
}

static void on_timer(struct pd_loop *loop, struct pd_watch *watch, uint32_t events)
{
	uint64_t ticks;
	if (read(watch->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pd_warn("device wait timer read failed", "errno=%d", errno);
	int64_t now = pd_now_ns();
	struct pd_list expired;
	pd_list_init(&expired);
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &dw.waiters)
	{
		struct waiter *w = pd_container_of(pos, struct waiter, node);
		if (w->deadline_ns <= now) {
			pd_list_del(&w->node);
			pd_list_add_tail(&expired, &w->node);
		}
	}
	run_list(&expired, true);
	arm_timer();
}

int pd_devwait_listen(struct pd_loop *loop, struct pd_error *err)
{
	if (dw.loop)
		return 0;
	pd_list_init(&dw.waiters);
	dw.uev = (struct pd_watch){.fd = pd_uevent_open(err), .fn = on_uevent};
	if (dw.uev.fd < 0)
		return -1;
	dw.timer = (struct pd_watch){
	    .fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), .fn = on_timer};
	if (dw.timer.fd < 0 || pd_loop_add(loop, &dw.uev, EPOLLIN, err) < 0 ||
	    pd_loop_add(loop, &dw.timer, EPOLLIN, err) < 0) {
		if (dw.timer.fd < 0)
			pd_error_errno(err, errno, "device wait timer");
		pd_loop_del(loop, &dw.uev);
		close(dw.uev.fd);
		if (dw.timer.fd >= 0)
			close(dw.timer.fd);
		dw.uev.fd = dw.timer.fd = -1;
		return -1;
	}
	dw.loop = loop;
	return 0;
}

static struct waiter *new_waiter(const struct pd_devwait_req *r, struct pd_error *err)
{
	if (dw.n >= PD_DEVWAIT_MAX) {
		pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
			     "too many calls waiting for devices (%u)", dw.n);
		return NULL;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	size_t len = protobuf_c_message_get_packed_size(r->msg);
	uint8_t *buf = malloc(len ? len : 1);
	if (!w || !buf) {
		free(w);
		free(buf);
		pd_error_errno(err, ENOMEM, "device wait");
		return NULL;
	}
	protobuf_c_message_pack(r->msg, buf);
	*w = (struct waiter){.call = r->call,
			     .fn = r->fn,
			     .desc = r->msg->descriptor,
			     .packed = buf,
			     .len = len,
			     .timeout_s = r->timeout_s,
			     .deadline_ns = pd_now_ns() + (int64_t)r->timeout_s * 1000000000LL};
	return w;
}

static int park(const struct pd_devwait_req *r, const struct pd_blk_want *want,
		struct pd_error *err)
{
	struct waiter *w = dw.retrying && dw.retrying->call == r->call ? dw.retrying : NULL;
	if (w)
		dw.retrying = NULL; /* the same wait goes on, with its first deadline */
	else if (!(w = new_waiter(r, err)))
		return -1;
	w->want = *want;
	r->call->on_cancel = waiter_cancel;
	r->call->owner_data = w;
	pd_list_add_tail(&dw.waiters, &w->node);
	dw.n++;
	arm_timer();
	char what[80];
	pd_blk_want_text(want, what, sizeof(what));
	pd_info("waiting for a device", "rpc=%s device=%s", r->call->method->name, what);
	return PD_RPC_PARKED;
}

int pd_devwait_find(const struct pd_devwait_req *r, const char *sysfs,
		    const struct pd_blk_want *want, struct pd_blk_found *found,
		    struct pd_error *err)
{
	if (pd_devwait_listen(r->loop, err) < 0)
		return -1;
	if (pd_blk_find(sysfs, want, found, err) == 0)
		return 0;
	if (err->code != PD_NOT_FOUND)
		return -1;
	pd_error_clear(err);
	return park(r, want, err);
}
