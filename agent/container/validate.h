/* Checks of host-supplied ids and paths, shared by the RPC layer and the engine.
 *
 * Every id and path in a request comes from the host and ends up in a file name, a map key
 * or a log line; these functions are the one place that says what is acceptable. They fail
 * with INVALID_ARGUMENT and a message that names the field (RESOURCE_EXHAUSTED only when the
 * arena cannot hold a cleaned path). */
#ifndef PD_CONTAINER_VALIDATE_H
#define PD_CONTAINER_VALIDATE_H

#include <stddef.h>

#include "agent/arena.h"
#include "agent/error.h"

/* Container id: ^[A-Za-z0-9][A-Za-z0-9_.-]+$ (ASCII only; 2..PD_ID_MAX chars). It becomes a
 * directory name under /run, so "." and ".." are impossible by the first-character rule. */
int pd_validate_container_id(const char *id, struct pd_error *err);

/* Exec id: 1..PD_ID_MAX ASCII characters from '!' to '~', no '/'. Kata does not check it; we
 * do, since ids become map keys and log fields: no spaces, quotes are fine but no control
 * bytes, so a log line stays one line of key=value pairs. */
int pd_validate_exec_id(const char *id, struct pd_error *err);

/* An absolute path from the host, checked and cleaned:
 *   - must start with '/', be shorter than PATH_MAX, contain no ".." component (rejected,
 *     never resolved: the engine resolves paths under a root without trusting them);
 *   - "//" collapses to "/", "." components and a trailing '/' are dropped ("/a/./b/" ->
 *     "/a/b"; "/" and "//" -> "/").
 * `what` names the field in the message ("Mounts[3].destination: relative path 'x'").
 * The clean copy goes to *clean, allocated in `a`; with a == NULL or clean == NULL the path
 * is only checked. */
int pd_validate_abs_path(const char *path, const char *what, struct pd_arena *a, char **clean,
			 struct pd_error *err);

/* A host string as an error message may quote it: at most PD_SHOWN_LEN bytes, bytes outside
 * printable ASCII as '?', "..." when cut. Returns buf. size >= PD_SHOWN_MAX is enough. */
#define PD_SHOWN_LEN 64
#define PD_SHOWN_MAX (PD_SHOWN_LEN + 4)
const char *pd_shown(const char *s, char *buf, size_t size);

#endif
