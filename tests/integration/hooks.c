/* OCI hooks and guest hooks over ttRPC (docs/hooks.md). Run by hooks.sh as
 *   hooks ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 *   hooks --create-sandbox ADDR SANDBOX_ID GUEST_HOOK_PATH
 *   hooks --destroy-sandbox ADDR ROOTFS AGENT_PID SANDBOX_ID   the last: DestroySandbox
 * with PD_HOOKS_DIR naming a host directory that holds hook.sh (an OCI hook as a /bin/sh
 * script: `hook.sh LOG KIND [fail|sleep|gate|block]` appends "KIND env=$HOOK_ENV mnt=<its
 * mount namespace> <state>" to LOG, then fails, sleeps 300 s, waits until LOG.KIND.go
 * exists, or waits for a line on the fifo LOG.release, when asked), link.sh (a symlink to
 * it), noexec.sh (mode 0644), and guest.log, where the guest hooks of GUEST_HOOK_PATH append
 * "KIND <state>". startContainer hooks run inside the container: the rootfs's /bin/pdtest
 * `hook`.
 */
#include "itest.h"

enum {
	K_PRESTART,
	K_CREATE_RUNTIME,
	K_CREATE_CONTAINER,
	K_START_CONTAINER,
	K_POSTSTART,
	K_POSTSTOP,
	K_N
};

#define MAX_HOOKS 12
#define MAX_LINES 128 /* guest.log grows with every container of the run */

struct hook_spec {
	struct it_spec s;
	Grpc__Hooks hooks;
	Grpc__Hook h[MAX_HOOKS];
	Grpc__Hook *ptr[K_N][MAX_HOOKS];
	size_t n[K_N];
	char *args[MAX_HOOKS][6];
	char *env[2];
	Grpc__Spec__AnnotationsEntry ann;
	Grpc__Spec__AnnotationsEntry *annp[1];
	char log[PATH_MAX];	  /* hook.sh's log, on the host */
	char start_log[PATH_MAX]; /* the startContainer hook's, inside the container */
	char start_host[PATH_MAX];
	char script[PATH_MAX];
	size_t used;
};

static const char *hooks_dir(void)
{
	const char *d = getenv("PD_HOOKS_DIR");
	return d ? d : "/nonexistent";
}

/* A container running `echo hooked`, annotation hooktest=yes, no hooks yet. */
static void hs_init(struct hook_spec *hs, struct it *t, const char *cid)
{
	memset(hs, 0, sizeof(*hs));
	it_spec_default(&hs->s, t->rootfs);
	it_spec_args(&hs->s, "echo", "hooked", NULL);
	grpc__hooks__init(&hs->hooks);
	hs->s.spec.hooks = &hs->hooks;
	grpc__spec__annotations_entry__init(&hs->ann);
	hs->ann.key = "hooktest";
	hs->ann.value = "yes";
	hs->annp[0] = &hs->ann;
	hs->s.spec.annotations = hs->annp;
	hs->s.spec.n_annotations = 1;
	hs->env[0] = "HOOK_ENV=from-spec";
	hs->env[1] = "PATH=/usr/bin:/bin";
	snprintf(hs->script, sizeof(hs->script), "%s/hook.sh", hooks_dir());
	snprintf(hs->log, sizeof(hs->log), "%s/%s.log", hooks_dir(), cid);
	snprintf(hs->start_log, sizeof(hs->start_log), "/tmp/%s.log", cid);
	snprintf(hs->start_host, sizeof(hs->start_host), "%s/tmp/%s.log", t->rootfs, cid);
	unlink(hs->log);
	unlink(hs->start_host);
}

static void hs_link(struct hook_spec *hs)
{
	Grpc__Hooks *h = &hs->hooks;
	h->prestart = hs->ptr[K_PRESTART], h->n_prestart = hs->n[K_PRESTART];
	h->createruntime = hs->ptr[K_CREATE_RUNTIME];
	h->n_createruntime = hs->n[K_CREATE_RUNTIME];
	h->createcontainer = hs->ptr[K_CREATE_CONTAINER];
	h->n_createcontainer = hs->n[K_CREATE_CONTAINER];
	h->startcontainer = hs->ptr[K_START_CONTAINER];
	h->n_startcontainer = hs->n[K_START_CONTAINER];
	h->poststart = hs->ptr[K_POSTSTART], h->n_poststart = hs->n[K_POSTSTART];
	h->poststop = hs->ptr[K_POSTSTOP], h->n_poststop = hs->n[K_POSTSTOP];
}

/* A hook of `kind` running path with args (NULL-terminated, at most 5). */
static Grpc__Hook *hs_add(struct hook_spec *hs, int kind, const char *path, int64_t timeout,
			  const char *a0, ...)
{
	size_t i = hs->used++;
	Grpc__Hook *h = &hs->h[i];
	grpc__hook__init(h);
	h->path = (char *)path;
	h->timeout = timeout;
	va_list ap;
	va_start(ap, a0);
	size_t n = 0;
	for (const char *a = a0; a && n < 5; a = va_arg(ap, const char *))
		hs->args[i][n++] = (char *)a;
	va_end(ap);
	h->args = hs->args[i];
	h->n_args = n;
	h->env = hs->env;
	h->n_env = 2;
	hs->ptr[kind][hs->n[kind]++] = h;
	hs_link(hs);
	return h;
}

/* hook.sh LOG KIND [action]. */
static void hs_script(struct hook_spec *hs, int kind, const char *label, const char *action)
{
	hs_add(hs, kind, hs->script, 0, hs->script, hs->log, label, action, NULL);
}

/* ---- reading what the hooks wrote ------------------------------------------------------- */

struct hook_line {
	char kind[32];
	char env[64];
	char mnt[64]; /* hook.sh: its mount namespace, "mnt:[4026531841]" */
	char *json;   /* in lines->text */
};

struct hook_log {
	char *text;
	struct hook_line l[MAX_LINES];
	int n;
};

