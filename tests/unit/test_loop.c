/* agent/loop.c: the loop's guarantee that a deleted watch gets no event of the batch it was
 * deleted in, even when the deleting handler frees it; and that the loop runs handlers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/loop.h"

#define N_WATCHES 8

struct counted {
	struct pd_watch w; /* first: the handler gets this back */
	int hits;
	struct counted **all; /* every watch of the test, for the killer */
};

static int fired;

/* The first handler of the batch deletes and frees every other watch: their events are
 * in the same batch, since every eventfd was readable before epoll_wait. */
static void on_event(struct pd_loop *loop, struct pd_watch *w, uint32_t events)
{
	struct counted *self = (struct counted *)w;
	uint64_t v;

	self->hits++;
	fired++;
	if (read(w->fd, &v, sizeof(v)) != sizeof(v))
		fail_msg("eventfd read");
	for (int i = 0; i < N_WATCHES; i++) {
		struct counted *c = self->all[i];
		if (!c || c == self)
			continue;
		pd_loop_del(loop, &c->w);
		close(c->w.fd);
		free(c); /* ASan turns a later call through it into a use-after-free report */
		self->all[i] = NULL;
	}
	pd_loop_stop(loop);
}

static void test_deleted_watch_gets_no_stale_event(void **state)
{
	struct pd_loop loop;
	struct pd_error err;
	struct counted *all[N_WATCHES];
	uint64_t one = 1;

	assert_int_equal(pd_loop_init(&loop, &err), 0);
	for (int i = 0; i < N_WATCHES; i++) {
		all[i] = calloc(1, sizeof(*all[i]));
		assert_non_null(all[i]);
		all[i]->w.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(all[i]->w.fd >= 0);
		all[i]->w.fn = on_event;
		all[i]->all = all;
		assert_int_equal(pd_loop_add(&loop, &all[i]->w, EPOLLIN, &err), 0);
		assert_int_equal(write(all[i]->w.fd, &one, sizeof(one)), sizeof(one));
	}
	fired = 0;
	assert_int_equal(pd_loop_run(&loop, &err), 0);
	assert_int_equal(fired, 1); /* the survivor only: no event reached a freed watch */
	int left = 0;
	for (int i = 0; i < N_WATCHES; i++)
		if (all[i]) {
			left++;
			assert_int_equal(all[i]->hits, 1);
			pd_loop_del(&loop, &all[i]->w);
			close(all[i]->w.fd);
			free(all[i]);
		}
	assert_int_equal(left, 1);
	pd_loop_close(&loop);
}

/* Deleting a watch outside any batch (between runs) is harmless, and a watch added again
 * after its delete gets events again. */
static void test_delete_outside_batch_and_readd(void **state)
{
	struct pd_loop loop;
	struct pd_error err;
	struct counted *c = calloc(1, sizeof(*c));
	struct counted *all[N_WATCHES] = {c};
	uint64_t one = 1;

	assert_non_null(c);
	assert_int_equal(pd_loop_init(&loop, &err), 0);
	c->w.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->w.fn = on_event;
	c->all = all;
	assert_int_equal(pd_loop_add(&loop, &c->w, EPOLLIN, &err), 0);
	pd_loop_del(&loop, &c->w);
	assert_int_equal(pd_loop_add(&loop, &c->w, EPOLLIN, &err), 0);
	assert_int_equal(write(c->w.fd, &one, sizeof(one)), sizeof(one));
	fired = 0;
	assert_int_equal(pd_loop_run(&loop, &err), 0);
	assert_int_equal(c->hits, 1);
	pd_loop_del(&loop, &c->w);
	close(c->w.fd);
	free(c);
	pd_loop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deleted_watch_gets_no_stale_event),
	    cmocka_unit_test(test_delete_outside_batch_and_readd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
