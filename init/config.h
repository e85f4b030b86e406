/* The agent's configuration: defaults, then the kernel command line (agent.* options, as the
 * Kata agent reads them), then the program's own flags (--server-addr, --log-level). */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stdbool.h>

#define PD_DEFAULT_SERVER_ADDR "vsock://-1:1024"
#define PD_SERIAL_CHANNEL      "agent.channel.0"

struct pd_config {
	int log_level;               /* enum pd_log_level; agent.log */
	char server_addr[256];       /* agent.server_addr; "" = choose (vsock, else serial); two
				      * addresses with a comma: pd_transport_parse_list */
	bool debug_console;          /* agent.debug_console */
	unsigned debug_console_vport; /* agent.debug_console_vport */
	unsigned log_vport;          /* agent.log_vport */
	/* agent.unsafe_vsock_loopback_peers: the vsock listeners accept guest-local peers (CID 1)
	 * besides the host — every process in the guest, containers included, can then call
	 * the agent. For the in-guest vsock boot test only (docs/security.md). */
	bool unsafe_vsock_loopback_peers;
	bool devmode;                /* agent.devmode */
	bool trace;                  /* agent.trace */
	unsigned hotplug_timeout_s;  /* agent.hotplug_timeout, default 3 */
	unsigned container_pipe_size; /* agent.container_pipe_size, 0 = kernel default */
	bool cgroup_v2;              /* systemd.unified_cgroup_hierarchy=1 or cgroup_no_v1=all */
};

void pd_config_defaults(struct pd_config *cfg);

/* Parse a kernel command line into cfg. Unknown options are ignored; a bad value is logged
 * (warn) and the default kept. Never fails. */
void pd_config_parse_cmdline(struct pd_config *cfg, const char *cmdline);

/* One-line summary for the start-up announce ("log=info server_addr=... ..."). */
void pd_config_describe(const struct pd_config *cfg, char *buf, unsigned len);

#endif
