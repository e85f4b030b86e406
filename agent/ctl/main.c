/* pidonectl: talk to a pidone agent over ttRPC from the host. */
#include "ctl.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: pidonectl [--addr ADDR] [--wait SECONDS] [--timeout SECONDS] [--verbose]\n"
	      "                 COMMAND [ARGS]\n"
	      "\n"
	      "  --addr ADDR        the agent (default: $PIDONE_ADDR)\n"
	      "                       unix:///path/agent.sock   a socket (host tests: pidone\n"
	      "                                                 --server-addr unix:///...)\n"
	      "                       unix:///path/chardev.sock a QEMU virtio-serial chardev\n"
	      "                                                 socket (-chardev socket,\n"
	      "                                                 path=...,server=on): ttRPC\n"
	      "                                                 runs on the port as it is\n"
	      "                       unix://@name              an abstract socket\n"
	      "                       vsock://CID:PORT          inside a VM only\n"
	      "  --wait SECONDS     keep trying to reach a serving agent this long (a guest that\n"
	      "                     is still booting; 0 = one try)\n"
	      "  --timeout SECONDS  limit for each call (default 30), also sent to the agent;\n"
	      "                     a process's output and exit are waited for without one\n"
	      "  --verbose          name JSON keys that fit no field, and ignored call errors\n"
	      "\n"
	      "commands:\n",
	      out);
	for (const struct pd_ctl_command *c = pd_ctl_commands; c->name; c++) {
		fprintf(out, "  %s%s%s\n      ", c->name, *c->args ? " " : "", c->args);
		for (const char *p = c->help; *p; p++) /* indent continuation lines */
			fputs(*p == '\n' ? "\n      " : (char[]){*p, 0}, out);
		fputc('\n', out);
	}
	fputs("\nexit status: 0 ok, 1 the agent returned an error (or is not SERVING),\n"
	      "             2 usage, 3 could not reach the agent / transport error;\n"
	      "             run, exec and wait: the process's exit status once it ran.\n"
	      "errors print as: pidonectl: CODE_NAME: message\n",
	      out);
}

/* fds 0-2 open, so that the agent's socket never becomes "stdin" (run and exec read fd 0
 * and write fds 1 and 2). */
static void open_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			return;
}

int main(int argc, char **argv)
{
	struct pd_ctl ctl = {0};
	open_std_fds();
	int first;
	bool help;

	int rc = pd_ctl_parse_options(argc, argv, &ctl, &first, &help);
	if (help) {
		usage(stdout);
		return PD_EXIT_OK;
	}
	if (rc != PD_EXIT_OK)
		return rc;
	const struct pd_ctl_command *cmd = pd_ctl_find_command(argv[first]);
	if (!cmd)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "unknown command '%s' (see --help)", argv[first]);
	int nargs = argc - first - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT, "usage: pidonectl %s %s",
				   cmd->name, cmd->args);
	rc = cmd->run(&ctl, nargs, argv + first + 1);
	pd_ctl_disconnect(&ctl);
	return rc;
}
