/* The ttRPC client against a scripted peer on a socketpair: exact request bytes, stale and
 * foreign replies dropped, partial frames across timeouts, remote errors, a peer that
 * leaves mid-frame. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/ttrpc/client.h"
#include "health.pb-c.h"
#include "ttrpc.pb-c.h"

struct fixture {
	struct pd_client c;
	int peer; /* the "agent" end */
};

/* A connected client as pd_client_connect leaves it, on one end of a socketpair. */
static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int sv[2];
	if (!fx || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fx->c.fd = sv[0];
	fx->c.first_stream = fx->c.next_stream = 101;
	pd_frame_reader_init(&fx->c.reader, 0);
	fx->peer = sv[1];
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pd_client_close(&fx->c);
	if (fx->peer >= 0)
		close(fx->peer);
	free(fx);
	return 0;
}

static void peer_write(struct fixture *fx, const void *buf, size_t len)
{
	assert_int_equal(write(fx->peer, buf, len), (ssize_t)len);
}

/* Write a Response frame {status code/msg, payload} on `stream` with frame type `type`. */
static void peer_response(struct fixture *fx, uint32_t stream, uint8_t type, int code,
			  const char *msg, const uint8_t *payload, size_t plen)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	uint8_t buf[PD_TTRPC_HEADER_LEN + 256];
	st.code = code;
	st.message = (char *)msg;
	resp.status = &st;
	resp.payload.data = (uint8_t *)payload;
	resp.payload.len = plen;
	size_t n = ttrpc__response__pack(&resp, buf + PD_TTRPC_HEADER_LEN);
	struct pd_frame_header h = {(uint32_t)n, stream, type, 0};
	pd_frame_header_encode(buf, &h);
	peer_write(fx, buf, PD_TTRPC_HEADER_LEN + n);
}

/* Read one request frame from the peer end and decode it. */
static Ttrpc__Request *peer_read_request(struct fixture *fx, struct pd_frame_header *h)
{
	uint8_t hdr[PD_TTRPC_HEADER_LEN], body[1024];
	assert_int_equal(recv(fx->peer, hdr, sizeof(hdr), MSG_WAITALL), sizeof(hdr));
	pd_frame_header_decode(hdr, h);
	assert_true(h->length <= sizeof(body));
	if (h->length)
		assert_int_equal(recv(fx->peer, body, h->length, MSG_WAITALL), h->length);
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, h->length, body);
	assert_non_null(req);
	return req;
}

static void test_send_encodes_request(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	struct pd_frame_header h;
	uint32_t id1, id2;
	Grpc__CheckRequest cr = GRPC__CHECK_REQUEST__INIT;
	cr.service = "svc";

	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Check", NULL, 0, &id1, &err), 0);
	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Version", &cr.base, 7000, &id2,
					&err),
			 0);
	assert_int_equal(id1, 101);
	assert_int_equal(id2, 103);

	Ttrpc__Request *req = peer_read_request(fx, &h);
	assert_int_equal(h.stream_id, 101);
	assert_int_equal(h.type, PD_TTRPC_REQUEST);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.length, 20); /* the spec's hand-computed Health.Check */
	assert_string_equal(req->service, "grpc.Health");
	assert_string_equal(req->method, "Check");
	assert_int_equal(req->payload.len, 0);
	assert_int_equal(req->timeout_nano, 0);
	ttrpc__request__free_unpacked(req, NULL);

	req = peer_read_request(fx, &h);
	assert_int_equal(h.stream_id, 103);
	assert_string_equal(req->method, "Version");
	assert_int_equal(req->timeout_nano, 7000);
	Grpc__CheckRequest *got =
		grpc__check_request__unpack(NULL, req->payload.len, req->payload.data);
	assert_non_null(got);
	assert_string_equal(got->service, "svc");
	grpc__check_request__free_unpacked(got, NULL);
	ttrpc__request__free_unpacked(req, NULL);
}

