/* GetMetrics text (agent/metrics.c, metrics_guest.c, prom.c): rendered from a fake /proc
 * whose numbers we chose (every figure checked against them, hostile interface and method
 * names included), and from the real /proc; every text goes through an independent checker
 * of the exposition format (line grammar, escapes, HELP/TYPE before samples, families in one
 * block, no duplicate series). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/metrics.h"
#include "agent/prom.h"

static char proc[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void put_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", proc, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char path[256];
	snprintf(proc, sizeof(proc), "/tmp/pd-metrics-XXXXXX");
	assert_non_null(mkdtemp(proc));
	const char *dirs[] = {"net", "self", "self/fd"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", proc, dirs[i]);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "self/fd/%d", i);
		put_file(path, "");
	}
	put_file("loadavg", "0.50 0.25 0.10 2/345 6789\n");
	put_file("meminfo", "MemTotal:        2048 kB\n"
			    "Active(anon):      10 kB\n"
			    "HugePages_Total:      3\n"
			    "Hugepagesize:      2048 kB\n"
			    "DirectMap2M:       4 kB\n"
			    "Percpu:            1 kB\n"
			    "NFS_Unstable:      0 kB\n"
			    "SReclaimable:      5 kB\n"
			    "AnonHugePages:     6 kB\n");
	put_file("vmstat", "nr_free_pages 1234\npgfault 99\n");
	put_file("net/dev",
		 "Inter-|   Receive                            |  Transmit\n"
		 " face |bytes    packets errs drop fifo frame compressed multicast|bytes ...\n"
		 "    lo: 100 2 0 0 0 0 0 0 100 2 0 0 0 0 0 0\n"
		 "we\"ird\\: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		 "  bad\xff: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	put_file("diskstats", "   8       0 sda 10 1 80 5 20 2 160 7 0 12 12\n"
			      " 254       0 vda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n");
	put_file("stat", "cpu  100 0 50 1000 0 0 0 0 0 0\n"
			 "cpu0 100 0 50 1000 0 0 0 0 0 0\n"
			 "intr 12345\n"
			 "ctxt 678\n");
	/* A comm with a space and a ')' in it. */
	put_file("self/stat", "42 (pid one) x) S 1 42 42 0 -1 4194560 100 0 0 0 "
			      "30 20 3 4 20 0 7 0 500 123456789 300 18446744073709551615\n");
	put_file("self/status", "Name:\tpidone\nVmPeak:\t  4000 kB\nVmRSS:\t  1200 kB\n"
				"Threads:\t7\nvoluntary_ctxt_switches:\t11\n");
	put_file("self/io", "rchar: 1000\nwchar: 2000\nsyscr: 3\n");
	return 0;
}

