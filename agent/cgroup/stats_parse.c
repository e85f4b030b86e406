/* Parsers for the text formats of cgroup statistics files: flat keyed ("key value" lines),
 * space-separated numbers, v1 blkio ("8:0 Read 123") and v2 io.stat ("8:0 rbytes=1 ...").
 * Lines that do not parse are skipped: a newer kernel may add lines of another shape. */
#include "cgroup_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 4096 /* per file; far above any real one */

static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
	if (strncmp(s, "max", 3) == 0) {
		*v = UINT64_MAX;
		*end = s + 3;
		return true;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	char *e;
	errno = 0;
	unsigned long long x = strtoull(s, &e, 10);
	if (errno)
		return false;
	*v = x;
	*end = e;
	return true;
}

bool pd_cg_flat_get(const char *text, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
		const char *end;
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ' &&
		    parse_u64(p + klen + 1, v, &end))
			return true;
	}
	return false;
}

int pd_cg_flat_all(const char *text, struct pd_kv **out, size_t *n, struct pd_error *err)
{
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	lines++;
	if (lines > MAX_ENTRIES)
		lines = MAX_ENTRIES;
	struct pd_kv *kv = calloc(lines, sizeof(*kv));
	if (!kv)
		return pd_error_errno(err, ENOMEM, "cgroup stats");
	size_t k = 0;
	for (const char *p = text; *p && k < lines; p += strcspn(p, "\n"), p += *p == '\n') {
		size_t klen = strcspn(p, " \n");
		const char *end;
		if (klen == 0 || klen >= sizeof(kv[k].key) || p[klen] != ' ' ||
		    !parse_u64(p + klen + 1, &kv[k].value, &end))
			continue;
		memcpy(kv[k].key, p, klen);
		k++;
	}
	*out = kv;
	*n = k;
	return 0;
}

int pd_cg_numbers(const char *text, uint64_t **out, size_t *n, struct pd_error *err)
{
	size_t count = 0;
	uint64_t v;
	const char *end;
	for (const char *p = text + strspn(text, " \n"); *p && parse_u64(p, &v, &end);
	     p = end + strspn(end, " \n"))
		count++;
	if (count > MAX_ENTRIES)
		count = MAX_ENTRIES;
	uint64_t *a = calloc(count ? count : 1, sizeof(*a));
	if (!a)
		return pd_error_errno(err, ENOMEM, "cgroup stats");
	size_t k = 0;
	for (const char *p = text + strspn(text, " \n"); k < count && parse_u64(p, &a[k], &end);
	     p = end + strspn(end, " \n"))
		k++;
	*out = a;
	*n = k;
	return 0;
}

static int push(struct pd_blkio_entry **out, size_t *n, const struct pd_blkio_entry *e,
		struct pd_error *err)
{
	if (*n >= MAX_ENTRIES)
		return 0;
	if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0)) { /* 8, 16, 32 ... */
		size_t cap = *n ? *n * 2 : 8;
		struct pd_blkio_entry *a = realloc(*out, cap * sizeof(*a));
		if (!a)
			return pd_error_errno(err, ENOMEM, "cgroup stats");
		*out = a;
	}
	(*out)[(*n)++] = *e;
	return 0;
}

int pd_cg_blkio_v1_parse(const char *text, struct pd_blkio_entry **out, size_t *n,
			 struct pd_error *err)
{
	for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
		struct pd_blkio_entry e = {0};
		char line[128], op[16];
		unsigned long long major, minor, value;
		size_t len = strcspn(p, "\n");
		if (len >= sizeof(line))
			continue;
		memcpy(line, p, len); /* sscanf must not read on into the next line */
		line[len] = '\0';
		if (sscanf(line, "%llu:%llu %15s %llu", &major, &minor, op, &value) == 4) {
			for (char *c = op; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			snprintf(e.op, sizeof(e.op), "%s", op);
		} else if (sscanf(line, "%llu:%llu %llu", &major, &minor, &value) != 3)
			continue; /* "Total N" and anything else */
		e.major = major;
		e.minor = minor;
		e.value = value;
		if (push(out, n, &e, err) < 0)
			return -1;
	}
	return 0;
}

/* The value of "key=N" in one io.stat line (up to its end). */
static bool io_key(const char *line, size_t len, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	for (const char *p = line; p < line + len; p++) {
		const char *end;
		if ((p == line || p[-1] == ' ') && strncmp(p, key, klen) == 0 && p[klen] == '=' &&
		    parse_u64(p + klen + 1, v, &end))
			return true;
	}
	return false;
}

int pd_cg_io_stat_parse(const char *text, struct pd_blkio_entry **bytes, size_t *n_bytes,
			struct pd_blkio_entry **ios, size_t *n_ios, struct pd_error *err)
{
	static const char *const ops[] = {"read", "write", "discard"};
	static const char *const byte_keys[] = {"rbytes", "wbytes", "dbytes"};
	static const char *const io_keys[] = {"rios", "wios", "dios"};
	for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
		unsigned long long major, minor;
		size_t len = strcspn(p, "\n");
		if (sscanf(p, "%llu:%llu ", &major, &minor) != 2)
			continue;
		for (int i = 0; i < 3; i++) {
			struct pd_blkio_entry e = {.major = major, .minor = minor};
			snprintf(e.op, sizeof(e.op), "%s", ops[i]);
			if (io_key(p, len, byte_keys[i], &e.value) &&
			    push(bytes, n_bytes, &e, err) < 0)
				return -1;
			if (io_key(p, len, io_keys[i], &e.value) && push(ios, n_ios, &e, err) < 0)
				return -1;
		}
	}
	return 0;
}
