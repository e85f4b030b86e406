/* A container's state file, in the shape of runc/libcontainer's state.json:
 *
 *   <root>/<sandbox-id>/<container-id>/state.json     root = /run/libcontainer in the guest
 *
 * the path the Kata Go agent (built on libcontainer) left its state at, so tools and people
 * who know runc find what they expect. The keys we emit, and where we differ from runc, are
 * listed in docs/state.md. The agent writes it on every change of state and removes it with
 * the container; `pidone list` and `pidone state` read it back (state_read.h). */
#ifndef PD_CONTAINER_STATE_H
#define PD_CONTAINER_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agent/container/config.h"
#include "agent/error.h"

#define PD_STATE_FILE	  "state.json"
#define PD_STATE_TMP_FILE ".state.json.tmp"
/* Where container states live, as libcontainer kept them for the Kata Go agent. */
#define PD_STATE_ROOT "/run/libcontainer"

/* The directory used when the sandbox has no id (no CreateSandbox, or an empty id). */
#define PD_STATE_NO_SANDBOX "default"
/* Largest state file written or read: far above a real one (a few KiB), bounded because
 * every string of the config could be host-chosen bytes that escape to 6x their size. */
#define PD_STATE_MAX_BYTES (32u << 20)

struct pd_state {
	const char *id;
	pid_t init_pid;
	uint64_t init_start; /* /proc/<pid>/stat starttime ticks */
	struct timespec created;
	const char *status; /* "created" "running" "paused" "stopped" */
	const struct pd_container_config *cfg;
	const char *ns_paths[PD_NS_COUNT]; /* NULL = not pinned */
	const char *const *cgroup_names;   /* parallel arrays, n_cgroups entries (may be 0) */
	const char *const *cgroup_paths;
	size_t n_cgroups;
};

/* Write <root>/<sandbox_id>/<id>/state.json atomically (a temp file in the same directory,
 * fsync, rename), creating the directories 0700 as needed. sandbox_id NULL or "" means
 * PD_STATE_NO_SANDBOX. Ids must be single path components (no '/', not "." or ".."). */
int pd_state_write(const char *root, const char *sandbox_id, const struct pd_state *st,
		   struct pd_error *err);

/* Remove the state file and its directory, and the sandbox directory when that becomes
 * empty. A state that is already gone is not an error. */
int pd_state_remove(const char *root, const char *sandbox_id, const char *id, struct pd_error *err);

/* The document alone (what pd_state_write puts in the file): malloc'd text in *out, its
 * length in *len. For tests and for callers that want the bytes. */
int pd_state_render(const struct pd_state *st, char **out, size_t *len, struct pd_error *err);

/* "2024-05-01T12:00:00.123456789Z": RFC 3339 in UTC with the fraction trimmed of trailing
 * zeros (none when 0), as Go's time.Time marshals — runc's "created". buf >= 40 bytes. */
#define PD_STATE_TIME_MAX 40
int pd_state_format_time(const struct timespec *ts, char *buf, size_t size);

#endif
