#include "stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/log.h"
#include "agent/ttrpc/server.h"

#define READ_MAX      (1u << 20) /* per ReadStdout: the shim asks 32 KiB */
#define TTY_QUIET_NS  (50 * 1000 * 1000)

/* WriteStdin bytes the agent keeps while a process does not read them (what its pipe or
 * tty did not take at once). The shim writes one chunk of at most 32 KiB at a time and
 * waits for its answer, so one process needs one request's worth: a whole frame's data
 * (4 MiB) always fits when nothing waits, a second request while that much waits does
 * not. Over all processes, four such processes' worth. Past either bound the request is
 * RESOURCE_EXHAUSTED and none of its bytes are written. */
#define STDIN_KEPT_MAX	   (4u << 20)
#define STDIN_KEPT_ALL_MAX (16u << 20)

static size_t stdin_kept_all; /* over every process of the agent */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- output streams ----------------------------------------------------------------- */

static void ostream_watch(struct pd_ostream *s, bool on)
{
	struct pd_error err;
	if (on == s->watching || s->watch.fd < 0)
		return;
	if (on && pd_loop_add(s->loop, &s->watch, EPOLLIN, &err) < 0) {
		pd_warn("cannot watch output", "err=\"%s\"", err.msg);
		return;
	}
	if (!on)
		pd_loop_del(s->loop, &s->watch);
	s->watching = on;
}

static void reply_data(struct pd_call *call, const uint8_t *data, size_t len)
{
	Grpc__ReadStreamResponse resp = GRPC__READ_STREAM_RESPONSE__INIT;
	resp.data.data = (uint8_t *)data;
	resp.data.len = len;
	pd_list_del(&call->owner_node);
	pd_call_reply(call, &resp.base);
}

static void ostream_set_eof(struct pd_ostream *s)
{
	s->eof = true;
	ostream_watch(s, false);
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &s->readers)
	reply_data(pd_container_of(pos, struct pd_call, owner_node), NULL, 0);
}

static void start_quiet_timer(struct pd_ostream *s)
{
	if (s->quiet.fd < 0) {
		s->quiet.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct pd_error err;
		if (s->quiet.fd < 0 || pd_loop_add(s->loop, &s->quiet, EPOLLIN, &err) < 0) {
			close_fd(&s->quiet.fd);
			ostream_set_eof(s); /* no timer: answer EOF now rather than hang */
			return;
		}
	}
	struct itimerspec its = {.it_value = {.tv_nsec = TTY_QUIET_NS}};
	timerfd_settime(s->quiet.fd, 0, &its, NULL);
}

/* Serve parked readers from the fd until it would block. */
static void ostream_pump(struct pd_ostream *s)
{
	while (!s->eof && !pd_list_empty(&s->readers)) {
		struct pd_call *call = pd_container_of(s->readers.next, struct pd_call, owner_node);
		size_t max = (size_t)(uintptr_t)call->owner_data;
		/* Take from the pipe only what the reply can carry: bytes beyond the bound of
		 * unread replies stay in the pipe (a short read), none at all fail the call. */
		size_t room = pd_call_reply_room(call);
		if (room < max)
			max = room > 16 ? room - 16 : 0; /* ReadStreamResponse's own header */
		if (max == 0) {
			struct pd_error err;
			pd_call_no_room(call, (size_t)(uintptr_t)call->owner_data, &err);
			pd_error_wrap(&err, "read output");
			pd_list_del(&call->owner_node);
			pd_call_fail(call, &err);
			continue;
		}
		uint8_t *buf = malloc(max);
		if (!buf) {
			struct pd_error err;
			pd_error_set(&err, PD_RESOURCE_EXHAUSTED, ENOMEM, "out of memory");
			pd_list_del(&call->owner_node);
			pd_call_fail(call, &err);
			continue;
		}
		ssize_t n = read(s->watch.fd, buf, max);
		if (n > 0) {
			reply_data(call, buf, (size_t)n);
		} else if (n == 0 || (n < 0 && errno == EIO)) {
			ostream_set_eof(s); /* EIO: every pty slave is closed */
		} else if (errno == EAGAIN) {
			free(buf);
			if (s->owner_exited && !s->tty)
				ostream_set_eof(s);
			else if (s->owner_exited)
				start_quiet_timer(s);
			break;
		} else if (errno != EINTR) {
			pd_debug("output read failed", "errno=%d", errno);
			ostream_set_eof(s);
		}
		free(buf);
	}
	ostream_watch(s, !s->eof && !pd_list_empty(&s->readers));
}

