/* The set-up steps: the child writes them into a page shared with the agent, the agent reads
 * messages without waiting (the loop tells it when), and a deadline names the last step
 * written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/container/sync.h"

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
	assert_int_equal(pd_sync_try_recv(sv[0], &msg, &err), 1);
	assert_int_equal(msg.kind, PD_SYNC_READY);
	assert_string_equal(steps, "pivot_root");
	/* Nothing more yet: 0 at once, not a wait. */
	assert_int_equal(pd_sync_try_recv(sv[0], &msg, &err), 0);
	/* The child's end closed: EOF. */
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(pd_sync_try_recv(sv[0], &msg, &err), 1);
	assert_int_equal(msg.kind, PD_SYNC_EOF);
	pd_sync_steps_unmap(steps);
	close(sv[0]);
}

/* Steps keep coming but READY does not: the deadline names the last one. */
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
	assert_int_equal(pd_sync_try_recv(sv[0], &msg, &err), 0);
	assert_int_equal(pd_sync_stuck(&err, "set-up", 300, steps), -1);
	pd_sync_steps_unmap(steps);
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED);
	assert_non_null(strstr(err.msg, "container set-up did not finish within 300 ms"));
	assert_non_null(strstr(err.msg, "stuck at: mount 3 of 5, cgroup on /sys/fs/cgroup"));
	close(sv[0]);
	close(sv[1]);
}

/* Without a page (the agent itself), a step is nothing; a timeout without one still says so. */
static void test_no_page_no_step(void **state)
{
	pd_sync_step_page = NULL;
	pd_sync_step("nothing %d", 1);
	struct pd_error err;
	assert_int_equal(pd_sync_stuck(&err, "start", 50, NULL), -1);
	assert_non_null(strstr(err.msg, "container start did not finish"));
	assert_non_null(strstr(err.msg, "stuck at: (unknown)"));
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
	struct pd_error err;
	assert_int_equal(pd_sync_stuck(&err, "set-up", 50, steps), -1);
	assert_non_null(strstr(err.msg, "stuck at: 0000"));
	pd_sync_steps_unmap(steps);
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
