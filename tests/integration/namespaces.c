/* Host integration tests of user namespaces and sandbox_pidns (issue 4), end to end over
 * ttRPC, checked from inside the containers (tests/payload/pdtest.c) and from the host.
 *
 *   namespaces --create-sandbox ADDR SANDBOX_ID [--pidns]   CreateSandbox (sandbox_pidns)
 *   namespaces ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]    user namespaces, and pid
 *                                        namespaces without sandbox_pidns (itest.h)
 *   namespaces --shared-pidns ADDR ROOTFS AGENT_PID SANDBOX_ID
 *                                        on an agent whose sandbox has sandbox_pidns; the
 *                                        last case is DestroySandbox (the agent stops) */
#include <signal.h>
#include <sys/vfs.h>

#include "itest.h"

#define MAP_HOST  100000
#define MAP_SIZE  65536
#define MAP_LINE  "0 100000 65536" /* a uid_map line, whitespace squeezed */
#define HOLDER    "pidns-holder"   /* the holder's comm (agent/sandbox/pidns_holder.c) */
#define PIDNS_PIN "/var/run/sandbox-ns/pid"

struct userns_spec {
	struct it_spec s;
	Grpc__LinuxIDMapping uid, gid;
	Grpc__LinuxIDMapping *uidp[1], *gidp[1];
};

/* The default spec plus a user namespace mapping 0..65535 to 100000.. (uid and gid). */
static void userns_spec(struct userns_spec *u, const char *rootfs)
{
	it_spec_default(&u->s, rootfs);
	it_spec_args(&u->s, "true", NULL);
	it_spec_namespace(&u->s, "user");
	grpc__linux_idmapping__init(&u->uid);
	u->uid.containerid = 0;
	u->uid.hostid = MAP_HOST;
	u->uid.size = MAP_SIZE;
	u->gid = u->uid;
	u->uidp[0] = &u->uid;
	u->gidp[0] = &u->gid;
	u->s.lx.uidmappings = u->uidp;
	u->s.lx.n_uidmappings = 1;
	u->s.lx.gidmappings = u->gidp;
	u->s.lx.n_gidmappings = 1;
}

#define SQUEEZED(text) it_squeeze((text), false, (char[512]){0}, 512)

/* The init's pid, from state.json. */
static int init_pid(struct it *t, const char *cid, int *pid)
{
	struct it_json j = {0};
	char v[64], path[PATH_MAX];
	char *text = it_read_file(it_state_path(t, cid, path, sizeof(path)), NULL);
	*pid = 0;
	if (text && it_json_parse(&j, text) == 0 && it_json_get(&j, "init_process_pid", v, sizeof(v)))
		*pid = atoi(v);
	it_json_free(&j);
	free(text);
	return *pid > 1 ? 0 : it_why(t, "%s: no init_process_pid", path);
}

/* A running container with a user namespace whose init sleeps. */
static int userns_up_sleeping(struct it *t, const char *cid, struct userns_spec *u)
{
	userns_spec(u, t->rootfs);
	it_spec_args(&u->s, "sleep", IT_LONG_SLEEP, NULL);
	if (it_create(t, cid, &u->s) < 0 || it_start(t, cid) < 0)
		return -1;
	return 0;
}

/* Run the container u describes: its stdout must be want, its exit status 0. Removed
 * after. */
