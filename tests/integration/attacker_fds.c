/* Attacks on the agent's set-up children (docs/security.md, "Forked children hold nothing
 * of the agent"; runc's CVE-2016-9962): from the host, what a container process holds
 * while it waits to be started; from another container of a shared pid namespace and from
 * inside a container, what /proc/<pid>/fd/N and /proc/<pid>/root of a child of the agent
 * give a default-capability root process (tests/payload/pdtest.c `fdrace`).
 *
 *   attacker_fds --create-sandbox ADDR SANDBOX_ID
 *   attacker_fds ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 * with PD_FDS_HOOK naming a host script `fds.sh OUT` (attacker_fds.sh writes it) that
 * lists "N TARGET" for each fd of the pid of the OCI state on its stdin. The shared pid
 * namespace case comes last: every container after it joins that namespace. */
#include <signal.h>

#include "itest.h"

#define MAP_HOST   100000
#define RACE_WANT  "10" /* set-up children the in-container racer must have met */
#define RACE_EXECS 400	/* ExecProcess calls at most, to give it that many */

/* The agent's comm: what a child of the agent is named until its exec. */
static const char *agent_comm(struct it *t)
{
	static char comm[32];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)t->agent);
	char *text = it_read_file(path, NULL);
	snprintf(comm, sizeof(comm), "%s", text ? text : "?");
	comm[strcspn(comm, "\n")] = '\0';
	free(text);
	return comm;
}

/* The init's pid as the host sees it, from state.json. */
static int init_pid(struct it *t, const char *cid, int *pid)
{
	struct it_json j = {0};
	char v[64], path[PATH_MAX];
	char *text = it_read_file(it_state_path(t, cid, path, sizeof(path)), NULL);
	*pid = 0;
	if (text && it_json_parse(&j, text) == 0 &&
	    it_json_get(&j, "init_process_pid", v, sizeof(v)))
		*pid = atoi(v);
	it_json_free(&j);
	free(text);
	return *pid > 1 ? 0 : it_why(t, "%s: no init_process_pid", path);
}

/* ---- what a waiting container process holds, from the host ------------------------------- */

#define MAX_FDS 64
struct fd_list {
	int n;
	int fd[MAX_FDS];
	char target[MAX_FDS][128];
};

/* Every fd of pid with what it points to, in fd order. */
static int list_fds(struct it *t, int pid, struct fd_list *l)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	memset(l, 0, sizeof(*l));
	DIR *d = opendir(dir);
	if (!d)
		return it_why(t, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) && l->n < MAX_FDS) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name), i = l->n++;
		while (i > 0 && l->fd[i - 1] > fd) { /* insertion: readdir order is fd order */
			l->fd[i] = l->fd[i - 1];
			memcpy(l->target[i], l->target[i - 1], sizeof(l->target[i]));
			i--;
		}
		char path[96];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ssize_t n = readlink(path, l->target[i], sizeof(l->target[i]) - 1);
		l->target[i][n > 0 ? n : 0] = '\0';
		l->fd[i] = fd;
	}
	closedir(d);
	return 0;
}

static const char *show_fds(const struct fd_list *l, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < l->n && o + 1 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%d -> %s", i ? ", " : "", l->fd[i],
				      l->target[i]);
	return buf;
}
#define SHOW_FDS(l) show_fds((l), (char[2048]){0}, 2048)

static bool agent_holds(const struct fd_list *agent, const char *target)
{
	for (int i = 0; i < agent->n; i++)
		if (!strcmp(agent->target[i], target))
			return true;
	return false;
}

/* Exactly 0, 1, 2 (the container's stdio: pipes whose other ends the agent holds, or a
 * terminal) and 3 (the sync socket). */
static int expect_stdio_and_sync(struct it *t, int pid, bool tty, const char *what)
{
	struct fd_list l, agent;
	if (list_fds(t, pid, &l) < 0 || list_fds(t, (int)t->agent, &agent) < 0)
		return -1;
	bool ok = l.n == 4 && !strncmp(l.target[3], "socket:[", 8);
	for (int i = 0; ok && i < 3; i++)
		ok = l.fd[i] == i &&
		     (tty ? !strncmp(l.target[i], "/dev/pts/", 9)
			  : !strncmp(l.target[i], "pipe:[", 6) && agent_holds(&agent, l.target[i]));
	if (!ok || l.fd[3] != 3)
		return it_why(t,
			      "%s: the waiting process holds [%s], want 0-2 its %s and 3 the "
			      "sync socket",
			      what, SHOW_FDS(&l),
			      tty ? "terminal" : "pipes (the agent's other ends)");
	return 0;
}

