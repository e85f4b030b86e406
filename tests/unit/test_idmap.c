/* User namespace id maps (agent/container/idmap.c): the checks a map must pass before the
 * kernel sees it, the namespace combinations a spec may ask for, the host id of a container
 * id, and the text written to /proc/<pid>/uid_map (in a forked child with a new user
 * namespace: needs root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/idmap.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int check(const struct pd_idmap *m, size_t n, const char *want)
{
	struct pd_error err = {0};
	int rc = pd_idmap_check("M", m, n, &err);
	if (want) {
		assert_int_equal(rc, -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		if (!strstr(err.msg, want))
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	} else if (rc != 0) {
		fail_msg("refused: %s", err.msg);
	}
	return rc;
}

static void test_check(void **state)
{
	static struct pd_idmap many[PD_MAX_IDMAP + 1];
	check((struct pd_idmap[]){{0, 100000, 65536}}, 1, NULL);
	check((struct pd_idmap[]){{0, 1000, 1}, {1, 100000, 65536}}, 2, NULL);
	check((struct pd_idmap[]){{4294967294u, 0, 1}}, 1, NULL); /* the last id itself */
	check((struct pd_idmap[]){{0, 0, 4294967295u}}, 1, NULL); /* 0 .. 4294967294 */
	check((struct pd_idmap[]){{0, 100000, 0}}, 1, "M[0]: size 0");
	check((struct pd_idmap[]){{4294967295u, 0, 1}}, 1, "past the last id");
	check((struct pd_idmap[]){{0, 4294967290u, 10}}, 1, "past the last id");
	check((struct pd_idmap[]){{0, 0, 10}, {9, 100, 1}}, 2, "M[1]: container ids overlap");
	check((struct pd_idmap[]){{0, 100, 10}, {10, 109, 5}}, 2, "M[1]: host ids overlap");
	check((struct pd_idmap[]){{10, 100, 10}, {0, 110, 10}}, 2, NULL); /* touching is fine */
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = (struct pd_idmap){(uint32_t)i * 2, (uint32_t)i * 2, 1};
	check(many, PD_MAX_IDMAP, NULL);
	check(many, PD_MAX_IDMAP + 1, "341 lines");
}

static void test_to_host(void **state)
{
	const struct pd_idmap m[] = {{0, 1000, 1}, {1, 100000, 65535}};
	uint32_t h = 0;
	assert_true(pd_idmap_to_host(m, 2, 0, &h));
	assert_int_equal(h, 1000);
	assert_true(pd_idmap_to_host(m, 2, 1, &h));
	assert_int_equal(h, 100000);
	assert_true(pd_idmap_to_host(m, 2, 65535, &h));
	assert_int_equal(h, 165534);
	assert_false(pd_idmap_to_host(m, 2, 65536, &h));
	assert_false(pd_idmap_to_host(m, 0, 0, &h));
}

static void test_userns_check(void **state)
{
	struct pd_idmap map = {0, 100000, 65536};
	struct pd_container_config cfg;
	struct pd_error err = {0};
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(pd_userns_check(&cfg, &err), 0); /* neither */
	cfg.uid_map = cfg.gid_map = &map;
	cfg.n_uid_map = cfg.n_gid_map = 1;
	assert_int_equal(pd_userns_check(&cfg, &err), -1); /* maps, no namespace */
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	cfg.ns[PD_NS_USER].enabled = true;
	assert_true(pd_userns_new(&cfg));
	assert_int_equal(pd_userns_check(&cfg, &err), 0);
	cfg.n_gid_map = 0;
	assert_int_equal(pd_userns_check(&cfg, &err), -1); /* one map only */
	assert_non_null(strstr(err.msg, "needs both"));
	cfg.n_gid_map = 1;
	cfg.process.uid = 65536;
	assert_int_equal(pd_userns_check(&cfg, &err), -1); /* its uid is not mapped */
	assert_non_null(strstr(err.msg, "UID 65536 is not mapped"));
	cfg.process.uid = 65535;
	assert_int_equal(pd_userns_check(&cfg, &err), 0);
	cfg.ns[PD_NS_IPC] = (struct pd_namespace){.enabled = true, .path = "/var/run/x/ipc"};
	assert_int_equal(pd_userns_check(&cfg, &err), -1); /* joins one of another owner */
	assert_non_null(strstr(err.msg, "ipc namespace /var/run/x/ipc"));
	cfg.ns[PD_NS_IPC].path = NULL;
	cfg.ns[PD_NS_USER].path = "/proc/1/ns/user";
	assert_false(pd_userns_new(&cfg));
	assert_int_equal(pd_userns_check(&cfg, &err), 0); /* joined: maps optional */
	cfg.n_uid_map = cfg.n_gid_map = 0;
	cfg.ns[PD_NS_IPC].path = "/var/run/x/ipc";
	assert_int_equal(pd_userns_check(&cfg, &err), 0); /* joined as root, before it */
}

/* The text the kernel takes: a child in a new user namespace, its maps written by us. */
static void test_write(void **state)
{
	const struct pd_idmap m[] = {{0, 100000, 1000}, {1000, 200000, 10}};
	int p[2], ready[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) < 0 || write(ready[1], "u", 1) != 1)
			_exit(2);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 3); /* EOF: the maps are written */
	}
	close(p[0]);
	close(ready[1]);
	struct pd_error err = {0};
	int rc = -1;
	char path[64], buf[256] = "", c;
	assert_int_equal(read(ready[0], &c, 1), 1); /* it has its user namespace */
	close(ready[0]);
	rc = pd_idmap_write(pid, "uid_map", m, 2, &err);
	FILE *f = NULL;
	if (rc == 0) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		f = fopen(path, "r");
	}
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	if (rc < 0)
		fail_msg("write: %s", err.msg);
	assert_string_equal(buf, "         0     100000       1000\n      1000     200000         10\n");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* A second write is refused by the kernel: the error names the file. */
	assert_int_equal(pd_idmap_write(getpid(), "uid_map", m, 1, &err), -1);
	assert_non_null(strstr(err.msg, "uid_map"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_to_host),
	    cmocka_unit_test(test_userns_check),
	    cmocka_unit_test(test_write),
	};
	PD_SKIP_UNLESS_ROOT("a new user namespace's map");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
