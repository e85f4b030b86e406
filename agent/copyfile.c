/* CopyFile: the checks, the parents, directories and symlinks (regular files are in
 * copyfile_chunk.c). Why every step goes through an fd: see copyfile.h. */
#include "agent/copyfile_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/resolve.h"

#define BASE_MODE 0755

/* Check what applies to every request; rel gets the path below base ("/a/b"). */
static int check_request(const char *base, size_t base_len, const struct pd_copy_req *r,
			 const char **rel, struct pd_error *err)
{
	if (!r->path || strncmp(r->path, base, base_len) != 0 || r->path[base_len] != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: path \"%.200s\" is not below %s",
				    r->path ? r->path : "", base);
	*rel = r->path + base_len;
	if (strlen(r->path) >= PATH_MAX || !pd_path_is_clean(*rel) || strcmp(*rel, "/") == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: path \"%.200s\" must be a clean path below %s (no "
				    "'.', '..', '//' or trailing '/')",
				    r->path, base);
	if (strlen(strrchr(*rel, '/') + 1) > NAME_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG,
				    "CopyFile: last component of %.200s is too long", r->path);
	if (r->file_mode > 0177777)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: file_mode %#o has bits outside st_mode",
				    r->file_mode);
	if (r->uid < -1 || r->gid < -1)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: uid %d / gid %d out of range", r->uid, r->gid);
	return 0;
}

/* name in dir, made with exactly mode (fchmod on a real fd: mkdir's mode went through the
 * umask). EEXIST is not ours to change. Returns 1 if made, 0 if it was there, -errno. */
static int mkdir_exact(int dir, const char *name, mode_t mode)
{
	if (mkdirat(dir, name, mode) < 0)
		return errno == EEXIST ? 0 : -errno;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, mode) < 0 ? -errno : 1;
	close(fd);
	return rc;
}

/* O_PATH fd of base, created (0755, parents too) if missing. base is ours, not the host's,
 * but its directories may lie on a filesystem the host writes (a storage mounted at
 * /run/kata-containers/shared): each one is resolved from the one before without following
 * a symlink, so a "containers -> /etc" planted there cannot make /etc the base. */
static int open_base(const char *base, struct pd_error *err)
{
	char buf[PATH_MAX], one[NAME_MAX + 2];
	if (snprintf(buf, sizeof(buf), "%s", base) >= (int)sizeof(buf) || !pd_path_is_clean(base))
		return pd_error_set(err, PD_INTERNAL, EINVAL, "CopyFile: bad base %s", base);
	int dir = pd_open_nosymlinks("/", O_DIRECTORY);
	for (char *c = buf + 1; dir >= 0 && *c;) {
		char *end = strchrnul(c, '/'), saved = *end;
		*end = '\0';
		snprintf(one, sizeof(one), "/%s", c);
		int next = pd_in_root_open(dir, one, O_DIRECTORY, RESOLVE_NO_SYMLINKS);
		if (next == -ENOENT && (next = mkdir_exact(dir, c, BASE_MODE)) >= 0)
			next = pd_in_root_open(dir, one, O_DIRECTORY, RESOLVE_NO_SYMLINKS);
		close(dir);
		dir = next;
		*end = saved;
		c = saved ? end + 1 : end;
	}
	if (dir == -ELOOP)
		return pd_error_set(err, PD_FAILED_PRECONDITION, ELOOP,
				    "CopyFile: the base %s is or passes through a symlink", base);
	return dir >= 0 ? dir : pd_error_errno(err, -dir, "CopyFile: open the base %s", base);
}

/* The directory prefix (under root) as an O_PATH fd, made in dir (prefix's parent) with mode
 * if missing; *made says whether this call made it. Returns the fd or -errno. */
static int step_into(int root, int dir, const char *prefix, const char *name, mode_t mode,
		     int *made)
{
	int fd = pd_in_root_open(root, prefix, O_DIRECTORY, 0);
	*made = 0;
	if (fd != -ENOENT)
		return fd;
	*made = mkdir_exact(dir, name, mode);
	if (*made < 0)
		return *made;
	fd = pd_in_root_open(root, prefix, O_DIRECTORY, 0);
	/* Still missing though the name was there: a symlink whose target is not. */
	return fd == -ENOENT && *made == 0 ? -ELOOP : fd;
}

/* The O_PATH fd of the directory holding rel's last component, missing directories created
 * with dir_mode & 0777, one component at a time: each prefix is resolved again from root,
 * so nothing is created through a path the directory's contents could redirect. The
 * immediate parent is chowned to uid:gid only if this call made it. */