struct userns_spec {
	struct it_spec s;
	Grpc__LinuxIDMapping map;
	Grpc__LinuxIDMapping *mapp[1];
};

/* The default spec in a user namespace mapping 0..65535 to MAP_HOST.. */
static void userns_spec(struct userns_spec *u, const char *rootfs)
{
	it_spec_default(&u->s, rootfs);
	it_spec_namespace(&u->s, "user");
	grpc__linux_idmapping__init(&u->map);
	u->map.hostid = MAP_HOST;
	u->map.size = 65536;
	u->mapp[0] = &u->map;
	u->s.lx.uidmappings = u->s.lx.gidmappings = u->mapp;
	u->s.lx.n_uidmappings = u->s.lx.n_gidmappings = 1;
}

static int case_waiting_init_fds(struct it *t)
{
	static const char *const kinds[] = {"pipes", "terminal", "user namespace"};
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < IT_N(kinds); k++) {
		struct userns_spec u;
		char cid[32];
		int pid = 0;
		snprintf(cid, sizeof(cid), "fds-waiting-%zu", k);
		if (k == 2)
			userns_spec(&u, t->rootfs);
		else
			it_spec_default(&u.s, t->rootfs);
		it_spec_args(&u.s, "sleep", IT_LONG_SLEEP, NULL);
		u.s.proc.terminal = k == 1;
		rc = it_create(t, cid, &u.s);
		if (rc == 0)
			rc = init_pid(t, cid, &pid);
		if (rc == 0)
			rc = expect_stdio_and_sync(t, pid, k == 1, kinds[k]);
		it_cleanup(t, cid, &rc);
	}
	return rc;
}

/* A prestart hook lists the container process's fds while it waits for the hooks (its
 * namespaces exist, it has joined the sandbox's, its rootfs is not set up): the agent's
 * own stdio (0-2, until the process's replace them), the sync socket and the 3 pipes it
 * will take as stdio. Nothing else of the agent's. */
static int case_hook_stop_fds(struct it *t)
{
	const char *cid = "fds-hook-stop", *script = getenv("PD_FDS_HOOK");
	char out[PATH_MAX], agent0[3][128];
	struct it_spec s;
	Grpc__Hooks hooks;
	Grpc__Hook h, *hp[1] = {&h};
	char *args[] = {"fds.sh", out};
	char *text = NULL;
	int rc = -1;
	EXPECT(script && access(script, X_OK) == 0, "PD_FDS_HOOK is not an executable script");
	for (int i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)t->agent, i);
		ssize_t n = readlink(path, agent0[i], sizeof(agent0[i]) - 1);
		agent0[i][n > 0 ? n : 0] = '\0';
	}
	snprintf(out, sizeof(out), "%s/../fds-hook.out", t->rootfs);
	unlink(out);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	grpc__hooks__init(&hooks);
	grpc__hook__init(&h);
	h.path = (char *)script;
	h.args = args;
	h.n_args = 2;
	hooks.prestart = hp;
	hooks.n_prestart = 1;
	s.spec.hooks = &hooks;
	TRY(it_create(t, cid, &s));
	text = it_read_file(out, NULL);
	EXPECT(text, "the hook wrote no %s", out);
	/* "N TARGET" lines, N = 0..6 */
	int n = 0, sockets = 0, pipes = 0;
	bool agents = true, in_order = true;
	for (const char *line = text; *line; n++) {
		size_t len = strcspn(line, "\n");
		const char *target = memchr(line, ' ', len);
		in_order = in_order && target && atoi(line) == n;
		if (target && n < 3)
			agents = agents && !strncmp(target + 1, agent0[n], strlen(agent0[n])) &&
				 (size_t)(target + 1 - line) + strlen(agent0[n]) == len;
		else if (target)
			sockets += !strncmp(target + 1, "socket:[", 8),
			    pipes += !strncmp(target + 1, "pipe:[", 6);
		line += len + (line[len] == '\n');
	}
	EXPECT(n == 7 && in_order && agents && sockets == 1 && pipes == 3,
	       "the child holds at the hook stop %s, want 0-6: the agent's stdio, the sync socket, "
	       "3 stdio pipes",
	       IT_SHOW(text, strlen(text)));
	rc = 0;
