/* slowhook: the slowest Health.Check while a container's prestart hook runs.
 *
 *   slowhook ADDR ROOTFS AGENT_PID SANDBOX_ID HOOK_DIR CHECKS
 *
 * CHECKS sequential Health.Check round trips on a connection of their own, twice:
 *   check_idle         nothing else going on
 *   check_during_hook  while a CreateContainer (on another connection) waits for its
 *                      prestart hook, which blocks on a fifo until the checks are done
 * The slowest Check (max_us) is the figure: an agent that stopped its loop for hooks
 * answered it only once the hook had ended; one that never waits answers it in a round
 * trip's tail. Then the hook is released, and the CreateContainer must answer OK (the
 * container is removed). The hook (HOOK_DIR/block.sh, written here) runs in the agent's
 * namespaces: HOOK_DIR must be a path the agent sees. Times in microseconds. */
#include <sys/stat.h>

#include "bench.h"

static int fail_case(struct it *t, const char *what)
{
	fprintf(stderr, "slowhook: %s: %s\n", what, t->why);
	return -1;
}

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

/* n Checks on c, their round trips in us[]. */
static int checks(struct it *t, struct pd_client *c, double *us, long n)
{
	for (long i = 0; i < n; i++) {
		double t0 = bn_now_us();
		if (it_sync(t, c) < 0)
			return -1;
		us[i] = bn_now_us() - t0;
	}
	return 0;
}

/* HOOK_DIR/block.sh: reads its state, says it runs (FIFO.started), waits for a line on FIFO. */
static int write_hook(struct it *t, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return it_why(t, "%s: %s", path, strerror(errno));
	fputs("#!/bin/sh\ncat >/dev/null\n: >\"$1.started\"\nread -r line <\"$1\"\n", f);
	if (fclose(f) != 0 || chmod(path, 0755) < 0)
		return it_why(t, "%s: %s", path, strerror(errno));
	return 0;
}

static int wait_started(struct it *t, const char *fifo)
{
	char mark[PATH_MAX + 16];
	snprintf(mark, sizeof(mark), "%s.started", fifo);
	for (int64_t end = it_now_ms() + IT_CALL_MS; access(mark, F_OK) < 0;) {
		if (it_now_ms() > end)
			return it_why(t, "the prestart hook did not start within %d ms", IT_CALL_MS);
		it_sleep_ms(5);
	}
	return 0;
}

static int release(struct it *t, const char *fifo)
{
	int fd = open(fifo, O_WRONLY | O_CLOEXEC); /* the hook reads it: no wait */
	if (fd < 0 || write(fd, "go\n", 3) != 3) {
		if (fd >= 0)
			close(fd);
		return it_why(t, "release %s: %s", fifo, strerror(errno));
	}
	close(fd);
	return 0;
}

static int bench_hook(struct it *t, const char *dir, long n)
{
	const char *cid = "bench-slow-hook";
	char script[PATH_MAX], fifo[PATH_MAX];
	char *args[3] = {script, fifo, NULL};
	struct it_spec s;
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	Grpc__Hook hook = GRPC__HOOK__INIT;
	Grpc__Hook *hp[1] = {&hook};
	Grpc__CreateContainerRequest req;
	struct pd_client c2 = {.fd = -1};
	struct pd_client_reply r = {0};
	struct pd_error err = {0};
	double *idle = calloc((size_t)n, sizeof(double)), *busy = calloc((size_t)n, sizeof(double));
	uint32_t stream;
	int rc = -1;
	snprintf(script, sizeof(script), "%s/block.sh", dir);
	snprintf(fifo, sizeof(fifo), "%s/release", dir);
	unlink(fifo);
	if (!idle || !busy || write_hook(t, script) < 0 || mkfifo(fifo, 0600) < 0 ||
	    it_connect(t, &c2) < 0)
		goto out;
	if (checks(t, &t->c, idle, n) < 0)
		goto out;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	hook.path = script;
	hook.args = args;
	hook.n_args = 2;
	hook.timeout = 600;
	hooks.prestart = hp;
	hooks.n_prestart = 1;
	s.spec.hooks = &hooks;
	it_create_req(&req, cid, &s);
	if (pd_client_send(&c2, IT_SERVICE, "CreateContainer", &req.base, 0, &stream, &err) < 0) {
		it_why(t, "send CreateContainer: %s", err.msg);
		goto out;
	}
	if (wait_started(t, fifo) < 0 || checks(t, &t->c, busy, n) < 0 || release(t, fifo) < 0)
		goto out;
	if (pd_client_recv(&c2, IT_CALL_MS, &r, &err) < 0 || r.code != 0) {
		it_why(t, "CreateContainer after its hook: %s", r.code ? r.message : err.msg);
		goto out;
	}
	struct bn_stats st = bn_stats_of(idle, (size_t)n);
	bn_print_stats("check_idle", &st);
	st = bn_stats_of(busy, (size_t)n);
	bn_print_stats("check_during_hook", &st);
	rc = it_remove_code(t, cid) == 0 ? 0 : it_why(t, "RemoveContainer: %s", t->msg);
out:
	pd_client_reply_free(&r);
	pd_client_close(&c2);
	unlink(fifo);
	free(idle);
	free(busy);
	return rc;
}

int main(int argc, char **argv)
{
	struct it t;
	if (argc != 7) {
		fprintf(stderr, "usage: slowhook ADDR ROOTFS AGENT_PID SANDBOX_ID HOOK_DIR CHECKS\n");
		return 2;
	}
	long n = bn_positive(argv[6], "check count");
	if (it_init(&t, 5, argv) < 0)
		return 1;
	int rc = 0;
	if (create_sandbox(&t) < 0)
		rc = fail_case(&t, "CreateSandbox");
	else if (bench_hook(&t, argv[5], n) < 0)
		rc = fail_case(&t, "slow hook");
	pd_client_close(&t.c);
	return rc ? 1 : 0;
}
