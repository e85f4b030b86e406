#include "signals.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"

void pd_signals_block_all(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, old);
}

void pd_signals_reset_for_child(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL/SIGSTOP/invalid */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void on_signalfd(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct pd_signals *s = pd_container_of(w, struct pd_signals, watch);
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t n = read(w->fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			break; /* EAGAIN: drained */
		switch (si.ssi_signo) {
		case SIGCHLD:
			s->on_child(s->data);
			break;
		case SIGTERM:
		case SIGPWR:
			s->on_terminate(s->data, (int)si.ssi_signo);
			break;
		case SIGINT:
			/* ^C on the console must not kill pid 1; a host run stops on it. */
			if (s->is_pid1)
				pd_info("ignoring signal", "signal=SIGINT");
			else
				s->on_terminate(s->data, SIGINT);
			break;
		default:
			pd_debug("signal ignored", "signal=%u", si.ssi_signo);
		}
	}
}

int pd_signals_open(struct pd_signals *s, struct pd_loop *loop, struct pd_error *err)
{
	sigset_t set;
	sigfillset(&set);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "signalfd");
	s->watch.fd = fd;
	s->watch.fn = on_signalfd;
	if (pd_loop_add(loop, &s->watch, EPOLLIN, err) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}
