/* CopyFile engine (agent/copyfile.c): files in chunks, directories, symlinks, modes and
 * owners, and every way out of the base directory we could think of: "..", absolute and
 * relative symlinks planted in the base (as a parent, as the target name, as the temp
 * name), paths beside or above the base. Every case runs under a fresh temp directory that
 * holds the base and an "outside" directory that must stay empty. Results are checked with
 * plain lstat/readlink/read on the paths, independently of the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/copyfile.h"

static char top[64], base[128], outside[128];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/pd-copy-XXXXXX");
	assert_non_null(mkdtemp(top));
	/* The base does not exist yet: pd_copy_file makes it. */
	snprintf(base, sizeof(base), "%s/run/shared", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(chmod(outside, 0755), 0);
	umask(077); /* modes must come out exact anyway */
	return 0;
}

static int teardown(void **state)
{
	nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

struct req {
	const char *rel; /* below base, or an absolute path when it starts with '!' */
	uint32_t mode;
	int64_t size, offset;
	const void *data;
	size_t len;
	int32_t uid, gid;
	uint32_t dir_mode;
};

static int copy_ex(const struct req *q, enum pd_copy_done *done, struct pd_error *err)
{
	char path[PATH_MAX];
	if (q->rel[0] == '!')
		snprintf(path, sizeof(path), "%s", q->rel + 1);
	else
		snprintf(path, sizeof(path), "%s/%s", base, q->rel);
	struct pd_copy_req r = {
	    .path = path,
	    .file_size = q->size,
	    .file_mode = q->mode ? q->mode : (S_IFREG | 0644),
	    .dir_mode = q->dir_mode ? q->dir_mode : 0755,
	    .uid = q->uid,
	    .gid = q->gid,
	    .offset = q->offset,
	    .data = q->data,
	    .len = q->len,
	};
	enum pd_copy_done d = (enum pd_copy_done) - 1;
	pd_error_clear(err);
	int rc = pd_copy_file(base, &r, &d, err);
	if (done)
		*done = d;
	return rc;
}

/* A request that must succeed. */
static enum pd_copy_done copy_ok(struct req q)
{
	struct pd_error err;
	enum pd_copy_done done;
	if (copy_ex(&q, &done, &err) < 0)
		fail_msg("CopyFile %s: %s", q.rel, err.msg);
	return done;
}

/* A request that must fail with code; returns the message. */
static const char *copy_fails(struct req q, int code)
{
	static struct pd_error err;
	if (copy_ex(&q, NULL, &err) == 0)
		fail_msg("CopyFile %s succeeded, want %s", q.rel, pd_code_name(code));
	if (err.code != code)
		fail_msg("CopyFile %s: %s (%s), want %s", q.rel, pd_code_name(err.code), err.msg,
			 pd_code_name(code));
	return err.msg;
}

static void file_ok(const char *rel, const char *content)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	size_t len = strlen(content);
	assert_int_equal(st.st_size, (off_t)len);
	char *buf = malloc(len + 1);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, len + 1), (ssize_t)len);
	close(fd);
	assert_memory_equal(buf, content, len);
	free(buf);
}

static struct stat stat_of(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	if (lstat(path, &st) < 0)
		fail_msg("lstat %s: %s", path, strerror(errno));
	return st;
}

static bool exists(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return lstat(path, &st) == 0;
}

static int count_entries(const char *dir)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 | wc -l", dir);
	FILE *f = popen(cmd, "r");
	int n = -1;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static void outside_untouched(void)
{
	assert_int_equal(count_entries(outside), 0);
	struct stat st;
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, getuid());
}

static void plant_symlink(const char *rel, const char *target)
{
	char path[PATH_MAX];
	copy_ok((struct req){.rel = "x", .mode = S_IFDIR | 0755, .uid = -1, .gid = -1});
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	if (symlink(target, path) < 0)
		fail_msg("symlink %s -> %s: %s", path, target, strerror(errno));
}