/* "KIND [env=X ]{...}" per line. A missing file is an empty log. */
static int read_log(struct it *t, const char *path, struct hook_log *lg)
{
	memset(lg, 0, sizeof(*lg));
	lg->text = it_read_file(path, NULL);
	if (!lg->text)
		return errno == ENOENT ? 0 : it_why(t, "read %s: %s", path, strerror(errno));
	for (char *line = lg->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (lg->n == MAX_LINES)
			return it_why(t, "%s: more than %d lines", path, MAX_LINES);
		struct hook_line *h = &lg->l[lg->n++];
		char *brace = strchr(line, '{');
		if (!brace)
			return it_why(t, "%s: no state in '%s'", path, line);
		h->json = brace;
		sscanf(line, "%31s env=%63s mnt=%63s", h->kind, h->env, h->mnt);
	}
	return 0;
}

/* The state a hook got: right id, status and pid, the bundle, the annotation. */
static int check_state(struct it *t, const struct hook_line *h, const char *cid, const char *status,
		       long pid)
{
	struct it_json j;
	char buf[PATH_MAX], bundle[PATH_MAX], copy[8192];
	snprintf(copy, sizeof(copy), "%s", h->json);
	if (it_json_parse(&j, copy) < 0)
		return it_why(t, "%s hook: state is not JSON: %s", h->kind, h->json);
	snprintf(bundle, sizeof(bundle), "%s", t->rootfs);
	*strrchr(bundle, '/') = '\0';
	int rc = -1;
	const char *v;
	if (!(v = it_json_get(&j, "id", buf, sizeof(buf))) || strcmp(v, cid))
		it_why(t, "%s hook: id %s, want %s", h->kind, v ? v : "(none)", cid);
	else if (!(v = it_json_get(&j, "status", buf, sizeof(buf))) || strcmp(v, status))
		it_why(t, "%s hook: status %s, want %s", h->kind, v ? v : "(none)", status);
	else if (pid >= 0 && (!(v = it_json_get(&j, "pid", buf, sizeof(buf))) || atol(v) != pid))
		it_why(t, "%s hook: pid %s, want %ld", h->kind, v ? v : "(none)", pid);
	else if (!(v = it_json_get(&j, "bundle", buf, sizeof(buf))) || strcmp(v, bundle))
		it_why(t, "%s hook: bundle %s, want %s", h->kind, v ? v : "(none)", bundle);
	else if (!(v = it_json_get(&j, "annotations.hooktest", buf, sizeof(buf))) ||
		 strcmp(v, "yes"))
		it_why(t, "%s hook: annotations.hooktest %s, want yes", h->kind, v ? v : "(none)");
	else if (!(v = it_json_get(&j, "ociVersion", buf, sizeof(buf))) || strcmp(v, "1.0.2"))
		it_why(t, "%s hook: ociVersion %s, want 1.0.2", h->kind, v ? v : "(none)");
	else
		rc = 0;
	it_json_free(&j);
	return rc;
}

/* The log holds exactly these kinds, in this order, each with env from the spec. */
static int check_kinds(struct it *t, const struct hook_log *lg, const char *const *kinds, int n)
{
	char got[512] = "";
	for (int i = 0; i < lg->n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s ", lg->l[i].kind);
	if (lg->n != n)
		return it_why(t, "hooks ran: [%s], want %d of them", got, n);
	for (int i = 0; i < n; i++) {
		if (strcmp(lg->l[i].kind, kinds[i]))
			return it_why(t, "hooks ran: [%s], #%d should be %s", got, i, kinds[i]);
		if (strcmp(lg->l[i].env, "from-spec"))
			return it_why(t, "%s hook: HOOK_ENV '%s', want from-spec", kinds[i],
				      lg->l[i].env);
	}
	return 0;
}

/* prestart, prestart2 and createRuntime ran in the agent's mount namespace, createContainer
 * in the container's. */
static int check_namespaces(struct it *t, const struct hook_log *lg, long pid)
{
	char path[64], agent[64] = "", ctr[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)t->agent);
	ssize_t n = readlink(path, agent, sizeof(agent) - 1);
	snprintf(path, sizeof(path), "/proc/%ld/ns/mnt", pid);
	ssize_t m = readlink(path, ctr, sizeof(ctr) - 1);
	if (n <= 0 || m <= 0)
		return it_why(t,
			      "readlink of the agent's or the container's mount namespace failed");
	if (!strcmp(agent, ctr))
		return it_why(t, "the container shares the agent's mount namespace %s", agent);
	for (int i = 0; i < 4; i++) {
		const char *want = i < 3 ? agent : ctr;
		if (strcmp(lg->l[i].mnt, want))
			return it_why(t, "%s hook ran in mount namespace %s, want %s (%s)",
				      lg->l[i].kind, lg->l[i].mnt, want,
				      i < 3 ? "the agent's" : "the container's");
	}
	return 0;
}

static long init_pid(struct it *t, const char *cid)
{
	char path[PATH_MAX], buf[64];
	struct it_json j;
	char *text = it_read_file(it_state_path(t, cid, path, sizeof(path)), NULL);
	if (!text || it_json_parse(&j, text) < 0) {
		free(text);
		return it_why(t, "state.json of %s unreadable", cid);
	}
	const char *v = it_json_get(&j, "init_process_pid", buf, sizeof(buf));
	long pid = v ? atol(v) : -1;
	it_json_free(&j);
	free(text);
	return pid > 0 ? pid : it_why(t, "state.json of %s has no init_process_pid", cid);
}

static void free_log(struct hook_log *lg)
{
	free(lg->text);
	lg->text = NULL;
}

/* ---- cases ------------------------------------------------------------------------------ */

