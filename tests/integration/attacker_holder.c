/* Host integration tests of the shared pid namespace's PID 1 (issue 11 item 2): a container
 * of the sandbox's pid namespace with CAP_SYS_PTRACE and CAP_SYS_ADMIN attacks the holder
 * through /proc/1 (tests/payload/pdtest.c holder-probe) and must find nothing of the agent:
 * an empty read-only root and cwd, no fd, no capability, no_new_privs, seccomp, uid 65534,
 * a fresh image whose memory lacks the sandbox id (the agent's memory has it), namespaces
 * of its own. docs/security.md, "The shared pid namespace's PID 1".
 *
 *   attacker_holder --create-sandbox ADDR SANDBOX_ID --pidns
 *   attacker_holder ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 * SANDBOX_ID is the marker the memory scan looks for: make it unique. The last case is
 * DestroySandbox. */
#include <signal.h>

#include "itest.h"

#define HOLDER "pidns-holder" /* its comm and argv[0] (agent/sandbox/pidns_holder.h) */
#define ZERO   "0000000000000000"

/* The agent's child whose comm is the holder's; 0 if none. */
static int holder_pid(struct it *t)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->agent, (int)t->agent);
	char *ch = it_read_file(path, NULL), *save = NULL;
	int found = 0;
	for (char *p = ch ? strtok_r(ch, " \n", &save) : NULL; p && !found;
	     p = strtok_r(NULL, " \n", &save)) {
		char comm_path[64];
		snprintf(comm_path, sizeof(comm_path), "/proc/%s/comm", p);
		char *comm = it_read_file(comm_path, NULL);
		if (comm && !strcmp(comm, HOLDER "\n"))
			found = atoi(p);
		free(comm);
	}
	free(ch);
	return found;
}

/* The value after "KEY:" and blanks on its line of text; "(no such line)" if none. */
static const char *line_of(const char *text, const char *key, char *buf, size_t size)
{
	size_t k = strlen(key);
	snprintf(buf, size, "(no such line)");
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':') {
			const char *v = l + k + 1 + strspn(l + k + 1, " \t");
			snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
			break;
		}
	return buf;
}

#define LINE(key) line_of(out, (key), (char[512]){0}, 512)
#define CHECK_LINE(key, want)                                                                      \
	EXPECT(!strcmp(LINE(key), (want)), "%s: \"%s\", want \"%s\"", (key), LINE(key), (want))

/* holder-probe in a container of the shared namespace, with CAP_SYS_PTRACE and CAP_SYS_ADMIN
 * on top of Docker's default set; its output in io. */
static int probe(struct it *t, const char *cid, struct it_io *io)
{
	struct it_spec s;
	size_t n;
	char **defaults = it_default_caps(&n);
	char *caps[IT_MAX_ITEMS];
	int st = -1;
	memcpy(caps, defaults, n * sizeof(*caps));
	caps[n++] = "CAP_SYS_PTRACE";
	caps[n++] = "CAP_SYS_ADMIN";
	it_spec_default(&s, t->rootfs);
	it_spec_caps(&s, caps, n);
	it_spec_args(&s, "/bin/pdtest", "holder-probe", t->sandbox, NULL);
	if (it_run(t, cid, &s, io, &st) < 0)
		return -1;
	if (st != 0)
		return it_why(t, "holder-probe exited %d: %s", st, IT_SHOW(io->err.p, io->err.len));
	return 0;
}

/* What a new network namespace has: lo, and the fallback device of each tunnel module the
 * kernel has (sit0 with the sit driver built in, as in the guest). */
