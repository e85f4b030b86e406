/* CopyFile for regular files: chunks go into a temp file next to the target, which is
 * renamed into place (owner and mode set first) once it holds file_size bytes, so the path
 * never shows a half-written file.
 *
 * The temp file is ".<name>.pidone-tmp", not Kata's "<name with extension replaced by
 * tmp>": Kata's choice makes "a.conf" and "a.json" share "a.tmp" and can collide with a
 * real file the host copies; a hidden name with our own suffix does neither. Chunks must
 * come in order without holes: each one starts at or below the bytes received so far
 * (a chunk may be sent again). */
#include "agent/copyfile_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Room for "." + name + suffix; longer names keep a prefix and a hash of the whole name. */
#define TMP_KEEP 200

void pd_copy_tmp_name(const char *name, char *out, size_t size)
{
	size_t len = strlen(name);
	if (1 + len + strlen(PD_COPY_TMP_SUFFIX) <= NAME_MAX) {
		snprintf(out, size, ".%s%s", name, PD_COPY_TMP_SUFFIX);
		return;
	}
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ULL;
	snprintf(out, size, ".%.*s~%016llx%s", TMP_KEEP, name, (unsigned long long)h,
		 PD_COPY_TMP_SUFFIX);
}

static int check_chunk(const struct pd_copy_req *r, struct pd_error *err)
{
	if (r->file_size < 0 || r->file_size > PD_COPY_MAX_FILE_SIZE)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: %s: file_size %lld is not in 0..%lld", r->path,
				    (long long)r->file_size, (long long)PD_COPY_MAX_FILE_SIZE);
	if (r->len > PD_COPY_MAX_CHUNK)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: %s: a chunk of %zu bytes is over %u", r->path,
				    r->len, PD_COPY_MAX_CHUNK);
	if (r->offset < 0 || r->offset > r->file_size || (int64_t)r->len > r->file_size - r->offset)
		return pd_error_set(
		    err, PD_INVALID_ARGUMENT, EINVAL,
		    "CopyFile: %s: chunk at offset %lld of %zu bytes does not fit in "
		    "file_size %lld",
		    r->path, (long long)r->offset, r->len, (long long)r->file_size);
	return 0;
}

/* The first chunk: the old file and any old temp file go, the fs must have room. */
static int open_first(int parent, const char *name, const char *tmp, const struct pd_copy_req *r,
		      struct pd_error *err)
{
	struct statvfs vfs;
	if (fstatvfs(parent, &vfs) == 0 && vfs.f_frsize &&
	    ((uint64_t)r->file_size + vfs.f_frsize - 1) / vfs.f_frsize > (uint64_t)vfs.f_bavail)
		return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOSPC,
				    "CopyFile: %s: no room for %lld bytes", r->path,
				    (long long)r->file_size);
	if (pd_copy_remove(parent, name, err) < 0 || pd_copy_remove(parent, tmp, err) < 0)
		return -1;
	int fd = openat(parent, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd >= 0 ? fd
		       : pd_error_errno(err, errno, "CopyFile: create a temp file for %s", r->path);
}

/* A later chunk: the temp file must be ours (a plain file with one link) and hold at least
 * offset bytes. */
static int open_next(int parent, const char *tmp, const struct pd_copy_req *r, struct pd_error *err)
{
	int fd = openat(parent, tmp, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: %s: chunk at offset %lld but no chunk at offset 0 "
				    "came first",
				    r->path, (long long)r->offset);
	if (fd < 0)
		return pd_error_errno(err, errno, "CopyFile: open the temp file of %s", r->path);
	struct stat st;
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = "cannot be read";
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		bad = "is not a plain file with one link";
	else if (r->offset > st.st_size)
		bad = "holds fewer bytes than the offset (chunks must come in order)";
	if (bad) {
		close(fd);
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "CopyFile: %s: chunk at offset %lld: the temp file %s", r->path,
				    (long long)r->offset, bad);
	}
	return fd;
}

static int write_at(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* All bytes are in: owner, mode, then the one rename that makes the file appear. The owner
 * goes first: chown clears setuid and setgid, so a chmod before it would lose them (a
 * 04755 file came out 0755). */
static int complete(int fd, int parent, const char *tmp, const char *name,
		    const struct pd_copy_req *r, struct pd_error *err)
{
	if (fchown(fd, r->uid, r->gid) < 0 || fchmod(fd, r->file_mode & 07777) < 0)
		return pd_error_errno(err, errno, "CopyFile: owner and mode of %s", r->path);
	if (renameat(parent, tmp, parent, name) < 0)
		return pd_error_errno(err, errno, "CopyFile: rename into %s", r->path);
	return 0;
}

int pd_copy_chunk(int parent, const char *name, const struct pd_copy_req *r,
		  enum pd_copy_done *done, struct pd_error *err)
{
	char tmp[NAME_MAX + 1];
	if (check_chunk(r, err) < 0)
		return -1;
	pd_copy_tmp_name(name, tmp, sizeof(tmp));
	int fd =
	    r->offset == 0 ? open_first(parent, name, tmp, r, err) : open_next(parent, tmp, r, err);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = write_at(fd, r->data, r->len, (off_t)r->offset);
	if (rc < 0)
		pd_error_errno(err, -rc,
			       "CopyFile: write %zu bytes at %lld into the temp file of %s", r->len,
			       (long long)r->offset, r->path);
	else if (fstat(fd, &st) < 0)
		rc = pd_error_errno(err, errno, "CopyFile: stat the temp file of %s", r->path);
	else if (st.st_size > r->file_size)
		rc = pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				  "CopyFile: %s: %lld bytes received, more than file_size %lld",
				  r->path, (long long)st.st_size, (long long)r->file_size);
	else if (st.st_size == r->file_size)
		rc = complete(fd, parent, tmp, name, r, err);
	close(fd);
	if (rc < 0) /* the transfer is broken: do not leave its bytes behind */
		unlinkat(parent, tmp, 0);
	else
		*done = st.st_size == r->file_size ? PD_COPY_COMPLETE : PD_COPY_CHUNK;
	return rc < 0 ? -1 : 0;
}