/* A whole file in one chunk (owner root unless the extra initializers say otherwise). */
#define REQ_FILE(r, text, ...)                                                                     \
	((struct req){.rel = (r),                                                                  \
		      .size = (int64_t)strlen(text),                                               \
		      .data = (text),                                                              \
		      .len = strlen(text),                                                         \
		      __VA_ARGS__})

/* ---- files ---------------------------------------------------------------------------------- */

static void test_one_chunk_file_and_parents(void **state)
{
	struct req q = REQ_FILE("c1-abc/etc/conf/hosts", "127.0.0.1 localhost\n",
				.mode = S_IFREG | 0640, .uid = 1000, .gid = 1001, .dir_mode = 0750);
	assert_int_equal(copy_ok(q), PD_COPY_COMPLETE);
	file_ok("c1-abc/etc/conf/hosts", "127.0.0.1 localhost\n");
	struct stat st = stat_of("c1-abc/etc/conf/hosts");
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	/* Every parent it made has dir_mode exactly (umask is 077 here); only the immediate
	 * one is chowned. */
	const char *parents[] = {"c1-abc", "c1-abc/etc", "c1-abc/etc/conf"};
	for (int i = 0; i < 3; i++) {
		st = stat_of(parents[i]);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0750);
		assert_int_equal(st.st_uid, i == 2 ? 1000u : getuid());
	}
	assert_false(exists("c1-abc/etc/conf/.hosts.pidone-tmp"));
	/* The base itself was made, 0755. */
	st = stat_of("");
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_chunks_and_temp_file(void **state)
{
	char data[10001];
	for (size_t i = 0; i < sizeof(data) - 1; i++)
		data[i] = (char)('a' + i % 26);
	data[10000] = '\0';
	struct req q = {.rel = "big/file.bin", .size = 10000, .uid = -1, .gid = -1};
	int64_t offs[] = {0, 4096, 8192};
	for (int i = 0; i < 3; i++) {
		q.offset = offs[i];
		q.data = data + offs[i];
		q.len = i < 2 ? 4096 : 10000 - 8192;
		enum pd_copy_done done = copy_ok(q);
		if (i < 2) {
			assert_int_equal(done, PD_COPY_CHUNK);
			/* Not visible under its name until complete. */
			assert_false(exists("big/file.bin"));
			struct stat st = stat_of("big/.file.bin.pidone-tmp");
			assert_int_equal(st.st_size, offs[i] + 4096);
			assert_int_equal(st.st_mode & 07777, 0600);
		} else {
			assert_int_equal(done, PD_COPY_COMPLETE);
		}
	}
	file_ok("big/file.bin", data);
	assert_int_equal(stat_of("big/file.bin").st_mode & 07777, 0644);
	assert_false(exists("big/.file.bin.pidone-tmp"));
}

static void test_chunk_order(void **state)
{
	/* A chunk at an offset past what was received leaves a hole: refused. */
	copy_ok(
	    (struct req){.rel = "o/f", .size = 6, .data = "ab", .len = 2, .uid = -1, .gid = -1});
	copy_fails(
	    (struct req){
		.rel = "o/f", .size = 6, .offset = 3, .data = "x", .len = 1, .uid = -1, .gid = -1},
	    PD_INVALID_ARGUMENT);
	/* The earlier bytes are still there: the transfer goes on; a chunk may be resent. */
	copy_ok((struct req){
	    .rel = "o/f", .size = 6, .offset = 1, .data = "BC", .len = 2, .uid = -1, .gid = -1});
	assert_int_equal(copy_ok((struct req){.rel = "o/f",
					      .size = 6,
					      .offset = 3,
					      .data = "def",
					      .len = 3,
					      .uid = -1,
					      .gid = -1}),
			 PD_COPY_COMPLETE);
	file_ok("o/f", "aBCdef");
	/* A later chunk without a first one. */
	const char *msg = copy_fails(
	    (struct req){
		.rel = "o/g", .size = 6, .offset = 2, .data = "x", .len = 1, .uid = -1, .gid = -1},
	    PD_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "offset 0"));
	assert_false(exists("o/g"));
	assert_false(exists("o/.g.pidone-tmp"));
}

