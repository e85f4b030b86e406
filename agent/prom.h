/* Writing the Prometheus text exposition format (version 0.0.4): metric families with their
 * # HELP and # TYPE lines, then their samples, label values escaped. The text grows in one
 * buffer up to a cap; past it (or without memory) the writer stops and says so at the end. */
#ifndef PD_PROM_H
#define PD_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

struct pd_prom {
	char *buf;
	size_t len, cap, max;
	bool failed; /* over max or out of memory: nothing more is written */
	const char *family;
};

void pd_prom_init(struct pd_prom *p, size_t max);
void pd_prom_free(struct pd_prom *p);

/* Start a family: name must be a valid metric name (ours, constant); type "gauge" or
 * "counter". Samples that follow belong to it. */
void pd_prom_family(struct pd_prom *p, const char *name, const char *type, const char *help);

/* A sample of the current family; after the value, label name/value pairs and a NULL.
 * Label values may be anything: they are escaped ('\\', '"', newline) and bytes that are not
 * printable UTF-8 become '?'. */
void pd_prom_u64(struct pd_prom *p, uint64_t v, ...) __attribute__((sentinel));
void pd_prom_f64(struct pd_prom *p, double v, ...) __attribute__((sentinel));

/* The text (NUL-terminated, owned by p) or -1: RESOURCE_EXHAUSTED if it did not fit. */
int pd_prom_finish(struct pd_prom *p, const char **text, size_t *len, struct pd_error *err);

#endif
