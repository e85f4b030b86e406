/* UpdateContainer, StatsContainer, PauseContainer, ResumeContainer and GetOOMEvent end to
 * end over ttRPC, with containers that get cgroups (docs/cgroups.md).
 *
 *   cgroups ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 *   cgroups --destroy-sandbox ADDR ROOTFS AGENT_PID SANDBOX_ID
 *
 * AGENT_PID > 0 (host run, tests/integration/cgroups.sh): the agent runs on this host with
 * PIDONE_CGROUP_PARENT set, and the cases also check the kernel's side: the files under
 * the paths state.json names, where the processes are, an OOM kill in the container's
 * memory cgroup reaching a parked GetOOMEvent. AGENT_PID 0 (an agent in a VM, the QEMU boot
 * test): only what the RPCs show (StatsContainer's limits, the state rules, the device rules
 * seen by a process), which works on cgroup v1 and v2 alike. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "itest.h"

#define MiB (1024 * 1024)

static bool host_mode(const struct it *t)
{
	return t->agent > 0;
}

/* ---- requests ------------------------------------------------------------------------- */

struct res {
	Grpc__LinuxResources r;
	Grpc__LinuxMemory mem;
	Grpc__LinuxCPU cpu;
	Grpc__LinuxPids pids;
	Grpc__LinuxDeviceCgroup dev[4];
	Grpc__LinuxDeviceCgroup *devp[4];
};

static Grpc__LinuxResources *res_init(struct res *r, int64_t mem, int64_t pids)
{
	memset(r, 0, sizeof(*r));
	grpc__linux_resources__init(&r->r);
	grpc__linux_memory__init(&r->mem);
	grpc__linux_cpu__init(&r->cpu);
	grpc__linux_pids__init(&r->pids);
	if (mem) {
		r->mem.limit = mem;
		r->r.memory = &r->mem;
	}
	if (pids) {
		r->pids.limit = pids;
		r->r.pids = &r->pids;
	}
	return &r->r;
}

static void res_device(struct res *r, bool allow, const char *type, int64_t major, int64_t minor,
		       const char *access)
{
	size_t i = r->r.n_devices;
	grpc__linux_device_cgroup__init(&r->dev[i]);
	r->dev[i].allow = allow;
	r->dev[i].type = (char *)type;
	r->dev[i].major = major;
	r->dev[i].minor = minor;
	r->dev[i].access = (char *)access;
	r->devp[i] = &r->dev[i];
	r->r.devices = r->devp;
	r->r.n_devices = i + 1;
}

static int update(struct it *t, const char *cid, Grpc__LinuxResources *r, int want)
{
	Grpc__UpdateContainerRequest req = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.resources = r;
	return want ? it_code(t, "UpdateContainer", &req.base, want)
		    : it_ok(t, "UpdateContainer", &req.base, NULL, NULL);
}

static int stats(struct it *t, const char *cid, Grpc__StatsContainerResponse **out)
{
	Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	if (it_ok(t, "StatsContainer", &req.base, &grpc__stats_container_response__descriptor,
		  out) < 0)
		return -1;
	if (!(*out)->cgroup_stats || !(*out)->cgroup_stats->memory_stats ||
	    !(*out)->cgroup_stats->pids_stats || !(*out)->cgroup_stats->cpu_stats) {
		protobuf_c_message_free_unpacked(&(*out)->base, NULL);
		return it_why(t, "StatsContainer %s: a part of CgroupStats is missing", cid);
	}
	return 0;
}

/* Pause or Resume; want 0 = must succeed. */
static int pause_resume(struct it *t, const char *method, const char *cid, int want)
{
	Grpc__PauseContainerRequest p = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
	Grpc__ResumeContainerRequest r = GRPC__RESUME_CONTAINER_REQUEST__INIT;
	p.container_id = r.container_id = (char *)cid;
	const ProtobufCMessage *m = strcmp(method, "ResumeContainer") == 0 ? &r.base : &p.base;
	return want ? it_code(t, method, m, want) : it_ok(t, method, m, NULL, NULL);
}

/* A container whose init sleeps, with resources. */
static int up(struct it *t, const char *cid, struct it_spec *s, Grpc__LinuxResources *r, bool start)
{
	it_spec_default(s, t->rootfs);
	it_spec_args(s, "sleep", IT_LONG_SLEEP, NULL);
	s->lx.resources = r;
	if (it_create(t, cid, s) < 0 || (start && it_start(t, cid) < 0))
		return -1;
	return 0;
}

/* ExecProcess of args in cid: stdout and status. */
static int exec_out(struct it *t, const char *cid, const char *eid, struct it_io *io, int *status,
		    const char *a0, const char *a1)
{
	struct it_spec e;
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, a0, a1, NULL);
	return it_exec_run(t, cid, eid, &e.proc, io, status);
}