static int teardown(void **state)
{
	nftw(proc, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- an independent checker of the exposition format ------------------------------------ */

static bool metric_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* {name="value",...}: returns the byte after '}' or NULL. */
static const char *labels(const char *p, int line)
{
	char seen[8][64];
	int n = 0;
	p++;
	while (*p != '}') {
		const char *k = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || isdigit((unsigned char)*k) || p[0] != '=' || p[1] != '"')
			fail_msg("line %d: bad label name at '%.20s'", line, k);
		for (int i = 0; i < n; i++)
			if (strlen(seen[i]) == (size_t)(p - k) &&
			    !strncmp(seen[i], k, (size_t)(p - k)))
				fail_msg("line %d: label repeated", line);
		snprintf(seen[n < 8 ? n++ : 7], 64, "%.*s", (int)(p - k), k);
		for (p += 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				fail_msg("line %d: unterminated label value", line);
			if (*p == '\\' && !strchr("\\\"n", *++p))
				fail_msg("line %d: bad escape \\%c", line, *p);
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			fail_msg("line %d: want ',' or '}' at '%.20s'", line, p);
	}
	return p + 1;
}

static bool value_ok(const char *v)
{
	if (!strcmp(v, "NaN") || !strcmp(v, "+Inf") || !strcmp(v, "-Inf"))
		return true;
	char *end;
	errno = 0;
	strtod(v, &end);
	return *v && *end == '\0' && errno == 0;
}

/* Checks the whole text; returns the number of samples. */
static int check_exposition(const char *text)
{
	char families[256][64], current[64] = "", *series[4096];
	int n_fam = 0, n_series = 0, samples = 0, line = 0;
	assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	char *copy = strdup(text), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
			char *name = l + 7, *sp = strchr(name, ' ');
			if (!sp || !metric_name(name, (size_t)(sp - name)))
				fail_msg("line %d: bad name in '%s'", line, l);
			*sp = '\0';
			if (l[2] == 'T') {
				if (strcmp(sp + 1, "gauge") && strcmp(sp + 1, "counter"))
					fail_msg("line %d: type %s", line, sp + 1);
				for (int i = 0; i < n_fam; i++)
					if (!strcmp(families[i], name))
						fail_msg("line %d: %s declared twice", line, name);
				snprintf(families[n_fam++], 64, "%s", name);
				snprintf(current, sizeof(current), "%s", name);
			} else {
				for (const char *h = sp + 1; *h; h++)
					if (*h == '\\' && *++h != '\\' && *h != 'n')
						fail_msg("line %d: bad HELP escape", line);
			}
			continue;
		}
		assert_true(l[0] != '#');
		const char *p = l;
		while (metric_name(l, (size_t)(p - l + 1)) && *p)
			p++;
		if (strncmp(l, current, strlen(current)) || (size_t)(p - l) != strlen(current))
			fail_msg("line %d: sample '%.60s' outside its family (%s)", line, l,
				 current);
		if (*p == '{')
			p = labels(p, line);
		if (*p != ' ' || !value_ok(p + 1))
			fail_msg("line %d: bad value in '%s'", line, l);
		for (int i = 0; i < n_series; i++)
			if (strlen(series[i]) == (size_t)(p - l) &&
			    !strncmp(series[i], l, (size_t)(p - l)))
				fail_msg("line %d: series repeated: %.*s", line, (int)(p - l), l);
		if (n_series < 4096)
			series[n_series++] = strndup(l, (size_t)(p - l));
		samples++;
	}
	for (int i = 0; i < n_series; i++)
		free(series[i]);
	free(copy);
	return samples;
}

/* The text must hold exactly this line. */
static void has_line(const char *text, const char *want)
{
	size_t n = strlen(want);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, want, n) && (l[n] == '\n' || l[n] == '\0'))
			return;
	fail_msg("no line '%s' in:\n%s", want, text);
}

static bool has_prefix_line(const char *text, const char *prefix)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, strlen(prefix)))
			return true;
	return false;
}

static char *render(const struct pd_metrics_input *in)
{
	char *text;
	size_t len;
	struct pd_error err;
	if (pd_metrics_render(in, &text, &len, &err) < 0)
		fail_msg("render: %s", err.msg);
	assert_int_equal(strlen(text), len);
	return text;
}

/* ---- cases ----------------------------------------------------------------------------------- */

