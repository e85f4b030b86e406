/* The debug console's view of the containers, like `runc list` and `runc state`:
 *
 *   pidone list [--root DIR] [--format table|json] [--quiet]
 *   pidone state [--root DIR] <container-id>
 *
 * Both read the state.json files under DIR (default /run/libcontainer, layout
 * <sandbox-id>/<container-id>/state.json); neither talks to the running agent. A container
 * whose init process is gone (no /proc/<pid>, a zombie, or a pid reused by a process with
 * another start time) is reported "stopped", as runc does, whatever the file says.
 * docs/state.md describes the file and the output. */
#ifndef PD_STATECMD_H
#define PD_STATECMD_H

/* argv[0] is the verb ("list" or "state"); main() passes argc - 1, argv + 1. Returns the
 * exit status: 0, 1 on failure (container not found, unreadable root), 2 on bad usage.
 * Output goes to stdout, messages to stderr. */
int pd_state_cmd(int argc, char **argv);

#endif
