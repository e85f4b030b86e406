/* The container rootfs setup, for real: each case forks a child that unshares its mount
 * namespace (and makes "/" rprivate, so nothing reaches this machine's mounts), builds a
 * tiny rootfs in a temp dir, runs pd_rootfs_setup and checks from inside (stat, readlink,
 * statvfs, /proc/self/mountinfo). The child reports through its exit code and a shared
 * page holding setup's return and error; the parent asserts, and checks what must not have
 * changed outside the rootfs. Needs root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include "agent/container/rootfs.h"
#include "agent/container/rootfs_steps.h"
#include "init/mounts.h"

/* --- the tree: base/rootfs (the container), base/host (outside), bind sources ----------- */

static char base[64];
static char rootfs[PATH_MAX];

struct result {
	int rc;
	struct pd_error err;
};
static struct result *shared; /* one page, MAP_SHARED: the child's setup result */

typedef int (*inside_fn)(void);
static inside_fn child_before; /* run in the child's namespace before the setup, or NULL */

static const char *at(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, PATH_MAX, "%s/%s", base, rel);
	return b;
}

static void mk(const char *rel)
{
	assert_int_equal(mkdir(at(rel), 0755), 0);
}

static void put(const char *rel, const char *text)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void link_to(const char *target, const char *rel)
{
	assert_int_equal(symlink(target, at(rel)), 0);
}

static int setup_tree(void **state)
{
	child_before = NULL;
	strcpy(base, "/tmp/pd-rootfs-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	static const char *const dirs[] = {
	    "rootfs",	  "rootfs/proc", "rootfs/sys",	     "rootfs/dev",
	    "rootfs/tmp", "rootfs/etc",	 "rootfs/etc/rodir", "rootfs/etc/secret-dir",
	    "host",	  "bind-dir"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mk(dirs[i]);
	put("rootfs/.pd-marker", "marker");
	put("rootfs/etc/secret", "top secret");
	put("rootfs/etc/rofile", "read only");
	put("rootfs/etc/secret-dir/file", "hidden");
	put("bind-file", "hello");
	put("bind-dir/inner", "inner");
	put("host/victim", "original");
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static int teardown_tree(void **state)
{
	/* FTW_MOUNT: never walk into a mount, had one leaked (it cannot: the namespace died). */
	assert_int_equal(nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT), 0);
	return 0;
}

/* --- a config by hand ------------------------------------------------------------------- */

static struct pd_container_config *new_config(void)
{
	struct pd_container_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	pd_arena_init(&cfg->arena, 0);
	cfg->rootfs = pd_arena_strdup(&cfg->arena, rootfs);
	cfg->rootfs_propagation = MS_SLAVE | MS_REC;
	cfg->mounts = pd_arena_calloc(&cfg->arena, 16, sizeof(*cfg->mounts));
	cfg->devices = pd_arena_calloc(&cfg->arena, 8, sizeof(*cfg->devices));
	cfg->masked_paths = pd_arena_calloc(&cfg->arena, 8, sizeof(char *));
	cfg->readonly_paths = pd_arena_calloc(&cfg->arena, 8, sizeof(char *));
	cfg->process.cwd = pd_arena_strdup(&cfg->arena, "/");
	return cfg;
}

static void free_config(struct pd_container_config *cfg)
{
	pd_arena_free(&cfg->arena);
	free(cfg);
}

static char *dup_or_null(struct pd_container_config *cfg, const char *s)
{
	return s ? pd_arena_strdup(&cfg->arena, s) : NULL;
}

static void add_mount(struct pd_container_config *cfg, const char *dest, const char *type,
		      const char *source, unsigned long flags, const char *data)
{
	assert_true(cfg->n_mounts < 16);
	struct pd_mount *m = &cfg->mounts[cfg->n_mounts++];
	m->destination = dup_or_null(cfg, dest);
	m->type = dup_or_null(cfg, type);
	m->source = dup_or_null(cfg, source);
	m->flags = flags;
	m->data = dup_or_null(cfg, data);
	m->bind = (flags & MS_BIND) != 0;
}

static void add_device(struct pd_container_config *cfg, const char *path, char type, int major,
		       int minor, uint32_t mode, uint32_t uid)
{
	assert_true(cfg->n_devices < 8);
	struct pd_device *d = &cfg->devices[cfg->n_devices++];
	*d = (struct pd_device){.path = dup_or_null(cfg, path),
				.type = type,
				.major = major,
				.minor = minor,
				.file_mode = mode,
				.uid = uid,
				.gid = uid};
}

static void add_path(struct pd_container_config *cfg, char **list, size_t *n, const char *p)
{
	assert_true(*n < 8);
	list[(*n)++] = pd_arena_strdup(&cfg->arena, p);
}

/* --- the child -------------------------------------------------------------------------- */

/* Fork; the child sets up the rootfs and, if that worked, runs `inside` there. Returns the
 * child's exit code; shared->rc / shared->err hold what pd_rootfs_setup returned. */
static int run(const struct pd_container_config *cfg, bool no_pivot, inside_fn inside)
{
	shared->rc = 99;
	pd_error_clear(&shared->err);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(90);
		if (child_before && child_before() != 0)
			_exit(91);
		shared->rc = pd_rootfs_setup(cfg, no_pivot, &shared->err);
		_exit(shared->rc < 0 || !inside ? 0 : inside());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void expect_ok(const struct pd_container_config *cfg, bool no_pivot, inside_fn inside)
{
	int code = run(cfg, no_pivot, inside);
	if (shared->rc != 0)
		fail_msg("pd_rootfs_setup failed (child exit %d): %s", code, shared->err.msg);
	assert_int_equal(code, 0);
}

/* Setup must fail with this errno and a message containing `needle`. */
static void expect_error_pivot(const struct pd_container_config *cfg, bool no_pivot, int errnum,
			       const char *needle)
{
	assert_int_equal(run(cfg, no_pivot, NULL), 0);
	assert_int_equal(shared->rc, -1);
	if (shared->err.errnum != errnum || !strstr(shared->err.msg, needle))
		fail_msg("want errno %d and '%s', got %d: %s", errnum, needle, shared->err.errnum,
			 shared->err.msg);
}

static void expect_error(const struct pd_container_config *cfg, int errnum, const char *needle)
{
	expect_error_pivot(cfg, false, errnum, needle);
}

/* --- checks run inside the container (they print what failed) --------------------------- */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "inside: %s:%d: %s (errno %s)\n", __FILE__, __LINE__,      \
				#cond, strerror(errno));                                           \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static bool is_chr(const char *path, unsigned maj, unsigned min)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == maj &&
	       minor(st.st_rdev) == min;
}

static bool has_mode(const char *path, mode_t mode, uid_t uid)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & 07777) == mode && st.st_uid == uid;
}

