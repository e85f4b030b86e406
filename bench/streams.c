/* streams: container stdout throughput through ReadStdout, against the raw copy the agent's
 * data path is made of, measured in the same run.
 *
 *   streams ADDR ROOTFS SANDBOX_ID BYTES REPS
 *
 * The writer is `busybox dd if=/dev/zero bs=64k` (ROOTFS/bin/busybox, a static busybox):
 * it costs next to nothing per byte, so both figures measure the path, not the writer
 * (pdtest's `spew` computes its pattern byte by byte and caps both near 300 MB/s).
 * readstdout  a container runs the writer; the host drains it as a shim does — one
 *             ReadStdout and one ReadStderr in flight, 64 KiB each (it_drain) — from
 *             StartContainer to EOF.
 * raw         the physical limit of that path: the same writer (run here, outside any
 *             container) writes into a pipe, a second process copies pipe -> unix socket
 *             with 64 KiB read()/write(), this process reads the socket to EOF. No framing,
 *             no protobuf, no request per chunk.
 * REPS of each, interleaved; the result is the median MB/s (10^6 bytes/s). BYTES is rounded
 * down to 64 KiB. The sandbox is created if it does not exist yet. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench.h"

#define CHUNK 65536

extern char **environ;

static void count_bytes(void *arg, const uint8_t *p, size_t n)
{
	(void)p;
	*(size_t *)arg += n;
}

static int ensure_sandbox(struct it *t)
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

static int readstdout_once(struct it *t, int rep, long long bytes, double *mb_s)
{
	char cid[64], count[40];
	struct it_spec s;
	size_t got = 0;
	struct it_io io = {.sink = count_bytes, .sink_arg = &got};
	int status = -1, rc = -1;
	snprintf(cid, sizeof(cid), "bench-spew-%d", rep);
	snprintf(count, sizeof(count), "count=%lld", bytes / CHUNK);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "/bin/busybox", "dd", "if=/dev/zero", "bs=65536", count, "status=none",
		     NULL);
	if (it_create(t, cid, &s) < 0)
		goto out;
	double t0 = bn_now_us();
	if (it_start(t, cid) < 0 || it_drain(t, cid, cid, false, &io, IT_IO_MS) < 0)
		goto out;
	double t1 = bn_now_us();
	if (it_wait(t, cid, cid, &status) < 0)
		goto out;
	if (status != 0 || got != (size_t)bytes) {
		it_why(t, "%s: %zu bytes, status %d", cid, got, status);
		goto out;
	}
	*mb_s = (double)bytes / (t1 - t0);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The copier: what the agent does with a container's stdout, minus everything ttRPC. */
static void copy_pipe_to_socket(int in, int out)
{
	static char buf[CHUNK];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(r == 0 ? 0 : 1);
		if (write_all(out, buf, (size_t)r) < 0)
			_exit(1);
	}
}

static int raw_once(const char *rootfs, long long bytes, double *mb_s)
{
	static char buf[CHUNK];
	char prog[PATH_MAX], count[40];
	int p[2], s[2];
	pid_t writer, copier;
	posix_spawn_file_actions_t fa;
	snprintf(prog, sizeof(prog), "%s/bin/busybox", rootfs);
	snprintf(count, sizeof(count), "count=%lld", bytes / CHUNK);
	char *argv[] = {"busybox", "dd", "if=/dev/zero", "bs=65536", count, "status=none", NULL};
	if (pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0)
		return -1;
	double t0 = bn_now_us();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	int rc = posix_spawn(&writer, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "streams: %s: %s\n", prog, strerror(rc));
		return -1;
	}
	copier = fork();
	if (copier < 0) {
		fprintf(stderr, "streams: fork: %s\n", strerror(errno));
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
		return -1;
	}
	if (copier == 0) {
		close(p[1]);
		close(s[1]);
		copy_pipe_to_socket(p[0], s[0]);
	}
	close(p[0]);
	close(p[1]);
	close(s[0]);
	long long got = 0;
	for (;;) {
		ssize_t r = read(s[1], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	double t1 = bn_now_us();
	close(s[1]);
	int ws = 0, cs = 0;
	waitpid(writer, &ws, 0);
	waitpid(copier, &cs, 0);
	if (got != bytes || ws != 0 || cs != 0) {
		fprintf(stderr, "streams: raw copy: %lld of %lld bytes\n", got, bytes);
		return -1;
	}
	*mb_s = (double)bytes / (t1 - t0);
	return 0;
}

static double median_of(double *v, size_t n)
{
	return bn_stats_of(v, n).median;
}

int main(int argc, char **argv)
{
	struct it t;
	if (argc != 6) {
		fprintf(stderr, "usage: streams ADDR ROOTFS SANDBOX_ID BYTES REPS\n");
		return 2;
	}
	long long bytes = bn_positive(argv[4], "byte count") / CHUNK * CHUNK;
	long reps = bn_positive(argv[5], "repetitions");
	char *init_argv[] = {argv[0], argv[1], argv[2], "0", argv[3]};
	double ts[64], raw[64];
	if (reps > 64)
		reps = 64;
	signal(SIGPIPE, SIG_IGN);
	if (it_init(&t, 5, init_argv) < 0)
		return 1;
	if (ensure_sandbox(&t) < 0) {
		fprintf(stderr, "streams: %s\n", t.why);
		return 1;
	}
	for (long i = 0; i < reps; i++) {
		if (readstdout_once(&t, (int)i, bytes, &ts[i]) < 0) {
			fprintf(stderr, "streams: ReadStdout: %s\n", t.why);
			return 1;
		}
		if (raw_once(t.rootfs, bytes, &raw[i]) < 0)
			return 1;
	}
	printf("RESULT readstdout bytes=%lld reps=%ld mb_s=%.0f\n", bytes, reps,
	       median_of(ts, (size_t)reps));
	printf("RESULT rawcopy bytes=%lld reps=%ld mb_s=%.0f\n", bytes, reps,
	       median_of(raw, (size_t)reps));
	pd_client_close(&t.c);
	return 0;
}
