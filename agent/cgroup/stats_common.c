/* What the v1 and v2 statistics readers share: optional files, and hugetlb, whose page
 * sizes are found by the files the kernel created ("hugetlb.2MB.*"). */
#include "cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pd_cg_read_opt(const char *dir, const char *file, char *buf)
{
	if (!dir || pd_cg_read(dir, file, buf, PD_CG_STAT_BUF, NULL) < 0) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

uint64_t pd_cg_u64_opt(const char *dir, const char *file, char *buf)
{
	if (!pd_cg_read_opt(dir, file, buf))
		return 0;
	uint64_t v = 0;
	if (strncmp(buf, "max", 3) == 0)
		return UINT64_MAX;
	sscanf(buf, "%" SCNu64, &v);
	return v;
}

/* "hugetlb.2MB.<suffix>" → "2MB" (no further dot: "hugetlb.2MB.rsvd.<suffix>" is another
 * counter). */
static bool size_of(const char *name, const char *suffix, char *size, size_t len)
{
	if (strncmp(name, "hugetlb.", 8) != 0)
		return false;
	const char *s = name + 8, *dot = strchr(s, '.');
	if (!dot || dot == s || (size_t)(dot - s) >= len || strcmp(dot + 1, suffix) != 0)
		return false;
	memcpy(size, s, (size_t)(dot - s));
	size[dot - s] = '\0';
	return true;
}

static uint64_t value_of(const char *dir, const char *file, const char *key, char *buf)
{
	if (!key)
		return pd_cg_u64_opt(dir, file, buf);
	uint64_t v = 0;
	if (pd_cg_read_opt(dir, file, buf))
		pd_cg_flat_get(buf, key, &v);
	return v;
}

int pd_cg_hugetlb_stats(const char *dir, const char *usage, const char *max_usage,
			const char *failcnt_file, const char *failcnt_key, char *buf,
			struct pd_cgroup_stats *st, struct pd_error *err)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) && st->n_hugetlb < PD_MAX_HUGETLB_SIZES) {
		char size[16], file[96];
		if (!size_of(e->d_name, usage, size, sizeof(size)))
			continue;
		struct pd_hugetlb_stat *a =
		    realloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*st->hugetlb));
		if (!a) {
			rc = pd_error_errno(err, ENOMEM, "hugetlb stats");
			break;
		}
		st->hugetlb = a;
		struct pd_hugetlb_stat *h = &a[st->n_hugetlb++];
		memset(h, 0, sizeof(*h));
		snprintf(h->pagesize, sizeof(h->pagesize), "%s", size);
		h->usage = pd_cg_u64_opt(dir, e->d_name, buf);
		if (max_usage) {
			snprintf(file, sizeof(file), "hugetlb.%s.%s", size, max_usage);
			h->max_usage = pd_cg_u64_opt(dir, file, buf);
		}
		snprintf(file, sizeof(file), "hugetlb.%s.%s", size, failcnt_file);
		h->failcnt = value_of(dir, file, failcnt_key, buf);
	}
	closedir(d);
	return rc;
}
