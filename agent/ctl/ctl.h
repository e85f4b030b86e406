/* pidonectl: the host-side client of the agent (like Kata's agent-ctl).
 *
 * Every command is one row of pd_ctl_commands (commands.c): a name, its arguments and a
 * run function that connects through pd_ctl_connect() and calls through pd_ctl_call*().
 * Commands return an exit code, and errors are printed once, where they are detected, as
 * "pidonectl: CODE_NAME: message". */
#ifndef PD_CTL_H
#define PD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"
#include "agent/ttrpc/client.h"

enum pd_ctl_exit {
	PD_EXIT_OK = 0,
	PD_EXIT_REMOTE = 1,    /* the agent answered with an error status (or "not serving") */
	PD_EXIT_USAGE = 2,     /* bad command line or input file */
	PD_EXIT_TRANSPORT = 3, /* could not connect, timed out, connection lost, bad reply */
};

#define PD_CTL_DEFAULT_TIMEOUT_MS 30000
/* With --wait, each probe of a guest that may not serve yet gets this long. */
#define PD_CTL_PROBE_TIMEOUT_MS 1000

struct pd_ctl {
	const char *addr;
	int wait_ms;    /* --wait: how long to keep trying to reach a serving agent */
	int timeout_ms; /* --timeout: bound on each call, also sent as timeout_nano */
	struct pd_client client;
	bool connected;
};

struct pd_ctl_command {
	const char *name;
	const char *args; /* argument synopsis for --help */
	const char *help;
	int min_args;
	int max_args;
	int (*run)(struct pd_ctl *ctl, int argc, char **argv);
};

extern const struct pd_ctl_command pd_ctl_commands[];
const struct pd_ctl_command *pd_ctl_find_command(const char *name);

/* options.c: global options up to the command name. Returns 0 and sets *cmd_index, or
 * prints the problem and returns PD_EXIT_USAGE; *help is set for --help. */
int pd_ctl_parse_options(int argc, char **argv, struct pd_ctl *ctl, int *cmd_index,
			 bool *help);
/* Parse "1.5" seconds into milliseconds (0 .. 1 day). */
int pd_ctl_parse_seconds(const char *text, int *ms);

/* session.c */
int pd_ctl_connect(struct pd_ctl *ctl);
void pd_ctl_disconnect(struct pd_ctl *ctl);
/* One call with a typed request and reply (reply_desc NULL: discard the reply). */
int pd_ctl_call(struct pd_ctl *ctl, const char *service, const char *method,
		const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		ProtobufCMessage **reply);
/* One call with an encoded payload; on success *reply holds the raw Response. */
int pd_ctl_call_raw(struct pd_ctl *ctl, const char *service, const char *method,
		    const uint8_t *payload, size_t len, struct pd_client_reply *reply);
/* Print "pidonectl: CODE_NAME: message" and return the exit code. */
int pd_ctl_fail(int exit_code, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* call.c: `call SERVICE METHOD [REQUEST_FILE]` */
int pd_ctl_cmd_call(struct pd_ctl *ctl, int argc, char **argv);
/* call.c: `decode SERVICE METHOD [REQUEST_FILE]` (no agent needed) */
int pd_ctl_cmd_decode(struct pd_ctl *ctl, int argc, char **argv);
/* The method descriptor of "service/method" among the built-in services, or NULL. */
const ProtobufCMethodDescriptor *pd_ctl_find_method(const char *service, const char *method);

#endif