static void test_bad_sizes(void **state)
{
	char big;
	struct req q = {.rel = "s/f", .data = "abc", .len = 3, .uid = -1, .gid = -1};
	q.size = -1;
	copy_fails(q, PD_INVALID_ARGUMENT);
	q.size = 3, q.offset = -1;
	copy_fails(q, PD_INVALID_ARGUMENT);
	q.size = 2, q.offset = 0; /* offset + len > file_size */
	copy_fails(q, PD_INVALID_ARGUMENT);
	q.size = 4, q.offset = 2;
	copy_fails(q, PD_INVALID_ARGUMENT);
	q.size = PD_COPY_MAX_FILE_SIZE + 1, q.offset = 0;
	copy_fails(q, PD_INVALID_ARGUMENT);
	q.size = PD_COPY_MAX_FILE_SIZE, q.offset = PD_COPY_MAX_FILE_SIZE - 1; /* one byte fits */
	copy_fails(q, PD_INVALID_ARGUMENT);
	/* Over a frame: refused before a byte is read (data points at one byte). */
	q = (struct req){.rel = "s/f",
			 .size = PD_COPY_MAX_CHUNK + 1,
			 .data = &big,
			 .len = PD_COPY_MAX_CHUNK + 1,
			 .uid = -1,
			 .gid = -1};
	copy_fails(q, PD_INVALID_ARGUMENT);
	assert_false(exists("s/f"));
	assert_false(exists("s/.f.pidone-tmp"));
}

static void test_empty_file_and_replace(void **state)
{
	assert_int_equal(copy_ok((struct req){.rel = "e", .uid = -1, .gid = -1}), PD_COPY_COMPLETE);
	file_ok("e", "");
	/* Replacing: the old file goes with the first chunk, the new one appears at the end. */
	copy_ok(REQ_FILE("r", "old content"));
	copy_ok((struct req){.rel = "r", .size = 6, .data = "new", .len = 3, .uid = -1, .gid = -1});
	assert_false(exists("r"));
	copy_ok((struct req){
	    .rel = "r", .size = 6, .offset = 3, .data = "!!!", .len = 3, .uid = -1, .gid = -1});
	file_ok("r", "new!!!");
	/* A symlink at the name is replaced, never followed. */
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/victim", outside);
	plant_symlink("x/l", target);
	copy_ok(REQ_FILE("x/l", "mine"));
	file_ok("x/l", "mine");
	outside_untouched();
	/* An empty directory at the name is replaced too; one with files is not. */
	copy_ok((struct req){.rel = "d", .mode = S_IFDIR | 0755, .uid = -1, .gid = -1});
	copy_ok(REQ_FILE("d", "file now"));
	file_ok("d", "file now");
	copy_ok(REQ_FILE("full/inner", "x"));
	copy_fails(REQ_FILE("full", "x"), PD_FAILED_PRECONDITION);
	file_ok("full/inner", "x");
}

/* ---- directories and symlinks ---------------------------------------------------------------- */

