/* Where the unit tests find the Kata wire vectors: the repository's own copy,
 * tests/data/kata-wire (see its README for how they were made). */
#ifndef PD_TEST_TESTDATA_H
#define PD_TEST_TESTDATA_H

#include <stddef.h>

/* Fill out with the vectors' directory: $PD_TESTDATA when set, else the copy in the
 * repository this test was built from (PD_WIRE_DIR, an absolute path the Makefile passes).
 * Returns 0, or -1 after printing which directory is missing. */
int pd_test_wire_dir(char *out, size_t size);

#endif
