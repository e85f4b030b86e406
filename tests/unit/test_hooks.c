/* OCI hooks: agent/rpc/oci_hooks.c (Spec.Hooks -> config, refusals), agent/container/hooks.c
 * and hooks_guest.c (state document, guest directory, the container child's runner with a
 * bounded wait), and hooks_seq.c: the agent's hooks from the event loop, their statuses
 * from the process table, their timeouts timers.
 * Hooks here are /bin/sh scripts written to a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/wait.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/container/config.h"
#include "agent/container/hooks.h"
#include "agent/container/hooks_seq.h"
#include "agent/loop.h"
#include "agent/proctable.h"
#include "agent/rpc/oci_hooks.h"
#include "oci.pb-c.h"

static char dir[PATH_MAX]; /* the temporary directory */
static char ok_sh[PATH_MAX], link_sh[PATH_MAX], noexec_sh[PATH_MAX];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pd-test-hooks.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ok_sh, sizeof(ok_sh), "%s/ok.sh", dir);
	snprintf(link_sh, sizeof(link_sh), "%s/link.sh", dir);
	snprintf(noexec_sh, sizeof(noexec_sh), "%s/noexec.sh", dir);
	write_file(ok_sh, "#!/bin/sh\nexit 0\n", 0755);
	write_file(noexec_sh, "#!/bin/sh\nexit 0\n", 0644);
	if (symlink("ok.sh", link_sh) < 0)
		return -1;
	pd_proctable_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Spec.Hooks -> config --------------------------------------------------------------- */

struct spec {
	Grpc__Spec spec;
	Grpc__Hooks hooks;
	Grpc__Hook h[40];
	Grpc__Hook *hp[40];
	char *args[3];
	char *env[2];
	Grpc__Spec__AnnotationsEntry ann;
	Grpc__Spec__AnnotationsEntry *annp[1];
};

/* One prestart hook running path (more kinds are added by the tests). */
static void spec_init(struct spec *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	grpc__spec__init(&s->spec);
	grpc__hooks__init(&s->hooks);
	s->spec.version = "1.1.0";
	s->spec.hooks = &s->hooks;
	for (size_t i = 0; i < 40; i++) {
		grpc__hook__init(&s->h[i]);
		s->h[i].path = (char *)path;
		s->hp[i] = &s->h[i];
	}
	s->hooks.prestart = s->hp;
	s->hooks.n_prestart = 1;
	grpc__spec__annotations_entry__init(&s->ann);
	s->ann.key = "k";
	s->ann.value = "v\"q";
	s->annp[0] = &s->ann;
	s->spec.annotations = s->annp;
	s->spec.n_annotations = 1;
}

static void cfg_init(struct pd_container_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	pd_arena_init(&cfg->arena, PD_CONFIG_BYTES);
	snprintf(cfg->id, sizeof(cfg->id), "c1");
}

static void test_convert(void **state)
{
	struct spec s;
	struct pd_container_config cfg;
	struct pd_error err = {0};
	spec_init(&s, ok_sh);
	s.args[0] = "argv0";
	s.args[1] = "one";
	s.env[0] = "A=1";
	s.h[0].args = s.args;
	s.h[0].n_args = 2;
	s.h[0].env = s.env;
	s.h[0].n_env = 1;
	s.h[0].timeout = 5;
	s.h[1].timeout = PD_HOOK_MAX_TIMEOUT; /* the spec's own, however long: no cap */
	s.hooks.poststop = &s.hp[1];
	s.hooks.n_poststop = 1;
	s.h[2].path = "/does/not/exist/in/the/agent"; /* resolved in the container: not here */
	s.hooks.startcontainer = &s.hp[2];
	s.hooks.n_startcontainer = 1;
	cfg_init(&cfg);
	assert_int_equal(pd_oci_hooks_to_config(&s.spec, NULL, &cfg, &err), 0);
	struct pd_hooks *h = cfg.hooks;
	assert_non_null(h);
	assert_int_equal(h->n[PD_HOOK_PRESTART], 1);
	assert_int_equal(h->n[PD_HOOK_POSTSTOP], 1);
	assert_int_equal(h->n[PD_HOOK_START_CONTAINER], 1);
	assert_int_equal(h->n[PD_HOOK_CREATE_RUNTIME], 0);
	struct pd_hook *p = &h->list[PD_HOOK_PRESTART][0];
	assert_string_equal(p->path, ok_sh);
	assert_int_equal(p->n_args, 2);
	assert_string_equal(p->args[0], "argv0");
	assert_null(p->args[2]);
	assert_string_equal(p->env[0], "A=1");
	assert_null(p->env[1]);
	assert_int_equal(p->timeout_s, 5);
	struct pd_hook *q = &h->list[PD_HOOK_POSTSTOP][0];
	assert_int_equal(q->n_args, 1); /* no args: [path] */
	assert_string_equal(q->args[0], ok_sh);
	assert_null(q->env[0]);
	assert_int_equal(q->timeout_s, PD_HOOK_MAX_TIMEOUT);
	assert_int_equal(pd_hooks_budget_ms(h, PD_HOOK_POSTSTOP),
			 (int64_t)PD_HOOK_MAX_TIMEOUT * 1000 + 1000);
	assert_string_equal(h->oci_version, "1.1.0");
	assert_int_equal(h->n_annotations, 1);
	assert_string_equal(h->annotation_values[0], "v\"q");
	assert_int_equal(pd_hooks_budget_ms(h, PD_HOOK_PRESTART), 6000);
	assert_int_equal(pd_hooks_budget_ms(h, PD_HOOK_CREATE_RUNTIME), 0);
	pd_arena_free(&cfg.arena);

	/* No hooks at all: nothing allocated. */
	spec_init(&s, ok_sh);
	s.spec.hooks = NULL;
	cfg_init(&cfg);
	assert_int_equal(pd_oci_hooks_to_config(&s.spec, NULL, &cfg, &err), 0);
	assert_null(cfg.hooks);
	pd_arena_free(&cfg.arena);
}

