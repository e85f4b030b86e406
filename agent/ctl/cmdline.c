/* What the container commands share on their command lines: options, ids, signals. */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void pd_ctl_getopt_begin(void)
{
	optind = 0; /* 0, not 1: glibc then forgets the state of the previous scan */
	opterr = 0; /* our own message, in our own format */
}

int pd_ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	/* argv[-1] is the command name: main passes the arguments just past it */
	int c = getopt_long(argc + 1, argv - 1, shortopts, longopts, NULL);
	if (c == '?' || c == ':') {
		int bad = optind - 2; /* the word getopt stopped at, in the command's argv */
		pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
			    "%s: unknown option or missing value: %s (see --help)", argv[-1],
			    bad >= 0 && bad < argc ? argv[bad] : "?");
		return '?';
	}
	return c;
}

int pd_ctl_optind(void)
{
	return optind - 1;
}

void pd_ctl_new_id(const char *prefix, char *buf, size_t size)
{
	unsigned char r[6];
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long v = (unsigned long long)ts.tv_nsec ^
				       (unsigned long long)ts.tv_sec << 20 ^
				       (unsigned long long)getpid() << 40;
		memcpy(r, &v, sizeof(r));
	}
	snprintf(buf, size, "%s%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4],
		 r[5]);
}

int pd_ctl_parse_uint(const char *text, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int pd_ctl_parse_signal(const char *text, int *sig)
{
	unsigned long long n;
	if (pd_ctl_parse_uint(text, NSIG - 1, &n) == 0) {
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(text, "SIG", 3) == 0)
		text += 3;
	/* A table, not glibc's sigabbrev_np(): pidonectl also builds with musl (to run in a
	 * guest), which has no such function. */
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
		{"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
		{"FPE", SIGFPE},   {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
		{"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
		{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
		{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
		{"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
		{"WINCH", SIGWINCH}, {"IO", SIGIO},       {"POLL", SIGPOLL},   {"PWR", SIGPWR},
		{"SYS", SIGSYS},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(names[i].name, text) == 0) {
			*sig = names[i].sig;
			return 0;
		}
	}
	return -1;
}

void pd_ctl_unknown_key(void *ctx, const char *path)
{
	const struct pd_ctl *ctl = ctx;
	if (ctl->verbose)
		fprintf(stderr, "pidonectl: ignoring '%s': no such field\n", path);
}
