/* Waiting in unit tests: for a condition with a generous bound that names what it waited for,
 * never for a duration; and burning CPU by the CPU clock, never by the wall clock. A loaded
 * machine makes both slower, never wrong. */
#ifndef PD_TEST_WAIT_H
#define PD_TEST_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* The bound of every wait: long enough that only a real hang reaches it. */
#define PD_TEST_WAIT_S 60

uint64_t pd_test_now_ms(void);
void pd_test_sleep_ms(unsigned ms);

/* Run cond(arg) until it is true (returns true) or PD_TEST_WAIT_S pass (returns false);
 * for cleanup paths that must not fail the test themselves. */
bool pd_test_poll(bool (*cond)(void *), void *arg);

/* Spin until the calling thread has used ms of CPU time (CLOCK_THREAD_CPUTIME_ID). */
void pd_test_burn_cpu_ms(unsigned ms);

/* Poll an expression until it holds; past the bound, fail the test naming `what`. */
#define PD_WAIT_UNTIL(cond, what)                                                            \
	do {                                                                                 \
		uint64_t pd_wait_end_ = pd_test_now_ms() + PD_TEST_WAIT_S * 1000ull;         \
		while (!(cond)) {                                                            \
			if (pd_test_now_ms() > pd_wait_end_)                                 \
				fail_msg("waited %d s for %s", PD_TEST_WAIT_S, what);        \
			pd_test_sleep_ms(2);                                                 \
		}                                                                            \
	} while (0)

#endif
