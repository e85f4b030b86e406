/* GetMetrics: the agent's own figures (kata_agent_*) and the guest's (kata_guest_*), in
 * Prometheus text, named as Kata's agent names them (docs/metrics.md). Everything is read
 * from a proc directory given by the caller, so tests can hand it a fake one. */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"
#include "agent/prom.h"
#include "agent/ttrpc/server.h"

#define PD_METRICS_MAX	    (2u << 20) /* the text; a reply frame holds 4 MiB */
#define PD_METRICS_FILE_MAX (1u << 20) /* one /proc file */

struct pd_metrics_input {
	const char *proc;		   /* "/proc", or a directory laid out like it */
	uint64_t scrapes;		   /* GetMetrics calls so far, this one included */
	const struct pd_call_count *calls; /* the server's call counters (may be NULL) */
	unsigned n_calls;
	const struct pd_server_stats *server; /* NULL: left out */
};

/* The whole text, malloc'd and NUL-terminated. Figures whose files are missing are left
 * out (as Kata does); only a text over PD_METRICS_MAX or no memory fails. */
int pd_metrics_render(const struct pd_metrics_input *in, char **text, size_t *len,
		      struct pd_error *err);

/* --- the parts ---------------------------------------------------------------------------- */

/* kata_guest_*: load, tasks, cpu_time, vm_stat, netdev_stat, diskstat, meminfo. */
void pd_metrics_guest(struct pd_prom *p, const char *proc);

/* <proc>/<name> read whole (at most PD_METRICS_FILE_MAX bytes), NUL-terminated; NULL if it
 * cannot be read. */
char *pd_metrics_read(const char *proc, const char *name);

/* Kata's label for a /proc/meminfo key: "MemTotal" -> "mem_total", "Active(anon)" ->
 * "active_anon", "HugePages_Total" -> "hugepages_total", "DirectMap2M" -> "direct_map_2M". */
void pd_metrics_meminfo_name(const char *key, char *out, size_t size);

#endif
