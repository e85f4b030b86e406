/* `create`, `start`, `run` and `rm`: a container from an OCI bundle, as Kata's shim drives
 * one (CreateContainer with exec_id = the container id, StartContainer, the I/O streams,
 * WaitProcess after their EOF, RemoveContainer). */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "bundle.h"

#define ID_MAX 64

struct create_args {
	const char *id;
	const char *bundle;
	const char *rootfs_guest_path;
	int terminal; /* -1: as config.json says */
	bool detach, keep;
};

/* The local terminal's size as the process's first one, so a shell starts with the right
 * width (TtyWinResize follows it afterwards). */
static void set_console_size(Grpc__Process *p)
{
	unsigned rows, cols;
	if (!pd_ctl_term_size(&rows, &cols))
		return;
	Grpc__Box *box = malloc(sizeof(*box)); /* the spec is freed as an unpacked message */
	if (!box)
		return;
	grpc__box__init(box);
	box->height = rows;
	box->width = cols;
	protobuf_c_message_free_unpacked((ProtobufCMessage *)p->consolesize, NULL);
	p->consolesize = box;
}

static int create_container(struct pd_ctl *ctl, const struct create_args *a, bool *tty)
{
	struct pd_j2p_unknown unknown = {pd_ctl_unknown_key, ctl};
	struct pd_ctl_bundle b = {.dir = a->bundle,
				  .rootfs_guest_path = a->rootfs_guest_path,
				  .terminal = a->terminal,
				  .unknown = &unknown};
	struct pd_error err = {0};
	Grpc__Spec *spec;
	bool pidns;
	if (pd_ctl_load_bundle(&b, &spec, &pidns, &err) < 0)
		return pd_ctl_fail(PD_EXIT_USAGE, err.code, "%s", err.msg);
	int rc = PD_EXIT_OK;
	if (!spec->process) {
		rc = pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				 "%s/config.json: no process to run", a->bundle);
	} else {
		*tty = spec->process->terminal;
		if (*tty)
			set_console_size(spec->process);
		Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
		req.container_id = (char *)a->id;
		req.exec_id = (char *)a->id; /* the init's exec id, as Kata's runtime sets it */
		req.oci = spec;
		req.sandbox_pidns = pidns;
		rc = pd_ctl_agent_call(ctl, "CreateContainer", &req.base);
	}
	protobuf_c_message_free_unpacked(&spec->base, NULL);
	return rc;
}

static int start_container(struct pd_ctl *ctl, const char *id)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)id;
	return pd_ctl_agent_call(ctl, "StartContainer", &req.base);
}

static int remove_container(struct pd_ctl *ctl, const char *id, unsigned timeout_s)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)id;
	req.timeout = timeout_s;
	/* the agent's own limit comes first: give it a few seconds more than that */
	long long ms = timeout_s ? (long long)timeout_s * 1000 + 5000 : 0;
	int limit = ms > ctl->timeout_ms ? (int)ms : ctl->timeout_ms;
	return pd_ctl_call_for(ctl, limit, "grpc.AgentService", "RemoveContainer", &req.base, NULL,
			       NULL);
}

/* An exit status as our own: 0..255 pass through, anything else is 255. */
static int exit_status(int status)
{
	return status >= 0 && status <= 255 ? status : 255;
}

/* Options of create and run; operands left at argv[pd_ctl_optind()...]. */
static int parse_create(struct create_args *a, bool is_run, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"rootfs-guest-path", required_argument, NULL, 'r'},
		{"tty", no_argument, NULL, 't'},
		{"no-tty", no_argument, NULL, 'T'},
		{"detach", no_argument, NULL, 'd'},
		{"keep", no_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = is_run ? "run" : "create";
	a->terminal = -1;
	pd_ctl_getopt_begin();
	int c;
	while ((c = pd_ctl_getopt(argc, argv, "tTd", opts)) != -1) {
		if (c == '?' || (!is_run && strchr("idk", c)))
			return c == '?' ? PD_EXIT_USAGE
					: pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
						      "create: -%c is an option of run", c);
		if (c == 'i')
			a->id = optarg;
		else if (c == 'r')
			a->rootfs_guest_path = optarg;
		else if (c == 't' || c == 'T')
			a->terminal = c == 't';
		else if (c == 'd')
			a->detach = true;
		else if (c == 'k')
			a->keep = true;
	}
	if (a->rootfs_guest_path && a->rootfs_guest_path[0] != '/')
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "%s: --rootfs-guest-path wants an absolute path", cmd);
	return PD_EXIT_OK;
}

/* `create [OPTIONS] ID BUNDLE`: CreateContainer only (the init waits for `start`). */
int pd_ctl_cmd_create(struct pd_ctl *ctl, int argc, char **argv)
{
	struct create_args a = {0};
	bool tty;
	int rc = parse_create(&a, false, argc, argv);
	if (rc != PD_EXIT_OK)
		return rc;
	int i = pd_ctl_optind();
	if (argc - i != 2)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "usage: pidonectl create [OPTIONS] ID BUNDLE");
	a.id = argv[i];
	a.bundle = argv[i + 1];
	return create_container(ctl, &a, &tty);
}

int pd_ctl_cmd_start(struct pd_ctl *ctl, int argc, char **argv)
{
	return start_container(ctl, argv[0]);
}

/* `run [OPTIONS] BUNDLE`: create, start, attach, wait, remove; our exit status is the
 * container's. */
int pd_ctl_cmd_run(struct pd_ctl *ctl, int argc, char **argv)
{
	struct create_args a = {0};
	char id[ID_MAX];
	bool tty = false;
	int rc = parse_create(&a, true, argc, argv);
	if (rc != PD_EXIT_OK)
		return rc;
	if (argc - pd_ctl_optind() != 1)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "usage: pidonectl run [OPTIONS] BUNDLE");
	a.bundle = argv[pd_ctl_optind()];
	if (!a.id) {
		pd_ctl_new_id("pd-", id, sizeof(id));
		a.id = id;
	}
	if ((rc = create_container(ctl, &a, &tty)) != PD_EXIT_OK)
		return rc;
	if ((rc = start_container(ctl, a.id)) != PD_EXIT_OK) {
		if (!a.keep)
			remove_container(ctl, a.id, 0);
		return rc;
	}
	if (a.detach) {
		printf("%s\n", a.id);
		return PD_EXIT_OK;
	}
	int status = 0;
	struct pd_ctl_attach at = {.cid = a.id, .eid = a.id, .tty = tty};
	rc = pd_ctl_attach(ctl, &at, &status);
	if (!a.keep && ctl->connected) {
		int rm = remove_container(ctl, a.id, 0);
		rc = rc != PD_EXIT_OK ? rc : rm;
	}
	return rc != PD_EXIT_OK ? rc : exit_status(status);
}

/* `rm ID [--timeout S]` */
int pd_ctl_cmd_rm(struct pd_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	unsigned long long timeout = 0;
	pd_ctl_getopt_begin();
	int c;
	while ((c = pd_ctl_getopt(argc, argv, "", opts)) != -1) {
		if (c == '?')
			return PD_EXIT_USAGE;
		if (pd_ctl_parse_uint(optarg, 86400, &timeout) < 0)
			return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
					   "rm: --timeout wants whole seconds (0 = no limit), not "
					   "'%s'",
					   optarg);
	}
	if (argc - pd_ctl_optind() != 1)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "usage: pidonectl rm ID [--timeout SECONDS]");
	return remove_container(ctl, argv[pd_ctl_optind()], (unsigned)timeout);
}
