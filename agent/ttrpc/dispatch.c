/* Frames → calls → handlers → responses. The one place where a struct pd_error becomes a
 * google.rpc.Status on the wire. */
#include "server_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "agent/policy.h"
#include "agent/ttrpc/wire_strings.h"
#include "google/rpc/status.pb-c.h"
#include "ttrpc.pb-c.h"

/* Encode a Response straight into the connection's output queue. */
static int queue_response(struct pd_conn *c, uint32_t stream_id, const Google__Rpc__Status *st,
			  const uint8_t *payload, size_t payload_len)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	resp.status = (Google__Rpc__Status *)st;
	if (payload_len) {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = payload_len;
	}
	size_t len = ttrpc__response__get_packed_size(&resp);
	uint8_t *dst = pd_conn_reserve_frame(c, len);
	if (!dst) {
		pd_warn("out of memory queueing a response", "stream=%u", stream_id);
		return -1;
	}
	ttrpc__response__pack(&resp, dst);
	pd_conn_commit_frame(c, stream_id, PD_TTRPC_RESPONSE, len);
	return 0;
}

/* Status.message is a protobuf string: it must be valid UTF-8 or the Go client cannot
 * decode the reply at all. Messages quote what they are about (a path, a name read from the
 * guest): bytes that are not UTF-8 become '?'. */
static void queue_error(struct pd_conn *c, uint32_t stream_id, int code, const char *msg)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	char fixed[PD_ERROR_MSG_MAX];
	size_t len = strlen(msg);
	st.code = code;
	st.message = (char *)msg;
	if (!pd_utf8_valid((const uint8_t *)msg, len, NULL)) {
		snprintf(fixed, sizeof(fixed), "%s", msg);
		pd_utf8_repair((uint8_t *)fixed, strlen(fixed)); /* a cut sequence too */
		st.message = fixed;
	}
	c->srv->stats.errors++;
	queue_response(c, stream_id, &st, NULL, 0);
}

/* The one place calls are counted (metrics): where each one is answered. Rows are found by
 * the names' pointers, which come from the service descriptors. */
static void count_call(struct pd_server *srv, const struct pd_call *call, int code)
{
	struct pd_call_count *row = NULL;
	if (!call->method)
		return;
	for (unsigned i = 0; i < srv->n_call_counts && !row; i++)
		if (srv->call_counts[i].method == call->method->name &&
		    srv->call_counts[i].service == call->service)
			row = &srv->call_counts[i];
	if (!row && srv->n_call_counts < PD_SERVER_COUNTED_METHODS) {
		row = &srv->call_counts[srv->n_call_counts++];
		row->service = call->service;
		row->method = call->method->name;
	}
	if (row)
		row->by_code[code >= 0 && code < PD_CALL_CODES ? code : PD_UNKNOWN]++;
}

const struct pd_call_count *pd_server_call_counts(const struct pd_server *srv, unsigned *n)
{
	*n = srv->n_call_counts;
	return srv->call_counts;
}

static void call_finish(struct pd_call *call, int code)
{
	count_call(call->conn->srv, call, code);
	call->done = true;
	if (call->parked) {
		pd_list_del(&call->conn_node);
		call->conn->n_parked--;
		call->conn->srv->stats.parked--;
		free(call);
	}
}

void pd_call_reply(struct pd_call *call, const ProtobufCMessage *reply)
{
	struct pd_conn *c = call->conn;
	static const Google__Rpc__Status ok = GOOGLE__RPC__STATUS__INIT;
	size_t len = reply ? protobuf_c_message_get_packed_size(reply) : 0;
	int code = PD_OK;
	struct pd_error room;
	if (len > PD_TTRPC_MAX_DATA - 64) {
		code = PD_RESOURCE_EXHAUSTED;
		queue_error(c, call->stream_id, code, "response too large");
	} else if (len > pd_call_reply_room(call)) {
		/* Unread replies at their bound: this one's data is not kept (an error status,
		 * like any status-only reply, always is: there is one per call). */
		code = PD_RESOURCE_EXHAUSTED;
		pd_call_no_room(call, len, &room);
		queue_error(c, call->stream_id, code, room.msg);
	} else if (len == 0) {
		queue_response(c, call->stream_id, &ok, NULL, 0);
	} else {
		uint8_t *buf = malloc(len);
		if (buf) {
			protobuf_c_message_pack(reply, buf);
			/* No reply carries a string that is not UTF-8 (wire_strings.c). */
			long fixed = pd_wire_strings_repair(reply->descriptor, buf, len);
			if (fixed != 0)
				pd_warn("reply strings repaired", "rpc=%s bytes=%ld",
					call->method ? call->method->name : "?", fixed);
			queue_response(c, call->stream_id, &ok, buf, len);
			free(buf);
		} else {
			code = PD_RESOURCE_EXHAUSTED;
			queue_error(c, call->stream_id, code, "out of memory");
		}
	}
	call_finish(call, code);
}

