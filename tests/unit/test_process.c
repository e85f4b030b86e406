/* The container process's last steps (agent/container/process.h), really run as root.
 *
 * pd_process_setup changes the calling process for good, so every case forks: the child
 * sets itself up from a hand-made config, then checks ITSELF through /proc/self/status
 * (the five capability masks, NoNewPrivs, Uid, Gid, Groups), getrlimit, getcwd and a few
 * things only the granted privileges allow (binding port 80 as uid 1000), printing each
 * mismatch to stderr. It exits 0 only if everything matched; the parent asserts that.
 * Children end with _exit: LeakSanitizer cannot stop a process that changed its uid.
 *
 * Requests are limited to capabilities this test process holds (a CI container may lack
 * some), so that every expected mask is the exact request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/names.h"
#include "agent/container/process.h"

#define BIT(c)	     ((uint64_t)1 << (c))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[64];	     /* 0755, so uid 1000 may enter it */
static uint64_t held;	     /* CapBnd & CapPrm of this test process */
static uint64_t kernel_caps; /* every capability the kernel knows */

/* ---- reading /proc/self/status in the child -------------------------------------------- */

static int fails; /* mismatches found by the child */

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mismatch: " __VA_ARGS__);                                 \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* The value of "key:\t..." in /proc/self/status, without the newline; "" if absent. */
static const char *status_value(const char *key, char *out, size_t size)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(out, size, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	return out;
}

static uint64_t status_hex(const char *key)
{
	char v[128];
	return strtoull(status_value(key, v, sizeof(v)), NULL, 16);
}

static void expect_mask(const char *key, uint64_t want)
{
	uint64_t got = status_hex(key);
	EXPECT(got == want, "%s %016llx, want %016llx", key, (unsigned long long)got,
	       (unsigned long long)want);
}

static void expect_caps(const struct pd_caps *c)
{
	expect_mask("CapBnd", c->bounding);
	expect_mask("CapPrm", c->permitted);
	expect_mask("CapEff", c->effective);
	expect_mask("CapInh", c->inheritable);
	expect_mask("CapAmb", c->ambient);
}

static struct pd_caps current_caps(void)
{
	return (struct pd_caps){status_hex("CapBnd"), status_hex("CapEff"), status_hex("CapInh"),
				status_hex("CapPrm"), status_hex("CapAmb")};
}

/* "Uid:" / "Gid:" = real, effective, saved, filesystem: all four must be id. */
static void expect_ids(const char *key, unsigned id)
{
	char v[128], want[128];
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", id, id, id, id);
	EXPECT(strcmp(status_value(key, v, sizeof(v)), want) == 0, "%s '%s', want '%s'", key, v,
	       want);
}

/* The kernel sorts the group list; compare as sets. */
static void expect_groups(const gid_t *gids, size_t n)
{
	char v[512];
	status_value("Groups", v, sizeof(v));
	size_t count = 0;
	for (char *tok = strtok(v, " \t"); tok; tok = strtok(NULL, " \t")) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found = found || strtoul(tok, NULL, 10) == gids[i];
		EXPECT(found, "unexpected group %s", tok);
		count++;
	}
	EXPECT(count == n, "%zu groups, want %zu", count, n);
}

static void expect_nnp(int want)
{
	char v[32];
	char w[4];
	snprintf(w, sizeof(w), "%d", want);
	EXPECT(strcmp(status_value("NoNewPrivs", v, sizeof(v)), w) == 0, "NoNewPrivs %s, want %s",
	       v, w);
}

static void expect_cwd(const char *want)
{
	char buf[256];
	EXPECT(getcwd(buf, sizeof(buf)) && strcmp(buf, want) == 0, "cwd %s, want %s", buf, want);
}

/* ---- running a case in a child ------------------------------------------------------------ */

typedef int (*child_fn)(const void *arg);

