/* Kernel modules without modprobe. Debian's stock kernel has virtio_console, 9p and vsock as
 * modules, so the initrd lists the .ko files to load at boot (in dependency order) and pid 1
 * loads them with finit_module(2). For a module the host names at run time we resolve the
 * name under /lib/modules/$(uname -r) ourselves, using modules.dep when the initrd has it. */
#include "modules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/log.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4 /* Linux 5.17: the kernel decompresses */
#endif

#define MODULE_NAME_MAX	  55 /* MODULE_NAME_LEN - 1 */
#define MODULE_PARAMS_MAX 4096
#define WALK_DEPTH_MAX	  8
#define DEPS_MAX	  64

static const char *const module_suffixes[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz", NULL};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int pd_modules_parse_line(char *line, struct pd_module_entry *e, struct pd_error *err)
{
	char *p = line;
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	if (*p != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "module path is not absolute: %.*s", (int)strcspn(p, " \t\r\n"),
				    p);
	e->path = p;
	while (*p && !is_blank(*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (is_blank(*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		*--end = '\0';
	e->params = p;
	return 1;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int pd_module_load(const char *path, const char *params, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open module %s", path);
	bool compressed =
	    has_suffix(path, ".xz") || has_suffix(path, ".zst") || has_suffix(path, ".gz");
	int flags = compressed ? MODULE_INIT_COMPRESSED_FILE : 0;
	long rc = syscall(SYS_finit_module, fd, params ? params : "", flags);
	int saved = errno;
	close(fd);
	if (rc < 0 && saved != EEXIST)
		return pd_error_errno(err, saved, "load module %s", path);
	pd_debug(rc < 0 ? "module already loaded" : "module loaded", "path=%s", path);
	return 0;
}

int pd_modules_load_file(const char *list, struct pd_error *err)
{
	FILE *f = fopen(list, "re");
	if (!f)
		return pd_error_errno(err, errno, "open %s", list);
	char *line = NULL;
	size_t cap = 0;
	int failed = 0;
	unsigned lineno = 0;
	while (getline(&line, &cap, f) > 0) {
		struct pd_module_entry e;
		struct pd_error e_err;
		lineno++;
		int rc = pd_modules_parse_line(line, &e, &e_err);
		if (rc > 0)
			rc = pd_module_load(e.path, e.params, &e_err);
		if (rc < 0) {
			pd_warn("module not loaded", "list=%s line=%u error=\"%s\"", list, lineno,
				e_err.msg);
			failed++;
		}
	}
	free(line);
	fclose(f);
	return failed;
}

/* Whether file (a path or a basename, len bytes) is the module called name: the basename
 * minus a module suffix equals name, with '-' and '_' the same (as modprobe treats them). */
static bool file_is_module(const char *file, size_t len, const char *name)
{
	const char *base = file;
	for (size_t i = 0; i < len; i++)
		if (file[i] == '/')
			base = file + i + 1;
	size_t base_len = len - (size_t)(base - file);
	size_t name_len = strlen(name);
	if (base_len <= name_len)
		return false;
	for (size_t i = 0; i < name_len; i++) {
		char a = base[i] == '-' ? '_' : base[i], b = name[i] == '-' ? '_' : name[i];
		if (a != b)
			return false;
	}
	for (int s = 0; module_suffixes[s]; s++)
		if (strlen(module_suffixes[s]) == base_len - name_len &&
		    memcmp(base + name_len, module_suffixes[s], base_len - name_len) == 0)
			return true;
	return false;
}

/* The line of moddir/index (modules.dep, modules.builtin) whose first path names the module,
 * malloc'd, or NULL. Lines look like "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko". */
static char *index_find(const char *moddir, const char *index, const char *name)
{
	char file[4096];
	snprintf(file, sizeof(file), "%s/%s", moddir, index);
	FILE *f = fopen(file, "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0)
		found = file_is_module(line, strcspn(line, ": \t\n"), name);
	fclose(f);
	if (!found) {
		free(line);
		return NULL;
	}
	return line;
}

/* Module paths in index files are relative to moddir unless absolute. */
static int index_path(const char *moddir, const char *rel, size_t rel_len, char *path, size_t len,
		      struct pd_error *err)
{
	int n = rel[0] == '/' ? snprintf(path, len, "%.*s", (int)rel_len, rel)
			      : snprintf(path, len, "%s/%.*s", moddir, (int)rel_len, rel);
	if (n < 0 || (size_t)n >= len)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG, "module path too long");
	return 0;
}

/* Depth-first search for the module file; symlinks are not followed (build/, source/). */
static bool walk_find(const char *dir, const char *name, int depth, char *path, size_t len)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type == DT_LNK)
			continue;
		char child[4096];
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", dir, de->d_name) >=
		    sizeof(child))
			continue;
		struct stat st;
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN && lstat(child, &st) == 0)
			is_dir = S_ISDIR(st.st_mode);
		if (is_dir) {
			found =
			    depth < WALK_DEPTH_MAX && walk_find(child, name, depth + 1, path, len);
		} else if (file_is_module(de->d_name, strlen(de->d_name), name) &&
			   (size_t)snprintf(path, len, "%s", child) < len) {
			found = true;
		}
	}
	closedir(d);
	return found;
}

static int check_name(const char *name, struct pd_error *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > MODULE_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "bad module name \"%.64s\"",
				    name);
	return 0;
}

