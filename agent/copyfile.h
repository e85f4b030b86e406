/* CopyFile: the host writes files, directories and symlinks under one base directory of the
 * guest (Kata's /run/kata-containers/shared/containers), a regular file in chunks.
 *
 * Every path is resolved under the base with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so ".." and symlinks (absolute ones included) stay inside it, and
 * the last component is only ever touched with *at() calls on its parent's fd that do not
 * follow it. A symlink the host creates may point anywhere (as in Kata): it is never
 * followed by a later write. See docs/copyfile.md. */
#ifndef PD_COPYFILE_H
#define PD_COPYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

#define PD_COPY_MAX_CHUNK     (4u << 20)   /* a ttRPC frame cannot carry more */
#define PD_COPY_MAX_FILE_SIZE (16LL << 30) /* 16 GiB: far above any config file */
#define PD_COPY_TMP_SUFFIX    ".pidone-tmp"

/* One CopyFileRequest, without protobuf types. */
struct pd_copy_req {
	const char *path;   /* absolute, strictly below base */
	int64_t file_size;  /* regular files: the final size */
	uint32_t file_mode; /* full st_mode: S_IFDIR, S_IFLNK, S_IFREG (or no type: a file) */
	uint32_t dir_mode;  /* for missing parents (& 0777) */
	int32_t uid, gid;   /* -1 leaves that id unchanged, as chown(2) does */
	int64_t offset;
	const uint8_t *data; /* file: the chunk at offset; symlink: the target */
	size_t len;
};

/* What a call did, for the log. */
enum pd_copy_done {
	PD_COPY_DIR,
	PD_COPY_SYMLINK,
	PD_COPY_CHUNK,	  /* a chunk stored in the temp file; more to come */
	PD_COPY_COMPLETE, /* the last chunk: the file is in place */
};

/* Apply one request under base (the agent passes PD_SHARED_DIR; tests a temp dir). The base
 * is created (0755) if missing. Bad requests are INVALID_ARGUMENT; *done says what was done. */
int pd_copy_file(const char *base, const struct pd_copy_req *req, enum pd_copy_done *done,
		 struct pd_error *err);

/* The temp file name of a regular file's chunks: ".<name>.pidone-tmp" (a shortened name plus
 * a hash when that would not fit in NAME_MAX). */
void pd_copy_tmp_name(const char *name, char *out, size_t size);

#endif
