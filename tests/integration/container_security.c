/* Host integration tests of container confinement (issue 3), end to end over ttRPC:
 * capabilities and no_new_privs as /proc/self/status shows them, the mount table, masked
 * and read-only paths, a read-only root, device nodes, and bad specs (relative paths, "..",
 * a symlinked rootfs, a mount destination that is a symlink out of the rootfs, an unknown
 * capability, ...) that must fail with a clear error and leave nothing behind. Issue 4:
 * seccomp filters (errno and kill rules, on the init and on execs, with and without
 * no_new_privs) and sysctls (applied in the container's namespaces only; one of a
 * namespace the container does not own is refused).
 *
 *   container_security ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]   (itest.h) */
#include <signal.h>

#include "itest.h"

/* Exec args (NULL-terminated) in cid as root with the container's capabilities; stdout,
 * stderr and status in io/st. */
static int exec_args(struct it *t, const char *cid, struct it_io *io, int *st, const char *a0, ...)
{
	static unsigned seq;
	struct it_spec e;
	char eid[32];
	va_list ap;
	it_spec_default(&e, t->rootfs);
	e.proc.capabilities = NULL; /* inherit the container's */
	va_start(ap, a0);
	e.proc.n_args = it_strv(e.args, a0, ap);
	va_end(ap);
	snprintf(eid, sizeof(eid), "x%u", ++seq);
	it_io_free(io);
	return it_exec_run(t, cid, eid, &e.proc, io, st);
}

/* ---- capabilities and no_new_privs ------------------------------------------------------ */

static int expect_status(struct it *t, const char *text, const char *key, const char *want)
{
	char f[256];
	if (strcmp(it_status_field(text, key, f, sizeof(f)), want) != 0)
		return it_why(t, "%s: %s, want %s", key, f[0] ? f : "(missing)", want);
	return 0;
}

static int run_status(struct it *t, const char *cid, struct it_spec *s, struct it_io *io)
{
	int st = -1;
	it_spec_args(s, "status", NULL);
	if (it_run(t, cid, s, io, &st) < 0)
		return -1;
	if (st != 0)
		return it_why(t, "status exited %d: %s", st, IT_SHOW(io->err.p, io->err.len));
	return 0;
}

/* Docker's default set in bounding, effective and permitted; nothing inheritable or
 * ambient; no_new_privs on. */
