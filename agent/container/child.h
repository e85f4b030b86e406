/* The container process's side of a spawn: everything between clone and exec. */
#ifndef PD_CONTAINER_CHILD_H
#define PD_CONTAINER_CHILD_H

#include "agent/container/spawn.h"

__attribute__((noreturn)) void pd_child_main(const struct pd_spawn_request *req, int sync_fd);

#endif
