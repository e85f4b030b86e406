/* Host integration tests of containers (issue 3), end to end over ttRPC: lifecycle, exit
 * codes and signals, process I/O (pipes and tty), exec, state.json, the sandbox's shared
 * namespaces, fd leaks, and the create+start+wait time of a `true` container.
 * The payload is tests/payload/pdtest.c in a rootfs that containers.sh (run by run.sh) builds.
 *
 *   containers ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]   the cases (itest.h)
 *   containers --create-sandbox ADDR SANDBOX_ID              CreateSandbox, before the cases
 *   containers --destroy-sandbox ADDR ROOTFS AGENT_PID SANDBOX_ID
 *                                        the last test: DestroySandbox answers every
 *                                        pending WaitProcess (the agent stops after it) */
#include <signal.h>
#include <sys/socket.h>

#include "itest.h"

/* One container running args; its stdout and status. */
static int run_args(struct it *t, const char *cid, struct it_io *io, int *status, const char *a0,
		    const char *a1, const char *a2)
{
	struct it_spec s;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, a0, a1, a2, NULL);
	return it_run(t, cid, &s, io, status);
}

/* ---- output and exit codes -------------------------------------------------------------- */

static int case_echo(struct it *t)
{
	const char *cid = "echo-stdout";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "echo", "hello", "world"));
	TRY(it_expect_out(t, "echo hello world", &io, st, "hello world\n", 0));
	EXPECT(io.err.total == 0, "stderr %s, want nothing", IT_SHOW(io.err.p, io.err.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_stderr(struct it *t)
{
	const char *cid = "stderr-127";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "/bin/pdtest", "no-such-command", NULL));
	TRY(it_expect_out(t, "pdtest no-such-command", &io, st, "", 127));
	EXPECT(strcmp(it_buf_str(&io.err), "pdtest: unknown command no-such-command\n") == 0,
	       "stderr %s", IT_SHOW(io.err.p, io.err.len));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_exit_code(struct it *t)
{
	const char *cid = "exit-42";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "exit", "42", NULL));
	TRY(it_expect_out(t, "exit 42", &io, st, "", 42));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_pid_1(struct it *t)
{
	const char *cid = "pid-one";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "pid", NULL, NULL));
	TRY(it_expect_out(t, "pid", &io, st, "1\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_hostname(struct it *t)
{
	const char *cid = "hostname";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "hostname", NULL, NULL));
	TRY(it_expect_out(t, "hostname", &io, st, IT_HOSTNAME "\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- the process's identity and environment ------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, sorted and joined with '|': environments compare as sets. */
static void sorted_lines(const char *text, char *out, size_t size)
{
	char *copy = strdup(text), *lines[256], *save = NULL;
	size_t n = 0, o = 0;
	out[0] = '\0';
	if (!copy)
		return;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	for (size_t i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "|" : "", lines[i]);
	free(copy);
}

/* Exactly Process.Env plus HOME from the rootfs's /etc/passwd: nothing of the agent's. */
static int case_env(struct it *t)
{
	const char *cid = "env-exact";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	char got[2048];
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "env", NULL);
	it_spec_env(&s, "PATH=/bin", "FOO=bar baz", "EMPTY=", "Z=a=b", NULL);
	TRY(it_run(t, cid, &s, &io, &st));
	EXPECT(st == 0, "env exited %d", st);
	sorted_lines(it_buf_str(&io.out), got, sizeof(got));
	EXPECT(strcmp(got, "EMPTY=|FOO=bar baz|HOME=/root|PATH=/bin|Z=a=b") == 0,
	       "environment %s, want EMPTY=, FOO=bar baz, HOME=/root, PATH=/bin, Z=a=b", got);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_cwd(struct it *t)
{
	const char *cid = "cwd-work";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "pwd", NULL);
	s.proc.cwd = "/work";
	TRY(it_run(t, cid, &s, &io, &st));
	TRY(it_expect_out(t, "pwd", &io, st, "/work\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_user(struct it *t)
{
	const char *cid = "user-ids";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	char f[256];
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "status", NULL);
	s.user.uid = 1000;
	s.user.gid = 1001;
	s.gids[0] = 10;
	s.gids[1] = 20;
	s.user.n_additionalgids = 2;
	TRY(it_run(t, cid, &s, &io, &st));
	EXPECT(st == 0, "status exited %d (stderr %s)", st, IT_SHOW(io.err.p, io.err.len));
	const char *text = it_buf_str(&io.out);
	EXPECT(!strcmp(it_status_field(text, "Uid", f, sizeof(f)), "1000 1000 1000 1000"),
	       "Uid: %s, want 1000 for real, effective, saved, fs", f);
	EXPECT(!strcmp(it_status_field(text, "Gid", f, sizeof(f)), "1001 1001 1001 1001"),
	       "Gid: %s, want 1001 x4", f);
	EXPECT(!strcmp(it_status_field(text, "Groups", f, sizeof(f)), "10 20"),
	       "Groups: %s, want 10 20", f);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* HOME of a non-root user comes from the container's /etc/passwd. */
static int case_home_from_passwd(struct it *t)
{
	const char *cid = "home-user";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	char got[1024];
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "env", NULL);
	it_spec_env(&s, "PATH=/bin", NULL);
	s.user.uid = 1000;
	s.user.gid = 1000;
	TRY(it_run(t, cid, &s, &io, &st));
	EXPECT(st == 0, "env exited %d", st);
	sorted_lines(it_buf_str(&io.out), got, sizeof(got));
	EXPECT(strcmp(got, "HOME=/home/user|PATH=/bin") == 0, "environment %s", got);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_rlimits(struct it *t)
{
	const char *cids[] = {"rlimit-nofile", "rlimit-core"};
	const char *names[] = {"NOFILE", "CORE"};
	const char *want[] = {"1000 2000\n", "0 4096\n"};
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		struct it_spec s;
		struct it_io io = {0};
		int st = -1;
		rc = -1;
		it_spec_default(&s, t->rootfs);
		s.proc.n_rlimits = 0;
		it_spec_rlimit(&s, "RLIMIT_NOFILE", 1000, 2000);
		it_spec_rlimit(&s, "RLIMIT_CORE", 0, 4096);
		it_spec_args(&s, "rlimit", names[i], NULL);
		if (it_run(t, cids[i], &s, &io, &st) == 0 &&
		    it_expect_out(t, names[i], &io, st, want[i], 0) == 0)
			rc = 0;
		it_io_free(&io);
		it_cleanup(t, cids[i], &rc);
	}
	return rc;
}

/* ---- tty -------------------------------------------------------------------------------- */

static int case_tty(struct it *t)
{
	const char *cid = "tty-isatty";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "isatty", NULL);
	s.proc.terminal = true;
	s.box.height = 40;
	s.box.width = 120;
	s.proc.consolesize = &s.box;
	TRY(it_run(t, cid, &s, &io, &st));
	/* A tty turns "\n" into "\r\n". */
	TRY(it_expect_out(t, "isatty on a terminal", &io, st, "tty\r\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_notty(struct it *t)
{
	const char *cid = "tty-none";
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(run_args(t, cid, &io, &st, "isatty", NULL, NULL));
	TRY(it_expect_out(t, "isatty without a terminal", &io, st, "notty\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int resize(struct it *t, const char *cid, const char *eid)
{
	Grpc__TtyWinResizeRequest req = GRPC__TTY_WIN_RESIZE_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.row = 50;
	req.column = 132;
	return it_call(t, "TtyWinResize", &req.base, NULL, NULL);
}

/* TtyWinResize works on a tty (init and exec) and is UNAVAILABLE without one. */
static int case_tty_resize(struct it *t)
{
	const char *cid = "tty-resize";
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, code, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	s.proc.terminal = true;
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	code = resize(t, cid, "");
	EXPECT(code == 0, "TtyWinResize on a tty init: %s: %s", pd_code_name(code), t->msg);
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "isatty", NULL);
	e.proc.terminal = true;
	TRY(it_exec(t, cid, "tty-exec", &e.proc));
	code = resize(t, cid, "tty-exec");
	EXPECT(code == 0, "TtyWinResize on a tty exec: %s: %s", pd_code_name(code), t->msg);
	TRY(it_drain(t, cid, "tty-exec", true, &io, IT_IO_MS));
	TRY(it_wait(t, cid, "tty-exec", &st));
	TRY(it_expect_out(t, "isatty in a tty exec", &io, st, "tty\r\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_resize_no_tty(struct it *t)
{
	const char *cid = "resize-no-tty";
	struct it_spec s;
	int rc = -1, code;
	TRY(it_up_sleeping(t, cid, &s));
	code = resize(t, cid, "");
	EXPECT(code == PD_UNAVAILABLE, "TtyWinResize without a tty: %s (%s), want UNAVAILABLE",
	       pd_code_name(code), t->msg);
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- stdin ------------------------------------------------------------------------------ */

/* Read stdout until `want` bytes came (or EOF/error). */
static int read_exactly(struct it *t, const char *cid, const char *eid, struct it_buf *b,
			size_t want)
{
	while (b->total < want) {
		uint8_t *data;
		size_t len;
		if (it_read1(t, cid, eid, false, &data, &len, IT_CALL_MS) < 0)
			return -1;
		if (len == 0)
			return it_why(t, "EOF after %zu of %zu bytes (%s)", b->total, want,
				      IT_SHOW(b->p, b->len));
		it_buf_add(b, data, len);
		free(data);
	}
	return 0;
}

/* cat echoes what WriteStdin sends; an empty WriteStdin closes stdin and cat exits 0. */
static int case_stdin_echo(struct it *t)
{
	const char *cid = "stdin-echo";
	struct it_spec s;
	struct it_buf b = {0};
	struct it_io io = {0};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "cat", NULL);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(it_write_stdin(t, cid, cid, "hello\n", 6));
	TRY(read_exactly(t, cid, cid, &b, 6));
	EXPECT(!strcmp(it_buf_str(&b), "hello\n"), "cat echoed %s", IT_SHOW(b.p, b.len));
	TRY(it_write_stdin(t, cid, cid, "", 0));
	TRY(it_drain(t, cid, cid, false, &io, IT_IO_MS));
	TRY(it_wait(t, cid, cid, &st));
	TRY(it_expect_out(t, "cat after stdin closed", &io, st, "", 0));
	rc = 0;
out:
	it_buf_free(&b);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* 1 MiB through an exec'd cat in 16 KiB round trips, then CloseStdin. */
static int case_stdin_roundtrip(struct it *t)
{
	const char *cid = "stdin-1mib", *eid = "cat-1mib";
	enum { CHUNK = 16384, TOTAL = 1 << 20 };
	struct it_spec s, e;
	struct it_buf b = {0};
	struct it_io io = {0};
	int rc = -1, st = -1;
	static uint8_t chunk[CHUNK];
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "cat", NULL);
	TRY(it_exec(t, cid, eid, &e.proc));
	for (size_t off = 0; off < TOTAL; off += CHUNK) {
		for (size_t i = 0; i < CHUNK; i++)
			chunk[i] = (uint8_t)((off + i) * 13 % 256);
		size_t before = b.total;
		TRY(it_write_stdin(t, cid, eid, chunk, CHUNK));
		TRY(read_exactly(t, cid, eid, &b, before + CHUNK));
	}
	Grpc__CloseStdinRequest req = GRPC__CLOSE_STDIN_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	TRY(it_ok(t, "CloseStdin", &req.base, NULL, NULL));
	TRY(it_drain(t, cid, eid, false, &io, IT_IO_MS));
	TRY(it_wait(t, cid, eid, &st));
	EXPECT(b.total + io.out.total == TOTAL, "%zu bytes came back, want %d",
	       b.total + io.out.total, TOTAL);
	for (size_t i = 0; i < b.len; i++)
		EXPECT((uint8_t)b.p[i] == (uint8_t)(i * 13 % 256), "byte %zu differs", i);
	EXPECT(st == 0, "cat exited %d after CloseStdin", st);
	rc = 0;
out:
	it_buf_free(&b);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- 50 MB of output -------------------------------------------------------------------- */

struct spew_check {
	uint64_t off;
	uint64_t bad;
	uint64_t first_bad;
};

static void spew_sink(void *arg, const uint8_t *p, size_t n)
{
	struct spew_check *c = arg;
	for (size_t i = 0; i < n; i++, c->off++)
		if (p[i] != (uint8_t)(c->off * 7 % 251) && c->bad++ == 0)
			c->first_bad = c->off;
}

static int case_output_50mb(struct it *t)
{
	const char *cid = "output-50mb";
	const uint64_t total = 50ull << 20;
	struct it_spec s;
	struct it_io io = {0};
	struct spew_check chk = {0};
	int rc = -1, st = -1;
	char n[32];
	snprintf(n, sizeof(n), "%llu", (unsigned long long)total);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "spew", n, NULL);
	io.sink = spew_sink;
	io.sink_arg = &chk;
	io.read_len = 1 << 20;
	double t0 = it_now_us();
	TRY(it_run(t, cid, &s, &io, &st));
	double ms = (it_now_us() - t0) / 1000;
	EXPECT(chk.off == total, "%llu bytes of %llu arrived", (unsigned long long)chk.off,
	       (unsigned long long)total);
	EXPECT(chk.bad == 0, "%llu bytes differ, the first at offset %llu",
	       (unsigned long long)chk.bad, (unsigned long long)chk.first_bad);
	EXPECT(st == 0, "spew exited %d", st);
	printf("# 50 MiB through ReadStdout in %.0f ms (%.0f MiB/s)\n", ms, 50 / (ms / 1000));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- lifecycle rules -------------------------------------------------------------------- */

static int case_start_twice(struct it *t)
{
	const char *cid = "start-twice";
	struct it_spec s;
	int rc = -1;
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	TRY(it_up_sleeping(t, cid, &s));
	TRY(it_code(t, "StartContainer", &req.base, PD_FAILED_PRECONDITION));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_exec_stopped(struct it *t)
{
	const char *cid = "exec-stopped";
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	TRY(it_run(t, cid, &s, &io, &st));
	EXPECT(st == 0, "true exited %d", st);
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "echo", "late", NULL);
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = "late";
	req.process = &e.proc;
	TRY(it_code(t, "ExecProcess", &req.base, PD_FAILED_PRECONDITION));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_remove_running(struct it *t)
{
	const char *cid = "remove-running";
	struct it_spec s;
	struct it_snap before;
	char path[PATH_MAX];
	int rc = -1, code;
	it_snap_take(t, &before);
	TRY(it_up_sleeping(t, cid, &s));
	code = it_remove_code(t, cid);
	EXPECT(code == 0, "RemoveContainer of a running container: %s: %s", pd_code_name(code),
	       t->msg);
	/* Removed means removed when the answer arrives: no state.json, no fds. */
	EXPECT(access(it_state_path(t, cid, path, sizeof(path)), F_OK) < 0 && errno == ENOENT,
	       "%s still exists when RemoveContainer has answered", path);
	Grpc__WaitProcessRequest w = GRPC__WAIT_PROCESS_REQUEST__INIT;
	w.container_id = (char *)cid;
	w.exec_id = "";
	TRY(it_code(t, "WaitProcess", &w.base, PD_NOT_FOUND));
	EXPECT(access(it_state_path(t, cid, path, sizeof(path)), F_OK) < 0 && errno == ENOENT,
	       "%s still exists", path);
	TRY(it_snap_same(t, &before, "a removed container"));
	rc = 0;
out:
	if (rc < 0)
		it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- exec ------------------------------------------------------------------------------- */

static int case_exec(struct it *t)
{
	const char *cid = "exec-basic";
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "echo", "from", "exec", NULL);
	TRY(it_exec_run(t, cid, "echo", &e.proc, &io, &st));
	TRY(it_expect_out(t, "exec echo", &io, st, "from exec\n", 0));
	it_io_free(&io);
	/* The exec sees the init's pid namespace and /proc: pid 1 is the sleeping init. */
	it_spec_args(&e, "cat", "/proc/1/cmdline", NULL);
	TRY(it_exec_run(t, cid, "cmdline", &e.proc, &io, &st));
	EXPECT(st == 0 && io.out.len == 11 && memcmp(io.out.p, "sleep\0" IT_LONG_SLEEP, 11) == 0,
	       "/proc/1/cmdline in the exec: %s (exit %d)", IT_SHOW(io.out.p, io.out.len), st);
	it_io_free(&io);
	it_spec_args(&e, "pid", NULL);
	TRY(it_exec_run(t, cid, "pid", &e.proc, &io, &st));
	int pid = atoi(it_buf_str(&io.out));
	EXPECT(st == 0 && pid > 1 && pid < 100, "exec's pid %s: want a small pid > 1",
	       IT_SHOW(io.out.p, io.out.len));
	it_io_free(&io);
	/* Its own cwd and environment. */
	it_spec_args(&e, "pwd", NULL);
	e.proc.cwd = "/work";
	TRY(it_exec_run(t, cid, "pwd", &e.proc, &io, &st));
	TRY(it_expect_out(t, "exec pwd", &io, st, "/work\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_exec_signals(struct it *t)
{
	const char *cid = "exec-signals";
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "kill-self", "9", NULL);
	TRY(it_exec_run(t, cid, "kill9", &e.proc, &io, &st));
	EXPECT(st == 137, "kill-self 9: status %d, want 137", st);
	it_io_free(&io);
	it_spec_args(&e, "kill-self", "15", NULL);
	TRY(it_exec_run(t, cid, "kill15", &e.proc, &io, &st));
	EXPECT(st == 143, "kill-self 15: status %d, want 143", st);
	it_io_free(&io);
	it_spec_args(&e, "exit", "7", NULL);
	TRY(it_exec_run(t, cid, "exit7", &e.proc, &io, &st));
	EXPECT(st == 7, "exit 7: status %d", st);
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_exec_id_reused(struct it *t)
{
	const char *cid = "exec-dup";
	struct it_spec s, e;
	int rc = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_exec(t, cid, "twin", &e.proc));
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = "twin";
	req.process = &e.proc;
	TRY(it_code(t, "ExecProcess", &req.base, PD_ALREADY_EXISTS));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* An exec that leaves a background child holding its stdout/stderr still reaches EOF, and
 * WaitProcess answers (the Kata exec hang, agent#370). */
static int case_bg_child(struct it *t)
{
	const char *cid = "bg-child";
	struct it_spec s, e;
	struct it_io io = {0};
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "bg-child", NULL);
	TRY(it_exec(t, cid, "bg", &e.proc));
	int64_t t0 = it_now_ms();
	/* bounded well below the background child's 1000 s: that hang is what is tested */
	TRY(it_drain(t, cid, "bg", false, &io, IT_IO_MS));
	TRY(it_wait_on(t, &t->c, cid, "bg", &st, IT_CALL_MS));
	TRY(it_expect_out(t, "bg-child", &io, st, "parent done\n", 0));
	printf("# bg-child exec: EOF and exit status after %lld ms\n",
	       (long long)(it_now_ms() - t0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ReadStdout/ReadStderr after EOF answer EOF again (not an error, not a hang). */
static int case_read_after_eof(struct it *t)
{
	const char *cid = "read-after-eof";
	struct it_spec s;
	struct it_io io = {0};
	int rc = -1, st = -1;
	uint8_t *d;
	size_t n;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "echo", "once", NULL);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(it_drain(t, cid, cid, false, &io, IT_IO_MS));
	for (int i = 0; i < 2; i++) {
		TRY(it_read1(t, cid, cid, false, &d, &n, IT_CALL_MS));
		free(d);
		EXPECT(n == 0, "ReadStdout after EOF gave %zu bytes", n);
		TRY(it_read1(t, cid, cid, true, &d, &n, IT_CALL_MS));
		free(d);
		EXPECT(n == 0, "ReadStderr after EOF gave %zu bytes", n);
	}
	TRY(it_wait(t, cid, cid, &st));
	TRY(it_expect_out(t, "echo once", &io, st, "once\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- signals and waiters ---------------------------------------------------------------- */

static int send_wait(struct it *t, struct pd_client *c, const char *cid, const char *eid,
		     uint32_t *stream)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	struct pd_error e = {0};
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	if (pd_client_send(c, IT_SERVICE, "WaitProcess", &req.base, 0, stream, &e) < 0)
		return it_why(t, "send WaitProcess: %s", e.msg);
	return 0;
}

/* n answers to WaitProcess on c (streams in any order), each with status `want`. */
static int recv_waits(struct it *t, struct pd_client *c, const uint32_t *streams, int n, int want)
{
	bool seen[8] = {false};
	for (int got = 0; got < n;) {
		struct pd_client_reply r;
		struct pd_error e = {0};
		if (pd_client_recv(c, IT_CALL_MS, &r, &e) < 0)
			return it_why(t, "%d of %d WaitProcess calls answered: %s", got, n, e.msg);
		int k = -1;
		for (int i = 0; i < n; i++)
			if (streams[i] == r.stream_id && !seen[i])
				k = i;
		if (k < 0) {
			pd_client_reply_free(&r);
			continue;
		}
		seen[k] = true;
		got++;
		Grpc__WaitProcessResponse *w =
		    r.code ? NULL
			   : grpc__wait_process_response__unpack(NULL, r.payload_len, r.payload);
		int status = w ? w->status : -1;
		if (w)
			grpc__wait_process_response__free_unpacked(w, NULL);
		int code = r.code;
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", r.message);
		pd_client_reply_free(&r);
		if (code != 0)
			return it_why(t, "waiter %d: %s: %s", k, pd_code_name(code), msg);
		if (status != want)
			return it_why(t, "waiter %d: status %d, want %d", k, status, want);
	}
	return 0;
}

/* Five WaitProcess calls on two connections, parked before the kill, all answered 137. */
static int case_wait_parallel(struct it *t)
{
	const char *cid = "wait-parallel";
	struct it_spec s;
	struct pd_client c2 = {.fd = -1}, c3 = {.fd = -1};
	uint32_t s2[3], s3[2];
	int rc = -1;
	TRY(it_up_sleeping(t, cid, &s));
	TRY(it_connect(t, &c2));
	TRY(it_connect(t, &c3));
	for (int i = 0; i < 3; i++)
		TRY(send_wait(t, &c2, cid, i == 0 ? "" : cid, &s2[i]));
	for (int i = 0; i < 2; i++)
		TRY(send_wait(t, &c3, cid, cid, &s3[i]));
	TRY(it_sync(t, &c2));
	TRY(it_sync(t, &c3));
	TRY(it_signal(t, cid, "", SIGKILL));
	TRY(recv_waits(t, &c2, s2, 3, 137));
	TRY(recv_waits(t, &c3, s3, 2, 137));
	rc = 0;
out:
	pd_client_close(&c2);
	pd_client_close(&c3);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* Parked WaitProcess calls whose connection stopped reading (shutdown SHUT_RD: the agent's
 * next write on it fails with EPIPE, without a read event first) are answered into the
 * void when the process dies: the agent drops that connection and lives on, and a waiter
 * on another connection still gets the status. */
static int case_waiters_peer_gone(struct it *t)
{
	const char *cid = "waiters-peer-gone";
	struct it_spec s;
	struct pd_client c2 = {.fd = -1};
	uint32_t s2[3];
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	TRY(it_connect(t, &c2));
	for (int i = 0; i < 3; i++)
		TRY(send_wait(t, &c2, cid, "", &s2[i]));
	TRY(it_sync(t, &c2));
	EXPECT(shutdown(c2.fd, SHUT_RD) == 0, "shutdown: %s", strerror(errno));
	TRY(it_signal(t, cid, "", SIGKILL));
	TRY(it_wait(t, cid, cid, &st));
	EXPECT(st == 137, "status %d, want 137", st);
	TRY(it_sync(t, &t->c));
	EXPECT(kill(t->agent, 0) == 0, "the agent died");
	rc = 0;
out:
	pd_client_close(&c2);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* SignalProcess with exec_id "" and SIGKILL kills the init and every exec. */
static int case_kill_all(struct it *t)
{
	const char *cid = "kill-all";
	struct it_spec s, e;
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_exec(t, cid, "sleeper1", &e.proc));
	TRY(it_exec(t, cid, "sleeper2", &e.proc));
	TRY(it_signal(t, cid, "", SIGKILL));
	TRY(it_wait(t, cid, "sleeper1", &st));
	EXPECT(st == 137, "exec sleeper1: status %d, want 137", st);
	TRY(it_wait(t, cid, "sleeper2", &st));
	EXPECT(st == 137, "exec sleeper2: status %d, want 137", st);
	TRY(it_wait(t, cid, cid, &st));
	EXPECT(st == 137, "init: status %d, want 137", st);
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A pid-namespace init ignores a SIGTERM it has no handler for: the agent sends SIGKILL. */
static int case_sigterm_no_handler(struct it *t)
{
	const char *cid = "sigterm-plain";
	struct it_spec s;
	int rc = -1, st = -1;
	TRY(it_up_sleeping(t, cid, &s));
	TRY(it_signal(t, cid, "", SIGTERM));
	TRY(it_wait(t, cid, cid, &st));
	EXPECT(st == 137, "status %d, want 137 (SIGKILL)", st);
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* An init with a SIGTERM handler gets the SIGTERM itself. */
static int case_sigterm_trapped(struct it *t)
{
	const char *cid = "sigterm-trap";
	struct it_spec s;
	struct it_buf b = {0};
	struct it_io io = {0};
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "trap-term", NULL);
	TRY(it_create(t, cid, &s));
	TRY(it_start(t, cid));
	TRY(read_exactly(t, cid, cid, &b, 6)); /* "ready\n": the handler is in place */
	EXPECT(!strcmp(it_buf_str(&b), "ready\n"), "trap-term said %s", IT_SHOW(b.p, b.len));
	TRY(it_signal(t, cid, cid, SIGTERM));
	TRY(it_drain(t, cid, cid, false, &io, IT_IO_MS));
	TRY(it_wait(t, cid, cid, &st));
	TRY(it_expect_out(t, "trap-term after SIGTERM", &io, st, "got SIGTERM\n", 0));
	rc = 0;
out:
	it_buf_free(&b);
	it_io_free(&io);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- state.json ------------------------------------------------------------------------- */

/* Load a container's state.json. */
static int load_state(struct it *t, const char *cid, struct it_json *j)
{
	char path[PATH_MAX];
	it_state_path(t, cid, path, sizeof(path));
	char *text = it_read_file(path, NULL);
	if (!text)
		return it_why(t, "%s: %s", path, strerror(errno));
	if (it_json_parse(j, text) < 0) {
		free(text);
		j->text = NULL;
		it_json_free(j);
		return it_why(t, "%s is not a JSON object", path);
	}
	return 0;
}

static void free_state(struct it_json *j)
{
	free(j->text);
	j->text = NULL;
	it_json_free(j);
}

static int expect_key(struct it *t, const struct it_json *j, const char *key, const char *want)
{
	char v[PATH_MAX];
	if (!it_json_get(j, key, v, sizeof(v)))
		return it_why(t, "state.json has no %s", key);
	if (strcmp(v, want) != 0)
		return it_why(t, "state.json %s = \"%s\", want \"%s\"", key, v, want);
	return 0;
}

/* namespace_paths.<KEY> names the same namespace as /proc/<pid>/ns/<name>. A path under
 * /var/run is read under /run: /var/run is a symlink to /run, and an absolute symlink
 * would be resolved in the test's mount namespace, not the agent's. */
static int expect_ns_path(struct it *t, const struct it_json *j, const char *key, const char *name,
			  int pid)
{
	char k[64], v[PATH_MAX], path[PATH_MAX], own[64];
	snprintf(k, sizeof(k), "namespace_paths.%s", key);
	if (!it_json_get(j, k, v, sizeof(v)) || v[0] != '/')
		return it_why(t, "state.json has no absolute %s", k);
	const char *p = strncmp(v, "/var/run/", 9) == 0 ? v + 4 : v;
	it_agent_path(t, path, sizeof(path), "%s", p);
	snprintf(own, sizeof(own), "/proc/%d/ns/%s", pid, name);
	unsigned long a = it_ns_ino(path), b = it_ns_ino(own);
	if (!a || a != b)
		return it_why(t, "%s = %s: namespace %lu, but the init's %s is %lu", k, v, a, name,
			      b);
	return 0;
}

static int case_state_json(struct it *t)
{
	const char *cid = "state-json";
	struct it_spec s;
	struct it_json j = {0};
	char path[PATH_MAX], v[64];
	int rc = -1, st = -1;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_create(t, cid, &s));
	TRY(load_state(t, cid, &j));
	TRY(expect_key(t, &j, "id", cid));
	TRY(expect_key(t, &j, "status", "created"));
	TRY(expect_key(t, &j, "config.hostname", IT_HOSTNAME));
	if (expect_key(t, &j, "config.rootfs", t->rootfs) < 0) {
		char bundle[PATH_MAX];
		snprintf(bundle, sizeof(bundle), "/run/kata-containers/%s/rootfs", cid);
		TRY(expect_key(t, &j, "config.rootfs", bundle));
	}
	int pid = it_json_get(&j, "init_process_pid", v, sizeof(v)) ? atoi(v) : 0;
	EXPECT(pid > 1 && kill(pid, 0) == 0, "init_process_pid %d is not a live process", pid);
	TRY(expect_ns_path(t, &j, "NEWPID", "pid", pid));
	TRY(expect_ns_path(t, &j, "NEWNS", "mnt", pid));
	TRY(expect_ns_path(t, &j, "NEWIPC", "ipc", pid));
	TRY(expect_ns_path(t, &j, "NEWUTS", "uts", pid));
	free_state(&j);

	TRY(it_start(t, cid));
	TRY(load_state(t, cid, &j));
	TRY(expect_key(t, &j, "status", "running"));
	snprintf(v, sizeof(v), "%d", pid);
	TRY(expect_key(t, &j, "init_process_pid", v));
	free_state(&j);

	TRY(it_signal(t, cid, "", SIGKILL));
	TRY(it_wait(t, cid, cid, &st));
	TRY(load_state(t, cid, &j));
	TRY(expect_key(t, &j, "status", "stopped"));
	free_state(&j);

	EXPECT(it_remove_code(t, cid) == 0, "RemoveContainer: %s: %s", pd_code_name(t->code),
	       t->msg);
	it_state_path(t, cid, path, sizeof(path));
	EXPECT(access(path, F_OK) < 0 && errno == ENOENT, "%s is left after RemoveContainer", path);
	*strrchr(path, '/') = '\0';
	EXPECT(access(path, F_OK) < 0 && errno == ENOENT, "%s is left after RemoveContainer", path);
	return 0;
out:
	free_state(&j);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* ---- the sandbox's namespaces ------------------------------------------------------------ */

static int init_pid_of(struct it *t, const char *cid, int *pid)
{
	struct it_json j = {0};
	char v[64];
	if (load_state(t, cid, &j) < 0)
		return -1;
	*pid = it_json_get(&j, "init_process_pid", v, sizeof(v)) ? atoi(v) : 0;
	free_state(&j);
	return *pid > 0 ? 0 : it_why(t, "%s: no init_process_pid in state.json", cid);
}

static unsigned long ns_of(int pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	return it_ns_ino(path);
}

/* Containers share the sandbox's uts and ipc namespaces (not the agent's), each has its
 * own pid and mount namespace; a message queue made in one is seen in the other. */
static int case_shared_namespaces(struct it *t)
{
	const char *a = "ns-share-a", *b = "ns-share-b";
	struct it_spec sa, sb, e;
	struct it_io io = {0};
	char path[PATH_MAX];
	int rc = -1, rc_b = 0, pa, pb, st = -1;
	TRY(it_up_sleeping(t, a, &sa));
	TRY(it_up_sleeping(t, b, &sb));
	TRY(init_pid_of(t, a, &pa));
	TRY(init_pid_of(t, b, &pb));
	EXPECT(ns_of(pa, "uts") == ns_of(pb, "uts"), "uts namespaces differ");
	EXPECT(ns_of(pa, "ipc") == ns_of(pb, "ipc"), "ipc namespaces differ");
	EXPECT(ns_of(pa, "uts") != ns_of(t->agent, "uts"), "the container has the agent's uts");
	EXPECT(ns_of(pa, "ipc") != ns_of(t->agent, "ipc"), "the container has the agent's ipc");
	EXPECT(ns_of(pa, "pid") != ns_of(pb, "pid"), "two containers share a pid namespace");
	EXPECT(ns_of(pa, "mnt") != ns_of(pb, "mnt"), "two containers share a mount namespace");
	it_agent_path(t, path, sizeof(path), "/run/sandbox-ns/uts");
	EXPECT(it_ns_ino(path) == ns_of(pa, "uts"), "%s is not the containers' uts", path);
	it_agent_path(t, path, sizeof(path), "/run/sandbox-ns/ipc");
	EXPECT(it_ns_ino(path) == ns_of(pa, "ipc"), "%s is not the containers' ipc", path);

	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "write", "/dev/mqueue/it-shared-q", NULL);
	TRY(it_exec_run(t, a, "mq-make", &e.proc, &io, &st));
	TRY(it_expect_out(t, "create a message queue in A", &io, st, "ok\n", 0));
	it_io_free(&io);
	it_spec_args(&e, "stat", "/dev/mqueue/it-shared-q", NULL);
	TRY(it_exec_run(t, b, "mq-see", &e.proc, &io, &st));
	EXPECT(st == 0, "B does not see A's message queue: %s", IT_SHOW(io.err.p, io.err.len));
	it_io_free(&io);
	it_spec_args(&e, "hostname", NULL);
	TRY(it_exec_run(t, b, "hostname", &e.proc, &io, &st));
	TRY(it_expect_out(t, "hostname in B", &io, st, IT_HOSTNAME "\n", 0));
	rc = 0;
out:
	it_io_free(&io);
	it_cleanup(t, b, &rc_b);
	if (rc == 0 && rc_b < 0)
		rc = -1;
	it_cleanup(t, a, &rc);
	return rc;
}

/* ---- fd leaks and timing ---------------------------------------------------------------- */

static int run_true_exec(struct it *t, const char *cid, int i, Grpc__Process *p)
{
	char eid[32];
	struct it_io io = {0};
	int st = -1;
	snprintf(eid, sizeof(eid), "true-%d", i);
	int rc = it_exec_run(t, cid, eid, p, &io, &st);
	it_io_free(&io);
	if (rc == 0 && st != 0)
		rc = it_why(t, "exec %s exited %d", eid, st);
	return rc;
}

/* 1000 execs (exec, read to EOF, wait) leave the agent's fd count where it was. */
static int case_fd_leak(struct it *t)
{
	const char *cid = "fd-leak";
	enum { N = 1000 };
	struct it_spec s, e;
	int rc = -1, before = -1, after = -1;
	TRY(it_up_sleeping(t, cid, &s));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "true", NULL);
	TRY(run_true_exec(t, cid, -1, &e.proc)); /* anything opened once, on first use */
	TRY(it_sync(t, &t->c)); /* the last exec's teardown is done (see it_snap_take) */
	before = it_agent_fd_count(t);
	EXPECT(before > 0, "cannot count /proc/%d/fd", (int)t->agent);
	double t0 = it_now_us();
	for (int i = 0; i < N; i++)
		TRY(run_true_exec(t, cid, i, &e.proc));
	double per = (it_now_us() - t0) / 1000 / N;
	TRY(it_sync(t, &t->c));
	int64_t end = 0;
	while ((after = it_agent_fd_count(t)) > before && it_retry(&end))
		;
	printf("# %d execs of true: agent fds %d -> %d, %.2f ms per exec+read+wait\n", N, before,
	       after, per);
	EXPECT(after <= before, "the agent's fds grew from %d to %d over %d execs (waited %d s)",
	       before, after, N, IT_WAIT_MS / 1000);
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* create + start + wait of a `true` container: printed for the lead, not asserted. */
static int case_timing(struct it *t)
{
	enum { N = 20 };
	double ms[N];
	int rc = 0;
	for (int i = 0; i < N && rc == 0; i++) {
		char cid[32];
		struct it_spec s;
		int st = -1;
		snprintf(cid, sizeof(cid), "timing-%d", i);
		it_spec_default(&s, t->rootfs);
		it_spec_args(&s, "true", NULL);
		double t0 = it_now_us();
		rc = it_create(t, cid, &s) < 0 || it_start(t, cid) < 0 ||
			     it_wait(t, cid, cid, &st) < 0
			 ? -1
			 : 0;
		ms[i] = (it_now_us() - t0) / 1000;
		if (rc == 0 && st != 0)
			rc = it_why(t, "%s: true exited %d", cid, st);
		it_cleanup(t, cid, &rc);
	}
	if (rc < 0)
		return rc;
	qsort(ms, N, sizeof(ms[0]), cmp_double);
	printf("# true container, create+start+wait: median %.1f ms (min %.1f, max %.1f, n=%d)\n",
	       (ms[N / 2 - 1] + ms[N / 2]) / 2, ms[0], ms[N - 1], N);
	return 0;
}

/* ---- the sandbox ------------------------------------------------------------------------ */

/* DestroySandbox with a running container (init and an exec) and a created one: every
 * pending WaitProcess is answered (137: killed) and so is DestroySandbox. */
static int case_destroy_sandbox(struct it *t)
{
	struct it_spec a, b, e;
	struct pd_client c2 = {.fd = -1};
	uint32_t s[3];
	int rc = -1;
	TRY(it_up_sleeping(t, "destroy-running", &a));
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_exec(t, "destroy-running", "exec", &e.proc));
	it_spec_default(&b, t->rootfs);
	it_spec_args(&b, "sleep", IT_LONG_SLEEP, NULL);
	TRY(it_create(t, "destroy-created", &b));
	TRY(it_connect(t, &c2));
	TRY(send_wait(t, &c2, "destroy-running", "", &s[0]));
	TRY(send_wait(t, &c2, "destroy-running", "exec", &s[1]));
	TRY(send_wait(t, &c2, "destroy-created", "", &s[2]));
	TRY(it_sync(t, &c2));
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	TRY(it_ok(t, "DestroySandbox", &req.base, NULL, NULL));
	TRY(recv_waits(t, &c2, s, 3, 137));
	rc = 0;
out:
	pd_client_close(&c2);
	return rc;
}

/* GetDiagnosticData: the termination log is read from the guest-side source of the
 * container's /dev/termination-log bind mount (4 KiB at most); other log types are refused. */
static int case_diagnostic_termination_log(struct it *t)
{
	const char *cid = "diag-termlog";
	static char *bind_opts[] = {"rbind", "rw"};
	char src[PATH_MAX], big[6000];
	struct it_spec s;
	Grpc__GetDiagnosticDataResponse *resp = NULL;
	int rc = -1;
	snprintf(src, sizeof(src), "%s", t->rootfs);
	char *slash = strrchr(src, '/');
	EXPECT(slash, "rootfs %s", t->rootfs);
	snprintf(slash, sizeof(src) - (size_t)(slash - src), "/termination-log");
	FILE *f = fopen(src, "w");
	EXPECT(f, "create %s", src);
	memset(big, 'x', sizeof(big));
	memcpy(big, "bye\n", 4);
	fwrite(big, 1, sizeof(big), f);
	fclose(f);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	it_spec_mount(&s, "/dev/termination-log", "bind", src, bind_opts, IT_N(bind_opts));
	TRY(it_create(t, cid, &s));
	Grpc__GetDiagnosticDataRequest req = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.log_type = "termination_log";
	TRY(it_ok(t, "GetDiagnosticData", &req.base, &grpc__get_diagnostic_data_response__descriptor,
		  &resp));
	EXPECT(strlen(resp->data) == 4096 && strncmp(resp->data, "bye\n", 4) == 0,
	       "data of %zu bytes starting %s, want the first 4096 bytes", strlen(resp->data),
	       IT_SHOW(resp->data, 8));
	req.log_type = "kernel_log";
	TRY(it_code(t, "GetDiagnosticData", &req.base, PD_INVALID_ARGUMENT));
	req.log_type = "termination_log";
	req.container_id = "no-such-container";
	TRY(it_code(t, "GetDiagnosticData", &req.base, PD_NOT_FOUND));
	rc = 0;
out:
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	unlink(src);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The options of the mount at `mp` in the agent's namespace (super options), or "". */
static const char *agent_mount_opts(struct it *t, const char *mp, char *buf, size_t size)
{
	char path[64], line[4096];
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)t->agent);
	FILE *f = fopen(path, "r");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		char point[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && strcmp(point, mp) == 0) {
			char *super = strrchr(line, ' ');
			snprintf(buf, size, "%s", super ? super + 1 : "");
		}
	}
	fclose(f);
	return buf;
}

/* UpdateEphemeralMounts resizes an ephemeral (tmpfs) storage a container holds; a mount
 * point the sandbox does not hold is NOT_FOUND, another driver INVALID_ARGUMENT. */
static int case_update_ephemeral_mounts(struct it *t)
{
	const char *cid = "ephemeral-upd", *mp = "/run/kata-containers/sandbox/ephemeral-it";
	static char *opts1[] = {"nodev", "size=1m"}, *opts2[] = {"nodev", "size=2m"};
	char o[512];
	struct it_spec s;
	int rc = -1;
	Grpc__Storage st = GRPC__STORAGE__INIT, *stp = &st;
	st.driver = "ephemeral";
	st.source = "tmpfs";
	st.fstype = "tmpfs";
	st.mount_point = (char *)mp;
	st.options = opts1;
	st.n_options = IT_N(opts1);
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "sleep", IT_LONG_SLEEP, NULL);
	Grpc__CreateContainerRequest creq;
	it_create_req(&creq, cid, &s);
	creq.storages = &stp;
	creq.n_storages = 1;
	TRY(it_ok(t, "CreateContainer", &creq.base, NULL, NULL));
	EXPECT(strstr(agent_mount_opts(t, mp, o, sizeof(o)), "size=1024k"),
	       "ephemeral storage options %s, want size=1024k", o);
	Grpc__UpdateEphemeralMountsRequest ureq = GRPC__UPDATE_EPHEMERAL_MOUNTS_REQUEST__INIT;
	st.options = opts2;
	ureq.storages = &stp;
	ureq.n_storages = 1;
	TRY(it_ok(t, "UpdateEphemeralMounts", &ureq.base, NULL, NULL));
	EXPECT(strstr(agent_mount_opts(t, mp, o, sizeof(o)), "size=2048k"),
	       "after the update: options %s, want size=2048k", o);
	st.mount_point = "/run/kata-containers/sandbox/not-mounted";
	TRY(it_code(t, "UpdateEphemeralMounts", &ureq.base, PD_NOT_FOUND));
	st.mount_point = (char *)mp;
	st.driver = "local";
	TRY(it_code(t, "UpdateEphemeralMounts", &ureq.base, PD_INVALID_ARGUMENT));
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* RemoveStaleVirtiofsShareMounts unmounts what is mounted under the shared directory for a
 * container that does not exist, and keeps a live container's. */
static int case_remove_stale_share_mounts(struct it *t)
{
	const char *cid = "share-live";
	const char *live = "/run/kata-containers/shared/containers/share-live/extra";
	const char *gone = "/run/kata-containers/shared/containers/share-gone/rootfs";
	char cmd[1024], o[512];
	struct it_spec s;
	int rc = -1;
	TRY(it_up_sleeping(t, cid, &s));
	for (int i = 0; i < 2; i++) {
		const char *mp = i ? gone : live;
		snprintf(cmd, sizeof(cmd),
			 "nsenter -t %d -m -- sh -c 'mkdir -p %s && mount -t tmpfs -o size=4k x %s'",
			 (int)t->agent, mp, mp);
		EXPECT(system(cmd) == 0, "could not mount %s in the agent's namespace", mp);
	}
	EXPECT(agent_mount_opts(t, gone, o, sizeof(o))[0], "test mount %s not there", gone);
	Grpc__RemoveStaleVirtiofsShareMountsRequest req =
	    GRPC__REMOVE_STALE_VIRTIOFS_SHARE_MOUNTS_REQUEST__INIT;
	TRY(it_ok(t, "RemoveStaleVirtiofsShareMounts", &req.base, NULL, NULL));
	EXPECT(!agent_mount_opts(t, gone, o, sizeof(o))[0], "stale %s still mounted", gone);
	EXPECT(agent_mount_opts(t, live, o, sizeof(o))[0], "live %s was unmounted", live);
	rc = 0;
out:
	snprintf(cmd, sizeof(cmd), "nsenter -t %d -m -- umount %s 2>/dev/null", (int)t->agent, live);
	if (system(cmd) != 0) {
		/* already gone */
	}
	it_cleanup(t, cid, &rc);
	return rc;
}

static const struct it_case cases[] = {
    {"echo_stdout", case_echo},
    {"stderr_and_exit_127", case_stderr},
    {"exit_code_42", case_exit_code},
    {"init_is_pid_1", case_pid_1},
    {"hostname_is_the_sandbox_hostname", case_hostname},
    {"env_is_exactly_the_spec_plus_home", case_env},
    {"home_from_etc_passwd", case_home_from_passwd},
    {"cwd", case_cwd},
    {"uid_gid_groups", case_user},
    {"rlimits", case_rlimits},
    {"tty_isatty", case_tty},
    {"no_tty_isatty", case_notty},
    {"tty_winresize", case_tty_resize},
    {"winresize_without_tty_unavailable", case_resize_no_tty},
    {"stdin_echo_and_empty_write_closes", case_stdin_echo},
    {"stdin_1mib_roundtrip_and_close_stdin", case_stdin_roundtrip},
    {"output_50mb_no_lost_byte", case_output_50mb},
    {"start_twice_failed_precondition", case_start_twice},
    {"exec_when_stopped_failed_precondition", case_exec_stopped},
    {"remove_running_container", case_remove_running},
    {"exec", case_exec},
    {"exec_exit_codes_and_signals", case_exec_signals},
    {"exec_id_reused_already_exists", case_exec_id_reused},
    {"exec_bg_child_reaches_eof", case_bg_child},
    {"read_after_eof_is_empty", case_read_after_eof},
    {"wait_parallel_waiters", case_wait_parallel},
    {"signal_all_sigkill_kills_everything", case_kill_all},
    {"sigterm_without_handler_is_sigkill", case_sigterm_no_handler},
    {"sigterm_with_handler", case_sigterm_trapped},
    {"state_json", case_state_json},
    {"shared_uts_ipc_namespaces", case_shared_namespaces},
    {"fd_leak_1000_execs", case_fd_leak},
    {"timing_true_container", case_timing},
    {"diagnostic_termination_log", case_diagnostic_termination_log},
    {"update_ephemeral_mounts", case_update_ephemeral_mounts},
    {"remove_stale_share_mounts", case_remove_stale_share_mounts},
    /* Last: it has crashed the agent (a reply that fails to write freed the call). */
    {"waiters_whose_connection_stopped_reading", case_waiters_peer_gone},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return it_create_sandbox(argc, argv, false, "create_sandbox");
	bool destroy = argc > 1 && strcmp(argv[1], "--destroy-sandbox") == 0;
	if (destroy) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (it_init(&t, argc, argv) < 0)
		return 2;
	if (destroy)
		it_report(&t, "destroy_sandbox_answers_pending_waits", case_destroy_sandbox(&t));
	else
		it_run_cases(&t, cases);
	return it_finish(&t, "containers");
}
