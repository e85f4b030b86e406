/* Paths inside the container, resolved under its rootfs.
 *
 * Every spec path (mount destinations, devices, masked and readonly paths, the cwd) comes
 * from the host and is looked up in an image we do not trust: a symlink in the image may
 * point anywhere. openat2(RESOLVE_IN_ROOT) from an fd of the rootfs makes the kernel treat
 * that fd as "/" for the whole walk, so ".." and absolute symlinks are clamped inside it,
 * the way they will be once the container runs; RESOLVE_NO_MAGICLINKS refuses the
 * /proc/<pid>/fd-style links, which could lead to any open file. A symlink that stays inside
 * is followed, as runc's securejoin does.
 *
 * Creating is done one component at a time: each missing name is made with an *at() call
 * in the directory just resolved, then the prefix is resolved again, so nothing is created
 * through a path string the image could redirect. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/resolve.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define DIR_MODE  0755
#define FILE_MODE 0644

bool pd_path_is_clean(const char *path)
{
	if (!path || path[0] != '/' || strlen(path) >= PATH_MAX)
		return false;
	if (path[1] == '\0')
		return true;
	for (const char *c = path + 1;;) {
		const char *end = strchrnul(c, '/');
		size_t n = (size_t)(end - c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (*end == '\0')
			return true;
		c = end + 1;
	}
}

int pd_in_root_open(int root, const char *path, int oflags, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(O_PATH | O_CLOEXEC | oflags),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
	};
	/* EAGAIN: a rename or mount elsewhere raced a ".." step; the kernel asks us to retry. */
	for (int tries = 0; tries < 16; tries++) {
		int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* The prefix of buf that ends at end is resolved (created first if missing, in parent). */
static int step_into(int root, int parent, char *buf, char *end, uint64_t resolve)
{
	char saved = *end;
	*end = '\0';
	int fd = pd_in_root_open(root, buf, O_DIRECTORY, resolve);
	if (fd == -ENOENT) {
		const char *name = strrchr(buf, '/') + 1;
		struct stat st;
		if (mkdirat(parent, name, DIR_MODE) < 0 && errno != EEXIST)
			fd = -errno;
		else
			fd = pd_in_root_open(root, buf, O_DIRECTORY, resolve);
		/* Still missing after EEXIST: the name is a symlink to nowhere in the rootfs (its
		 * target, clamped to the rootfs, does not exist). Say so rather than ENOENT. */
		if (fd == -ENOENT && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			fd = -ELOOP;
	}
	*end = saved;
	return fd;
}

int pd_in_root_mkdirs(int root, const char *path)
{
	return pd_in_root_mkdirs_with(root, path, 0);
}

int pd_in_root_mkdirs_with(int root, const char *path, uint64_t resolve)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (path[0] != '/' || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	int dir = pd_in_root_open(root, "/", O_DIRECTORY, resolve);
	for (char *c = buf + 1; dir >= 0 && *c;) {
		char *end = strchrnul(c, '/');
		if (end > c) {
			int next = step_into(root, dir, buf, end, resolve);
			close(dir);
			dir = next;
		}
		c = *end ? end + 1 : end;
	}
	return dir;
}

int pd_in_root_parent(int root, const char *path, char *name, size_t size)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!pd_path_is_clean(path) || !slash || slash[1] == '\0' || strlen(slash + 1) >= size)
		return -EINVAL;
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	strcpy(name, slash + 1);
	return pd_in_root_mkdirs(root, dir);
}

int pd_in_root_mkfile(int root, const char *path)
{
	int fd = pd_in_root_open(root, path, 0, 0);
	if (fd != -ENOENT)
		return fd;
	char name[NAME_MAX + 1];
	int dir = pd_in_root_parent(root, path, name, sizeof(name));
	if (dir < 0)
		return dir;
	/* O_EXCL|O_NOFOLLOW: a dangling symlink at the name fails instead of being followed. */
	int f = openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, FILE_MODE);
	int rc = f < 0 && errno != EEXIST ? -errno : 0;
	struct stat st;
	if (f < 0 && rc == 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		rc = -ELOOP; /* a symlink to nowhere in the rootfs: never create its target */
	if (f >= 0)
		close(f);
	close(dir);
	return rc < 0 ? rc : pd_in_root_open(root, path, 0, 0);
}

int pd_open_nosymlinks(const char *path, int oflags)
{
	struct open_how how = {
	    .flags = (uint64_t)(O_PATH | O_CLOEXEC | oflags),
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	for (int tries = 0; tries < 16; tries++) {
		int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}