enum mutation {
	M_SYMLINK,
	M_NOEXEC,
	M_DIR,
	M_MISSING,
	M_RELATIVE,
	M_DOTDOT,
	M_EMPTY,
	M_NEG_TIMEOUT,
	M_HUGE_TIMEOUT,
	M_BAD_ENV,
	M_TOO_MANY,
	M_TOO_MANY_ARGS,
	M_POSTSTOP_SYMLINK
};

static void mutate(struct spec *s, enum mutation m)
{
	static char *bad_env[] = {"NOEQUALS"};
	static char *many[PD_HOOK_MAX_ARGS + 1];
	switch (m) {
	case M_SYMLINK:
		s->h[0].path = link_sh;
		break;
	case M_NOEXEC:
		s->h[0].path = noexec_sh;
		break;
	case M_DIR:
		s->h[0].path = dir;
		break;
	case M_MISSING:
		s->h[0].path = "/nonexistent/hook";
		break;
	case M_RELATIVE:
		s->h[0].path = "bin/true";
		break;
	case M_DOTDOT:
		s->h[0].path = "/tmp/../bin/true";
		break;
	case M_EMPTY:
		s->h[0].path = "";
		break;
	case M_NEG_TIMEOUT:
		s->h[0].timeout = -1;
		break;
	case M_HUGE_TIMEOUT:
		s->h[0].timeout = PD_HOOK_MAX_TIMEOUT + 1;
		break;
	case M_BAD_ENV:
		s->h[0].env = bad_env, s->h[0].n_env = 1;
		break;
	case M_TOO_MANY:
		s->hooks.n_prestart = PD_HOOKS_MAX + 1;
		break;
	case M_TOO_MANY_ARGS:
		for (size_t i = 0; i < PD_HOOK_MAX_ARGS + 1; i++)
			many[i] = "x";
		s->h[0].args = many, s->h[0].n_args = PD_HOOK_MAX_ARGS + 1;
		break;
	case M_POSTSTOP_SYMLINK:
		s->h[1].path = link_sh;
		s->hooks.poststop = &s->hp[1], s->hooks.n_poststop = 1;
		break;
	}
}

