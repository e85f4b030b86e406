/* The set-up steps: the child writes them into a page shared with the agent, READY ends the
 * wait whatever the step, and a timeout names the last step written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/container/sync.h"

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_steps_then_ready(void **state)
{
	int sv[2];
	pair(sv);
	char *steps = pd_sync_steps_map("clone");
	assert_non_null(steps);
	assert_string_equal(steps, "clone");
	pd_sync_step_page = steps;
	pd_sync_step("mount %d of %d, %s on %s", 1, 2, "proc", "/proc");
	pd_sync_step("pivot_root");
	struct pd_sync_msg ready = {.kind = PD_SYNC_READY};
	assert_int_equal(pd_sync_send(sv[1], &ready, NULL), 0);
	pd_sync_step_page = NULL;
	struct pd_sync_msg msg;
	struct pd_error err;
	assert_int_equal(pd_sync_recv_step(sv[0], 1000, &msg, steps, &err), 0);
	assert_int_equal(msg.kind, PD_SYNC_READY);
	assert_string_equal(steps, "pivot_root");
	pd_sync_steps_unmap(steps);
	close(sv[0]);
	close(sv[1]);
}

/* Steps keep coming but READY does not: the timeout is for the whole wait, not per step. */
static void test_timeout_names_last_step(void **state)
{
	int sv[2];
	pair(sv);
	char *steps = pd_sync_steps_map("clone");
	assert_non_null(steps);
	pd_sync_step_page = steps;
	pd_sync_step("mount %d of %d, %s on %s", 3, 5, "cgroup", "/sys/fs/cgroup");
	pd_sync_step_page = NULL;
	struct pd_sync_msg msg;
	struct pd_error err;
	int64_t t0 = ms_now();
	assert_int_equal(pd_sync_recv_step(sv[0], 300, &msg, steps, &err), -1);
	pd_sync_steps_unmap(steps);
	int64_t took = ms_now() - t0;
	assert_true(took >= 250); /* the bound is a floor; a busy machine only adds to it */
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED);
	assert_non_null(strstr(err.msg, "within 300 ms"));
	assert_non_null(strstr(err.msg, "stuck at: mount 3 of 5, cgroup on /sys/fs/cgroup"));
	close(sv[0]);
	close(sv[1]);
}

/* Without a page (the agent itself), a step is nothing; a timeout without one still says so. */
static void test_no_page_no_step(void **state)
{
	pd_sync_step_page = NULL;
	pd_sync_step("nothing %d", 1);
	int sv[2];
	pair(sv);
	struct pd_sync_msg msg;
	struct pd_error err;
	assert_int_equal(pd_sync_recv_step(sv[0], 50, &msg, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "stuck at: (unknown)"));
	close(sv[0]);
	close(sv[1]);
}

/* A step longer than the page's text is cut, and the copy stays terminated. */
static void test_long_step_cut(void **state)
{
	char *steps = pd_sync_steps_map("clone");
	assert_non_null(steps);
	pd_sync_step_page = steps;
	pd_sync_step("%0200d", 7);
	pd_sync_step_page = NULL;
	assert_int_equal(strlen(steps), PD_SYNC_STEP_MAX - 1);
	int sv[2];
	pair(sv);
	struct pd_sync_msg msg;
	struct pd_error err;
	assert_int_equal(pd_sync_recv_step(sv[0], 50, &msg, steps, &err), -1);
	assert_non_null(strstr(err.msg, "stuck at: 0000"));
	pd_sync_steps_unmap(steps);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps_then_ready),
		cmocka_unit_test(test_timeout_names_last_step),
		cmocka_unit_test(test_no_page_no_step),
		cmocka_unit_test(test_long_step_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
