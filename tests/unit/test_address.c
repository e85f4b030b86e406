/* Agent addresses: every accepted form, and the ones that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent/ttrpc/address.h"

static struct pd_addr parse_ok(const char *text)
{
	struct pd_addr a;
	struct pd_error err = {0};
	int rc = pd_addr_parse(text, &a, &err);
	if (rc != 0)
		fail_msg("'%s' refused: %s", text, err.msg);
	return a;
}

static void test_vsock(void **state)
{
	struct pd_addr a = parse_ok("vsock://-1:1024");
	assert_int_equal(a.kind, PD_ADDR_VSOCK);
	assert_int_equal(a.cid, UINT32_MAX);
	assert_int_equal(a.port, 1024);

	a = parse_ok("vsock://4294967295:1024");
	assert_int_equal(a.cid, UINT32_MAX);
	a = parse_ok("vsock://3:0");
	assert_int_equal(a.cid, 3);
	assert_int_equal(a.port, 0);
	a = parse_ok("vsock://2:4294967294");
	assert_int_equal(a.port, 4294967294u);
}

static void test_unix_path(void **state)
{
	struct pd_addr a = parse_ok("unix:///run/kata/agent.sock");
	assert_int_equal(a.kind, PD_ADDR_UNIX);
	assert_false(a.abstract);
	assert_string_equal(a.path, "/run/kata/agent.sock");

	struct sockaddr_un sun;
	socklen_t len = pd_addr_unix_sockaddr(&a, &sun);
	assert_int_equal(sun.sun_family, AF_UNIX);
	assert_string_equal(sun.sun_path, "/run/kata/agent.sock");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + strlen(a.path) + 1);
}

static void test_unix_abstract(void **state)
{
	struct pd_addr a = parse_ok("unix://@pidone-test");
	assert_int_equal(a.kind, PD_ADDR_UNIX);
	assert_true(a.abstract);
	assert_string_equal(a.path, "pidone-test");

	struct sockaddr_un sun;
	socklen_t len = pd_addr_unix_sockaddr(&a, &sun);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "pidone-test", 11);
	/* abstract names are counted, not terminated: the length must end at the name */
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 + 11);
}

static void test_unix_longest_path(void **state)
{
	char text[160], path[120];
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[106] = '\0'; /* 106 characters + NUL fit sun_path[108] */
	snprintf(text, sizeof(text), "unix://%s", path);
	struct pd_addr a = parse_ok(text);
	assert_int_equal(strlen(a.path), 106);
	struct sockaddr_un sun;
	pd_addr_unix_sockaddr(&a, &sun);
	assert_string_equal(sun.sun_path, path);
}

static void test_serial(void **state)
{
	struct pd_addr a = parse_ok("serial://agent.channel.0");
	assert_int_equal(a.kind, PD_ADDR_SERIAL);
	assert_string_equal(a.path, "agent.channel.0");
}

static void test_bad_addresses(void **state)
{
	char long_unix[160], long_serial[160];
	memset(long_unix, 'x', sizeof(long_unix));
	memcpy(long_unix, "unix:///", 8);
	long_unix[7 + 107] = '\0'; /* a 107-character path: one too many */
	memset(long_serial, 's', sizeof(long_serial));
	memcpy(long_serial, "serial://", 9);
	long_serial[9 + 108] = '\0';

	static const char *const bad[] = {
		"",
		"unix",
		"tcp://127.0.0.1:1024",
		"UNIX:///tmp/x",
		"vsock://",
		"vsock://3",
		"vsock://:1024",
		"vsock://3:",
		"vsock://x:1024",
		"vsock://3:port",
		"vsock://3:-1",         /* -1 means "any" for a CID, never for a port */
		"vsock://3:4294967295", /* the same value spelled out */
		"vsock://3:4294967296",
		"vsock://4294967296:1",
		"vsock://+3:1",
		"vsock://3:+1",
		"vsock://-2:1",
		"vsock://3:1024x",
		"vsock://123456789012345678:1", /* CID text longer than any u32 */
		"unix://",
		"unix://relative/path",
		"unix://@",
		"serial://",
		"serial://a/b",
		"serial://..",
		"serial://.",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_addr a;
		struct pd_error err = {0};
		if (pd_addr_parse(bad[i], &a, &err) == 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		assert_true(err.msg[0] != '\0');
	}
	struct pd_addr a;
	struct pd_error err = {0};
	assert_int_equal(pd_addr_parse(long_unix, &a, &err), -1);
	assert_int_equal(pd_addr_parse(long_serial, &a, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vsock),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_unix_longest_path),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_bad_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
