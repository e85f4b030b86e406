/* `exec`, `kill` and `wait`: processes of a running container. */
#include "ctl.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"

#define ID_MAX	     64
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct exec_args {
	Grpc__Process proc;
	Grpc__User user;
	Grpc__Box box;
	const char *cid;
	const char *eid;
	bool detach;
	char **env; /* malloc'd array of pointers into argv; the rest is on the stack */
};

/* "UID" or "UID:GID" */
static int parse_user(const char *text, Grpc__User *u)
{
	unsigned long long uid, gid = 0;
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", text);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (strlen(text) >= sizeof(buf) || pd_ctl_parse_uint(buf, UINT32_MAX, &uid) < 0 ||
	    (colon && pd_ctl_parse_uint(colon + 1, UINT32_MAX, &gid) < 0))
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "exec: --user wants UID[:GID] as numbers, not '%s'", text);
	u->uid = (uint32_t)uid;
	u->gid = (uint32_t)gid;
	return PD_EXIT_OK;
}

static int exec_option(struct exec_args *e, int c, const char *arg)
{
	switch (c) {
	case 't':
		e->proc.terminal = true;
		return PD_EXIT_OK;
	case 'd':
		e->detach = true;
		return PD_EXIT_OK;
	case 'e':
		if (!strchr(arg, '='))
			return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
					   "exec: --env wants KEY=VALUE, not '%s'", arg);
		e->env[e->proc.n_env++] = (char *)arg;
		return PD_EXIT_OK;
	case 'w':
		e->proc.cwd = (char *)arg;
		return PD_EXIT_OK;
	case 'u':
		return parse_user(arg, &e->user);
	case 'x':
		e->eid = arg;
		return PD_EXIT_OK;
	default:
		return PD_EXIT_USAGE;
	}
}

/* exec [-t] [-d] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--exec-id EID] ID [--] CMD.. */
static int parse_exec(struct exec_args *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tty", no_argument, NULL, 't'},	  {"detach", no_argument, NULL, 'd'},
		{"env", required_argument, NULL, 'e'},	  {"cwd", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},	  {"exec-id", required_argument, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	/* PATH first, TERM for a tty, then --env: the agent's exec keeps the last of a key */
	e->env = calloc((size_t)argc + 2, sizeof(*e->env));
	if (!e->env)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_RESOURCE_EXHAUSTED, "out of memory");
	e->env[e->proc.n_env++] = DEFAULT_PATH;
	pd_ctl_getopt_begin();
	int c, rc = PD_EXIT_OK;
	/* '+': options end at the container id; the command's own options are its own */
	while (rc == PD_EXIT_OK && (c = pd_ctl_getopt(argc, argv, "+tde:w:u:", opts)) != -1)
		rc = exec_option(e, c, optarg);
	if (rc != PD_EXIT_OK)
		return rc;
	int i = pd_ctl_optind();
	if (i < argc)
		e->cid = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (!e->cid || i >= argc)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "usage: pidonectl exec [OPTIONS] ID [--] CMD [ARGS...]");
	e->proc.args = argv + i;
	e->proc.n_args = (size_t)(argc - i);
	if (e->proc.terminal) {
		/* before --env, so that --env TERM=... wins */
		memmove(e->env + 2, e->env + 1, (e->proc.n_env - 1) * sizeof(*e->env));
		e->env[1] = "TERM=xterm";
		e->proc.n_env++;
	}
	return PD_EXIT_OK;
}

static int start_exec(struct pd_ctl *ctl, struct exec_args *e)
{
	unsigned rows, cols;
	e->proc.user = &e->user;
	e->proc.env = e->env;
	if (e->proc.terminal && pd_ctl_term_size(&rows, &cols)) {
		e->box.height = rows;
		e->box.width = cols;
		e->proc.consolesize = &e->box;
	}
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)e->cid;
	req.exec_id = (char *)e->eid;
	req.process = &e->proc;
	return pd_ctl_agent_call(ctl, "ExecProcess", &req.base);
}

int pd_ctl_cmd_exec(struct pd_ctl *ctl, int argc, char **argv)
{
	struct exec_args e = {
		.proc = GRPC__PROCESS__INIT, .user = GRPC__USER__INIT, .box = GRPC__BOX__INIT};
	char eid[ID_MAX];
	e.proc.cwd = "/";
	int rc = parse_exec(&e, argc, argv);
	if (rc == PD_EXIT_OK) {
		if (!e.eid) {
			pd_ctl_new_id("exec-", eid, sizeof(eid));
			e.eid = eid;
		}
		rc = start_exec(ctl, &e);
	}
	free(e.env);
	if (rc != PD_EXIT_OK)
		return rc;
	if (e.detach) {
		printf("%s\n", e.eid);
		return PD_EXIT_OK;
	}
	int status = 0;
	struct pd_ctl_attach at = {.cid = e.cid, .eid = e.eid, .tty = e.proc.terminal};
	rc = pd_ctl_attach(ctl, &at, &status);
	return rc != PD_EXIT_OK ? rc : status >= 0 && status <= 255 ? status : 255;
}

/* kill ID [SIGNAL] [--all] [--exec EID]: the init by default (its exec id is the container
 * id when pidonectl or Kata created it); --all sends exec_id "" — with KILL the agent kills
 * every process of the container (Kata's "all"), with another signal it signals the init. */
int pd_ctl_cmd_kill(struct pd_ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{"exec", required_argument, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	const char *eid = NULL;
	bool all = false;
	int c, sig = SIGTERM;
	pd_ctl_getopt_begin();
	while ((c = pd_ctl_getopt(argc, argv, "", opts)) != -1) {
		if (c == '?')
			return PD_EXIT_USAGE;
		if (c == 'a')
			all = true;
		else
			eid = optarg;
	}
	int i = pd_ctl_optind(), n = argc - i;
	if (n < 1 || n > 2 || (all && eid))
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "usage: pidonectl kill ID [SIGNAL] [--all | --exec EXEC_ID]");
	if (n == 2 && pd_ctl_parse_signal(argv[i + 1], &sig) < 0)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "kill: '%s' is not a signal (TERM, SIGKILL, 9, ...)", argv[i + 1]);
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = argv[i];
	req.exec_id = all ? "" : eid ? (char *)eid : argv[i];
	req.signal = (uint32_t)sig;
	return pd_ctl_agent_call(ctl, "SignalProcess", &req.base);
}

/* wait ID [EXEC_ID]: prints the exit status and exits with it. No time limit: a process
 * may run for days. */
int pd_ctl_cmd_wait(struct pd_ctl *ctl, int argc, char **argv)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	ProtobufCMessage *reply;
	req.container_id = argv[0];
	req.exec_id = argc > 1 ? argv[1] : ""; /* "": the init, whatever its exec id */
	int rc = pd_ctl_call_for(ctl, -1, "grpc.AgentService", "WaitProcess", &req.base,
				 &grpc__wait_process_response__descriptor, &reply);
	if (rc != PD_EXIT_OK)
		return rc;
	int status = ((Grpc__WaitProcessResponse *)reply)->status;
	protobuf_c_message_free_unpacked(reply, NULL);
	printf("%d\n", status);
	return status >= 0 && status <= 255 ? status : 255;
}
