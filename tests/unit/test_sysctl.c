/* Linux.Sysctl (agent/container/sysctl.c and its conversion in agent/rpc/oci_spec.c):
 *
 * 1. key and value syntax, the /proc/sys path of a key (dotted and runc's slash form),
 *    and which namespace a key belongs to — table-driven;
 * 2. pd_sysctls_check: namespaced keys only, and only with a namespace that is not the
 *    agent's own (a listed namespace joined by path may be ours);
 * 3. the spec conversion: Linux.Sysctl reaches the config, bad entries name the key;
 * 4. pd_sysctls_apply in forked children with new ipc/net namespaces: the value lands in
 *    the child's namespace and not in ours; kernel refusals come back named. Needs root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/sysctl.h"
#include "agent/rpc/oci_spec.h"
#include "oci.pb-c.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- 1. syntax, paths, namespaces -------------------------------------------------------- */

static void test_syntax(void **state)
{
	static const char *const good[] = {"kernel.msgmax",
					   "net.ipv4.ip_forward",
					   "net.ipv4.conf.eth0/100.rp_filter",
					   "net/ipv4/conf/eth0.100/rp_filter",
					   "fs.mqueue.msg_max",
					   "net.ipv6.conf.veth-A1.mtu"};
	static const char *const bad[] = {"",
					  ".",
					  "kernel..msgmax",
					  ".kernel.msgmax",
					  "kernel.",
					  "kernel/../x",
					  "net.ipv4.//.x",
					  "net.a b",
					  "kernel.msgmax\n",
					  "net.ipv4.*",
					  "/net/ipv4"};
	struct pd_error err = {0};
	char big[PD_SYSCTL_VALUE_MAX + 2];
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (pd_sysctl_check_syntax(good[i], "1", &err) < 0)
			fail_msg("%s refused: %s", good[i], err.msg);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (pd_sysctl_check_syntax(bad[i], "1", &err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		assert_non_null(strstr(err.msg, "Linux.Sysctl"));
	}
	assert_int_equal(pd_sysctl_check_syntax("kernel.sem", "250 32000\t32 128", &err), 0);
	assert_int_equal(pd_sysctl_check_syntax("kernel.sem", "", &err), -1);
	assert_non_null(strstr(err.msg, "kernel.sem"));
	assert_int_equal(pd_sysctl_check_syntax("kernel.sem", "1\n2", &err), -1);
	assert_non_null(strstr(err.msg, "newline"));
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pd_sysctl_check_syntax("kernel.msgmax", big, &err), -1);
	big[PD_SYSCTL_VALUE_MAX] = '\0';
	assert_int_equal(pd_sysctl_check_syntax("kernel.msgmax", big, &err), 0);
}

