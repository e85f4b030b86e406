/* One ttRPC connection: read bytes into the frame reader, write queued frames out.
 * A socket connection is closed when its peer goes; a virtio-serial port is one byte
 * stream that outlives host sessions: when the host detaches (read 0 / HUP) only a partial
 * frame (and input read but not fed) is dropped — serial_eof says why queued replies and
 * parked calls stay (clients drop stream ids they did not open).
 *
 * What a peer can make a connection hold (the limits are in server.h): one partial frame
 * (large ones from a budget shared by all connections), the bytes of one read() while it is
 * paused, and its unread replies. Requests are dispatched one frame at a time while the
 * unread replies stay under max_outq, so requests cannot outrun a peer that does not read;
 * replies to calls that were parked before are bounded by max_outq_data. */
#include "server_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/log.h"

#define OUT_KEEP       (64u << 10) /* an output buffer larger than this is freed once empty */
#define REPLY_OVERHEAD 64	   /* frame header and Response envelope around a payload */

static size_t queued(const struct pd_conn *c)
{
	return c->out_len - c->out_off;
}

/* n queued bytes were written (or dropped). */
static void out_consumed(struct pd_conn *c, size_t n)
{
	c->out_off += n;
	c->srv->out_bytes -= n;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

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
	c->last_io_ns = pd_now_ns();
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

/* Before a frame's header can complete: a frame larger than PD_SERVER_SMALL_FRAME is only
 * taken if the shared budget for large frames holds all of it (the reader drains a frame
 * over max_data and reports it OVERSIZED). */
static void in_admit(struct pd_conn *c)
{
	const struct pd_server *srv = c->srv;
	if (c->reader.hdr_have == PD_TTRPC_HEADER_LEN)
		return; /* mid-body: admitted (or draining) already */
	size_t room = srv->in_large < srv->limits.max_in_large
			      ? srv->limits.max_in_large - srv->in_large
			      : 0;
	if (room < PD_SERVER_SMALL_FRAME)
		room = PD_SERVER_SMALL_FRAME;
	c->reader.max_data = room < PD_TTRPC_MAX_DATA ? (uint32_t)room : PD_TTRPC_MAX_DATA;
}

/* After the reader moved: reserve a large frame's announced length while it is being
 * received, release it once the frame is out (or dropped). */
static void in_settle(struct pd_conn *c)
{
	const struct pd_frame_reader *r = &c->reader;
	size_t want = r->hdr_have == PD_TTRPC_HEADER_LEN && !r->draining &&
				  r->h.length > PD_SERVER_SMALL_FRAME
			      ? r->h.length
			      : 0;
	c->srv->in_large = c->srv->in_large - c->in_large + want;
	c->in_large = want;
}

static void in_drop(struct pd_conn *c)
{
	pd_frame_reader_reset(&c->reader);
	in_settle(c);
	free(c->stash);
	c->stash = NULL;
	c->stash_len = 0;
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
	if (pd_frame_reader_busy(&c->reader) || c->stash) {
		pd_info("serial host left mid-frame", "queued=%zu", queued(c));
		in_drop(c);
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
	in_drop(c);
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
	in_drop(c);
	out_consumed(c, queued(c));
	free(c->out);
	if (c->watch.fd >= 0) {
		pd_conn_cancel_calls(c);
		close(c->watch.fd);
	}
	free(c);
}

static int out_reserve(struct pd_conn *c, size_t more)
{
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
	c->srv->out_bytes += PD_TTRPC_HEADER_LEN + len;
	/* Written by the loop's idle step, after every event of this iteration: the replies to
	 * all the requests one read() brought go out in one write(). */
	c->dirty = true;
	c->srv->any_dirty = true;
}

size_t pd_call_reply_room(const struct pd_call *call)
{
	const struct pd_conn *c = call->conn;
	const struct pd_server_limits *l = &c->srv->limits;
	size_t q = queued(c), all = c->srv->out_bytes;
	size_t room = q < l->max_outq_data ? l->max_outq_data - q : 0;
	if (all > l->max_out_total)
		room = 0;
	else if (l->max_out_total - all < room)
		room = l->max_out_total - all;
	room = room > REPLY_OVERHEAD ? room - REPLY_OVERHEAD : 0;
	return room < PD_TTRPC_MAX_DATA - REPLY_OVERHEAD ? room : PD_TTRPC_MAX_DATA - REPLY_OVERHEAD;
}

int pd_call_no_room(const struct pd_call *call, size_t len, struct pd_error *err)
{
	const struct pd_conn *c = call->conn;
	const struct pd_server_limits *l = &c->srv->limits;
	if (queued(c) + len + REPLY_OVERHEAD > l->max_outq_data)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
				    "%zu bytes of replies wait for this connection to read them: a "
				    "reply of %zu more would pass the bound of %zu per connection",
				    queued(c), len, l->max_outq_data);
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
			    "%zu bytes of replies wait for their connections to read them: a reply "
			    "of %zu more would pass the agent's bound of %zu",
			    c->srv->out_bytes, len, l->max_out_total);
}

static void update_pause(struct pd_conn *c)
{
	bool over = queued(c) > c->srv->limits.max_outq;
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
	out_consumed(c, queued(c));
	c->want_out = false;
	c->srv->any_broken = true;
}