/* Run the container to its end and remove it (the case's cleanup has nothing left to do). */
static int run_removed(struct it *t, const char *cid, struct it_spec *s, bool *removed)
{
	struct it_io io = {0};
	int st;
	int rc = it_run(t, cid, s, &io, &st);
	it_io_free(&io);
	if (rc < 0)
		return -1;
	if (it_remove_code(t, cid) != 0)
		return it_why(t, "RemoveContainer %s: %s", cid, t->msg);
	*removed = true;
	return 0;
}

/* Every kind, in the lifecycle's order, with the state on stdin. */
static int case_order(struct it *t)
{
	const char *cid = "hooks-order";
	static const char *const created[] = {"prestart", "prestart2", "createRuntime",
					      "createContainer"};
	static const char *const all[] = {"prestart",	     "prestart2", "createRuntime",
					  "createContainer", "poststart", "poststop"};
	struct hook_spec hs;
	struct hook_log lg = {0}, sl = {0};
	struct it_io io = {0};
	int rc = -1, st = -1;
	long pid = -1;
	bool removed = false;
	hs_init(&hs, t, cid);
	hs_script(&hs, K_PRESTART, "prestart", NULL);
	hs_script(&hs, K_PRESTART, "prestart2", NULL);
	hs_script(&hs, K_CREATE_RUNTIME, "createRuntime", NULL);
	hs_script(&hs, K_CREATE_CONTAINER, "createContainer", NULL);
	hs_add(&hs, K_START_CONTAINER, "/bin/pdtest", 0, "hook", hs.start_log, "startContainer",
	       NULL);
	hs_script(&hs, K_POSTSTART, "poststart", NULL);
	hs_script(&hs, K_POSTSTOP, "poststop", NULL);
	TRY(it_create(t, cid, &hs.s));
	TRY(pid = init_pid(t, cid));
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, created, 4));
	for (int i = 0; i < 4; i++)
		TRY(check_state(t, &lg.l[i], cid, "creating", pid));
	TRY(check_namespaces(t, &lg, pid));
	TRY(read_log(t, hs.start_host, &sl));
	EXPECT(sl.n == 0, "startContainer ran before StartContainer");
	TRY(it_start(t, cid));
	free_log(&sl);
	TRY(read_log(t, hs.start_host, &sl));
	EXPECT(sl.n == 1 && !strcmp(sl.l[0].kind, "startContainer"),
	       "startContainer hook: %d lines in its log", sl.n);
	TRY(check_state(t, &sl.l[0], cid, "created", pid));
	free_log(&lg);
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, all, 5));
	TRY(check_state(t, &lg.l[4], cid, "running", pid));
	TRY(it_drain(t, cid, cid, false, &io, IT_IO_MS));
	TRY(it_wait(t, cid, cid, &st));
	TRY(it_expect_out(t, "echo hooked", &io, st, "hooked\n", 0));
	EXPECT(it_remove_code(t, cid) == 0, "RemoveContainer: %s", t->msg);
	removed = true;
	free_log(&lg);
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, all, 6));
	TRY(check_state(t, &lg.l[5], cid, "stopped", pid));
	rc = 0;
out:
	free_log(&lg);
	free_log(&sl);
	it_io_free(&io);
	if (!removed)
		it_cleanup(t, cid, &rc);
	return rc;
}

static char fail_msg[sizeof(((struct it *)0)->msg)]; /* the last create_fails's message */

/* CreateContainer must fail with `code`, a message holding `want`, leave nothing, and
 * have run exactly the hooks `ran` (n_ran of them). */
static int create_fails(struct it *t, const char *cid, struct hook_spec *hs, int code,
			const char *want, const char *const *ran, int n_ran)
{
	struct it_snap before;
	struct hook_log lg = {0};
	Grpc__CreateContainerRequest req;
	int rc = -1;
	it_snap_take(t, &before);
	it_create_req(&req, cid, &hs->s);
	TRY(it_code(t, "CreateContainer", &req.base, code));
	EXPECT(strstr(t->msg, want), "CreateContainer: '%s' does not say '%s'", t->msg, want);
	memcpy(fail_msg, t->msg, sizeof(fail_msg));
	TRY(it_snap_same(t, &before, "a failed CreateContainer"));
	EXPECT(it_remove_code(t, cid) == PD_NOT_FOUND, "RemoveContainer after the failure: %s",
	       pd_code_name(t->code));
	TRY(read_log(t, hs->log, &lg));
	TRY(check_kinds(t, &lg, ran, n_ran));
	rc = 0;
out:
	free_log(&lg);
	return rc;
}

/* A failing prestart hook: no container, nothing left, later hooks not run. */
static int case_prestart_fails(struct it *t)
{
	const char *cid = "hooks-prestart-fails";
	static const char *const ran[] = {"prestart"};
	struct hook_spec hs;
	int rc = -1;
	hs_init(&hs, t, cid);
	hs_script(&hs, K_PRESTART, "prestart", "fail");
	hs_script(&hs, K_CREATE_RUNTIME, "createRuntime", NULL);
	hs_script(&hs, K_CREATE_CONTAINER, "createContainer", NULL);
	hs_script(&hs, K_POSTSTOP, "poststop", NULL);
	TRY(create_fails(t, cid, &hs, PD_FAILED_PRECONDITION,
			 "prestart hook 0 (" /* the path follows */, ran, 1));
	EXPECT(strstr(fail_msg, "exited with status 3"), "message '%s' lacks the status", fail_msg);
	rc = 0;
out:
	return rc;
}

/* A failing createContainer hook (run by the container child): the same. */
static int case_create_container_fails(struct it *t)
{
	const char *cid = "hooks-cc-fails";
	static const char *const ran[] = {"createRuntime", "createContainer"};
	struct hook_spec hs;
	hs_init(&hs, t, cid);
	hs_script(&hs, K_CREATE_RUNTIME, "createRuntime", NULL);
	hs_script(&hs, K_CREATE_CONTAINER, "createContainer", "fail");
	return create_fails(t, cid, &hs, PD_FAILED_PRECONDITION, "createContainer hook 0 (", ran,
			    2);
}

