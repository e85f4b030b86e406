/* What the fuzz targets found (fuzz/, docs/fuzzing.md): each test is one finding, named
 * after the target and the input that showed it, and checks the behaviour the fix gives. The
 * inputs themselves stay in fuzz/regressions/<target>, run first by every fuzz run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>

#include "agent.pb-c.h"
#include "agent/net/netlink.h"
#include "agent/ttrpc/wire_strings.h"

/* ---- fuzz_parsers, netlink -------------------------------------------------------------- */

/* An NLMSG_ERROR or NLMSG_DONE carrying INT_MIN: negating it to an errno overflowed (UBSan:
 * "negation of -2147483648 cannot be represented in type 'int'"). Values past the kernel's
 * MAX_ERRNO are no errno: the message is malformed. */
static void put_msg(unsigned char *buf, uint16_t type, int value)
{
	struct nlmsghdr h = {.nlmsg_type = type};
	struct nlmsgerr e = {.error = value};
	h.nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(e));
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + NLMSG_HDRLEN, &e, sizeof(e));
}

static void test_netlink_error_int_min(void **state)
{
	unsigned char buf[256] __attribute__((aligned(8)));
	const struct nlmsghdr *h = (const void *)buf;
	char msg[64];
	int error = -1;
	put_msg(buf, NLMSG_ERROR, INT_MIN);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), -1);
	put_msg(buf, NLMSG_ERROR, -PD_NL_MAX_ERRNO - 1);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), -1);
	put_msg(buf, NLMSG_ERROR, INT_MAX);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), -1);
	put_msg(buf, NLMSG_ERROR, -PD_NL_MAX_ERRNO);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, PD_NL_MAX_ERRNO);
	put_msg(buf, NLMSG_ERROR, -EBUSY);
	assert_int_equal(pd_nl_parse_ack(h, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, EBUSY);
}

static void test_netlink_done_int_min(void **state)
{
	unsigned char buf[256] __attribute__((aligned(8)));
	const struct nlmsghdr *h = (const void *)buf;
	int error = -1;
	put_msg(buf, NLMSG_DONE, INT_MIN);
	assert_int_equal(pd_nl_parse_done(h, &error), -1);
	put_msg(buf, NLMSG_DONE, -ENOBUFS);
	assert_int_equal(pd_nl_parse_done(h, &error), 0);
	assert_int_equal(error, ENOBUFS);
	put_msg(buf, NLMSG_DONE, 0);
	assert_int_equal(pd_nl_parse_done(h, &error), 0);
	assert_int_equal(error, 0);
	put_msg(buf, NLMSG_DONE, 7); /* a positive count: not an error, as before */
	assert_int_equal(pd_nl_parse_done(h, &error), 0);
	assert_int_equal(error, 0);
	struct nlmsghdr bare = {.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_DONE};
	assert_int_equal(pd_nl_parse_done(&bare, &error), 0); /* no payload: done */
	assert_int_equal(error, 0);
}

/* ---- fuzz_dispatch ------------------------------------------------------------------------ */

/* Any request with an empty payload (DestroySandbox as Kata sends it, ListRoutes, ...): the
 * string check computed NULL + 0, which clang's UBSan reports ("applying zero offset to null
 * pointer"). gcc's, which builds these tests, does not see it: this test pins what the fix
 * returns, and fuzz/regressions/fuzz_dispatch/wire-strings-empty-payload makes the fuzz run
 * (clang) fail without it. */
static void test_wire_strings_empty_message(void **state)
{
	char why[64] = "x";
	uint8_t none[1];
	assert_int_equal(pd_wire_strings_check(&grpc__destroy_sandbox_request__descriptor, NULL, 0,
					       why, sizeof(why)),
			 0);
	assert_string_equal(why, "");
	assert_int_equal(pd_wire_strings_check(&grpc__exec_process_request__descriptor, none, 0,
					       why, sizeof(why)),
			 0);
	assert_int_equal(
	    pd_wire_strings_repair(&grpc__destroy_sandbox_request__descriptor, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_netlink_error_int_min),
	    cmocka_unit_test(test_netlink_done_int_min),
	    cmocka_unit_test(test_wire_strings_empty_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
