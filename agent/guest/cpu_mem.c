/* CPU and memory hotplug, as the Kata agent does it through sysfs: the host plugs vCPUs or
 * DIMMs into the VM, then OnlineCPUMem asks us to bring them online.
 *
 * The Kata agent retries CPU onlining 100 times 50 ms apart, sleeping. We make one pass (a
 * write to cpuN/online is synchronous: when it returns, the CPU is up) and tell the host
 * when CPUs are missing; the loop never sleeps. */
#include "guest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CPU_DIR "/devices/system/cpu"
#define MEM_DIR "/devices/system/memory"
#define CPU_NUM_MAX (1u << 22) /* far above any kernel's NR_CPUS */

static const char *parse_uint(const char *p, unsigned *v)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	unsigned long long n = 0;
	while (isdigit((unsigned char)*p)) {
		n = n * 10 + (unsigned)(*p++ - '0');
		if (n > CPU_NUM_MAX)
			return NULL;
	}
	*v = (unsigned)n;
	return p;
}

int pd_cpu_list_count(const char *text, unsigned *count, struct pd_error *err)
{
	const char *p = text;
	unsigned total = 0;
	while (*p && !isspace((unsigned char)*p)) {
		unsigned a = 0, b = 0;
		const char *q = parse_uint(p, &a);
		if (q && *q == '-')
			q = parse_uint(q + 1, &b);
		else
			b = a;
		if (!q || b < a || (*q && *q != ',' && !isspace((unsigned char)*q)))
			return pd_error_set(err, PD_INTERNAL, 0, "bad CPU list '%.64s'", text);
		total += b - a + 1;
		if (total > CPU_NUM_MAX)
			return pd_error_set(err, PD_INTERNAL, 0, "bad CPU list '%.64s'", text);
		p = *q == ',' ? q + 1 : q;
		if (*q == ',' && (!*p || isspace((unsigned char)*p)))
			return pd_error_set(err, PD_INTERNAL, 0, "bad CPU list '%.64s'", text);
	}
	for (; *p; p++)
		if (!isspace((unsigned char)*p))
			return pd_error_set(err, PD_INTERNAL, 0, "bad CPU list '%.64s'", text);
	*count = total;
	return 0;
}

int pd_cpus_count(const char *sysfs, const char *which, unsigned *count, struct pd_error *err)
{
	char path[PATH_MAX], text[4096];
	if (pd_kpath(path, sizeof(path), err, sysfs, CPU_DIR "/%s", which) < 0 ||
	    pd_kfile_read(path, text, sizeof(text), err) < 0)
		return -1;
	return pd_cpu_list_count(text, count, err);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

/* Numbers N of the entries <prefix>N of dir whose `online` file reads "0", sorted. */
static int offline_entries(const char *dir, const char *prefix, unsigned **out, size_t *n,
			   struct pd_error *err)
{
	size_t plen = strlen(prefix), cap = 0;
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return pd_error_errno(err, errno, "open %s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned num;
		const char *end;
		if (strncmp(e->d_name, prefix, plen) != 0 ||
		    !(end = parse_uint(e->d_name + plen, &num)) || *end)
			continue;
		char path[PATH_MAX], text[16];
		int len = snprintf(path, sizeof(path), "%s/%s/online", dir, e->d_name);
		if (len < 0 || (size_t)len >= sizeof(path) ||
		    pd_kfile_read(path, text, sizeof(text), NULL) < 0 || text[0] != '0')
			continue; /* no online file (cpu0 on x86): not hot-pluggable */
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			unsigned *grown = realloc(*out, cap * sizeof(**out));
			if (!grown) {
				closedir(d);
				free(*out);
				*out = NULL;
				return pd_error_errno(err, ENOMEM, "list %s", dir);
			}
			*out = grown;
		}
		(*out)[(*n)++] = num;
	}
	closedir(d);
	if (*n) /* qsort of NULL is undefined, even for 0 entries */
		qsort(*out, *n, sizeof(**out), cmp_unsigned);
	return 0;
}

/* Write "1" to <dir>/<prefix>N/online for the first `limit` entries of nums; the first error
 * goes to first_err. Returns how many writes succeeded. */
static unsigned online_some(const char *dir, const char *prefix, const unsigned *nums, size_t n,
			    size_t limit, struct pd_error *first_err)
{
	unsigned ok = 0;
	for (size_t i = 0; i < n && i < limit; i++) {
		char path[PATH_MAX];
		struct pd_error e;
		snprintf(path, sizeof(path), "%s/%s%u/online", dir, prefix, nums[i]);
		if (pd_kfile_write(path, "1", &e) == 0)
			ok++;
		else if (first_err->code == PD_OK)
			*first_err = e;
	}
	return ok;
}

