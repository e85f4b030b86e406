/* pidonectl attached to a container process, as Kata's shim is: ReadStdout and ReadStderr
 * calls stay in flight on the one connection (each reissued when its reply is written out;
 * empty data = EOF), stdin goes out one WriteStdin at a time (EOF -> CloseStdin), and once
 * both output streams have ended, WaitProcess. One poll() over the socket, stdin and a
 * signalfd drives it all; replies arrive in any order and are told apart by stream id.
 *
 * Signals pidonectl gets (INT, TERM, HUP, QUIT) go to the process, like docker's sig-proxy;
 * the third SIGINT gives up waiting. SIGWINCH resizes the process's tty. */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.pb-c.h"

#define IO_CHUNK	   (64 * 1024) /* bytes per ReadStdout/WriteStdin */
#define GIVE_UP_INTERRUPTS 3

struct io {
	struct pd_ctl *ctl;
	const struct pd_ctl_attach *a;
	uint32_t out_call, err_call, in_call, wait_call; /* stream ids in flight; 0 = none */
	bool out_eof, err_eof;
	bool in_eof;    /* no more reading fd 0 (it ended, or the process's stdin did) */
	bool in_closed; /* CloseStdin sent */
	bool waited;    /* WaitProcess answered: *status is set */
	bool broken;    /* our own stdout or stderr went away */
	int interrupts;
	int sigfd;
	int status;
	uint8_t buf[IO_CHUNK];
};

/* ---- calls ------------------------------------------------------------------------------- */

static int send_call(struct io *io, const char *method, const ProtobufCMessage *req,
		     uint32_t *id)
{
	struct pd_error err = {0};
	uint32_t ignored;
	/* no timeout_nano: a read waits for output as long as the process runs */
	if (pd_client_send(&io->ctl->client, "grpc.AgentService", method, req, 0,
			   id ? id : &ignored, &err) < 0)
		return pd_ctl_fail(PD_EXIT_TRANSPORT, err.code, "%s", err.msg);
	return PD_EXIT_OK;
}

static int request_output(struct io *io, bool err_stream)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	req.len = IO_CHUNK;
	return send_call(io, err_stream ? "ReadStderr" : "ReadStdout", &req.base,
			 err_stream ? &io->err_call : &io->out_call);
}

static int close_stdin(struct io *io)
{
	if (io->in_call || io->in_closed)
		return PD_EXIT_OK; /* after the write in flight, or already done */
	io->in_closed = true;
	Grpc__CloseStdinRequest req = GRPC__CLOSE_STDIN_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	return send_call(io, "CloseStdin", &req.base, NULL);
}

static int send_resize(struct io *io)
{
	unsigned rows, cols;
	if (!pd_ctl_term_size(&rows, &cols))
		return PD_EXIT_OK;
	Grpc__TtyWinResizeRequest req = GRPC__TTY_WIN_RESIZE_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	req.row = rows;
	req.column = cols;
	return send_call(io, "TtyWinResize", &req.base, NULL);
}

static int send_signal(struct io *io, int sig)
{
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	req.signal = (uint32_t)sig;
	return send_call(io, "SignalProcess", &req.base, NULL);
}

static int request_wait(struct io *io)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	return send_call(io, "WaitProcess", &req.base, &io->wait_call);
}