out:
	free(text);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- the racer, pdtest fdrace ----------------------------------------------------------- */

/* Start time of pid (field 22 of its stat), 0 once it is exiting, a zombie or gone. A pid
 * namespace's init that exits waits, exiting, until every other process of its namespace
 * has been reaped (an exec child of the agent among them). */
#define PF_EXITING 0x00000004
static unsigned long long alive_since(int pid)
{
	char path[64], *text;
	unsigned long long start = 0;
	unsigned flags = 0;
	char state = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(text = it_read_file(path, NULL)))
		return 0;
	char *p = strrchr(text, ')');
	if (!p || sscanf(p + 2,
			 "%c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu",
			 &state, &flags, &start) != 3)
		start = 0;
	free(text);
	return state == 'Z' || state == 'X' || (flags & PF_EXITING) ? 0 : start;
}

/* A container cid whose init is `pdtest fdrace want COMM`, running; *pid its host pid. */
static int racer_up(struct it *t, const char *cid, const char *want, bool shared, int *pid)
{
	struct it_spec s;
	Grpc__CreateContainerRequest req;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "/bin/pdtest", "fdrace", want, agent_comm(t), NULL);
	it_create_req(&req, cid, &s);
	req.sandbox_pidns = shared;
	if (it_ok(t, "CreateContainer", &req.base, NULL, NULL) < 0 || it_start(t, cid) < 0)
		return -1;
	return init_pid(t, cid, pid);
}

/* ExecProcess `true` into target, one after the other, while the racer (host pid) runs; at
 * most RACE_EXECS, then it is told to stop. Then its output and exit status. */
static int race_execs(struct it *t, const char *target, const char *racer, int pid,
		      struct it_io *io, int *st, int *execs)
{
	unsigned long long since = alive_since(pid);
	struct it_spec e;
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "true", NULL);
	for (*execs = 0; *execs < RACE_EXECS && alive_since(pid) == since; (*execs)++) {
		char eid[32];
		struct it_io eio = {0};
		int est = -1;
		snprintf(eid, sizeof(eid), "race-%d", *execs);
		int rc = it_exec_run(t, target, eid, &e.proc, &eio, &est);
		it_io_free(&eio);
		if (target == racer && alive_since(pid) != since)
			break; /* the racer is done: its pid namespace, and the exec, ended */
		if (rc < 0)
			return -1;
		if (est != 0)
			return it_why(t, "exec %s in %s: exit status %d", eid, target, est);
	}
	if (*execs == RACE_EXECS && it_signal(t, racer, racer, SIGTERM) < 0)
		return -1;
	return it_drain(t, racer, racer, false, io, IT_IO_MS) < 0 ? -1
								  : it_wait(t, racer, racer, st);
}

/* What the racer said: no leak, its own "dumpable 1", its summary; *seen = COMM pids met. */
static int racer_verdict(struct it *t, const struct it_io *io, int st, int execs, int *seen)
{
	const char *out = it_buf_str(&io->out), *sum = strstr(out, "summary ");
	const char *leak = strstr(out, "leak ");
	*seen = 0;
	if (leak)
		return it_why(t, "the racer opened what a child of the agent holds: %s",
			      IT_SHOW(leak, strlen(leak)));
	if (strncmp(out, "dumpable 1\n", 11) != 0)
		return it_why(t, "the racer itself, as its exec left it: %s (want dumpable 1)",
			      IT_SHOW(out, strcspn(out, "\n")));
	if (!sum || sscanf(sum, "summary seen %d", seen) != 1)
		return it_why(t, "no summary from the racer: %s (stderr %s)",
			      IT_SHOW(io->out.p, io->out.len), IT_SHOW(io->err.p, io->err.len));
	if (st != 0)
		return it_why(t, "the racer ended with %d after %d execs: %s", st, execs,
			      IT_SHOW(sum, strcspn(sum, "\n")));
	return 0;
}

