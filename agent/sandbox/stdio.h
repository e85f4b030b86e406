/* A container process's stdio as the host sees it: a stdin it writes, and stdout/stderr
 * it reads, through pipes or one pty. Reads and writes are calls parked on the streams
 * and answered from the event loop when data, room or EOF comes — nothing blocks.
 *
 * EOF rules (Kata lost output tails by tying EOF to the process's exit):
 *   - a read answers empty data only at the pipe's own EOF, or EIO from a pty master;
 *   - after the process itself was reaped, everything it wrote is already buffered, so a
 *     read that would block answers EOF instead of waiting for a background child that
 *     still holds the pipe or tty (the known Kata exec hang). A pty gets a short quiet
 *     period first, since its data passes a kernel work queue on the way to the master. */
#ifndef PD_SANDBOX_STDIO_H
#define PD_SANDBOX_STDIO_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/error.h"
#include "agent/list.h"
#include "agent/loop.h"

struct pd_call;

struct pd_ostream {
	struct pd_watch watch; /* fd: stdout/stderr pipe read end or the pty master */
	struct pd_loop *loop;
	bool watching;
	bool eof;
	bool owner_exited;     /* the process is reaped: would-block means EOF */
	struct pd_list readers; /* parked ReadStdout/ReadStderr calls */
	struct pd_watch quiet;  /* tty after exit: timerfd for the quiet period */
	bool tty;
};

struct pd_istream {
	struct pd_watch watch; /* fd: stdin pipe write end or a dup of the pty master */
	struct pd_loop *loop;
	bool watching;
	bool closed;
	struct pd_list writers; /* parked WriteStdin calls with bytes left */
	size_t kept;		/* their bytes, kept by the agent (bounded: stdio.c) */
};

struct pd_stdio {
	bool tty;
	struct pd_istream in;
	struct pd_ostream out;
	struct pd_ostream err; /* unused with a tty: stderr reads go to out */
	int child[3];          /* the child's ends until it is spawned, -1 after */
	int pty_master;        /* kept for TtyWinResize; -1 without a tty */
};

/* Make pipes (stdout/stderr sized by pipe_size when > 0) or a pty with the given size. */
int pd_stdio_open(struct pd_stdio *io, struct pd_loop *loop, bool tty, unsigned short rows,
		  unsigned short cols, unsigned pipe_size, struct pd_error *err);
/* After the spawn: close the child's ends in the agent. */
void pd_stdio_close_child(struct pd_stdio *io);
/* Answer every parked call (readers get EOF, writers an error) and close all fds. */
void pd_stdio_close(struct pd_stdio *io);
/* The process was reaped. */
void pd_stdio_owner_exited(struct pd_stdio *io);

/* Handlers' side. Each answers the call now or parks it (returns PD_RPC_PARKED). */
int pd_stdio_read(struct pd_stdio *io, bool stderr_stream, struct pd_call *call, size_t max,
		  struct pd_error *err);
int pd_stdio_write(struct pd_stdio *io, struct pd_call *call, const void *data, size_t len,
		   struct pd_error *err);
/* CloseStdin: the child reads EOF. With a tty only our stdin dup closes; output stays. */
void pd_stdio_close_stdin(struct pd_stdio *io);
int pd_stdio_resize(struct pd_stdio *io, unsigned rows, unsigned cols, struct pd_error *err);

#endif
