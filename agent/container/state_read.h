/* Reading a state.json back (for `pidone list` and `pidone state`): the few fields a person
 * asks about, from a file that may be damaged, half-written by something else, or hostile.
 * Every failure is an error return; nothing here trusts the file's shape or size. */
#ifndef PD_CONTAINER_STATE_READ_H
#define PD_CONTAINER_STATE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

/* A state.json has a few hundred tokens; this is room for thousands of mounts. */
#define PD_STATE_MAX_TOKENS (1u << 20)

struct pd_state_view {
	char *id;
	int64_t init_pid;
	uint64_t init_start; /* 0 when absent */
	char *created;	     /* the text as written (RFC 3339) */
	char *status;	     /* "" when absent */
	char *rootfs;	     /* config.rootfs */
	char *hostname;	     /* config.hostname, "" when absent */
	/* Where the status string's characters lie in the text (between its quotes), so a
	 * reader can print the file with a corrected status. Valid when has_status. */
	bool has_status;
	size_t status_start, status_end;
};

/* Parse len bytes of text. Requires id, init_process_pid, created and config.rootfs.
 * init_process_start may be a number or (as old runc wrote it) a string of digits. */
int pd_state_view_parse(const char *text, size_t len, struct pd_state_view *v,
			struct pd_error *err);

/* Read the file at path (at most PD_STATE_MAX_BYTES) and parse it. With text != NULL the
 * file's bytes are handed out as well (malloc'd, NUL-terminated, length in *len). */
int pd_state_view_load(const char *path, struct pd_state_view *v, char **text, size_t *len,
		       struct pd_error *err);

void pd_state_view_free(struct pd_state_view *v);

/* The whole file, malloc'd and NUL-terminated; EFBIG beyond max bytes. */
int pd_state_read_file(const char *path, size_t max, char **out, size_t *len, struct pd_error *err);

#endif