static int case_caps_default(struct it *t)
{
	const char *cid = "caps-default";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	TRY(run_status(t, cid, &s, &io));
	const char *txt = it_buf_str(&io.out);
	TRY(expect_status(t, txt, "CapInh", "0000000000000000"));
	TRY(expect_status(t, txt, "CapPrm", "00000000a80425fb"));
	TRY(expect_status(t, txt, "CapEff", "00000000a80425fb"));
	TRY(expect_status(t, txt, "CapBnd", "00000000a80425fb"));
	TRY(expect_status(t, txt, "CapAmb", "0000000000000000"));
	TRY(expect_status(t, txt, "NoNewPrivs", "1"));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_nnp_off(struct it *t)
{
	const char *cid = "nnp-off";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	s.proc.nonewprivileges = false;
	TRY(run_status(t, cid, &s, &io));
	TRY(expect_status(t, it_buf_str(&io.out), "NoNewPrivs", "0"));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A non-root user with CAP_KILL and CAP_NET_BIND_SERVICE in all five sets: ambient makes
 * them effective after exec. */
static int case_caps_ambient_user(struct it *t)
{
	const char *cid = "caps-ambient";
	static char *two[] = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_caps(&s, two, 2);
	s.caps.inheritable = s.caps.ambient = two;
	s.caps.n_inheritable = s.caps.n_ambient = 2;
	s.user.uid = 1000;
	s.user.gid = 1000;
	TRY(run_status(t, cid, &s, &io));
	const char *txt = it_buf_str(&io.out);
	const char *keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	for (int i = 0; i < 5; i++)
		TRY(expect_status(t, txt, keys[i], "0000000000000420"));
	TRY(expect_status(t, txt, "Uid", "1000 1000 1000 1000"));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* An exec without capabilities gets the container's; one with its own gets those. */
static int case_caps_exec(struct it *t)
{
	const char *cid = "caps-exec";
	static char *kill_only[] = {"CAP_KILL"};
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	TRY(exec_args(t, cid, &io, &st, "status", NULL));
	EXPECT(st == 0, "status exited %d", st);
	TRY(expect_status(t, it_buf_str(&io.out), "CapEff", "00000000a80425fb"));
	TRY(expect_status(t, it_buf_str(&io.out), "NoNewPrivs", "1"));
	it_io_free(&io);
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "status", NULL);
	it_spec_caps(&e, kill_only, 1);
	TRY(it_exec_run(t, cid, "own-caps", &e.proc, &io, &st));
	EXPECT(st == 0, "status exited %d", st);
	TRY(expect_status(t, it_buf_str(&io.out), "CapEff", "0000000000000020"));
	TRY(expect_status(t, it_buf_str(&io.out), "CapBnd", "0000000000000020"));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- the mount table -------------------------------------------------------------------- */

struct mnt_line {
	char point[256], opts[256], fstype[64], super[256];
};

/* One line of /proc/self/mountinfo: "id parent maj:min root point opts [optional...] -
 * fstype source super". */
static bool parse_mountinfo_line(const char *line, struct mnt_line *m)
{
	if (sscanf(line, "%*d %*d %*s %*s %255s %255s", m->point, m->opts) != 2)
		return false;
	const char *dash = strstr(line, " - ");
	return dash && sscanf(dash + 3, "%63s %*s %255s", m->fstype, m->super) == 2;
}

static bool has_opt(const char *list, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

struct want_mount {
	const char *point, *fstype, *opts[3], *super[3];
	bool if_on_host; /* a masked or read-only path: only if this kernel has it */
};

static const struct want_mount want_mounts[] = {
    {"/proc", "proc", {"nosuid", "nodev", "noexec"}, {NULL}, false},
    {"/dev", "tmpfs", {"nosuid"}, {"size=65536k", "mode=755"}, false},
    {"/dev/pts", "devpts", {"nosuid", "noexec"}, {"mode=620", "ptmxmode=666"}, false},
    /* tmpfs shows mode= only when it is not 1777 */
    {"/dev/shm", "tmpfs", {"nosuid", "nodev", "noexec"}, {"size=65536k"}, false},
    {"/dev/mqueue", "mqueue", {"nosuid", "nodev", "noexec"}, {NULL}, false},
    {"/sys", "sysfs", {"ro", "nosuid", "nodev"}, {NULL}, false},
    {"/proc/sys", NULL, {"ro"}, {NULL}, true},
    {"/proc/bus", NULL, {"ro"}, {NULL}, true},
    {"/proc/fs", NULL, {"ro"}, {NULL}, true},
    {"/proc/irq", NULL, {"ro"}, {NULL}, true},
    {"/proc/sysrq-trigger", NULL, {"ro"}, {NULL}, true},
    {"/proc/kcore", NULL, {NULL}, {NULL}, true},
    {"/proc/keys", NULL, {NULL}, {NULL}, true},
    {"/sys/firmware", NULL, {"ro"}, {NULL}, true},
};

static int check_mount(struct it *t, const struct mnt_line *m, const struct want_mount *w)
{
	if (w->fstype && strcmp(m->fstype, w->fstype) != 0)
		return it_why(t, "%s is %s, want %s", w->point, m->fstype, w->fstype);
	for (int i = 0; i < 3 && w->opts[i]; i++)
		if (!has_opt(m->opts, w->opts[i]))
			return it_why(t, "%s has options %s, want %s", w->point, m->opts,
				      w->opts[i]);
	for (int i = 0; i < 3 && w->super[i]; i++)
		if (!has_opt(m->super, w->super[i]))
			return it_why(t, "%s has fs options %s, want %s", w->point, m->super,
				      w->super[i]);
	return 0;
}

/* The spec's mounts with their options, the masks, and nothing of the agent's or the
 * host's mounts: every mount point is "/", a spec mount, or under /proc, /sys or /dev. */
static int case_mountinfo(struct it *t)
{
	const char *cid = "mountinfo";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	bool seen[IT_N(want_mounts)] = {false}, root = false;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", "/proc/self/mountinfo", NULL);
	TRY(it_run(t, cid, &s, &io, &st));
	EXPECT(st == 0, "cat /proc/self/mountinfo exited %d", st);
	char *save = NULL, *text = strdup(it_buf_str(&io.out));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct mnt_line m;
		if (!parse_mountinfo_line(l, &m)) {
			it_why(t, "cannot parse mountinfo line \"%s\"", l);
			free(text);
			goto out;
		}
		root |= strcmp(m.point, "/") == 0;
		bool known = strcmp(m.point, "/") == 0 || !strncmp(m.point, "/proc/", 6) ||
			     !strncmp(m.point, "/sys/", 5) || !strncmp(m.point, "/dev/", 5);
		for (size_t i = 0; i < IT_N(want_mounts); i++) {
			if (strcmp(m.point, want_mounts[i].point) != 0)
				continue;
			known = seen[i] = true;
			if (check_mount(t, &m, &want_mounts[i]) < 0) {
				free(text);
				goto out;
			}
		}
		if (!known) {
			it_why(t, "unexpected mount point %s (%s)", m.point, m.fstype);
			free(text);
			goto out;
		}
	}
	free(text);
	EXPECT(root, "no mount on / in %s", IT_SHOW(io.out.p, io.out.len));
	for (size_t i = 0; i < IT_N(want_mounts); i++)
		EXPECT(seen[i] ||
			   (want_mounts[i].if_on_host && access(want_mounts[i].point, F_OK) < 0),
		       "no mount on %s", want_mounts[i].point);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- masked and read-only paths, read-only root, devices ------------------------------- */

static int expect_exec(struct it *t, const char *cid, const char *want_out, int want_st,
		       const char *a0, const char *a1)
{
	struct it_io io = {0};
	int st = -1;
	char what[256];
	snprintf(what, sizeof(what), "%s %s", a0, a1 ? a1 : "");
	int rc = exec_args(t, cid, &io, &st, a0, a1, NULL);
	if (rc == 0)
		rc = it_expect_out(t, what, &io, st, want_out, want_st);
	it_io_free(&io);
	return rc;
}

static int case_masked_paths(struct it *t)
{
	const char *cid = "masked-paths";
	struct it_spec s;
	int rc = -1;
	TRY(it_up_sleeping(t, cid, &s));
	const char *files[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
			       "/proc/latency_stats"};
	for (size_t i = 0; i < IT_N(files); i++) {
		if (access(files[i], F_OK) < 0)
			continue; /* not in this kernel: nothing to mask */
		TRY(expect_exec(t, cid, "", 0, "cat", files[i]));
		TRY(expect_exec(t, cid, "20666 1:3\n", 0, "stat", files[i]));
	}
	/* A masked directory: an empty read-only tmpfs. */
	TRY(expect_exec(t, cid, "Read-only file system\n", 1, "write", "/sys/firmware/x"));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_readonly_paths(struct it *t)
{
	const char *cid = "readonly-paths";
	/* Files under the read-only paths; opening one for writing is refused by the mount
	 * before the file is touched. Those this kernel lacks are skipped (and a name that
	 * does not exist would not do: procfs answers ENOENT before the mount is asked). */
	static const char *const ro[] = {"/proc/sys/kernel/domainname", "/proc/sysrq-trigger",
					 "/proc/irq/default_smp_affinity"};
	struct it_spec s;
	char host[PATH_MAX];
	int rc = -1;
	TRY(it_up_sleeping(t, cid, &s));
	for (size_t i = 0; i < IT_N(ro); i++) {
		if (access(ro[i], F_OK) < 0)
			continue;
		TRY(expect_exec(t, cid, "Read-only file system\n", 1, "write", ro[i]));
	}
	TRY(expect_exec(t, cid, "Read-only file system\n", 1, "write", "/sys/kernel/it-x"));
	/* ... while the root and /dev/shm stay writable. */
	TRY(expect_exec(t, cid, "ok\n", 0, "write", "/tmp/it-rw-check"));
	TRY(expect_exec(t, cid, "ok\n", 0, "write", "/dev/shm/it-rw-check"));
	rc = 0;
out:
	snprintf(host, sizeof(host), "%s/tmp/it-rw-check", t->rootfs);
	unlink(host);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_readonly_root(struct it *t)
{
	const char *cid = "readonly-root";
	struct it_spec s;
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	s.root.readonly = true;
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(expect_exec(t, cid, "Read-only file system\n", 1, "write", "/it-ro-root"));
	TRY(expect_exec(t, cid, "Read-only file system\n", 1, "write", "/tmp/it-ro-root"));
	TRY(expect_exec(t, cid, "ok\n", 0, "write", "/dev/shm/it-ok"));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The default devices of the OCI runtime spec, and /dev/ptmx as a link into /dev/pts. */
static int case_dev_nodes(struct it *t)
{
	const char *cid = "dev-nodes";
	static const char *const dev[][2] = {
	    {"/dev/null", "20666 1:3\n"},    {"/dev/zero", "20666 1:5\n"},
	    {"/dev/full", "20666 1:7\n"},    {"/dev/random", "20666 1:8\n"},
	    {"/dev/urandom", "20666 1:9\n"}, {"/dev/tty", "20666 5:0\n"},
	};
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	for (size_t i = 0; i < IT_N(dev); i++)
		TRY(expect_exec(t, cid, dev[i][1], 0, "stat", dev[i][0]));
	TRY(exec_args(t, cid, &io, &st, "stat", "/dev/ptmx", NULL));
	EXPECT(st == 0 && strncmp(it_buf_str(&io.out), "120777 ", 7) == 0,
	       "/dev/ptmx: %s, want a symlink", IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- seccomp ------------------------------------------------------------------------------ */

/* Linux.Seccomp of a spec: Docker's x86 architectures and up to four rules of one or two
 * names. Lives beside the it_spec it is attached to. */
struct it_seccomp {
	Grpc__LinuxSeccomp sc;
	Grpc__LinuxSyscall call[4];
	Grpc__LinuxSyscall *callp[4];
	char *names[4][2];
};

static void sc_init(struct it_seccomp *m, struct it_spec *s, const char *default_action)
{
	static char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
	memset(m, 0, sizeof(*m));
	grpc__linux_seccomp__init(&m->sc);
	m->sc.defaultaction = (char *)default_action;
	m->sc.architectures = arches;
	m->sc.n_architectures = IT_N(arches);
	m->sc.syscalls = m->callp;
	s->lx.seccomp = &m->sc;
}

/* A rule for one or two syscalls; errno_ret < 0: no errnoRet (EPERM). */
static void sc_rule(struct it_seccomp *m, const char *action, int errno_ret, const char *name,
		    const char *name2)
{
	size_t i = m->sc.n_syscalls++;
	Grpc__LinuxSyscall *c = &m->call[i];
	grpc__linux_syscall__init(c);
	c->action = (char *)action;
	c->names = m->names[i];
	c->names[c->n_names++] = (char *)name;
	if (name2)
		c->names[c->n_names++] = (char *)name2;
	if (errno_ret >= 0) {
		c->errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
		c->errnoret = (uint32_t)errno_ret;
	}
	m->callp[i] = c;
}

static void sc_mkdir_rule(struct it_seccomp *m, const char *action, int errno_ret)
{
	sc_rule(m, action, errno_ret, "mkdir", "mkdirat");
}

/* The container's init runs `pdtest mkdir PATH` under a filter; PATH must not appear. */
static int run_mkdir(struct it *t, const char *cid, struct it_spec *s, const char *want_out,
		     int want_st)
{
	struct it_io io = {0};
	char host[PATH_MAX];
	int st = -1, rc = -1;
	snprintf(host, sizeof(host), "%s/tmp/it-%s", t->rootfs, cid);
	rmdir(host);
	it_spec_args(s, "pdtest", "mkdir", host + strlen(t->rootfs), NULL);
	TRY(it_run(t, cid, s, &io, &st));
	TRY(it_expect_out(t, "pdtest mkdir", &io, st, want_out, want_st));
	EXPECT(access(host, F_OK) < 0, "%s was created despite the filter", host);
	rc = 0;
out:
	rmdir(host);
	it_io_free(&io);
	return rc;
}

/* ERRNO without errnoRet: EPERM, as runc does. */
static int case_seccomp_errno(struct it *t)
{
	const char *cid = "seccomp-errno";
	struct it_spec s;
	struct it_seccomp m;
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(&m, "SCMP_ACT_ERRNO", -1);
	TRY(run_mkdir(t, cid, &s, "Operation not permitted\n", 1));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* KILL: the process dies of SIGSYS, 128 + 31. */
static int case_seccomp_kill(struct it *t)
{
	const char *cid = "seccomp-kill";
	struct it_spec s;
	struct it_seccomp m;
	int rc = -1;
	it_spec_default(&s, t->rootfs);
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(&m, "SCMP_ACT_KILL", -1);
	TRY(run_mkdir(t, cid, &s, "", 128 + SIGSYS));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The container's filter holds for its execs too (errnoRet EACCES), and /proc shows it. */
static int case_seccomp_execs(struct it *t)
{
	const char *cid = "seccomp-execs";
	struct it_spec s;
	struct it_seccomp m;
	struct it_io io = {0};
	char host[PATH_MAX];
	int rc = -1, st = -1;
	snprintf(host, sizeof(host), "%s/tmp/it-%s", t->rootfs, cid);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(&m, "SCMP_ACT_ERRNO", EACCES);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(exec_args(t, cid, &io, &st, "pdtest", "mkdir", host + strlen(t->rootfs), NULL));
	TRY(it_expect_out(t, "exec pdtest mkdir", &io, st, "Permission denied\n", 1));
	EXPECT(access(host, F_OK) < 0, "%s was created despite the filter", host);
	TRY(exec_args(t, cid, &io, &st, "status", NULL));
	EXPECT(st == 0, "status exited %d", st);
	TRY(expect_status(t, it_buf_str(&io.out), "Seccomp", "2"));
	rc = 0;
out:
	rmdir(host);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static void nnp_off_spec(struct it *t, struct it_spec *s, struct it_seccomp *m, uint32_t uid)
{
	it_spec_default(s, t->rootfs);
	s->proc.nonewprivileges = false;
	s->user.uid = s->user.gid = uid;
	sc_init(m, s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(m, "SCMP_ACT_ERRNO", -1);
}

/* Without no_new_privs the kernel takes a filter only from a process with CAP_SYS_ADMIN:
 * it goes on before the capabilities are dropped (Docker's set has no CAP_SYS_ADMIN) and
 * before the switch to uid 1000 (who could otherwise make a directory in /tmp). */
static int nnp_off_as(struct it *t, const char *cid, uint32_t uid)
{
	struct it_spec s;
	struct it_seccomp m;
	struct it_io io = {0};
	char id[64];
	int rc = -1;
	nnp_off_spec(t, &s, &m, uid);
	rc = run_mkdir(t, cid, &s, "Operation not permitted\n", 1);
	it_cleanup(t, cid, &rc);
	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%s-status", cid);
	nnp_off_spec(t, &s, &m, uid);
	rc = run_status(t, id, &s, &io);
	if (rc == 0)
		rc = expect_status(t, it_buf_str(&io.out), "NoNewPrivs", "0");
	if (rc == 0)
		rc = expect_status(t, it_buf_str(&io.out), "Seccomp", "2");
	it_io_free(&io);
	it_cleanup(t, id, &rc);
	return rc;
}

static int case_seccomp_nnp_off(struct it *t)
{
	if (nnp_off_as(t, "seccomp-nnp-off-root", 0) < 0)
		return -1;
	return nnp_off_as(t, "seccomp-nnp-off-user", 1000);
}

/* ---- sysctl ------------------------------------------------------------------------------- */

struct it_sysctl {
	Grpc__Linux__SysctlEntry e[4];
	Grpc__Linux__SysctlEntry *p[4];
};

static void spec_sysctl(struct it_sysctl *x, struct it_spec *s, const char *key, const char *value)
{
	size_t i = s->lx.n_sysctl;
	if (i == 0)
		memset(x, 0, sizeof(*x));
	grpc__linux__sysctl_entry__init(&x->e[i]);
	x->e[i].key = (char *)key;
	x->e[i].value = (char *)value;
	x->p[i] = &x->e[i];
	s->lx.sysctl = x->p;
	s->lx.n_sysctl = i + 1;
}

static long host_sysctl(const char *path)
{
	char *v = it_read_file(path, NULL);
	long n = v ? strtol(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* A sysctl of the (sandbox's) ipc namespace: the container reads it back; the agent's own
 * namespace, which the host shares here, keeps its value. */
static int case_sysctl_ipc(struct it *t)
{
	const char *cid = "sysctl-ipc";
	struct it_spec s;
	struct it_sysctl x;
	struct it_io io = {0};
	int rc = -1, st = -1;
	long before = host_sysctl("/proc/sys/kernel/msgmax");
	EXPECT(before > 0 && before != 65536, "host kernel.msgmax is %ld", before);
	it_spec_default(&s, t->rootfs);
	spec_sysctl(&x, &s, "kernel.msgmax", "65536");
	spec_sysctl(&x, &s, "fs.mqueue.msg_max", "20");
	it_spec_args(&s, "cat", "/proc/sys/kernel/msgmax", NULL);
	TRY(it_run(t, cid, &s, &io, &st));
	TRY(it_expect_out(t, "cat /proc/sys/kernel/msgmax", &io, st, "65536\n", 0));
	EXPECT(host_sysctl("/proc/sys/kernel/msgmax") == before,
	       "the agent's kernel.msgmax changed to %ld", host_sysctl("/proc/sys/kernel/msgmax"));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A container with a network namespace of its own may set net.*: in it, not in ours. */
static int case_sysctl_own_netns(struct it *t)
{
	const char *cid = "sysctl-netns";
	struct it_spec s;
	struct it_sysctl x;
	struct it_io io = {0};
	int rc = -1, st = -1;
	long before = host_sysctl("/proc/sys/net/ipv4/ip_forward");
	const char *want = before == 1 ? "0\n" : "1\n";
	it_spec_default(&s, t->rootfs);
	it_spec_namespace(&s, "network");
	spec_sysctl(&x, &s, "net/ipv4/ip_forward", before == 1 ? "0" : "1"); /* runc's slash form */
	it_spec_args(&s, "cat", "/proc/sys/net/ipv4/ip_forward", NULL);
	TRY(it_run(t, cid, &s, &io, &st));
	TRY(it_expect_out(t, "cat /proc/sys/net/ipv4/ip_forward", &io, st, want, 0));
	EXPECT(host_sysctl("/proc/sys/net/ipv4/ip_forward") == before,
	       "the agent's net.ipv4.ip_forward changed");
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- bad specs -------------------------------------------------------------------------- */

/* Host-side fixtures: a directory outside the rootfs and symlinks in the rootfs that point
 * at it (absolute, and relative with enough ".."), plus a symlink to the rootfs. */
struct fixtures {
	char outside[64];
	char link_abs[PATH_MAX], link_rel[PATH_MAX], root_link[PATH_MAX];
	char clamped[PATH_MAX]; /* where a clamped resolution would land: rootfs + outside */
};

static struct fixtures fx;

static int fixtures_make(struct it *t)
{
	char target[PATH_MAX];
	snprintf(fx.outside, sizeof(fx.outside), "/tmp/pidone-it-outside.XXXXXX");
	if (!mkdtemp(fx.outside))
		return it_why(t, "mkdtemp: %s", strerror(errno));
	snprintf(fx.link_abs, sizeof(fx.link_abs), "%s/escape-abs", t->rootfs);
	snprintf(fx.link_rel, sizeof(fx.link_rel), "%s/escape-rel", t->rootfs);
	snprintf(fx.root_link, sizeof(fx.root_link), "%s-link", t->rootfs);
	snprintf(fx.clamped, sizeof(fx.clamped), "%s%s", t->rootfs, fx.outside);
	snprintf(target, sizeof(target), "../../../../../../../../../..%s", fx.outside);
	if (symlink(fx.outside, fx.link_abs) < 0 || symlink(target, fx.link_rel) < 0 ||
	    symlink(t->rootfs, fx.root_link) < 0)
		return it_why(t, "symlink: %s", strerror(errno));
	return 0;
}

static void fixtures_remove(void)
{
	if (fx.outside[0])
		rmdir(fx.outside);
	unlink(fx.link_abs);
	unlink(fx.link_rel);
	unlink(fx.root_link);
	char sub[PATH_MAX + 8];
	snprintf(sub, sizeof(sub), "%s/sub", fx.clamped);
	rmdir(sub);
	rmdir(fx.clamped);
}

/* Nothing reached the directory outside the rootfs, nor its clamped twin inside. */
static int outside_untouched(struct it *t)
{
	char path[64];
	if (it_count_dir(fx.outside) != 0)
		return it_why(t, "something was created in %s, outside the rootfs", fx.outside);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)t->agent);
	char *mi = it_read_file(path, NULL);
	bool mounted = mi && strstr(mi, fx.outside);
	free(mi);
	if (mounted)
		return it_why(t, "%s is a mount point in the agent's namespace", fx.outside);
	if (access(fx.clamped, F_OK) == 0)
		return it_why(t, "%s was created in the rootfs", fx.clamped);
	return 0;
}

/* A bad spec: CreateContainer fails with `want` and a message that contains `hint`; the
 * agent is left as it was (fds, mounts, children, state and bundle directories), the
 * container does not exist, nothing reached outside the rootfs, and the same id then
 * works with a good spec. The leftovers are checked (and reported) even when the answer
 * was wrong. */
static int expect_bad(struct it *t, const char *cid, struct it_spec *s, int want, const char *hint)
{
	struct it_snap before;
	struct it_spec good;
	struct it_io io = {0};
	char answer[1024] = "";
	int rc = -1, st = -1;
	Grpc__CreateContainerRequest req;
	Grpc__StartContainerRequest start = GRPC__START_CONTAINER_REQUEST__INIT;
	start.container_id = (char *)cid;
	it_snap_take(t, &before);
	it_create_req(&req, cid, s);
	int code = it_call(t, "CreateContainer", &req.base, NULL, NULL);
	if (code < 0)
		goto out;
	if (code != want)
		snprintf(answer, sizeof(answer), "CreateContainer: got %s (%s), want %s",
			 pd_code_name(code), t->msg, pd_code_name(want));
	else if (!strstr(t->msg, hint))
		snprintf(answer, sizeof(answer), "the error \"%s\" does not mention \"%s\"", t->msg,
			 hint);
	if (code == 0 && it_remove_code(t, cid) != 0) /* accepted: check what removal leaves */
		goto out;
	TRY(it_snap_same(t, &before, "the bad spec"));
	TRY(it_code(t, "StartContainer", &start.base, PD_NOT_FOUND));
	TRY(outside_untouched(t));
	EXPECT(!answer[0], "%s", answer);
	it_spec_default(&good, t->rootfs);
	it_spec_args(&good, "echo", "fine", NULL);
	TRY(it_run(t, cid, &good, &io, &st));
	TRY(it_expect_out(t, "the same id with a good spec", &io, st, "fine\n", 0));
	rc = 0;
out:
	if (rc < 0 && answer[0] && strcmp(t->why, answer) != 0) {
		char why[sizeof(t->why)];
		snprintf(why, sizeof(why), "%s; and: %s", answer, t->why);
		memcpy(t->why, why, sizeof(why));
	}
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_bad_root_relative(struct it *t)
{
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.root.path = "relative/rootfs";
	return expect_bad(t, "bad-root-relative", &s, PD_INVALID_ARGUMENT, "relative/rootfs");
}

static int case_bad_root_dotdot(struct it *t)
{
	struct it_spec s;
	char path[PATH_MAX];
	const char *base = strrchr(t->rootfs, '/') + 1;
	snprintf(path, sizeof(path), "%s/../%s", t->rootfs, base);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.root.path = path;
	return expect_bad(t, "bad-root-dotdot", &s, PD_INVALID_ARGUMENT, "..");
}

static int case_bad_root_symlink(struct it *t)
{
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.root.path = fx.root_link;
	return expect_bad(t, "bad-root-symlink", &s, PD_INVALID_ARGUMENT, fx.root_link);
}

static int case_bad_root_missing(struct it *t)
{
	struct it_spec s;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s-missing", t->rootfs);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.root.path = path;
	return expect_bad(t, "bad-root-missing", &s, PD_NOT_FOUND, "-missing");
}

static int bad_mount(struct it *t, const char *cid, const char *dest, const char *type, int want,
		     const char *hint)
{
	static char *opts[] = {"nosuid", "nodev"};
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	it_spec_mount(&s, dest, type, type, opts, 2);
	return expect_bad(t, cid, &s, want, hint);
}

static int case_bad_mount_relative(struct it *t)
{
	return bad_mount(t, "bad-mount-relative", "data", "tmpfs", PD_INVALID_ARGUMENT, "data");
}

static int case_bad_mount_dotdot(struct it *t)
{
	return bad_mount(t, "bad-mount-dotdot", "/tmp/../../etc", "tmpfs", PD_INVALID_ARGUMENT,
			 "/tmp/../../etc");
}

static int case_bad_mount_symlink_abs(struct it *t)
{
	return bad_mount(t, "bad-mount-symlink-abs", "/escape-abs", "tmpfs", PD_INVALID_ARGUMENT,
			 "/escape-abs");
}

static int case_bad_mount_symlink_rel(struct it *t)
{
	return bad_mount(t, "bad-mount-symlink-rel", "/escape-rel/sub", "tmpfs",
			 PD_INVALID_ARGUMENT, "/escape-rel");
}

/* A symlink out of the rootfs whose target, read inside the rootfs, exists: refusing it
 * (INVALID_ARGUMENT) or following it inside the rootfs as runc does are both safe; what
 * must never happen is a mount outside. The tmpfs must show up at the target's path in
 * the container's own mount table, and the host's directory stays empty. */
static int case_symlink_mount_stays_inside(struct it *t)
{
	const char *cid = "symlink-inside";
	static char *opts[] = {"nosuid"};
	struct it_spec s;
	struct it_io io = {0};
	char line[PATH_MAX];
	int rc = -1, st = -1, code = -1;
	Grpc__CreateContainerRequest req;
	EXPECT(mkdir(fx.clamped, 0755) == 0, "mkdir %s: %s", fx.clamped, strerror(errno));
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", "/proc/self/mountinfo", NULL);
	it_spec_mount(&s, "/escape-rel", "tmpfs", "tmpfs", opts, 1);
	it_create_req(&req, cid, &s);
	code = it_call(t, "CreateContainer", &req.base, NULL, NULL);
	if (code == PD_INVALID_ARGUMENT) { /* refused: fine */
		rmdir(fx.clamped);
		return 0;
	}
	EXPECT(code == 0, "CreateContainer: %s: %s", pd_code_name(code), t->msg);
	TRY(it_start(t, cid));
	TRY(it_drain(t, cid, cid, false, &io, IT_IO_MS));
	TRY(it_wait(t, cid, cid, &st));
	snprintf(line, sizeof(line), " %s rw,nosuid", fx.outside);
	EXPECT(st == 0 && strstr(it_buf_str(&io.out), line),
	       "no tmpfs on %s inside the container: %s", fx.outside,
	       IT_SHOW(io.out.p, io.out.len));
	EXPECT(it_count_dir(fx.outside) == 0, "something was created in %s", fx.outside);
	rc = 0;
out:
	it_io_free(&io);
	rmdir(fx.clamped);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_bad_proc_on_symlink(struct it *t)
{
	return bad_mount(t, "bad-proc-symlink", "/escape-abs", "proc", PD_INVALID_ARGUMENT,
			 "/escape-abs");
}

static int case_bad_capability(struct it *t)
{
	static char *caps[] = {"CAP_KILL", "CAP_NOT_A_CAPABILITY"};
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	it_spec_caps(&s, caps, 2);
	return expect_bad(t, "bad-capability", &s, PD_INVALID_ARGUMENT, "CAP_NOT_A_CAPABILITY");
}

static int case_bad_cwd_relative(struct it *t)
{
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.proc.cwd = "work";
	return expect_bad(t, "bad-cwd-relative", &s, PD_INVALID_ARGUMENT, "work");
}

static int case_bad_masked_relative(struct it *t)
{
	static char *masked[] = {"/proc/kcore", "proc/keys"};
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.lx.maskedpaths = masked;
	s.lx.n_maskedpaths = 2;
	return expect_bad(t, "bad-masked-relative", &s, PD_INVALID_ARGUMENT, "proc/keys");
}

static int case_bad_no_args(struct it *t)
{
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	s.proc.n_args = 0;
	return expect_bad(t, "bad-no-args", &s, PD_INVALID_ARGUMENT, "rgs");
}

/* A program that is not in the image: Kata and runc find out before the container is
 * created; failing StartContainer instead is accepted. Either way the error names the
 * program and, once the container is removed, nothing is left. */
static int case_bad_missing_executable(struct it *t)
{
	const char *cid = "bad-missing-exe";
	struct it_spec s;
	struct it_snap before;
	Grpc__CreateContainerRequest req;
	char msg[sizeof(t->msg)];
	int rc = -1, code;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "no-such-program", NULL);
	it_snap_take(t, &before);
	it_create_req(&req, cid, &s);
	code = it_call(t, "CreateContainer", &req.base, NULL, NULL);
	if (code == 0) {
		Grpc__StartContainerRequest start = GRPC__START_CONTAINER_REQUEST__INIT;
		start.container_id = (char *)cid;
		code = it_call(t, "StartContainer", &start.base, NULL, NULL);
		EXPECT(code != 0, "CreateContainer and StartContainer of a missing program: OK");
	}
	memcpy(msg, t->msg, sizeof(msg));
	EXPECT(code == PD_NOT_FOUND, "missing program: %s (%s), want NOT_FOUND", pd_code_name(code),
	       msg);
	EXPECT(strstr(msg, "no-such-program"), "the error \"%s\" does not name the program", msg);
	code = it_remove_code(t, cid);
	EXPECT(code == 0 || code == PD_NOT_FOUND, "RemoveContainer: %s: %s", pd_code_name(code),
	       t->msg);
	TRY(it_snap_same(t, &before, "a missing program, once removed"));
	return 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_bad_container_id(struct it *t)
{
	struct it_spec s;
	struct it_snap before;
	const char *ids[] = {"x", "../escape", "-dash", "a/b"};
	int rc = 0;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	it_snap_take(t, &before);
	for (size_t i = 0; i < IT_N(ids) && rc == 0; i++) {
		Grpc__CreateContainerRequest req;
		it_create_req(&req, ids[i], &s);
		rc = it_code(t, "CreateContainer", &req.base, PD_INVALID_ARGUMENT);
		if (rc == 0 && !strstr(t->msg, ids[i]))
			rc = it_why(t, "the error \"%s\" does not name the id %s", t->msg, ids[i]);
	}
	if (rc == 0)
		rc = it_snap_same(t, &before, "bad container ids");
	return rc;
}

/* The VM's network is shared by the containers and the agent: not the container's to set. */
static int case_bad_sysctl_net(struct it *t)
{
	struct it_spec s;
	struct it_sysctl x;
	long before = host_sysctl("/proc/sys/net/ipv4/ip_forward");
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	spec_sysctl(&x, &s, "kernel.msgmax", "65536"); /* fine on its own */
	spec_sysctl(&x, &s, "net.ipv4.ip_forward", before == 1 ? "0" : "1");
	int rc = expect_bad(t, "bad-sysctl-net", &s, PD_INVALID_ARGUMENT,
			    "'net.ipv4.ip_forward' needs a network namespace");
	if (rc == 0 && host_sysctl("/proc/sys/net/ipv4/ip_forward") != before)
		rc = it_why(t, "the agent's net.ipv4.ip_forward changed");
	return rc;
}

static int case_bad_sysctl_global(struct it *t)
{
	struct it_spec s;
	struct it_sysctl x;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	spec_sysctl(&x, &s, "kernel.pid_max", "4096");
	return expect_bad(t, "bad-sysctl-global", &s, PD_INVALID_ARGUMENT,
			  "'kernel.pid_max' is not namespaced");
}

/* Syntax is fine, the kernel refuses the value: the child's error reaches the host. */
static int case_bad_sysctl_value(struct it *t)
{
	struct it_spec s;
	struct it_sysctl x;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	spec_sysctl(&x, &s, "kernel.msgmax", "lots");
	return expect_bad(t, "bad-sysctl-value", &s, PD_INVALID_ARGUMENT,
			  "sysctl kernel.msgmax=lots");
}

static int case_bad_seccomp_action(struct it *t)
{
	struct it_spec s;
	struct it_seccomp m;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(&m, "SCMP_ACT_EXPLODE", -1);
	return expect_bad(t, "bad-seccomp-action", &s, PD_INVALID_ARGUMENT,
			  "Linux.Seccomp.Syscalls[0].Action: unknown action 'SCMP_ACT_EXPLODE'");
}

/* Without no_new_privs the filter is on during the set-up: one that kills capset kills
 * the set-up, and CreateContainer says so (and leaves nothing behind). */
static int case_bad_seccomp_kills_setup(struct it *t)
{
	struct it_spec s;
	struct it_seccomp m;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	s.proc.nonewprivileges = false;
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_rule(&m, "SCMP_ACT_KILL_PROCESS", -1, "capset", NULL);
	return expect_bad(t, "bad-seccomp-setup", &s, PD_INTERNAL,
			  "died during set-up: signal 31");
}

static int case_bad_seccomp_notify(struct it *t)
{
	struct it_spec s;
	struct it_seccomp m;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	sc_init(&m, &s, "SCMP_ACT_ALLOW");
	sc_mkdir_rule(&m, "SCMP_ACT_NOTIFY", -1);
	return expect_bad(t, "bad-seccomp-notify", &s, PD_INVALID_ARGUMENT,
			  "SCMP_ACT_NOTIFY is not supported");
}

static const struct it_case cases[] = {
    {"caps_default_set_and_no_new_privs", case_caps_default},
    {"no_new_privs_off", case_nnp_off},
    {"caps_ambient_for_uid_1000", case_caps_ambient_user},
    {"caps_of_execs", case_caps_exec},
    {"mountinfo", case_mountinfo},
    {"masked_paths", case_masked_paths},
    {"readonly_paths", case_readonly_paths},
    {"readonly_root", case_readonly_root},
    {"dev_nodes", case_dev_nodes},
    {"bad_root_relative", case_bad_root_relative},
    {"bad_root_dotdot", case_bad_root_dotdot},
    {"bad_root_symlink", case_bad_root_symlink},
    {"bad_root_missing", case_bad_root_missing},
    {"bad_mount_destination_relative", case_bad_mount_relative},
    {"bad_mount_destination_dotdot", case_bad_mount_dotdot},
    {"bad_mount_destination_symlink_out_absolute", case_bad_mount_symlink_abs},
    {"bad_mount_destination_symlink_out_relative", case_bad_mount_symlink_rel},
    {"bad_proc_on_symlink_out", case_bad_proc_on_symlink},
    {"symlink_out_followed_stays_in_rootfs", case_symlink_mount_stays_inside},
    {"bad_unknown_capability", case_bad_capability},
    {"bad_cwd_relative", case_bad_cwd_relative},
    {"bad_masked_path_relative", case_bad_masked_relative},
    {"bad_no_args", case_bad_no_args},
    {"bad_missing_executable", case_bad_missing_executable},
    {"bad_container_ids", case_bad_container_id},
    {"seccomp_errno", case_seccomp_errno},
    {"seccomp_kill", case_seccomp_kill},
    {"seccomp_execs", case_seccomp_execs},
    {"seccomp_no_new_privs_off", case_seccomp_nnp_off},
    {"bad_seccomp_unknown_action", case_bad_seccomp_action},
    {"bad_seccomp_notify", case_bad_seccomp_notify},
    {"bad_seccomp_kills_the_setup", case_bad_seccomp_kills_setup},
    {"sysctl_ipc_applied", case_sysctl_ipc},
    {"sysctl_own_netns", case_sysctl_own_netns},
    {"bad_sysctl_net_of_the_vm", case_bad_sysctl_net},
    {"bad_sysctl_not_namespaced", case_bad_sysctl_global},
    {"bad_sysctl_value", case_bad_sysctl_value},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (it_init(&t, argc, argv) < 0)
		return 2;
	if (fixtures_make(&t) < 0) {
		printf("not ok - fixtures: %s\n", t.why);
		t.failed++;
	} else {
		it_run_cases(&t, cases);
	}
	fixtures_remove();
	return it_finish(&t, "container_security");
}