void pd_call_fail(struct pd_call *call, const struct pd_error *err)
{
	pd_debug("rpc failed", "rpc=%s code=%s err=\"%s\"", call->method ? call->method->name : "?",
		 pd_code_name(err->code), err->msg);
	int code = err->code ? err->code : PD_UNKNOWN;
	queue_error(call->conn, call->stream_id, code, err->msg);
	call_finish(call, code);
}

static const struct pd_service *find_service(struct pd_server *srv, const char *name)
{
	for (unsigned i = 0; i < srv->n_services; i++)
		if (strcmp(srv->services[i].desc->name, name) == 0)
			return &srv->services[i];
	return NULL;
}

static void park(struct pd_call *call)
{
	struct pd_conn *c = call->conn;
	call->parked = true;
	pd_list_add_tail(&c->parked, &call->conn_node);
	c->n_parked++;
	c->srv->stats.parked++;
	if (call->deadline_ns)
		pd_server_rearm_timer(c->srv, call->deadline_ns);
}

/* The port's oldest parked call makes room for a new one (answered CANCELLED: if its host
 * is still there, it learns why). */
static void cancel_oldest(struct pd_conn *c)
{
	struct pd_call *old = pd_container_of(c->parked.next, struct pd_call, conn_node);
	if (old->on_cancel)
		old->on_cancel(old);
	struct pd_error err;
	pd_error_set(&err, PD_CANCELLED, 0, "too many calls waiting on this port");
	pd_call_fail(old, &err);
}