static void ostream_on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	ostream_pump(pd_container_of(w, struct pd_ostream, watch));
}

static void ostream_on_quiet(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_ostream *s = pd_container_of(w, struct pd_ostream, quiet);
	uint64_t ticks;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	/* Nothing arrived during the quiet period: the process's output has all been read. */
	ostream_pump(s);
	if (!s->eof && !pd_list_empty(&s->readers))
		ostream_set_eof(s);
}

static void ostream_init(struct pd_ostream *s, struct pd_loop *loop, int fd, bool tty)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->watch.fd = fd;
	s->watch.fn = ostream_on_event;
	s->quiet.fd = -1;
	s->quiet.fn = ostream_on_quiet;
	s->tty = tty;
	pd_list_init(&s->readers);
}

static void ostream_close(struct pd_ostream *s)
{
	if (s->loop)
		ostream_set_eof(s);
	if (s->quiet.fd >= 0) {
		pd_loop_del(s->loop, &s->quiet);
		close_fd(&s->quiet.fd);
	}
	close_fd(&s->watch.fd);
}

static void reader_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
}

int pd_stdio_read(struct pd_stdio *io, bool stderr_stream, struct pd_call *call, size_t max,
		  struct pd_error *err)
{
	struct pd_ostream *s = (stderr_stream && !io->tty) ? &io->err : &io->out;
	if (s->eof || s->watch.fd < 0) {
		reply_data(call, NULL, 0);
		return 0;
	}
	if (max == 0 || max > READ_MAX)
		max = max ? READ_MAX : 32768;
	call->owner_data = (void *)(uintptr_t)max;
	call->on_cancel = reader_cancel;
	pd_list_add_tail(&s->readers, &call->owner_node);
	ostream_pump(s);
	return call->done ? 0 : PD_RPC_PARKED;
}

/* ---- stdin --------------------------------------------------------------------------- */

/* A WriteStdin's bytes that the fd did not take at once, kept until it does. */
struct pending_write {
	struct pd_istream *s;
	size_t reply_len; /* the request's length: the answer once all is written */
	size_t len, off;
	uint8_t data[];
};

static void pending_free(struct pending_write *pw)
{
	if (!pw)
		return;
	pw->s->kept -= pw->len;
	stdin_kept_all -= pw->len;
	free(pw);
}

static void reply_written(struct pd_call *call, size_t len)
{
	Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
	resp.len = (uint32_t)len;
	pd_call_reply(call, &resp.base);
}

static void writer_finish(struct pd_call *call, const struct pd_error *err)
{
	struct pending_write *pw = call->owner_data;
	size_t len = pw ? pw->reply_len : 0;
	pd_list_del(&call->owner_node);
	pending_free(pw);
	call->owner_data = NULL;
	if (err)
		pd_call_fail(call, err);
	else
		reply_written(call, len);
}

static void writer_cancel(struct pd_call *call)
{
	pd_list_del(&call->owner_node);
	pending_free(call->owner_data);
	call->owner_data = NULL;
}

static void istream_watch(struct pd_istream *s, bool on)
{
	struct pd_error err;
	if (on == s->watching || s->watch.fd < 0)
		return;
	if (on && pd_loop_add(s->loop, &s->watch, EPOLLOUT, &err) < 0)
		return;
	if (!on)
		pd_loop_del(s->loop, &s->watch);
	s->watching = on;
}

static int stdin_write_error(struct pd_error *err, int errnum)
{
	pd_error_errno(err, errnum, "write to stdin");
	err->code = PD_FAILED_PRECONDITION; /* the reader is gone (EPIPE) */
	return -1;
}