/* A hook over its timeout is killed (no process left) and fails the create: answered within
 * IT_CALL_MS, which the hook's own 300 s sleep is not. */
static int case_timeout(struct it *t)
{
	const char *cid = "hooks-timeout";
	struct hook_spec hs;
	hs_init(&hs, t, cid);
	static const char *const ran[] = {"prestart"};
	hs_add(&hs, K_PRESTART, hs.script, 1, hs.script, hs.log, "prestart", "sleep", NULL);
	if (create_fails(t, cid, &hs, PD_DEADLINE_EXCEEDED, "timed out after 1 s", ran, 1) < 0)
		return -1;
	if (!strstr(fail_msg, "prestart hook 0 ("))
		return it_why(t, "message '%s' does not name the hook", fail_msg);
	return it_sync(t, &t->c); /* and the agent serves on */
}

/* A container process stuck in its set-up (here: a createContainer hook that sleeps 300 s
 * under a 60 s hook timeout) holds the agent's one loop only as long as the host waits:
 * CreateContainer sent with a 3 s timeout is answered DEADLINE_EXCEEDED about then, naming
 * the step, the agent answers at once afterwards, and nothing is left (the child, pid 1 of
 * its pid namespace, takes the hook with it). Before, the agent waited up to 60 s plus the
 * hook's timeout. */
static int case_setup_deadline(struct it *t)
{
	const char *cid = "hooks-stuck";
	static const char *const ran[] = {"createContainer"};
	struct hook_spec hs;
	struct it_snap before;
	struct hook_log lg = {0};
	Grpc__CreateContainerRequest req;
	int rc = -1;
	hs_init(&hs, t, cid);
	hs_add(&hs, K_CREATE_CONTAINER, hs.script, 60, hs.script, hs.log, "createContainer",
	       "sleep", NULL);
	it_snap_take(t, &before);
	it_create_req(&req, cid, &hs.s);
	TRY(it_call_past_deadline(t, "CreateContainer", &req.base,
				  "stuck at: createContainer hooks"));
	TRY(it_snap_same(t, &before, "a CreateContainer past its deadline"));
	EXPECT(it_remove_code(t, cid) == PD_NOT_FOUND, "RemoveContainer after it: %s",
	       pd_code_name(t->code));
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, ran, 1));
	rc = 0;
out:
	free_log(&lg);
	return rc;
}

/* Hook binaries that must be refused before anything is created. */
static int case_refused(struct it *t)
{
	const char *cid = "hooks-refused";
	char link[PATH_MAX], noexec[PATH_MAX];
	struct hook_spec hs;
	int rc = -1;
	snprintf(link, sizeof(link), "%s/link.sh", hooks_dir());
	snprintf(noexec, sizeof(noexec), "%s/noexec.sh", hooks_dir());
	hs_init(&hs, t, cid);
	hs_add(&hs, K_PRESTART, link, 0, link, hs.log, "prestart", NULL);
	TRY(create_fails(t, cid, &hs, PD_INVALID_ARGUMENT, "is a symlink", NULL, 0));
	EXPECT(strstr(fail_msg, "Hooks.Prestart[0]"), "message '%s' does not name the hook",
	       fail_msg);
	hs_init(&hs, t, cid);
	hs_add(&hs, K_POSTSTOP, noexec, 0, noexec, hs.log, "poststop", NULL);
	TRY(create_fails(t, cid, &hs, PD_INVALID_ARGUMENT, "not a regular executable file", NULL,
			 0));
	hs_init(&hs, t, cid);
	hs_add(&hs, K_CREATE_RUNTIME, "bin/sh", 0, NULL);
	TRY(create_fails(t, cid, &hs, PD_INVALID_ARGUMENT, "Hooks.CreateRuntime[0]", NULL, 0));
	hs_init(&hs, t, cid);
	hs_add(&hs, K_POSTSTART, hs.script, -1, NULL);
	TRY(create_fails(t, cid, &hs, PD_INVALID_ARGUMENT, "negative", NULL, 0));
	/* startContainer paths resolve in the container: /bin/echo is a symlink there. */
	hs_init(&hs, t, cid);
	hs_add(&hs, K_START_CONTAINER, "/bin/echo", 0, NULL);
	TRY(create_fails(t, cid, &hs, PD_INVALID_ARGUMENT, "Hooks.StartContainer[0]", NULL, 0));
	rc = 0;
out:
	return rc;
}

/* A failing startContainer hook fails StartContainer; the container can be removed. */
static int case_start_container_fails(struct it *t)
{
	const char *cid = "hooks-sc-fails";
	struct hook_spec hs;
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	int rc = -1;
	hs_init(&hs, t, cid);
	hs_add(&hs, K_START_CONTAINER, "/bin/pdtest", 0, "hook", hs.start_log, "startContainer",
	       "fail", NULL);
	hs_script(&hs, K_POSTSTART, "poststart", NULL);
	TRY(it_create(t, cid, &hs.s));
	req.container_id = (char *)cid;
	TRY(it_code(t, "StartContainer", &req.base, PD_FAILED_PRECONDITION));
	EXPECT(strstr(t->msg, "startContainer hook 0 (/bin/pdtest) exited with status 4"),
	       "StartContainer: '%s'", t->msg);
	EXPECT(access(hs.log, F_OK) < 0, "poststart ran after a failed start");
	rc = 0;
out:
	it_cleanup(t, cid, &rc);
	return rc;
}

/* poststart and poststop failures are warnings: the calls succeed, the next hook runs. */
static int case_post_failures_warn(struct it *t)
{
	const char *cid = "hooks-post-warn";
	static const char *const all[] = {"poststart", "poststart2", "poststop", "poststop2"};
	struct hook_spec hs;
	struct hook_log lg = {0};
	int rc = -1;
	bool removed = false;
	hs_init(&hs, t, cid);
	hs_script(&hs, K_POSTSTART, "poststart", "fail");
	hs_script(&hs, K_POSTSTART, "poststart2", NULL);
	hs_script(&hs, K_POSTSTOP, "poststop", "fail");
	hs_script(&hs, K_POSTSTOP, "poststop2", NULL);
	TRY(run_removed(t, cid, &hs.s, &removed));
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, all, 4));
	rc = 0;
