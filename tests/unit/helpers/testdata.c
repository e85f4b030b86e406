/* The Kata wire vectors' directory for the unit tests (testdata.h). */
#include "helpers/testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef PD_WIRE_DIR
#error "PD_WIRE_DIR must name tests/data/kata-wire (the Makefile sets it)"
#endif

int pd_test_wire_dir(char *out, size_t size)
{
	const char *env = getenv("PD_TESTDATA");
	const char *dir = env && *env ? env : PD_WIRE_DIR;
	struct stat st;

	if (snprintf(out, size, "%s", dir) >= (int)size) {
		fprintf(stderr, "test data path too long: %s\n", dir);
		return -1;
	}
	if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
		/* An explicit setting that is wrong is an error, not a reason to look elsewhere. */
		fprintf(stderr, "Kata wire test data missing: %s is not a directory%s\n", out,
			env && *env ? " (from PD_TESTDATA)" : "");
		return -1;
	}
	return 0;
}
