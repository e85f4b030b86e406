/* pidonectl's command-line values for the container commands: a command's own options
 * (getopt over the arguments after the command name), signals, numbers, and the Storage
 * entries of create-sandbox. The ctl sources are not part of the agent: the files under
 * test are compiled in here, with pd_ctl_fail() recorded instead of printed. */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ctl/cmdline.c"
#include "agent/ctl/storages.c"

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

static void test_signals(void **state)
{
	int sig = 0;
	assert_int_equal(pd_ctl_parse_signal("TERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(pd_ctl_parse_signal("SIGKILL", &sig), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(pd_ctl_parse_signal("hup", &sig), 0);
	assert_int_equal(sig, SIGHUP);
	assert_int_equal(pd_ctl_parse_signal("sigusr2", &sig), 0);
	assert_int_equal(sig, SIGUSR2);
	assert_int_equal(pd_ctl_parse_signal("9", &sig), 0);
	assert_int_equal(sig, 9);
	assert_int_equal(pd_ctl_parse_signal("0", &sig), 0); /* kill(pid, 0): is it there */
	assert_int_equal(sig, 0);
	assert_int_equal(pd_ctl_parse_signal("64", &sig), 0);
	assert_int_equal(pd_ctl_parse_signal("65", &sig), -1);
	assert_int_equal(pd_ctl_parse_signal("-9", &sig), -1);
	assert_int_equal(pd_ctl_parse_signal("SIG", &sig), -1);
	assert_int_equal(pd_ctl_parse_signal("TERMX", &sig), -1);
	assert_int_equal(pd_ctl_parse_signal("", &sig), -1);
}

static void test_uint(void **state)
{
	unsigned long long v;
	assert_int_equal(pd_ctl_parse_uint("0", 5, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pd_ctl_parse_uint("4294967295", UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(pd_ctl_parse_uint("4294967296", UINT32_MAX, &v), -1);
	assert_int_equal(pd_ctl_parse_uint("-1", UINT32_MAX, &v), -1);
	assert_int_equal(pd_ctl_parse_uint(" 1", UINT32_MAX, &v), -1);
	assert_int_equal(pd_ctl_parse_uint("1k", UINT32_MAX, &v), -1);
	assert_int_equal(pd_ctl_parse_uint("99999999999999999999999", ~0ULL, &v), -1);
}

static void test_new_id(void **state)
{
	char a[64], b[64];
	pd_ctl_new_id("pd-", a, sizeof(a));
	pd_ctl_new_id("pd-", b, sizeof(b));
	assert_int_equal(strlen(a), 15);
	assert_memory_equal(a, "pd-", 3);
	assert_int_equal(strspn(a + 3, "0123456789abcdef"), 12);
	assert_string_not_equal(a, b);
}

/* What main hands a command: argv just past the command name. */
static void test_command_options(void **state)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"tty", no_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	char *full[] = {"pidonectl", "run", "BUNDLE", "--id", "x", "-t", NULL};
	char **argv = full + 2;
	int argc = 4, c;
	const char *id = NULL;
	bool tty = false;
	pd_ctl_getopt_begin();
	while ((c = pd_ctl_getopt(argc, argv, "t", opts)) != -1) {
		assert_int_not_equal(c, '?');
		if (c == 'i')
			id = optarg;
		else
			tty = true;
	}
	assert_string_equal(id, "x");
	assert_true(tty);
	/* options may follow the operand: getopt moved it to the end */
	assert_int_equal(argc - pd_ctl_optind(), 1);
	assert_string_equal(argv[pd_ctl_optind()], "BUNDLE");

	/* '+': options stop at the first operand (exec's command keeps its own options) */
	char *full2[] = {"pidonectl", "exec", "-t", "c1", "ls", "-t", NULL};
	argv = full2 + 2;
	argc = 4;
	tty = false;
	pd_ctl_getopt_begin();
	while ((c = pd_ctl_getopt(argc, argv, "+t", opts)) != -1)
		tty = c == 't';
	assert_true(tty);
	assert_int_equal(pd_ctl_optind(), 1);
	assert_string_equal(argv[pd_ctl_optind() + 2], "-t");

	char *full3[] = {"pidonectl", "run", "--bogus", "B", NULL};
	argv = full3 + 2;
	fails = 0;
	pd_ctl_getopt_begin();
	assert_int_equal(pd_ctl_getopt(2, argv, "t", opts), '?');
	assert_int_equal(fails, 1);
	assert_non_null(strstr(last_fail, "run: unknown option or missing value: --bogus"));
	char *full4[] = {"pidonectl", "run", "--id", NULL};
	argv = full4 + 2;
	pd_ctl_getopt_begin();
	assert_int_equal(pd_ctl_getopt(1, argv, "t", opts), '?');
	assert_non_null(strstr(last_fail, "--id"));
}

static void strv_is(char **v, size_t n, const char *joined)
{
	char buf[512] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "|" : "", v[i]);
	assert_string_equal(buf, joined);
}

static void test_storages(void **state)
{
	Grpc__Storage *s;
	struct pd_error err;

	assert_int_equal(pd_ctl_share_storage("9p", "kataShared", &s, &err), 0);
	assert_string_equal(s->driver, "9p");
	assert_string_equal(s->source, "kataShared");
	assert_string_equal(s->fstype, "9p");
	assert_string_equal(s->mount_point, "/run/kata-containers/shared/containers/");
	strv_is(s->options, s->n_options,
		"trans=virtio,version=9p2000.L,cache=mmap|nodev|msize=262144");
	protobuf_c_message_free_unpacked(&s->base, NULL);

	assert_int_equal(pd_ctl_share_storage("virtio-fs", "tag", &s, &err), 0);
	assert_string_equal(s->fstype, "virtiofs");
	assert_int_equal(s->n_options, 0);
	protobuf_c_message_free_unpacked(&s->base, NULL);

	assert_int_equal(pd_ctl_shm_storage(67108864, &s, &err), 0);
	assert_string_equal(s->driver, "ephemeral");
	assert_string_equal(s->source, "shm");
	assert_string_equal(s->fstype, "tmpfs");
	assert_string_equal(s->mount_point, "/run/kata-containers/sandbox/shm");
	strv_is(s->options, s->n_options, "noexec|nosuid|nodev|mode=1777|size=67108864");
	protobuf_c_message_free_unpacked(&s->base, NULL);

	assert_int_equal(pd_ctl_parse_storage("9p:tag:/mnt/x:trans=virtio,,msize=8192", &s, &err),
			 0);
	assert_string_equal(s->driver, "9p");
	assert_string_equal(s->source, "tag");
	assert_string_equal(s->fstype, "9p");
	assert_string_equal(s->mount_point, "/mnt/x");
	strv_is(s->options, s->n_options, "trans=virtio|msize=8192");
	protobuf_c_message_free_unpacked(&s->base, NULL);

	assert_int_equal(pd_ctl_parse_storage("blk:/dev/vdb:/m:ro,fstype=ext4", &s, &err), 0);
	assert_string_equal(s->fstype, "ext4");
	strv_is(s->options, s->n_options, "ro");
	protobuf_c_message_free_unpacked(&s->base, NULL);

	assert_int_equal(pd_ctl_parse_storage("local::/m", &s, &err), 0);
	assert_string_equal(s->source, "");
	assert_string_equal(s->fstype, "local");
	assert_int_equal(s->n_options, 0);
	protobuf_c_message_free_unpacked(&s->base, NULL);

	const char *bad[] = {"", "9p", "9p:tag", "9p:tag:relative", ":tag:/m", "9p:tag:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		if (pd_ctl_parse_storage(bad[i], &s, &err) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(s);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals),		 cmocka_unit_test(test_uint),
		cmocka_unit_test(test_new_id),		 cmocka_unit_test(test_command_options),
		cmocka_unit_test(test_storages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
