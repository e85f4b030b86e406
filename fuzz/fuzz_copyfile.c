/* libFuzzer target: CopyFile (agent/copyfile.c, copyfile_chunk.c) — its checks and what it
 * does with the files, for real, under a base directory in the target's own tmpfs.
 *
 * Input: records {u16 length LE, a grpc.CopyFileRequest}, applied in order to the base
 * FZ_BASE, which each input finds as the fixture below made it: a directory, a file, and
 * symlinks that lead out of the base if followed (relative, absolute, to "/", through a
 * subdirectory), one dangling and one looping. The property checked after every input:
 * nothing outside the base changed — the sibling directory FZ_OUT holds exactly its file
 * and its directory, with their contents and modes, and nothing else appeared next to the
 * base. The host's own files are out of reach anyway: the target runs boxed
 * (common_isolate.c, the host's mounts read-only). */
#include <dirent.h>
#include <sched.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/copyfile.h"
#include "common.h"

#define FZ_TOP	"/run/pidone-fuzz"
#define FZ_BASE FZ_TOP "/base"
#define FZ_OUT	FZ_TOP "/outside"

void __wrap_pd_log(int level, const char *msg, const char *kv, ...)
{
}

__attribute__((noreturn)) static void fail(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_copyfile: %s: %s\n", what, path);
	abort();
}

static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		chmod(path, 0700); /* a directory made 0 by a request is still emptied */
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[8192];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void must(int rc, const char *what)
{
	if (rc < 0)
		fail(what, strerror(errno));
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	must(fd, path);
	must((int)write(fd, text, strlen(text)), path);
	must(fchmod(fd, mode), path);
	close(fd);
}

static void fixture(void)
{
	remove_tree(FZ_BASE);
	must(mkdir(FZ_BASE, 0755), FZ_BASE);
	must(mkdir(FZ_BASE "/dir", 0755), "dir");
	put_file(FZ_BASE "/file", "data\n", 0644);
	must(symlink("..", FZ_BASE "/up"), "up");
	must(symlink("../outside", FZ_BASE "/out"), "out");
	must(symlink(FZ_OUT, FZ_BASE "/abs"), "abs");
	must(symlink("/", FZ_BASE "/root"), "root");
	must(symlink("../../outside/d", FZ_BASE "/dir/deep"), "deep");
	must(symlink("nowhere", FZ_BASE "/dangling"), "dangling");
	must(symlink("loop", FZ_BASE "/loop"), "loop");
}

static void outside_fixture(void)
{
	must(mkdir(FZ_TOP, 0755), FZ_TOP);
	must(mkdir(FZ_OUT, 0755), FZ_OUT);
	must(mkdir(FZ_OUT "/d", 0755), "d");
	put_file(FZ_OUT "/s", "keep\n", 0644);
}

/* Exactly the entries `want` (NULL-ended) in dir. */
static void only(const char *dir, const char *const *want)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		fail("cannot open", dir);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool ok = false;
		for (const char *const *w = want; *w; w++)
			ok |= strcmp(*w, e->d_name) == 0;
		if (!ok)
			fail("a request made an entry outside the base", e->d_name);
	}
	closedir(d);
}