/* Fork, run fn in the child, return its exit status (or 128 + signal). */
static int in_child(child_fn fn, const void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fails = 0;
		int rc = fn(arg);
		fflush(NULL);
		_exit(rc == 0 && fails == 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int setup_or_report(const struct pd_process_config *p)
{
	struct pd_error err;
	pd_error_clear(&err);
	if (pd_process_setup(p, &err) == 0)
		return 0;
	fprintf(stderr, "pd_process_setup: %s\n", err.msg);
	return -1;
}

/* A root process with no caps asked for, cwd = tmpdir. */
static struct pd_process_config base_config(void)
{
	static char *args[] = {"true", NULL};
	return (struct pd_process_config){
	    .args = args, .n_args = 1, .cwd = tmpdir, .has_caps = false};
}

static struct pd_caps all(uint64_t mask)
{
	mask &= held;
	return (struct pd_caps){mask, mask, 0, mask, 0};
}

/* ---- pd_process_setup ------------------------------------------------------------------ */

static const uint64_t docker_default =
    BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) | BIT(CAP_MKNOD) |
    BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) |
    BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);

static int root_reduced(const void *arg)
{
	struct pd_process_config p = base_config();
	p.has_caps = true;
	p.caps = all(docker_default);
	p.caps.inheritable = p.caps.permitted & BIT(CAP_KILL);
	gid_t agents[] = {777}; /* the creator's groups must not reach the container */
	if (setgroups(1, agents) < 0)
		return perror("setgroups"), -1;
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&p.caps);
	expect_ids("Uid", 0);
	expect_ids("Gid", 0);
	expect_groups(NULL, 0);
	expect_nnp(0);
	expect_cwd(tmpdir);
	/* CAP_SYS_ADMIN is gone: a mount namespace may no longer be created. */
	EXPECT(unshare(CLONE_NEWNS) < 0 && errno == EPERM, "unshare(CLONE_NEWNS) allowed");
	return 0;
}

static void test_setup_root_reduced_caps(void **state)
{
	assert_int_equal(in_child(root_reduced, NULL), 0);
}

static int user_ambient(const void *arg)
{
	static gid_t gids[] = {10, 20, 1234};
	struct pd_process_config p = base_config();
	p.uid = 1000;
	p.gid = 1000;
	p.additional_gids = gids;
	p.n_additional_gids = ARRAY_LEN(gids);
	p.has_caps = true;
	uint64_t nbs = BIT(CAP_NET_BIND_SERVICE);
	p.caps = (struct pd_caps){.bounding = nbs | BIT(CAP_CHOWN) | BIT(CAP_KILL),
				  .permitted = nbs | BIT(CAP_CHOWN),
				  .effective = nbs | BIT(CAP_CHOWN),
				  .inheritable = nbs,
				  .ambient = nbs};
	p.no_new_privileges = true;
	/* A network namespace of our own, to try the port-80 bind in. */
	if (unshare(CLONE_NEWNET) < 0)
		return perror("unshare(CLONE_NEWNET)"), -1;
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&p.caps); /* CapEff too: the uid change emptied it, setup restored it */
	expect_ids("Uid", 1000);
	expect_ids("Gid", 1000);
	expect_groups(gids, ARRAY_LEN(gids));
	expect_nnp(1);
	expect_cwd(tmpdir);
	EXPECT(prctl(PR_GET_KEEPCAPS, 0L, 0L, 0L, 0L) == 0, "KEEPCAPS left on");
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	EXPECT(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0,
	       "uid 1000 cannot bind port 80: %s", strerror(errno));
	return 0;
}

static void test_setup_user_with_ambient(void **state)
{
	if ((held & (BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN) | BIT(CAP_KILL))) !=
	    (BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN) | BIT(CAP_KILL)))
		PD_SKIP("needs CAP_NET_BIND_SERVICE, CAP_CHOWN and CAP_KILL");
	assert_int_equal(in_child(user_ambient, NULL), 0);
}

static int no_caps(const void *arg)
{
	struct pd_process_config p = base_config();
	p.has_caps = true; /* and every set empty */
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&p.caps);
	expect_ids("Uid", 0);
	EXPECT(setuid(1) < 0 && errno == EPERM, "root without CAP_SETUID could setuid");
	return 0;
}

static void test_setup_no_caps(void **state)
{
	assert_int_equal(in_child(no_caps, NULL), 0);
}

static int keep_root(const void *arg)
{
	struct pd_caps before = current_caps();
	struct pd_process_config p = base_config();
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&before);
	expect_ids("Uid", 0);
	return 0;
}

static void test_setup_no_caps_field_keeps_root_caps(void **state)
{
	assert_int_equal(in_child(keep_root, NULL), 0);
}

