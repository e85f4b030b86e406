/* Guest hooks: executables the guest image carries under CreateSandbox's guest_hook_path,
 * run for every container like Kata's agent does. See hooks.h. */
#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/log.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the entries of dir (not "." or ".."), sorted; *n of them, malloc'd. */
static char **list_dir(DIR *d, size_t *n)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *e;
	*n = 0;
	while ((e = readdir(d)) && *n < 4 * PD_HOOKS_MAX) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	if (*n)
		qsort(names, *n, sizeof(*names), by_name);
	return names;
}

static bool usable(int dfd, const char *dir, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		pd_warn("guest hook skipped", "path=%s/%s errno=%d", dir, name, errno);
		return false;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		pd_warn("guest hook skipped", "path=%s/%s why=%s", dir, name,
			S_ISLNK(st.st_mode) ? "symlink" : "not a regular executable file");
		return false;
	}
	return true;
}

static int add_kind(struct pd_arena *a, struct pd_hooks **hooks, const char *base, int kind,
		    struct pd_error *err)
{
	char dir[4096], path[4096];
	snprintf(dir, sizeof(dir), "%s/%s", base, pd_hook_kind_name(kind));
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* no hooks of this kind */
	size_t n;
	char **names = list_dir(d, &n);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0 && w > 0 && (size_t)w < sizeof(path) && usable(dirfd(d), dir, names[i]))
			rc = pd_hooks_add(a, hooks, kind, path, NULL, 0, NULL, 0,
					  PD_HOOK_DEFAULT_TIMEOUT, err);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return rc < 0 ? pd_error_wrap(err, "guest hooks in %s", dir) : 0;
}

int pd_hooks_add_guest(struct pd_arena *a, struct pd_hooks **hooks, const char *dir,
		       struct pd_error *err)
{
	static const int kinds[] = {PD_HOOK_PRESTART, PD_HOOK_POSTSTART, PD_HOOK_POSTSTOP};
	if (!dir || !dir[0])
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (add_kind(a, hooks, dir, kinds[i], err) < 0)
			return -1;
	return 0;
}
