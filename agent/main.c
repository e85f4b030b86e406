/* pidone: pid 1 of the guest and the Kata agent, in one process.
 *
 *   pid 1:     boot (mounts, cmdline, cgroups, modules, console), serve ttRPC on the
 *              configured transport, and on DestroySandbox / SIGTERM / SIGPWR power off.
 *   otherwise: serve on --server-addr (host tests, benchmarks); no boot work.
 *   argv[0] "pidns-holder": pid 1 of the sandbox's shared pid namespace, exec'd by the
 *              agent itself (agent/sandbox/pidns_holder.h); decided before anything else,
 *              since it is pid 1 too. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/child_fds.h"
#include "agent/debug_console.h"
#include "agent/log.h"
#include "agent/logport.h"
#include "agent/policy.h"
#include "agent/proctable.h"
#include "agent/container/rootfs.h"
#include "agent/net/net.h"
#include "agent/rpc/rpc.h"
#include "agent/sandbox/pidns_holder.h"
#include "agent/statecmd.h"
#include "agent/ttrpc/peer.h"
#include "agent/ttrpc/transport.h"
#include "init/boot.h"

/* --frame-timeout: host tests only (the half-frame timeout, ttrpc/server.h); 0 = default. */
static unsigned frame_timeout_s;

static void usage(FILE *out)
{
	fprintf(out, "usage: pidone [--server-addr ADDR] [--log-level LEVEL] [--hotplug-timeout S]\n"
		     "              [--frame-timeout S] [--version]\n"
		     "  ADDR: vsock://CID:PORT | unix:///path | unix://@name | serial://PORTNAME\n"
		     "        or a serial port and a listener: serial://PORTNAME,vsock://CID:PORT\n"
		     "  As pid 1 the options come from the kernel command line (agent.*).\n");
}