static void test_refused(void **state)
{
	static const struct {
		enum mutation m;
		const char *msg;
	} cases[] = {
	    {M_SYMLINK, "Hooks.Prestart[0]: "},
	    {M_SYMLINK, "is a symlink"},
	    {M_NOEXEC, "not a regular executable"},
	    {M_DIR, "not a regular executable"},
	    {M_MISSING, "No such file"},
	    {M_RELATIVE, "Hooks.Prestart[0]"},
	    {M_DOTDOT, "Hooks.Prestart[0]"},
	    {M_EMPTY, "Path is empty"},
	    {M_NEG_TIMEOUT, "negative"},
	    {M_HUGE_TIMEOUT, "more than a day"},
	    {M_BAD_ENV, "Env[0]"},
	    {M_TOO_MANY, "max 32"},
	    {M_TOO_MANY_ARGS, "more than"},
	    {M_POSTSTOP_SYMLINK, "Hooks.Poststop[0]: "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s;
		struct pd_container_config cfg;
		struct pd_error err = {0};
		spec_init(&s, ok_sh);
		mutate(&s, cases[i].m);
		cfg_init(&cfg);
		assert_int_equal(pd_oci_hooks_to_config(&s.spec, NULL, &cfg, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].msg);
		pd_arena_free(&cfg.arena);
	}
}

/* ---- guest hooks ------------------------------------------------------------------------ */

static void test_guest_dir(void **state)
{
	char g[PATH_MAX], p[PATH_MAX + 64];
	struct pd_container_config cfg;
	struct pd_error err = {0};
	snprintf(g, sizeof(g), "%s/guest", dir);
	mkdir(g, 0755);
	snprintf(p, sizeof(p), "%s/prestart", g);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/prestart/b.sh", g);
	write_file(p, "#!/bin/sh\n", 0755);
	snprintf(p, sizeof(p), "%s/prestart/a.sh", g);
	write_file(p, "#!/bin/sh\n", 0700);
	snprintf(p, sizeof(p), "%s/prestart/c-noexec", g);
	write_file(p, "#!/bin/sh\n", 0644);
	snprintf(p, sizeof(p), "%s/prestart/d-link", g);
	assert_int_equal(symlink("a.sh", p), 0);
	snprintf(p, sizeof(p), "%s/prestart/e-dir", g);
	mkdir(p, 0755);

	cfg_init(&cfg);
	assert_int_equal(pd_hooks_add_guest(&cfg.arena, &cfg.hooks, g, &err), 0);
	assert_non_null(cfg.hooks);
	assert_int_equal(cfg.hooks->n[PD_HOOK_PRESTART], 2); /* a.sh, b.sh in name order */
	snprintf(p, sizeof(p), "%s/prestart/a.sh", g);
	assert_string_equal(cfg.hooks->list[PD_HOOK_PRESTART][0].path, p);
	assert_string_equal(cfg.hooks->list[PD_HOOK_PRESTART][0].args[0], p);
	assert_int_equal(cfg.hooks->list[PD_HOOK_PRESTART][0].timeout_s, PD_HOOK_DEFAULT_TIMEOUT);
	assert_int_equal(cfg.hooks->n[PD_HOOK_POSTSTART], 0);

	/* A container's hooks: the spec's first, then the guest's. */
	struct spec s;
	struct pd_container_config ctr;
	spec_init(&s, ok_sh);
	cfg_init(&ctr);
	assert_int_equal(pd_oci_hooks_to_config(&s.spec, cfg.hooks, &ctr, &err), 0);
	assert_int_equal(ctr.hooks->n[PD_HOOK_PRESTART], 3);
	assert_string_equal(ctr.hooks->list[PD_HOOK_PRESTART][0].path, ok_sh);
	assert_string_equal(ctr.hooks->list[PD_HOOK_PRESTART][1].path, p);
	assert_string_equal(ctr.hooks->list[PD_HOOK_PRESTART][1].args[0], p);
	pd_arena_free(&ctr.arena);
	pd_arena_free(&cfg.arena);

	/* A directory that is not there: no hooks. */
	cfg_init(&cfg);
	assert_int_equal(pd_hooks_add_guest(&cfg.arena, &cfg.hooks, "/nonexistent", &err), 0);
	assert_null(cfg.hooks);
	pd_arena_free(&cfg.arena);
}

/* ---- the state and running -------------------------------------------------------------- */

static struct pd_hooks *one_hook(struct pd_container_config *cfg, int kind, const char *script,
				 int timeout)
{
	struct pd_error err = {0};
	char path[PATH_MAX + 32];
	static int n;
	snprintf(path, sizeof(path), "%s/h%d.sh", dir, n++);
	write_file(path, script, 0755);
	assert_int_equal(
	    pd_hooks_add(&cfg->arena, &cfg->hooks, kind, path, NULL, 0, NULL, 0, timeout, &err), 0);
	return cfg->hooks;
}

static void test_state(void **state)
{
	struct pd_container_config cfg;
	struct pd_error err = {0};
	char *text;
	size_t len;
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_PRESTART, "#!/bin/sh\n", 1);
	cfg.hooks->oci_version = "1.0.2";
	char *keys[] = {"a"}, *values[] = {"b\n"};
	cfg.hooks->annotation_keys = keys;
	cfg.hooks->annotation_values = values;
	cfg.hooks->n_annotations = 1;
	assert_int_equal(pd_hook_state_render(cfg.hooks, "c1", "/run/x/c1/rootfs", "creating", 42,
					      &text, &len, &err),
			 0);
	assert_string_equal(text, "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
				  "\"pid\":42,\"bundle\":\"/run/x/c1\",\"annotations\":{\"a\":"
				  "\"b\\n\"}}");
	assert_int_equal(len, strlen(text));
	free(text);
	pd_arena_free(&cfg.arena);
}

