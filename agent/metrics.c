/* GetMetrics: the text, and the agent's own figures (the guest's are in metrics_guest.c).
 * Kata's names (src/agent/src/metrics.rs) and units are kept so dashboards built for the
 * Kata agent read pidone too: total_time in seconds, total_vm and total_rss in bytes,
 * proc_status in kB as /proc prints it, proc_stat in clock ticks. pidone adds
 * kata_agent_fds, the ttRPC server's connections and parked calls, and
 * kata_agent_rpc_calls_total by service, method and status code. */
#include "agent/metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *pd_metrics_read(const char *proc, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", proc, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 == cap) {
			char *b = cap < PD_METRICS_FILE_MAX ? realloc(buf, cap * 2) : NULL;
			if (!b)
				break; /* at the cap: what was read is what we have */
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
		}
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Entries of <proc>/self/fd, less the one this count holds open when it is our own. */
static int count_fds(const char *proc)
{
	char path[512], own[16];
	snprintf(path, sizeof(path), "%s/self/fd", proc);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	snprintf(own, sizeof(own), "%d", strcmp(proc, "/proc") == 0 ? dirfd(d) : -1);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		     strcmp(e->d_name, own) != 0;
	closedir(d);
	return n;
}

/* Fields of /proc/self/stat after the ")" that ends comm (which may hold spaces and
 * parentheses): f[0] is field 3 (state). */
#define STAT_FIELDS 22
static int self_stat(const char *proc, unsigned long long f[STAT_FIELDS])
{
	char *text = pd_metrics_read(proc, "self/stat");
	char *p = text ? strrchr(text, ')') : NULL;
	int n = 0;
	if (p) {
		p++;
		for (char *tok; n < STAT_FIELDS && (tok = strsep(&p, " ")) != NULL;)
			if (*tok)
				f[n++] = strtoull(tok, NULL, 10);
	}
	free(text);
	return n == STAT_FIELDS ? 0 : -1;
}

static void agent_stat(struct pd_prom *p, const char *proc)
{
	unsigned long long f[STAT_FIELDS];
	if (self_stat(proc, f) < 0)
		return;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	/* field N is f[N - 3]: utime 14, stime 15, cutime 16, cstime 17, threads 20, vsize 23,
	 * rss 24 (pages) */
	pd_prom_family(p, "kata_agent_threads", "gauge", "Agent process threads.");
	pd_prom_u64(p, f[17], NULL);
	pd_prom_family(p, "kata_agent_total_time", "gauge", "Agent process CPU time (seconds).");
	pd_prom_f64(p, (double)(f[11] + f[12]) / (double)(ticks > 0 ? ticks : 100), NULL);
	pd_prom_family(p, "kata_agent_total_vm", "gauge", "Agent process virtual memory (bytes).");
	pd_prom_u64(p, f[20], NULL);
	pd_prom_family(p, "kata_agent_total_rss", "gauge", "Agent process resident set (bytes).");
	pd_prom_u64(p, f[21] * (unsigned long long)(page > 0 ? page : 4096), NULL);
	pd_prom_family(p, "kata_agent_proc_stat", "gauge",
		       "Agent process CPU times (clock ticks).");
	static const char *const items[] = {"utime", "stime", "cutime", "cstime"};
	for (int i = 0; i < 4; i++)
		pd_prom_u64(p, f[11 + i], "item", items[i], NULL);
}

/* "Key:\t 123 kB" lines: the listed keys, as item=lowercase key. */
static void agent_status(struct pd_prom *p, const char *proc)
{
	static const char *const keys[] = {
	    "VmPeak",
	    "VmSize",
	    "VmLck",
	    "VmPin",
	    "VmHWM",
	    "VmRSS",
	    "RssAnon",
	    "RssFile",
	    "RssShmem",
	    "VmData",
	    "VmStk",
	    "VmExe",
	    "VmLib",
	    "VmPTE",
	    "VmSwap",
	    "HugetlbPages",
	    "voluntary_ctxt_switches",
	    "nonvoluntary_ctxt_switches",
	};
	char *text = pd_metrics_read(proc, "self/status");
	if (!text)
		return;
	pd_prom_family(p, "kata_agent_proc_status", "gauge",
		       "Agent process status (memory in kB, as /proc prints it).");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t klen = strlen(keys[i]);
		for (char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (strncmp(l, keys[i], klen) != 0 || l[klen] != ':')
				continue;
			char item[40];
			size_t j = 0;
			for (; keys[i][j] && j + 1 < sizeof(item); j++)
				item[j] = (char)tolower((unsigned char)keys[i][j]);
			item[j] = '\0';
			pd_prom_u64(p, strtoull(l + klen + 1, NULL, 10), "item", item, NULL);
			break;
		}
	}
	free(text);
}

/* "rchar: 123" lines, item = key. Absent without CONFIG_TASK_IO_ACCOUNTING. */
static void agent_io(struct pd_prom *p, const char *proc)
{
	char *text = pd_metrics_read(proc, "self/io");
	if (!text)
		return;
	pd_prom_family(p, "kata_agent_io_stat", "gauge", "Agent process I/O statistics.");
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = '\0';
		pd_prom_u64(p, strtoull(colon + 1, NULL, 10), "item", l, NULL);
	}
	free(text);
}

static void agent_calls(struct pd_prom *p, const struct pd_metrics_input *in)
{
	pd_prom_family(p, "kata_agent_rpc_calls_total", "counter",
		       "RPC calls answered, by service, method and status code.");
	for (unsigned i = 0; i < in->n_calls; i++)
		for (int c = 0; c < PD_CALL_CODES; c++)
			if (in->calls[i].by_code[c])
				pd_prom_u64(p, in->calls[i].by_code[c], "service",
					    in->calls[i].service, "method", in->calls[i].method,
					    "code", pd_code_name(c), NULL);
	if (!in->server)
		return;
	pd_prom_family(p, "kata_agent_connections", "gauge", "Open ttRPC connections.");
	pd_prom_u64(p, in->server->conns, NULL);
	pd_prom_family(p, "kata_agent_parked_calls", "gauge",
		       "Calls waiting for an event (WaitProcess, ReadStdout, ...).");
	pd_prom_u64(p, in->server->parked, NULL);
}

int pd_metrics_render(const struct pd_metrics_input *in, char **text, size_t *len,
		      struct pd_error *err)
{
	struct pd_prom p;
	pd_prom_init(&p, PD_METRICS_MAX);
	pd_prom_family(&p, "kata_agent_scrape_count", "counter", "Metrics scrape count.");
	pd_prom_u64(&p, in->scrapes, NULL);
	agent_stat(&p, in->proc);
	int fds = count_fds(in->proc);
	if (fds >= 0) {
		pd_prom_family(&p, "kata_agent_fds", "gauge", "Agent process open fds.");
		pd_prom_u64(&p, (uint64_t)fds, NULL);
	}
	agent_status(&p, in->proc);
	agent_io(&p, in->proc);
	agent_calls(&p, in);
	pd_metrics_guest(&p, in->proc);
	const char *out;
	if (pd_prom_finish(&p, &out, len, err) < 0) {
		pd_prom_free(&p);
		return -1;
	}
	*text = p.buf ? p.buf : strdup("");
	if (!*text)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM, "metrics: out of memory");
	return 0;
}