static int parse_args(int argc, char **argv, struct pd_config *cfg)
{
	static const struct option opts[] = {
		{"server-addr", required_argument, NULL, 'a'},
		{"log-level", required_argument, NULL, 'l'},
		{"hotplug-timeout", required_argument, NULL, 't'},
		{"frame-timeout", required_argument, NULL, 'f'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "a:l:t:f:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			snprintf(cfg->server_addr, sizeof(cfg->server_addr), "%s", optarg);
			break;
		case 'l': {
			int lvl = pd_log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr, "pidone: unknown log level '%s'\n", optarg);
				return -1;
			}
			cfg->log_level = lvl;
			break;
		}
		case 't': {
			/* Host tests: a short wait for devices that will never come. */
			char *end;
			unsigned long s = strtoul(optarg, &end, 10);
			if (*end || s < 1 || s > 3600) {
				fprintf(stderr, "pidone: bad --hotplug-timeout '%s'\n", optarg);
				return -1;
			}
			cfg->hotplug_timeout_s = (unsigned)s;
			break;
		}
		case 'f': {
			/* Host tests: how long a connection may sit mid-frame. */
			char *end;
			unsigned long s = strtoul(optarg, &end, 10);
			if (*end || s < 1 || s > 3600) {
				fprintf(stderr, "pidone: bad --frame-timeout '%s'\n", optarg);
				return -1;
			}
			frame_timeout_s = (unsigned)s;
			break;
		}
		case 'V':
			printf("pidone %s (api version %s)\n", PD_VERSION, PD_API_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

static void on_child(void *data)
{
	pd_proctable_reap();
}

static void on_terminate(void *data, int signo)
{
	struct pd_agent *agent = data;
	pd_agent_request_stop(agent, 0, signo == SIGTERM ? "SIGTERM" : strsignal(signo));
}

static int serve_one(struct pd_agent *agent, const struct pd_addr *addr, struct pd_error *err)
{
	int fd;
	if (addr->kind == PD_ADDR_SERIAL) {
		fd = pd_serial_open(addr->path, err);
		return fd < 0 ? -1 : pd_server_add_serial(agent->server, fd, err);
	}
	fd = pd_transport_listen(addr, err);
	return fd < 0 ? -1 : pd_server_add_listener(agent->server, fd, err);
}

/* Open what we serve on (one address, or a serial port and a listener) and hand it to the
 * server. */
static int serve_on(struct pd_agent *agent, struct pd_error *err)
{
	const char *text = agent->cfg.server_addr[0] ? agent->cfg.server_addr
						     : pd_transport_default_addr();
	struct pd_addr addrs[PD_MAX_SERVER_ADDRS];
	int n = pd_transport_parse_list(text, addrs, err);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (serve_one(agent, &addrs[i], err) < 0)
			return pd_error_wrap(err, "serve on %s", text);
	char desc[512];
	pd_config_describe(&agent->cfg, desc, sizeof(desc));
	pd_info("pidone serving", "version=%s pid1=%d addr=%s %s", PD_VERSION, agent->is_pid1,
		text, desc);
	return 0;
}

static int setup(struct pd_agent *agent, struct pd_error *err)
{
	const struct pd_service *services;
	unsigned n_services;
	pd_proctable_init();
	if (pd_loop_init(&agent->loop, err) < 0)
		return -1;
	agent->signals = (struct pd_signals){
		.on_child = on_child, .on_terminate = on_terminate, .data = agent,
		.is_pid1 = agent->is_pid1};
	if (pd_signals_open(&agent->signals, &agent->loop, err) < 0)
		return -1;
	pd_policy_load_boot(PD_POLICY_FILE); /* before the first call can arrive */
	if (pd_rpc_services(agent, &services, &n_services, err) < 0)
		return -1;
	if (agent->is_pid1 && pd_net_loopback_up(err) < 0) /* Kata: lo up in init mode */
		pd_warn("loopback not up", "err=\"%s\"", err->msg);
	/* Before any listener opens: vsock peers other than the host are refused (peer.h). */
	pd_peer_accept_local(agent->cfg.unsafe_vsock_loopback_peers);
	if (agent->cfg.unsafe_vsock_loopback_peers)
		pd_warn("UNSAFE: the vsock ports accept guest-local peers (CID 1): every process "
			"in the guest, containers included, can call the agent; for tests only",
			"option=agent.unsafe_vsock_loopback_peers");
	if (agent->cfg.log_vport && pd_logport_open(&agent->loop, agent->cfg.log_vport, err) < 0)
		pd_warn("no log port", "err=\"%s\"", err->msg); /* logs still reach the console */
	if (agent->is_pid1 && agent->cfg.debug_console &&
	    pd_debug_console_start(&agent->loop, agent->cfg.debug_console_vport, err) < 0)
		pd_warn("no debug console", "err=\"%s\"", err->msg);
	pd_sandbox_init(&agent->sandbox, &agent->loop, agent->cfg.container_pipe_size);
	agent->sandbox.no_pivot = pd_rootfs_is_initramfs();
	pd_rpc_sandbox_init(agent);
	agent->server = pd_server_new(&agent->loop, services, n_services, err);
	if (!agent->server)
		return -1;
	if (frame_timeout_s)
		pd_server_limits(agent->server)->frame_timeout_ns = frame_timeout_s * 1000000000LL;
	return serve_on(agent, err);
}

int main(int argc, char **argv)
{
	static struct pd_agent agent;
	struct pd_error err;
	sigset_t old;

	if (argc >= 1 && argv[0] && strcmp(argv[0], PD_PIDNS_HOLDER_ARGV0) == 0)
		pd_pidns_holder_main();
	pd_signals_block_all(&old); /* before anything: signals only through the signalfd */
	pd_undumpable(); /* and so every fork from its first instruction (agent/child_fds.h) */
	pd_error_clear(&err);
	agent.is_pid1 = getpid() == 1;
	pd_config_defaults(&agent.cfg);
	if (agent.is_pid1) {
		if (pd_boot_early(&agent.cfg, &err) < 0) {
			pd_error_log("boot failed", "err=\"%s\"", err.msg);
			pd_shutdown(1);
		}
	} else {
		if (argc > 1 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "state") == 0))
			return pd_state_cmd(argc - 1, argv + 1); /* runc-style views of state.json */
		if (parse_args(argc, argv, &agent.cfg) < 0)
			return 2;
		pd_log_set_level(agent.cfg.log_level);
		pd_boot_host();
	}
	if (setup(&agent, &err) < 0 || pd_loop_run(&agent.loop, &err) < 0) {
		pd_error_log("agent failed", "err=\"%s\"", err.msg);
		pd_shutdown(1);
	}
	pd_server_free(agent.server);
	pd_shutdown(agent.exit_status);
}