/* ---- local I/O --------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) { /* someone made our stdout non-blocking */
			poll(&(struct pollfd){.fd = fd, .events = POLLOUT}, 1, -1);
			continue;
		}
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int forward_stdin(struct io *io)
{
	ssize_t n = read(0, io->buf, sizeof(io->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return PD_EXIT_OK;
	if (n <= 0) { /* EOF, or an error that ends our input all the same (EIO: tty hangup) */
		io->in_eof = true;
		return close_stdin(io);
	}
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	req.container_id = (char *)io->a->cid;
	req.exec_id = (char *)io->a->eid;
	req.data.data = io->buf;
	req.data.len = (size_t)n;
	return send_call(io, "WriteStdin", &req.base, &io->in_call);
}

static int on_signal(struct io *io)
{
	struct signalfd_siginfo si;
	if (read(io->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return PD_EXIT_OK;
	int sig = (int)si.ssi_signo;
	if (sig == SIGWINCH)
		return io->a->tty ? send_resize(io) : PD_EXIT_OK;
	if (sig == SIGINT && ++io->interrupts == 1)
		fprintf(stderr, "pidonectl: SIGINT sent to the process (%d times: stop waiting)\n",
			GIVE_UP_INTERRUPTS);
	if (io->interrupts >= GIVE_UP_INTERRUPTS) {
		io->status = 128 + SIGINT;
		fprintf(stderr, "pidonectl: interrupted; the process may still be running\n");
		return PD_EXIT_OK;
	}
	return send_signal(io, sig);
}

/* ---- replies ----------------------------------------------------------------------------- */

/* Unpack a successful reply; NULL (and a message printed) if it does not decode. */
static ProtobufCMessage *unpack(const struct pd_client_reply *r,
				const ProtobufCMessageDescriptor *d)
{
	static const uint8_t empty[1];
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, r->payload_len,
							r->payload ? r->payload : empty);
	if (!m)
		pd_ctl_fail(PD_EXIT_TRANSPORT, PD_INTERNAL, "reply does not decode as %s", d->name);
	return m;
}

static int on_output(struct io *io, const struct pd_client_reply *r, bool err_stream)
{
	bool *eof = err_stream ? &io->err_eof : &io->out_eof;
	*(err_stream ? &io->err_call : &io->out_call) = 0;
	if (r->code != PD_OK) { /* the stream is gone: its output has ended either way */
		fprintf(stderr, "pidonectl: %s: %s: %s\n", err_stream ? "ReadStderr" : "ReadStdout",
			pd_code_name(r->code), r->message);
		*eof = true;
		return PD_EXIT_OK;
	}
	Grpc__ReadStreamResponse *resp =
		(Grpc__ReadStreamResponse *)unpack(r, &grpc__read_stream_response__descriptor);
	if (!resp)
		return PD_EXIT_TRANSPORT;
	if (resp->data.len == 0)
		*eof = true;
	else if (write_all(err_stream ? 2 : 1, resp->data.data, resp->data.len) < 0)
		io->broken = true;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (io->broken) {
		io->status = 128 + SIGPIPE;
		return PD_EXIT_OK;
	}
	return *eof ? PD_EXIT_OK : request_output(io, err_stream);
}

static int on_write(struct io *io, const struct pd_client_reply *r)
{
	io->in_call = 0;
	if (r->code != PD_OK) { /* the process closed its stdin or ended: stop sending */
		if (io->ctl->verbose)
			fprintf(stderr, "pidonectl: WriteStdin: %s: %s\n", pd_code_name(r->code),
				r->message);
		io->in_eof = io->in_closed = true;
		return PD_EXIT_OK;
	}
	return io->in_eof ? close_stdin(io) : PD_EXIT_OK;
}

static int on_wait(struct io *io, const struct pd_client_reply *r)
{
	io->wait_call = 0;
	if (r->code != PD_OK)
		return pd_ctl_fail(PD_EXIT_REMOTE, r->code, "WaitProcess: %s", r->message);
	Grpc__WaitProcessResponse *resp =
		(Grpc__WaitProcessResponse *)unpack(r, &grpc__wait_process_response__descriptor);
	if (!resp)
		return PD_EXIT_TRANSPORT;
	io->status = resp->status;
	io->waited = true;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return PD_EXIT_OK;
}

static int receive(struct io *io)
{
	struct pd_client_reply r;
	struct pd_error err = {0};
	if (pd_client_recv(&io->ctl->client, io->ctl->timeout_ms, &r, &err) < 0)
		return pd_ctl_fail(PD_EXIT_TRANSPORT, err.code, "%s", err.msg);
	int rc = PD_EXIT_OK;
	if (r.stream_id == io->out_call || r.stream_id == io->err_call)
		rc = on_output(io, &r, r.stream_id == io->err_call);
	else if (r.stream_id == io->in_call)
		rc = on_write(io, &r);
	else if (r.stream_id == io->wait_call)
		rc = on_wait(io, &r);
	else if (r.code != PD_OK && io->ctl->verbose) /* CloseStdin, TtyWinResize, SignalProcess */
		fprintf(stderr, "pidonectl: %s: %s\n", pd_code_name(r.code), r.message);
	pd_client_reply_free(&r);
	return rc;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static bool done(const struct io *io)
{
	return io->waited || io->broken || io->interrupts >= GIVE_UP_INTERRUPTS;
}

static int pump(struct io *io)
{
	int rc = request_output(io, false);
	if (rc == PD_EXIT_OK && !io->err_eof)
		rc = request_output(io, true);
	if (rc == PD_EXIT_OK && io->a->tty)
		rc = send_resize(io);
	while (rc == PD_EXIT_OK && !done(io)) {
		/* Kata's order: WaitProcess only after the output has ended, so none is lost */
		if (io->out_eof && io->err_eof && !io->wait_call && (rc = request_wait(io)) != 0)
			break;
		struct pollfd p[3] = {
			{.fd = io->ctl->client.fd, .events = POLLIN},
			{.fd = io->sigfd, .events = POLLIN},
			{.fd = io->in_eof || io->in_call ? -1 : 0, .events = POLLIN},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return pd_ctl_fail(PD_EXIT_TRANSPORT, pd_code_from_errno(errno), "poll: %s",
					   strerror(errno));
		}
		if (p[1].revents)
			rc = on_signal(io);
		if (rc == PD_EXIT_OK && p[2].revents && !done(io))
			rc = forward_stdin(io);
		if (rc == PD_EXIT_OK && p[0].revents && !done(io))
			rc = receive(io);
	}
	return rc;
}

int pd_ctl_attach(struct pd_ctl *ctl, const struct pd_ctl_attach *a, int *status)
{
	int rc = pd_ctl_connect(ctl);
	if (rc != PD_EXIT_OK)
		return rc;
	struct io *io = calloc(1, sizeof(*io));
	if (!io)
		return pd_ctl_fail(PD_EXIT_TRANSPORT, PD_RESOURCE_EXHAUSTED, "out of memory");
	io->ctl = ctl;
	io->a = a;
	io->err_eof = a->tty; /* a tty is one stream: ReadStderr would read the same pty */
	/* Blocked from here to the exit of pidonectl: they are read from the signalfd, and a
	 * signal that comes after the loop must not kill us halfway through a RemoveContainer. */
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
	sigset_t mask;
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN); /* our stdout going away is EPIPE, handled above */
	io->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (io->sigfd < 0) {
		rc = pd_ctl_fail(PD_EXIT_TRANSPORT, pd_code_from_errno(errno), "signalfd: %s",
				 strerror(errno));
	} else {
		struct pd_ctl_term term;
		if (a->tty)
			pd_ctl_term_raw(&term);
		rc = pump(io);
		if (a->tty)
			pd_ctl_term_restore(&term);
		close(io->sigfd);
	}
	*status = io->status;
	free(io);
	return rc;
}