/* Processes whose command line has `arg` as an argument. */
static int count_procs_with_arg(const char *arg)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[4096];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
			buf[len] = '\0';
			if (!strcmp(buf + i, arg))
				n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* The container child's way: fork, bounded wait, waitpid. */
static void test_run_local(void **state)
{
	struct pd_container_config cfg;
	struct pd_error err = {0};
	char out[PATH_MAX + 16], script[2 * PATH_MAX];
	snprintf(out, sizeof(out), "%s/stdin-copy", dir);
	snprintf(script, sizeof(script), "#!/bin/sh\ncat >'%s'\n", out);
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_CREATE_CONTAINER, script, 5);
	one_hook(&cfg, PD_HOOK_CREATE_CONTAINER, script, 5); /* the state again, rewound */
	assert_int_equal(
	    pd_hooks_run_local(cfg.hooks, PD_HOOK_CREATE_CONTAINER, "{\"x\":1}", 7, &err), 0);
	char *got = NULL;
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ms", &got), 1);
	fclose(f);
	assert_string_equal(got, "{\"x\":1}");
	free(got);
	pd_arena_free(&cfg.arena);

	/* A process at the agent's -1000 runs hooks at 0; another score is kept. Lowering a
	 * score needs CAP_SYS_RESOURCE: where we cannot, the -1000 half is said to be skipped
	 * (the QEMU boot test covers it: there pidone is at -1000). Raised last, since a
	 * raise cannot be undone without that capability either. */
	static const struct {
		const char *ours, *want;
	} oom[] = {{"-1000", "0"}, {"300", "300"}};
	for (size_t i = 0; i < 2; i++) {
		FILE *o = fopen("/proc/self/oom_score_adj", "w");
		assert_non_null(o);
		fputs(oom[i].ours, o);
		if (fclose(o) != 0) {
			printf("skip: cannot set our oom_score_adj to %s: %s\n", oom[i].ours,
			       strerror(errno));
			continue;
		}
		cfg_init(&cfg);
		snprintf(script, sizeof(script), "#!/bin/sh\ncat /proc/self/oom_score_adj >'%s'\n",
			 out);
		one_hook(&cfg, PD_HOOK_CREATE_CONTAINER, script, 5);
		assert_int_equal(
		    pd_hooks_run_local(cfg.hooks, PD_HOOK_CREATE_CONTAINER, "{}", 2, &err), 0);
		f = fopen(out, "r");
		assert_non_null(f);
		assert_int_equal(fscanf(f, "%ms", &got), 1);
		fclose(f);
		assert_string_equal(got, oom[i].want);
		free(got);
		pd_arena_free(&cfg.arena);
	}

	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_START_CONTAINER, "#!/bin/sh\nexit 7\n", 5);
	assert_int_equal(pd_hooks_run_local(cfg.hooks, PD_HOOK_START_CONTAINER, "{}", 2, &err), -1);
	assert_int_equal(err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "startContainer hook 0 ("));
	assert_non_null(strstr(err.msg, "exited with status 7"));
	pd_arena_free(&cfg.arena);

	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_CREATE_CONTAINER, "#!/bin/sh\nexec sleep 20\n", 1);
	assert_int_equal(pd_hooks_run_local(cfg.hooks, PD_HOOK_CREATE_CONTAINER, "{}", 2, &err),
			 -1);
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED); /* not the sleep's end: its status */
	assert_non_null(strstr(err.msg, "timed out after 1 s"));
	pd_arena_free(&cfg.arena);

	/* What a timed-out hook started in the background dies with it. */
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_CREATE_CONTAINER, "#!/bin/sh\nsleep 31.7 &\nwait\n", 1);
	assert_int_equal(pd_hooks_run_local(cfg.hooks, PD_HOOK_CREATE_CONTAINER, "{}", 2, &err),
			 -1);
	assert_int_equal(err.code, PD_DEADLINE_EXCEEDED);
	PD_WAIT_UNTIL(count_procs_with_arg("31.7") == 0, "the timed-out hook's background sleep to die");
	pd_arena_free(&cfg.arena);
}