int pd_module_find(const char *moddir, const char *name, char *path, size_t len,
		   struct pd_error *err)
{
	if (check_name(name, err) < 0)
		return -1;
	char *line = index_find(moddir, "modules.dep", name);
	if (line) {
		int rc = index_path(moddir, line, strcspn(line, ": \t\n"), path, len, err);
		free(line);
		return rc < 0 ? -1 : 1;
	}
	line = index_find(moddir, "modules.builtin", name);
	if (line) {
		free(line);
		return 0;
	}
	if (walk_find(moddir, name, 0, path, len))
		return 1;
	return pd_error_set(err, PD_NOT_FOUND, ENOENT, "module %s not found under %s", name,
			    moddir);
}

/* Dependencies from the module's modules.dep line, loaded last to first (the order depmod
 * writes them in puts a module after what it needs). Best effort: a missing dependency shows
 * up as the module's own load error. */
static void load_deps(const char *moddir, char *line)
{
	char *deps[DEPS_MAX];
	int n = 0;
	char *colon = strchr(line, ':');
	if (!colon)
		return;
	for (char *save = NULL, *t = strtok_r(colon + 1, " \t\n", &save); t && n < DEPS_MAX;
	     t = strtok_r(NULL, " \t\n", &save))
		deps[n++] = t;
	while (n-- > 0) {
		char path[4096];
		struct pd_error e;
		if (index_path(moddir, deps[n], strlen(deps[n]), path, sizeof(path), &e) < 0 ||
		    pd_module_load(path, "", &e) < 0)
			pd_debug("module dependency not loaded", "error=\"%s\"", e.msg);
	}
}

/* /sys/module/<name> exists for every loaded module (and built-ins with parameters). */
static bool module_is_loaded(const char *name)
{
	char path[128];
	int n = snprintf(path, sizeof(path), "/sys/module/%s", name);
	for (int i = (int)strlen("/sys/module/"); i < n; i++)
		if (path[i] == '-')
			path[i] = '_';
	return access(path, F_OK) == 0;
}

int pd_module_load_by_name(const char *name, const char *params, struct pd_error *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (params && strlen(params) > MODULE_PARAMS_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, E2BIG,
				    "module %s: parameters too long", name);
	if (module_is_loaded(name))
		return 0;
	struct utsname u;
	char moddir[sizeof(u.release) + 16], path[4096];
	if (uname(&u) < 0)
		return pd_error_errno(err, errno, "uname");
	snprintf(moddir, sizeof(moddir), "/lib/modules/%s", u.release);
	char *line = index_find(moddir, "modules.dep", name);
	if (line) {
		int rc = index_path(moddir, line, strcspn(line, ": \t\n"), path, sizeof(path), err);
		if (rc == 0)
			load_deps(moddir, line);
		free(line);
		return rc < 0 ? -1 : pd_module_load(path, params, err);
	}
	int found = pd_module_find(moddir, name, path, sizeof(path), err);
	if (found <= 0)
		return found; /* 0: built in */
	return pd_module_load(path, params, err);
}