void pd_conn_flush(struct pd_conn *c)
{
	if (c->closed || c->broken) {
		if (c->broken)
			out_consumed(c, queued(c)); /* replies to a gone peer go nowhere */
		return;
	}
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->watch.fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n > 0) {
			out_consumed(c, (size_t)n);
			c->last_io_ns = pd_now_ns();
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
	if (!want && c->out_cap > OUT_KEEP) { /* a burst is over: give its memory back */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (want != c->want_out) {
		c->want_out = want;
		conn_rearm(c);
	}
	update_pause(c);
}

/* Replies wait for the idle step, but not past max_outq: then write now, and pause
 * reading if the peer does not take them. */
static void out_check(struct pd_conn *c)
{
	if (queued(c) > c->srv->limits.max_outq)
		pd_conn_flush(c);
}

/* Keep what a paused connection has read but not fed (at most one read()'s worth). */
static void stash(struct pd_conn *c, const uint8_t *p, size_t n)
{
	uint8_t *s = malloc(n);
	if (!s) {
		pd_warn("out of memory keeping a paused connection's input", "fd=%d", c->watch.fd);
		pd_conn_close(c);
		return;
	}
	memcpy(s, p, n);
	c->stash = s;
	c->stash_len = n;
}

/* Feed bytes to the frame reader and dispatch each frame they complete, one at a time,
 * while the connection is not paused; bytes left when it pauses are stashed. */
static void conn_feed(struct pd_conn *c, const uint8_t *p, size_t n)
{
	size_t off = 0;
	while (off < n && !c->closed && !c->broken) {
		if (c->paused) {
			stash(c, p + off, n - off);
			return;
		}
		struct pd_frame f;
		size_t used;
		in_admit(c);
		int st = pd_frame_reader_feed(&c->reader, p + off, n - off, &used, &f);
		off += used;
		in_settle(c);
		if (st == PD_FRAME_READY) {
			pd_dispatch_frame(c, &f);
			free(f.data);
		} else if (st == PD_FRAME_OVERSIZED && f.h.length > PD_TTRPC_MAX_DATA) {
			pd_dispatch_oversized(c, &f.h);
		} else if (st == PD_FRAME_OVERSIZED) {
			char msg[200];
			snprintf(msg, sizeof(msg),
				 "a request of %u bytes does not fit: %zu bytes of large requests "
				 "are being received already (bound %zu)",
				 f.h.length, c->srv->in_large, c->srv->limits.max_in_large);
			pd_dispatch_refuse(c, &f.h, msg);
		} else if (st == PD_FRAME_NOMEM) {
			pd_warn("out of memory reading a frame", "fd=%d", c->watch.fd);
			pd_conn_close(c);
			return;
		}
		if (st != PD_FRAME_NEED_MORE)
			out_check(c);
	}
}

/* Feed what was stashed when the connection paused, then read until EAGAIN (a serial port
 * is edge-triggered) or a pause. A connection left mid-frame arms the half-frame timer. */
static void conn_read(struct pd_conn *c)
{
	uint8_t buf[65536];
	out_check(c);
	if (c->stash && !c->paused) {
		uint8_t *s = c->stash;
		c->stash = NULL;
		conn_feed(c, s, c->stash_len);
		free(s);
	}
	while (!c->closed && !c->paused && !c->broken && !c->stash) {
		ssize_t n = read(c->watch.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (pd_frame_reader_busy(&c->reader))
				pd_debug("peer left mid-frame", "fd=%d", c->watch.fd);
			pd_conn_close(c);
			return;
		}
		c->last_io_ns = pd_now_ns();
		conn_feed(c, buf, (size_t)n);
	}
	int64_t timeout = c->srv->limits.frame_timeout_ns;
	if (!c->closed && !c->serial && timeout > 0 && pd_frame_reader_busy(&c->reader))
		pd_server_rearm_timer(c->srv, c->last_io_ns + timeout);
}

int64_t pd_conn_expire(struct pd_conn *c, int64_t now)
{
	int64_t timeout = c->srv->limits.frame_timeout_ns;
	if (c->closed || c->serial || timeout <= 0 || !pd_frame_reader_busy(&c->reader))
		return 0;
	if (c->last_io_ns + timeout > now)
		return c->last_io_ns + timeout;
	if (!c->paused && !c->broken) {
		conn_read(c); /* its bytes may be waiting behind this timer in the epoll batch */
		if (c->closed || !pd_frame_reader_busy(&c->reader))
			return 0;
		if (c->last_io_ns + timeout > now)
			return c->last_io_ns + timeout;
	}
	pd_info("connection mid-frame with nothing more: closed", "fd=%d have=%zu quiet_ms=%lld",
		c->watch.fd, c->reader.body_have, (long long)((now - c->last_io_ns) / 1000000));
	pd_conn_close(c);
	return 0;
}

void pd_conn_on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_conn *c = pd_container_of(w, struct pd_conn, watch);
	if (c->closed || c->broken)
		return;
	if (!c->serial && c->paused && (events & (EPOLLHUP | EPOLLERR))) {
		pd_conn_close(c); /* not read, and the peer is gone: its replies go nowhere */
		return;
	}
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
