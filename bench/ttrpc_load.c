/* ttrpc_load: grpc.Health/Check load on any ttRPC server (pidone or the Go peer in
 * bench/go-ttrpc), with pidone's blocking client (agent/ttrpc/client.h). Every call is an
 * empty CheckRequest; every answer must be status OK, or the run fails.
 *
 *   ttrpc_load lat NAME ADDR CALLS
 *       CALLS sequential calls on one connection (after CALLS/10 untimed): the round trip.
 *   ttrpc_load tput NAME ADDR CONNS DEPTH SECONDS
 *       CONNS threads, each with its own connection keeping DEPTH calls in flight (DEPTH 1 =
 *       sequential calls: send, wait for the answer, send the next) for SECONDS: calls/s.
 *   ttrpc_load startup NAME ADDR RUNS CMD [ARG...]
 *       RUNS times: spawn CMD (a server that listens on ADDR), connect as soon as it
 *       listens (retrying every 20 us), and time spawn -> first answered Check; then
 *       SIGTERM and reap it (untimed). ADDR must be unix:///path (removed before each run).
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "bench.h"

#define SERVICE "grpc.Health"
#define METHOD	"Check"
#define CALL_MS 10000

extern char **environ;

static int check_once(struct pd_client *c, struct pd_error *err)
{
	struct pd_client_reply r;
	if (pd_client_call_raw(c, SERVICE, METHOD, NULL, 0, CALL_MS, &r, err) < 0)
		return -1;
	int code = r.code;
	pd_client_reply_free(&r);
	if (code != 0)
		return pd_error_set(err, code, 0, "Check answered %s", pd_code_name(code));
	return 0;
}

static int connect_or_say(struct pd_client *c, const char *addr)
{
	struct pd_error err = {0};
	if (pd_client_connect(c, addr, 5000, &err) < 0) {
		fprintf(stderr, "ttrpc_load: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int cmd_lat(const char *name, const char *addr, long calls)
{
	struct pd_client c;
	struct pd_error err = {0};
	double *us = calloc((size_t)calls, sizeof(*us));
	if (!us || connect_or_say(&c, addr) < 0)
		return 1;
	for (long i = 0; i < calls / 10 + 1; i++)
		if (check_once(&c, &err) < 0)
			goto fail;
	for (long i = 0; i < calls; i++) {
		double t0 = bn_now_us();
		if (check_once(&c, &err) < 0)
			goto fail;
		us[i] = bn_now_us() - t0;
	}
	struct bn_stats s = bn_stats_of(us, (size_t)calls);
	char label[128];
	snprintf(label, sizeof(label), "lat_%s", name);
	bn_print_stats(label, &s);
	pd_client_close(&c);
	free(us);
	return 0;
fail:
	fprintf(stderr, "ttrpc_load: %s: %s\n", name, err.msg);
	return 1;
}

/* ---- throughput ------------------------------------------------------------------------ */

struct worker {
	pthread_t thread;
	const char *addr;
	long depth;
	double seconds;
	pthread_barrier_t *start;
	long done;
	int failed;
	char why[256];
};

static int send_check(struct pd_client *c, struct pd_error *err)
{
	uint32_t stream;
	return pd_client_send_raw(c, SERVICE, METHOD, NULL, 0, 0, &stream, err);
}

static int recv_ok(struct pd_client *c, struct pd_error *err)
{
	struct pd_client_reply r;
	if (pd_client_recv(c, CALL_MS, &r, err) < 0)
		return -1;
	int code = r.code;
	pd_client_reply_free(&r);
	return code == 0 ? 0 : pd_error_set(err, code, 0, "Check answered %s", pd_code_name(code));
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct pd_client c;
	struct pd_error err = {0};
	long inflight = 0;
	int connected = pd_client_connect(&c, w->addr, 5000, &err) == 0;
	pthread_barrier_wait(w->start);
	if (!connected)
		goto fail;
	double end = bn_now_us() + w->seconds * 1e6;
	for (; inflight < w->depth; inflight++)
		if (send_check(&c, &err) < 0)
			goto fail;
	while (bn_now_us() < end) {
		if (recv_ok(&c, &err) < 0 || send_check(&c, &err) < 0)
			goto fail;
		w->done++;
	}
	for (; inflight > 0; inflight--) /* answers after the window are not counted */
		if (recv_ok(&c, &err) < 0)
			goto fail;
	pd_client_close(&c);
	return NULL;
fail:
	w->failed = 1;
	snprintf(w->why, sizeof(w->why), "%s", err.msg);
	pd_client_close(&c);
	return NULL;
}