/* Replies for streams this client did not open (stale ids of an earlier serial session,
 * even ids, ids not used yet) and frames of other types never reach the caller. */
static void test_recv_drops_foreign_replies(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	struct pd_client_reply rep;
	uint32_t id;
	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Check", NULL, 0, &id, &err), 0);

	peer_response(fx, 99, PD_TTRPC_RESPONSE, 0, NULL, NULL, 0);  /* before first_stream */
	peer_response(fx, 102, PD_TTRPC_RESPONSE, 0, NULL, NULL, 0); /* even */
	peer_response(fx, 105, PD_TTRPC_RESPONSE, 0, NULL, NULL, 0); /* not opened yet */
	peer_response(fx, id, PD_TTRPC_DATA, 0, NULL, NULL, 0);      /* not a Response */
	peer_response(fx, id, PD_TTRPC_RESPONSE, 0, NULL, (const uint8_t *)"\x08\x01", 2);

	assert_int_equal(pd_client_recv(&fx->c, 1000, &rep, &err), 0);
	assert_int_equal(rep.stream_id, id);
	assert_int_equal(rep.code, 0);
	assert_int_equal(rep.payload_len, 2);
	assert_memory_equal(rep.payload, "\x08\x01", 2);
	pd_client_reply_free(&rep);

	/* nothing else is queued for us */
	assert_int_equal(pd_client_recv(&fx->c, 0, &rep, &err), -1);
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED);
}

