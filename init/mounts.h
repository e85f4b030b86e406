/* Early mounts of pid 1 and a reader for /proc/self/mountinfo. */
#ifndef PD_INIT_MOUNTS_H
#define PD_INIT_MOUNTS_H

#include <stdbool.h>
#include <stdio.h>

#include "agent/error.h"

/* One line of mountinfo, pointing into the (modified) line buffer. */
struct pd_mountinfo_entry {
	char *mount_point; /* unescaped ("\040" -> ' ') */
	char *fstype;
};

/* Parse one mountinfo line in place (the buffer is cut and unescaped). Returns 0, or -1
 * if the line is not in mountinfo format. */
int pd_mountinfo_parse_line(char *line, struct pd_mountinfo_entry *e);

/* Whether the mountinfo text read from f lists a mount at path whose fstype is fstype
 * (NULL = any fstype). Reads f to the end or to the first match. */
bool pd_mountinfo_has(FILE *f, const char *path, const char *fstype);

/* The same against /proc/self/mountinfo; false when /proc is not mounted yet. */
bool pd_is_mount_point(const char *path, const char *fstype);

/* mkdir -p with mode for each missing component; an existing directory is fine. */
int pd_mkdir_p(const char *path, unsigned mode, struct pd_error *err);

/* /proc /sys /dev(devtmpfs) /dev/shm /dev/pts /run /tmp, each skipped when already mounted
 * with its fstype, directories created. A failure is logged and the next mount tried;
 * returns -1 (err set) only if /proc is not there afterwards, since nothing works without. */
int pd_mounts_early(struct pd_error *err);

#endif
