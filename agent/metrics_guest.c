/* kata_guest_*: the guest's figures from /proc, with Kata's names, labels and units: load
 * averages, tasks, per-cpu times in ms, vmstat, per-interface and per-disk counters, and
 * meminfo in bytes. A file that is missing is left out. */
#include "agent/metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Up to max unsigned numbers from s (separated by spaces); how many were found. */
static int numbers(const char *s, unsigned long long *v, int max)
{
	int n = 0;
	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!isdigit((unsigned char)*s))
			break;
		char *end;
		v[n++] = strtoull(s, &end, 10);
		s = end;
	}
	return n;
}

static void guest_load(struct pd_prom *p, const char *proc)
{
	char *text = pd_metrics_read(proc, "loadavg");
	double l1, l5, l15;
	unsigned long running, total;
	if (text && sscanf(text, "%lf %lf %lf %lu/%lu", &l1, &l5, &l15, &running, &total) == 5) {
		pd_prom_family(p, "kata_guest_load", "gauge", "Guest load averages.");
		pd_prom_f64(p, l1, "item", "load1", NULL);
		pd_prom_f64(p, l5, "item", "load5", NULL);
		pd_prom_f64(p, l15, "item", "load15", NULL);
		pd_prom_family(p, "kata_guest_tasks", "gauge",
			       "Guest tasks: runnable now (cur) and all (max).");
		pd_prom_u64(p, running, "item", "cur", NULL);
		pd_prom_u64(p, total, "item", "max", NULL);
	}
	free(text);
}

/* "cpu  u n s i ..." (label cpu="total") and "cpuN ..." lines, in ms. */
static void guest_cpu(struct pd_prom *p, const char *proc)
{
	static const char *const items[] = {"user", "nice",    "system", "idle",  "iowait",
					    "irq",  "softirq", "steal",	 "guest", "guest_nice"};
	char *text = pd_metrics_read(proc, "stat");
	if (!text)
		return;
	long ticks = sysconf(_SC_CLK_TCK);
	if (ticks <= 0)
		ticks = 100;
	pd_prom_family(p, "kata_guest_cpu_time", "gauge", "Guest CPU time (ms).");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		if (strncmp(l, "cpu", 3) != 0)
			continue;
		char *rest = l + 3;
		while (isdigit((unsigned char)*rest))
			rest++;
		char cpu[16];
		snprintf(cpu, sizeof(cpu), "%.*s", (int)(rest - l - 3), l + 3);
		unsigned long long v[10] = {0};
		numbers(rest, v, 10); /* older kernels print fewer: those are 0, as in Kata */
		for (int i = 0; i < 10; i++)
			pd_prom_u64(p, v[i] * 1000 / (unsigned long long)ticks, "cpu",
				    cpu[0] ? cpu : "total", "item", items[i], NULL);
	}
	free(text);
}

/* "name value" lines. */
static void guest_vmstat(struct pd_prom *p, const char *proc)
{
	char *text = pd_metrics_read(proc, "vmstat");
	if (!text)
		return;
	pd_prom_family(p, "kata_guest_vm_stat", "gauge", "Guest virtual memory statistics.");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *sp = strchr(l, ' ');
		unsigned long long v;
		if (!sp)
			continue;
		*sp = '\0';
		if (numbers(sp + 1, &v, 1) == 1)
			pd_prom_u64(p, v, "item", l, NULL);
	}
	free(text);
}

/* Two header lines, then "  name: 16 numbers". */
static void guest_netdev(struct pd_prom *p, const char *proc)
{
	static const char *const items[] = {
	    "recv_bytes", "recv_packets", "recv_errs",	     "recv_drop",
	    "recv_fifo",  "recv_frame",	  "recv_compressed", "recv_multicast",
	    "sent_bytes", "sent_packets", "sent_errs",	     "sent_drop",
	    "sent_fifo",  "sent_colls",	  "sent_carrier",    "sent_compressed"};
	char *text = pd_metrics_read(proc, "net/dev");
	if (!text)
		return;
	pd_prom_family(p, "kata_guest_netdev_stat", "gauge", "Guest network interfaces.");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strchr(l, ':');
		unsigned long long v[16];
		if (!colon || numbers(colon + 1, v, 16) != 16)
			continue; /* the headers */
		*colon = '\0';
		while (*l == ' ')
			l++;
		for (int i = 0; i < 16; i++)
			pd_prom_u64(p, v[i], "interface", l, "item", items[i], NULL);
	}
	free(text);
}

