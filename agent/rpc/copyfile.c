/* CopyFile: the host writes a file, directory or symlink below
 * /run/kata-containers/shared/containers (agent/copyfile.c does the work). */
#include "rpc.h"

#include "agent.pb-c.h"
#include "agent/copyfile.h"
#include "agent/log.h"

static int rpc_copy_file(struct pd_call *call, const ProtobufCMessage *msg, struct pd_error *err)
{
	const Grpc__CopyFileRequest *req = (const void *)msg;
	struct pd_copy_req r = {
	    .path = req->path,
	    .file_size = req->file_size,
	    .file_mode = req->file_mode,
	    .dir_mode = req->dir_mode,
	    .uid = req->uid,
	    .gid = req->gid,
	    .offset = req->offset,
	    .data = req->data.data,
	    .len = req->data.len,
	};
	enum pd_copy_done done;
	if (pd_copy_file(PD_SHARED_DIR, &r, &done, err) < 0)
		return -1;
	static const char *const what[] = {"directory", "symlink", "chunk", "file"};
	/* A file in many chunks is one info line, when it is in place. */
	pd_log(done == PD_COPY_CHUNK ? PD_LOG_DEBUG : PD_LOG_INFO, "copied",
	       "path=%s what=%s offset=%lld len=%zu size=%lld", req->path, what[done],
	       (long long)req->offset, req->data.len, (long long)req->file_size);
	pd_call_reply(call, NULL);
	return 0;
}

const struct pd_rpc_entry pd_rpc_copyfile[] = {
    {"CopyFile", rpc_copy_file},
    {NULL, NULL},
};