out:
	free_log(&lg);
	if (!removed)
		it_cleanup(t, cid, &rc);
	return rc;
}

/* hook.sh wrote its line for `kind` to log. */
static bool log_has(const char *log, const char *kind)
{
	char *text = it_read_file(log, NULL);
	size_t n = strlen(kind);
	bool found = false;
	for (const char *l = text; l && *l && !found;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		found = strncmp(l, kind, n) == 0 && l[n] == ' ';
	free(text);
	return found;
}

/* Send `method` on t->c, whose `kind` hook (hook.sh ... gate) runs until we open its gate.
 * Once the hook has started (its line is in the log), the agent must answer Health.Check on
 * another connection while it runs and must not have answered `method`; once the gate is
 * open, `method` is answered OK. Orders, not durations: the hook ends when we say so. */
static int answered_after_hook(struct it *t, struct pd_client *c2, const char *method,
			       const ProtobufCMessage *req, const char *log, const char *kind)
{
	struct pd_error e = {0};
	struct pd_client_reply r;
	uint32_t stream;
	char gate[PATH_MAX + 64];
	int64_t end = 0;
	bool started;
	int rc = -1, fd = -1;
	snprintf(gate, sizeof(gate), "%s.%s.go", log, kind);
	unlink(gate);
	if (pd_client_send(&t->c, IT_SERVICE, method, req, 0, &stream, &e) < 0)
		return it_why(t, "send %s: %s", method, e.msg);
	while (!(started = log_has(log, kind)) && it_retry(&end))
		;
	EXPECT(started, "%s: no %s hook line in %s within %d s", method, kind, log,
	       IT_WAIT_MS / 1000);
	TRY(it_sync(t, c2));
	while (pd_client_recv(&t->c, 0, &r, &e) == 0) { /* what has come so far */
		pd_client_reply_free(&r);
		EXPECT(r.stream_id != stream, "%s answered while its %s hook still ran", method,
		       kind);
	}
	fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	EXPECT(fd >= 0, "create %s: %s", gate, strerror(errno));
	do {
		EXPECT(pd_client_recv(&t->c, IT_CALL_MS, &r, &e) == 0, "%s: no answer: %s", method,
		       e.msg);
		pd_client_reply_free(&r);
	} while (r.stream_id != stream);
	EXPECT(r.code == 0, "%s: %s: %s", method, pd_code_name(r.code), r.message);
	rc = 0;
out:
	if (fd < 0) /* let the hook end */
		fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* poststart and poststop hooks run from the loop: the agent serves other calls while they
 * run, and StartContainer / RemoveContainer answer when they have ended. */
static int case_post_hooks_async(struct it *t)
{
	const char *cid = "hooks-async";
	static const char *const started[] = {"poststart"}, *const all[] = {"poststart",
									    "poststop"};
	struct hook_spec hs;
	struct hook_log lg = {0};
	struct pd_client c2 = {.fd = -1};
	Grpc__StartContainerRequest start = GRPC__START_CONTAINER_REQUEST__INIT;
	Grpc__RemoveContainerRequest rm = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	int rc = -1;
	bool removed = false;
	hs_init(&hs, t, cid);
	it_spec_args(&hs.s, "sleep", IT_LONG_SLEEP, NULL);
	hs_add(&hs, K_POSTSTART, hs.script, 60, hs.script, hs.log, "poststart", "gate", NULL);
	hs_add(&hs, K_POSTSTOP, hs.script, 60, hs.script, hs.log, "poststop", "gate", NULL);
	TRY(it_connect(t, &c2));
	TRY(it_create(t, cid, &hs.s));
	start.container_id = rm.container_id = (char *)cid;
	TRY(answered_after_hook(t, &c2, "StartContainer", &start.base, hs.log, "poststart"));
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, started, 1));
	free_log(&lg);
	TRY(answered_after_hook(t, &c2, "RemoveContainer", &rm.base, hs.log, "poststop"));
	removed = true;
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, all, 2));
	rc = 0;
out:
	free_log(&lg);
	pd_client_close(&c2);
	if (!removed)
		it_cleanup(t, cid, &rc);
	return rc;
}

/* The guest's hook directory: its prestart, poststart and poststop executables ran for a
 * container without hooks of its own; the symlink and the non-executable were skipped. */
static int case_guest_hooks(struct it *t)
{
	const char *cid = "hooks-guest";
	struct it_spec s;
	struct hook_log lg = {0};
	char path[PATH_MAX], kinds[256] = "";
	int rc = -1;
	bool removed = false;
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "echo", "guest", NULL);
	TRY(run_removed(t, cid, &s, &removed));
	snprintf(path, sizeof(path), "%s/guest.log", hooks_dir());
	TRY(read_log(t, path, &lg));
	for (int i = 0; i < lg.n; i++)
		if (strstr(lg.l[i].json, "\"id\":\"hooks-guest\""))
			snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s ",
				 lg.l[i].kind);
	EXPECT(!strcmp(kinds, "prestart poststart poststop "),
	       "guest hooks that ran for %s: [%s], want [prestart poststart poststop]", cid, kinds);
	rc = 0;
out:
	free_log(&lg);
	if (!removed)
		it_cleanup(t, cid, &rc);
	return rc;
}

static int make_fifo(struct it *t, const char *path);
static int hook_started(struct it *t, const char *log, const char *kind, long *pid);

/* The last case (--destroy-sandbox): DestroySandbox runs the poststop hooks of a running
 * container before it answers (the agent stops after it), and ends a CreateContainer whose
 * prestart hook is still running: that call is answered ABORTED, its hook and child killed
 * (the agent then exits cleanly: hooks.sh checks, an ASan build for leaks too). */