static void check_outside(void)
{
	static const char *const top[] = {"base", "outside", NULL};
	static const char *const out[] = {"s", "d", NULL};
	static const char *const none[] = {NULL};
	struct stat st;
	char buf[16];
	only(FZ_TOP, top);
	only(FZ_OUT, out);
	only(FZ_OUT "/d", none);
	if (lstat(FZ_OUT, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755 ||
	    st.st_uid != 0 || st.st_gid != 0)
		fail("a request changed a directory outside the base", FZ_OUT);
	if (lstat(FZ_OUT "/d", &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755 ||
	    st.st_uid != 0 || st.st_gid != 0)
		fail("a request changed a directory outside the base", FZ_OUT "/d");
	int fd = open(FZ_OUT "/s", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd < 0 || fstat(fd, &st) < 0 || n != 5 || memcmp(buf, "keep\n", 5) != 0 ||
	    (st.st_mode & 07777) != 0644 || st.st_uid != 0 || st.st_gid != 0 || st.st_nlink != 1)
		fail("a request changed a file outside the base", FZ_OUT "/s");
	close(fd);
}

static void apply(const uint8_t *p, size_t len)
{
	Grpc__CopyFileRequest *req = grpc__copy_file_request__unpack(NULL, len, p);
	if (!req)
		return;
	struct pd_copy_req r = {
	    .path = req->path,
	    .file_size = req->file_size,
	    .file_mode = req->file_mode,
	    .dir_mode = req->dir_mode,
	    .uid = req->uid,
	    .gid = req->gid,
	    .offset = req->offset,
	    .data = req->data.data,
	    .len = req->data.len,
	};
	enum pd_copy_done done;
	struct pd_error err;
	pd_copy_file(FZ_BASE, &r, &done, &err);
	grpc__copy_file_request__free_unpacked(req, NULL);
}

/* ---- seeds ------------------------------------------------------------------------------------
 */

struct seed_req {
	const char *path;
	uint32_t mode;
	int64_t size, offset;
	const char *data;
};

static size_t pack(uint8_t *out, size_t cap, const struct seed_req *s)
{
	Grpc__CopyFileRequest r = GRPC__COPY_FILE_REQUEST__INIT;
	r.path = (char *)s->path;
	r.file_mode = s->mode;
	r.dir_mode = 0755;
	r.file_size = s->size;
	r.offset = s->offset;
	r.uid = r.gid = 0;
	r.data.data = (uint8_t *)s->data;
	r.data.len = s->data ? strlen(s->data) : 0;
	size_t n = grpc__copy_file_request__get_packed_size(&r);
	if (n + 2 > cap)
		fail("seed too large", s->path);
	out[0] = (uint8_t)(n & 0xff);
	out[1] = (uint8_t)(n >> 8);
	grpc__copy_file_request__pack(&r, out + 2);
	return n + 2;
}

static void seed(const char *dir, const char *name, const struct seed_req *reqs, size_t n)
{
	uint8_t buf[8192];
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += pack(buf + len, sizeof(buf) - len, &reqs[i]);
	fz_seed_write(dir, name, -1, buf, len);
}

#define SEED(name, ...)                                                                            \
	do {                                                                                       \
		const struct seed_req r_[] = {__VA_ARGS__};                                        \
		seed(dir, name, r_, sizeof(r_) / sizeof(r_[0]));                                   \
	} while (0)

static void write_seeds(const char *dir)
{
	SEED("file", {FZ_BASE "/new/sub/f", 0100644, 5, 0, "hello"});
	SEED("chunks", {FZ_BASE "/dir/f", 0100600, 6, 0, "hel"},
	     {FZ_BASE "/dir/f", 0100600, 6, 3, "lo\n"});
	SEED("dir", {FZ_BASE "/d2", 040700, 0, 0, NULL}, {FZ_BASE "/d2/x", 0100644, 0, 0, NULL});
	SEED("symlink", {FZ_BASE "/l", 0120777, 0, 0, "../outside/s"},
	     {FZ_BASE "/l", 0100644, 4, 0, "oops"});
	SEED("through-up", {FZ_BASE "/up/outside/s", 0100644, 4, 0, "oops"});
	SEED("through-out", {FZ_BASE "/out/s", 0100644, 4, 0, "oops"},
	     {FZ_BASE "/out/d/n", 040755, 0, 0, NULL});
	SEED("through-abs", {FZ_BASE "/abs/s", 0100644, 4, 0, "oops"});
	SEED("through-root", {FZ_BASE "/root/run/pidone-fuzz/outside/s", 0100644, 4, 0, "oops"});
	SEED("through-deep", {FZ_BASE "/dir/deep/x", 0100644, 4, 0, "oops"});
	SEED("over-links", {FZ_BASE "/abs", 040755, 0, 0, NULL},
	     {FZ_BASE "/dangling", 0100644, 1, 0, "x"}, {FZ_BASE "/loop/x", 0100644, 1, 0, "x"});
	SEED("bad", {FZ_BASE "/../outside/s", 0100644, 1, 0, "x"},
	     {FZ_BASE "//x", 0100644, 0, 0, NULL}, {FZ_BASE "/x/", 0100644, 0, 0, NULL},
	     {"/etc/passwd", 0100644, 0, 0, NULL}, {FZ_BASE "/f", 060644, 0, 0, NULL},
	     {FZ_BASE "/f", 0100644, 3, 2, "xyz"});
	fprintf(stderr, "fuzz_copyfile: seeds in %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct fz_sys sys = {mount, unshare};
	fz_isolate(&sys, *argc, *argv);
	if (fz_seed_dir()) {
		write_seeds(fz_seed_dir());
		exit(0);
	}
	umask(022);
	outside_fixture();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fixture();
	size_t off = 0;
	while (size - off >= 2) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		apply(data + off, len);
		off += len;
	}
	check_outside();
	return 0;
}
