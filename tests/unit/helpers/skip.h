/* The one rule for a case this host cannot run: skip it, saying why. run-unit.sh counts it as
 * skipped, never as passed. A whole binary that cannot run at all exits PD_SKIP_EXIT. */
#ifndef PD_TEST_SKIP_H
#define PD_TEST_SKIP_H

#include <stdio.h>

#define PD_SKIP_EXIT 77

#define PD_SKIP(...)                                                                         \
	do {                                                                                 \
		fprintf(stderr, "[  SKIP    ] %s: ", __func__);                                  \
		fprintf(stderr, __VA_ARGS__);                                                \
		fputc('\n', stderr);                                                         \
		skip();                                                                      \
	} while (0)

/* In main(): this binary needs root; print why and exit as skipped. */
#define PD_SKIP_UNLESS_ROOT(why)                                                             \
	do {                                                                                 \
		if (geteuid() != 0) {                                                        \
			fprintf(stderr, "[  SKIP    ] %s: needs root (%s)\n", __FILE__, why);    \
			return PD_SKIP_EXIT;                                                 \
		}                                                                            \
	} while (0)

#endif
