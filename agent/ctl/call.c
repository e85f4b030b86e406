/* `pidonectl call SERVICE METHOD [REQUEST_FILE | --json FILE]`: any RPC, the request as
 * encoded bytes or as JSON, the reply decoded with the method's descriptor and printed as
 * JSON. Encoded bytes are sent as they are, without checking them against the method's
 * input type, so that the agent's own handling of bad input can be exercised too. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "bundle.h"
#include "health.pb-c.h"
#include "json_to_proto.h"
#include "print_json.h"

static const ProtobufCServiceDescriptor *const services[] = {
	&grpc__agent_service__descriptor,
	&grpc__health__descriptor,
};

const ProtobufCMethodDescriptor *pd_ctl_find_method(const char *service, const char *method)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i]->name, service) == 0)
			return protobuf_c_service_descriptor_get_method_by_name(services[i],
										method);
	return NULL;
}

/* Read the whole request (at most one frame's worth) from a file or stdin ("-"). */
static int read_request(const char *path, uint8_t **out, size_t *len)
{
	size_t cap = PD_TTRPC_MAX_DATA + 1, n = 0;
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return pd_ctl_fail(PD_EXIT_USAGE, pd_code_from_errno(errno), "%s: %s", path,
				   strerror(errno));
	uint8_t *buf = malloc(cap);
	if (!buf) {
		if (!is_stdin)
			fclose(f);
		return pd_ctl_fail(PD_EXIT_USAGE, PD_RESOURCE_EXHAUSTED, "out of memory");
	}
	size_t got;
	while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0)
		n += got;
	bool failed = ferror(f);
	if (!is_stdin)
		fclose(f);
	if (failed || n >= cap) {
		free(buf);
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT, "%s: %s", path,
				   failed ? "read error" : "larger than the 4 MiB frame limit");
	}
	*out = buf;
	*len = n;
	return PD_EXIT_OK;
}

static int print_reply(const ProtobufCMethodDescriptor *m, const struct pd_client_reply *r,
		       const char *service, const char *method)
{
	static const uint8_t empty[1];
	if (!m) {
		/* Not in our descriptors (a newer agent?): show what came back, undecoded. */
		fprintf(stderr, "pidonectl: %s/%s is not a known method; raw reply follows\n",
			service, method);
		printf("{\"payload_base64\": \"");
		pd_print_base64(stdout, r->payload, r->payload_len);
		printf("\"}\n");
		return PD_EXIT_OK;
	}
	ProtobufCMessage *msg = protobuf_c_message_unpack(m->output, NULL, r->payload_len,
							  r->payload ? r->payload : empty);
	if (!msg)
		return pd_ctl_fail(PD_EXIT_TRANSPORT, PD_INTERNAL,
				   "%s/%s: reply does not decode as %s", service, method,
				   m->output->name);
	pd_print_json(stdout, msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	return PD_EXIT_OK;
}

/* --json FILE: the request from JSON through the method's input descriptor, encoded. */
static int json_request(struct pd_ctl *ctl, const char *service, const char *method,
			const char *path, uint8_t **payload, size_t *len)
{
	const ProtobufCMethodDescriptor *m = pd_ctl_find_method(service, method);
	struct pd_j2p_unknown unknown = {pd_ctl_unknown_key, ctl};
	struct pd_error err = {0};
	ProtobufCMessage *msg;
	char *text;
	size_t n;
	if (!m)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_NOT_FOUND,
				   "%s/%s is not a known method: --json needs its request type",
				   service, method);
	if (pd_ctl_read_file(path, PD_J2P_MAX_TEXT, &text, &n, &err) < 0)
		return pd_ctl_fail(PD_EXIT_USAGE, err.code, "%s", err.msg);
	int rc = pd_json_to_proto(text, n, m->input, &unknown, &msg, &err);
	free(text);
	if (rc < 0)
		return pd_ctl_fail(PD_EXIT_USAGE, err.code, "%s: %s", path, err.msg);
	*len = protobuf_c_message_get_packed_size(msg);
	*payload = malloc(*len ? *len : 1);
	if (*payload)
		protobuf_c_message_pack(msg, *payload);
	protobuf_c_message_free_unpacked(msg, NULL);
	return *payload ? PD_EXIT_OK
			: pd_ctl_fail(PD_EXIT_USAGE, PD_RESOURCE_EXHAUSTED, "out of memory");
}

int pd_ctl_cmd_call(struct pd_ctl *ctl, int argc, char **argv)
{
	const char *service = argv[0], *method = argv[1];
	uint8_t *payload = NULL;
	size_t len = 0;
	struct pd_client_reply r;
	int rc = PD_EXIT_OK;

	if (argc == 4 && strcmp(argv[2], "--json") == 0)
		rc = json_request(ctl, service, method, argv[3], &payload, &len);
	else if (argc == 4 || (argc == 3 && strcmp(argv[2], "--json") == 0))
		rc = pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				 "usage: pidonectl call SERVICE METHOD [REQUEST_FILE | --json FILE]");
	else if (argc == 3)
		rc = read_request(argv[2], &payload, &len);
	if (rc != PD_EXIT_OK)
		return rc;
	rc = pd_ctl_call_raw(ctl, service, method, payload, len, &r);
	free(payload);
	if (rc != PD_EXIT_OK)
		return rc;
	rc = print_reply(pd_ctl_find_method(service, method), &r, service, method);
	pd_client_reply_free(&r);
	return rc;
}

/* `decode SERVICE METHOD [REQUEST_FILE]`: show a request file as JSON without an agent,
 * to look at captured or generated requests before sending them. */
int pd_ctl_cmd_decode(struct pd_ctl *ctl, int argc, char **argv)
{
	static const uint8_t empty[1];
	const ProtobufCMethodDescriptor *m = pd_ctl_find_method(argv[0], argv[1]);
	uint8_t *payload;
	size_t len;

	if (!m)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_NOT_FOUND, "%s/%s is not a known method",
				   argv[0], argv[1]);
	int rc = read_request(argc > 2 ? argv[2] : "-", &payload, &len);
	if (rc != PD_EXIT_OK)
		return rc;
	ProtobufCMessage *msg = protobuf_c_message_unpack(m->input, NULL, len,
							  len ? payload : empty);
	free(payload);
	if (!msg)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "input does not decode as %s", m->input->name);
	pd_print_json(stdout, msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	return PD_EXIT_OK;
}