static int case_destroy_sandbox(struct it *t)
{
	const char *cid = "hooks-destroy", *pending = "hooks-destroy-pending";
	static const char *const all[] = {"poststart", "poststop"};
	struct hook_spec hs, hp;
	struct hook_log lg = {0};
	struct pd_client c2 = {.fd = -1};
	struct pd_client_reply r = {0};
	struct pd_error err = {0};
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	Grpc__CreateContainerRequest creq;
	char fifo[PATH_MAX + 16];
	uint32_t stream;
	int rc = -1;
	long pid = -1;
	hs_init(&hs, t, cid);
	it_spec_args(&hs.s, "sleep", IT_LONG_SLEEP, NULL);
	hs_script(&hs, K_POSTSTART, "poststart", NULL);
	hs_script(&hs, K_POSTSTOP, "poststop", NULL);
	TRY(it_create(t, cid, &hs.s));
	TRY(pid = init_pid(t, cid));
	TRY(it_start(t, cid));
	hs_init(&hp, t, pending);
	hs_add(&hp, K_PRESTART, hp.script, 120, hp.script, hp.log, "prestart", "block", NULL);
	snprintf(fifo, sizeof(fifo), "%s.release", hp.log);
	TRY(make_fifo(t, fifo));
	TRY(it_connect(t, &c2));
	it_create_req(&creq, pending, &hp.s);
	EXPECT(pd_client_send(&c2, IT_SERVICE, "CreateContainer", &creq.base, 0, &stream, &err) == 0,
	       "send CreateContainer: %s", err.msg);
	TRY(hook_started(t, hp.log, "prestart", NULL));
	TRY(it_ok(t, "DestroySandbox", &req.base, NULL, NULL));
	EXPECT(pd_client_recv(&c2, IT_CALL_MS, &r, &err) == 0,
	       "the CreateContainer in flight got no answer: %s", err.msg);
	EXPECT(r.code == PD_ABORTED && strstr(r.message, "the sandbox is being destroyed"),
	       "the CreateContainer in flight: %s: %s, want ABORTED", pd_code_name(r.code),
	       r.message);
	TRY(read_log(t, hs.log, &lg));
	TRY(check_kinds(t, &lg, all, 2));
	TRY(check_state(t, &lg.l[1], cid, "stopped", pid));
	rc = 0;
out:
	pd_client_reply_free(&r);
	pd_client_close(&c2);
	unlink(fifo);
	free_log(&lg);
	return rc;
}

/* ---- hooks that block until the test lets them go ---------------------------------------- */

/* The fifo a "block" hook reads (hook.sh: LOG.release; pdtest hook: its last argument). */
static int make_fifo(struct it *t, const char *path)
{
	unlink(path);
	if (mkfifo(path, 0666) < 0 || chmod(path, 0666) < 0)
		return it_why(t, "mkfifo %s: %s", path, strerror(errno));
	return 0;
}

/* Let a blocked hook end: a writer opens once the hook reads (ENXIO before). */
static int release_hook(struct it *t, const char *fifo)
{
	int64_t end = it_now_ms() + IT_CALL_MS;
	for (;;) {
		int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = write(fd, "go\n", 3);
			close(fd);
			return n == 3 ? 0 : it_why(t, "write %s: %s", fifo, strerror(errno));
		}
		if (errno != ENXIO || it_now_ms() > end)
			return it_why(t, "no hook reads %s: %s", fifo, strerror(errno));
		it_sleep_ms(10);
	}
}

/* Wait until `log` has a line of `kind`: the hook runs. Its state's pid in *pid, if asked. */
static int hook_started(struct it *t, const char *log, const char *kind, long *pid)
{
	int64_t end = it_now_ms() + IT_CALL_MS;
	for (;;) {
		struct hook_log lg;
		if (read_log(t, log, &lg) < 0)
			return -1;
		for (int i = 0; i < lg.n; i++) {
			if (strcmp(lg.l[i].kind, kind))
				continue;
			const char *p = strstr(lg.l[i].json, "\"pid\":");
			if (pid)
				*pid = p ? atol(p + 6) : -1;
			free_log(&lg);
			return 0;
		}
		free_log(&lg);
		if (it_now_ms() > end)
			return it_why(t, "the %s hook did not start within %d ms", kind, IT_CALL_MS);
		it_sleep_ms(20);
	}
}

/* While a hook blocks (its call unanswered on c2): Health.Check, and a whole exec in the
 * running container `other` — ExecProcess, its output read to EOF through ReadStdout and
 * ReadStderr, WaitProcess — are answered; and the blocked call still is not. Order, not
 * time: the hook cannot end before the test releases it. */
static int others_served(struct it *t, struct pd_client *c2, const char *other)
{
	static int n;
	char eid[32];
	struct it_spec e;
	struct it_io io = {0};
	struct pd_client_reply r;
	struct pd_error err = {0};
	int st = -1, rc = -1;
	snprintf(eid, sizeof(eid), "while-blocked-%d", n++);
	it_spec_default(&e, t->rootfs);
	it_spec_args(&e, "echo", "streamed", NULL);
	TRY(it_sync(t, &t->c));
	TRY(it_exec_run(t, other, eid, &e.proc, &io, &st));
	TRY(it_expect_out(t, "an exec while a hook blocks", &io, st, "streamed\n", 0));
	TRY(it_sync(t, &t->c));
	if (pd_client_recv(c2, 0, &r, &err) == 0) {
		pd_client_reply_free(&r);
		EXPECT(0, "the call waiting for the hook was answered (%s) before the hook ended",
		       pd_code_name(r.code));
	}
	rc = 0;
out:
	it_io_free(&io);
	return rc;
}

/* Send method on c2, wait for the hook `kind` to start (in `log`), check that the agent
 * serves others, release the hook (fifo), then the call must answer OK. */