static bool fresh_netns_links(const char *links)
{
	static const char *const fresh[] = {"lo",     "sit0",   "tunl0",    "ip6tnl0", "gre0",
					    "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "ip6gre0"};
	char buf[512], *save = NULL;
	bool lo = false;
	snprintf(buf, sizeof(buf), "%s", links);
	for (char *l = strtok_r(buf, " ", &save); l; l = strtok_r(NULL, " ", &save)) {
		size_t i = 0;
		while (i < IT_N(fresh) && strcmp(l, fresh[i]))
			i++;
		if (i == IT_N(fresh))
			return false;
		lo |= i == 0;
	}
	return lo;
}

/* Everything a privileged container could learn of its pid 1, checked. */
static int expect_empty_holder(struct it *t, const char *out)
{
	static const char *const caps[] = {"status CapInh", "status CapPrm", "status CapEff",
					   "status CapBnd", "status CapAmb"};
	char mi[512];
	int rc = -1;
	CHECK_LINE("comm", "13 bytes " HOLDER "|");
	CHECK_LINE("cmdline", "13 bytes " HOLDER "|");
	CHECK_LINE("environ", "0 bytes ");
	CHECK_LINE("root", "(empty)");
	CHECK_LINE("cwd", "(empty)");
	CHECK_LINE("fd", "(empty)");
	/* One mount: the read-only tmpfs at "/" (mountinfo: id parent dev root mountpoint opts). */
	snprintf(mi, sizeof(mi), "%s", LINE("mountinfo"));
	EXPECT(strstr(mi, " / / ro,") && strstr(mi, " - tmpfs ") && strchr(mi, '|') &&
		   strchr(mi, '|') == mi + strlen(mi) - 1,
	       "mountinfo: \"%s\", want one read-only tmpfs at /", mi);
	for (size_t i = 0; i < IT_N(caps); i++)
		EXPECT(!strcmp(it_squeeze(LINE(caps[i]), true, (char[64]){0}, 64), ZERO),
		       "%s: \"%s\", want " ZERO, caps[i], LINE(caps[i]));
	EXPECT(!strcmp(it_squeeze(LINE("status NoNewPrivs"), true, (char[64]){0}, 64), "1"),
	       "NoNewPrivs: \"%s\", want 1", LINE("status NoNewPrivs"));
	EXPECT(!strcmp(it_squeeze(LINE("status Seccomp"), true, (char[64]){0}, 64), "2"),
	       "Seccomp: \"%s\", want 2 (filter)", LINE("status Seccomp"));
	EXPECT(!strcmp(it_squeeze(LINE("status Uid"), true, (char[64]){0}, 64),
		       "65534 65534 65534 65534") &&
		   !strcmp(it_squeeze(LINE("status Gid"), true, (char[64]){0}, 64),
			   "65534 65534 65534 65534") &&
		   !strcmp(LINE("status Groups"), ""),
	       "ids: Uid \"%s\" Gid \"%s\" Groups \"%s\", want 65534 and none",
	       LINE("status Uid"), LINE("status Gid"), LINE("status Groups"));
	/* The attack was real: pid 1 could be traced and its memory read. */
	CHECK_LINE("ptrace", "attached");
	long long bytes = atoll(LINE("memory"));
	EXPECT(bytes > 0 && strstr(LINE("memory"), "marker absent"),
	       "memory: \"%s\", want some bytes read and no sandbox id in them", LINE("memory"));
	CHECK_LINE("setns-mnt-root", "(empty)");
	CHECK_LINE("setns-mnt-fstype", "tmpfs");
	EXPECT(fresh_netns_links(LINE("setns-net-links")),
	       "setns-net-links: \"%s\", want lo and fallback tunnels only (a new namespace)",
	       LINE("setns-net-links"));
	rc = 0;
out:
	return rc;
}

static int case_probe(struct it *t)
{
	struct it_io io = {0};
	int rc = -1;
	EXPECT(holder_pid(t) > 0, "no holder");
	TRY(probe(t, "holder-probe", &io));
	rc = expect_empty_holder(t, it_buf_str(&io.out));
out:
	if (rc < 0)
		fprintf(stderr, "# holder-probe said:\n%s", it_buf_str(&io.out));
	it_io_free(&io);
	it_cleanup(t, "holder-probe", &rc);
	return rc;
}

/* From the host: the holder's namespaces are none of the agent's (but its pid namespace's
 * parent), its image is the agent's binary exec'd afresh, and it still runs after the
 * probe traced it. */
static int case_host_view(struct it *t)
{
	static const char *const kinds[] = {"mnt", "net", "ipc", "uts", "cgroup"};
	char a[64], h[64], exe_a[PATH_MAX] = "", exe_h[PATH_MAX] = "";
	int hp = holder_pid(t), rc = -1;
	EXPECT(hp > 0, "no holder");
	for (size_t i = 0; i < IT_N(kinds); i++) {
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)t->agent, kinds[i]);
		snprintf(h, sizeof(h), "/proc/%d/ns/%s", hp, kinds[i]);
		EXPECT(it_ns_ino(h) && it_ns_ino(a) && it_ns_ino(h) != it_ns_ino(a),
		       "the holder's %s namespace %lu, the agent's %lu: want different", kinds[i],
		       it_ns_ino(h), it_ns_ino(a));
	}
	snprintf(a, sizeof(a), "/proc/%d/exe", (int)t->agent);
	snprintf(h, sizeof(h), "/proc/%d/exe", hp);
	EXPECT(readlink(a, exe_a, sizeof(exe_a) - 1) > 0 && readlink(h, exe_h, sizeof(exe_h) - 1) > 0 &&
		   !strcmp(exe_a, exe_h),
	       "the holder runs \"%s\", the agent \"%s\"", exe_h, exe_a);
	snprintf(h, sizeof(h), "/proc/%d/status", hp);
	char *status = it_read_file(h, NULL);
	char f[64];
	bool state_ok = status && (!strcmp(it_status_field(status, "State", f, sizeof(f)), "S (sleeping)"));
	free(status);
	EXPECT(state_ok, "the holder's state: \"%s\", want S (sleeping): it waits for children", f);
	rc = 0;