static void test_fake_proc_figures(void **state)
{
	struct pd_server_stats st = {.calls = 9, .errors = 1, .conns = 2, .parked = 3};
	struct pd_metrics_input in = {.proc = proc, .scrapes = 5, .server = &st};
	char *text = render(&in);
	check_exposition(text);
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[160];
	has_line(text, "# TYPE kata_agent_scrape_count counter");
	has_line(text, "kata_agent_scrape_count 5");
	has_line(text, "kata_agent_threads 7");
	snprintf(buf, sizeof(buf), "kata_agent_total_time %.15g", 50.0 / (double)ticks);
	has_line(text, buf);
	has_line(text, "kata_agent_total_vm 123456789");
	snprintf(buf, sizeof(buf), "kata_agent_total_rss %lld", 300LL * page);
	has_line(text, buf);
	has_line(text, "kata_agent_fds 3");
	has_line(text, "kata_agent_proc_stat{item=\"utime\"} 30");
	has_line(text, "kata_agent_proc_stat{item=\"cstime\"} 4");
	has_line(text, "kata_agent_proc_status{item=\"vmpeak\"} 4000");
	has_line(text, "kata_agent_proc_status{item=\"vmrss\"} 1200");
	has_line(text, "kata_agent_proc_status{item=\"voluntary_ctxt_switches\"} 11");
	has_line(text, "kata_agent_io_stat{item=\"wchar\"} 2000");
	has_line(text, "kata_agent_connections 2");
	has_line(text, "kata_agent_parked_calls 3");
	has_line(text, "kata_guest_load{item=\"load1\"} 0.5");
	has_line(text, "kata_guest_load{item=\"load15\"} 0.1");
	has_line(text, "kata_guest_tasks{item=\"cur\"} 2");
	has_line(text, "kata_guest_tasks{item=\"max\"} 345");
	has_line(text, "kata_guest_meminfo{item=\"mem_total\"} 2097152");
	has_line(text, "kata_guest_meminfo{item=\"active_anon\"} 10240");
	has_line(text, "kata_guest_meminfo{item=\"hugepages_total\"} 3");
	has_line(text, "kata_guest_meminfo{item=\"direct_map_2M\"} 4096");
	has_line(text, "kata_guest_meminfo{item=\"per_cpu\"} 1024");
	has_line(text, "kata_guest_meminfo{item=\"nfs_unstable\"} 0");
	has_line(text, "kata_guest_meminfo{item=\"s_reclaimable\"} 5120");
	has_line(text, "kata_guest_meminfo{item=\"anon_hugepages\"} 6144");
	has_line(text, "kata_guest_vm_stat{item=\"pgfault\"} 99");
	has_line(text, "kata_guest_netdev_stat{interface=\"lo\",item=\"recv_bytes\"} 100");
	has_line(text,
		 "kata_guest_netdev_stat{interface=\"we\\\"ird\\\\\",item=\"sent_compressed\"} 16");
	has_line(text, "kata_guest_netdev_stat{interface=\"bad?\",item=\"recv_drop\"} 0");
	has_line(text, "kata_guest_diskstat{disk=\"sda\",item=\"weighted_time_in_progress\"} 12");
	has_line(text, "kata_guest_diskstat{disk=\"sda\",item=\"time_flushing\"} 0");
	has_line(text, "kata_guest_diskstat{disk=\"vda\",item=\"time_flushing\"} 17");
	snprintf(buf, sizeof(buf), "kata_guest_cpu_time{cpu=\"total\",item=\"user\"} %lld",
		 100LL * 1000 / ticks);
	has_line(text, buf);
	snprintf(buf, sizeof(buf), "kata_guest_cpu_time{cpu=\"0\",item=\"idle\"} %lld",
		 1000LL * 1000 / ticks);
	has_line(text, buf);
	assert_false(has_prefix_line(text, "kata_guest_cpu_time{cpu=\"intr\""));
	free(text);
}

static void test_call_counters(void **state)
{
	struct pd_call_count calls[3] = {
	    {.service = "grpc.Health", .method = "Check"},
	    {.service = "grpc.AgentService", .method = "Copy\"File\nX\\"},
	    {.service = "grpc.AgentService", .method = "Never"},
	};
	calls[0].by_code[PD_OK] = 12;
	calls[0].by_code[PD_PERMISSION_DENIED] = 2;
	calls[1].by_code[PD_INVALID_ARGUMENT] = 1;
	struct pd_metrics_input in = {.proc = proc, .scrapes = 1, .calls = calls, .n_calls = 3};
	char *text = render(&in);
	assert_int_equal(check_exposition(text) > 0, 1);
	has_line(text, "# TYPE kata_agent_rpc_calls_total counter");
	has_line(text, "kata_agent_rpc_calls_total{service=\"grpc.Health\",method=\"Check\","
		       "code=\"OK\"} 12");
	has_line(text, "kata_agent_rpc_calls_total{service=\"grpc.Health\",method=\"Check\","
		       "code=\"PERMISSION_DENIED\"} 2");
	has_line(text, "kata_agent_rpc_calls_total{service=\"grpc.AgentService\","
		       "method=\"Copy\\\"File\\nX\\\\\",code=\"INVALID_ARGUMENT\"} 1");
	/* Zero counts are left out; no server stats, no connection figures. */
	assert_false(has_prefix_line(text,
				     "kata_agent_rpc_calls_total{service=\"grpc.AgentService\","
				     "method=\"Never\""));
	assert_false(has_prefix_line(text, "kata_agent_connections"));
	free(text);
}

static void test_missing_files_left_out(void **state)
{
	struct pd_metrics_input in = {.proc = "/nonexistent-proc", .scrapes = 1};
	char *text = render(&in);
	check_exposition(text);
	has_line(text, "kata_agent_scrape_count 1");
	assert_false(has_prefix_line(text, "kata_guest_meminfo{"));
	assert_false(has_prefix_line(text, "kata_agent_total_rss"));
	free(text);
}