static int while_blocked(struct it *t, struct pd_client *c2, const char *method,
			 const ProtobufCMessage *req, const char *log, const char *kind,
			 const char *fifo, const char *other)
{
	struct pd_client_reply r;
	struct pd_error err = {0};
	uint32_t stream;
	if (pd_client_send(c2, IT_SERVICE, method, req, 0, &stream, &err) < 0)
		return it_why(t, "send %s: %s", method, err.msg);
	if (hook_started(t, log, kind, NULL) < 0 || others_served(t, c2, other) < 0 ||
	    release_hook(t, fifo) < 0)
		return -1;
	if (pd_client_recv(c2, IT_CALL_MS, &r, &err) < 0)
		return it_why(t, "%s: no answer after its hook was released: %s", method, err.msg);
	int code = r.code;
	snprintf(t->msg, sizeof(t->msg), "%s", r.message);
	pd_client_reply_free(&r);
	if (code != 0)
		return it_why(t, "%s: %s: %s", method, pd_code_name(code), t->msg);
	return 0;
}

#define OTHER "hooks-other" /* the running container the blocked cases exec into */

/* A prestart or createContainer hook blocks CreateContainer; the rest is served. */
static int blocked_create(struct it *t, const char *cid, int kind, const char *label)
{
	struct hook_spec hs;
	struct it_spec other;
	struct pd_client c2 = {.fd = -1};
	Grpc__CreateContainerRequest req;
	char fifo[PATH_MAX + 16];
	int rc = -1;
	bool up = false;
	hs_init(&hs, t, cid);
	hs_add(&hs, kind, hs.script, 120, hs.script, hs.log, label, "block", NULL);
	snprintf(fifo, sizeof(fifo), "%s.release", hs.log);
	TRY(make_fifo(t, fifo));
	TRY(it_up_sleeping(t, OTHER, &other));
	up = true;
	TRY(it_connect(t, &c2));
	it_create_req(&req, cid, &hs.s);
	TRY(while_blocked(t, &c2, "CreateContainer", &req.base, hs.log, label, fifo, OTHER));
	rc = 0;
out:
	pd_client_close(&c2);
	unlink(fifo);
	if (up)
		it_cleanup(t, OTHER, &rc);
	it_cleanup(t, cid, &rc);
	return rc;
}

static int case_blocked_prestart(struct it *t)
{
	return blocked_create(t, "hooks-blocked-prestart", K_PRESTART, "prestart");
}

/* createContainer hooks run in the container child: the child waits for them, the agent
 * only for the child's next message. */
static int case_blocked_create_container(struct it *t)
{
	return blocked_create(t, "hooks-blocked-cc", K_CREATE_CONTAINER, "createContainer");
}

