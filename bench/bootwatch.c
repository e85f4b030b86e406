/* bootwatch: when things happen during a QEMU boot, on the host's wall clock.
 *
 *   bootwatch CONSOLE_LOG QEMU_PID TIMEOUT_MS [--check ADDR] [--mark NAME=TEXT]...
 *             [--timeline FILE]
 *
 * Follows the console log QEMU writes (-serial file:CONSOLE_LOG) with inotify and notes the
 * arrival of the first line containing each TEXT ("mark_NAME=<ms>"). With --check, also
 * sends grpc.Health/Check to ADDR (a virtio-serial chardev socket: bytes sent before the
 * guest opens its port wait there, so the answer comes as soon as the agent serves) and
 * returns once it is answered ("health=<ms>"), else waits for QEMU_PID to exit ("exit=<ms>",
 * through a pidfd). Times are epoch milliseconds, to compare with the `date +%s%3N` taken
 * when QEMU was started (qemu-tests/lib.sh: PD_T0). --timeline writes every console line
 * from the first mark on, prefixed with its arrival in ms after that mark.
 * Prints "RESULT boot key=value..." and exits 1 on timeout. */
#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>

#include "bench.h"

#define MAX_MARKS 8

struct mark {
	const char *name, *text;
	double at; /* 0 = not seen */
};

struct watch {
	int log_fd, ino_fd, pid_fd;
	char line[4096];
	size_t line_len;
	struct mark marks[MAX_MARKS];
	int n_marks;
	FILE *timeline;
};

static void check_line(struct watch *w, double now, bool complete)
{
	w->line[w->line_len] = '\0';
	for (int i = 0; i < w->n_marks; i++)
		if (w->marks[i].at == 0 && strstr(w->line, w->marks[i].text))
			w->marks[i].at = now;
	if (complete && w->timeline && w->n_marks > 0 && w->marks[0].at > 0)
		fprintf(w->timeline, "%9.1f %s\n", now - w->marks[0].at, w->line);
}

/* Read what QEMU appended since last time; stamp each completed line with now. */
static void drain_log(struct watch *w)
{
	char buf[8192];
	double now = bn_epoch_ms();
	ssize_t n;
	while ((n = read(w->log_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || w->line_len + 1 >= sizeof(w->line)) {
				check_line(w, now, true);
				w->line_len = 0;
			} else if (buf[i] != '\r') {
				w->line[w->line_len++] = buf[i];
			}
		}
	if (w->line_len > 0)
		check_line(w, now, false); /* a partial line may already hold the text */
}

/* The Check, on the client's own thread of control: send now, poll its fd with the rest. */
struct checker {
	struct pd_client c;
	bool sent, done;
	double at;
};

static int check_send(struct checker *k, const char *addr)
{
	struct pd_error err = {0};
	uint32_t stream;
	if (pd_client_connect(&k->c, addr, 10000, &err) < 0 ||
	    pd_client_send_raw(&k->c, "grpc.Health", "Check", NULL, 0, 0, &stream, &err) < 0) {
		fprintf(stderr, "bootwatch: %s\n", err.msg);
		return -1;
	}
	k->sent = true;
	return 0;
}

static int check_recv(struct checker *k)
{
	struct pd_client_reply r;
	struct pd_error err = {0};
	if (pd_client_recv(&k->c, 0, &r, &err) < 0)
		return 0; /* only part of the frame so far */
	int code = r.code;
	pd_client_reply_free(&r);
	if (code != 0) {
		fprintf(stderr, "bootwatch: Check answered %s\n", pd_code_name(code));
		return -1;
	}
	k->at = bn_epoch_ms();
	k->done = true;
	return 0;
}

static int parse_args(int argc, char **argv, struct watch *w, const char **addr)
{
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) {
			*addr = argv[++i];
		} else if (strcmp(argv[i], "--timeline") == 0 && i + 1 < argc) {
			w->timeline = fopen(argv[++i], "we");
			if (!w->timeline)
				return -1;
		} else if (strcmp(argv[i], "--mark") == 0 && i + 1 < argc &&
			   w->n_marks < MAX_MARKS) {
			char *eq = strchr(argv[++i], '=');
			if (!eq)
				return -1;
			*eq = '\0';
			w->marks[w->n_marks++] = (struct mark){.name = argv[i], .text = eq + 1};
		} else {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct watch w;
	struct checker k = {.c = {.fd = -1}};
	const char *addr = NULL;
	if (argc < 4 || parse_args(argc, argv, &w, &addr) < 0) {
		fprintf(stderr, "usage: bootwatch CONSOLE_LOG QEMU_PID TIMEOUT_MS [--check ADDR] "
				"[--mark NAME=TEXT]... [--timeline FILE]\n");
		return 2;
	}
	double deadline = bn_now_us() + (double)bn_positive(argv[3], "timeout") * 1e3;
	w.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	w.log_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	w.pid_fd = (int)syscall(SYS_pidfd_open, (pid_t)atoi(argv[2]), 0);
	if (w.ino_fd < 0 || w.log_fd < 0 || w.pid_fd < 0 ||
	    inotify_add_watch(w.ino_fd, argv[1], IN_MODIFY) < 0) {
		fprintf(stderr, "bootwatch: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (addr && check_send(&k, addr) < 0)
		return 1;
	double exit_at = 0;
	drain_log(&w);
	while (!(addr ? k.done : exit_at > 0)) {
		struct pollfd p[3] = {{w.ino_fd, POLLIN, 0},
				      {w.pid_fd, POLLIN, 0},
				      {k.sent ? k.c.fd : -1, POLLIN, 0}};
		int left_ms = (int)((deadline - bn_now_us()) / 1e3);
		if (left_ms <= 0) {
			fprintf(stderr, "bootwatch: timed out\n");
			return 1;
		}
		if (poll(p, 3, left_ms) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents) {
			char ev[4096];
			while (read(w.ino_fd, ev, sizeof(ev)) > 0)
				;
			drain_log(&w);
		}
		if (p[2].revents && check_recv(&k) < 0)
			return 1;
		if (p[1].revents) {
			drain_log(&w);
			exit_at = bn_epoch_ms();
			if (addr && !k.done) {
				fprintf(stderr,
					"bootwatch: QEMU exited before the Check was answered\n");
				return 1;
			}
		}
	}
	drain_log(&w);
	printf("RESULT boot");
	for (int i = 0; i < w.n_marks; i++)
		printf(" mark_%s=%.1f", w.marks[i].name, w.marks[i].at);
	if (addr)
		printf(" health=%.1f", k.at);
	else
		printf(" exit=%.1f", exit_at);
	printf("\n");
	if (w.timeline)
		fclose(w.timeline);
	pd_client_close(&k.c);
	return 0;
}
