/* spawn: container spawn and exec latency through ttRPC, and the agent's RSS with
 * containers running.
 *
 *   spawn ADDR ROOTFS AGENT_PID SANDBOX_ID RUNS
 *   spawn --guest ADDR SANDBOX_ID COUNT
 *       in a QEMU guest: CreateSandbox with the 9p share (tag kataShared) as Kata mounts
 *       it, then COUNT `sleep` containers whose rootfs is the share's rootfs/ directory,
 *       left running (the guest's GetMetrics is read next, then the VM is destroyed).
 *
 * The sandbox is created unless it exists (rounds run against one agent). One connection,
 * calls in sequence as a runtime makes them, with the integration tests' default spec (runc's
 * default mounts, masked paths, Docker's capabilities, pid/ipc/uts/mount namespaces).
 *   spawn       CreateContainer + StartContainer + WaitProcess of `true`   (RUNS times)
 *   remove      the RemoveContainer that follows each                     (timed apart)
 *   spawn_full  the four together: what `crun run` does from start to end
 *   exec        ExecProcess `true` + WaitProcess in a running container    (RUNS times)
 * then RSS (kB) of AGENT_PID with 10 `sleep` containers running and after they are removed,
 * and whether those containers got cgroups of their own.
 * Three untimed runs warm each loop. Nobody reads `true`'s stdout: it writes nothing, and
 * WaitProcess answers at its exit. */
#include "bench.h"

#define WARM	3
#define HOLDING 10

static int fail_case(struct it *t, const char *what)
{
	fprintf(stderr, "spawn: %s: %s\n", what, t->why);
	return -1;
}

/* The sandbox, unless an earlier round made it. */
static int create_sandbox(struct it *t)
{
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = (char *)t->sandbox;
	int code = it_call(t, "CreateSandbox", &req.base, NULL, NULL);
	if (code < 0)
		return -1;
	if (code != 0 && code != PD_ALREADY_EXISTS)
		return it_why(t, "CreateSandbox: %s: %s", pd_code_name(code), t->msg);
	return 0;
}

/* One container of `true`: the create+start+wait and the remove times. */
static int spawn_once(struct it *t, int i, double *run_us, double *rm_us)
{
	char cid[64];
	struct it_spec s;
	int status = -1;
	snprintf(cid, sizeof(cid), "bench-true-%d", i);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	double t0 = bn_now_us();
	if (it_create(t, cid, &s) < 0 || it_start(t, cid) < 0 || it_wait(t, cid, cid, &status) < 0)
		return -1;
	double t1 = bn_now_us();
	if (status != 0)
		return it_why(t, "%s: exit status %d", cid, status);
	int code = it_remove_code(t, cid);
	if (code != 0)
		return it_why(t, "RemoveContainer %s: %s: %s", cid, pd_code_name(code), t->msg);
	*run_us = t1 - t0;
	*rm_us = bn_now_us() - t1;
	return 0;
}

static int bench_spawn(struct it *t, long runs)
{
	double *run = calloc((size_t)runs, sizeof(*run)), *rm = calloc((size_t)runs, sizeof(*rm));
	double *full = calloc((size_t)runs, sizeof(*full)), a, b;
	int rc = -1;
	if (!run || !rm || !full)
		goto out;
	for (int i = 0; i < WARM; i++)
		if (spawn_once(t, -1 - i, &a, &b) < 0)
			goto out;
	for (long i = 0; i < runs; i++) {
		if (spawn_once(t, (int)i, &run[i], &rm[i]) < 0)
			goto out;
		full[i] = run[i] + rm[i];
	}
	struct bn_stats s = bn_stats_of(run, (size_t)runs);
	bn_print_stats("spawn", &s);
	s = bn_stats_of(rm, (size_t)runs);
	bn_print_stats("remove", &s);
	s = bn_stats_of(full, (size_t)runs);
	bn_print_stats("spawn_full", &s);
	rc = 0;
out:
	free(run);
	free(rm);
	free(full);
	return rc;
}

static int exec_once(struct it *t, const char *cid, int i, double *us)
{
	char eid[64];
	struct it_spec e;
	int status = -1;
	snprintf(eid, sizeof(eid), "exec-%d", i);
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "true", NULL);
	double t0 = bn_now_us();
	if (it_exec(t, cid, eid, &e.proc) < 0 || it_wait(t, cid, eid, &status) < 0)
		return -1;
	*us = bn_now_us() - t0;
	return status == 0 ? 0 : it_why(t, "%s/%s: exit status %d", cid, eid, status);
}