/* A startContainer hook (in the container, after START) blocks StartContainer only. */
static int case_blocked_start_container(struct it *t)
{
	const char *cid = "hooks-blocked-sc";
	struct hook_spec hs;
	struct it_spec other;
	struct pd_client c2 = {.fd = -1};
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	char fifo[PATH_MAX + 16], inside[PATH_MAX + 16];
	int rc = -1;
	bool up = false;
	hs_init(&hs, t, cid);
	snprintf(fifo, sizeof(fifo), "%s.release", hs.start_host);
	snprintf(inside, sizeof(inside), "%s.release", hs.start_log);
	hs_add(&hs, K_START_CONTAINER, "/bin/pdtest", 120, "hook", hs.start_log, "startContainer",
	       "block", inside, NULL);
	TRY(make_fifo(t, fifo));
	TRY(it_up_sleeping(t, OTHER, &other));
	up = true;
	TRY(it_create(t, cid, &hs.s));
	TRY(it_connect(t, &c2));
	req.container_id = (char *)cid;
	TRY(while_blocked(t, &c2, "StartContainer", &req.base, hs.start_host, "startContainer",
			  fifo, OTHER));
	rc = 0;
out:
	pd_client_close(&c2);
	unlink(fifo);
	if (up)
		it_cleanup(t, OTHER, &rc);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* A prestart hook that never ends under a CreateContainer sent with a 3 s timeout: the
 * answer is DEADLINE_EXCEEDED naming the hook, the agent serves at once, and the hook and
 * the container child are gone (the hook's own 120 s timeout is not what ended it). */
static int case_hook_past_call_deadline(struct it *t)
{
	const char *cid = "hooks-hook-deadline";
	struct hook_spec hs;
	struct it_snap before;
	Grpc__CreateContainerRequest req;
	char fifo[PATH_MAX + 16], want[PATH_MAX + 64];
	int rc = -1;
	hs_init(&hs, t, cid);
	hs_add(&hs, K_PRESTART, hs.script, 120, hs.script, hs.log, "prestart", "block", NULL);
	snprintf(fifo, sizeof(fifo), "%s.release", hs.log);
	snprintf(want, sizeof(want), "stuck at: prestart hook 0 (%s)", hs.script);
	TRY(make_fifo(t, fifo));
	it_snap_take(t, &before);
	it_create_req(&req, cid, &hs.s);
	TRY(it_call_past_deadline(t, "CreateContainer", &req.base, want));
	TRY(it_snap_same(t, &before, "a CreateContainer past its deadline in a prestart hook"));
	EXPECT(it_remove_code(t, cid) == PD_NOT_FOUND, "RemoveContainer after it: %s",
	       pd_code_name(t->code));
	rc = 0;
out:
	unlink(fifo);
	return rc;
}

/* A startContainer hook that never ends under a StartContainer sent with a 3 s timeout:
 * DEADLINE_EXCEEDED naming the step, the agent serves at once, the init is killed (its
 * WaitProcess answers 137) and the container can be removed. */
static int case_start_past_call_deadline(struct it *t)
{
	const char *cid = "hooks-start-deadline";
	struct hook_spec hs;
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	char fifo[PATH_MAX + 16], inside[PATH_MAX + 16];
	int rc = -1, st = -1;
	hs_init(&hs, t, cid);
	snprintf(fifo, sizeof(fifo), "%s.release", hs.start_host);
	snprintf(inside, sizeof(inside), "%s.release", hs.start_log);
	hs_add(&hs, K_START_CONTAINER, "/bin/pdtest", 120, "hook", hs.start_log, "startContainer",
	       "block", inside, NULL);
	TRY(make_fifo(t, fifo));
	TRY(it_create(t, cid, &hs.s));
	req.container_id = (char *)cid;
	TRY(it_call_past_deadline(t, "StartContainer", &req.base,
				  "stuck at: startContainer hooks"));
	TRY(it_wait(t, cid, cid, &st));
	EXPECT(st == 128 + 9, "the init after a start past its deadline: status %d, want 137", st);
	rc = 0;
out:
	unlink(fifo);
	it_cleanup(t, cid, &rc);
	return rc;
}

/* The connection of a CreateContainer goes while its prestart hook runs: the hook and the
 * container child are killed and reaped, nothing is left, and the id is free again. */
static int case_conn_closed_mid_hook(struct it *t)
{
	const char *cid = "hooks-conn-closed";
	struct hook_spec hs;
	struct it_snap before;
	struct pd_client c2 = {.fd = -1};
	struct pd_error err = {0};
	Grpc__CreateContainerRequest req;
	char fifo[PATH_MAX + 16], proc[64];
	uint32_t stream;
	long pid = -1;
	int rc = -1;
	hs_init(&hs, t, cid);
	hs_add(&hs, K_PRESTART, hs.script, 120, hs.script, hs.log, "prestart", "block", NULL);
	snprintf(fifo, sizeof(fifo), "%s.release", hs.log);
	TRY(make_fifo(t, fifo));
	it_snap_take(t, &before);
	TRY(it_connect(t, &c2));
	it_create_req(&req, cid, &hs.s);
	EXPECT(pd_client_send(&c2, IT_SERVICE, "CreateContainer", &req.base, 0, &stream, &err) == 0,
	       "send CreateContainer: %s", err.msg);
	TRY(hook_started(t, hs.log, "prestart", &pid));
	EXPECT(pid > 0, "the prestart hook's state has no pid");
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	EXPECT(access(proc, F_OK) == 0, "the container child %ld is not there while its hook runs",
	       pid);
	pd_client_close(&c2);
	/* Gone because its caller went, not at the hook's 120 s timeout: before any call of
	 * ours could be answered late by an agent that waits for the hook. */
	for (int64_t end = it_now_ms() + IT_CALL_MS; access(proc, F_OK) == 0;) {
		EXPECT(it_now_ms() < end, "the container child %ld outlived its caller by %d ms",
		       pid, IT_CALL_MS);
		it_sleep_ms(20);
	}
	TRY(it_snap_same(t, &before, "a CreateContainer whose connection closed mid-hook"));
	EXPECT(it_remove_code(t, cid) == PD_NOT_FOUND, "RemoveContainer after it: %s",
	       pd_code_name(t->code));
	/* The id, its cgroup and state are free: the same container can be made now. */
	hs_init(&hs, t, cid);
	TRY(it_create(t, cid, &hs.s));
	rc = 0;
out:
	pd_client_close(&c2);
	unlink(fifo);
	it_cleanup(t, cid, &rc);
	return rc;
}

static const struct it_case cases[] = {
    {"order_and_state", case_order},
    {"prestart_fails_leaves_nothing", case_prestart_fails},
    {"create_container_fails_leaves_nothing", case_create_container_fails},
    {"timeout_kills_and_fails", case_timeout},
    {"setup_past_call_deadline_answers_and_serves", case_setup_deadline},
    {"bad_hook_paths_refused", case_refused},
    {"start_container_fails", case_start_container_fails},
    {"post_failures_are_warnings", case_post_failures_warn},
    {"post_hooks_do_not_block_the_agent", case_post_hooks_async},
    {"guest_hooks", case_guest_hooks},
    {"blocked_prestart_hook_others_served", case_blocked_prestart},
    {"blocked_create_container_hook_others_served", case_blocked_create_container},
    {"blocked_start_container_hook_others_served", case_blocked_start_container},
    {"hook_past_call_deadline_named", case_hook_past_call_deadline},
    {"start_past_call_deadline_kills_the_init", case_start_past_call_deadline},
    {"connection_closed_mid_hook_leaves_nothing", case_conn_closed_mid_hook},
    {NULL, NULL},
};

static int create_sandbox(int argc, char **argv)
{
	struct it t;
	memset(&t, 0, sizeof(t));
	t.c.fd = -1;
	if (argc != 5) {
		fprintf(stderr, "usage: %s --create-sandbox ADDR SANDBOX_ID GUEST_HOOK_PATH\n",
			argv[0]);
		return 2;
	}
	t.addr = argv[2];
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = argv[3];
	req.guest_hook_path = "relative/hooks";
	int rc = it_connect(&t, &t.c);
	if (rc == 0)
		rc = it_code(&t, "CreateSandbox", &req.base, PD_INVALID_ARGUMENT);
	it_report(&t, "relative_guest_hook_path_refused", rc);
	req.guest_hook_path = argv[4];
	rc = rc < 0 ? -1 : it_ok(&t, "CreateSandbox", &req.base, NULL, NULL);
	it_report(&t, "create_sandbox_with_guest_hooks", rc);
	pd_client_close(&t.c);
	return rc < 0;
}

int main(int argc, char **argv)
{
	struct it t;
	if (argc > 1 && strcmp(argv[1], "--create-sandbox") == 0)
		return create_sandbox(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--destroy-sandbox") == 0) {
		argv[1] = argv[0];
		if (it_init(&t, argc - 1, argv + 1) < 0)
			return 2;
		it_report(&t, "destroy_sandbox_runs_poststop", case_destroy_sandbox(&t));
		return it_finish(&t, "hooks");
	}
	if (it_init(&t, argc, argv) < 0)
		return 2;
	it_run_cases(&t, cases);
	return it_finish(&t, "hooks");
}
