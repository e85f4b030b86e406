/* A terminal for tests/integration/ctl_run.sh: runs a command (pidonectl run -t ...) on a
 * pty of a given size, copies what it writes to our stdout, and at most once, when its
 * output contains a marker, resizes the pty and/or types some text. Then it reports whether
 * the command left the terminal as it found it, and exits with the command's status.
 *
 *   ctl_pty ROWS COLS [--when TEXT [--resize ROWS COLS] [--type TEXT]] -- CMD [ARG...]
 *
 * TEXT for --type understands \r, \n and \xHH. The last line printed is
 * "ctl_pty: tty restored" or "ctl_pty: tty NOT restored". */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define OUT_MAX (1 << 20)

struct script {
	const char *when;
	unsigned rows, cols; /* 0: no resize */
	char type[256];
	size_t type_len;
};

static size_t unescape(const char *s, char *out, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		if (s[0] == '\\' && s[1] == 'r')
			out[n++] = '\r', s += 2;
		else if (s[0] == '\\' && s[1] == 'n')
			out[n++] = '\n', s += 2;
		else if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = {s[2], s[3], 0};
			out[n++] = (char)strtol(hex, NULL, 16);
			s += 4;
		} else
			out[n++] = *s++;
	}
	return n;
}

static int usage(void)
{
	fprintf(stderr, "usage: ctl_pty ROWS COLS [--when TEXT [--resize ROWS COLS] "
			"[--type TEXT]] -- CMD [ARG...]\n");
	return 2;
}

static int parse(int argc, char **argv, struct winsize *ws, struct script *s)
{
	if (argc < 4)
		return -1;
	ws->ws_row = (unsigned short)atoi(argv[1]);
	ws->ws_col = (unsigned short)atoi(argv[2]);
	int i = 3;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!strcmp(argv[i], "--when") && i + 1 < argc) {
			s->when = argv[++i];
		} else if (!strcmp(argv[i], "--resize") && i + 2 < argc) {
			s->rows = (unsigned)atoi(argv[++i]);
			s->cols = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			s->type_len = unescape(argv[++i], s->type, sizeof(s->type));
		} else {
			return -1;
		}
	}
	return i + 1 < argc ? i + 1 : -1;
}

static void act(int master, const struct script *s)
{
	struct winsize ws = {.ws_row = (unsigned short)s->rows, .ws_col = (unsigned short)s->cols};
	if (s->rows)
		ioctl(master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH */
	if (s->type_len && write(master, s->type, s->type_len) < 0)
		perror("ctl_pty: write");
}

/* Copy the command's output until it closes the pty; act once on the marker ("" = at
 * once). */
static void drive(int master, struct script *s)
{
	static char seen[OUT_MAX];
	size_t n_seen = 0;
	bool acted = !s->when;
	char buf[4096];
	if (s->when && !*s->when) {
		act(master, s);
		acted = true;
	}
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno == EINTR)
			continue;
		ssize_t n = read(master, buf, sizeof(buf));
		if (n <= 0)
			return; /* EIO: every slave fd is closed, the command is gone */
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		if (n_seen + (size_t)n < sizeof(seen) - 1) {
			memcpy(seen + n_seen, buf, (size_t)n);
			n_seen += (size_t)n;
			seen[n_seen] = '\0';
		}
		if (!acted && strstr(seen, s->when)) {
			acted = true;
			act(master, s);
		}
	}
}

int main(int argc, char **argv)
{
	struct winsize ws = {0};
	struct script s = {0};
	int cmd = parse(argc, argv, &ws, &s);
	if (cmd < 0)
		return usage();
	alarm(60); /* a hung command fails the test instead of hanging it */
	int master, slave;
	if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
		perror("ctl_pty: openpty");
		return 2;
	}
	struct termios before;
	tcgetattr(master, &before); /* on a pty master: the settings of its slave */
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		close(slave);
		execvp(argv[cmd], argv + cmd);
		_exit(127);
	}
	close(slave); /* so that the master reads EIO once the command's side is closed */
	int status = 0;
	drive(master, &s);
	waitpid(pid, &status, 0);
	struct termios after;
	tcgetattr(master, &after);
	bool same = before.c_lflag == after.c_lflag && before.c_iflag == after.c_iflag &&
		    before.c_oflag == after.c_oflag;
	printf("\nctl_pty: tty %s\n", same ? "restored" : "NOT restored");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
