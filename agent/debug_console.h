/* agent.debug_console: a shell for a person debugging the guest — on the console, or on
 * vsock port agent.debug_console_vport for each connection (as Kata's runtime opens it).
 * The shell is the image's (busybox in a DEBUG_SHELL=1 initrd); without one, nothing runs. */
#ifndef PD_DEBUG_CONSOLE_H
#define PD_DEBUG_CONSOLE_H

#include "agent/error.h"
#include "agent/loop.h"

int pd_debug_console_start(struct pd_loop *loop, unsigned vport, struct pd_error *err);

#endif
