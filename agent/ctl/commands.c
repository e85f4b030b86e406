/* The command table of pidonectl and the commands with a fixed request and output.
 * A new command is one row here plus its run function (issue 3 adds the container ones). */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"

static int cmd_check(struct pd_ctl *ctl, int argc, char **argv)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	ProtobufCMessage *reply;
	int rc = pd_ctl_call(ctl, "grpc.Health", "Check", &req.base,
			     &grpc__health_check_response__descriptor, &reply);
	if (rc != PD_EXIT_OK)
		return rc;
	Grpc__HealthCheckResponse *r = (Grpc__HealthCheckResponse *)reply;
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&grpc__health_check_response__serving_status__descriptor, r->status);
	bool serving = r->status == GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	if (v)
		printf("%s\n", v->name);
	else
		printf("UNKNOWN(%d)\n", (int)r->status);
	protobuf_c_message_free_unpacked(reply, NULL);
	return serving ? PD_EXIT_OK : PD_EXIT_REMOTE;
}

static int cmd_version(struct pd_ctl *ctl, int argc, char **argv)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	ProtobufCMessage *reply;
	int rc = pd_ctl_call(ctl, "grpc.Health", "Version", &req.base,
			     &grpc__version_check_response__descriptor, &reply);
	if (rc != PD_EXIT_OK)
		return rc;
	Grpc__VersionCheckResponse *r = (Grpc__VersionCheckResponse *)reply;
	printf("agent_version=%s grpc_version=%s\n", r->agent_version, r->grpc_version);
	protobuf_c_message_free_unpacked(reply, NULL);
	return PD_EXIT_OK;
}

static int cmd_destroy_sandbox(struct pd_ctl *ctl, int argc, char **argv)
{
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	return pd_ctl_call(ctl, "grpc.AgentService", "DestroySandbox", &req.base, NULL, NULL);
}

const struct pd_ctl_command pd_ctl_commands[] = {
	{"check", "", "Health.Check: prints SERVING, NOT_SERVING or UNKNOWN (exit 0 only if "
		      "SERVING)", 0, 0, cmd_check},
	{"version", "", "Health.Version: prints agent_version=X grpc_version=Y", 0, 0,
	 cmd_version},
	{"destroy-sandbox", "", "AgentService.DestroySandbox (the guest powers off)", 0, 0,
	 cmd_destroy_sandbox},
	{"call", "SERVICE METHOD [REQUEST_FILE]",
	 "any RPC; REQUEST_FILE is the binary protobuf request ('-' = stdin, absent = empty);\n"
	 "the reply prints as JSON",
	 2, 3, pd_ctl_cmd_call},
	{"decode", "SERVICE METHOD [REQUEST_FILE]",
	 "print a request file as JSON, without an agent ('-' or absent = stdin)", 2, 3,
	 pd_ctl_cmd_decode},
	{NULL, NULL, NULL, 0, 0, NULL},
};

const struct pd_ctl_command *pd_ctl_find_command(const char *name)
{
	for (const struct pd_ctl_command *c = pd_ctl_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