static int userns_run_expect(struct it *t, const char *cid, struct userns_spec *u,
			     const char *want)
{
	struct it_io io = {0};
	int st = -1, rc = it_run(t, cid, &u->s, &io, &st);
	if (rc == 0)
		rc = it_expect_out(t, cid, &io, st, want, 0);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Run args in the container (an exec when eid is set, else a new container cid). */
static int run_in(struct it *t, const char *cid, const char *eid, struct it_spec *s,
		  struct it_io *io, int *st)
{
	if (eid)
		return it_exec_run(t, cid, eid, &s->proc, io, st);
	return it_run(t, cid, s, io, st);
}

/* cat FILE inside prints one map line: 0 100000 65536. */
static int expect_map(struct it *t, const char *cid, const char *eid, struct it_spec *s,
		      const char *file)
{
	struct it_io io = {0};
	int st = -1, rc = 0;
	it_spec_args(s, "cat", file, NULL);
	if (run_in(t, cid, eid, s, &io, &st) < 0)
		rc = -1;
	else if (st != 0 || strcmp(SQUEEZED(it_buf_str(&io.out)), MAP_LINE) != 0)
		rc = it_why(t, "%s inside: %s (exit %d, stderr %s), want \"%s\"", file,
			    IT_SHOW(io.out.p, io.out.len), st, IT_SHOW(io.err.p, io.err.len),
			    MAP_LINE);
	it_io_free(&io);
	return rc;
}

/* pdtest status inside: uid and gid 0 for real, effective, saved and fs. */
static int expect_root_inside(struct it *t, const char *cid, const char *eid, struct it_spec *s)
{
	struct it_io io = {0};
	char f[256];
	int st = -1, rc = 0;
	it_spec_args(s, "status", NULL);
	if (run_in(t, cid, eid, s, &io, &st) < 0)
		rc = -1;
	else if (st != 0 || strcmp(it_status_field(it_buf_str(&io.out), "Uid", f, sizeof(f)),
				   "0 0 0 0") != 0)
		rc = it_why(t, "Uid inside: \"%s\" (exit %d, stderr %s), want 0 0 0 0", f, st,
			    IT_SHOW(io.err.p, io.err.len));
	else if (strcmp(it_status_field(it_buf_str(&io.out), "Gid", f, sizeof(f)), "0 0 0 0"))
		rc = it_why(t, "Gid inside: \"%s\", want 0 0 0 0", f);
	it_io_free(&io);
	return rc;
}

/* ---- user namespaces ---------------------------------------------------------------------- */

static int case_userns_maps(struct it *t)
{
	struct userns_spec u;
	int rc = -1, rc2 = 0;
	userns_spec(&u, t->rootfs);
	TRY(expect_map(t, "userns-uidmap", NULL, &u.s, "/proc/self/uid_map"));
	userns_spec(&u, t->rootfs);
	rc2 = expect_map(t, "userns-gidmap", NULL, &u.s, "/proc/self/gid_map");
	it_cleanup(t, "userns-gidmap", &rc2);
	TRY(rc2);
	rc = 0;
out:
	it_cleanup(t, "userns-uidmap", &rc);
	return rc;
}

static int case_userns_root_inside(struct it *t)
{
	struct userns_spec u;
	int rc = -1;
	userns_spec(&u, t->rootfs);
	TRY(expect_root_inside(t, "userns-id", NULL, &u.s));
	rc = 0;
out:
	it_cleanup(t, "userns-id", &rc);
	return rc;
}

/* From the host: the init runs as uid 100000, in a user namespace that is not the agent's,
 * whose map the host reads as written. An exec joins it: the same maps, root inside. */
static int case_userns_exec(struct it *t)
{
	const char *cid = "userns-exec";
	struct userns_spec u, e;
	char path[64], f[256];
	int rc = -1;
	TRY(userns_up_sleeping(t, cid, &u));
	int pid;
	TRY(init_pid(t, cid, &pid));
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	char *text = it_read_file(path, NULL);
	EXPECT(text && !strcmp(SQUEEZED(text), MAP_LINE), "%s from the host: %s", path,
	       text ? text : strerror(errno));
	free(text);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	text = it_read_file(path, NULL);
	it_status_field(text ? text : "", "Uid", f, sizeof(f));
	free(text);
	EXPECT(!strcmp(f, "100000 100000 100000 100000"), "the init's Uid seen from the host: %s",
	       f);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	char own[64];
	snprintf(own, sizeof(own), "/proc/%d/ns/user", (int)t->agent);
	EXPECT(it_ns_ino(path) && it_ns_ino(path) != it_ns_ino(own),
	       "the init is in the agent's user namespace");
	userns_spec(&e, t->rootfs);
	TRY(expect_map(t, cid, "uidmap", &e.s, "/proc/self/uid_map"));
	TRY(expect_map(t, cid, "gidmap", &e.s, "/proc/self/gid_map"));
	TRY(expect_root_inside(t, cid, "id", &e.s));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A file the container's root creates on a bind mount belongs to host uid/gid 100000. */
static int case_userns_file_owner(struct it *t)
{
	const char *cid = "userns-owner";
	static char *opts[] = {"rbind", "rw"};
	char dir[] = "/tmp/pidone-userns.XXXXXX", file[PATH_MAX];
	struct userns_spec u;
	struct it_io io = {0};
	struct stat st;
	int rc = -1, status = -1;
	EXPECT(mkdtemp(dir) && chmod(dir, 0777) == 0, "mkdtemp: %s", strerror(errno));
	userns_spec(&u, t->rootfs);
	it_spec_mount(&u.s, "/vol", "bind", dir, opts, IT_N(opts));
	it_spec_args(&u.s, "write", "/vol/made-inside", NULL);
	TRY(it_run(t, cid, &u.s, &io, &status));
	TRY(it_expect_out(t, "write /vol/made-inside", &io, status, "ok\n", 0));
	snprintf(file, sizeof(file), "%s/made-inside", dir);
	EXPECT(stat(file, &st) == 0, "%s: %s", file, strerror(errno));
	EXPECT(st.st_uid == MAP_HOST && st.st_gid == MAP_HOST,
	       "%s is owned by %u:%u on the host, want %d:%d", file, (unsigned)st.st_uid,
	       (unsigned)st.st_gid, MAP_HOST, MAP_HOST);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	snprintf(file, sizeof(file), "%s/made-inside", dir);
	unlink(file);
	rmdir(dir);
	return rc;
}

/* A user namespace joined by path: another container's. The init and an exec run with its
 * maps, as root inside; the agent's root set the rootfs up (a mount namespace the joined
 * user namespace does not own). */
static int case_userns_join_path(struct it *t)
{
	const char *a = "userns-owner-a", *b = "userns-join-b";
	struct userns_spec u, j, e;
	char path[64], pb[64];
	int rc = -1, pid_a = 0, pid_b = 0;
	TRY(userns_up_sleeping(t, a, &u));
	TRY(init_pid(t, a, &pid_a));
	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid_a);
	userns_spec(&j, t->rootfs);
	it_spec_args(&j.s, "sleep", IT_LONG_SLEEP, NULL);
	j.s.ns[j.s.lx.n_namespaces - 1].path = path;
	TRY(it_create(t, b, &j.s));
	TRY(it_start(t, b));
	TRY(init_pid(t, b, &pid_b));
	snprintf(pb, sizeof(pb), "/proc/%d/ns/user", pid_b);
	EXPECT(it_ns_ino(pb) && it_ns_ino(pb) == it_ns_ino(path),
	       "B's user namespace %lu is not A's %lu", it_ns_ino(pb), it_ns_ino(path));
	userns_spec(&e, t->rootfs);
	TRY(expect_map(t, b, "uidmap", &e.s, "/proc/self/uid_map"));
	TRY(expect_root_inside(t, b, "id", &e.s));
	rc = 0;
out:
	it_cleanup(t, b, &rc); /* keeps a failure's reason, else gives RemoveContainer's */
	it_cleanup(t, a, &rc);
	return rc;
}

/* The process may reopen its stdio (/dev/stdout) inside: the agent gave the pipes, or the
 * tty, to the host ids its ids map to. Root and uid 1000, pipes and a terminal. */
static int case_userns_stdio(struct it *t)
{
	static const struct {
		uint32_t uid;
		bool tty;
		const char *out;
	} runs[] = {{0, false, "ok\n"}, {1000, false, "ok\n"}, {1000, true, "ok\r\n"}};
	struct userns_spec u;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < IT_N(runs); i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "userns-stdio-%zu", i);
		userns_spec(&u, t->rootfs);
		it_spec_args(&u.s, "write", "/dev/stdout", NULL);
		u.s.user.uid = u.s.user.gid = runs[i].uid;
		u.s.proc.terminal = runs[i].tty;
		rc = userns_run_expect(t, cid, &u, runs[i].out);
	}
	return rc;
}

