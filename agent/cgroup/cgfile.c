/* cgroup files and directories: one value per write, whole-file reads, mkdir/rmdir of a
 * path component by component. Errors name the file and the value. */
#include "cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pd_cg_join(char *buf, size_t size, const char *dir, const char *file, struct pd_error *err)
{
	int n = snprintf(buf, size, "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= size)
		return pd_error_errno(err, ENAMETOOLONG, "cgroup path %.200s/%.100s", dir, file);
	return 0;
}

static int write_flags(const char *dir, const char *file, const char *value, size_t len, int flags,
		       struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	ssize_t n;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (n < 0)
		return pd_error_errno(err, saved, "write '%.*s' to %s", (int)strcspn(value, "\n"),
				      value, path);
	if ((size_t)n != len)
		return pd_error_errno(err, EIO, "short write to %s", path);
	return 0;
}

int pd_cg_write(const char *dir, const char *file, const char *value, struct pd_error *err)
{
	return write_flags(dir, file, value, strlen(value), O_TRUNC, err);
}

int pd_cg_command(const char *dir, const char *file, const char *value, struct pd_error *err)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "cgroup command too long");
	return write_flags(dir, file, line, (size_t)n, O_APPEND, err);
}

int pd_cg_write_u64(const char *dir, const char *file, uint64_t v, struct pd_error *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return pd_cg_write(dir, file, buf, err);
}

int pd_cg_write_i64(const char *dir, const char *file, int64_t v, const char *max_word,
		    struct pd_error *err)
{
	char buf[32];
	if (v == -1)
		snprintf(buf, sizeof(buf), "%s", max_word);
	else
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	return pd_cg_write(dir, file, buf, err);
}

ssize_t pd_cg_read(const char *dir, const char *file, char *buf, size_t size, struct pd_error *err)
{
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			return pd_error_errno(err, saved, "read %s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int pd_cg_read_u64(const char *dir, const char *file, uint64_t *v, struct pd_error *err)
{
	char buf[64];
	if (pd_cg_read(dir, file, buf, sizeof(buf), err) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return pd_error_set(err, PD_INTERNAL, 0, "%s/%s: not a number: '%.20s'", dir, file,
				    buf);
	*v = x;
	return 0;
}

bool pd_cg_blank(const char *s)
{
	return s[strspn(s, " \t\n")] == '\0';
}

bool pd_cg_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	if (pd_cg_join(path, sizeof(path), dir, file, NULL) < 0)
		return false;
	return access(path, F_OK) == 0;
}

char *pd_cg_path_dup(const char *a, const char *b, const char *c)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s%s", a, b ? "/" : "", b ? b : "", c ? "/" : "", c ? c : "") < 0)
		return NULL;
	return s;
}

int pd_cg_mkdir_path(const char *base, const char *path, size_t *n_made, struct pd_error *err)
{
	char dir[PATH_MAX];
	size_t made = 0, len;
	int n = snprintf(dir, sizeof(dir), "%s", base);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return pd_error_errno(err, ENAMETOOLONG, "cgroup base %.200s", base);
	len = (size_t)n;
	for (const char *p = path; *p;) {
		size_t w = strcspn(p, "/");
		if (len + 1 + w >= sizeof(dir)) {
			pd_cg_rmdir_made(dir, made);
			return pd_error_errno(err, ENAMETOOLONG, "cgroup %s/%s", base, path);
		}
		dir[len++] = '/';
		memcpy(dir + len, p, w);
		len += w;
		dir[len] = '\0';
		if (mkdir(dir, 0755) == 0)
			made++;
		else if (errno != EEXIST) {
			int saved = errno;
			dir[len - w - 1] = '\0';
			pd_cg_rmdir_made(dir, made);
			return pd_error_errno(err, saved, "mkdir %s/%.*s", dir, (int)w, p);
		} else
			made = 0; /* only a trailing run of new directories is ours to remove */
		p += w;
		p += strspn(p, "/");
	}
	*n_made = made;
	return 0;
}

void pd_cg_rmdir_made(const char *dir, size_t n)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (size_t i = 0; i < n; i++) {
		if (rmdir(buf) < 0 && errno != ENOENT)
			return;
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return;
		*slash = '\0';
	}
}

static int rmdir_tree(const char *dir, int depth, struct pd_error *err);

/* Sub-directories first: a container with a writable cgroup mount may have made some. Only
 * directories are removed; cgroupfs files go with their directory. */
static int rmdir_children(const char *dir, int depth, struct pd_error *err)
{
	if (depth > 32)
		return pd_error_errno(err, ELOOP, "cgroup tree under %s too deep", dir);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : pd_error_errno(err, errno, "open %s", dir);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		if (pd_cg_join(sub, sizeof(sub), dir, e->d_name, err) < 0)
			rc = -1;
		else
			rc = rmdir_tree(sub, depth + 1, err);
	}
	closedir(d);
	return rc;
}

static int rmdir_tree(const char *dir, int depth, struct pd_error *err)
{
	if (rmdir_children(dir, depth, err) < 0)
		return -1;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return pd_error_errno(err, errno, "rmdir %s", dir);
	return 0;
}

int pd_cg_rmdir_tree(const char *dir, struct pd_error *err)
{
	return rmdir_tree(dir, 0, err);
}
