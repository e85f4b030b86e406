/* One ttRPC connection: read bytes into the frame reader, write queued frames out.
 * A socket connection is closed when its peer goes; a virtio-serial port is one byte
 * stream that outlives host sessions: when the host detaches (read 0 / HUP) the port's
 * state is reset — partial frame, queued replies, parked calls — so the next host starts
 * clean (bytes already handed to the port are delivered to it; clients drop stream ids they
 * did not open). */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/log.h"

static uint32_t conn_events(const struct pd_conn *c)
{
	uint32_t ev = c->serial ? EPOLLET : 0;
	if (!c->paused)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->want_out)
		ev |= EPOLLOUT;
	return ev;
}

static void conn_rearm(struct pd_conn *c)
{
	struct pd_error err;
	if (!c->closed && pd_loop_mod(c->srv->loop, &c->watch, conn_events(c), &err) < 0)
		pd_warn("epoll_ctl on connection failed", "fd=%d err=\"%s\"", c->watch.fd, err.msg);
}

struct pd_conn *pd_conn_new(struct pd_server *srv, int fd, bool serial, struct pd_error *err)
{
	struct pd_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		pd_error_errno(err, ENOMEM, "new connection");
		return NULL;
	}
	c->watch.fd = fd;
	c->watch.fn = pd_conn_on_event;
	c->srv = srv;
	c->serial = serial;
	pd_frame_reader_init(&c->reader, PD_TTRPC_MAX_DATA);
	pd_list_init(&c->parked);
	pd_list_init(&c->node);
	if (pd_loop_add(srv->loop, &c->watch, conn_events(c), err) < 0) {
		free(c);
		return NULL;
	}
	pd_list_add_tail(&srv->conns, &c->node);
	srv->n_conns++;
	return c;
}

void pd_conn_cancel_calls(struct pd_conn *c)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &c->parked)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, conn_node);
		pd_list_del(&call->conn_node);
		if (call->on_cancel)
			call->on_cancel(call);
		c->srv->stats.parked--;
		free(call);
	}
	c->n_parked = 0;
}

/* The virtio-serial port read EOF: no host is attached *at this moment*. The port tells
 * host attach and detach on a control queue that races with the data queue (measured: a
 * new host's request can be read, and its reply queued, before the old host's detach is
 * seen), so EOF cannot be taken as a session boundary for queued replies or parked calls:
 * those stay (a reply that reaches a later host carries a stream id that host did not open,
 * and clients drop it). Only a partial frame is dropped — hosts write whole frames, so a
 * frame cut by EOF is one whose writer went away, and it must not prefix the next host's
 * bytes. */
static void serial_eof(struct pd_conn *c)
{
	if (pd_frame_reader_busy(&c->reader)) {
		pd_info("serial host left mid-frame", "queued=%zu", c->out_len - c->out_off);
		pd_frame_reader_reset(&c->reader);
	}
	c->paused = false;
	conn_rearm(c);
}

void pd_conn_close(struct pd_conn *c)
{
	if (c->closed)
		return;
	if (c->serial) {
		serial_eof(c);
		return;
	}
	c->closed = true;
	pd_conn_cancel_calls(c);
	pd_loop_del(c->srv->loop, &c->watch);
	close(c->watch.fd);
	c->watch.fd = -1;
	pd_list_del(&c->node);
	pd_list_add_tail(&c->srv->dead, &c->node); /* freed after this loop iteration */
	c->srv->n_conns--;
}

void pd_conn_free(struct pd_conn *c)
{
	pd_list_del(&c->node);
	pd_frame_reader_reset(&c->reader);
	free(c->out);
	if (c->watch.fd >= 0) {
		pd_conn_cancel_calls(c);
		close(c->watch.fd);
	}
	free(c);
}

static int out_reserve(struct pd_conn *c, size_t more)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + more <= c->out_cap)
		return 0;
	if (c->out_off > 0) { /* compact before growing */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + more <= c->out_cap)
			return 0;
	}
	size_t cap = c->out_cap ? c->out_cap : 4096;
	while (cap < c->out_len + more)
		cap *= 2;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -1;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