/* "major minor name" and 11, 15 or 17 numbers (the later ones 0 when absent, as Kata). */
static void guest_diskstats(struct pd_prom *p, const char *proc)
{
	static const char *const items[] = {"reads",
					    "merged",
					    "sectors_read",
					    "time_reading",
					    "writes",
					    "writes_merged",
					    "sectors_written",
					    "time_writing",
					    "in_progress",
					    "time_in_progress",
					    "weighted_time_in_progress",
					    "discards",
					    "discards_merged",
					    "sectors_discarded",
					    "time_discarding",
					    "flushes",
					    "time_flushing"};
	char *text = pd_metrics_read(proc, "diskstats");
	if (!text)
		return;
	pd_prom_family(p, "kata_guest_diskstat", "gauge", "Guest disk statistics.");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned major, minor;
		char name[64];
		int off = 0;
		unsigned long long v[17] = {0};
		if (sscanf(l, "%u %u %63s %n", &major, &minor, name, &off) != 3 || off == 0 ||
		    numbers(l + off, v, 17) < 11)
			continue;
		for (int i = 0; i < 17; i++)
			pd_prom_u64(p, v[i], "disk", name, "item", items[i], NULL);
	}
	free(text);
}

void pd_metrics_meminfo_name(const char *key, char *out, size_t size)
{
	size_t o = 0;
	if (strncmp(key, "DirectMap", 9) == 0) {
		snprintf(out, size, "direct_map_%s", key + 9); /* Kata keeps 2M, 1G as they are */
		return;
	}
	if (strcmp(key, "Percpu") == 0) {
		snprintf(out, size, "per_cpu");
		return;
	}
	for (size_t i = 0; key[i] && o + 2 < size; i++) {
		char c = key[i], prev = i ? key[i - 1] : '_', next = key[i + 1];
		if (c == ')')
			continue;
		bool word = isupper((unsigned char)c) &&
			    (islower((unsigned char)prev) || isdigit((unsigned char)prev) ||
			     (isupper((unsigned char)prev) && islower((unsigned char)next)));
		if ((word || c == '(' || c == '_') && o > 0 && out[o - 1] != '_')
			out[o++] = '_';
		if (c != '(' && c != '_')
			out[o++] = (char)tolower((unsigned char)c);
	}
	out[o] = '\0';
	/* Kata writes HugePages as one word: anon_hugepages, hugepages_total. */
	for (char *h; (h = strstr(out, "huge_pages"));)
		memmove(h + 4, h + 5, strlen(h + 5) + 1);
}

/* "Key:   123 kB" lines; kB values in bytes, as Kata (procfs) gives them. */
static void guest_meminfo(struct pd_prom *p, const char *proc)
{
	char *text = pd_metrics_read(proc, "meminfo");
	if (!text)
		return;
	pd_prom_family(p, "kata_guest_meminfo", "gauge", "Guest memory (bytes; page counts).");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strchr(l, ':'), item[64];
		unsigned long long v;
		if (!colon || numbers(colon + 1, &v, 1) != 1)
			continue;
		*colon = '\0';
		pd_metrics_meminfo_name(l, item, sizeof(item));
		pd_prom_u64(p, strstr(colon + 1, "kB") ? v * 1024 : v, "item", item, NULL);
	}
	free(text);
}

void pd_metrics_guest(struct pd_prom *p, const char *proc)
{
	guest_load(p, proc);
	guest_cpu(p, proc);
	guest_vmstat(p, proc);
	guest_netdev(p, proc);
	guest_diskstats(p, proc);
	guest_meminfo(p, proc);
}
