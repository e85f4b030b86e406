/* The command table of pidonectl and the commands with a fixed request and output.
 * A new command is one row here plus its run function. Commands with options of their own
 * take any number of arguments here (ANY) and check them after their options. */
#include "ctl.h"

#include <limits.h>

#include <stdio.h>
#include <string.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"

#define ANY INT_MAX

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
	{"create-sandbox",
	 "[--id ID] [--hostname NAME] [--dns LINE]...\n"
	 "    [--share-9p TAG | --share-virtiofs TAG] [--shm-size BYTES]\n"
	 "    [--storage DRIVER:SOURCE:MOUNTPOINT[:OPT,...]]... [--guest-hook-path DIR]",
	 "AgentService.CreateSandbox: --share-9p/--share-virtiofs mount the host share TAG on\n"
	 "/run/kata-containers/shared/containers/ as Kata does; --shm-size makes the sandbox's\n"
	 "/dev/shm (an ephemeral tmpfs); --storage any other Storage (fstype=T among the options\n"
	 "sets its fstype); --guest-hook-path the guest directory of hooks run for every\n"
	 "container (DIR/prestart, DIR/poststart, DIR/poststop)",
	 0, ANY, pd_ctl_cmd_create_sandbox},
	{"run", "[--id ID] [-t|-T] [-d] [--keep] [--rootfs-guest-path PATH] BUNDLE",
	 "run an OCI bundle (config.json + rootfs, e.g. from `runc spec`): CreateContainer,\n"
	 "StartContainer, its output to ours and our input to it, WaitProcess, RemoveContainer;\n"
	 "exits with the container's exit status. -t/-T: terminal on/off whatever config.json\n"
	 "says; -d: start it, print its id and leave it running; --keep: do not remove it;\n"
	 "--rootfs-guest-path: the rootfs's path in the guest (default: BUNDLE's rootfs on this\n"
	 "machine, for an agent that runs here)",
	 0, ANY, pd_ctl_cmd_run},
	{"create", "[-t|-T] [--rootfs-guest-path PATH] ID BUNDLE",
	 "AgentService.CreateContainer from an OCI bundle (its process waits for `start`)", 0, ANY,
	 pd_ctl_cmd_create},
	{"start", "ID", "AgentService.StartContainer", 1, 1, pd_ctl_cmd_start},
	{"exec",
	 "[-t] [-d] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--exec-id EID]\n"
	 "    ID [--] CMD [ARG]...",
	 "AgentService.ExecProcess in a running container, attached as `run` is; exits with its\n"
	 "status (-d: print the exec id and leave it running)",
	 0, ANY, pd_ctl_cmd_exec},
	{"kill", "ID [SIGNAL] [--all | --exec EXEC_ID]",
	 "AgentService.SignalProcess (default TERM) to the container's init, or an exec;\n"
	 "--all: every process with KILL (Kata's exec_id \"\")",
	 0, ANY, pd_ctl_cmd_kill},
	{"wait", "ID [EXEC_ID]",
	 "AgentService.WaitProcess for the init (or an exec): prints its exit status and exits\n"
	 "with it",
	 1, 2, pd_ctl_cmd_wait},
	{"rm", "ID [--timeout SECONDS]",
	 "AgentService.RemoveContainer (kills what still runs; timeout 0 = no limit)", 0, ANY,
	 pd_ctl_cmd_rm},
	{"destroy-sandbox", "", "AgentService.DestroySandbox (the guest powers off)", 0, 0,
	 cmd_destroy_sandbox},
	{"call", "SERVICE METHOD [REQUEST_FILE | --json FILE]",
	 "any RPC; REQUEST_FILE is the binary protobuf request ('-' = stdin, absent = empty),\n"
	 "--json FILE the request as JSON (proto field names, any case; '-' = stdin);\n"
	 "the reply prints as JSON",
	 2, 4, pd_ctl_cmd_call},
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