/* Write queued data in order until the pipe is full. */
static void istream_pump(struct pd_istream *s)
{
	while (!pd_list_empty(&s->writers)) {
		struct pd_call *call = pd_container_of(s->writers.next, struct pd_call, owner_node);
		struct pending_write *pw = call->owner_data;
		ssize_t n = write(s->watch.fd, pw->data + pw->off, pw->len - pw->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			struct pd_error err;
			stdin_write_error(&err, errno);
			writer_finish(call, &err);
			continue;
		}
		pw->off += (size_t)n;
		if (pw->off == pw->len)
			writer_finish(call, NULL);
	}
	istream_watch(s, !pd_list_empty(&s->writers));
}

static void istream_on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	istream_pump(pd_container_of(w, struct pd_istream, watch));
}

static void istream_close(struct pd_istream *s)
{
	struct pd_error err;
	pd_error_set(&err, PD_FAILED_PRECONDITION, EPIPE, "stdin is closed");
	struct pd_list *pos, *tmp;
	pd_list_for_each_safe(pos, tmp, &s->writers)
	writer_finish(pd_container_of(pos, struct pd_call, owner_node), &err);
	istream_watch(s, false);
	close_fd(&s->watch.fd);
	s->closed = true;
}

/* Is there room to keep len more bytes? The check counts the whole request, before any
 * of it is written, so a refused request leaves the process's stdin untouched. */
static int stdin_room(const struct pd_istream *s, size_t len, struct pd_error *err)
{
	if (s->kept + len > STDIN_KEPT_MAX)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
				    "stdin: %zu bytes wait for the process to read them, %zu more "
				    "would pass the bound of %u per process",
				    s->kept, len, STDIN_KEPT_MAX);
	if (stdin_kept_all + len > STDIN_KEPT_ALL_MAX)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, 0,
				    "stdin: %zu bytes wait for processes to read them, %zu more would "
				    "pass the agent's bound of %u",
				    stdin_kept_all, len, STDIN_KEPT_ALL_MAX);
	return 0;
}

