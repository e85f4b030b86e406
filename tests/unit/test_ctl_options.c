/* pidonectl's global options. The ctl sources are not part of the agent, so the one file
 * under test is compiled in here, with pd_ctl_fail() recorded instead of printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ctl/options.c"

static char last_fail[512];
static int fails;

int pd_ctl_fail(int exit_code, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_fail, sizeof(last_fail), fmt, ap);
	va_end(ap);
	fails++;
	return exit_code;
}

/* Parse a NULL-terminated argument list. */
static int parse(struct pd_ctl *ctl, int *cmd, bool *help, const char **args)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = "pidonectl";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	fails = 0;
	last_fail[0] = '\0';
	memset(ctl, 0, sizeof(*ctl));
	return pd_ctl_parse_options(argc, argv, ctl, cmd, help);
}

static void test_defaults_and_env(void **state)
{
	struct pd_ctl ctl;
	int cmd;
	bool help;
	setenv("PIDONE_ADDR", "unix:///from/env.sock", 1);
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"check", NULL}), 0);
	assert_string_equal(ctl.addr, "unix:///from/env.sock");
	assert_int_equal(ctl.wait_ms, 0);
	assert_int_equal(ctl.timeout_ms, PD_CTL_DEFAULT_TIMEOUT_MS);
	assert_int_equal(cmd, 1);
	assert_false(help);

	const char *args[] = {"--addr", "unix:///x.sock", "--wait", "2.5", "-t", "0.25",
			      "version", NULL};
	assert_int_equal(parse(&ctl, &cmd, &help, args), 0);
	assert_string_equal(ctl.addr, "unix:///x.sock");
	assert_int_equal(ctl.wait_ms, 2500);
	assert_int_equal(ctl.timeout_ms, 250);
	assert_int_equal(cmd, 7);
	assert_false(ctl.verbose);
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"-v", "run", "b", NULL}), 0);
	assert_true(ctl.verbose);
	assert_int_equal(cmd, 2);
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"--verbose", "check", NULL}),
			 0);
	assert_true(ctl.verbose);
	unsetenv("PIDONE_ADDR");
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"check", NULL}), 0);
	assert_null(ctl.addr); /* checked when a command connects, not here */
}

/* Options stop at the command: its own arguments may look like options ('-' = stdin). */
static void test_stops_at_command(void **state)
{
	struct pd_ctl ctl;
	int cmd;
	bool help;
	const char *args[] = {"-a", "unix:///a", "call", "grpc.Health", "Check", "-", "--wait",
			      "x", NULL};
	assert_int_equal(parse(&ctl, &cmd, &help, args), 0);
	assert_int_equal(cmd, 3);
	assert_int_equal(ctl.wait_ms, 0);
	assert_int_equal(fails, 0);
}

static void test_help(void **state)
{
	struct pd_ctl ctl;
	int cmd;
	bool help;
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"--help", NULL}), 0);
	assert_true(help);
	assert_int_equal(parse(&ctl, &cmd, &help, (const char *[]){"-h", "check", NULL}), 0);
	assert_true(help);
}

static void test_usage_errors(void **state)
{
	const char *const *bad[] = {
		(const char *[]){NULL},
		(const char *[]){"--addr", "unix:///a", NULL},
		(const char *[]){"--bogus", "check", NULL},
		(const char *[]){"--addr", NULL},
		(const char *[]){"--wait", "abc", "check", NULL},
		(const char *[]){"--wait", "-1", "check", NULL},
		(const char *[]){"--wait", "1e9", "check", NULL},
		(const char *[]){"--wait", "nan", "check", NULL},
		(const char *[]){"--wait", "", "check", NULL},
		(const char *[]){"--timeout", "0", "check", NULL},
		(const char *[]){"--timeout", "5s", "check", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_ctl ctl;
		int cmd = -1;
		bool help;
		int rc = parse(&ctl, &cmd, &help, (const char **)bad[i]);
		if (rc != PD_EXIT_USAGE)
			fail_msg("case %zu: accepted", i);
		assert_int_equal(fails, 1); /* said once why */
		assert_true(last_fail[0] != '\0');
	}
}

static void test_parse_seconds(void **state)
{
	int ms = -1;
	assert_int_equal(pd_ctl_parse_seconds("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(pd_ctl_parse_seconds("1.5", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(pd_ctl_parse_seconds("86400", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(pd_ctl_parse_seconds("86400.1", &ms), -1);
	assert_int_equal(pd_ctl_parse_seconds("inf", &ms), -1);
	assert_int_equal(pd_ctl_parse_seconds("1x", &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_env),
		cmocka_unit_test(test_stops_at_command),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_parse_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