/* A sysctl of the container's own ipc namespace, written by the root of its user namespace
 * (through the agent's /proc, before the pivot). */
static int case_userns_sysctl(struct it *t)
{
	struct userns_spec u;
	Grpc__Linux__SysctlEntry e, *ep[1] = {&e};
	userns_spec(&u, t->rootfs);
	grpc__linux__sysctl_entry__init(&e);
	e.key = "kernel.msgmax";
	e.value = "12345";
	u.s.lx.sysctl = ep;
	u.s.lx.n_sysctl = 1;
	it_spec_args(&u.s, "cat", "/proc/sys/kernel/msgmax", NULL);
	return userns_run_expect(t, "userns-sysctl", &u, "12345\n");
}

/* What a user namespace cannot make itself: device nodes (the guest's are bound) and, in
 * the VM's network namespace, sysfs (the guest's /sys is bound, read-only as asked). */
static int case_userns_devices_sysfs(struct it *t)
{
	const char *cid = "userns-dev";
	struct userns_spec u, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(userns_up_sleeping(t, cid, &u));
	userns_spec(&e, t->rootfs);
	it_spec_args(&e.s, "stat", "/dev/null", NULL);
	TRY(it_exec_run(t, cid, "null", &e.s.proc, &io, &st));
	TRY(it_expect_out(t, "stat /dev/null", &io, st, "20666 1:3\n", 0));
	it_io_free(&io);
	it_spec_args(&e.s, "write", "/dev/null", NULL);
	TRY(it_exec_run(t, cid, "null-write", &e.s.proc, &io, &st));
	TRY(it_expect_out(t, "open /dev/null for writing", &io, st, "ok\n", 0));
	it_io_free(&io);
	it_spec_args(&e.s, "stat", "/sys/kernel", NULL);
	TRY(it_exec_run(t, cid, "sys", &e.s.proc, &io, &st));
	EXPECT(st == 0 && strncmp(it_buf_str(&io.out), "40", 2) == 0,
	       "/sys/kernel inside: %s (exit %d)", IT_SHOW(io.out.p, io.out.len), st);
	it_io_free(&io);
	it_spec_args(&e.s, "/bin/pdtest", "mkdir", "/sys/it-x", NULL);
	TRY(it_exec_run(t, cid, "sys-ro", &e.s.proc, &io, &st));
	TRY(it_expect_out(t, "mkdir in /sys", &io, st, "Read-only file system\n", 1));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* containerd's cgroup mount: the hierarchies of the container's cgroup namespace (its own,
 * owned by its user namespace), each showing only the container: pid 1. */
static int case_userns_cgroup_mount(struct it *t)
{
	static char *opts[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
	struct userns_spec u;
	struct statfs sfs;
	bool v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == 0x63677270; /* CGROUP2 */
	userns_spec(&u, t->rootfs);
	it_spec_mount(&u.s, "/sys/fs/cgroup", "cgroup", "cgroup", opts, IT_N(opts));
	it_spec_args(&u.s, "cat", v2 ? "/sys/fs/cgroup/cgroup.procs" : "/sys/fs/cgroup/pids/cgroup.procs",
		     NULL);
	return userns_run_expect(t, "userns-cgroup", &u, "1\n");
}

/* `runc spec --rootless`'s shape: /sys an rbind of the host's, no network namespace,
 * devpts without gid=5, user namespace with maps. */
static int case_userns_rootless_spec(struct it *t)
{
	static char *sys[] = {"rbind", "nosuid", "noexec", "nodev", "ro"};
	struct userns_spec u;
	userns_spec(&u, t->rootfs);
	for (size_t i = 0; i < u.s.spec.n_mounts; i++)
		if (!strcmp(u.s.mnt[i].destination, "/sys")) {
			u.s.mnt[i].type = "none";
			u.s.mnt[i].source = "/sys";
			u.s.mnt[i].options = sys;
			u.s.mnt[i].n_options = IT_N(sys);
		}
	it_spec_args(&u.s, "stat", "/dev/zero", NULL);
	return userns_run_expect(t, "userns-rootless", &u, "20666 1:5\n");
}

static int case_userns_state_json(struct it *t)
{
	const char *cid = "userns-state";
	struct userns_spec u;
	struct it_json j = {0};
	char path[PATH_MAX], v[PATH_MAX], ns[64];
	char *text = NULL;
	int rc = -1;
	userns_spec(&u, t->rootfs);
	it_spec_args(&u.s, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_create(t, cid, &u.s));
	text = it_read_file(it_state_path(t, cid, path, sizeof(path)), NULL);
	EXPECT(text && it_json_parse(&j, text) == 0, "%s: not readable JSON", path);
	int pid = it_json_get(&j, "init_process_pid", v, sizeof(v)) ? atoi(v) : 0;
	EXPECT(it_json_get(&j, "namespace_paths.NEWUSER", v, sizeof(v)),
	       "state.json has no namespace_paths.NEWUSER");
	snprintf(ns, sizeof(ns), "/proc/%d/ns/user", pid);
	EXPECT(!strcmp(v, ns), "namespace_paths.NEWUSER = %s, want %s", v, ns);
	EXPECT(it_json_get(&j, "config.uid_mappings", v, sizeof(v)) &&
		   !strcmp(SQUEEZED(v), "[{\"container_id\":0,\"host_id\":100000,\"size\":65536}]"),
	       "config.uid_mappings = %s", v);
	EXPECT(it_json_get(&j, "config.gid_mappings", v, sizeof(v)) &&
		   !strcmp(SQUEEZED(v), "[{\"container_id\":0,\"host_id\":100000,\"size\":65536}]"),
	       "config.gid_mappings = %s", v);
	/* Its ipc and uts are its own: the sandbox's belong to the agent's user namespace. */
	EXPECT(it_json_get(&j, "namespace_paths.NEWIPC", v, sizeof(v)) &&
		   strstr(v, "/proc/") == v,
	       "namespace_paths.NEWIPC = %s, want the init's own", v);
	rc = 0;
out:
	it_json_free(&j);
	free(text);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* One bad request: `want` with a message that says `why`, and the agent is as before. */
static int refused(struct it *t, const char *what, struct it_spec *s, bool pidns, int want,
		   const char *why)
{
	Grpc__CreateContainerRequest req;
	struct it_snap before;
	it_snap_take(t, &before);
	it_create_req(&req, "userns-bad", s);
	req.sandbox_pidns = pidns;
	int code = it_call(t, "CreateContainer", &req.base, NULL, NULL);
	if (code < 0)
		return -1;
	if (code != want || !strstr(t->msg, why))
		return it_why(t, "%s: got %s (%s), want %s (...%s...)", what, pd_code_name(code),
			      t->msg, pd_code_name(want), why);
	return it_snap_same(t, &before, what);
}

static int case_userns_bad_maps(struct it *t)
{
	struct userns_spec u;
	static Grpc__LinuxIDMapping many[341], *manyp[341];
	int rc = -1;
	userns_spec(&u, t->rootfs);
	u.s.lx.n_uidmappings = u.s.lx.n_gidmappings = 0;
	TRY(refused(t, "user namespace without maps", &u.s, false, PD_INVALID_ARGUMENT,
		    "needs both"));
	userns_spec(&u, t->rootfs);
	u.s.lx.n_gidmappings = 0;
	TRY(refused(t, "no gid map", &u.s, false, PD_INVALID_ARGUMENT, "needs both"));
	userns_spec(&u, t->rootfs);
	u.s.lx.n_namespaces--; /* the user namespace was listed last */
	TRY(refused(t, "maps without a user namespace", &u.s, false, PD_INVALID_ARGUMENT,
		    "no user namespace"));
	userns_spec(&u, t->rootfs);
	u.uid.size = 0;
	TRY(refused(t, "size 0", &u.s, false, PD_INVALID_ARGUMENT,
		    "UIDMappings[0]: size 0"));
	userns_spec(&u, t->rootfs);
	u.uid.containerid = 4294967295u - 10;
	TRY(refused(t, "range past the last id", &u.s, false, PD_INVALID_ARGUMENT,
		    "past the last id"));
	for (size_t i = 0; i < IT_N(many); i++) {
		grpc__linux_idmapping__init(&many[i]);
		many[i].containerid = (uint32_t)i * 10;
		many[i].hostid = 200000 + (uint32_t)i * 10;
		many[i].size = 5;
		manyp[i] = &many[i];
	}
	userns_spec(&u, t->rootfs);
	u.s.lx.uidmappings = manyp;
	u.s.lx.n_uidmappings = 341;
	TRY(refused(t, "341 lines", &u.s, false, PD_INVALID_ARGUMENT, "341 entries"));
	many[1].containerid = 2; /* overlaps [0] inside */
	u.s.lx.n_uidmappings = 2;
	TRY(refused(t, "overlapping container ids", &u.s, false, PD_INVALID_ARGUMENT,
		    "[1]: container ids overlap those of [0]"));
	many[1].containerid = 10;
	many[1].hostid = 200003; /* overlaps [0] outside */
	TRY(refused(t, "overlapping host ids", &u.s, false, PD_INVALID_ARGUMENT,
		    "[1]: host ids overlap those of [0]"));
	userns_spec(&u, t->rootfs);
	u.s.ns[u.s.lx.n_namespaces - 1].path = "/proc/self/ns/none";
	TRY(refused(t, "a user namespace path that is none", &u.s, false, PD_NOT_FOUND,
		    "open user namespace /proc/self/ns/none"));
	userns_spec(&u, t->rootfs);
	u.s.user.uid = 70000;
	TRY(refused(t, "an unmapped uid", &u.s, false, PD_INVALID_ARGUMENT,
		    "UID 70000 is not mapped"));
	userns_spec(&u, t->rootfs);
	u.s.gids[0] = 65536;
	u.s.user.n_additionalgids = 1;
	TRY(refused(t, "an unmapped additional gid", &u.s, false, PD_INVALID_ARGUMENT,
		    "65536 is not mapped"));
	userns_spec(&u, t->rootfs);
	u.s.ns[1].path = "/proc/self/ns/ipc"; /* it_spec_default lists ipc second */
	TRY(refused(t, "a new user namespace with an ipc namespace by path", &u.s, false,
		    PD_INVALID_ARGUMENT, "cannot join the ipc namespace"));
	userns_spec(&u, t->rootfs);
	TRY(refused(t, "a new user namespace in the sandbox's pid namespace", &u.s, true,
		    PD_INVALID_ARGUMENT, "sandbox_pidns"));
	rc = 0;
out:
	return rc;
}

/* ---- pid namespaces ----------------------------------------------------------------------- */

/* pdtest ps in a new container cid (flag: CreateContainer.sandbox_pidns). */
static int ps_in_new(struct it *t, const char *cid, bool flag, struct it_io *io)
{
	struct it_spec s;
	Grpc__CreateContainerRequest req;
	int st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "/bin/pdtest", "ps", NULL);
	it_create_req(&req, cid, &s);
	req.sandbox_pidns = flag;
	if (it_ok(t, "CreateContainer", &req.base, NULL, NULL) < 0 || it_start(t, cid) < 0 ||
	    it_drain(t, cid, cid, false, io, IT_IO_MS) < 0 || it_wait(t, cid, cid, &st) < 0)
		return -1;
	if (st != 0)
		return it_why(t, "ps exited %d: %s", st, IT_SHOW(io->err.p, io->err.len));
	return 0;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static bool has_comm(const char *text, const char *comm)
{
	char pat[64];
	snprintf(pat, sizeof(pat), " %s\n", comm);
	return strstr(text, pat) != NULL;
}

/* Without sandbox_pidns each container is alone in its pid namespace, pid 1 itself. */
static int case_pidns_separate(struct it *t)
{
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1;
	TRY(it_up_sleeping(t, "pidns-sep-a", &s));
	TRY(ps_in_new(t, "pidns-sep-b", false, &io));
	const char *out = it_buf_str(&io.out);
	EXPECT(has_line(out, "1 pdtest") && !has_comm(out, "sleep"),
	       "ps in B: %s, want only itself as pid 1", IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, "pidns-sep-b", &rc);
	it_cleanup(t, "pidns-sep-a", &rc);
	return rc;
}

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

/* Two containers see each other's processes; pid 1 is the holder; the namespace is the
 * one pinned at /var/run/sandbox-ns/pid, which state.json names. */
static int shared_pidns_check(struct it *t, const char *a, const char *b, bool flag)
{
	struct it_spec s;
	struct it_io io = {0};
	struct it_json j = {0};
	char path[PATH_MAX], v[PATH_MAX], ns[64];
	char *text = NULL;
	int rc = -1;
	Grpc__CreateContainerRequest req;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	it_create_req(&req, a, &s);
	req.sandbox_pidns = flag;
	TRY(it_ok(t, "CreateContainer", &req.base, NULL, NULL));
	TRY(it_start(t, a));
	TRY(ps_in_new(t, b, flag, &io));
	const char *out = it_buf_str(&io.out);
	EXPECT(has_line(out, "1 " HOLDER) && has_comm(out, "sleep") && has_comm(out, "pdtest"),
	       "ps in B: %s, want pid 1 " HOLDER ", A's sleep and itself",
	       IT_SHOW(io.out.p, io.out.len));
	int hp = holder_pid(t);
	EXPECT(hp > 0, "no child of the agent is named " HOLDER);
	text = it_read_file(it_state_path(t, a, path, sizeof(path)), NULL);
	EXPECT(text && it_json_parse(&j, text) == 0, "%s: not readable JSON", path);
	EXPECT(it_json_get(&j, "namespace_paths.NEWPID", v, sizeof(v)) && !strcmp(v, PIDNS_PIN),
	       "namespace_paths.NEWPID = %s, want " PIDNS_PIN, v);
	int pid = it_json_get(&j, "init_process_pid", v, sizeof(v)) ? atoi(v) : 0;
	snprintf(ns, sizeof(ns), "/proc/%d/ns/pid", pid);
	char holder_ns[64];
	snprintf(holder_ns, sizeof(holder_ns), "/proc/%d/ns/pid_for_children", hp);
	it_agent_path(t, path, sizeof(path), "/run/sandbox-ns/pid");
	EXPECT(it_ns_ino(ns) && it_ns_ino(ns) == it_ns_ino(path) &&
		   it_ns_ino(ns) == it_ns_ino(holder_ns),
	       "A's pid namespace %lu, the pin's %lu, the holder's %lu", it_ns_ino(ns),
	       it_ns_ino(path), it_ns_ino(holder_ns));
	rc = 0;
out:
	it_json_free(&j);
	free(text);
	it_io_free(&io);
	it_cleanup(t, b, &rc); /* keeps a failure's reason, else gives RemoveContainer's */
	it_cleanup(t, a, &rc);
	return rc;
}

/* CreateContainer.sandbox_pidns alone: the holder starts with the first that asks. Last on
 * its agent: every later container joins it. */
static int case_pidns_container_flag(struct it *t)
{
	EXPECT(holder_pid(t) == 0, "a holder runs before any container asked for one");
	return shared_pidns_check(t, "pidns-flag-a", "pidns-flag-b", true);
out:
	return -1;
}

static int case_shared_pidns(struct it *t)
{
	return shared_pidns_check(t, "pidns-shared-a", "pidns-shared-b", false);
}

/* An exec in a container of the shared namespace sees the other container too. */
static int case_shared_pidns_exec(struct it *t)
{
	struct it_spec a, b, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, "pidns-exec-a", &a));
	it_spec_default(&b, t->rootfs);
	it_spec_args(&b, "trap-term", NULL);
	TRY(it_create(t, "pidns-exec-b", &b));
	TRY(it_start(t, "pidns-exec-b"));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "/bin/pdtest", "ps", NULL);
	TRY(it_exec_run(t, "pidns-exec-a", "ps", &e.proc, &io, &st));
	const char *out = it_buf_str(&io.out);
	EXPECT(st == 0 && has_line(out, "1 " HOLDER) && has_comm(out, "trap-term"),
	       "ps in an exec of A: %s, want the holder and B's trap-term",
	       IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, "pidns-exec-b", &rc);
	it_cleanup(t, "pidns-exec-a", &rc);
	return rc;
}

