#include "debug_console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/child_fds.h"
#include "agent/log.h"
#include "agent/proctable.h"
#include "agent/signals.h"
#include "agent/ttrpc/address.h"
#include "agent/ttrpc/peer.h"
#include "agent/ttrpc/transport.h"

static const char *shell;
static struct pd_watch listener = {.fd = -1};
static struct pd_proc_watch console_watch;

static const char *find_shell(void)
{
	static const char *const shells[] = {"/bin/bash", "/bin/sh"};
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (access(shells[i], X_OK) == 0)
			return shells[i];
	return NULL;
}

/* In the child: a session of its own, stdio on fd (the console: also its controlling
 * terminal, taken from pid 1 so that ^C reaches the shell), then the shell. */
__attribute__((noreturn)) static void run_shell(int fd, int tty)
{
	pd_undumpable();
	pd_signals_reset_for_child();
	setsid();
	if (tty)
		ioctl(fd, TIOCSCTTY, 1);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (pd_child_keep_fds(NULL, 0) < 0) /* fd too, when it was above 2 */
		_exit(127);
	char *argv[] = {(char *)shell, "-i", NULL};
	char *envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TERM=vt100", "HOME=/", NULL};
	execve(shell, argv, envp);
	_exit(127);
}

static void console_exited(struct pd_proc_watch *w, int status);

static void spawn_on_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		pd_warn("debug console: no /dev/console", "errno=%d", errno);
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		run_shell(fd, 1);
	close(fd);
	if (pid < 0) {
		pd_warn("debug console: fork failed", "errno=%d", errno);
		return;
	}
	pd_proc_watch_add(&console_watch, pid, console_exited);
	pd_info("debug console", "shell=%s pid=%d on=console", shell, (int)pid);
}

/* The shell on the console ended (exit, ^D): a new one, as a getty would. */
static void console_exited(struct pd_proc_watch *w, int status)
{
	if (pd_exit_code(status) == 127) {
		pd_warn("debug console: the shell could not run; not restarted", "shell=%s", shell);
		return;
	}
	spawn_on_console();
}

static void on_accept(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	int fd = pd_peer_accept(w->fd, SOCK_CLOEXEC); /* the host only: a shell as root */
	if (fd < 0)
		return;
	pid_t pid = fork();
	if (pid == 0)
		run_shell(fd, 0);
	int e = errno;
	close(fd); /* a shell per connection; its exit is reaped like any orphan */
	if (pid < 0) {
		pd_warn("debug console: fork failed", "errno=%d on=vsock", e);
		return;
	}
	pd_info("debug console", "shell=%s pid=%d on=vsock", shell, (int)pid);
}

int pd_debug_console_start(struct pd_loop *loop, unsigned vport, struct pd_error *err)
{
	shell = find_shell();
	if (!shell)
		return pd_error_set(err, PD_NOT_FOUND, ENOENT, "no shell in the image (/bin/sh)");
	if (vport == 0) {
		spawn_on_console();
		return 0;
	}
	struct pd_addr addr = {.kind = PD_ADDR_VSOCK, .cid = (uint32_t)-1, .port = vport};
	int fd = pd_transport_listen(&addr, err);
	if (fd < 0)
		return pd_error_wrap(err, "agent.debug_console_vport %u", vport);
	listener.fd = fd;
	listener.fn = on_accept;
	if (pd_loop_add(loop, &listener, EPOLLIN, err) < 0) {
		close(fd);
		listener.fd = -1;
		return -1;
	}
	return 0;
}