/* has_caps false and a non-root uid: the kernel's rule, nothing survives the uid change. */
static int user_kernel_rules(const void *arg)
{
	struct pd_caps want = current_caps();
	want.permitted = want.effective = want.ambient = 0;
	struct pd_process_config p = base_config();
	p.uid = 1000;
	p.gid = 1000;
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&want);
	expect_ids("Uid", 1000);
	expect_groups(NULL, 0);
	return 0;
}

static void test_setup_no_caps_field_user_gets_none(void **state)
{
	assert_int_equal(in_child(user_kernel_rules, NULL), 0);
}

static void expect_rlimit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit r;
	EXPECT(getrlimit(resource, &r) == 0 && r.rlim_cur == soft && r.rlim_max == hard,
	       "%s %llu/%llu, want %llu/%llu", pd_rlimit_name(resource),
	       (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max,
	       (unsigned long long)soft, (unsigned long long)hard);
}

static int rlimits(const void *arg)
{
	/* Lower than anything a host has, so no CAP_SYS_RESOURCE is needed. */
	struct pd_rlimit rl[] = {{RLIMIT_NOFILE, 100, 200}, {RLIMIT_NPROC, 50, 60}};
	struct pd_process_config p = base_config();
	p.rlimits = rl;
	p.n_rlimits = ARRAY_LEN(rl);
	p.has_oom_score_adj = true;
	p.oom_score_adj = 500; /* raising the score needs no privilege */
	struct pd_error err;
	pd_error_clear(&err);
	if (pd_process_oom_score(&p, &err) < 0) { /* the child's first step (child.c) */
		fprintf(stderr, "pd_process_oom_score: %s\n", err.msg);
		return -1;
	}
	if (setup_or_report(&p) < 0)
		return -1;
	expect_rlimit(RLIMIT_NOFILE, 100, 200);
	expect_rlimit(RLIMIT_NPROC, 50, 60);
	char buf[16] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && atoi(buf) == 500,
	       "oom_score_adj '%s', want 500", buf);
	if (fd >= 0)
		close(fd);
	return 0;
}

static void test_setup_rlimits_and_oom_score(void **state)
{
	assert_int_equal(in_child(rlimits, NULL), 0);
}

static int bad_rlimit(const void *arg)
{
	/* soft above hard: EINVAL from the kernel, reported with the limit's name */
	struct pd_rlimit rl[] = {{RLIMIT_NOFILE, 300, 200}};
	struct pd_process_config p = base_config();
	p.rlimits = rl;
	p.n_rlimits = 1;
	struct pd_error err;
	pd_error_clear(&err);
	EXPECT(pd_process_setup(&p, &err) < 0, "soft > hard accepted");
	EXPECT(strstr(err.msg, "rlimit RLIMIT_NOFILE"), "message '%s'", err.msg);
	return 0;
}

static void test_setup_rlimit_error_names_it(void **state)
{
	assert_int_equal(in_child(bad_rlimit, NULL), 0);
}

static int nnp(const void *arg)
{
	struct pd_process_config p = base_config();
	p.no_new_privileges = true;
	if (setup_or_report(&p) < 0)
		return -1;
	expect_nnp(1);
	return 0;
}

static void test_setup_no_new_privs(void **state)
{
	assert_int_equal(in_child(nnp, NULL), 0);
}

static int bad_cwd(const void *arg)
{
	struct pd_process_config p = base_config();
	p.cwd = "/nonexistent-pd-test-cwd";
	struct pd_error err;
	pd_error_clear(&err);
	EXPECT(pd_process_setup(&p, &err) < 0, "missing cwd accepted");
	EXPECT(err.code == PD_NOT_FOUND, "code %d", err.code);
	EXPECT(strstr(err.msg, "chdir /nonexistent-pd-test-cwd"), "message '%s'", err.msg);
	return 0;
}

static void test_setup_bad_cwd_names_it(void **state)
{
	assert_int_equal(in_child(bad_cwd, NULL), 0);
}

