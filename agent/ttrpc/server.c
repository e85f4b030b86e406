/* The server object: listeners, the deadline timer, deferred frees and the stop step. */
#include "server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/ttrpc/peer.h"

#define STOP_GRACE_NS (2LL * 1000 * 1000 * 1000)
#define FRAME_TIMEOUT_NS (30LL * 1000 * 1000 * 1000)

int64_t pd_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void pd_server_rearm_timer(struct pd_server *srv, int64_t deadline_ns)
{
	if (srv->timer_armed_ns && srv->timer_armed_ns <= deadline_ns && deadline_ns)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (deadline_ns) {
		its.it_value.tv_sec = deadline_ns / 1000000000LL;
		its.it_value.tv_nsec = deadline_ns % 1000000000LL;
	}
	if (timerfd_settime(srv->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		srv->timer_armed_ns = deadline_ns;
}

static void on_timer(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_server *srv = pd_container_of(w, struct pd_server, timer);
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	srv->timer_armed_ns = 0;
	int64_t now = pd_now_ns();
	int64_t next = pd_dispatch_expire(srv, now);
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &srv->conns)
	{
		int64_t due = pd_conn_expire(pd_container_of(pos, struct pd_conn, node), now);
		if (due && (!next || due < next))
			next = due;
	}
	if (next)
		pd_server_rearm_timer(srv, next);
}

/* At the connection limit: close the connection that has gone longest without a byte in
 * or out, among those with no parked call (a connection with one is a host waiting for
 * something; an idle one costs its host a reconnect at most). False if every connection
 * has a parked call. */
static bool evict_quietest(struct pd_server *srv)
{
	struct pd_conn *victim = NULL;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &srv->conns)
	{
		struct pd_conn *c = pd_container_of(pos, struct pd_conn, node);
		if (!c->serial && c->n_parked == 0 && (!victim || c->last_io_ns < victim->last_io_ns))
			victim = c;
	}
	if (!victim)
		return false;
	pd_info("connection limit: the quietest idle connection closed", "limit=%u quiet_ms=%lld",
		srv->limits.max_conns, (long long)((pd_now_ns() - victim->last_io_ns) / 1000000));
	pd_conn_close(victim);
	return true;
}

/* Out of fds with a connection waiting: a level-triggered listener would wake us forever.
 * Give up the spare fd, accept the connection and close it at once (the client sees EOF
 * and may retry), then take the spare back. Returns false if there was no spare. */
static bool shed_one(struct pd_server *srv, int listen_fd)
{
	if (srv->spare_fd < 0)
		return false;
	close(srv->spare_fd);
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pd_warn("connection refused: out of file descriptors", "errno=%d", EMFILE);
	return fd >= 0;
}

static void on_accept(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_listener *l = pd_container_of(w, struct pd_listener, watch);
	struct pd_server *srv = l->srv;
	for (;;) {
		int fd = pd_peer_accept(w->fd, SOCK_NONBLOCK | SOCK_CLOEXEC); /* vsock: host only */
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && shed_one(srv, w->fd))
			continue;
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pd_warn("accept failed", "errno=%d", errno);
			if (errno == EINTR)
				continue;
			return;
		}
		if (srv->n_conns >= srv->limits.max_conns && !evict_quietest(srv)) {
			pd_warn("connection refused: limit reached, every connection has calls "
				"waiting", "limit=%u", srv->limits.max_conns);
			close(fd);
			continue;
		}
		struct pd_error err;
		if (!pd_conn_new(srv, fd, false, &err)) {
			pd_warn("connection dropped", "err=\"%s\"", err.msg);
			close(fd);
		}
	}
}

static bool all_flushed(struct pd_server *srv)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &srv->conns)
	{
		struct pd_conn *c = pd_container_of(pos, struct pd_conn, node);
		if (c->out_len > c->out_off)
			return false;
	}
	return true;
}

/* After every loop iteration: write the replies queued during it, close connections whose
 * writes failed, free closed ones (the events of this iteration may still have pointed at
 * them), resume unpaused readers, and stop when asked to. */