static void test_directories(void **state)
{
	assert_int_equal(
	    copy_ok((struct req){
		.rel = "dir/sub", .mode = S_IFDIR | 01751, .uid = 7, .gid = 8, .dir_mode = 0700}),
	    PD_COPY_DIR);
	struct stat st = stat_of("dir/sub");
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 01751);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_gid, 8);
	assert_int_equal(stat_of("dir").st_mode & 07777, 0700);
	/* Sent again: kept with what is in it, mode and owner as asked now. */
	copy_ok(REQ_FILE("dir/sub/keep", "k"));
	copy_ok((struct req){.rel = "dir/sub", .mode = S_IFDIR | 0755, .uid = -1, .gid = 9});
	st = stat_of("dir/sub");
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_gid, 9);
	file_ok("dir/sub/keep", "k");
	/* A file where the directory should be. */
	copy_fails(
	    (struct req){.rel = "dir/sub/keep", .mode = S_IFDIR | 0755, .uid = -1, .gid = -1},
	    PD_INVALID_ARGUMENT);
	/* A directory as a parent that is a file. */
	copy_fails(REQ_FILE("dir/sub/keep/x", "x"), PD_INVALID_ARGUMENT);
}

static void test_symlinks(void **state)
{
	const char *t1 = "/etc/passwd", *t2 = "../other";
	assert_int_equal(copy_ok((struct req){.rel = "ln/a",
					      .mode = S_IFLNK | 0777,
					      .data = t1,
					      .len = strlen(t1),
					      .uid = 5,
					      .gid = 6}),
			 PD_COPY_SYMLINK);
	char path[PATH_MAX], buf[PATH_MAX];
	snprintf(path, sizeof(path), "%s/ln/a", base);
	ssize_t n = readlink(path, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(t1));
	assert_memory_equal(buf, t1, strlen(t1));
	struct stat st = stat_of("ln/a");
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, 5);
	assert_int_equal(st.st_gid, 6);
	/* Sent again with another target: replaced. */
	copy_ok((struct req){.rel = "ln/a",
			     .mode = S_IFLNK | 0777,
			     .data = t2,
			     .len = strlen(t2),
			     .uid = -1,
			     .gid = -1});
	n = readlink(path, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(t2));
	assert_memory_equal(buf, t2, strlen(t2));
	assert_false(exists("ln/.a.pidone-tmp"));
	/* No target, a NUL in it. */
	copy_fails((struct req){.rel = "ln/b", .mode = S_IFLNK | 0777, .uid = -1, .gid = -1},
		   PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "ln/b",
				.mode = S_IFLNK | 0777,
				.data = "a\0b",
				.len = 3,
				.uid = -1,
				.gid = -1},
		   PD_INVALID_ARGUMENT);
	assert_false(exists("ln/b"));
}

static void test_bad_types_and_ids(void **state)
{
	copy_fails((struct req){.rel = "t", .mode = S_IFCHR | 0644, .uid = -1, .gid = -1},
		   PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "t", .mode = S_IFIFO | 0644, .uid = -1, .gid = -1},
		   PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "t", .mode = 0x10000 | S_IFREG, .uid = -1, .gid = -1},
		   PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "t", .uid = -2, .gid = -1}, PD_INVALID_ARGUMENT);
	assert_false(exists("t"));
}

/* ---- escapes ----------------------------------------------------------------------------------
 */

static void test_paths_outside_base(void **state)
{
	char p[PATH_MAX];
	const char *bad[] = {"!/etc/pidone-copy-test",
			     "!relative/path",
			     "!",
			     "",
			     "../outside/f",
			     "a/../../outside/f",
			     "a/./f",
			     "a//f",
			     "a/",
			     "./f",
			     "..",
			     "a/.."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		copy_fails(REQ_FILE(bad[i], "x"), PD_INVALID_ARGUMENT);
	/* The base itself, and a sibling that only shares its name's prefix. */
	snprintf(p, sizeof(p), "!%s", base);
	copy_fails(REQ_FILE(p, "x"), PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = p, .mode = S_IFDIR | 0777, .uid = 0, .gid = 0},
		   PD_INVALID_ARGUMENT);
	snprintf(p, sizeof(p), "!%sx/f", base);
	copy_fails(REQ_FILE(p, "x"), PD_INVALID_ARGUMENT);
	snprintf(p, sizeof(p), "!%s/../outside/f", base);
	copy_fails(REQ_FILE(p, "x"), PD_INVALID_ARGUMENT);
	outside_untouched();
	assert_false(exists("../sharedx"));
	/* The base kept its mode and owner. */
	if (exists("")) {
		struct stat st = stat_of("");
		assert_int_equal(st.st_mode & 07777, 0755);
		assert_int_equal(st.st_uid, getuid());
	}
}