static void test_paths(void **state)
{
	static const char *const cases[][2] = {
	    {"kernel.msgmax", "kernel/msgmax"},
	    {"net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
	    {"net/ipv4/conf/eth0.100/rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
	    {"fs.mqueue.queues_max", "fs/mqueue/queues_max"},
	};
	char buf[128];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(pd_sysctl_path(cases[i][0], buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i][1]);
	}
	assert_int_equal(pd_sysctl_path("net.ipv4.//.x", buf, sizeof(buf)), -1);
	assert_int_equal(pd_sysctl_path("net/../x", buf, sizeof(buf)), -1);
	assert_int_equal(pd_sysctl_path("kernel.msgmax", buf, 13), -1); /* no room for NUL */
}

static void test_namespace_of_key(void **state)
{
	static const struct {
		const char *key;
		int ns;
	} cases[] = {
	    {"kernel.msgmax", PD_NS_IPC},
	    {"kernel.msgmnb", PD_NS_IPC},
	    {"kernel.msgmni", PD_NS_IPC},
	    {"kernel.sem", PD_NS_IPC},
	    {"kernel.shmall", PD_NS_IPC},
	    {"kernel.shmmax", PD_NS_IPC},
	    {"kernel.shmmni", PD_NS_IPC},
	    {"kernel.shm_rmid_forced", PD_NS_IPC},
	    {"fs.mqueue.msg_max", PD_NS_IPC},
	    {"kernel/shmmax", PD_NS_IPC},
	    {"net.ipv4.ip_forward", PD_NS_NET},
	    {"net/ipv4/ip_forward", PD_NS_NET},
	    {"kernel.domainname", PD_NS_UTS},
	    {"kernel.hostname", -1},
	    {"kernel.pid_max", -1},
	    {"kernel.msgmax_not", -1},
	    {"vm.swappiness", -1},
	    {"fs.mqueue.", -1},
	    {"fs.file-max", -1},
	    {"net.", -1},
	    {"kernel.shm_next_id", -1},
	    {"netfilter.x", -1},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (pd_sysctl_namespace(cases[i].key) != cases[i].ns)
			fail_msg("%s: namespace %d, want %d", cases[i].key,
				 pd_sysctl_namespace(cases[i].key), cases[i].ns);
}

/* ---- 2. the namespace check -------------------------------------------------------------- */

static struct pd_container_config cfg_with(const char *key, struct pd_sysctl *one)
{
	struct pd_container_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	one->key = (char *)key;
	one->value = "1";
	cfg.sysctls = one;
	cfg.n_sysctls = 1;
	cfg.ns[PD_NS_MNT].enabled = true;
	return cfg;
}

static void expect_refused(const struct pd_container_config *cfg, const char *hint)
{
	struct pd_error err = {0};
	if (pd_sysctls_check(cfg, &err) == 0)
		fail_msg("%s: accepted", cfg->sysctls[0].key);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	if (!strstr(err.msg, hint))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, hint);
}

static void expect_allowed(const struct pd_container_config *cfg)
{
	struct pd_error err = {0};
	if (pd_sysctls_check(cfg, &err) < 0)
		fail_msg("%s: %s", cfg->sysctls[0].key, err.msg);
}

/* A child in new ipc/net/uts namespaces that waits to be killed: namespaces not ours. */
static pid_t other_namespaces(void)
{
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c = unshare(CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS) == 0;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c = 0;
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(c, 1);
	return pid;
}

static void test_check_namespaces(void **state)
{
	struct pd_sysctl one;
	struct pd_container_config cfg;
	char other[3][64];
	pid_t pid = other_namespaces();
	snprintf(other[0], sizeof(other[0]), "/proc/%d/ns/ipc", (int)pid);
	snprintf(other[1], sizeof(other[1]), "/proc/%d/ns/net", (int)pid);
	snprintf(other[2], sizeof(other[2]), "/proc/%d/ns/uts", (int)pid);

	/* ipc: a new one, or one that is not ours, like the sandbox's */
	cfg = cfg_with("kernel.msgmax", &one);
	expect_refused(&cfg, "needs an ipc namespace");
	cfg.ns[PD_NS_IPC].enabled = true;
	expect_allowed(&cfg);
	cfg.ns[PD_NS_IPC].path = other[0];
	expect_allowed(&cfg);
	cfg.ns[PD_NS_IPC].path = "/proc/self/ns/ipc";
	expect_refused(&cfg, "'kernel.msgmax' needs an ipc namespace of the container's own");
	cfg.ns[PD_NS_IPC].path = "/nonexistent/ns/ipc";
	struct pd_error err = {0};
	assert_int_equal(pd_sysctls_check(&cfg, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/ns/ipc"));

	/* net: the VM's (shared) network is the agent's own */
	cfg = cfg_with("net.ipv4.ip_forward", &one);
	cfg.ns[PD_NS_IPC].enabled = cfg.ns[PD_NS_UTS].enabled = true;
	expect_refused(&cfg, "'net.ipv4.ip_forward' needs a network namespace");
	cfg.ns[PD_NS_NET].enabled = true;
	expect_allowed(&cfg);
	cfg.ns[PD_NS_NET].path = other[1];
	expect_allowed(&cfg);
	cfg.ns[PD_NS_NET].path = "/proc/self/ns/net";
	expect_refused(&cfg, "needs a network namespace");

	/* uts */
	cfg = cfg_with("kernel.domainname", &one);
	expect_refused(&cfg, "needs a uts namespace");
	cfg.ns[PD_NS_UTS].enabled = true;
	cfg.ns[PD_NS_UTS].path = other[2];
	expect_allowed(&cfg);
	cfg = cfg_with("kernel.hostname", &one);
	cfg.ns[PD_NS_UTS].enabled = true;
	expect_refused(&cfg, "the Hostname field sets it");

	/* not namespaced at all, whatever the namespaces */
	static const char *const global[] = {"kernel.pid_max", "vm.swappiness", "fs.file-max",
					     "kernel.shm_next_id", "kernel.core_pattern"};
	for (size_t i = 0; i < ARRAY_LEN(global); i++) {
		cfg = cfg_with(global[i], &one);
		for (int t = 0; t < PD_NS_COUNT; t++)
			cfg.ns[t].enabled = true;
		expect_refused(&cfg, "is not namespaced");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- 3. through the spec ----------------------------------------------------------------- */

struct spec {
	Grpc__Spec spec;
	Grpc__Process proc;
	Grpc__Root root;
	Grpc__Linux lx;
	Grpc__LinuxNamespace mnt;
	Grpc__LinuxNamespace *nsp[1];
	char *args[1];
	Grpc__Linux__SysctlEntry entries[2];
	Grpc__Linux__SysctlEntry *entryp[2];
};

static void spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	grpc__spec__init(&s->spec);
	grpc__process__init(&s->proc);
	grpc__root__init(&s->root);
	grpc__linux__init(&s->lx);
	grpc__linux_namespace__init(&s->mnt);
	s->spec.process = &s->proc;
	s->spec.root = &s->root;
	s->spec.linux_ = &s->lx;
	s->args[0] = "true";
	s->proc.args = s->args;
	s->proc.n_args = 1;
	s->root.path = "/rootfs";
	s->mnt.type = "mount";
	s->nsp[0] = &s->mnt;
	s->lx.namespaces = s->nsp;
	s->lx.n_namespaces = 1;
	for (int i = 0; i < 2; i++) {
		grpc__linux__sysctl_entry__init(&s->entries[i]);
		s->entryp[i] = &s->entries[i];
	}
	s->entries[0].key = "kernel.msgmax";
	s->entries[0].value = "65536";
	s->entries[1].key = "net.ipv4.ip_forward";
	s->entries[1].value = "1";
	s->lx.sysctl = s->entryp;
	s->lx.n_sysctl = 2;
}

static void test_through_spec(void **state)
{
	struct spec s;
	struct pd_container_config cfg;
	struct pd_error err = {0};
	spec_init(&s);
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_spec_to_config(&s.spec, "ctr1", &cfg, &err), 0);
	assert_int_equal(cfg.n_sysctls, 2);
	assert_string_equal(cfg.sysctls[0].key, "kernel.msgmax");
	assert_string_equal(cfg.sysctls[0].value, "65536");
	assert_string_equal(cfg.sysctls[1].key, "net.ipv4.ip_forward");
	pd_arena_free(&cfg.arena);

	s.entries[1].key = "net/../../x";
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_spec_to_config(&s.spec, "ctr1", &cfg, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "Linux.Sysctl: 'net/../../x' is not a sysctl name"));
	pd_arena_free(&cfg.arena);

	static Grpc__Linux__SysctlEntry *many[PD_MAX_SYSCTLS + 1];
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = &s.entries[0];
	s.lx.sysctl = many;
	s.lx.n_sysctl = ARRAY_LEN(many);
	pd_arena_init(&cfg.arena, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_spec_to_config(&s.spec, "ctr1", &cfg, &err), -1);
	assert_non_null(strstr(err.msg, "Linux.Sysctl: 257 entries, at most 256"));
	pd_arena_free(&cfg.arena);
}

/* ---- 4. writing -------------------------------------------------------------------------- */

static int fails;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mismatch: " __VA_ARGS__);                                 \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static int child_apply(void)
{
	struct pd_sysctl ok[] = {
	    {"kernel.msgmax", "65536"}, {"net/ipv4/ip_forward", "1"}, {"fs.mqueue.msg_max", "20"}};
	struct pd_sysctl bad_value[] = {{"kernel.msgmax", "lots"}};
	struct pd_sysctl missing[] = {{"net.ipv4.no_such_thing", "1"}};
	struct pd_error err = {0};
	if (unshare(CLONE_NEWIPC | CLONE_NEWNET) < 0)
		return -1;
	EXPECT(pd_sysctls_apply(ok, ARRAY_LEN(ok), &err) == 0, "apply: %s", err.msg);
	EXPECT(read_long("/proc/sys/kernel/msgmax") == 65536, "msgmax not set");
	EXPECT(read_long("/proc/sys/net/ipv4/ip_forward") == 1, "ip_forward not set");
	EXPECT(read_long("/proc/sys/fs/mqueue/msg_max") == 20, "msg_max not set");
	EXPECT(pd_sysctls_apply(bad_value, 1, &err) < 0, "'lots' accepted");
	EXPECT(err.code == PD_INVALID_ARGUMENT && strstr(err.msg, "sysctl kernel.msgmax=lots"),
	       "bad value: %d %s", err.code, err.msg);
	EXPECT(pd_sysctls_apply(missing, 1, &err) < 0, "a missing key accepted");
	EXPECT(err.code == PD_NOT_FOUND && strstr(err.msg, "net.ipv4.no_such_thing"),
	       "missing key: %d %s", err.code, err.msg);
	return 0;
}

static void test_apply_in_own_namespaces(void **state)
{
	long msgmax = read_long("/proc/sys/kernel/msgmax");
	long forward = read_long("/proc/sys/net/ipv4/ip_forward");
	long msg_max = read_long("/proc/sys/fs/mqueue/msg_max");
	assert_true(msgmax > 0 && msgmax != 65536);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_apply() == 0 && fails == 0 ? 0 : 1);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* ours did not move */
	assert_int_equal(read_long("/proc/sys/kernel/msgmax"), msgmax);
	assert_int_equal(read_long("/proc/sys/net/ipv4/ip_forward"), forward);
	assert_int_equal(read_long("/proc/sys/fs/mqueue/msg_max"), msg_max);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax),	     cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_namespace_of_key), cmocka_unit_test(test_check_namespaces),
	    cmocka_unit_test(test_through_spec),     cmocka_unit_test(test_apply_in_own_namespaces),
	};
	PD_SKIP_UNLESS_ROOT("new ipc and net namespaces");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