/* Inside an ordinary container, a racer loops over /proc while the agent's exec children
 * come and go in its pid namespace: it meets them (non-dumpable: every open refused) and
 * finds nothing. */
static int case_racer_inside(struct it *t)
{
	const char *cid = "fds-racer";
	struct it_io io = {0};
	int rc = -1, pid, st = -1, execs = 0, seen = 0;
	TRY(racer_up(t, cid, RACE_WANT, false, &pid));
	TRY(race_execs(t, cid, cid, pid, &io, &st, &execs));
	TRY(racer_verdict(t, &io, st, execs, &seen));
	printf("# racer inside met %d exec children in %d execs\n", seen, execs);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The kernel's rule after the exec: dumpable again, unless the image may not be read by
 * the process that runs it (here uid 1000 without capabilities, a 0111 binary). */
static int case_exec_dumpable_rule(struct it *t)
{
	static const struct {
		uint32_t uid;
		bool xonly;
		const char *want;
	} runs[] = {{0, false, "dumpable 1\n"},
		    {1000, false, "dumpable 1\n"},
		    {1000, true, "dumpable 0\n"}};
	char dir[PATH_MAX], xonly[PATH_MAX + 16], src[PATH_MAX];
	int rc = 0;
	snprintf(dir, sizeof(dir), "%s/bin/xonly", t->rootfs);
	snprintf(xonly, sizeof(xonly), "%s/pdtest", dir);
	snprintf(src, sizeof(src), "%s/bin/pdtest", t->rootfs);
	size_t len = 0;
	char *bin = it_read_file(src, &len);
	int fd = -1;
	if (!bin || (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
	    (fd = open(xonly, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0111)) < 0 ||
	    write(fd, bin, len) != (ssize_t)len || fchmod(fd, 0111) < 0)
		rc = it_why(t, "%s: %s", xonly, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(bin);
	for (size_t i = 0; rc == 0 && i < IT_N(runs); i++) {
		struct it_spec s;
		struct it_io io = {0};
		char cid[32], what[64];
		int st = -1;
		snprintf(cid, sizeof(cid), "fds-dumpable-%zu", i);
		snprintf(what, sizeof(what), "uid %u%s", runs[i].uid,
			 runs[i].xonly ? ", 0111" : "");
		it_spec_default(&s, t->rootfs);
		it_spec_args(&s, runs[i].xonly ? "/bin/xonly/pdtest" : "/bin/pdtest", "fdrace", "0",
			     "none", NULL);
		s.user.uid = s.user.gid = runs[i].uid;
		if (runs[i].xonly)
			it_spec_caps(&s, (char *[1]){NULL}, 0);
		rc = it_run(t, cid, &s, &io, &st);
		if (rc == 0)
			rc = it_expect_out(t, what, &io, st, runs[i].want, 0);
		it_io_free(&io);
		it_cleanup(t, cid, &rc);
	}
	return rc;
}

/* A container in the guest's pid namespace (a spec may name it by path) sees every child
 * of the agent. A user namespace container's init waits for
 * StartContainer: its root (uid 0 of the guest's user namespace, Docker's capabilities)
 * owns that user namespace, so the kernel's uid and capability checks let it in; only
 * non-dumpability stops it. */
static int case_guest_pidns_vs_userns_init(struct it *t)
{
	const char *y = "fds-userns-waiting", *x = "fds-guest-pidns";
	struct userns_spec u;
	struct it_spec s;
	struct it_io io = {0};
	char pid_text[16], want[64], guest_pidns[64];
	int rc = -1, pid = 0, st = -1, seen = 0, fds = -2, denied = -2;
	char root[16] = "";
	userns_spec(&u, t->rootfs);
	it_spec_args(&u.s, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_create(t, y, &u.s));
	TRY(init_pid(t, y, &pid));
	snprintf(pid_text, sizeof(pid_text), "%d", pid);
	it_spec_default(&s, t->rootfs);
	snprintf(guest_pidns, sizeof(guest_pidns), "/proc/%d/ns/pid", (int)t->agent);
	s.ns[0].path = guest_pidns; /* it_spec_default lists pid first */
	it_spec_args(&s, "/bin/pdtest", "fdrace", "1", agent_comm(t), pid_text, NULL);
	TRY(it_run(t, x, &s, &io, &st));
	TRY(racer_verdict(t, &io, st, 0, &seen));
	snprintf(want, sizeof(want), "\nseen %d fds ", pid);
	const char *line = strstr(it_buf_str(&io.out), want);
	EXPECT(line &&
		   sscanf(line + 1, "seen %*d fds %d denied %d root %15s", &fds, &denied, root) ==
		       3 &&
		   fds == 4 && denied == 4 && !strcmp(root, "denied"),
	       "the user namespace init %d seen from the guest's pid namespace: %s, want 4 fds "
	       "listed, 4 refused, root refused",
	       pid, IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, x, &rc);
	it_cleanup(t, y, &rc);
	return rc;
}

/* ---- a shared pid namespace --------------------------------------------------------------- */

/* pid's pid in its own pid namespace (the last NSpid field). */
static int ns_pid(int pid)
{
	char path[64], f[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	char *text = it_read_file(path, NULL);
	it_status_field(text ? text : "", "NSpid", f, sizeof(f));
	free(text);
	const char *last = strrchr(f, ' ');
	return atoi(last ? last + 1 : f);
}

/* Three containers in the sandbox's shared pid namespace: A created, its init waiting for
 * StartContainer; C running, the target of execs; B, the racer, meets A's init and C's
 * exec children. It may list A's four fds but open none of them, nor A's root. */
static int case_shared_pidns_racer(struct it *t)
{
	const char *a = "fds-shared-a", *b = "fds-shared-b", *c = "fds-shared-c";
	struct it_spec s;
	struct it_io io = {0};
	Grpc__CreateContainerRequest req;
	int rc = -1, a_pid = 0, b_pid, st = -1, execs = 0, seen = 0;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	it_create_req(&req, a, &s);
	req.sandbox_pidns = true;
	TRY(it_ok(t, "CreateContainer", &req.base, NULL, NULL));
	TRY(init_pid(t, a, &a_pid));
	it_create_req(&req, c, &s);
	req.sandbox_pidns = true;
	TRY(it_ok(t, "CreateContainer", &req.base, NULL, NULL));
	TRY(it_start(t, c));
	TRY(racer_up(t, b, "6", true, &b_pid));
	TRY(race_execs(t, c, b, b_pid, &io, &st, &execs));
	TRY(racer_verdict(t, &io, st, execs, &seen));
	char want[64];
	snprintf(want, sizeof(want), "\nseen %d fds ", ns_pid(a_pid));
	const char *line = strstr(it_buf_str(&io.out), want);
	int fds = -2, denied = -2;
	char root[16] = "";
	EXPECT(line && sscanf(line + 1, "seen %*d fds %d denied %d root %15s", &fds, &denied,
			      root) == 3,
	       "the racer did not meet A's waiting init (pid %d inside): %s", ns_pid(a_pid),
	       IT_SHOW(io.out.p, io.out.len));
	EXPECT(fds == 4 && denied == 4 && !strcmp(root, "denied"),
	       "A's waiting init, seen from B: %d fds, %d refused, root %s; want 4, 4, denied", fds,
	       denied, root);
	printf("# racer in B met %d children of the agent in %d execs into C\n", seen, execs);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, b, &rc);
	it_cleanup(t, c, &rc);
	it_cleanup(t, a, &rc);
	return rc;
}

static const struct it_case cases[] = {
    {"waiting_init_holds_only_stdio_and_sync", case_waiting_init_fds},
    {"hook_stop_holds_only_its_own_fds", case_hook_stop_fds},
    {"exec_leaves_dumpable_by_the_kernel_rule", case_exec_dumpable_rule},
    {"racer_inside_finds_nothing_during_execs", case_racer_inside},
    {"guest_pidns_racer_opens_nothing_of_a_userns_init", case_guest_pidns_vs_userns_init},
    /* Last: it starts the sandbox's pid namespace, which every later container joins. */
    {"shared_pidns_racer_opens_nothing", case_shared_pidns_racer},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return it_create_sandbox(argc, argv, false, "create_sandbox");
	if (it_init(&t, argc, argv) < 0)
		return 2;
	it_run_cases(&t, cases);
	return it_finish(&t, "attacker_fds");
}
