/* Condition waits and CPU-clock burners for the unit tests (wait.h). */
#include "helpers/wait.h"

#include <time.h>

uint64_t pd_test_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void pd_test_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

bool pd_test_poll(bool (*cond)(void *), void *arg)
{
	uint64_t end = pd_test_now_ms() + PD_TEST_WAIT_S * 1000ull;

	while (!cond(arg)) {
		if (pd_test_now_ms() > end)
			return false;
		pd_test_sleep_ms(2);
	}
	return true;
}

static uint64_t thread_cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void pd_test_burn_cpu_ms(unsigned ms)
{
	uint64_t end = thread_cpu_ms() + ms;

	while (thread_cpu_ms() < end)
		;
}
