#ifndef PD_SANDBOX_NS_H
#define PD_SANDBOX_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent/error.h"
#include "agent/sandbox/sandbox.h"

/* Make and pin fresh ipc and uts namespaces (hostname set in the uts one, "" = leave). */
int pd_sandbox_ns_create(const char *hostname, struct pd_error *err);
void pd_sandbox_ns_remove(void);
/* Pin /proc/<pid>/ns/<kind> on PD_SANDBOX_NS_DIR/<kind> (a file created for it); undo. */
int pd_sandbox_ns_bind(pid_t pid, const char *kind, struct pd_error *err);
void pd_sandbox_ns_unbind(const char *kind);
bool pd_sandbox_ns_exists(const char *kind);

#endif
