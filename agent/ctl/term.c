/* The local terminal while pidonectl is attached to a process with a tty: raw, so that every
 * key (^C, ^D, arrows) reaches the container's own line discipline, and restored after. */
#include "ctl.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void pd_ctl_term_raw(struct pd_ctl_term *t)
{
	t->raw = false;
	t->fd = 0;
	if (!isatty(t->fd) || tcgetattr(t->fd, &t->saved) < 0)
		return;
	struct termios raw = t->saved;
	cfmakeraw(&raw); /* output too: the container's pty already turned \n into \r\n */
	if (tcsetattr(t->fd, TCSANOW, &raw) == 0)
		t->raw = true;
}

void pd_ctl_term_restore(struct pd_ctl_term *t)
{
	if (t->raw)
		tcsetattr(t->fd, TCSADRAIN, &t->saved);
	t->raw = false;
}

bool pd_ctl_term_size(unsigned *rows, unsigned *cols)
{
	struct winsize ws;
	for (int fd = 0; fd <= 1; fd++)
		if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
			*rows = ws.ws_row;
			*cols = ws.ws_col;
			return true;
		}
	return false;
}