/* ---- the agent's hooks from the loop (hooks_seq.c) -------------------------------------- */

/* A loop as the agent's: SIGCHLD through a signalfd into the process table, and a ticker
 * that counts its turns (the loop serves while a hook runs) and stops it when told. */
static struct pd_loop loop;
static struct pd_watch sigchld_w, ticker;
static bool (*stop_when)(void);
static uint64_t stop_at_ms;
static const char *release_fifo; /* the ticker writes a line to it once a reader is there */

static void on_sigchld(struct pd_loop *l, struct pd_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si))
		;
	pd_proctable_reap();
}

static void on_tick(struct pd_loop *l, struct pd_watch *w, uint32_t events)
{
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
	if (release_fifo) {
		/* A writer opens only once the hook reads (ENXIO before): no wait either way. */
		int fd = open(release_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			assert_int_equal(write(fd, "go\n", 3), 3);
			close(fd);
			release_fifo = NULL;
		}
	}
	if ((stop_when && stop_when()) || pd_test_now_ms() > stop_at_ms)
		pd_loop_stop(l);
}

static void loop_open(void)
{
	struct pd_error err = {0};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	assert_int_equal(pd_loop_init(&loop, &err), 0);
	sigchld_w.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	sigchld_w.fn = on_sigchld;
	ticker.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ticker.fn = on_tick;
	struct itimerspec its = {.it_interval = {.tv_nsec = 20000000},
				 .it_value = {.tv_nsec = 20000000}};
	timerfd_settime(ticker.fd, 0, &its, NULL);
	assert_int_equal(pd_loop_add(&loop, &sigchld_w, EPOLLIN, &err), 0);
	assert_int_equal(pd_loop_add(&loop, &ticker, EPOLLIN, &err), 0);
}

static void loop_close(void)
{
	close(sigchld_w.fd);
	close(ticker.fd);
	pd_loop_close(&loop);
}

/* Run the loop until cond() holds, for at most PD_TEST_WAIT_S. */
static void run_until(bool (*cond)(void), const char *what)
{
	struct pd_error err = {0};
	uint64_t end = pd_test_now_ms() + PD_TEST_WAIT_S * 1000ull;
	stop_when = cond;
	stop_at_ms = end;
	while (!cond()) {
		if (pd_test_now_ms() > end)
			fail_msg("waited %d s for %s", PD_TEST_WAIT_S, what);
		loop.stop = false;
		assert_int_equal(pd_loop_run(&loop, &err), 0);
	}
}

struct seq_end {
	struct pd_hook_seq seq;
	int calls;
	bool failed;
	struct pd_error err;
};

static struct seq_end *cur;

static void seq_done(struct pd_hook_seq *s, const struct pd_error *err)
{
	struct seq_end *e = pd_container_of(s, struct seq_end, seq);
	e->calls++;
	e->failed = err != NULL;
	if (err)
		e->err = *err;
}

static bool seq_ended(void)
{
	return cur->calls > 0;
}

static void seq_start(struct seq_end *e, const struct pd_hooks *hooks, int k0, int k1,
		      bool must_pass)
{
	struct pd_error err = {0};
	memset(e, 0, sizeof(*e));
	pd_hook_seq_init(&e->seq);
	e->seq.hooks = hooks;
	e->seq.kinds[0] = k0;
	e->seq.kinds[1] = k1;
	e->seq.must_pass = must_pass;
	e->seq.done = seq_done;
	snprintf(e->seq.cid, sizeof(e->seq.cid), "c1");
	assert_int_equal(pd_hook_seq_start(&e->seq, &loop, "{}", 2, &err), 0);
	assert_true(pd_hook_seq_busy(&e->seq));
	cur = e;
}

