/* Shared by the benchmark programs in bench/: clocks, order statistics and the result
 * line format that bench/run.sh parses.
 *
 * The container helpers — OCI specs shaped like `runc spec` plus Docker's capabilities,
 * calls with deadlines, draining a process's output as a shim does — are the integration
 * tests' own (tests/integration/itest.h): the benchmark runs exactly what the tests check,
 * and bench/run.sh writes the crun/runc bundle to match it_spec_default().
 *
 * A result is one line: "RESULT name key=value key=value ...", times in microseconds. */
#ifndef PD_BENCH_H
#define PD_BENCH_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/itest.h"

static inline double bn_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Wall clock in milliseconds with a fraction: boot events are compared with the shell's
 * `date +%s%3N` taken when QEMU was started. */
static inline double bn_epoch_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct bn_stats {
	size_t n;
	double min, median, p90, p99, max, mean;
};

static inline int bn_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static inline double bn_rank(const double *v, size_t n, double pct)
{
	size_t k = (size_t)ceil(pct / 100.0 * (double)n);
	return v[k > 0 ? k - 1 : 0];
}

/* Sorts v in place. */
static inline struct bn_stats bn_stats_of(double *v, size_t n)
{
	struct bn_stats s = {.n = n};
	if (n == 0)
		return s;
	qsort(v, n, sizeof(*v), bn_cmp_double);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s.min = v[0];
	s.max = v[n - 1];
	s.mean = sum / (double)n;
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p90 = bn_rank(v, n, 90);
	s.p99 = bn_rank(v, n, 99);
	return s;
}

/* "RESULT name n=.. median_us=.. p90_us=.. p99_us=.. min_us=.. mean_us=.." */
static inline void bn_print_stats(const char *name, const struct bn_stats *s)
{
	printf("RESULT %s n=%zu median_us=%.1f p90_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f "
	       "mean_us=%.1f\n",
	       name, s->n, s->median, s->p90, s->p99, s->min, s->max, s->mean);
	fflush(stdout);
}

/* VmRSS (or another "Key:  N kB" line) of /proc/<pid>/status in kB, -1 if unreadable. */
static inline long bn_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static inline long bn_positive(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

#endif