static void test_absolute_symlink_parent(void **state)
{
	/* base/x/evil -> <outside>: writing through it must not reach outside. Under the
	 * base, "<outside>" means base/<outside>, which does not exist. */
	plant_symlink("x/evil", outside);
	copy_fails(REQ_FILE("x/evil/f", "pwned"), PD_INVALID_ARGUMENT);
	copy_fails(REQ_FILE("x/evil/deeper/f", "pwned"), PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "x/evil/d", .mode = S_IFDIR | 0777, .uid = -1, .gid = -1},
		   PD_INVALID_ARGUMENT);
	copy_fails((struct req){.rel = "x/evil/l",
				.mode = S_IFLNK | 0777,
				.data = "/",
				.len = 1,
				.uid = -1,
				.gid = -1},
		   PD_INVALID_ARGUMENT);
	outside_untouched();
	/* Nor did it create <outside> inside the base on the way. */
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s", outside + 1);
	assert_false(exists(rel));
}

static void test_relative_symlink_parent(void **state)
{
	/* base/x/up -> ../../../outside: ".." stops at the base. */
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "../../../outside");
	plant_symlink("x/up", target);
	copy_fails(REQ_FILE("x/up/f", "pwned"), PD_INVALID_ARGUMENT);
	outside_untouched();
	/* A symlink inside the base is followed inside it. */
	plant_symlink("x/in", "../real");
	copy_ok((struct req){.rel = "real", .mode = S_IFDIR | 0755, .uid = -1, .gid = -1});
	copy_ok(REQ_FILE("x/in/f", "through"));
	file_ok("real/f", "through");
	/* And "/" seen from inside the base is the base. */
	plant_symlink("x/root", "/");
	copy_ok(REQ_FILE("x/root/at-base", "clamped"));
	file_ok("at-base", "clamped");
	outside_untouched();
}

static void test_symlink_as_directory_target(void **state)
{
	/* A directory request whose name is a symlink to an outside directory. */
	plant_symlink("x/dl", outside);
	copy_fails((struct req){.rel = "x/dl", .mode = S_IFDIR | 0777, .uid = 4242, .gid = 4242},
		   PD_INVALID_ARGUMENT);
	outside_untouched();
}

static void test_planted_temp_file(void **state)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/victim", outside);
	/* A symlink at the temp name: a later chunk must not write through it. */
	plant_symlink("x/.f.pidone-tmp", target);
	copy_fails((struct req){.rel = "x/f",
				.size = 4,
				.offset = 0 + 2,
				.data = "zz",
				.len = 2,
				.uid = -1,
				.gid = -1},
		   PD_INVALID_ARGUMENT);
	outside_untouched();
	/* A first chunk replaces it with a file of our own. */
	copy_ok(
	    (struct req){.rel = "x/f", .size = 4, .data = "ab", .len = 2, .uid = -1, .gid = -1});
	assert_true(S_ISREG(stat_of("x/.f.pidone-tmp").st_mode));
	copy_ok((struct req){
	    .rel = "x/f", .size = 4, .offset = 2, .data = "cd", .len = 2, .uid = -1, .gid = -1});
	file_ok("x/f", "abcd");
	outside_untouched();
	/* A hard link at the temp name (to a file elsewhere in the base) is not ours. */
	copy_ok(REQ_FILE("x/precious", "keep me"));
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof(a), "%s/x/precious", base);
	snprintf(b, sizeof(b), "%s/x/.g.pidone-tmp", base);
	assert_int_equal(link(a, b), 0);
	copy_fails((struct req){.rel = "x/g",
				.size = 10,
				.offset = 2,
				.data = "XX",
				.len = 2,
				.uid = -1,
				.gid = -1},
		   PD_INVALID_ARGUMENT);
	file_ok("x/precious", "keep me");
}