int pd_stdio_write(struct pd_stdio *io, struct pd_call *call, const void *data, size_t len,
		   struct pd_error *err)
{
	struct pd_istream *s = &io->in;
	if (s->closed || s->watch.fd < 0)
		return pd_error_set(err, PD_FAILED_PRECONDITION, EPIPE, "stdin is closed");
	if (stdin_room(s, len, err) < 0)
		return -1;
	size_t done = 0;
	while (pd_list_empty(&s->writers) && done < len) { /* nothing queued: straight in */
		ssize_t n = write(s->watch.fd, (const uint8_t *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return stdin_write_error(err, errno);
		done += (size_t)n;
	}
	if (done == len) {
		reply_written(call, len);
		return 0;
	}
	struct pending_write *pw = malloc(sizeof(*pw) + len - done);
	if (!pw) /* the bytes already written stay written: say how many */
		return pd_error_errno(err, ENOMEM, "stdin buffer: %zu of %zu bytes written", done,
				      len);
	*pw = (struct pending_write){.s = s, .reply_len = len, .len = len - done};
	memcpy(pw->data, (const uint8_t *)data + done, len - done);
	s->kept += pw->len;
	stdin_kept_all += pw->len;
	call->owner_data = pw;
	call->on_cancel = writer_cancel;
	pd_list_add_tail(&s->writers, &call->owner_node);
	istream_pump(s);
	return call->done ? 0 : PD_RPC_PARKED;
}

void pd_stdio_close_stdin(struct pd_stdio *io)
{
	if (io->in.closed)
		return;
	if (io->tty && io->in.watch.fd >= 0) {
		/* A tty has no EOF of its own: the line discipline's EOF character is one. Twice:
		 * the first only ends a partial line ("abc" without a newline), the second is then
		 * an EOF at the start of a line. */
		char eof[2] = {4, 4};
		struct termios t;
		if (tcgetattr(io->in.watch.fd, &t) == 0)
			eof[0] = eof[1] = (char)t.c_cc[VEOF];
		if (write(io->in.watch.fd, eof, 2) < 0)
			pd_debug("tty EOF not delivered", "errno=%d", errno);
	}
	istream_close(&io->in);
}

/* ---- the whole stdio ----------------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int open_pipes(struct pd_stdio *io, unsigned pipe_size, int fds[3][2],
		      struct pd_error *err)
{
	for (int i = 0; i < 3; i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0)
			return pd_error_errno(err, errno, "pipe");
	for (int i = 1; i < 3 && pipe_size; i++)
		if (fcntl(fds[i][1], F_SETPIPE_SZ, (int)pipe_size) < 0)
			pd_debug("F_SETPIPE_SZ failed", "size=%u errno=%d", pipe_size, errno);
	io->child[0] = fds[0][0];
	io->child[1] = fds[1][1];
	io->child[2] = fds[2][1];
	io->in.watch.fd = fds[0][1];
	io->out.watch.fd = fds[1][0];
	io->err.watch.fd = fds[2][0];
	return 0;
}

static int open_pty(struct pd_stdio *io, unsigned short rows, unsigned short cols,
		    struct pd_error *err)
{
	int master, slave;
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	if (openpty(&master, &slave, NULL, NULL, rows && cols ? &ws : NULL) < 0)
		return pd_error_errno(err, errno, "openpty");
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	io->pty_master = master;
	io->out.watch.fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	io->in.watch.fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	io->child[0] = slave;
	io->child[1] = fcntl(slave, F_DUPFD_CLOEXEC, 3);
	io->child[2] = fcntl(slave, F_DUPFD_CLOEXEC, 3);
	if (io->out.watch.fd < 0 || io->in.watch.fd < 0 || io->child[1] < 0 || io->child[2] < 0)
		return pd_error_errno(err, errno, "dup pty");
	return 0;
}

int pd_stdio_open(struct pd_stdio *io, struct pd_loop *loop, bool tty, unsigned short rows,
		  unsigned short cols, unsigned pipe_size, struct pd_error *err)
{
	memset(io, 0, sizeof(*io));
	io->tty = tty;
	io->pty_master = -1;
	ostream_init(&io->out, loop, -1, tty);
	ostream_init(&io->err, loop, -1, false);
	io->in.loop = loop;
	io->in.watch.fd = -1;
	io->in.watch.fn = istream_on_event;
	pd_list_init(&io->in.writers);
	for (int i = 0; i < 3; i++)
		io->child[i] = -1;
	int fds[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	int rc = tty ? open_pty(io, rows, cols, err) : open_pipes(io, pipe_size, fds, err);
	if (rc < 0) {
		for (int i = 0; i < 3; i++) {
			close_fd(&fds[i][0]);
			close_fd(&fds[i][1]);
		}
		if (tty) {
			close_fd(&io->pty_master);
			pd_stdio_close_child(io);
			close_fd(&io->out.watch.fd);
			close_fd(&io->in.watch.fd);
		}
		memset(io->child, -1, sizeof(io->child));
		io->in.watch.fd = io->out.watch.fd = io->err.watch.fd = -1;
		return -1;
	}
	set_nonblock(io->out.watch.fd);
	set_nonblock(io->in.watch.fd);
	if (io->err.watch.fd >= 0)
		set_nonblock(io->err.watch.fd);
	return 0;
}

void pd_stdio_close_child(struct pd_stdio *io)
{
	for (int i = 0; i < 3; i++)
		close_fd(&io->child[i]);
}

void pd_stdio_close(struct pd_stdio *io)
{
	pd_stdio_close_child(io);
	istream_close(&io->in);
	ostream_close(&io->out);
	ostream_close(&io->err);
	close_fd(&io->pty_master);
}

void pd_stdio_owner_exited(struct pd_stdio *io)
{
	io->out.owner_exited = io->err.owner_exited = true;
	ostream_pump(&io->out);
	ostream_pump(&io->err);
}

int pd_stdio_resize(struct pd_stdio *io, unsigned rows, unsigned cols, struct pd_error *err)
{
	if (io->pty_master < 0)
		return pd_error_set(err, PD_UNAVAILABLE, 0, "no tty");
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (ioctl(io->pty_master, TIOCSWINSZ, &ws) < 0)
		return pd_error_errno(err, errno, "TIOCSWINSZ");
	return 0;
}