/* Run the handler for a decoded request; answer for it unless it parked the call. */
static void invoke(struct pd_conn *c, uint32_t stream_id, const Ttrpc__Request *req,
		   const struct pd_service *svc, unsigned idx)
{
	const ProtobufCMethodDescriptor *m = &svc->desc->methods[idx];
	struct pd_error err;
	pd_error_clear(&err);
	if (!svc->handlers[idx]) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s/%s is not implemented in pidone yet", svc->desc->name,
			 m->name);
		queue_error(c, stream_id, PD_UNIMPLEMENTED, msg);
		return;
	}
	ProtobufCMessage *in =
		protobuf_c_message_unpack(m->input, NULL, req->payload.len, req->payload.data);
	if (!in) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s: payload does not decode as %s", m->name,
			 m->input->name);
		queue_error(c, stream_id, PD_INVALID_ARGUMENT, msg);
		return;
	}
	/* Every string of the request, at any depth, is valid UTF-8 without NUL, before the
	 * policy or a handler sees a truncated char* (wire_strings.c says why on the wire). */
	char why[256], refused[400];
	if (pd_wire_strings_check(m->input, req->payload.data, req->payload.len, why,
				  sizeof(why)) < 0) {
		protobuf_c_message_free_unpacked(in, NULL);
		snprintf(refused, sizeof(refused), "%s: string field %s", m->name, why);
		queue_error(c, stream_id, PD_INVALID_ARGUMENT, refused);
		return;
	}
	struct pd_call *call = calloc(1, sizeof(*call));
	if (!call) {
		protobuf_c_message_free_unpacked(in, NULL);
		queue_error(c, stream_id, PD_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	call->conn = c;
	call->stream_id = stream_id;
	call->method = m;
	call->service = svc->desc->name;
	call->ctx = svc->ctx;
	pd_list_init(&call->conn_node);
	pd_list_init(&call->owner_node);
	if (req->timeout_nano > 0) {
		int64_t now = pd_now_ns();
		/* A deadline past the end of the clock is no deadline. */
		call->deadline_ns = req->timeout_nano < INT64_MAX - now ? now + req->timeout_nano : 0;
	}
	/* The policy gate (agent/policy.h): denied calls fail PERMISSION_DENIED; a denied
	 * ReadStdout/ReadStderr is answered empty instead, as Kata redacts it. */
	int rc = pd_policy_check(call->service, m->name, in, &err);
	if (rc == PD_POLICY_REDACT) {
		pd_call_reply(call, NULL);
		rc = 0;
	} else if (rc == 0) {
		rc = svc->handlers[idx](call, in, &err);
	}
	protobuf_c_message_free_unpacked(in, NULL);
	if (rc == PD_RPC_PARKED && !call->done) {
		const struct pd_server_limits *l = &c->srv->limits;
		if (c->n_parked >= l->max_calls_per_conn && c->serial)
			cancel_oldest(c); /* hosts come and go on a port; their calls stay behind */
		if (c->n_parked >= l->max_calls_per_conn || c->srv->stats.parked >= l->max_calls) {
			char msg[160];
			bool conn = c->n_parked >= l->max_calls_per_conn;
			snprintf(msg, sizeof(msg), "too many calls waiting: %u %s (bound %u)",
				 conn ? c->n_parked : c->srv->stats.parked,
				 conn ? "on this connection" : "in the agent",
				 conn ? l->max_calls_per_conn : l->max_calls);
			if (call->on_cancel)
				call->on_cancel(call);
			queue_error(c, stream_id, PD_RESOURCE_EXHAUSTED, msg);
			free(call);
			return;
		}
		park(call);
		return;
	}
	if (rc < 0 && !call->done)
		pd_call_fail(call, &err);
	else if (!call->done)
		queue_error(c, stream_id, PD_INTERNAL, "handler returned without an answer");
	free(call);
}

static void dispatch_request(struct pd_conn *c, const struct pd_frame *f)
{
	uint32_t sid = f->h.stream_id;
	if (sid % 2 == 0) {
		queue_error(c, sid, PD_INVALID_ARGUMENT,
			    "StreamID must be odd for client initiated streams");
		return;
	}
	if (sid <= c->last_stream_id && c->serial) {
		/* A serial port has no connections: a stream id going back is a new host. */
		pd_debug("serial: stream ids restarted, new host session", "stream=%u last=%u", sid,
			 c->last_stream_id);
	} else if (sid <= c->last_stream_id) {
		queue_error(c, sid, PD_INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
		return;
	}
	c->last_stream_id = sid;
	c->srv->stats.calls++;
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, f->h.length, f->data);
	char why[256], msg[400];
	if (!req) {
		queue_error(c, sid, PD_INVALID_ARGUMENT, "ttrpc request does not decode");
		return;
	}
	/* The service and method names and the metadata: "grpc.AgentService\0x" must not
	 * be taken for grpc.AgentService. */
	if (pd_wire_strings_check(&ttrpc__request__descriptor, f->data, f->h.length, why,
				  sizeof(why)) < 0) {
		ttrpc__request__free_unpacked(req, NULL);
		snprintf(msg, sizeof(msg), "ttrpc request: string field %s", why);
		queue_error(c, sid, PD_INVALID_ARGUMENT, msg);
		return;
	}
	const struct pd_service *svc = find_service(c->srv, req->service);
	const ProtobufCMethodDescriptor *m =
		svc ? protobuf_c_service_descriptor_get_method_by_name(svc->desc, req->method) : NULL;
	if (!svc) {
		snprintf(msg, sizeof(msg), "service %.120s", req->service);
		queue_error(c, sid, PD_UNIMPLEMENTED, msg);
	} else if (!m) {
		snprintf(msg, sizeof(msg), "method %.120s", req->method);
		queue_error(c, sid, PD_UNIMPLEMENTED, msg);
	} else {
		invoke(c, sid, req, svc, (unsigned)(m - svc->desc->methods));
	}
	ttrpc__request__free_unpacked(req, NULL);
}

void pd_dispatch_frame(struct pd_conn *c, const struct pd_frame *f)
{
	switch (f->h.type) {
	case PD_TTRPC_REQUEST:
		dispatch_request(c, f);
		break;
	case PD_TTRPC_DATA:
		/* Every Kata RPC is unary: data frames have no stream to go to. */
		pd_debug("data frame ignored", "stream=%u len=%u", f->h.stream_id, f->h.length);
		break;
	default:
		/* Unknown types are ignored for forward compatibility (as Go and Rust do). */
		pd_debug("unknown frame type ignored", "type=%u stream=%u", f->h.type,
			 f->h.stream_id);
	}
}

void pd_dispatch_refuse(struct pd_conn *c, const struct pd_frame_header *h, const char *msg)
{
	pd_warn("frame drained unread", "stream=%u len=%u why=\"%s\"", h->stream_id, h->length,
		msg);
	if (h->type == PD_TTRPC_REQUEST && h->stream_id % 2 == 1 &&
	    h->stream_id > c->last_stream_id)
		c->last_stream_id = h->stream_id;
	queue_error(c, h->stream_id, PD_RESOURCE_EXHAUSTED, msg);
}

void pd_dispatch_oversized(struct pd_conn *c, const struct pd_frame_header *h)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "message length %u exceed maximum message size of %u", h->length,
		 PD_TTRPC_MAX_DATA);
	pd_dispatch_refuse(c, h, msg);
}

int64_t pd_dispatch_expire(struct pd_server *srv, int64_t now)
{
	int64_t next = 0;
	struct pd_list *cpos, *ctmp;
	pd_list_for_each_safe(cpos, ctmp, &srv->conns)
	{
		struct pd_conn *c = pd_container_of(cpos, struct pd_conn, node);
		struct pd_list *pos, *tmp;
		pd_list_for_each_safe(pos, tmp, &c->parked)
		{
			struct pd_call *call = pd_container_of(pos, struct pd_call, conn_node);
			if (!call->deadline_ns)
				continue;
			if (call->deadline_ns <= now) {
				if (call->on_cancel)
					call->on_cancel(call);
				struct pd_error err;
				pd_error_set(&err, PD_DEADLINE_EXCEEDED, 0, "%s: timeout",
					     call->method->name);
				pd_call_fail(call, &err);
			} else if (!next || call->deadline_ns < next) {
				next = call->deadline_ns;
			}
		}
	}
	return next;
}