/* A reply that arrives in two parts, with a timeout in between, is still one reply. */
static void test_partial_reply_survives_timeout(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	struct pd_client_reply rep;
	uint32_t id;
	int sv[2];
	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Check", NULL, 0, &id, &err), 0);

	/* Build the frame on a scratch socketpair, then deliver it in two writes. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int real_peer = fx->peer;
	fx->peer = sv[0];
	peer_response(fx, id, PD_TTRPC_RESPONSE, 0, NULL, (const uint8_t *)"\x08\x01", 2);
	fx->peer = real_peer;
	uint8_t frame[64];
	ssize_t n = read(sv[1], frame, sizeof(frame));
	close(sv[0]);
	close(sv[1]);
	assert_true(n > 12);

	peer_write(fx, frame, 7);
	assert_int_equal(pd_client_recv(&fx->c, 50, &rep, &err), -1);
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED);
	assert_int_not_equal(err.errnum, 0);
	peer_write(fx, frame + 7, (size_t)n - 7);
	assert_int_equal(pd_client_recv(&fx->c, 1000, &rep, &err), 0);
	assert_int_equal(rep.stream_id, id);
	assert_int_equal(rep.payload_len, 2);
	pd_client_reply_free(&rep);
}

/* pd_client_call: a remote status becomes err (errnum 0); a late answer to an earlier
 * call is skipped; a success is unpacked with the reply descriptor. */
static void test_call_status_and_late_reply(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	ProtobufCMessage *reply;
	uint32_t old;

	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Check", NULL, 0, &old, &err), 0);
	/* answers for the earlier call, then for the call below (stream old + 2) */
	peer_response(fx, old, PD_TTRPC_RESPONSE, 0, NULL, NULL, 0);
	peer_response(fx, old + 2, PD_TTRPC_RESPONSE, PD_NOT_FOUND, "x", NULL, 0);
	assert_int_equal(pd_client_call(&fx->c, "grpc.Health", "Check", NULL,
					&grpc__health_check_response__descriptor, &reply, 1000,
					&err),
			 -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_string_equal(err.msg, "x");
	assert_int_equal(err.errnum, 0);
	assert_null(reply);

	peer_response(fx, old + 4, PD_TTRPC_RESPONSE, 0, NULL, (const uint8_t *)"\x08\x02", 2);
	assert_int_equal(pd_client_call(&fx->c, "grpc.Health", "Check", NULL,
					&grpc__health_check_response__descriptor, &reply, 1000,
					&err),
			 0);
	assert_non_null(reply);
	assert_int_equal(((Grpc__HealthCheckResponse *)reply)->status, 2);
	protobuf_c_message_free_unpacked(reply, NULL);

	/* the timeout goes on the wire */
	struct pd_frame_header h;
	for (int i = 0; i < 3; i++) {
		Ttrpc__Request *req = peer_read_request(fx, &h);
		assert_int_equal(req->timeout_nano, i == 0 ? 0 : 1000LL * 1000000);
		ttrpc__request__free_unpacked(req, NULL);
	}
}

static void test_reply_that_does_not_decode(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	ProtobufCMessage *reply;
	uint32_t next = fx->c.next_stream;
	peer_response(fx, next, PD_TTRPC_RESPONSE, 0, NULL, (const uint8_t *)"\x0a\x7f", 2);
	assert_int_equal(pd_client_call(&fx->c, "grpc.Health", "Check", NULL,
					&grpc__health_check_response__descriptor, &reply, 1000,
					&err),
			 -1);
	assert_int_equal(err.code, PD_INTERNAL);
	assert_int_not_equal(err.errnum, 0);
}

static void test_peer_leaves_mid_frame(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	struct pd_client_reply rep;
	peer_write(fx, "\x00\x00\x00\x10\x00", 5);
	close(fx->peer);
	fx->peer = -1;
	assert_int_equal(pd_client_recv(&fx->c, 1000, &rep, &err), -1);
	assert_int_equal(err.code, PD_UNAVAILABLE);
	assert_int_equal(err.errnum, ECONNRESET);
	assert_non_null(strstr(err.msg, "mid-frame"));
}

/* A reply over 4 MiB is drained and reported as an error reply on its stream. */
static void test_oversized_reply(void **state)
{
	struct fixture *fx = *state;
	struct pd_error err = {0};
	struct pd_client_reply rep;
	uint32_t id;
	assert_int_equal(pd_client_send(&fx->c, "grpc.Health", "Check", NULL, 0, &id, &err), 0);
	pid_t writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) { /* the writer: 4 MiB + 1 does not fit a socket buffer */
		uint8_t hdr[PD_TTRPC_HEADER_LEN];
		struct pd_frame_header h = {PD_TTRPC_MAX_DATA + 1, id, PD_TTRPC_RESPONSE, 0};
		static uint8_t zeros[65536];
		pd_frame_header_encode(hdr, &h);
		size_t left = PD_TTRPC_MAX_DATA + 1;
		if (write(fx->peer, hdr, sizeof(hdr)) < 0)
			_exit(1);
		while (left > 0) {
			size_t chunk = left < sizeof(zeros) ? left : sizeof(zeros);
			ssize_t n = write(fx->peer, zeros, chunk);
			if (n <= 0)
				_exit(1);
			left -= (size_t)n;
		}
		_exit(0);
	}
	assert_int_equal(pd_client_recv(&fx->c, 10000, &rep, &err), 0);
	assert_int_equal(rep.stream_id, id);
	assert_int_equal(rep.code, PD_RESOURCE_EXHAUSTED);
	assert_null(rep.payload);
	assert_true(fx->c.reader.body_cap == 0);
	int status;
	assert_int_equal(waitpid(writer, &status, 0), writer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_connect_refuses_bad_addresses(void **state)
{
	struct pd_client c;
	struct pd_error err = {0};
	assert_int_equal(pd_client_connect(&c, "serial://port", 0, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_int_equal(pd_client_connect(&c, "tcp://x:1", 0, &err), -1);
	assert_int_equal(pd_client_connect(&c, "unix:///nonexistent/pidone-test.sock", 100, &err),
			 -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_int_equal(c.fd, -1);
	pd_client_close(&c); /* safe after a failed connect */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_encodes_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_drops_foreign_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_reply_survives_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_call_status_and_late_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_that_does_not_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_leaves_mid_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_reply, setup, teardown),
		cmocka_unit_test(test_connect_refuses_bad_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
