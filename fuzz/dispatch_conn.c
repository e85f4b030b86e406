/* The connection and server the real dispatcher (agent/ttrpc/dispatch.c) answers on, in
 * place of conn.c and server.c (fuzz_frame covers the bytes; here the frames are whole).
 *
 * Every response the agent queues is decoded again and checked: it must be a
 * ttrpc.Response whose status code is a gRPC code, and a request stream must never be
 * answered twice. A violation aborts: libFuzzer reports it as a crash. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttrpc.pb-c.h"

#define MAX_STREAMS 4096 /* far above the requests an input of 64 KiB can hold */

static struct pd_server srv;
static struct pd_conn conn;
static uint8_t *out;
static size_t out_cap;
static uint32_t answered[MAX_STREAMS], expected[MAX_STREAMS];
static unsigned n_answered, n_expected;
static bool stop_requested;
static size_t unread, unread_max; /* reply bytes the host has not read yet, and their bound */
static bool verbose;		  /* FUZZ_VERBOSE=1: print every response (reproducing a crash) */

__attribute__((noreturn)) static void fail(const char *what, uint32_t stream_id)
{
	fprintf(stderr, "fuzz_dispatch: %s (stream %u)\n", what, stream_id);
	abort();
}

void fz_conn_init(const struct pd_service *services, unsigned n_services)
{
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	srv.services = services;
	srv.n_services = n_services;
	srv.timer.fd = -1;
	srv.listener.watch.fd = -1;
	srv.spare_fd = -1;
	pd_list_init(&srv.conns);
	pd_list_init(&srv.dead);
	conn.srv = &srv;
	conn.watch.fd = -1;
	pd_list_init(&conn.parked);
	pd_list_init(&conn.node);
	pd_list_add_tail(&srv.conns, &conn.node);
	srv.n_conns = 1;
}

struct pd_conn *fz_conn(void)
{
	return &conn;
}

void fz_conn_reset(bool serial, unsigned max_parked, size_t max_unread)
{
	conn.serial = serial;
	conn.last_stream_id = 0;
	srv.limits = (struct pd_server_limits){.max_conns = 1,
					       .max_calls_per_conn = max_parked,
					       .max_calls = max_parked,
					       .max_outq = max_unread,
					       .max_outq_data = max_unread,
					       .max_out_total = max_unread};
	unread = 0;
	unread_max = max_unread;
	n_answered = n_expected = 0;
	stop_requested = false;
}

static bool seen(const uint32_t *v, unsigned n, uint32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

void fz_conn_expect(uint32_t stream_id)
{
	if (n_expected < MAX_STREAMS)
		expected[n_expected++] = stream_id;
}

void fz_conn_host_reads(void)
{
	unread = 0;
}

bool fz_conn_stop_requested(void)
{
	return stop_requested;
}

void fz_conn_cancel_all(void)
{
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &conn.parked)
	{
		struct pd_call *call = pd_container_of(pos, struct pd_call, conn_node);
		pd_list_del(&call->conn_node);
		if (call->on_cancel)
			call->on_cancel(call);
		srv.stats.parked--;
		free(call);
	}
	conn.n_parked = 0;
}

/* ---- what dispatch.c calls in conn.c and server.c ----------------------------------------- */

uint8_t *pd_conn_reserve_frame(struct pd_conn *c, size_t len)
{
	if (len > out_cap) {
		uint8_t *n = realloc(out, len);
		if (!n)
			return NULL;
		out = n;
		out_cap = len;
	}
	return out;
}

void pd_conn_commit_frame(struct pd_conn *c, uint32_t stream_id, uint8_t type, size_t len)
{
	if (c != &conn || type != PD_TTRPC_RESPONSE)
		fail("a frame that is not a response on the connection", stream_id);
	unread += PD_TTRPC_HEADER_LEN + len;
	Ttrpc__Response *r = ttrpc__response__unpack(NULL, len, out);
	if (!r)
		fail("a response that does not decode", stream_id);
	int code = r->status ? r->status->code : 0;
	if (verbose)
		fprintf(stderr, "fuzz_dispatch: stream %u: code %d %s (%zu payload bytes)\n",
			stream_id, code, r->status && r->status->message ? r->status->message : "",
			r->payload.len);
	ttrpc__response__free_unpacked(r, NULL);
	if (code < 0 || code > 16)
		fail("a status code outside google.rpc.Code", stream_id);
	/* Requests the harness sent on a good stream are answered once; refusals of a bad stream
	 * id (even, reused) are answered on that id whatever came before. */
	if (!seen(expected, n_expected, stream_id))
		return;
	if (seen(answered, n_answered, stream_id))
		fail("a stream answered twice", stream_id);
	if (n_answered < MAX_STREAMS)
		answered[n_answered++] = stream_id;
}

/* The bound of unread reply bytes (conn.c keeps one per connection and one for the server;
 * here there is one connection): what a reply may still carry. */
#define REPLY_OVERHEAD 64
size_t pd_call_reply_room(const struct pd_call *call)
{
	size_t room = unread < unread_max ? unread_max - unread : 0;
	room = room > REPLY_OVERHEAD ? room - REPLY_OVERHEAD : 0;
	return room < PD_TTRPC_MAX_DATA - REPLY_OVERHEAD ? room
							 : PD_TTRPC_MAX_DATA - REPLY_OVERHEAD;
}

int pd_call_no_room(const struct pd_call *call, size_t len, struct pd_error *err)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
			    "%zu bytes of replies wait for the host: %zu more would pass %zu",
			    unread, len, unread_max);
}

struct pd_server_limits *pd_server_limits(struct pd_server *s)
{
	return &s->limits;
}

int64_t pd_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The deadline timer: the harness expires calls itself (pd_dispatch_expire). */
void pd_server_rearm_timer(struct pd_server *s, int64_t deadline_ns)
{
}

void pd_server_stop_after_flush(struct pd_server *s, void (*on_stop)(void *), void *data)
{
	stop_requested = true;
}

void pd_server_get_stats(const struct pd_server *s, struct pd_server_stats *st)
{
	*st = s->stats;
	st->conns = s->n_conns;
}