static bool link_is(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, target) == 0;
}

static bool content_is(const char *path, const char *text)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strcmp(buf, text) == 0;
}

static bool is_ro(const char *path)
{
	struct statvfs st;
	return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

static bool is_missing(const char *path)
{
	struct stat st;
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/* Every mount point of this namespace is one we expect: the guest's old root is gone. */
static bool only_mounts(const char *const *allowed)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool ok = f != NULL;
	while (ok && fgets(line, sizeof(line), f)) {
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) < 0)
			continue;
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(allowed[i], e.mount_point) == 0;
		if (!known)
			fprintf(stderr, "inside: unexpected mount %s\n", e.mount_point);
		ok = known;
	}
	if (f)
		fclose(f);
	return ok;
}

/* The optional fields of the mountinfo line of "/" contain `tag` ("shared:"). */
static bool root_line_has(const char *tag)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char mp[PATH_MAX];
		char *sep = strstr(line, " - ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strcmp(mp, "/") == 0)
			found = strstr(line, tag) && strstr(line, tag) < sep;
	}
	if (f)
		fclose(f);
	return found;
}

/* The classic chroot escape (chroot into a subdirectory while the cwd stays outside it, then
 * climb ".."): after a pivot the namespace's root is the container's, so the climb ends
 * there and finds nothing of the guest. Changes the root: call it last. */