static void test_real_proc(void **state)
{
	struct pd_server_stats st = {0};
	struct pd_metrics_input in = {.proc = "/proc", .scrapes = 1, .server = &st};
	char *text = render(&in);
	int samples = check_exposition(text);
	assert_true(samples > 50);
	assert_true(has_prefix_line(text, "kata_agent_total_rss "));
	assert_true(has_prefix_line(text, "kata_agent_threads "));
	assert_true(has_prefix_line(text, "kata_agent_fds "));
	assert_true(has_prefix_line(text, "kata_guest_meminfo{item=\"mem_total\"} "));
	assert_true(has_prefix_line(text, "kata_guest_cpu_time{cpu=\"total\",item=\"user\"} "));
	assert_true(has_prefix_line(text, "kata_guest_load{item=\"load1\"} "));
	assert_true(has_prefix_line(text, "kata_guest_netdev_stat{interface=\"lo\","));
	/* Our fds, counted without the one that reads the directory. */
	int fds = 0;
	for (int fd = 0; fd < 1024; fd++)
		fds += fcntl(fd, F_GETFD) >= 0;
	char want[64];
	snprintf(want, sizeof(want), "kata_agent_fds %d", fds);
	has_line(text, want);
	free(text);
}

static void test_meminfo_names(void **state)
{
	static const char *const cases[][2] = {
	    {"MemTotal", "mem_total"},
	    {"MemAvailable", "mem_available"},
	    {"SwapCached", "swap_cached"},
	    {"Inactive(file)", "inactive_file"},
	    {"Committed_AS", "committed_as"},
	    {"VmallocChunk", "vmalloc_chunk"},
	    {"KernelStack", "kernel_stack"},
	    {"ShmemPmdMapped", "shmem_pmd_mapped"},
	    {"ShmemHugePages", "shmem_hugepages"},
	    {"HugePages_Rsvd", "hugepages_rsvd"},
	    {"DirectMap4k", "direct_map_4k"},
	    {"DirectMap1G", "direct_map_1G"},
	    {"HardwareCorrupted", "hardware_corrupted"},
	    {"KReclaimable", "k_reclaimable"},
	    {"SUnreclaim", "s_unreclaim"},
	    {"WritebackTmp", "writeback_tmp"},
	    {"Mlocked", "mlocked"},
	    {"CmaFree", "cma_free"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		pd_metrics_meminfo_name(cases[i][0], out, sizeof(out));
		if (strcmp(out, cases[i][1]))
			fail_msg("%s -> %s, want %s", cases[i][0], out, cases[i][1]);
	}
}

static void test_writer_limits_and_escapes(void **state)
{
	struct pd_prom p;
	const char *text;
	size_t len;
	struct pd_error err;
	pd_prom_init(&p, 1 << 16);
	pd_prom_family(&p, "x_total", "counter", "Help with \\ and\nnewline.");
	pd_prom_u64(&p, 18446744073709551615ULL, "a", "tab\there", "b", "\xc3\xa9t\xc3\xa9", NULL);
	pd_prom_u64(&p, 1, "a", "\xed\xa0\x80 surrogate", "b", "\xc3", NULL);
	pd_prom_f64(&p, NAN, "a", "nan", NULL);
	pd_prom_f64(&p, -INFINITY, "a", "inf", NULL);
	assert_int_equal(pd_prom_finish(&p, &text, &len, &err), 0);
	check_exposition(text);
	has_line(text, "# HELP x_total Help with \\\\ and\\nnewline.");
	has_line(text, "x_total{a=\"tab?here\",b=\"\xc3\xa9t\xc3\xa9\"} 18446744073709551615");
	has_line(text, "x_total{a=\"??? surrogate\",b=\"?\"} 1");
	has_line(text, "x_total{a=\"nan\"} NaN");
	has_line(text, "x_total{a=\"inf\"} -Inf");
	pd_prom_free(&p);
	/* Over the cap: the writer stops and says so. */
	pd_prom_init(&p, 100);
	pd_prom_family(&p, "y", "gauge", "y");
	for (int i = 0; i < 20; i++)
		pd_prom_u64(&p, (uint64_t)i, "i", "0123456789", NULL);
	assert_int_equal(pd_prom_finish(&p, &text, &len, &err), -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	assert_true(p.len < 100);
	pd_prom_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fake_proc_figures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_counters, setup, teardown),
	    cmocka_unit_test(test_missing_files_left_out),
	    cmocka_unit_test(test_real_proc),
	    cmocka_unit_test(test_meminfo_names),
	    cmocka_unit_test(test_writer_limits_and_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