static void test_tmp_names(void **state)
{
	char out[NAME_MAX + 1], out2[NAME_MAX + 1], name[NAME_MAX + 1];
	pd_copy_tmp_name("hosts", out, sizeof(out));
	assert_string_equal(out, ".hosts.pidone-tmp");
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	pd_copy_tmp_name(name, out, sizeof(out));
	assert_true(strlen(out) <= NAME_MAX);
	assert_non_null(strstr(out, ".pidone-tmp"));
	name[NAME_MAX - 1] = 'm'; /* same 200-byte prefix, another name */
	pd_copy_tmp_name(name, out2, sizeof(out2));
	assert_string_not_equal(out, out2);
	/* And such a long name copies fine. */
	char rel[NAME_MAX + 8];
	snprintf(rel, sizeof(rel), "long/%s", name);
	copy_ok(REQ_FILE(rel, "long"));
	file_ok(rel, "long");
	/* One byte more is refused. */
	char toolong[NAME_MAX + 16];
	memset(toolong, 'q', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	memcpy(toolong, "long/", 5);
	copy_fails(REQ_FILE(toolong, "x"), PD_INVALID_ARGUMENT);
}

/* Set-id bits survive the owner change (chown clears them: it must come before chmod). */
static void test_setid_modes_kept(void **state)
{
	copy_ok(REQ_FILE("bin/su", "#!/bin/true\n", .mode = S_IFREG | 04755, .uid = 1000,
			 .gid = 1000));
	struct stat st = stat_of("bin/su");
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 1000);
	copy_ok(REQ_FILE("bin/sg", "x", .mode = S_IFREG | 02755, .uid = 0, .gid = 1001));
	st = stat_of("bin/sg");
	assert_int_equal(st.st_mode & 07777, 02755);
	assert_int_equal(st.st_gid, 1001);
	/* uid/gid -1 (no change) too. */
	copy_ok(REQ_FILE("bin/keep", "x", .mode = S_IFREG | 06711, .uid = -1, .gid = -1));
	assert_int_equal(stat_of("bin/keep").st_mode & 07777, 06711);
	/* A directory: setgid (shared group directories) and sticky. */
	copy_ok((struct req){.rel = "shared", .mode = S_IFDIR | 03775, .uid = 1000, .gid = 1002});
	st = stat_of("shared");
	assert_int_equal(st.st_mode & 07777, 03775);
	assert_int_equal(st.st_gid, 1002);
}

/* The base itself reached through a symlink (a share mounted above it by the host holds
 * "shared -> <outside>"): refused, nothing written outside. */
static void test_base_through_symlink(void **state)
{
	char run[PATH_MAX];
	snprintf(run, sizeof(run), "%s/run", top);
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(symlink(outside, base), 0);
	const char *msg = copy_fails(REQ_FILE("x", "x"), PD_FAILED_PRECONDITION);
	assert_non_null(strstr(msg, "symlink"));
	outside_untouched();
	/* A symlink higher up too. */
	assert_int_equal(unlink(base), 0);
	assert_int_equal(rmdir(run), 0);
	assert_int_equal(symlink(outside, run), 0);
	copy_fails(REQ_FILE("x", "x"), PD_FAILED_PRECONDITION);
	outside_untouched();
}

int main(void)
{
	PD_SKIP_UNLESS_ROOT("chown");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_chunk_file_and_parents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_and_temp_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunk_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_file_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directories, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_types_and_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_outside_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absolute_symlink_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relative_symlink_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_as_directory_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_planted_temp_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmp_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setid_modes_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_base_through_symlink, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