static bool escape_finds(const char *path)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (mkdir("/tmp/esc", 0755) < 0 && errno != EEXIST) || chroot("/tmp/esc") < 0 ||
	    fchdir(fd) < 0)
		return true; /* could not even try: count it as a failure */
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return true;
	return chroot(".") < 0 || access(path, F_OK) == 0;
}

/* --- the whole setup -------------------------------------------------------------------- */

static int inside_full(void)
{
	CHECK(content_is("/.pd-marker", "marker")); /* "/" is the rootfs */
	CHECK(is_missing(base));		    /* the guest is gone */
	CHECK(pd_is_mount_point("/proc", "proc"));
	CHECK(pd_is_mount_point("/sys", "sysfs"));
	CHECK(pd_is_mount_point("/dev", "tmpfs"));
	CHECK(pd_is_mount_point("/dev/pts", "devpts"));
	CHECK(pd_is_mount_point("/dev/mqueue", "mqueue"));
	/* binds: a file (created in the image), a dir two levels down; ro on the file */
	CHECK(pd_is_mount_point("/etc/hostfile", NULL));
	CHECK(content_is("/etc/hostfile", "hello"));
	CHECK(is_ro("/etc/hostfile"));
	CHECK(open("/etc/hostfile", O_WRONLY) < 0 && errno == EROFS);
	CHECK(content_is("/mnt/data/inner", "inner"));
	CHECK(!is_ro("/mnt/data"));
	/* devices and links */
	CHECK(is_chr("/dev/null", 1, 3) && has_mode("/dev/null", 0666, 0));
	CHECK(is_chr("/dev/zero", 1, 5) && is_chr("/dev/full", 1, 7));
	CHECK(is_chr("/dev/tty", 5, 0) && is_chr("/dev/random", 1, 8));
	CHECK(is_chr("/dev/urandom", 1, 9));
	CHECK(is_chr("/dev/mydev", 1, 7) && has_mode("/dev/mydev", 0600, 1000));
	CHECK(is_chr("/dev/sub/dir/node", 1, 3));
	CHECK(link_is("/dev/fd", "/proc/self/fd"));
	CHECK(link_is("/dev/stdin", "/proc/self/fd/0"));
	CHECK(link_is("/dev/stdout", "/proc/self/fd/1"));
	CHECK(link_is("/dev/stderr", "/proc/self/fd/2"));
	CHECK(link_is("/dev/ptmx", "pts/ptmx"));
	/* masked: a file reads empty and is /dev/null; a dir is an empty read-only tmpfs */
	CHECK(is_chr("/etc/secret", 1, 3) && content_is("/etc/secret", ""));
	CHECK(is_ro("/etc/secret-dir") && is_missing("/etc/secret-dir/file"));
	CHECK(is_ro("/proc/acpi") || is_missing("/proc/acpi"));
	/* readonly paths; the rest stays writable */
	CHECK(is_ro("/proc/sys") && is_ro("/etc/rodir") && is_ro("/etc/rofile"));
	CHECK(open("/etc/rofile", O_WRONLY) < 0 && errno == EROFS);
	CHECK(content_is("/etc/rofile", "read only"));
	CHECK(mkdir("/etc/rodir/x", 0755) < 0 && errno == EROFS);
	CHECK(!is_ro("/proc") && !is_ro("/"));
	CHECK(mkdir("/newdir", 0755) == 0);
	CHECK(access("/work/dir", F_OK) == 0); /* the cwd was created */
	static const char *const mounts[] = {"/",	    "/proc",	       "/sys",
					     "/dev",	    "/dev/pts",	       "/dev/mqueue",
					     "/tmp",	    "/etc/hostfile",   "/mnt/data",
					     "/etc/secret", "/etc/secret-dir", "/proc/acpi",
					     "/proc/sys",   "/etc/rodir",      "/etc/rofile",
					     NULL};
	CHECK(only_mounts(mounts));
	CHECK(!escape_finds(base));
	return 0;
}