int pd_cpus_online(const char *sysfs, unsigned want, unsigned *online, struct pd_error *err)
{
	unsigned count, possible;
	if (pd_cpus_count(sysfs, "online", &count, err) < 0)
		return -1;
	*online = count;
	if (count >= want)
		return 0;
	if (pd_cpus_count(sysfs, "possible", &possible, NULL) == 0 && want > possible)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "nb_cpus %u is more than the %u possible CPUs of this guest",
				    want, possible);
	char dir[PATH_MAX];
	unsigned *offline;
	size_t n;
	if (pd_kpath(dir, sizeof(dir), err, sysfs, CPU_DIR) < 0 ||
	    offline_entries(dir, "cpu", &offline, &n, err) < 0)
		return -1;
	struct pd_error first = {0};
	/* A successful write means the CPU is up: count it rather than re-read `online`. */
	count += online_some(dir, "cpu", offline, n, want - count, &first);
	free(offline);
	*online = count;
	if (count >= want)
		return 0;
	return pd_error_set(err, PD_UNAVAILABLE, first.errnum,
			    "only %u of %u CPUs are online%s%s", count, want,
			    first.code ? ": " : " (hot-plugged CPUs have not appeared yet)",
			    first.code ? first.msg : "");
}

int pd_memory_online(const char *sysfs, unsigned *onlined, struct pd_error *err)
{
	char dir[PATH_MAX];
	unsigned *offline;
	size_t n;
	*onlined = 0;
	if (pd_kpath(dir, sizeof(dir), err, sysfs, MEM_DIR) < 0)
		return -1;
	if (!pd_kfile_exists(dir))
		return 0; /* no memory hotplug in this kernel: nothing can be offline */
	if (offline_entries(dir, "memory", &offline, &n, err) < 0)
		return -1;
	struct pd_error first = {0};
	*onlined = online_some(dir, "memory", offline, n, n, &first);
	free(offline);
	if (first.code == PD_OK)
		return 0;
	if (err)
		*err = first;
	return pd_error_wrap(err, "%u of %zu offline memory blocks brought online", *onlined, n);
}

int pd_memory_block_size_parse(const char *text, uint64_t *bytes, struct pd_error *err)
{
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	char *end;
	errno = 0;
	unsigned long long v = isxdigit((unsigned char)*p) ? strtoull(p, &end, 16) : 0;
	if (!isxdigit((unsigned char)*p) || errno)
		return pd_error_set(err, PD_INTERNAL, 0, "bad memory block size '%.32s'", text);
	while (isspace((unsigned char)*end))
		end++;
	if (*end || v == 0)
		return pd_error_set(err, PD_INTERNAL, 0, "bad memory block size '%.32s'", text);
	*bytes = v;
	return 0;
}

int pd_memory_block_size(const char *sysfs, uint64_t *bytes, struct pd_error *err)
{
	char path[PATH_MAX], text[64];
	struct pd_error e;
	*bytes = 0;
	if (pd_kpath(path, sizeof(path), err, sysfs, MEM_DIR "/block_size_bytes") < 0)
		return -1;
	if (pd_kfile_read(path, text, sizeof(text), &e) < 0) {
		if (e.errnum == ENOENT)
			return 0; /* no memory hotplug: the host asks for none */
		*err = e;
		return -1;
	}
	return pd_memory_block_size_parse(text, bytes, err);
}

bool pd_memory_probe_supported(const char *sysfs)
{
	char path[PATH_MAX];
	return pd_kpath(path, sizeof(path), NULL, sysfs, MEM_DIR "/probe") == 0 &&
	       pd_kfile_exists(path);
}

int pd_memory_probe(const char *sysfs, const uint64_t *addrs, size_t n, struct pd_error *err)
{
	char path[PATH_MAX];
	if (n > PD_PROBE_ADDRS_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%zu probe addresses (at most %u)", n, PD_PROBE_ADDRS_MAX);
	if (pd_kpath(path, sizeof(path), err, sysfs, MEM_DIR "/probe") < 0)
		return -1;
	if (n && !pd_kfile_exists(path))
		return pd_error_set(err, PD_FAILED_PRECONDITION, ENOENT,
				    "this guest kernel has no memory probe interface "
				    "(CONFIG_ARCH_MEMORY_PROBE)");
	for (size_t i = 0; i < n; i++) {
		char value[32];
		snprintf(value, sizeof(value), "0x%" PRIX64, addrs[i]);
		if (pd_kfile_write(path, value, err) < 0)
			return pd_error_wrap(err, "probe memory at %s", value);
	}
	return 0;
}
