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
#include <termios.h>
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
	bool verbose;   /* --verbose: JSON keys that fit no field, ignored stream errors */
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
/* pd_ctl_call with its own time limit; -1: none, and none sent (WaitProcess waits for a
 * process, which may run for days). */
int pd_ctl_call_for(struct pd_ctl *ctl, int timeout_ms, const char *service, const char *method,
		    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
		    ProtobufCMessage **reply);
/* An AgentService call without a reply (Empty). */
int pd_ctl_agent_call(struct pd_ctl *ctl, const char *method, const ProtobufCMessage *req);
/* One call with an encoded payload; on success *reply holds the raw Response. */
int pd_ctl_call_raw(struct pd_ctl *ctl, const char *service, const char *method,
		    const uint8_t *payload, size_t len, struct pd_client_reply *reply);
/* Print "pidonectl: CODE_NAME: message" and return the exit code. */
int pd_ctl_fail(int exit_code, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* call.c: `call SERVICE METHOD [REQUEST_FILE | --json FILE]` */
int pd_ctl_cmd_call(struct pd_ctl *ctl, int argc, char **argv);
/* call.c: `decode SERVICE METHOD [REQUEST_FILE]` (no agent needed) */
int pd_ctl_cmd_decode(struct pd_ctl *ctl, int argc, char **argv);
/* The method descriptor of "service/method" among the built-in services, or NULL. */
const ProtobufCMethodDescriptor *pd_ctl_find_method(const char *service, const char *method);

/* ---- the container commands (issue 3) ---------------------------------------------------- */

/* sandbox.c */
int pd_ctl_cmd_create_sandbox(struct pd_ctl *ctl, int argc, char **argv);
/* container.c */
int pd_ctl_cmd_create(struct pd_ctl *ctl, int argc, char **argv);
int pd_ctl_cmd_start(struct pd_ctl *ctl, int argc, char **argv);
int pd_ctl_cmd_run(struct pd_ctl *ctl, int argc, char **argv);
int pd_ctl_cmd_rm(struct pd_ctl *ctl, int argc, char **argv);
/* process.c */
int pd_ctl_cmd_exec(struct pd_ctl *ctl, int argc, char **argv);
int pd_ctl_cmd_kill(struct pd_ctl *ctl, int argc, char **argv);
int pd_ctl_cmd_wait(struct pd_ctl *ctl, int argc, char **argv);

/* cmdline.c: a command's own options. getopt_long runs over the command's arguments with
 * the command name in front (main hands each command argv just past its name). Start with
 * pd_ctl_getopt_begin(); pd_ctl_getopt returns the option, -1 at the end, or '?' after
 * printing the usage error; then the operands are argv[pd_ctl_optind()..argc). */
struct option;
void pd_ctl_getopt_begin(void);
int pd_ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
int pd_ctl_optind(void);
/* prefix and 12 random hex digits: ids for run ("pd-") and exec ("exec-") when none is
 * given. */
void pd_ctl_new_id(const char *prefix, char *buf, size_t size);
/* "TERM", "SIGTERM", "term" or "15". */
int pd_ctl_parse_signal(const char *text, int *sig);
/* "123" into 0..max; -1 otherwise. */
int pd_ctl_parse_uint(const char *text, unsigned long long max, unsigned long long *out);
/* The callback for pd_json_to_proto's unknown keys: prints them when --verbose. */
void pd_ctl_unknown_key(void *ctl, const char *path);

/* attach.c: be the terminal of a running process. Its output goes to fds 1 and 2, fd 0 goes
 * to its stdin (EOF -> CloseStdin), signals to pidonectl go to it, and with a tty the local
 * terminal is raw and its size follows. When its output has ended, WaitProcess. */
struct pd_ctl_attach {
	const char *cid;
	const char *eid; /* the process: the init's exec id (run) or an exec's */
	bool tty;        /* the process has a terminal: one output stream, resizes */
};
/* Returns PD_EXIT_OK with *status = the process's exit status (or 128 + SIGPIPE when our
 * own output went away, 128 + SIGINT after three interrupts: then without waiting for it),
 * or an exit code of pidonectl's own failure. */
int pd_ctl_attach(struct pd_ctl *ctl, const struct pd_ctl_attach *a, int *status);

/* term.c: the local terminal */
struct pd_ctl_term {
	bool raw; /* we changed it */
	int fd;
	struct termios saved;
};
/* Raw mode on stdin if it is a terminal (a no-op otherwise). */
void pd_ctl_term_raw(struct pd_ctl_term *t);
void pd_ctl_term_restore(struct pd_ctl_term *t);
/* Rows and columns of the local terminal (stdin, else stdout); false if there is none. */
bool pd_ctl_term_size(unsigned *rows, unsigned *cols);

#endif