/* Without CAP_SETUID the uid change fails, and the error says which step. */
static int setuid_denied(const void *arg)
{
	struct pd_process_config p = base_config();
	p.has_caps = true;
	p.caps = all(BIT(CAP_SETGID));
	if (setup_or_report(&p) < 0)
		return -1;
	p.uid = 1000;
	struct pd_error err;
	pd_error_clear(&err);
	EXPECT(pd_process_setup(&p, &err) < 0, "setresuid without CAP_SETUID succeeded");
	EXPECT(err.code == PD_PERMISSION_DENIED, "code %d", err.code);
	EXPECT(strstr(err.msg, "setresuid 1000"), "message '%s'", err.msg);
	return 0;
}

static void test_setup_setresuid_error_names_it(void **state)
{
	if (!(held & BIT(CAP_SETGID)))
		PD_SKIP("needs CAP_SETGID");
	assert_int_equal(in_child(setuid_denied, NULL), 0);
}

/* Effective beyond permitted: the kernel refuses the capset; the error says so. */
static int capset_denied(const void *arg)
{
	struct pd_process_config p = base_config();
	p.has_caps = true;
	p.caps = all(BIT(CAP_CHOWN) | BIT(CAP_KILL));
	p.caps.permitted &= ~BIT(CAP_KILL);
	struct pd_error err;
	pd_error_clear(&err);
	EXPECT(pd_process_setup(&p, &err) < 0, "effective beyond permitted accepted");
	EXPECT(strstr(err.msg, "capset"), "message '%s'", err.msg);
	return 0;
}

static void test_setup_capset_error_names_it(void **state)
{
	if ((held & (BIT(CAP_CHOWN) | BIT(CAP_KILL))) != (BIT(CAP_CHOWN) | BIT(CAP_KILL)))
		PD_SKIP("needs CAP_CHOWN and CAP_KILL");
	assert_int_equal(in_child(capset_denied, NULL), 0);
}

/* Numbers past the kernel's last capability are skipped, not an error; an ambient cap that
 * is not inheritable is not raised. */
static int unknown_and_unraisable(const void *arg)
{
	struct pd_process_config p = base_config();
	p.has_caps = true;
	p.caps = all(BIT(CAP_CHOWN) | BIT(CAP_KILL));
	p.caps.inheritable = p.caps.permitted & BIT(CAP_KILL);
	struct pd_caps want = p.caps;
	want.ambient = p.caps.permitted & BIT(CAP_KILL);
	p.caps.bounding |= BIT(62);
	p.caps.ambient = want.ambient | (p.caps.permitted & BIT(CAP_CHOWN)) | BIT(62);
	if (setup_or_report(&p) < 0)
		return -1;
	expect_caps(&want);
	return 0;
}

static void test_setup_skips_unknown_and_unraisable(void **state)
{
	if (kernel_caps & BIT(62))
		PD_SKIP("this kernel knows capability 62: no unknown one to try");
	assert_int_equal(in_child(unknown_and_unraisable, NULL), 0);
}

/* ---- pd_process_exec ------------------------------------------------------------------- */

struct exec_case {
	char **args;
	char **env;
	uid_t uid;		    /* != 0: setup switches to it (and its gid) first */
	const struct pd_caps *caps; /* non-NULL: and sets these */
};

static int exec_child(const void *arg)
{
	const struct exec_case *c = arg;
	struct pd_process_config p = base_config();
	p.args = c->args;
	for (p.n_args = 0; c->args[p.n_args]; p.n_args++)
		;
	p.env = c->env;
	for (p.n_env = 0; c->env[p.n_env]; p.n_env++)
		;
	p.uid = c->uid;
	p.gid = c->uid;
	p.has_caps = c->caps != NULL;
	if (c->caps)
		p.caps = *c->caps;
	setenv("PD_TEST_LEAK", "agent's", 1); /* must not reach the process */
	if ((c->uid || c->caps) && setup_or_report(&p) < 0)
		return -1;
	struct pd_error err;
	pd_error_clear(&err);
	pd_process_exec(&p, NULL, &err);
	fprintf(stderr, "pd_process_exec: %s\n", err.msg);
	return -1;
}

/* Run the case with stdout on a pipe; the output (NUL-terminated) goes to out. */
static int run_exec(const struct exec_case *c, char *out, size_t size)
{
	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		_exit(exec_child(c) == 0 ? 0 : 127);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_exec_path_lookup_and_env(void **state)
{
	char out[256];
	char *args[] = {"sh", "-c", "echo $FOO", NULL};
	char *env[] = {"FOO=bar", "PATH=/nonexistent-pd:/usr/bin:/bin", NULL};
	struct exec_case c = {args, env, 0, NULL};
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "bar\n");
}

