/* Mount option strings (OCI Mounts[].options, fstab style) -> mount(2) arguments. */
#ifndef PD_CONTAINER_MOUNTOPTS_H
#define PD_CONTAINER_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/arena.h"
#include "agent/error.h"

/* The largest data string mount(2) takes: the kernel copies at most one page. */
#define PD_MOUNT_DATA_MAX 4095

/* Sort the options of one mount:
 *   flags:        ro rw nosuid suid nodev dev noexec exec sync async dirsync remount mand
 *                 nomand atime noatime diratime nodiratime relatime norelatime strictatime
 *                 nostrictatime lazytime nolazytime nosymfollow symfollow, bind (MS_BIND),
 *                 rbind (MS_BIND|MS_REC); "defaults" sets nothing. The "no"/"un" form clears
 *                 what the other sets, so the last of a pair wins ("ro,rw" = rw).
 *   propagation:  private rprivate shared rshared slave rslave unbindable runbindable; the
 *                 last one wins (a mount has one propagation type).
 *   data:         every other non-empty option, in order, comma-joined, e.g.
 *                 "mode=755,size=65536k" or "newinstance,ptmxmode=0666"; NULL when none.
 *                 Unknown options are data: the filesystem judges them. An option is not
 *                 split at commas (an SELinux context="a,b" must stay whole).
 * *bind is true when bind or rbind was given. data is allocated in `a`.
 * Errors: data longer than PD_MOUNT_DATA_MAX (INVALID_ARGUMENT), arena full
 * (RESOURCE_EXHAUSTED). The message does not name the mount: the caller wraps it. */
int pd_mount_options_parse(char *const *opts, size_t n, struct pd_arena *a, unsigned long *flags,
			   unsigned long *propagation, char **data, bool *bind,
			   struct pd_error *err);

/* "private" -> MS_PRIVATE, "rslave" -> MS_SLAVE|MS_REC ... ; -1 for any other name. */
int pd_mount_propagation_from_name(const char *name, unsigned long *propagation);

#endif
