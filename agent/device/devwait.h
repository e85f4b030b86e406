/* Waiting for hot-plugged block devices: a handler that finds its device missing parks
 * its call here; the call is run again, from the start, when a matching uevent comes, and
 * fails DEADLINE_EXCEEDED naming the device when agent.hotplug_timeout passes first.
 *
 * Handlers must look devices up before they change anything (a run that parks leaves
 * nothing behind), and call pd_devwait_listen before the lookup: the socket is then open
 * before sysfs is read, so a device that appears in between is never missed. The request
 * is kept packed while it waits (the dispatcher frees the decoded one). */
#ifndef PD_DEVICE_DEVWAIT_H
#define PD_DEVICE_DEVWAIT_H

#include <protobuf-c/protobuf-c.h>

#include "agent/device/blockdev.h"
#include "agent/loop.h"
#include "agent/ttrpc/server.h"

#define PD_DEVWAIT_MAX 64 /* calls waiting at once */

/* The call that waits, and how to run it again. */
struct pd_devwait_req {
	struct pd_loop *loop;
	struct pd_call *call;
	pd_rpc_fn fn;
	const ProtobufCMessage *msg;
	unsigned timeout_s; /* agent.hotplug_timeout */
};

/* Open the uevent socket and the timer into the loop (once; later calls do nothing). */
int pd_devwait_listen(struct pd_loop *loop, struct pd_error *err);
/* Find want now (<sysfs>) or park the call until it shows up (the handler then runs again
 * with its request), for at most timeout_s from the first time this call parked.
 * Returns 0 and *found, PD_RPC_PARKED, or -1 with err. */
int pd_devwait_find(const struct pd_devwait_req *r, const char *sysfs,
		    const struct pd_blk_want *want, struct pd_blk_found *found,
		    struct pd_error *err);

#endif
