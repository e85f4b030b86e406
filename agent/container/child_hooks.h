/* Hooks as the container child sees them (child_hooks.c). */
#ifndef PD_CONTAINER_CHILD_HOOKS_H
#define PD_CONTAINER_CHILD_HOOKS_H

#include "agent/container/config.h"
#include "agent/error.h"

/* Before the rootfs: when the config has hooks that need this stop, ask the agent to run
 * prestart/createRuntime (PD_SYNC_HOOKS), wait for PD_SYNC_RESUME, then run the
 * createContainer hooks here, in the container's mount namespace. */
int pd_child_hooks_create(const struct pd_container_config *cfg, int sync_fd, struct pd_error *err);

/* After START, before the exec: the startContainer hooks, inside the container. */
int pd_child_hooks_start(const struct pd_container_config *cfg, struct pd_error *err);

#endif
