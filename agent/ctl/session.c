/* Reaching the agent and making calls, with pidonectl's error reporting and exit codes. */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agent/ttrpc/address.h"


int pd_ctl_fail(int exit_code, int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pidonectl: %s: ", pd_code_name(code));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return exit_code;
}

static int transport_failure(const struct pd_error *err)
{
	return pd_ctl_fail(PD_EXIT_TRANSPORT, err->code, "%s", err->msg);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* --wait: a booting guest may not serve yet, and a QEMU serial socket accepts connections
 * before the guest opens its port (a request then just goes unanswered). So: connect,
 * probe with a short Health.Check, and on silence reconnect and probe again until the
 * time is up. Any Response, even an error status, means the agent is there. Probing
 * instead of retrying the command itself means no command ever runs twice. */
static int wait_for_agent(struct pd_ctl *ctl)
{
	int64_t deadline = now_ms() + ctl->wait_ms;
	struct pd_error err = {0};
	for (;;) {
		int left = (int)(deadline - now_ms());
		if (left < 0)
			left = 0;
		/* connect itself retries while the socket is missing or refuses, until the
		 * deadline; any other failure will not go away by waiting */
		if (pd_client_connect(&ctl->client, ctl->addr, left, &err) < 0) {
			pd_error_wrap(&err, "no agent answered within %d ms", ctl->wait_ms);
			return transport_failure(&err);
		}
		struct pd_client_reply r;
		int probe = left < PD_CTL_PROBE_TIMEOUT_MS ? left : PD_CTL_PROBE_TIMEOUT_MS;
		if (probe < 100)
			probe = 100;
		if (pd_client_call_raw(&ctl->client, "grpc.Health", "Check", NULL, 0, probe, &r,
				       &err) == 0) {
			pd_client_reply_free(&r);
			ctl->connected = true;
			return PD_EXIT_OK;
		}
		pd_client_close(&ctl->client);
		if (now_ms() >= deadline) {
			pd_error_wrap(&err, "no agent answered within %d ms", ctl->wait_ms);
			return transport_failure(&err);
		}
		pause_ms(100); /* a reset or refusal comes back at once: do not spin */
	}
}

/* Checked when first needed, so that commands which need no agent work without one. */
static int check_address(const char *addr)
{
	struct pd_addr a;
	struct pd_error err;
	if (!addr || !*addr)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "no agent address: pass --addr or set PIDONE_ADDR");
	if (pd_addr_parse(addr, &a, &err) < 0)
		return pd_ctl_fail(PD_EXIT_USAGE, err.code, "%s", err.msg);
	if (a.kind == PD_ADDR_SERIAL)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "serial:// is the guest's end of a port; reach a QEMU chardev "
				   "socket as unix:///path/to/chardev.sock");
	return 0;
}

int pd_ctl_connect(struct pd_ctl *ctl)
{
	struct pd_error err = {0};
	if (ctl->connected)
		return PD_EXIT_OK;
	if (check_address(ctl->addr) != 0)
		return PD_EXIT_USAGE;
	if (ctl->wait_ms > 0)
		return wait_for_agent(ctl);
	if (pd_client_connect(&ctl->client, ctl->addr, 0, &err) < 0)
		return transport_failure(&err);
	ctl->connected = true;
	return PD_EXIT_OK;
}

void pd_ctl_disconnect(struct pd_ctl *ctl)
{
	if (ctl->connected)
		pd_client_close(&ctl->client);
	ctl->connected = false;
}

static int call_raw_for(struct pd_ctl *ctl, int timeout_ms, const char *service,
			const char *method, const uint8_t *payload, size_t len,
			struct pd_client_reply *reply)
{
	struct pd_error err = {0};
	int rc = pd_ctl_connect(ctl);
	if (rc != PD_EXIT_OK)
		return rc;
	if (pd_client_call_raw(&ctl->client, service, method, payload, len, timeout_ms, reply,
			       &err) < 0)
		return transport_failure(&err);
	if (reply->code != PD_OK) {
		rc = pd_ctl_fail(PD_EXIT_REMOTE, reply->code, "%s", reply->message);
		pd_client_reply_free(reply);
		return rc;
	}
	return PD_EXIT_OK;
}

int pd_ctl_call_raw(struct pd_ctl *ctl, const char *service, const char *method,
		    const uint8_t *payload, size_t len, struct pd_client_reply *reply)
{
	return call_raw_for(ctl, ctl->timeout_ms, service, method, payload, len, reply);
}

int pd_ctl_call(struct pd_ctl *ctl, const char *service, const char *method,
		const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		ProtobufCMessage **reply)
{
	return pd_ctl_call_for(ctl, ctl->timeout_ms, service, method, req, reply_desc, reply);
}

int pd_ctl_agent_call(struct pd_ctl *ctl, const char *method, const ProtobufCMessage *req)
{
	return pd_ctl_call(ctl, "grpc.AgentService", method, req, NULL, NULL);
}

int pd_ctl_call_for(struct pd_ctl *ctl, int timeout_ms, const char *service, const char *method,
		    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		    ProtobufCMessage **reply)
{
	static const uint8_t empty[1];
	struct pd_client_reply r;
	uint8_t *buf = NULL;
	size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;

	if (len > 0) {
		buf = malloc(len);
		if (!buf)
			return pd_ctl_fail(PD_EXIT_TRANSPORT, PD_RESOURCE_EXHAUSTED,
					   "out of memory");
		protobuf_c_message_pack(req, buf);
	}
	int rc = call_raw_for(ctl, timeout_ms, service, method, buf, len, &r);
	free(buf);
	if (rc != PD_EXIT_OK)
		return rc;
	if (reply_desc) {
		*reply = protobuf_c_message_unpack(reply_desc, NULL, r.payload_len,
						   r.payload ? r.payload : empty);
		if (!*reply)
			rc = pd_ctl_fail(PD_EXIT_TRANSPORT, PD_INTERNAL,
					 "%s/%s: reply does not decode as %s", service, method,
					 reply_desc->name);
	}
	pd_client_reply_free(&r);
	return rc;
}
