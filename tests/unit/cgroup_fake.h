/* Fake cgroup trees for the cgroup unit tests: plain directories and files in a temp dir,
 * laid out as the kernel would (v1: one directory per controller; v2: one tree with
 * cgroup.controllers). The kernel makes a new cgroup's files itself; a fake cannot, so the
 * tests make the container's directories and files first, as mkdir would have. */
#ifndef PD_TEST_CGROUP_FAKE_H
#define PD_TEST_CGROUP_FAKE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void fk_path(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);
	assert_true(n > 0 && (size_t)n < size);
}

/* mkdir -p of a formatted path */
__attribute__((format(printf, 1, 2))) static inline void fk_mkdir(const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	va_start(ap, fmt);
	fk_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* write text to dir/file (made with its directories) */
static inline void fk_write(const char *dir, const char *file, const char *text)
{
	char path[4096];
	fk_mkdir("%s", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* the content of dir/file, in a static buffer ("<missing>" if absent) */
static inline const char *fk_read(const char *dir, const char *file)
{
	static char buf[8192];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return "<missing>";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static inline bool fk_exists(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0;
}

static inline void fk_rm_rf(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* A fresh temp dir; *out is its path. */
static inline void fk_tmpdir(char *out, size_t size)
{
	snprintf(out, size, "/tmp/pidone-cgtest.XXXXXX");
	assert_non_null(mkdtemp(out));
}

#endif