/* A pid namespace the spec names by path is kept: here the host's own. */
static int case_spec_pid_path_kept(struct it *t)
{
	const char *cid = "pidns-path";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	char own[64];
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "pid", NULL);
	snprintf(own, sizeof(own), "/proc/%d/ns/pid", (int)t->agent);
	s.ns[0].path = own; /* "pid" comes first in it_spec_default */
	TRY(it_run(t, cid, &s, &io, &st));
	int pid = atoi(it_buf_str(&io.out));
	EXPECT(st == 0 && pid > 1 && kill(pid, 0) < 0 && errno == ESRCH,
	       "pid %s in the host's pid namespace: want a host pid, now gone",
	       IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The holder killed: the namespace dies with every process in it; the next container gets
 * a new holder and namespace. */
static int case_holder_killed(struct it *t)
{
	const char *a = "pidns-killed-a", *b = "pidns-killed-b";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1, hp = holder_pid(t), hp2;
	EXPECT(hp > 0, "no holder");
	TRY(it_up_sleeping(t, a, &s));
	EXPECT(kill(hp, SIGKILL) == 0, "kill the holder: %s", strerror(errno));
	TRY(it_wait(t, a, a, &st));
	EXPECT(st == 137, "A's init ended with %d, want 137 (killed with its namespace)", st);
	TRY(ps_in_new(t, b, false, &io));
	hp2 = holder_pid(t);
	EXPECT(hp2 > 0 && hp2 != hp, "holder %d after %d was killed", hp2, hp);
	EXPECT(has_line(it_buf_str(&io.out), "1 " HOLDER), "ps in B: %s",
	       IT_SHOW(io.out.p, io.out.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, b, &rc); /* keeps a failure's reason, else gives RemoveContainer's */
	it_cleanup(t, a, &rc);
	return rc;
}

/* DestroySandbox ends the holder and its namespace (the agent stops after it). */
static int case_destroy_ends_holder(struct it *t)
{
	int hp = holder_pid(t), rc = -1;
	EXPECT(hp > 0, "no holder before DestroySandbox");
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	TRY(it_ok(t, "DestroySandbox", &req.base, NULL, NULL));
	int64_t end = 0;
	while (kill(hp, 0) == 0 && it_retry(&end))
		;
	EXPECT(kill(hp, 0) < 0 && errno == ESRCH, "the holder %d still runs after %d s", hp,
	       IT_WAIT_MS / 1000);
	rc = 0;
out:
	return rc;
}

static const struct it_case cases[] = {
    {"userns_maps_inside", case_userns_maps},
    {"userns_root_inside", case_userns_root_inside},
    {"userns_exec_joins", case_userns_exec},
    {"userns_bind_file_owned_by_mapped_host_uid", case_userns_file_owner},
    {"userns_joined_by_path", case_userns_join_path},
    {"userns_stdio_reopened_inside", case_userns_stdio},
    {"userns_sysctl_in_its_ipc_namespace", case_userns_sysctl},
    {"userns_devices_and_sysfs_bound", case_userns_devices_sysfs},
    {"userns_rootless_spec", case_userns_rootless_spec},
    {"userns_cgroup_mount", case_userns_cgroup_mount},
    {"userns_state_json", case_userns_state_json},
    {"userns_bad_maps_refused_nothing_left", case_userns_bad_maps},
    {"pidns_separate_without_sandbox_pidns", case_pidns_separate},
    /* Last: it starts the holder, which every later container joins. */
    {"pidns_create_container_flag_starts_holder", case_pidns_container_flag},
    {NULL, NULL},
};

static const struct it_case shared_cases[] = {
    {"shared_pidns_containers_see_each_other", case_shared_pidns},
    {"shared_pidns_exec", case_shared_pidns_exec},
    {"shared_pidns_spec_path_kept", case_spec_pid_path_kept},
    {"shared_pidns_holder_killed_is_replaced", case_holder_killed},
    {"shared_pidns_destroy_ends_holder", case_destroy_ends_holder},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return it_create_sandbox(argc, argv, argc > 4 && !strcmp(argv[4], "--pidns"),
					 argc > 4 ? "create_sandbox_pidns" : "create_sandbox");
	bool shared = argc > 1 && strcmp(argv[1], "--shared-pidns") == 0;
	if (shared) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (it_init(&t, argc, argv) < 0)
		return 2;
	it_run_cases(&t, shared ? shared_cases : cases);
	return it_finish(&t, "namespaces");
}