static int make_parents(int root, const char *rel, const struct pd_copy_req *r,
			struct pd_error *err)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", rel);
	char *last = strrchr(buf, '/'); /* components before it are directories */
	int made = 0;
	int dir = pd_in_root_open(root, "/", O_DIRECTORY, 0);
	if (dir < 0)
		return pd_error_errno(err, -dir, "CopyFile: open the base of %s", r->path);
	for (char *c = buf + 1; c <= last;) {
		char *end = strchr(c, '/');
		*end = '\0';
		int next = step_into(root, dir, buf, c, r->dir_mode & 0777, &made);
		close(dir);
		if (next == -ELOOP)
			return pd_error_set(err, PD_INVALID_ARGUMENT, ELOOP,
					    "CopyFile: %s of %s is a symlink that does not lead to "
					    "a directory inside the base",
					    buf, r->path);
		if (next < 0)
			return pd_error_errno(err, -next, "CopyFile: directory %s of %s", buf,
					      r->path);
		*end = '/';
		dir = next;
		c = end + 1;
	}
	if (made > 0 && fchownat(dir, "", r->uid, r->gid, AT_EMPTY_PATH) < 0) {
		pd_error_errno(err, errno, "CopyFile: chown the directory of %s", r->path);
		close(dir);
		return -1;
	}
	return dir;
}

int pd_copy_remove(int parent, const char *name, struct pd_error *err)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno == EISDIR && (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT))
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return pd_error_set(err, PD_FAILED_PRECONDITION, errno,
				    "CopyFile: %s is a directory that is not empty", name);
	return pd_error_errno(err, errno, "CopyFile: remove the old %s", name);
}

/* S_IFDIR: make it (or keep the one there), then its owner and mode. */
static int copy_dir(int parent, const char *name, const struct pd_copy_req *r, struct pd_error *err)
{
	if (mkdirat(parent, name, r->file_mode & 0777) < 0 && errno != EEXIST)
		return pd_error_errno(err, errno, "CopyFile: mkdir %s", r->path);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return pd_error_set(err, PD_INVALID_ARGUMENT, errno,
				    "CopyFile: %s exists and is not a directory", r->path);
	if (fd < 0)
		return pd_error_errno(err, errno, "CopyFile: open %s", r->path);
	int rc = 0;
	/* Owner first: a chown clears the set-id bits the mode may ask for. */
	if (fchown(fd, r->uid, r->gid) < 0 || fchmod(fd, r->file_mode & 07777) < 0)
		rc = pd_error_errno(err, errno, "CopyFile: owner and mode of %s", r->path);
	close(fd);
	return rc;
}

/* S_IFLNK: a symlink to data, made under the temp name and renamed over the old entry, so a
 * symlink that is re-sent replaces the old one at once. Its target is not checked (it is
 * never followed by CopyFile). */
static int copy_symlink(int parent, const char *name, const struct pd_copy_req *r,
			struct pd_error *err)
{
	char target[PATH_MAX], tmp[NAME_MAX + 1];
	if (r->len == 0 || r->len >= sizeof(target) || memchr(r->data, '\0', r->len))
		return pd_error_set(
		    err, PD_INVALID_ARGUMENT, EINVAL,
		    "CopyFile: symlink %s needs a target of 1..%d bytes without NUL", r->path,
		    PATH_MAX - 1);
	memcpy(target, r->data, r->len);
	target[r->len] = '\0';
	pd_copy_tmp_name(name, tmp, sizeof(tmp));
	if (pd_copy_remove(parent, tmp, err) < 0)
		return -1;
	if (symlinkat(target, parent, tmp) < 0)
		return pd_error_errno(err, errno, "CopyFile: symlink %s", r->path);
	if (fchownat(parent, tmp, r->uid, r->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    renameat(parent, tmp, parent, name) < 0) {
		pd_error_errno(err, errno, "CopyFile: symlink %s", r->path);
		unlinkat(parent, tmp, 0);
		return -1;
	}
	return 0;
}

int pd_copy_file(const char *base, const struct pd_copy_req *r, enum pd_copy_done *done,
		 struct pd_error *err)
{
	size_t base_len = strlen(base);
	while (base_len > 1 && base[base_len - 1] == '/')
		base_len--;
	const char *rel = NULL;
	if (check_request(base, base_len, r, &rel, err) < 0)
		return -1;
	unsigned type = r->file_mode & S_IFMT;
	if (type != S_IFDIR && type != S_IFLNK && type != S_IFREG && type != 0)
		return pd_error_set(
		    err, PD_INVALID_ARGUMENT, EINVAL,
		    "CopyFile: %s: file type %#o is not a file, directory or symlink", r->path,
		    type);
	char name[NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", strrchr(rel, '/') + 1);
	char root_path[PATH_MAX];
	snprintf(root_path, sizeof(root_path), "%.*s", (int)base_len, base);
	int root = open_base(root_path, err);
	if (root < 0)
		return -1;
	int parent = make_parents(root, rel, r, err);
	close(root);
	if (parent < 0)
		return -1;
	int rc;
	if (type == S_IFDIR) {
		rc = copy_dir(parent, name, r, err);
		*done = PD_COPY_DIR;
	} else if (type == S_IFLNK) {
		rc = copy_symlink(parent, name, r, err);
		*done = PD_COPY_SYMLINK;
	} else {
		rc = pd_copy_chunk(parent, name, r, done, err);
	}
	close(parent);
	return rc;
}