/* The environment is exactly the spec's plus HOME: nothing of the parent's leaks. */
static void test_exec_env_is_exact(void **state)
{
	char out[512];
	char *args[] = {"env", NULL};
	char *env[] = {"A=1", "PATH=/usr/bin:/bin", "HOME=/h", NULL};
	struct exec_case c = {args, env, 0, NULL};
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "A=1\nPATH=/usr/bin:/bin\nHOME=/h\n");
}

static void test_exec_home_from_passwd_or_root(void **state)
{
	char out[256], want[256];
	char *args[] = {"sh", "-c", "echo \"$HOME\"", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct passwd *pw = getpwuid(0);
	assert_non_null(pw);
	snprintf(want, sizeof(want), "%s\n", pw->pw_dir);
	struct exec_case c = {args, env, 0, NULL};
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, want);

	assert_null(getpwuid(4242));
	c.uid = 4242; /* in no passwd: "/" */
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "/\n");
}

/* End to end: the ambient set makes a non-root, non-setuid binary run with the cap. */
static void test_exec_ambient_reaches_the_binary(void **state)
{
	if (!(held & BIT(CAP_NET_BIND_SERVICE)))
		PD_SKIP("needs CAP_NET_BIND_SERVICE");
	char out[256];
	char *args[] = {"grep", "^CapEff", "/proc/self/status", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	uint64_t nbs = BIT(CAP_NET_BIND_SERVICE);
	struct pd_caps caps = {nbs, nbs, nbs, nbs, nbs};
	struct exec_case c = {args, env, 1000, &caps};
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "CapEff:\t0000000000000400\n");
}

/* The error from a failed exec, checked in a child (a success would replace us). */
struct exec_error {
	char **args;
	char **env;
	int code;
	const char *msg;
};

static int exec_fails(const void *arg)
{
	const struct exec_error *c = arg;
	struct pd_process_config p = base_config();
	p.args = c->args;
	p.n_args = 1;
	p.env = c->env;
	p.n_env = 1;
	struct pd_error err;
	pd_error_clear(&err);
	EXPECT(pd_process_exec(&p, NULL, &err) < 0, "exec returned 0");
	EXPECT(err.code == c->code, "code %d, want %d (%s)", err.code, c->code, err.msg);
	EXPECT(strstr(err.msg, c->msg), "message '%s', want '%s'", err.msg, c->msg);
	return 0;
}

