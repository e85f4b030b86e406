/* GetDiagnosticData: the container's termination log (Kubernetes' terminationMessagePath,
 * /dev/termination-log by default), read from the guest-side source of that mount, at
 * most 4 KiB as in Kata. */
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/rpc/lookup.h"

#define TERMINATION_LOG     "/dev/termination-log"
#define TERMINATION_LOG_MAX 4096

static const char *termination_log_source(const struct pd_container *ctr)
{
	for (size_t i = 0; i < ctr->cfg.n_mounts; i++)
		if (ctr->cfg.mounts[i].bind &&
		    strcmp(ctr->cfg.mounts[i].destination, TERMINATION_LOG) == 0)
			return ctr->cfg.mounts[i].source;
	return NULL;
}

static int rpc_get_diagnostic_data(struct pd_call *call, const ProtobufCMessage *msg,
				   struct pd_error *err)
{
	const Grpc__GetDiagnosticDataRequest *req = (const void *)msg;
	if (strcmp(req->log_type, "termination_log") != 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "unknown log_type '%.64s'",
				    req->log_type);
	struct pd_container *ctr = pd_rpc_find_container(call, req->container_id, err);
	if (!ctr)
		return -1;
	const char *src = termination_log_source(ctr);
	if (!src)
		return pd_error_set(err, PD_NOT_FOUND, 0, "container %s has no %s mount", ctr->id,
				    TERMINATION_LOG);
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", src);
	char buf[TERMINATION_LOG_MAX + 1];
	ssize_t n = read(fd, buf, TERMINATION_LOG_MAX);
	int e = errno;
	close(fd);
	if (n < 0)
		return pd_error_errno(err, e, "read %s", src);
	buf[n] = '\0';
	Grpc__GetDiagnosticDataResponse resp = GRPC__GET_DIAGNOSTIC_DATA_RESPONSE__INIT;
	resp.data = buf; /* a string field: the text up to the first NUL */
	pd_call_reply(call, &resp.base);
	return 0;
}

const struct pd_rpc_entry pd_rpc_diagnostic[] = {
	{"GetDiagnosticData", rpc_get_diagnostic_data},
	{NULL, NULL},
};