static void test_full_setup(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	add_mount(cfg, "/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755,size=65536k");
	add_mount(cfg, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620");
	add_mount(cfg, "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
		  NULL);
	add_mount(cfg, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	add_mount(cfg, "/tmp", "tmpfs", NULL, MS_NOSUID | MS_NODEV, NULL);
	add_mount(cfg, "/etc/hostfile", NULL, at("bind-file"), MS_BIND | MS_RDONLY, NULL);
	add_mount(cfg, "/mnt/data", "bind", at("bind-dir"), MS_BIND | MS_REC, NULL);
	add_device(cfg, "/dev/mydev", 'c', 1, 7, 0600, 1000);
	add_device(cfg, "/dev/sub/dir/node", 'u', 1, 3, 0, 0);
	add_path(cfg, cfg->masked_paths, &cfg->n_masked_paths, "/etc/secret");
	add_path(cfg, cfg->masked_paths, &cfg->n_masked_paths, "/etc/secret-dir");
	add_path(cfg, cfg->masked_paths, &cfg->n_masked_paths, "/proc/acpi");
	add_path(cfg, cfg->masked_paths, &cfg->n_masked_paths, "/proc/kcore-or-not");
	add_path(cfg, cfg->masked_paths, &cfg->n_masked_paths, "/no/such/dir");
	add_path(cfg, cfg->readonly_paths, &cfg->n_readonly_paths, "/proc/sys");
	add_path(cfg, cfg->readonly_paths, &cfg->n_readonly_paths, "/etc/rodir");
	add_path(cfg, cfg->readonly_paths, &cfg->n_readonly_paths, "/etc/rofile");
	add_path(cfg, cfg->readonly_paths, &cfg->n_readonly_paths, "/no/such/path");
	cfg->process.cwd = pd_arena_strdup(&cfg->arena, "/work/dir");
	expect_ok(cfg, false, inside_full);
	free_config(cfg);
	/* Outside: the image got the file bind target; the guest's mounts are untouched. */
	struct stat st;
	assert_int_equal(stat(at("rootfs/etc/hostfile"), &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_false(pd_is_mount_point(rootfs, NULL));
}

static int inside_readonly_root(void)
{
	CHECK(content_is("/.pd-marker", "marker"));
	CHECK(is_ro("/"));
	CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS);
	CHECK(!is_ro("/tmp") && mkdir("/tmp/ok", 0755) == 0); /* submounts stay writable */
	CHECK(access("/work/dir", F_OK) == 0);		      /* made before the root went ro */
	CHECK(!is_ro("/dev") && is_chr("/dev/null", 1, 3));
	return 0;
}

static void test_readonly_root(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/tmp", "tmpfs", "tmpfs", 0, NULL);
	add_mount(cfg, "/dev", "tmpfs", "tmpfs", 0, NULL);
	cfg->rootfs_readonly = true;
	cfg->process.cwd = pd_arena_strdup(&cfg->arena, "/work/dir");
	expect_ok(cfg, false, inside_readonly_root);
	free_config(cfg);
}

static int inside_no_pivot(void)
{
	char cwd[PATH_MAX];
	CHECK(content_is("/.pd-marker", "marker"));
	CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
	CHECK(is_missing(base));
	CHECK(pd_is_mount_point("/proc", "proc"));
	CHECK(is_chr("/dev/null", 1, 3));
	CHECK(link_is("/dev/fd", "/proc/self/fd"));
	return 0;
}

/* A root pivot_root refuses, as it refuses the initramfs: chrooted into a mount (base bound
 * onto itself, with a /proc for the setup's /proc/self/fd) whose parent mount is shared.
 * pivot_root wants the current root's parent unshared; moving a mount onto "/" does not. */
static int chroot_under_shared_parent(void)
{
	if (mount(NULL, "/", NULL, MS_SHARED, NULL) < 0 ||
	    mount(base, base, NULL, MS_BIND, NULL) < 0 ||
	    (mkdir(at("proc"), 0755) < 0 && errno != EEXIST) ||
	    mount("proc", at("proc"), "proc", 0, NULL) < 0 || chroot(base) < 0 || chdir("/") < 0)
		return -1;
	return 0;
}

static void test_no_pivot(void **state)
{
	struct pd_container_config *cfg = new_config();
	cfg->rootfs = pd_arena_strdup(&cfg->arena, "/rootfs");
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/dev", "tmpfs", "tmpfs", 0, "mode=755");
	child_before = chroot_under_shared_parent;
	expect_error_pivot(cfg, false, EINVAL, "pivot_root into the rootfs");
	expect_ok(cfg, true, inside_no_pivot);
	child_before = NULL;
	free_config(cfg);
}

static int inside_shared_root(void)
{
	CHECK(content_is("/.pd-marker", "marker"));
	CHECK(root_line_has("shared:"));
	return 0;
}

static int inside_slave_root(void)
{
	CHECK(!root_line_has("shared:"));
	return 0;
}

/* rshared is applied to the container's own "/" after the pivot; the default is not shared. */
static void test_root_propagation(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	cfg->rootfs_propagation = MS_SHARED | MS_REC;
	expect_ok(cfg, false, inside_shared_root);
	cfg->rootfs_propagation = MS_SLAVE | MS_REC;
	expect_ok(cfg, false, inside_slave_root);
	free_config(cfg);
}

static int inside_dev_bound(void)
{
	CHECK(content_is("/dev/inner", "inner")); /* the bound directory */
	CHECK(is_missing("/dev/null") && is_missing("/dev/fd") && is_missing("/dev/mydev"));
	return 0;
}

/* A /dev bind is the spec's /dev: no devices or links are added to it. */
static void test_dev_bind_skips_devices(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/dev", "bind", at("bind-dir"), MS_BIND | MS_REC, NULL);
	add_device(cfg, "/dev/mydev", 'c', 1, 7, 0600, 0);
	expect_ok(cfg, false, inside_dev_bound);
	free_config(cfg);
	assert_true(access(at("bind-dir/null"), F_OK) < 0); /* nothing written to the source */
}

static char cgroup_name[64]; /* a v1 hierarchy of this machine, "" on cgroup v2 */

static int inside_cgroup(void)
{
	if (!cgroup_name[0]) {
		CHECK(pd_is_mount_point("/sys/fs/cgroup", "cgroup2") && is_ro("/sys/fs/cgroup"));
		return 0;
	}
	char path[128];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", cgroup_name);
	CHECK(pd_is_mount_point("/sys/fs/cgroup", "tmpfs") && is_ro("/sys/fs/cgroup"));
	CHECK(pd_is_mount_point(path, "cgroup") && is_ro(path));
	return 0;
}

/* The first v1 hierarchy in /proc/self/cgroup ("memory"; "systemd" for name=systemd). */
static void find_v1_hierarchy(void)
{
	struct statfs st;
	cgroup_name[0] = '\0';
	assert_int_equal(statfs("/sys/fs/cgroup", &st), 0);
	if (st.f_type == 0x63677270) /* CGROUP2_SUPER_MAGIC */
		return;
	FILE *f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	char line[512];
	while (!cgroup_name[0] && fgets(line, sizeof(line), f)) {
		char *opts = strchr(line, ':');
		char *end = opts ? strchr(opts + 1, ':') : NULL;
		if (!end || strncmp(line, "0:", 2) == 0)
			continue;
		*end = '\0';
		opts++;
		if (strncmp(opts, "name=", 5) == 0)
			opts += 5;
		snprintf(cgroup_name, sizeof(cgroup_name), "%s", opts);
	}
	fclose(f);
	assert_true(cgroup_name[0]);
}

static void test_cgroup_mount(void **state)
{
	find_v1_hierarchy();
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/sys", "sysfs", "sysfs", MS_RDONLY, NULL);
	add_mount(cfg, "/sys/fs/cgroup", "cgroup", "cgroup",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_RDONLY, NULL);
	expect_ok(cfg, false, inside_cgroup);
	free_config(cfg);
}

/* A tmpfs with nosuid,nodev,noexec as a bind source, made in the child's namespace. */
static int mount_secure_source(void)
{
	if ((mkdir(at("secure"), 0755) < 0 && errno != EEXIST) ||
	    mount("tmpfs", at("secure"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -1;
	return 0;
}

static int inside_secure_bind(void)
{
	struct statvfs st;
	CHECK(statvfs("/mnt/secure", &st) == 0);
	CHECK(st.f_flag & ST_RDONLY);
	CHECK((st.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) ==
	      (ST_NOSUID | ST_NODEV | ST_NOEXEC));
	return 0;
}

/* "ro" on a bind must not drop the source's nosuid/nodev/noexec in the remount. */
static void test_bind_keeps_source_flags(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/mnt/secure", "bind", at("secure"), MS_BIND | MS_REC | MS_RDONLY, NULL);
	child_before = mount_secure_source;
	expect_ok(cfg, false, inside_secure_bind);
	free_config(cfg);
}

static int inside_proc_bind(void)
{
	CHECK(content_is("/proc/uptime", "hello"));
	return 0;
}

/* Inside a procfs only the lxcfs files may be bound over. */
static void test_proc_destinations(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/proc/uptime", NULL, at("bind-file"), MS_BIND, NULL);
	expect_ok(cfg, false, inside_proc_bind);
	add_mount(cfg, "/proc/sys", "tmpfs", "tmpfs", 0, NULL);
	expect_error(cfg, 0, "mount on /proc/sys: inside /proc only binds");
	free_config(cfg);
}

/* A failing mount names the step, the filesystem and the destination. */
static void test_mount_error_names_step(void **state)
{
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/mnt/x", "pd-nosuchfs", "none", 0, NULL);
	expect_error(cfg, ENODEV, "mount pd-nosuchfs on /mnt/x");
	free_config(cfg);
	cfg = new_config();
	add_mount(cfg, "/mnt/y", NULL, at("no-such-source"), MS_BIND, NULL);
	expect_error(cfg, ENOENT, "bind source");
	free_config(cfg);
}

/* --- hostile specs ---------------------------------------------------------------------- */

static void test_rootfs_with_symlink(void **state)
{
	struct pd_container_config *cfg = new_config();
	link_to(base, "alias");
	link_to("rootfs", "rootlink");
	cfg->rootfs = pd_arena_strdup(&cfg->arena, at("alias/rootfs"));
	expect_error(cfg, ELOOP, "is or contains a symlink");
	cfg->rootfs = pd_arena_strdup(&cfg->arena, at("rootlink"));
	expect_error(cfg, ELOOP, "is or contains a symlink");
	cfg->rootfs = pd_arena_strdup(&cfg->arena, at("rootfs/../rootfs"));
	expect_error(cfg, 0, "not a clean absolute path");
	cfg->rootfs = pd_arena_strdup(&cfg->arena, at("missing"));
	expect_error(cfg, ENOENT, "open rootfs");
	free_config(cfg);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static char evil_at[PATH_MAX]; /* where /etc/evil must land, as the container sees it */

static int inside_evil_landed(void)
{
	CHECK(pd_is_mount_point(evil_at, "tmpfs"));
	return 0;
}

/* /etc -> "/../..<base>/host" (absolute; on the guest it means base/host): inside the rootfs
 * it means rootfs<base>/host. Missing there -> an error; present -> the mount lands there.
 * The guest's base/host is never touched. */
static void test_destination_symlink_absolute(void **state)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "/../..%s/host", base);
	assert_int_equal(nftw(at("rootfs/etc"), remove_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	link_to(target, "rootfs/etc");
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/etc/evil", "tmpfs", "tmpfs", 0, NULL);
	expect_error(cfg, ELOOP, "mount destination /etc/evil: passes through a symlink");
	assert_int_equal(entries(at("host")), 1); /* only victim */

	char inside[PATH_MAX];
	snprintf(inside, sizeof(inside), "%s%s/host", rootfs, base);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", inside);
	assert_int_equal(system(cmd), 0);
	snprintf(evil_at, sizeof(evil_at), "%s/host/evil", base);
	expect_ok(cfg, false, inside_evil_landed);
	free_config(cfg);
	assert_int_equal(entries(at("host")), 1);
	assert_int_equal(entries(inside), 1); /* evil, in the image */
}

/* /etc -> "../host" (relative; from rootfs/etc on the guest: base/host). */
static void test_destination_symlink_relative(void **state)
{
	assert_int_equal(nftw(at("rootfs/etc"), remove_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	link_to("../../host", "rootfs/etc");
	mk("rootfs/host");
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	add_mount(cfg, "/etc/evil", "tmpfs", "tmpfs", 0, NULL);
	snprintf(evil_at, sizeof(evil_at), "/host/evil");
	expect_ok(cfg, false, inside_evil_landed);
	free_config(cfg);
	assert_int_equal(entries(at("host")), 1);
	assert_int_equal(access(at("rootfs/host/evil"), F_OK), 0);
}

/* A file bind whose destination is a symlink out of the rootfs: error, file untouched. */
static void test_file_bind_symlink_out(void **state)
{
	link_to("../../host/victim", "rootfs/etc/victim");
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/etc/victim", NULL, at("bind-file"), MS_BIND, NULL);
	expect_error(cfg, ELOOP, "mount destination /etc/victim: passes through a symlink");
	free_config(cfg);
	char buf[32] = {0};
	int fd = open(at("host/victim"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "original");
	/* ... and one to a file that does not exist out there: nothing may be created there. */
	link_to("../../host/created", "rootfs/etc/created");
	cfg = new_config();
	add_mount(cfg, "/etc/created", NULL, at("bind-file"), MS_BIND, NULL);
	expect_error(cfg, ELOOP, "mount destination /etc/created: passes through a symlink");
	free_config(cfg);
	assert_int_equal(entries(at("host")), 1);
}

/* proc and sysfs must be mounted on real directories, even if a symlink stays inside. */
static void test_proc_sys_symlink(void **state)
{
	assert_int_equal(rmdir(at("rootfs/proc")), 0);
	link_to("tmp", "rootfs/proc");
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	expect_error(cfg, ELOOP, "mount destination /proc: must be a real directory");
	free_config(cfg);

	assert_int_equal(rmdir(at("rootfs/sys")), 0);
	link_to("../../host", "rootfs/sys");
	cfg = new_config();
	add_mount(cfg, "/sys", "sysfs", "sysfs", 0, NULL);
	expect_error(cfg, ELOOP, "mount destination /sys: must be a real directory");
	free_config(cfg);
	assert_int_equal(entries(at("host")), 1);
}

/* Device nodes only under /dev, by a clean path. */
static void test_device_outside_dev(void **state)
{
	static const char *const bad[] = {"/etc/x",  "/dev/../etc/x", "/dev/",
					  "/dev//x", "dev/x",	      "/dev"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_container_config *cfg = new_config();
		add_mount(cfg, "/dev", "tmpfs", "tmpfs", 0, NULL);
		add_device(cfg, bad[i], 'c', 1, 3, 0666, 0);
		expect_error(cfg, 0, "not a clean path under /dev");
		free_config(cfg);
	}
	assert_true(access(at("rootfs/etc/x"), F_OK) < 0);
	struct pd_container_config *cfg = new_config();
	add_device(cfg, "/dev/bad", 'x', 1, 3, 0666, 0);
	expect_error(cfg, 0, "device /dev/bad: unknown type");
	free_config(cfg);
}

static void test_bad_destinations(void **state)
{
	static const char *const bad[] = {"relative", "/", "/a/../b", "/a/./b", "/a//b", "/a/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_container_config *cfg = new_config();
		add_mount(cfg, bad[i], "tmpfs", "tmpfs", 0, NULL);
		expect_error(cfg, 0, "not a clean absolute path below /");
		free_config(cfg);
	}
}

/* --- resolve.c without namespaces --------------------------------------------------------- */

static void test_path_is_clean(void **state)
{
	static const struct {
		const char *path;
		bool clean;
	} cases[] = {
	    {"/", true},      {"/a", true},    {"/a/b.c/..d", true}, {"/...", true},
	    {"", false},      {"a", false},    {"/a/", false},	     {"//a", false},
	    {"/a//b", false}, {"/./a", false}, {"/a/.", false},	     {"/a/..", false},
	    {"/../a", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (pd_path_is_clean(cases[i].path) != cases[i].clean)
			fail_msg("'%s': want %d", cases[i].path, cases[i].clean);
	assert_false(pd_path_is_clean(NULL));
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static void test_resolve_clamps(void **state)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	mk("rootfs/host");
	link_to("/../../host", "rootfs/abs");
	link_to("../../..", "rootfs/up");
	link_to("/nowhere", "rootfs/dangling");
	int fd = pd_in_root_open(root, "/abs", O_DIRECTORY, 0);
	assert_true(same_file(fd, at("rootfs/host")));
	close(fd);
	fd = pd_in_root_open(root, "/up/up/etc", O_DIRECTORY, 0);
	assert_true(same_file(fd, at("rootfs/etc")));
	close(fd);
	/* mkdir -p through the links creates inside only */
	fd = pd_in_root_mkdirs(root, "/abs/new/deeper");
	assert_true(fd >= 0 && same_file(fd, at("rootfs/host/new/deeper")));
	close(fd);
	assert_int_equal(entries(at("host")), 1);
	assert_int_equal(pd_in_root_mkdirs(root, "/dangling/x"), -ELOOP);
	assert_true(access(at("rootfs/nowhere"), F_OK) < 0);
	assert_int_equal(pd_in_root_mkfile(root, "/dangling"), -ELOOP);
	fd = pd_in_root_mkfile(root, "/abs/file");
	assert_true(fd >= 0 && same_file(fd, at("rootfs/host/file")));
	close(fd);
	char name[16];
	fd = pd_in_root_parent(root, "/up/etc/f", name, sizeof(name));
	assert_true(same_file(fd, at("rootfs/etc")));
	assert_string_equal(name, "f");
	close(fd);
	assert_int_equal(pd_in_root_parent(root, "/", name, sizeof(name)), -EINVAL);
	close(root);
}

static int inside_tmpfs_root(void)
{
	return pd_rootfs_is_initramfs() ? 1 : 0;
}

/* This machine's root is a disk, and a pivoted-into tmpfs is no initramfs either (only
 * mountinfo's "rootfs" is): both must say false, or we would chroot where we can pivot. */
static void test_is_initramfs(void **state)
{
	struct statfs st;
	assert_int_equal(statfs("/", &st), 0);
	if (st.f_type == 0x858458f6 || st.f_type == 0x01021994)
		PD_SKIP("run from an initramfs: the answer would be true");
	assert_false(pd_rootfs_is_initramfs());
	struct pd_container_config *cfg = new_config();
	add_mount(cfg, "/proc", "proc", "proc", 0, NULL);
	/* A tmpfs root: the child mounts one on an empty directory and pivots into it. */
	cfg->rootfs = pd_arena_strdup(&cfg->arena, at("tmproot"));
	mk("tmproot");
	shared->rc = 99;
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", cfg->rootfs, "tmpfs", 0, NULL) < 0 ||
		    mkdir(at("tmproot/proc"), 0755) < 0)
			_exit(90);
		shared->rc = pd_rootfs_setup(cfg, false, &shared->err);
		_exit(shared->rc < 0 ? 0 : inside_tmpfs_root());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (shared->rc != 0)
		fail_msg("setup: %s", shared->err.msg);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free_config(cfg);
}

int main(void)
{
	PD_SKIP_UNLESS_ROOT("mount namespaces");
	shared =
	    mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tree, teardown_tree)
	const struct CMUnitTest tests[] = {
	    T(test_full_setup),
	    T(test_readonly_root),
	    T(test_no_pivot),
	    T(test_root_propagation),
	    T(test_dev_bind_skips_devices),
	    T(test_cgroup_mount),
	    T(test_bind_keeps_source_flags),
	    T(test_proc_destinations),
	    T(test_mount_error_names_step),
	    T(test_rootfs_with_symlink),
	    T(test_destination_symlink_absolute),
	    T(test_destination_symlink_relative),
	    T(test_file_bind_symlink_out),
	    T(test_proc_sys_symlink),
	    T(test_device_outside_dev),
	    T(test_bad_destinations),
	    T(test_path_is_clean),
	    T(test_resolve_clamps),
	    T(test_is_initramfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
