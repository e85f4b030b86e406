/* Global options of pidonectl: everything before the command name. */
#include "ctl.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>

#define MAX_SECONDS 86400.0

int pd_ctl_parse_seconds(const char *text, int *ms)
{
	char *end;
	errno = 0;
	double s = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(s) || s < 0 || s > MAX_SECONDS)
		return -1;
	*ms = (int)(s * 1000.0 + 0.5);
	return 0;
}

static int seconds_option(const char *name, const char *text, int *ms)
{
	if (pd_ctl_parse_seconds(text, ms) == 0)
		return 0;
	return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
			   "--%s wants seconds between 0 and %.0f, not '%s'", name, MAX_SECONDS,
			   text);
}

int pd_ctl_parse_options(int argc, char **argv, struct pd_ctl *ctl, int *cmd_index,
			 bool *help)
{
	static const struct option opts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"wait", required_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	ctl->addr = getenv("PIDONE_ADDR");
	ctl->wait_ms = 0;
	ctl->timeout_ms = PD_CTL_DEFAULT_TIMEOUT_MS;
	ctl->verbose = false;
	*help = false;

	optind = 1;
	opterr = 0; /* we print our own message, in our own format */
	int c;
	/* '+': stop at the command name, whose own arguments may start with '-' ("-" = stdin) */
	while ((c = getopt_long(argc, argv, "+a:w:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			ctl->addr = optarg;
			break;
		case 'w':
			if (seconds_option("wait", optarg, &ctl->wait_ms) != 0)
				return PD_EXIT_USAGE;
			break;
		case 't':
			if (seconds_option("timeout", optarg, &ctl->timeout_ms) != 0)
				return PD_EXIT_USAGE;
			break;
		case 'v':
			ctl->verbose = true;
			break;
		case 'h':
			*help = true;
			return 0;
		default:
			return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
					   "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "no command given (see --help)");
	if (ctl->timeout_ms == 0)
		return pd_ctl_fail(PD_EXIT_USAGE, PD_INVALID_ARGUMENT,
				   "--timeout must be more than 0");
	*cmd_index = optind;
	return 0;
}
