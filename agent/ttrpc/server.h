/* The ttRPC server: connections, frames → calls → handlers → responses.
 *
 * One thread. A handler either answers at once (pd_call_reply / pd_call_fail and return
 * 0, or return -1 with err and the server answers) or keeps the call (return
 * PD_RPC_PARKED) and answers later, when its event comes: a process exit, output, an OOM.
 * A parked call belongs to its connection: if the connection goes (or a virtio-serial host
 * detaches) or its timeout_nano passes, the server calls the call's on_cancel so its owner
 * unlinks it, then frees it. */
#ifndef PD_TTRPC_SERVER_H
#define PD_TTRPC_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"
#include "agent/list.h"
#include "agent/loop.h"
#include "agent/ttrpc/frame.h"

#define PD_RPC_PARKED 1

struct pd_call;
struct pd_server;

typedef int (*pd_rpc_fn)(struct pd_call *call, const ProtobufCMessage *req, struct pd_error *err);

/* A service the server answers, with one handler per method of its descriptor, in the
 * descriptor's order (NULL = not built yet: UNIMPLEMENTED naming the method). */
struct pd_service {
	const ProtobufCServiceDescriptor *desc;
	const pd_rpc_fn *handlers;
	void *ctx; /* handed to every handler as call->ctx */
};

struct pd_call {
	struct pd_conn *conn;
	uint32_t stream_id;
	const ProtobufCMethodDescriptor *method;
	const char *service;
	void *ctx;
	int64_t deadline_ns; /* CLOCK_MONOTONIC, 0 = none */
	bool parked;
	bool done;
	struct pd_list conn_node; /* in the connection's list of parked calls */
	/* For the owner of a parked call: */
	void (*on_cancel)(struct pd_call *call);
	struct pd_list owner_node;
	void *owner_data;
};

/* CLOCK_MONOTONIC in ns: the clock of call deadlines. */
int64_t pd_now_ns(void);

/* Answer the call with reply (NULL = empty message); frees a parked call. */
void pd_call_reply(struct pd_call *call, const ProtobufCMessage *reply);
/* Answer the call with an error status; frees a parked call. */
void pd_call_fail(struct pd_call *call, const struct pd_error *err);

/* What a host can make the server hold (docs/security.md, "Bounded memory and
 * connections", has the table and the reasons for each number). */
struct pd_server_limits {
	unsigned max_conns;	     /* connections at once; a new one past it closes the
					quietest one without parked calls, or is refused */
	unsigned max_calls_per_conn; /* parked calls per connection */
	unsigned max_calls;	     /* parked calls over all connections */
	size_t max_outq;	     /* unread reply bytes past which a connection is not read */
	size_t max_outq_data;	     /* ... past which a reply carrying data is refused */
	size_t max_out_total;	     /* unread reply bytes over all connections, same rule */
	size_t max_in_large;	     /* bytes of large frames (> PD_SERVER_SMALL_FRAME) being
					received at once over all connections */
	int64_t frame_timeout_ns;    /* a connection mid-frame with no progress this long is
					closed; not a serial port: it is the only stream,
					and dropping half a frame from a host that resumes
					would desynchronize it (a detach drops it) */
};

/* Frames up to this size are always taken (a connection holds at most one partial frame);
 * larger ones draw on max_in_large, reserved for their whole length when their header is
 * read, and are drained and answered RESOURCE_EXHAUSTED when it cannot cover them. */
#define PD_SERVER_SMALL_FRAME (64u << 10)

/* The server's limits, to adjust after pd_server_new (host tests shorten the timeout). */
struct pd_server_limits *pd_server_limits(struct pd_server *srv);

/* The most payload bytes a reply to call can carry now without passing its connection's
 * or the server's bound of unread reply bytes (a reply carrying more is refused). */
size_t pd_call_reply_room(const struct pd_call *call);
/* RESOURCE_EXHAUSTED naming the bound that leaves no room for a payload of len bytes. */
int pd_call_no_room(const struct pd_call *call, size_t len, struct pd_error *err);

struct pd_server *pd_server_new(struct pd_loop *loop, const struct pd_service *services,
				unsigned n_services, struct pd_error *err);
void pd_server_free(struct pd_server *srv);

/* Serve on a listening socket (unix or vsock); the server owns fd from now on. */
int pd_server_add_listener(struct pd_server *srv, int fd, struct pd_error *err);
/* Serve on a virtio-serial port fd: one byte stream, no accept; the server owns fd. */
int pd_server_add_serial(struct pd_server *srv, int fd, struct pd_error *err);

/* Stop once every queued reply is written (or after a short grace time): the caller's
 * on_stop runs from the loop. Used by DestroySandbox so its own reply reaches the host. */
void pd_server_stop_after_flush(struct pd_server *srv, void (*on_stop)(void *), void *data);

/* Counters for logs and metrics. */
struct pd_server_stats {
	uint64_t calls;
	uint64_t errors;
	unsigned conns;
	unsigned parked;
};
void pd_server_get_stats(const struct pd_server *srv, struct pd_server_stats *st);

/* Calls answered, by method and status code (google.rpc codes 0..16): every call that reached
 * its handler or the policy gate counts once, when it is answered (replied, failed, timed
 * out or cancelled). Calls refused otherwise (unknown method, not implemented, payload
 * that does not decode, too many calls waiting) are only in pd_server_stats.errors. */
#define PD_CALL_CODES 17
struct pd_call_count {
	const char *service;
	const char *method;
	uint64_t by_code[PD_CALL_CODES];
};
/* The table (*n rows, in the order methods were first answered); valid while srv lives. */
const struct pd_call_count *pd_server_call_counts(const struct pd_server *srv, unsigned *n);

#endif
