/* pid 1's session: standard fds on the console, controlling tty, /dev/ptmx, PATH, hostname. */
#ifndef PD_INIT_CONSOLE_H
#define PD_INIT_CONSOLE_H

#include <stddef.h>

#include "agent/error.h"

#define PD_INIT_PATH "/bin:/sbin/:/usr/bin/:/usr/sbin/" /* Kata's value, verbatim */

/* Open /dev/console (else /dev/null) on each of fds 0, 1, 2 that is closed, mounting
 * devtmpfs on /dev first if there is no /dev/console. Without this a file opened later
 * could land on fd 2 and receive the logs. Best effort. */
void pd_console_ensure_stdio(void);

/* setsid(), then make fd 0 the controlling terminal (TIOCSCTTY), as the Kata agent does.
 * Returns -1 (err set) if fd 0 is not a terminal or the ioctl fails. */
int pd_console_take(struct pd_error *err);

/* Replace devdir/ptmx with a symlink to pts/ptmx (the devpts instance's multiplexer). */
int pd_console_link_ptmx(const char *devdir, struct pd_error *err);

/* First whitespace-separated token of file, or "localhost" when the file is missing, empty
 * or its name longer than len - 1 (len should be HOST_NAME_MAX + 1). */
void pd_hostname_read(const char *file, char *name, size_t len);

/* sethostname(pd_hostname_read(file)). */
int pd_hostname_setup(const char *file, struct pd_error *err);

#endif