static int bench_exec(struct it *t, long runs)
{
	const char *cid = "bench-exec";
	struct it_spec s;
	double *us = calloc((size_t)runs, sizeof(*us)), dummy;
	int rc = -1;
	if (!us || it_up_sleeping(t, cid, &s) < 0)
		goto out;
	for (int i = 0; i < WARM; i++)
		if (exec_once(t, cid, -1 - i, &dummy) < 0)
			goto out;
	for (long i = 0; i < runs; i++)
		if (exec_once(t, cid, (int)i, &us[i]) < 0)
			goto out;
	struct bn_stats st = bn_stats_of(us, (size_t)runs);
	bn_print_stats("exec", &st);
	rc = 0;
out:
	free(us);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Does the agent put its containers in cgroups of their own? Compares /proc/<pid>/cgroup of
 * the agent with that of its first child (a container init): "own" or "none". crun and runc
 * always create one per container, so the table must say which pidone does. */
static const char *container_cgroup(struct it *t)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->agent, (int)t->agent);
	char *kids = it_read_file(path, NULL);
	int child = kids ? atoi(kids) : 0;
	free(kids);
	if (child <= 0)
		return "unknown";
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)t->agent);
	char *mine = it_read_file(path, NULL);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", child);
	char *theirs = it_read_file(path, NULL);
	const char *what = !mine || !theirs ? "unknown" : strcmp(mine, theirs) ? "own" : "none";
	free(mine);
	free(theirs);
	return what;
}

/* RSS with HOLDING sleeping containers, and after they are gone. */
static int bench_rss(struct it *t)
{
	static struct it_spec s[HOLDING];
	char cid[HOLDING][32];
	int up = 0, rc = -1;
	for (; up < HOLDING; up++) {
		snprintf(cid[up], sizeof(cid[up]), "bench-sleep-%d", up);
		if (it_up_sleeping(t, cid[up], &s[up]) < 0)
			goto out;
	}
	it_sync(t, &t->c);
	printf("RESULT rss_containers count=%d rss_kb=%ld hwm_kb=%ld cgroup=%s\n", HOLDING,
	       bn_status_kb(t->agent, "VmRSS"), bn_status_kb(t->agent, "VmHWM"),
	       container_cgroup(t));
	rc = 0;
out:
	while (up-- > 0) {
		int code = it_remove_code(t, cid[up]);
		if (code != 0 && rc == 0)
			rc = it_why(t, "RemoveContainer %s: %s", cid[up], pd_code_name(code));
	}
	if (rc == 0) {
		it_sync(t, &t->c);
		printf("RESULT rss_after count=0 rss_kb=%ld\n", bn_status_kb(t->agent, "VmRSS"));
	}
	return rc;
}

#define GUEST_SHARED "/run/kata-containers/shared/containers"

static int guest_sandbox(struct it *t)
{
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage st = GRPC__STORAGE__INIT;
	Grpc__Storage *stp[] = {&st};
	char *opts[] = {"trans=virtio", "nodev"};
	st.driver = "9p";
	st.source = "kataShared";
	st.fstype = "9p";
	st.options = opts;
	st.n_options = IT_N(opts);
	st.mount_point = GUEST_SHARED;
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = (char *)t->sandbox;
	req.storages = stp;
	req.n_storages = 1;
	return it_ok(t, "CreateSandbox", &req.base, NULL, NULL);
}

static int guest_main(int argc, char **argv)
{
	struct it t;
	static struct it_spec s;
	char *init_argv[] = {argv[0], argv[2], GUEST_SHARED "/rootfs", "0", argv[3]};
	long count = bn_positive(argv[4], "container count");
	if (it_init(&t, 5, init_argv) < 0)
		return 1;
	int rc = guest_sandbox(&t) < 0 ? fail_case(&t, "CreateSandbox") : 0;
	for (long i = 0; rc == 0 && i < count; i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "guest-sleep-%ld", i);
		if (it_up_sleeping(&t, cid, &s) < 0)
			rc = fail_case(&t, cid);
	}
	if (rc == 0)
		printf("RESULT guest_containers count=%ld\n", count);
	pd_client_close(&t.c);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct it t;
	if (argc == 5 && strcmp(argv[1], "--guest") == 0)
		return guest_main(argc, argv);
	if (argc != 6) {
		fprintf(stderr, "usage: spawn ADDR ROOTFS AGENT_PID SANDBOX_ID RUNS\n"
				"       spawn --guest ADDR SANDBOX_ID COUNT\n");
		return 2;
	}
	long runs = bn_positive(argv[5], "run count");
	if (it_init(&t, 5, argv) < 0)
		return 1;
	int rc = 0;
	if (create_sandbox(&t) < 0)
		rc = fail_case(&t, "CreateSandbox");
	else if (bench_spawn(&t, runs) < 0)
		rc = fail_case(&t, "spawn");
	else if (bench_exec(&t, runs) < 0)
		rc = fail_case(&t, "exec");
	else if (bench_rss(&t) < 0)
		rc = fail_case(&t, "rss");
	pd_client_close(&t.c);
	return rc ? 1 : 0;
}