static int cmd_tput(const char *name, const char *addr, long conns, long depth, long seconds)
{
	struct worker *w = calloc((size_t)conns, sizeof(*w));
	pthread_barrier_t start;
	long total = 0;
	int failed = 0;
	if (!w)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)conns + 1);
	for (long i = 0; i < conns; i++) {
		w[i] = (struct worker){
		    .addr = addr, .depth = depth, .seconds = (double)seconds, .start = &start};
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]) != 0) {
			fprintf(stderr, "ttrpc_load: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	double t0 = bn_now_us();
	for (long i = 0; i < conns; i++) {
		pthread_join(w[i].thread, NULL);
		total += w[i].done;
		if (w[i].failed) {
			fprintf(stderr, "ttrpc_load: %s: connection %ld: %s\n", name, i, w[i].why);
			failed = 1;
		}
	}
	double elapsed = (bn_now_us() - t0) / 1e6;
	if (elapsed > (double)seconds)
		elapsed = (double)seconds; /* the window each worker counted in */
	printf("RESULT tput_%s conns=%ld depth=%ld calls=%ld calls_per_s=%.0f\n", name, conns,
	       depth, total, (double)total / elapsed);
	free(w);
	return failed;
}

/* ---- startup --------------------------------------------------------------------------- */

static int first_answer(const char *addr, double deadline)
{
	struct pd_client c;
	struct pd_error err = {0};
	while (bn_now_us() < deadline) {
		if (pd_client_connect(&c, addr, 0, &err) == 0) {
			int rc = check_once(&c, &err);
			pd_client_close(&c);
			if (rc == 0)
				return 0;
		}
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "ttrpc_load: no answer from %s: %s\n", addr, err.msg);
	return -1;
}

static int cmd_startup(const char *name, const char *addr, long runs, char **cmd)
{
	double *us = calloc((size_t)runs, sizeof(*us));
	if (!us || strncmp(addr, "unix:///", 8) != 0) {
		fprintf(stderr, "ttrpc_load: startup needs a unix:///path address\n");
		return 2;
	}
	for (long i = 0; i < runs; i++) {
		posix_spawn_file_actions_t fa;
		pid_t pid;
		unlink(addr + 7);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		double t0 = bn_now_us();
		int rc = posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (rc != 0) {
			fprintf(stderr, "ttrpc_load: %s: %s\n", cmd[0], strerror(rc));
			return 1;
		}
		rc = first_answer(addr, t0 + 10e6);
		us[i] = bn_now_us() - t0;
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		if (rc < 0)
			return 1;
	}
	struct bn_stats s = bn_stats_of(us, (size_t)runs);
	char label[128];
	snprintf(label, sizeof(label), "startup_%s", name);
	bn_print_stats(label, &s);
	free(us);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "lat") == 0)
		return cmd_lat(argv[2], argv[3], bn_positive(argv[4], "calls"));
	if (argc == 7 && strcmp(argv[1], "tput") == 0)
		return cmd_tput(argv[2], argv[3], bn_positive(argv[4], "connections"),
				bn_positive(argv[5], "depth"), bn_positive(argv[6], "seconds"));
	if (argc >= 6 && strcmp(argv[1], "startup") == 0)
		return cmd_startup(argv[2], argv[3], bn_positive(argv[4], "runs"), argv + 5);
	fprintf(stderr, "usage: ttrpc_load lat NAME ADDR CALLS\n"
			"       ttrpc_load tput NAME ADDR CONNS DEPTH SECONDS\n"
			"       ttrpc_load startup NAME ADDR RUNS CMD [ARG...]\n");
	return 2;
}
