/* Private to the ttRPC server files: server.c (listeners, timer, stop), conn.c (bytes in
 * and out of one connection) and dispatch.c (frames → calls → handlers → responses). */
#ifndef PD_TTRPC_SERVER_INTERNAL_H
#define PD_TTRPC_SERVER_INTERNAL_H

#include "agent/ttrpc/server.h"

struct pd_conn {
	struct pd_watch watch;
	struct pd_server *srv;
	bool serial;  /* a virtio-serial port: never closed, reset when the host detaches */
	bool closed;  /* off the loop, waiting to be freed at the end of the iteration */
	bool paused;  /* not reading: too many reply bytes queued */
	bool broken;  /* a write failed: closed by the loop's idle step */
	bool dirty;   /* replies queued since the last flush: written by the idle step */
	bool want_out;
	bool resume;  /* unpaused: read again from the loop's idle step (serial is edge-triggered) */
	struct pd_frame_reader reader;
	size_t in_large;	/* bytes of srv->in_large this connection's partial frame holds */
	uint8_t *stash;		/* bytes read but not fed: the connection paused mid-read */
	size_t stash_len;
	int64_t last_io_ns;	/* the last byte read from or written to the peer */
	uint32_t last_stream_id;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	struct pd_list parked; /* struct pd_call.conn_node */
	unsigned n_parked;
	struct pd_list node;   /* in srv->conns or srv->dead */
};

/* Methods with their own row in the call counters (the protos have 44). */
#define PD_SERVER_COUNTED_METHODS 64

struct pd_listener {
	struct pd_watch watch;
	struct pd_server *srv;
};

struct pd_server {
	struct pd_loop *loop;
	const struct pd_service *services;
	unsigned n_services;
	struct pd_server_limits limits;
	struct pd_listener listener;
	int spare_fd; /* kept open to be given up when accept() hits EMFILE */
	struct pd_watch timer;  /* timerfd for the nearest parked-call deadline */
	int64_t timer_armed_ns;
	struct pd_list conns;
	struct pd_list dead;
	unsigned n_conns;
	size_t out_bytes; /* unread reply bytes over all connections */
	size_t in_large;  /* large frames being received, by their announced length */
	bool any_broken;
	bool any_dirty;
	struct pd_server_stats stats;
	struct pd_call_count call_counts[PD_SERVER_COUNTED_METHODS]; /* dispatch.c */
	unsigned n_call_counts;
	void (*on_stop)(void *);
	void *on_stop_data;
	int64_t stop_by_ns;
};

/* conn.c */
struct pd_conn *pd_conn_new(struct pd_server *srv, int fd, bool serial, struct pd_error *err);
void pd_conn_on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events);
/* Make room for a frame of len data bytes and return where its data goes (the header is
 * filled in); the frame is committed by pd_conn_commit_frame. NULL on ENOMEM. */
uint8_t *pd_conn_reserve_frame(struct pd_conn *c, size_t len);
void pd_conn_commit_frame(struct pd_conn *c, uint32_t stream_id, uint8_t type, size_t len);
void pd_conn_flush(struct pd_conn *c);
/* Read what is pending after the connection was unpaused. */
void pd_conn_resume(struct pd_conn *c);
void pd_conn_close(struct pd_conn *c);
void pd_conn_free(struct pd_conn *c);
/* Cancel every parked call (their owners unlink them) without answering. */
void pd_conn_cancel_calls(struct pd_conn *c);
/* The half-frame timeout: close c if it has been mid-frame with no progress for
 * limits.frame_timeout_ns; returns when to look again (0 = not mid-frame, or a serial
 * port: see server.h). */
int64_t pd_conn_expire(struct pd_conn *c, int64_t now);

/* dispatch.c */
void pd_dispatch_frame(struct pd_conn *c, const struct pd_frame *f);
void pd_dispatch_oversized(struct pd_conn *c, const struct pd_frame_header *h);
/* A frame drained unread for want of room: RESOURCE_EXHAUSTED with msg on its stream. */
void pd_dispatch_refuse(struct pd_conn *c, const struct pd_frame_header *h, const char *msg);
/* Answer DEADLINE_EXCEEDED to every parked call whose deadline has passed; returns the
 * nearest deadline still pending (0 = none). */
int64_t pd_dispatch_expire(struct pd_server *srv, int64_t now);

/* server.c */
void pd_server_rearm_timer(struct pd_server *srv, int64_t deadline_ns);

#endif