static void on_idle(struct pd_loop *loop, void *data)
{
	struct pd_server *srv = data;
	struct pd_list *pos, *tmp;
	if (srv->any_dirty) {
		srv->any_dirty = false;
		pd_list_for_each_safe(pos, tmp, &srv->conns)
		{
			struct pd_conn *c = pd_container_of(pos, struct pd_conn, node);
			if (c->dirty) {
				c->dirty = false;
				pd_conn_flush(c);
			}
		}
	}
	if (srv->any_broken) {
		srv->any_broken = false;
		pd_list_for_each_safe(pos, tmp, &srv->conns)
		{
			struct pd_conn *c = pd_container_of(pos, struct pd_conn, node);
			if (c->broken)
				pd_conn_close(c);
		}
	}
	pd_list_for_each_safe(pos, tmp, &srv->dead)
	pd_conn_free(pd_container_of(pos, struct pd_conn, node));
	pd_list_for_each_safe(pos, tmp, &srv->conns)
	{
		struct pd_conn *c = pd_container_of(pos, struct pd_conn, node);
		if (c->resume)
			pd_conn_resume(c);
	}
	if (srv->on_stop && (all_flushed(srv) || pd_now_ns() > srv->stop_by_ns)) {
		void (*fn)(void *) = srv->on_stop;
		srv->on_stop = NULL;
		fn(srv->on_stop_data);
	}
}

struct pd_server *pd_server_new(struct pd_loop *loop, const struct pd_service *services,
				unsigned n_services, struct pd_error *err)
{
	struct pd_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		pd_error_errno(err, ENOMEM, "new server");
		return NULL;
	}
	srv->loop = loop;
	srv->services = services;
	srv->n_services = n_services;
	srv->limits = (struct pd_server_limits){
		.max_conns = 128,
		.max_calls_per_conn = 1024,
		.max_calls = 4096,
		.max_outq = 1u << 20,
		.max_outq_data = (1u << 20) + PD_TTRPC_MAX_DATA,
		.max_out_total = 16u << 20,
		.max_in_large = 16u << 20,
		.frame_timeout_ns = FRAME_TIMEOUT_NS,
	};
	srv->listener.watch.fd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pd_list_init(&srv->conns);
	pd_list_init(&srv->dead);
	srv->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	srv->timer.fn = on_timer;
	if (srv->timer.fd < 0) {
		pd_error_errno(err, errno, "timerfd_create");
		free(srv);
		return NULL;
	}
	if (pd_loop_add(loop, &srv->timer, EPOLLIN, err) < 0) {
		close(srv->timer.fd);
		free(srv);
		return NULL;
	}
	loop->idle = on_idle;
	loop->idle_data = srv;
	return srv;
}

void pd_server_free(struct pd_server *srv)
{
	if (!srv)
		return;
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &srv->conns)
	pd_conn_free(pd_container_of(pos, struct pd_conn, node));
	pd_list_for_each_safe(pos, tmp, &srv->dead)
	pd_conn_free(pd_container_of(pos, struct pd_conn, node));
	if (srv->listener.watch.fd >= 0)
		close(srv->listener.watch.fd);
	close(srv->timer.fd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	free(srv);
}

int pd_server_add_listener(struct pd_server *srv, int fd, struct pd_error *err)
{
	srv->listener.watch.fd = fd;
	srv->listener.watch.fn = on_accept;
	srv->listener.srv = srv;
	return pd_loop_add(srv->loop, &srv->listener.watch, EPOLLIN, err);
}

int pd_server_add_serial(struct pd_server *srv, int fd, struct pd_error *err)
{
	return pd_conn_new(srv, fd, true, err) ? 0 : -1;
}

void pd_server_stop_after_flush(struct pd_server *srv, void (*on_stop)(void *), void *data)
{
	srv->on_stop = on_stop;
	srv->on_stop_data = data;
	srv->stop_by_ns = pd_now_ns() + STOP_GRACE_NS;
	pd_server_rearm_timer(srv, srv->stop_by_ns); /* wakes the loop if nothing else does */
}

struct pd_server_limits *pd_server_limits(struct pd_server *srv)
{
	return &srv->limits;
}

void pd_server_get_stats(const struct pd_server *srv, struct pd_server_stats *st)
{
	*st = srv->stats;
	st->conns = srv->n_conns;
}
