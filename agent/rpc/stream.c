/* ReadStdout, ReadStderr, WriteStdin, CloseStdin, TtyWinResize. */
#include "rpc.h"

#include "agent.pb-c.h"
#include "agent/rpc/lookup.h"

static int read_stream(struct pd_call *call, const ProtobufCMessage *msg, bool stderr_stream,
		       struct pd_error *err)
{
	const Grpc__ReadStreamRequest *req = (const void *)msg;
	struct pd_task *t = pd_rpc_task(call, req->container_id, req->exec_id, err);
	if (!t)
		return -1;
	return pd_stdio_read(&t->io, stderr_stream, call, req->len, err);
}

static int rpc_read_stdout(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	return read_stream(call, msg, false, err);
}

static int rpc_read_stderr(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	return read_stream(call, msg, true, err);
}

static int rpc_write_stdin(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	const Grpc__WriteStreamRequest *req = (const void *)msg;
	struct pd_task *t = pd_rpc_task(call, req->container_id, req->exec_id, err);
	if (!t)
		return -1;
	if (req->data.len == 0) { /* empty data means: close stdin */
		pd_stdio_close_stdin(&t->io);
		Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
		pd_call_reply(call, &resp.base);
		return 0;
	}
	int rc = pd_stdio_write(&t->io, call, req->data.data, req->data.len, err);
	if (rc < 0)
		pd_error_wrap(err, "WriteStdin %s/%s", req->container_id, req->exec_id);
	return rc;
}

static int rpc_close_stdin(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	const Grpc__CloseStdinRequest *req = (const void *)msg;
	struct pd_task *t = pd_rpc_task(call, req->container_id, req->exec_id, err);
	if (!t)
		return -1;
	pd_stdio_close_stdin(&t->io);
	pd_call_reply(call, NULL);
	return 0;
}

static int rpc_tty_win_resize(struct pd_call *call, const ProtobufCMessage *msg,
			      struct pd_error *err)
{
	const Grpc__TtyWinResizeRequest *req = (const void *)msg;
	struct pd_task *t = pd_rpc_task(call, req->container_id, req->exec_id, err);
	if (!t || pd_stdio_resize(&t->io, req->row, req->column, err) < 0)
		return -1;
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_stream[] = {
	{"ReadStdout", rpc_read_stdout},
	{"ReadStderr", rpc_read_stderr},
	{"WriteStdin", rpc_write_stdin},
	{"CloseStdin", rpc_close_stdin},
	{"TtyWinResize", rpc_tty_win_resize},
	{NULL, NULL},
};