/* ---- the kernel's side (host runs) --------------------------------------------------------- */

static int state_get(struct it *t, const char *cid, const char *key, char *v, size_t size)
{
	char path[PATH_MAX];
	it_state_path(t, cid, path, sizeof(path));
	char *text = it_read_file(path, NULL);
	struct it_json j = {0};
	if (!text)
		return it_why(t, "%s: %s", path, strerror(errno));
	int rc = it_json_parse(&j, text) < 0 || !it_json_get(&j, key, v, size)
		     ? it_why(t, "%s: no %s", path, key)
		     : 0;
	it_json_free(&j);
	free(text);
	return rc;
}

/* The container's directory in the v1 hierarchy of ctl, from state.json cgroup_paths. */
static int cg_dir(struct it *t, const char *cid, const char *ctl, char *dir, size_t size)
{
	char key[64];
	snprintf(key, sizeof(key), "cgroup_paths.%s", ctl);
	if (state_get(t, cid, key, dir, size) < 0)
		return -1;
	if (access(dir, F_OK) < 0)
		return it_why(t, "%s %s = %s does not exist", cid, key, dir);
	return 0;
}

static int cg_file(struct it *t, const char *cid, const char *ctl, const char *file, char *v,
		   size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	if (cg_dir(t, cid, ctl, dir, sizeof(dir)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	char *text = it_read_file(path, NULL);
	if (!text)
		return it_why(t, "%s: %s", path, strerror(errno));
	snprintf(v, size, "%s", text);
	v[strcspn(v, "\n")] = '\0';
	free(text);
	return 0;
}

static int expect_file(struct it *t, const char *cid, const char *ctl, const char *file,
		       const char *want)
{
	char v[256];
	if (cg_file(t, cid, ctl, file, v, sizeof(v)) < 0)
		return -1;
	if (strcmp(v, want) != 0)
		return it_why(t, "%s %s/%s = %s, want %s", cid, ctl, file, v, want);
	return 0;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- cases ---------------------------------------------------------------------------- */

static int case_not_found(struct it *t)
{
	static const char *const methods[] = {"UpdateContainer", "StatsContainer", "PauseContainer",
					      "ResumeContainer"};
	Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
	req.container_id = "no-such-container"; /* the four requests share field 1 */
	for (size_t i = 0; i < IT_N(methods); i++)
		if (it_code(t, methods[i], &req.base, PD_NOT_FOUND) < 0)
			return -1;
	return 0;
}

static int case_limits_in_stats(struct it *t)
{
	const char *cid = "cg-stats";
	struct it_spec s;
	struct res r;
	Grpc__StatsContainerResponse *st = NULL;
	int rc = -1;
	TRY(up(t, cid, &s, res_init(&r, 64 * MiB, 32), true));
	TRY(stats(t, cid, &st));
	Grpc__CgroupStats *c = st->cgroup_stats;
	EXPECT(c->memory_stats->usage && c->memory_stats->usage->limit == 64 * MiB,
	       "memory limit %llu, want 64 MiB",
	       (unsigned long long)(c->memory_stats->usage ? c->memory_stats->usage->limit : 0));
	EXPECT(c->memory_stats->usage->usage > 0, "memory usage 0");
	EXPECT(c->pids_stats->limit == 32, "pids limit %llu",
	       (unsigned long long)c->pids_stats->limit);
	EXPECT(c->pids_stats->current == 1, "pids current %llu, want 1 (the init)",
	       (unsigned long long)c->pids_stats->current);
	EXPECT(c->cpu_stats->cpu_usage && c->cpu_stats->cpu_usage->total_usage > 0, "no cpu usage");
	EXPECT(c->memory_stats->n_stats > 5, "memory.stat has %zu entries",
	       c->memory_stats->n_stats);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	st = NULL;
	/* an update shows in the next stats */
	TRY(update(t, cid, res_init(&r, 96 * MiB, 48), 0));
	TRY(stats(t, cid, &st));
	c = st->cgroup_stats;
	EXPECT(c->memory_stats->usage->limit == 96 * MiB && c->pids_stats->limit == 48,
	       "after the update: memory limit %llu, pids limit %llu",
	       (unsigned long long)c->memory_stats->usage->limit,
	       (unsigned long long)c->pids_stats->limit);
	/* a bad update is refused and changes nothing */
	res_init(&r, 0, 0);
	r.mem.swappiness = 200;
	r.r.memory = &r.mem;
	TRY(update(t, cid, &r.r, PD_INVALID_ARGUMENT));
	rc = 0;
out:
	if (st)
		protobuf_c_message_free_unpacked(&st->base, NULL);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_files_and_placement(struct it *t)
{
	const char *cid = "cg-files";
	struct it_spec s;
	struct res r;
	char v[4096], pid[32], dirs[5][PATH_MAX];
	static const char *const ctls[] = {"memory", "pids", "cpu", "freezer", "devices"};
	int rc = -1;
	res_init(&r, 64 * MiB, 32);
	r.cpu.shares = 512;
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.r.cpu = &r.cpu;
	TRY(up(t, cid, &s, &r.r, false));
	TRY(expect_file(t, cid, "memory", "memory.limit_in_bytes", "67108864"));
	TRY(expect_file(t, cid, "pids", "pids.max", "32"));
	TRY(expect_file(t, cid, "cpu", "cpu.shares", "512"));
	TRY(expect_file(t, cid, "cpu", "cpu.cfs_quota_us", "50000"));
	/* the init is in its cgroups before it runs: at create, in every hierarchy */
	TRY(state_get(t, cid, "init_process_pid", pid, sizeof(pid)));
	for (size_t i = 0; i < IT_N(ctls); i++) {
		TRY(cg_dir(t, cid, ctls[i], dirs[i], sizeof(dirs[i])));
		TRY(cg_file(t, cid, ctls[i], "cgroup.procs", v, sizeof(v)));
		EXPECT(strcmp(v, pid) == 0, "%s cgroup.procs = [%s], want the init %s", ctls[i], v,
		       pid);
	}
	TRY(it_start(t, cid));
	/* an exec goes into the same cgroup */
	TRY(it_exec(t, cid, "e1", &s.proc));
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[0]);
	char *procs = it_read_file(path, NULL);
	int n = procs ? count_lines(procs) : -1;
	free(procs);
	EXPECT(n == 2, "%d processes in the memory cgroup, want the init and the exec", n);
	/* update: the files change */
	TRY(update(t, cid, res_init(&r, 128 * MiB, 0), 0));
	TRY(expect_file(t, cid, "memory", "memory.limit_in_bytes", "134217728"));
	TRY(expect_file(t, cid, "pids", "pids.max", "32"));
	/* removal: every hierarchy's directory goes with the container */
	EXPECT(it_remove_code(t, cid) == 0, "RemoveContainer: %s: %s", pd_code_name(t->code),
	       t->msg);
	for (size_t i = 0; i < IT_N(ctls); i++)
		EXPECT(access(dirs[i], F_OK) < 0, "%s is left after RemoveContainer", dirs[i]);
	return 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_pause_resume(struct it *t)
{
	const char *cid = "cg-pause";
	struct it_spec s;
	struct it_io io = {0};
	char v[64];
	int rc = -1, st = -1;
	TRY(up(t, cid, &s, NULL, true));
	TRY(pause_resume(t, "PauseContainer", cid, 0));
	if (host_mode(t)) {
		TRY(expect_file(t, cid, "freezer", "freezer.state", "FROZEN"));
		TRY(state_get(t, cid, "status", v, sizeof(v)));
		EXPECT(strcmp(v, "paused") == 0, "state.json status %s, want paused", v);
	}
	TRY(pause_resume(t, "PauseContainer", cid, PD_FAILED_PRECONDITION));
	Grpc__ExecProcessRequest ex = GRPC__EXEC_PROCESS_REQUEST__INIT;
	ex.container_id = (char *)cid;
	ex.exec_id = "while-paused";
	ex.process = &s.proc;
	TRY(it_code(t, "ExecProcess", &ex.base, PD_FAILED_PRECONDITION));
	TRY(pause_resume(t, "ResumeContainer", cid, 0));
	if (host_mode(t)) {
		TRY(expect_file(t, cid, "freezer", "freezer.state", "THAWED"));
		TRY(state_get(t, cid, "status", v, sizeof(v)));
		EXPECT(strcmp(v, "running") == 0, "state.json status %s, want running", v);
	}
	TRY(pause_resume(t, "ResumeContainer", cid, PD_FAILED_PRECONDITION));
	/* it runs again */
	TRY(exec_out(t, cid, "after", &io, &st, "echo", "thawed"));
	TRY(it_expect_out(t, "exec after resume", &io, st, "thawed\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Pause of a created container: Resume gives it back created, and it starts. */
static int case_pause_created(struct it *t)
{
	const char *cid = "cg-pause-created";
	struct it_spec s;
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "exit", "7", NULL);
	TRY(it_create(t, cid, &s));
	TRY(pause_resume(t, "PauseContainer", cid, 0));
	Grpc__StartContainerRequest start = GRPC__START_CONTAINER_REQUEST__INIT;
	start.container_id = (char *)cid;
	TRY(it_code(t, "StartContainer", &start.base, PD_FAILED_PRECONDITION));
	TRY(pause_resume(t, "ResumeContainer", cid, 0));
	TRY(it_start(t, cid));
	TRY(it_wait(t, cid, cid, &st));
	EXPECT(st == 7, "exit status %d, want 7", st);
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Removing a paused container: its processes die (a frozen v1 process only dies once
 * thawed) and the removal is answered (within IT_CALL_MS: never, were they left frozen). */
static int case_remove_paused(struct it *t)
{
	const char *cid = "cg-remove-paused";
	struct it_spec s;
	char dir[PATH_MAX];
	int rc = -1;
	TRY(up(t, cid, &s, NULL, true));
	TRY(it_exec(t, cid, "e", &s.proc));
	if (host_mode(t))
		TRY(cg_dir(t, cid, "freezer", dir, sizeof(dir)));
	TRY(pause_resume(t, "PauseContainer", cid, 0));
	EXPECT(it_remove_code(t, cid) == 0, "RemoveContainer: %s: %s", pd_code_name(t->code),
	       t->msg);
	if (host_mode(t))
		EXPECT(access(dir, F_OK) < 0, "%s is left after RemoveContainer", dir);
	return 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Device rules: a device node reached through a bind mount is refused until a rule allows
 * it (/dev/kmsg, c 1:11: not among the defaults; opening it for writing logs nothing). */
static int case_devices(struct it *t)
{
	const char *cid = "cg-devices";
	struct it_spec s;
	struct res r;
	struct it_io io = {0};
	static char *bind[] = {"bind"};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	it_spec_mount(&s, "/dev/kmsg", "bind", "/dev/kmsg", bind, 1);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(exec_out(t, cid, "w1", &io, &st, "write", "/dev/kmsg"));
	TRY(it_expect_out(t, "write /dev/kmsg with the default rules", &io, st,
			  "Operation not permitted\n", 1));
	it_io_free(&io);
	res_init(&r, 0, 0);
	res_device(&r, true, "c", 1, 11, "w");
	TRY(update(t, cid, &r.r, 0));
	TRY(exec_out(t, cid, "w2", &io, &st, "write", "/dev/kmsg"));
	TRY(it_expect_out(t, "write /dev/kmsg allowed", &io, st, "ok\n", 0));
	it_io_free(&io);
	/* a later deny wins */
	res_device(&r, false, "c", 1, 11, "w");
	TRY(update(t, cid, &r.r, 0));
	TRY(exec_out(t, cid, "w3", &io, &st, "write", "/dev/kmsg"));
	TRY(it_expect_out(t, "write /dev/kmsg denied again", &io, st, "Operation not permitted\n",
			  1));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* GetOOMEvent is a long poll: with a short deadline it ends DEADLINE_EXCEEDED, unanswered. */
static int case_oom_event_parks(struct it *t)
{
	Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
	int code = it_call_svc(t, &t->c, IT_SERVICE, "GetOOMEvent", &req.base, NULL, NULL, 1000);
	if (code == PD_DEADLINE_EXCEEDED)
		return 0;
	if (code < 0 && strstr(t->why, "timed out"))
		return 0; /* the client gave up first */
	return code < 0 ? -1 : it_why(t, "GetOOMEvent answered %s: %s", pd_code_name(code), t->msg);
}

/* Send GetOOMEvent on c2 and see it parked: a Health.Check sent after it on the same
 * connection is answered first (calls of one connection are dispatched in order). An OOM
 * event left queued by an earlier case (on v1 every signal of the eventfd is one event, and
 * one kill can signal more than once) answers it at once instead: that one is drained with a
 * note and the call sent again. Without this a queued event's answer was taken by it_sync as
 * a late reply and dropped, and the case then waited for an answer that had already come. */
static int park_oom_call(struct it *t, struct pd_client *c2, uint32_t *stream)
{
	Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
	Grpc__CheckRequest check = GRPC__CHECK_REQUEST__INIT;
	struct pd_client_reply r;
	struct pd_error e = {0};
	uint32_t sync;
	for (int i = 0; i < 8; i++) {
		if (pd_client_send(c2, IT_SERVICE, "GetOOMEvent", &req.base, 0, stream, &e) < 0 ||
		    pd_client_send(c2, "grpc.Health", "Check", &check.base, 0, &sync, &e) < 0)
			return it_why(t, "send GetOOMEvent + Check: %s", e.msg);
		if (pd_client_recv(c2, IT_CALL_MS, &r, &e) < 0)
			return it_why(t, "GetOOMEvent + Check: no answer: %s", e.msg);
		uint32_t first = r.stream_id;
		int code = r.code;
		Grpc__OOMEvent *ev =
		    code ? NULL : grpc__oomevent__unpack(NULL, r.payload_len, r.payload);
		char got[160];
		snprintf(got, sizeof(got), "%s", ev ? ev->container_id : r.message);
		if (ev)
			grpc__oomevent__free_unpacked(ev, NULL);
		pd_client_reply_free(&r);
		if (first == sync)
			return 0; /* parked */
		if (code != 0)
			return it_why(t, "GetOOMEvent answered at once: %s: %s", pd_code_name(code),
				      got);
		printf("# note: GetOOMEvent answered at once by a queued OOM event of '%s'; "
		       "asking again\n",
		       got);
		if (pd_client_recv(c2, IT_CALL_MS, &r, &e) < 0)
			return it_why(t, "Health.Check: no answer: %s", e.msg);
		pd_client_reply_free(&r);
	}
	return it_why(t, "GetOOMEvent still answered at once after 8 calls");
}

/* A process of ours joins the container's memory cgroup and allocates past its limit:
 * the kernel OOM-kills it in that cgroup, and the parked GetOOMEvent names the container. */
static void hog_in(const char *procs)
{
	FILE *f = fopen(procs, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
		_exit(3);
	size_t size = 256 * MiB;
	volatile char *p =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(4);
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	_exit(5);
}

static int case_oom_event(struct it *t)
{
	const char *cid = "cg-oom";
	struct it_spec s;
	struct res r;
	struct pd_client c2 = {.fd = -1};
	char dir[PATH_MAX], procs[PATH_MAX + 32];
	int rc = -1;
	res_init(&r, 16 * MiB, 0);
	r.mem.swap = 16 * MiB; /* memory + swap = memory: no swapping out of it */
	TRY(up(t, cid, &s, &r.r, true));
	TRY(cg_dir(t, cid, "memory", dir, sizeof(dir)));
	TRY(it_connect(t, &c2));
	uint32_t stream;
	struct pd_error e = {0};
	TRY(park_oom_call(t, &c2, &stream));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		hog_in(procs);
	int status;
	EXPECT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "the hog was not OOM-killed (status %#x)", status);
	struct pd_client_reply reply;
	EXPECT(pd_client_recv(&c2, IT_CALL_MS, &reply, &e) == 0, "GetOOMEvent not answered: %s",
	       e.msg);
	Grpc__OOMEvent *ev =
	    reply.code ? NULL : grpc__oomevent__unpack(NULL, reply.payload_len, reply.payload);
	char got[160];
	snprintf(got, sizeof(got), "%s", ev ? ev->container_id : reply.message);
	int code = reply.code;
	if (ev)
		grpc__oomevent__free_unpacked(ev, NULL);
	pd_client_reply_free(&reply);
	EXPECT(code == 0 && reply.stream_id == stream && strcmp(got, cid) == 0,
	       "GetOOMEvent: %s %s, want container %s", pd_code_name(code), got, cid);
	rc = 0;
out:
	pd_client_close(&c2);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* OnlineCPUMem: the containers' cpusets follow the online CPUs. All of this host's CPUs are
 * online already (nothing to online), but the update runs: a container whose cpuset was
 * narrowed behind the agent's back (as v1 leaves a child when a CPU comes online) gets the
 * root's list again; one that pinned CPU 0 keeps it. */
static int case_online_cpusets(struct it *t)
{
	struct it_spec s1, s2;
	struct res r;
	char dir[PATH_MAX], root_cpus[256];
	int rc = -1, rc2 = -1;
	char *text = it_read_file("/sys/fs/cgroup/cpuset/cpuset.cpus", NULL);
	snprintf(root_cpus, sizeof(root_cpus), "%s", text ? text : "");
	root_cpus[strcspn(root_cpus, "\n")] = '\0';
	free(text);
	if (!root_cpus[0]) {
		printf("# skip online_cpu_mem_cpusets: no v1 cpuset hierarchy on this host\n");
		return 0;
	}
	TRY(up(t, "cg-cpus", &s1, NULL, true));
	res_init(&r, 0, 0);
	r.cpu.cpus = "0";
	r.r.cpu = &r.cpu;
	TRY(up(t, "cg-cpus-pin", &s2, &r.r, true));
	rc2 = 0;
	TRY(cg_dir(t, "cg-cpus", "cpuset", dir, sizeof(dir)));
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	FILE *f = fopen(path, "w");
	EXPECT(f && fputs("0", f) >= 0 && fclose(f) == 0, "narrow %s: %s", path, strerror(errno));
	Grpc__OnlineCPUMemRequest req = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	req.nb_cpus = 1;
	req.cpu_only = true;
	TRY(it_ok(t, "OnlineCPUMem", &req.base, NULL, NULL));
	TRY(expect_file(t, "cg-cpus", "cpuset", "cpuset.cpus", root_cpus));
	TRY(expect_file(t, "cg-cpus-pin", "cpuset", "cpuset.cpus", "0"));
	rc = 0;
out:
	if (rc2 == 0)
		it_cleanup(t, "cg-cpus-pin", &rc);
	it_cleanup(t, "cg-cpus", &rc);
	return rc;
}

/* ---- inside the container (VM runs): what its processes meet ---------------------------- */

/* The spec of a sleeping container in a cgroup namespace of its own, with the spec's cgroup
 * mount: its /sys/fs/cgroup shows its own cgroup (v2: the files at the top; v1: one
 * directory per controller). */
static void spec_inside(struct it *t, struct it_spec *s, Grpc__LinuxResources *r)
{
	static char *ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
	it_spec_default(s, t->rootfs);
	it_spec_args(s, "sleep", IT_LONG_SLEEP, NULL);
	it_spec_namespace(s, "cgroup");
	it_spec_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", ro, IT_N(ro));
	s->lx.resources = r;
}

static int up_inside(struct it *t, const char *cid, struct it_spec *s, Grpc__LinuxResources *r)
{
	spec_inside(t, s, r);
	if (it_create(t, cid, s) < 0 || it_start(t, cid) < 0)
		return -1;
	return 0;
}

/* The value after "key " on a line of a flat-keyed file, or NULL. */
static const char *line_value(const char *text, const char *key)
{
	size_t len = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, len) == 0 && l[len] == ' ')
			return l + len + 1;
	return NULL;
}

/* One of the container's cgroup files, read by a process in it: the v2 name at the top of
 * /sys/fs/cgroup, else the v1 one ("memory/memory.limit_in_bytes"). Its first line goes to
 * v, or with key set, the value on the line of that key. Returns 2 or 1 for the version
 * whose file it was, -1 when neither could be read. */
static int inside_read(struct it *t, const char *cid, const char *v2, const char *v1,
		       const char *key, char *v, size_t size)
{
	static int n;
	const char *names[] = {v2, v1};
	for (int i = 0; i < 2; i++) {
		struct it_io io = {0};
		char eid[32], path[128];
		int st = -1;
		snprintf(eid, sizeof(eid), "cat-%d", ++n);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", names[i]);
		if (exec_out(t, cid, eid, &io, &st, "cat", path) < 0)
			return -1;
		const char *out = it_buf_str(&io.out), *at = key ? line_value(out, key) : out;
		snprintf(v, size, "%s", at ? at : "");
		v[strcspn(v, "\n")] = '\0';
		it_io_free(&io);
		if (st == 0)
			return 2 - i;
	}
	return it_why(t, "%s: neither /sys/fs/cgroup/%s nor /sys/fs/cgroup/%s is readable", cid, v2,
		      v1);
}

static int expect_inside(struct it *t, const char *cid, const char *v2, const char *want2,
			 const char *v1, const char *want1)
{
	char v[256];
	int version = inside_read(t, cid, v2, v1, NULL, v, sizeof(v));
	if (version < 0)
		return -1;
	const char *want = version == 2 ? want2 : want1;
	if (strcmp(v, want) != 0)
		return it_why(t, "%s sees %s = '%s', want '%s'", cid, version == 2 ? v2 : v1, v,
			      want);
	return 0;
}

/* The limits are in the container's own cgroup files, as a process in it reads them. */
static int case_limits_inside(struct it *t)
{
	const char *cid = "cg-inside";
	struct it_spec s;
	struct res r;
	int rc = -1;
	res_init(&r, 64 * MiB, 32);
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.r.cpu = &r.cpu;
	TRY(up_inside(t, cid, &s, &r.r));
	TRY(expect_inside(t, cid, "memory.max", "67108864", "memory/memory.limit_in_bytes",
			  "67108864"));
	TRY(expect_inside(t, cid, "pids.max", "32", "pids/pids.max", "32"));
	TRY(expect_inside(t, cid, "cpu.max", "50000 100000", "cpu/cpu.cfs_quota_us", "50000"));
	TRY(update(t, cid, res_init(&r, 96 * MiB, 0), 0));
	TRY(expect_inside(t, cid, "memory.max", "100663296", "memory/memory.limit_in_bytes",
			  "100663296"));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A process of the container allocates past the memory limit: the kernel kills it,
 * GetOOMEvent names the container, the container's oom_kill count (memory.events on v2,
 * memory.oom_control on v1) shows it, the container runs on and the agent answers as
 * before. The init is OOM-protected (oomScoreAdj -1000): on v2 memory.oom.group (set at
 * create) would otherwise take it too, and nothing would be left inside to read the count
 * (every v2 container has its own cgroup namespace, so no other one can). */
static int case_oom_inside(struct it *t)
{
	const char *cid = "cg-oom-inside";
	struct it_spec s;
	struct res r;
	struct it_io io = {0};
	Grpc__OOMEvent *ev = NULL;
	char v[64];
	int rc = -1, st = -1;
	spec_inside(t, &s, res_init(&r, 16 * MiB, 0));
	s.proc.oomscoreadj = -1000;
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(exec_out(t, cid, "hog", &io, &st, "memhog", "64"));
	EXPECT(st == 128 + SIGKILL, "memhog 64 MiB under a 16 MiB limit: status %d, output '%s'",
	       st, it_buf_str(&io.out));
	Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
	int code = it_call_svc(t, &t->c, IT_SERVICE, "GetOOMEvent", &req.base,
			       &grpc__oomevent__descriptor, &ev, IT_CALL_MS);
	EXPECT(code == 0 && ev && strcmp(ev->container_id, cid) == 0,
	       "GetOOMEvent after the kill: %s %s, want container %s", pd_code_name(code),
	       ev ? ev->container_id : t->msg, cid);
	TRY(it_sync(t, &t->c));
	EXPECT(inside_read(t, cid, "memory.events", "memory/memory.oom_control", "oom_kill", v,
			   sizeof(v)) > 0,
	       "%s", t->why);
	EXPECT(atoi(v) >= 1, "oom_kill count '%s' in the container's memory cgroup", v);
	it_io_free(&io);
	TRY(exec_out(t, cid, "after", &io, &st, "echo", "alive"));
	TRY(it_expect_out(t, "exec after the OOM kill", &io, st, "alive\n", 0));
	rc = 0;
out:
	if (ev)
		grpc__oomevent__free_unpacked(ev, NULL);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A process forking without end stops at the pids limit (fork fails with EAGAIN), with the
 * init and itself counted; afterwards the cgroup is back to its init and the agent answers. */
static int case_fork_bomb_inside(struct it *t)
{
	const char *cid = "cg-forkbomb";
	struct it_spec s;
	struct res r;
	struct it_io io = {0};
	Grpc__StatsContainerResponse *stat = NULL;
	int rc = -1, st = -1;
	TRY(up_inside(t, cid, &s, res_init(&r, 0, 16)));
	TRY(exec_out(t, cid, "bomb", &io, &st, "forkbomb", "1000"));
	/* 16 = the init + the bomb + 14 children */
	TRY(it_expect_out(t, "forkbomb under pids.max 16", &io, st,
			  "forked 14: Resource temporarily unavailable\n", 0));
	TRY(it_sync(t, &t->c));
	TRY(stats(t, cid, &stat));
	EXPECT(stat->cgroup_stats->pids_stats->current == 1,
	       "pids current %llu after the bomb, want 1 (the init)",
	       (unsigned long long)stat->cgroup_stats->pids_stats->current);
	rc = 0;
out:
	if (stat)
		protobuf_c_message_free_unpacked(&stat->base, NULL);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- DestroySandbox (the last call of the run) ------------------------------------------ */

static int case_destroy_sandbox(struct it *t)
{
	struct pd_client c2 = {.fd = -1};
	struct it_spec s;
	char dir[PATH_MAX] = "";
	int rc = -1;
	TRY(up(t, "cg-destroy", &s, NULL, true));
	if (host_mode(t))
		TRY(cg_dir(t, "cg-destroy", "memory", dir, sizeof(dir)));
	/* paused, when it has a cgroup (not yet, before the lead's integration) */
	Grpc__PauseContainerRequest p = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
	p.container_id = "cg-destroy";
	int code = it_call(t, "PauseContainer", &p.base, NULL, NULL);
	EXPECT(code == 0 || (code == PD_FAILED_PRECONDITION && strstr(t->msg, "has no cgroup")),
	       "PauseContainer: %s: %s", pd_code_name(code), t->msg);
	TRY(it_connect(t, &c2));
	uint32_t stream;
	struct pd_error e = {0};
	TRY(park_oom_call(t, &c2, &stream));
	Grpc__DestroySandboxRequest d = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	TRY(it_ok(t, "DestroySandbox", &d.base, NULL, NULL));
	struct pd_client_reply reply;
	EXPECT(pd_client_recv(&c2, IT_CALL_MS, &reply, &e) == 0, "GetOOMEvent not answered: %s",
	       e.msg);
	code = reply.code;
	pd_client_reply_free(&reply);
	EXPECT(code == PD_INTERNAL && reply.stream_id == stream,
	       "GetOOMEvent (stream %u) answered %s on stream %u, want INTERNAL", stream,
	       pd_code_name(code), reply.stream_id);
	if (host_mode(t))
		EXPECT(dir[0] && access(dir, F_OK) < 0, "%s is left after DestroySandbox", dir);
	rc = 0;
out:
	pd_client_close(&c2);
	return rc;
}

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

/* A container process that cannot even die: the container's v1 freezer cgroup frozen behind
 * the agent's back, an ExecProcess's child joins it and stops there before its first step,
 * and SIGKILL does not end a frozen task. The agent answers the call DEADLINE_EXCEEDED at
 * its 3 s timeout, gives the kill 2 s, leaves the child to its reaper, and serves on. Before,
 * it waited for that child for good (no answer, the whole agent stuck until a thaw). */
static int case_exec_frozen(struct it *t)
{
	const char *cid = "cg-frozen";
	struct it_spec s, e;
	char dir[PATH_MAX], state[PATH_MAX + 32];
	int rc = -1;
	state[0] = '\0';
	TRY(up(t, cid, &s, NULL, true));
	TRY(cg_dir(t, cid, "freezer", dir, sizeof(dir)));
	snprintf(state, sizeof(state), "%s/freezer.state", dir);
	EXPECT(write_str(state, "FROZEN") == 0, "%s: %s", state, strerror(errno));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "true", NULL);
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = "stuck";
	req.process = &e.proc;
	/* 3 s, then 2 s for the kill, which a frozen task ignores */
	TRY(it_call_past_deadline(t, "ExecProcess", &req.base,
				  "stuck at: clone, entering the cgroup"));
	rc = 0;
out:
	if (state[0])
		write_str(state, "THAWED"); /* the killed child dies now; the agent reaps it */
	it_cleanup(t, cid, &rc);
	return rc;
}

enum mode { BOTH, HOST_ONLY, HOST_V1_FREEZER, VM_ONLY };

struct mode_case {
	const char *name;
	int (*fn)(struct it *t);
	enum mode mode;
};

static const struct mode_case cases[] = {
    {"unknown_container_not_found", case_not_found, BOTH},
    {"limits_in_stats_and_update", case_limits_in_stats, BOTH},
    {"limits_in_files_init_and_exec_placed", case_files_and_placement, HOST_ONLY},
    {"pause_resume_state_rules", case_pause_resume, BOTH},
    {"pause_created_resume_start", case_pause_created, BOTH},
    {"remove_paused_container", case_remove_paused, BOTH},
    {"device_rules", case_devices, BOTH},
    {"get_oom_event_parks", case_oom_event_parks, BOTH},
    {"oom_kill_answers_get_oom_event", case_oom_event, HOST_ONLY},
    {"online_cpu_mem_cpusets", case_online_cpusets, HOST_ONLY},
    {"exec_into_frozen_cgroup_answers", case_exec_frozen, HOST_V1_FREEZER},
    {"limits_seen_inside", case_limits_inside, VM_ONLY},
    {"oom_kill_inside_agent_survives", case_oom_inside, VM_ONLY},
    {"fork_bomb_stops_at_pids_limit", case_fork_bomb_inside, VM_ONLY},
    {NULL, NULL, BOTH},
};

/* Does CreateContainer give containers cgroups? exit 0 yes, 3 no. */
static int probe(struct it *t)
{
	struct it_spec s;
	Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
	req.container_id = "cg-probe";
	int rc = -1;
	TRY(up(t, "cg-probe", &s, NULL, false));
	int code = it_call(t, "StatsContainer", &req.base, NULL, NULL);
	rc = code == PD_FAILED_PRECONDITION && strstr(t->msg, "has no cgroup") ? 3 : 0;
out:
	it_remove_code(t, "cg-probe");
	return rc < 0 ? 2 : rc;
}

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
		argv[1] = argv[0];
		return it_init(&t, argc - 1, argv + 1) < 0 ? 2 : probe(&t);
	}
	bool destroy = argc > 1 && strcmp(argv[1], "--destroy-sandbox") == 0;
	if (destroy) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (it_init(&t, argc, argv) < 0)
		return 2;
	if (destroy) {
		it_report(&t, "destroy_sandbox_answers_get_oom_event", case_destroy_sandbox(&t));
		return it_finish(&t, "cgroups");
	}
	for (const struct mode_case *c = cases; c->name; c++) {
		if (!it_selected(&t, c->name))
			continue;
		if ((c->mode == HOST_ONLY || c->mode == HOST_V1_FREEZER) && !host_mode(&t)) {
			printf("# skip %s: needs the agent on this host\n", c->name);
			continue;
		}
		if (c->mode == HOST_V1_FREEZER && access("/sys/fs/cgroup/freezer", F_OK) < 0) {
			printf("# skip %s: no v1 freezer on this host\n", c->name);
			continue;
		}
		if (c->mode == VM_ONLY && host_mode(&t)) {
			printf("# skip %s: runs against an agent in a VM\n", c->name);
			continue;
		}
		t.why[0] = '\0';
		it_report(&t, c->name, c->fn(&t));
	}
	return it_finish(&t, "cgroups");
}