static void test_exec_missing_binary(void **state)
{
	char *args[] = {"pd-no-such-binary", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct exec_error c = {args, env, PD_NOT_FOUND,
			       "executable file 'pd-no-such-binary' not found in $PATH"};
	assert_int_equal(in_child(exec_fails, &c), 0);

	char *abs_args[] = {"/nonexistent-pd/bin/x", NULL};
	struct exec_error d = {abs_args, env, PD_NOT_FOUND, "'/nonexistent-pd/bin/x' not found"};
	assert_int_equal(in_child(exec_fails, &d), 0);
}

static void test_exec_not_executable(void **state)
{
	char path[128], pathenv[160];
	snprintf(path, sizeof(path), "%s/pd-noexec", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	snprintf(pathenv, sizeof(pathenv), "PATH=%s", tmpdir);
	char *args[] = {"pd-noexec", NULL};
	char *env[] = {pathenv, NULL};
	struct exec_error c = {args, env, PD_PERMISSION_DENIED, "'pd-noexec'"};
	int rc = in_child(exec_fails, &c);
	unlink(path);
	assert_int_equal(rc, 0);
}

/* A '/' in args[0]: no PATH search at all (PATH here would find nothing). */
static void test_exec_slash_used_as_is(void **state)
{
	char out[64];
	char *args[] = {"/bin/echo", "hi", NULL};
	char *env[] = {"PATH=/nonexistent-pd", NULL};
	struct exec_case c = {args, env, 0, NULL};
	assert_int_equal(run_exec(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "hi\n");
}

/* A directory named like the binary earlier in PATH is passed over. */
static void test_exec_skips_directories(void **state)
{
	char dir[128], pathenv[200], out[64];
	snprintf(dir, sizeof(dir), "%s/echo", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(pathenv, sizeof(pathenv), "PATH=%s:/usr/bin:/bin", tmpdir);
	char *args[] = {"echo", "found", NULL};
	char *env[] = {pathenv, NULL};
	struct exec_case c = {args, env, 0, NULL};
	int rc = run_exec(&c, out, sizeof(out));
	rmdir(dir);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "found\n");
}

/* ---- pd_process_config_check ------------------------------------------------------------- */

static char *good_args[] = {"sh", "-c", "true", NULL};
static char *good_env[] = {"PATH=/bin", "EMPTY=", "X==y", NULL};
static gid_t good_gids[] = {1, 2};
static struct pd_rlimit good_rl[] = {{RLIMIT_NOFILE, 1024, 1024}};

static struct pd_process_config good_config(void)
{
	return (struct pd_process_config){
	    .uid = 1000,
	    .gid = 1000,
	    .additional_gids = good_gids,
	    .n_additional_gids = 2,
	    .args = good_args,
	    .n_args = 3,
	    .env = good_env,
	    .n_env = 3,
	    .cwd = "/",
	    .has_caps = true,
	    .caps = {BIT(CAP_CHOWN), BIT(CAP_CHOWN), 0, BIT(CAP_CHOWN), 0},
	    .rlimits = good_rl,
	    .n_rlimits = 1,
	    .has_oom_score_adj = true,
	    .oom_score_adj = -999};
}

static char *no_args[] = {NULL};
static char *empty_arg0[] = {"", NULL};
static char *bad_env1[] = {"NOEQUALS", NULL};
static char *bad_env2[] = {"=value", NULL};
static gid_t bad_gids[] = {5, (gid_t)-1};
static struct pd_rlimit rl_soft_above[] = {{RLIMIT_NOFILE, 2048, 1024}};
static struct pd_rlimit rl_unknown[] = {{999, 1, 1}};

/* One line each: the table below reads better than 25 five-line functions. */
/* clang-format off */
static void m_none(struct pd_process_config *p) {}
static void m_no_args(struct pd_process_config *p) { p->args = no_args, p->n_args = 0; }
static void m_empty_arg0(struct pd_process_config *p) { p->args = empty_arg0, p->n_args = 1; }
static void m_args_unterminated(struct pd_process_config *p) { p->n_args = 2; }
static void m_env_no_eq(struct pd_process_config *p) { p->env = bad_env1, p->n_env = 1; }
static void m_env_empty_key(struct pd_process_config *p) { p->env = bad_env2, p->n_env = 1; }
static void m_cwd_relative(struct pd_process_config *p) { p->cwd = "work"; }
static void m_cwd_missing(struct pd_process_config *p) { p->cwd = NULL; }
static void m_uid_minus1(struct pd_process_config *p) { p->uid = (uid_t)-1; }
static void m_gid_minus1(struct pd_process_config *p) { p->additional_gids = bad_gids; }
static void m_cap_unknown(struct pd_process_config *p) { p->caps.ambient = BIT(pd_cap_count()); }
static void m_cap_last_known(struct pd_process_config *p)
{
	p->caps.bounding = BIT(pd_cap_count() - 1);
}
static void m_cap_bit63(struct pd_process_config *p) { p->caps.bounding |= BIT(63); }
static void m_rl_soft(struct pd_process_config *p) { p->rlimits = rl_soft_above; }
static void m_rl_unknown(struct pd_process_config *p) { p->rlimits = rl_unknown; }
static void m_rl_infinity(struct pd_process_config *p)
{
	static struct pd_rlimit inf[] = {{RLIMIT_CORE, UINT64_MAX, UINT64_MAX}};
	p->rlimits = inf;
}
static void m_oom_low(struct pd_process_config *p) { p->oom_score_adj = -1001; }
static void m_oom_unset(struct pd_process_config *p)
{
	p->has_oom_score_adj = false, p->oom_score_adj = 5000;
}
static void m_too_many_env(struct pd_process_config *p) { p->n_env = PD_MAX_ENV + 1; }
static void m_too_many_args(struct pd_process_config *p) { p->n_args = PD_MAX_ARGS + 1; }
static void m_too_many_gids(struct pd_process_config *p) { p->n_additional_gids = PD_MAX_GIDS + 1; }
static void m_too_many_rl(struct pd_process_config *p) { p->n_rlimits = PD_MAX_RLIMITS + 1; }
static void m_no_env(struct pd_process_config *p) { p->env = NULL, p->n_env = 0; }
/* clang-format on */

static const struct {
	const char *name;
	void (*mutate)(struct pd_process_config *);
	const char *error; /* NULL: valid; else a piece of the message */
} check_cases[] = {
    {"good", m_none, NULL},
    {"no env", m_no_env, NULL},
    {"last known cap", m_cap_last_known, NULL},
    {"unlimited rlimit", m_rl_infinity, NULL},
    {"oom unset ignores value", m_oom_unset, NULL},
    {"no args", m_no_args, "process.args"},
    {"empty args[0]", m_empty_arg0, "process.args"},
    {"args not NULL-terminated", m_args_unterminated, "process.args"},
    {"env without =", m_env_no_eq, "process.env[0]"},
    {"env with empty key", m_env_empty_key, "process.env[0]"},
    {"relative cwd", m_cwd_relative, "process.cwd: work"},
    {"no cwd", m_cwd_missing, "process.cwd"},
    {"uid -1", m_uid_minus1, "process.user"},
    {"additional gid -1", m_gid_minus1, "additionalGids[1]"},
    {"unknown cap", m_cap_unknown, "capabilities.ambient"},
    {"cap bit 63", m_cap_bit63, "unknown capability 63"},
    {"rlimit soft > hard", m_rl_soft, "RLIMIT_NOFILE"},
    {"unknown rlimit", m_rl_unknown, "process.rlimits[0]"},
    {"oom below -1000", m_oom_low, "oomScoreAdj"},
    {"too many env", m_too_many_env, "process.env"},
    {"too many args", m_too_many_args, "process.args"},
    {"too many gids", m_too_many_gids, "additionalGids"},
    {"too many rlimits", m_too_many_rl, "process.rlimits"},
};

static void test_config_check_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(check_cases); i++) {
		struct pd_process_config p = good_config();
		check_cases[i].mutate(&p);
		struct pd_error err;
		pd_error_clear(&err);
		int rc = pd_process_config_check(&p, &err);
		const char *want = check_cases[i].error;
		if ((rc == 0) != (want == NULL) ||
		    (want && (err.code != PD_INVALID_ARGUMENT || !strstr(err.msg, want))))
			fail_msg("case '%s': rc %d code %d msg '%s', want %s", check_cases[i].name,
				 rc, err.code, err.msg, want ? want : "OK");
	}
}

/* ---- setup ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	PD_SKIP_UNLESS_ROOT("set-up steps that change ids and capabilities");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pd-process-XXXXXX");
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
		return -1;
	held = status_hex("CapBnd") & status_hex("CapPrm");
	for (int c = 0; c < 64 && prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) >= 0; c++)
		kernel_caps |= BIT(c);
	return 0;
}

static int group_teardown(void **state)
{
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_setup_root_reduced_caps),
	    cmocka_unit_test(test_setup_user_with_ambient),
	    cmocka_unit_test(test_setup_no_caps),
	    cmocka_unit_test(test_setup_no_caps_field_keeps_root_caps),
	    cmocka_unit_test(test_setup_no_caps_field_user_gets_none),
	    cmocka_unit_test(test_setup_rlimits_and_oom_score),
	    cmocka_unit_test(test_setup_rlimit_error_names_it),
	    cmocka_unit_test(test_setup_no_new_privs),
	    cmocka_unit_test(test_setup_bad_cwd_names_it),
	    cmocka_unit_test(test_setup_setresuid_error_names_it),
	    cmocka_unit_test(test_setup_capset_error_names_it),
	    cmocka_unit_test(test_setup_skips_unknown_and_unraisable),
	    cmocka_unit_test(test_exec_path_lookup_and_env),
	    cmocka_unit_test(test_exec_env_is_exact),
	    cmocka_unit_test(test_exec_home_from_passwd_or_root),
	    cmocka_unit_test(test_exec_ambient_reaches_the_binary),
	    cmocka_unit_test(test_exec_missing_binary),
	    cmocka_unit_test(test_exec_not_executable),
	    cmocka_unit_test(test_exec_slash_used_as_is),
	    cmocka_unit_test(test_exec_skips_directories),
	    cmocka_unit_test(test_config_check_table),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