static bool no_child_left(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static bool marked(void)
{
	char mark[PATH_MAX + 16];
	snprintf(mark, sizeof(mark), "%s/second-ran", dir);
	return access(mark, F_OK) == 0;
}

static void test_seq(void **state)
{
	struct pd_container_config cfg;
	struct seq_end e;
	struct pd_error err = {0};
	char mark[PATH_MAX + 16], script[2 * PATH_MAX];
	loop_open();
	cfg_init(&cfg);
	snprintf(mark, sizeof(mark), "%s/second-ran", dir);
	snprintf(script, sizeof(script), "#!/bin/sh\ntouch '%s'\n", mark);
	/* Nothing of these kinds: nothing runs, no done. */
	memset(&e, 0, sizeof(e));
	pd_hook_seq_init(&e.seq);
	e.seq.hooks = cfg.hooks;
	e.seq.kinds[0] = PD_HOOK_PRESTART;
	e.seq.kinds[1] = -1;
	assert_int_equal(pd_hook_seq_start(&e.seq, &loop, "{}", 2, &err), 1);
	assert_false(pd_hook_seq_busy(&e.seq));

	/* poststart: a failure is a warning, the next hook runs, done says all passed. */
	one_hook(&cfg, PD_HOOK_POSTSTART, "#!/bin/sh\nexit 1\n", 5);
	one_hook(&cfg, PD_HOOK_POSTSTART, script, 5);
	seq_start(&e, cfg.hooks, PD_HOOK_POSTSTART, -1, false);
	run_until(seq_ended, "the poststart hooks to end");
	assert_int_equal(e.calls, 1);
	assert_false(e.failed);
	assert_true(marked());

	/* prestart then createRuntime, must pass: the first failure ends the run, named. */
	one_hook(&cfg, PD_HOOK_PRESTART, "#!/bin/sh\nkill -9 $$\n", 5);
	one_hook(&cfg, PD_HOOK_CREATE_RUNTIME, script, 5);
	unlink(mark);
	seq_start(&e, cfg.hooks, PD_HOOK_PRESTART, PD_HOOK_CREATE_RUNTIME, true);
	run_until(seq_ended, "the prestart hook to fail");
	assert_true(e.failed);
	assert_int_equal(e.err.code, PD_FAILED_PRECONDITION);
	assert_non_null(strstr(e.err.msg, "prestart hook 0 ("));
	assert_non_null(strstr(e.err.msg, "killed by signal 9"));
	assert_false(marked()); /* createRuntime did not run */
	pd_arena_free(&cfg.arena);

	/* A hook that waits for the loop: it reads a fifo that only a loop event (the ticker)
	 * writes. It ends well inside its 60 s timeout only if the loop runs meanwhile. */
	char fifo[PATH_MAX + 16], waiter[2 * PATH_MAX];
	snprintf(fifo, sizeof(fifo), "%s/release", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(waiter, sizeof(waiter), "#!/bin/sh\nread line <'%s'\n[ \"$line\" = go ]\n", fifo);
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_PRESTART, waiter, 60);
	seq_start(&e, cfg.hooks, PD_HOOK_PRESTART, PD_HOOK_CREATE_RUNTIME, true);
	release_fifo = fifo;
	run_until(seq_ended, "the hook released from the loop");
	assert_false(e.failed); /* released, not timed out */
	assert_null(release_fifo);
	pd_arena_free(&cfg.arena);

	/* A hook over its timeout is killed, and named. */
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_CREATE_RUNTIME, "#!/bin/sh\nexec sleep 20\n", 1);
	seq_start(&e, cfg.hooks, PD_HOOK_PRESTART, PD_HOOK_CREATE_RUNTIME, true);
	char step[128];
	assert_non_null(strstr(pd_hook_seq_step(&e.seq, step, sizeof(step)),
			       "createRuntime hook 0 ("));
	run_until(seq_ended, "the createRuntime hook's timeout");
	assert_int_equal(e.err.code, PD_DEADLINE_EXCEEDED);
	assert_non_null(strstr(e.err.msg, "timed out after 1 s"));
	pd_arena_free(&cfg.arena);

	/* Cancelled: no done, the hook (and its group) killed, reaped by the table. */
	cfg_init(&cfg);
	one_hook(&cfg, PD_HOOK_POSTSTOP, "#!/bin/sh\nsleep 31.3 &\nwait\n", 30);
	seq_start(&e, cfg.hooks, PD_HOOK_POSTSTOP, -1, false);
	PD_WAIT_UNTIL(count_procs_with_arg("31.3") == 1, "the hook's background sleep to start");
	pd_hook_seq_cancel(&e.seq);
	assert_false(pd_hook_seq_busy(&e.seq));
	run_until(no_child_left, "the cancelled hook to be reaped");
	assert_int_equal(e.calls, 0);
	PD_WAIT_UNTIL(count_procs_with_arg("31.3") == 0, "the cancelled hook's background sleep");
	pd_arena_free(&cfg.arena);
	loop_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_convert),   cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_guest_dir), cmocka_unit_test(test_state),
	    cmocka_unit_test(test_run_local), cmocka_unit_test(test_seq),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