out:
	return rc;
}

/* An orphan of a container reparents to the holder (pid 1 of the namespace), which reaps it:
 * wait4 is in its seccomp filter, and no zombie is left. The orphan says whose it became in
 * a file of the rootfs (the container's output ends when its init exits). */
static int case_orphan_reaped(struct it *t)
{
	struct it_spec s;
	struct it_io io = {0};
	char path[PATH_MAX], *said = NULL, *ch = NULL;
	int st = -1, rc = -1, hp = holder_pid(t);
	EXPECT(hp > 0, "no holder");
	snprintf(path, sizeof(path), "%s/tmp/orphan", t->rootfs);
	unlink(path);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "/bin/pdtest", "orphan", "/tmp/orphan", NULL);
	TRY(it_run(t, "holder-orphan", &s, &io, &st));
	EXPECT(st == 0, "orphan: exit %d, stdout %s", st, IT_SHOW(io.out.p, io.out.len));
	for (int64_t end = it_now_ms() + 10000; it_now_ms() < end; it_sleep_ms(20)) {
		free(said);
		said = it_read_file(path, NULL);
		if (said && strchr(said, '\n'))
			break;
	}
	EXPECT(said && !strcmp(said, "orphan of 1\n"), "the orphan said %s, want \"orphan of 1\"",
	       said ? IT_SHOW(said, strlen(said)) : "nothing in 10 s");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", hp, hp);
	for (int64_t end = it_now_ms() + 10000; it_now_ms() < end; it_sleep_ms(20)) {
		free(ch);
		ch = it_read_file(path, NULL);
		if (ch && !ch[strspn(ch, " \n")])
			break;
	}
	EXPECT(ch && !ch[strspn(ch, " \n")], "the holder still has children (%s) 10 s later",
	       ch ? ch : "unreadable");
	EXPECT(kill(hp, 0) == 0 && holder_pid(t) == hp, "the holder %d is gone", hp);
	rc = 0;
out:
	free(said);
	free(ch);
	it_io_free(&io);
	it_cleanup(t, "holder-orphan", &rc);
	return rc;
}

/* The holder killed: the next container starts a new one, made the same way (the agent's
 * memory has the sandbox id and containers by now). */
static int case_replacement_as_empty(struct it *t)
{
	struct it_io io = {0};
	int hp = holder_pid(t), hp2 = 0, rc = -1;
	EXPECT(hp > 0, "no holder");
	EXPECT(kill(hp, SIGKILL) == 0, "kill the holder: %s", strerror(errno));
	for (int i = 0; i < 200 && kill(hp, 0) == 0; i++)
		it_sleep_ms(20); /* gone from the host's view: the agent reaped it */
	TRY(probe(t, "holder-probe-2", &io));
	hp2 = holder_pid(t);
	EXPECT(hp2 > 0 && hp2 != hp, "holder %d after %d was killed", hp2, hp);
	rc = expect_empty_holder(t, it_buf_str(&io.out));
out:
	if (rc < 0)
		fprintf(stderr, "# holder-probe said:\n%s", it_buf_str(&io.out));
	it_io_free(&io);
	it_cleanup(t, "holder-probe-2", &rc);
	return rc;
}

/* DestroySandbox ends the holder (and the agent stops after it). */
static int case_destroy_ends_holder(struct it *t)
{
	int hp = holder_pid(t), rc = -1;
	EXPECT(hp > 0, "no holder before DestroySandbox");
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	TRY(it_ok(t, "DestroySandbox", &req.base, NULL, NULL));
	for (int i = 0; i < 100 && kill(hp, 0) == 0; i++)
		it_sleep_ms(50);
	EXPECT(kill(hp, 0) < 0 && errno == ESRCH, "the holder %d still runs", hp);
	rc = 0;
out:
	return rc;
}

static const struct it_case cases[] = {
    {"holder_probe_finds_nothing", case_probe},
    {"holder_host_view", case_host_view},
    {"holder_reaps_orphans", case_orphan_reaped},
    {"holder_replacement_finds_nothing", case_replacement_as_empty},
    {"holder_destroy_sandbox_ends_it", case_destroy_ends_holder},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return it_create_sandbox(argc, argv, true, "create_sandbox_pidns");
	if (it_init(&t, argc, argv) < 0)
		return 2;
	it_run_cases(&t, cases);
	return it_finish(&t, "attacker_holder");
}
