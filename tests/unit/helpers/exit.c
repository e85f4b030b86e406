/* Every unit test binary's cmocka run goes through here (the Makefile links the tests with
 * --wrap=_cmocka_run_group_tests). A failed assertion longjmps out of its test and leaves what
 * the test had allocated: at exit LeakSanitizer would report those objects, burying the
 * assertion under a leak report that is only its echo. So a run with failures ends with
 * _exit, which skips the atexit leak check; a clean run exits normally and is leak-checked.
 * _exit skips the tests' own atexit handlers too: what a failed case must undo (cgroups,
 * mounts, children) belongs in its teardown, which cmocka runs after a failure as well. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
				   const size_t num_tests, CMFixtureFunction group_setup,
				   CMFixtureFunction group_teardown);

int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
				   const size_t num_tests, CMFixtureFunction group_setup,
				   CMFixtureFunction group_teardown)
{
	int failed = __real__cmocka_run_group_tests(group_name, tests, num_tests, group_setup,
						    group_teardown);

	if (failed != 0) {
		fflush(stdout);
		fflush(stderr);
		_exit(1);
	}
	return 0;
}