uint8_t *pd_conn_reserve_frame(struct pd_conn *c, size_t len)
{
	if (out_reserve(c, PD_TTRPC_HEADER_LEN + len) < 0)
		return NULL;
	return c->out + c->out_len + PD_TTRPC_HEADER_LEN;
}

void pd_conn_commit_frame(struct pd_conn *c, uint32_t stream_id, uint8_t type, size_t len)
{
	struct pd_frame_header h = {.length = (uint32_t)len, .stream_id = stream_id, .type = type};
	pd_frame_header_encode(c->out + c->out_len, &h);
	c->out_len += PD_TTRPC_HEADER_LEN + len;
	/* Written by the loop's idle step, after every event of this iteration: the replies to
	 * all the requests one read() brought go out in one write(). */
	c->dirty = true;
	c->srv->any_dirty = true;
}

static void update_pause(struct pd_conn *c)
{
	bool over = c->out_len - c->out_off > c->srv->limits.max_outq;
	if (over != c->paused) {
		c->paused = over;
		c->resume = !over;
		conn_rearm(c);
	}
}

/* A write failed (the peer is gone). We are usually inside a reply here — maybe one of
 * several answered in a loop — so the connection and its parked calls must not be freed
 * now: drop the output, and let the loop's idle step close it. */
static void conn_break(struct pd_conn *c)
{
	if (c->serial) {
		pd_conn_close(c); /* a port is never freed; its EOF handling keeps the calls */
		return;
	}
	c->broken = true;
	c->out_off = c->out_len = 0;
	c->want_out = false;
	c->srv->any_broken = true;
}

void pd_conn_flush(struct pd_conn *c)
{
	if (c->closed || c->broken) {
		if (c->broken)
			c->out_off = c->out_len = 0; /* replies to a gone peer go nowhere */
		return;
	}
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->watch.fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			pd_debug("write to connection failed", "fd=%d errno=%d", c->watch.fd, errno);
			conn_break(c);
			return;
		}
		break;
	}
	bool want = c->out_off < c->out_len;
	if (!want)
		c->out_off = c->out_len = 0;
	if (want != c->want_out) {
		c->want_out = want;
		conn_rearm(c);
	}
	update_pause(c);
}

/* Read until EAGAIN (a serial port is edge-triggered) and dispatch every complete frame. */
static void conn_read(struct pd_conn *c)
{
	uint8_t buf[65536];
	while (!c->closed && !c->paused && !c->broken) {
		ssize_t n = read(c->watch.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (pd_frame_reader_busy(&c->reader))
				pd_debug("peer left mid-frame", "fd=%d", c->watch.fd);
			pd_conn_close(c);
			return;
		}
		/* Replies wait for the idle step, but not past the limit: then write (and pause
		 * reading) now, or a host that never reads would be read forever. */
		if (c->out_len - c->out_off > c->srv->limits.max_outq)
			pd_conn_flush(c);
		size_t off = 0;
		while (off < (size_t)n && !c->closed && !c->broken) {
			struct pd_frame f;
			size_t used;
			int st = pd_frame_reader_feed(&c->reader, buf + off, n - off, &used, &f);
			off += used;
			if (st == PD_FRAME_READY) {
				pd_dispatch_frame(c, &f);
				free(f.data);
			} else if (st == PD_FRAME_OVERSIZED) {
				pd_dispatch_oversized(c, &f.h);
			} else if (st == PD_FRAME_NOMEM) {
				pd_warn("out of memory reading a frame", "fd=%d", c->watch.fd);
				pd_conn_close(c);
				return;
			}
		}
	}
}

void pd_conn_on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_conn *c = pd_container_of(w, struct pd_conn, watch);
	if (c->closed || c->broken)
		return;
	if (events & EPOLLOUT)
		pd_conn_flush(c);
	if (!c->closed && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		conn_read(c);
	/* A serial port with no host reports HUP and reads nothing: serial_eof's case,
	 * reached through read() == 0. A socket with HUP reads 0 and is closed. */
	if (!c->closed && c->serial && (events & EPOLLHUP) && !(events & EPOLLIN))
		pd_conn_close(c);
}

void pd_conn_resume(struct pd_conn *c)
{
	c->resume = false;
	if (!c->closed && !c->paused)
		conn_read(c);
}
