/* CopyFile, GetMetrics and SetPolicy end to end over ttRPC (issue 6).
 *
 *   files ADDR - AGENT_PID - [CASE...]
 *
 * against an agent of its own whose /run is a private tmpfs (tests/integration/files.sh
 * starts it): CopyFile writes below /run/kata-containers/shared/containers, which the test
 * reads back through /proc/<agent-pid>/root. The cases run in order; the policy ones change
 * the agent's policy and the last one leaves SetPolicy denied. */
#include "itest.h"

#include <sys/stat.h>

#define SHARED "/run/kata-containers/shared/containers"
#define HEALTH "grpc.Health"
#define MiB    (1u << 20)

static char outside[64]; /* a host directory nothing may be written into */

/* ---- calls -------------------------------------------------------------------------------- */

struct copy {
	const char *path;
	uint32_t mode;
	int64_t size, offset;
	const void *data;
	size_t len;
	int32_t uid, gid;
	uint32_t dir_mode;
};

/* CopyFile; the status code, -1 without an answer. */
static int copy_code(struct it *t, const struct copy *c)
{
	Grpc__CopyFileRequest req = GRPC__COPY_FILE_REQUEST__INIT;
	req.path = (char *)c->path;
	req.file_mode = c->mode;
	req.file_size = c->size;
	req.offset = c->offset;
	req.data.data = (uint8_t *)c->data;
	req.data.len = c->len;
	req.uid = c->uid;
	req.gid = c->gid;
	req.dir_mode = c->dir_mode ? c->dir_mode : 0755;
	return it_call(t, "CopyFile", &req.base, NULL, NULL);
}

static int copy_ok(struct it *t, const struct copy *c)
{
	int code = copy_code(t, c);
	if (code < 0)
		return -1;
	return code ? it_why(t, "CopyFile %s: %s: %s", c->path, pd_code_name(code), t->msg) : 0;
}

static int copy_want(struct it *t, const struct copy *c, int want)
{
	int code = copy_code(t, c);
	if (code < 0)
		return -1;
	if (code != want)
		return it_why(t, "CopyFile %s: %s (%s), want %s", c->path, pd_code_name(code),
			      t->msg, pd_code_name(want));
	return 0;
}

static int health_code(struct it *t, const char *method)
{
	return it_call_svc(t, &t->c, HEALTH, method, NULL, NULL, NULL, IT_CALL_MS);
}

static int set_policy(struct it *t, const char *text)
{
	Grpc__SetPolicyRequest req = GRPC__SET_POLICY_REQUEST__INIT;
	req.policy = (char *)text;
	return it_call(t, "SetPolicy", &req.base, NULL, NULL);
}

/* GetMetrics: the text (malloc'd). */
static char *get_metrics(struct it *t)
{
	Grpc__Metrics *m;
	if (it_ok(t, "GetMetrics", NULL, &grpc__metrics__descriptor, &m) < 0)
		return NULL;
	char *text = strdup(m->metrics ? m->metrics : "");
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return text;
}

/* The value of the sample whose name and labels are exactly `series` (0 if absent). */
static double metric(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return 0;
}

static bool has_series(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return true;
	return false;
}

/* Every line is "# HELP name text", "# TYPE name gauge|counter", or a sample of the family
 * last declared: name{k="v",...} value, with quotes in values escaped. */
static int exposition_ok(struct it *t, const char *text)
{
	char family[128] = "";
	int line = 0;
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		const char *end = strchr(l, '\n');
		line++;
		if (!end)
			return it_why(t, "metrics: line %d has no newline", line);
		char buf[1024];
		snprintf(buf, sizeof(buf), "%.*s", (int)(end - l), l);
		char name[128], type[16];
		if (sscanf(buf, "# TYPE %127s %15s", name, type) == 2) {
			if (strcmp(type, "gauge") && strcmp(type, "counter"))
				return it_why(t, "metrics line %d: type %s", line, type);
			snprintf(family, sizeof(family), "%s", name);
			continue;
		}
		if (!strncmp(buf, "# HELP ", 7))
			continue;
		size_t fl = strlen(family);
		if (!fl || strncmp(buf, family, fl) || (buf[fl] != '{' && buf[fl] != ' '))
			return it_why(t, "metrics line %d outside family %s: %s", line, family,
				      buf);
		const char *v = strrchr(buf, ' ');
		char *num_end;
		strtod(v + 1, &num_end);
		if (*num_end || num_end == v + 1)
			return it_why(t, "metrics line %d: bad value: %s", line, buf);
		int quotes = 0;
		for (const char *p = buf + fl; p < v; p++)
			if (*p == '\\')
				p++;
			else
				quotes += *p == '"';
		if (quotes % 2 || (buf[fl] == '{' && v[-1] != '}'))
			return it_why(t, "metrics line %d: bad labels: %s", line, buf);
	}
	return line > 0 ? 0 : it_why(t, "metrics: empty text");
}

/* ---- what the agent has, seen from the host ---------------------------------------------- */

static const char *agent_shared(struct it *t, char *buf, size_t size, const char *rel)
{
	return it_agent_path(t, buf, size, SHARED "/%s", rel);
}

static int expect_absent(struct it *t, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	if (lstat(agent_shared(t, path, sizeof(path), rel), &st) == 0)
		return it_why(t, "%s exists in the agent", rel);
	return 0;
}

static int expect_mode(struct it *t, const char *rel, mode_t type, mode_t mode, uid_t uid,
		       gid_t gid)
{
	char path[PATH_MAX];
	struct stat st;
	if (lstat(agent_shared(t, path, sizeof(path), rel), &st) < 0)
		return it_why(t, "%s: %s", path, strerror(errno));
	if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != mode || st.st_uid != uid ||
	    st.st_gid != gid)
		return it_why(t, "%s: mode %o uid %u gid %u, want %o %o %u %u", rel, st.st_mode,
			      st.st_uid, st.st_gid, type, mode, uid, gid);
	return 0;
}

static int outside_empty(struct it *t)
{
	int n = it_count_dir(outside);
	return n == 0 ? 0 : it_why(t, "%d entries were written into %s", n, outside);
}

/* ---- CopyFile ------------------------------------------------------------------------------ */

static int case_copy_file_in_chunks(struct it *t)
{
	/* 2.5 MiB in the runtime's 1 MiB chunks. */
	size_t size = 5 * MiB / 2;
	uint8_t *data = malloc(size);
	char *back = NULL;
	int rc = -1;
	EXPECT(data, "out of memory");
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	struct copy c = {.path = SHARED "/it-files/etc/big.bin",
			 .mode = S_IFREG | 0640,
			 .size = (int64_t)size,
			 .uid = 1000,
			 .gid = 1001,
			 .dir_mode = 0750};
	for (size_t off = 0; off < size; off += MiB) {
		TRY(expect_absent(t, "it-files/etc/big.bin")); /* not there until complete */
		c.offset = (int64_t)off;
		c.data = data + off;
		c.len = size - off < MiB ? size - off : MiB;
		TRY(copy_ok(t, &c));
	}
	char path[PATH_MAX];
	size_t len = 0;
	back = it_read_file(agent_shared(t, path, sizeof(path), "it-files/etc/big.bin"), &len);
	EXPECT(back, "read %s: %s", path, strerror(errno));
	EXPECT(len == size && !memcmp(back, data, size), "content differs (%zu bytes, want %zu)",
	       len, size);
	TRY(expect_mode(t, "it-files/etc/big.bin", S_IFREG, 0640, 1000, 1001));
	TRY(expect_mode(t, "it-files/etc", S_IFDIR, 0750, 1000, 1001)); /* made, chowned */
	TRY(expect_mode(t, "it-files", S_IFDIR, 0750, 0, 0));		/* made */
	TRY(expect_absent(t, "it-files/etc/.big.bin.pidone-tmp"));
	rc = 0;
out:
	free(data);
	free(back);
	return rc;
}

static int case_copy_dir_and_symlink(struct it *t)
{
	struct copy d = {
	    .path = SHARED "/it-files/dir", .mode = S_IFDIR | 0711, .uid = 5, .gid = 6};
	struct copy l = {.path = SHARED "/it-files/dir/link",
			 .mode = S_IFLNK | 0777,
			 .data = "../etc/big.bin",
			 .len = 14,
			 .uid = 7,
			 .gid = 8};
	char path[PATH_MAX], target[64];
	TRY(copy_ok(t, &d));
	TRY(expect_mode(t, "it-files/dir", S_IFDIR, 0711, 5, 6));
	TRY(copy_ok(t, &l));
	ssize_t n = readlink(agent_shared(t, path, sizeof(path), "it-files/dir/link"), target,
			     sizeof(target));
	EXPECT(n == 14 && !memcmp(target, "../etc/big.bin", 14), "readlink %s: %zd", path, n);
	TRY(expect_mode(t, "it-files/dir/link", S_IFLNK, 0777, 7, 8));
	return 0;
out:
	return -1;
}

static int case_copy_file_escapes(struct it *t)
{
	char evil[128], host[128];
	snprintf(evil, sizeof(evil), SHARED "/it-files/evil/pwned");
	struct copy plant = {.path = SHARED "/it-files/evil",
			     .mode = S_IFLNK | 0777,
			     .data = outside,
			     .len = strlen(outside)};
	const char *bad[] = {
	    "/tmp/pidone-it-copy-escape",    SHARED,	  SHARED "/", SHARED "/../x",
	    SHARED "/it-files/../../escape", SHARED "x/y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct copy c = {.path = bad[i], .size = 1, .data = "x", .len = 1};
		TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	}
	EXPECT(access("/tmp/pidone-it-copy-escape", F_OK) < 0, "the escape file was written");
	/* A symlink to the host's outside directory, planted with CopyFile itself; writing
	 * through it stays in the base (where that path does not exist): refused. */
	TRY(copy_ok(t, &plant));
	struct copy c = {.path = evil, .size = 5, .data = "pwned", .len = 5};
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	c.path = SHARED "/it-files/evil/a/b/c";
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	TRY(outside_empty(t));
	snprintf(host, sizeof(host), "%s/pwned", outside);
	EXPECT(access(host, F_OK) < 0, "%s was written", host);
	return 0;
out:
	return -1;
}

static int case_copy_file_bad_chunks(struct it *t)
{
	struct copy c = {.path = SHARED "/it-files/chunks", .size = 10, .data = "abcd", .len = 4};
	TRY(copy_ok(t, &c));
	c.offset = 6; /* past the 4 bytes received: a hole */
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	c.offset = 8; /* 8 + 4 > 10 */
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	c.offset = -1;
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	c.offset = 0, c.size = -5;
	TRY(copy_want(t, &c, PD_INVALID_ARGUMENT));
	TRY(expect_absent(t, "it-files/chunks"));
	return 0;
out:
	return -1;
}

/* ---- GetMetrics ------------------------------------------------------------------------- */

#define CHECK_OK "kata_agent_rpc_calls_total{service=\"grpc.Health\",method=\"Check\",code=\"OK\"}"

static int case_metrics(struct it *t)
{
	char *before = get_metrics(t), *after = NULL;
	int rc = -1;
	EXPECT(before, "%s", t->why);
	TRY(exposition_ok(t, before));
	for (int i = 0; i < 3; i++)
		EXPECT(health_code(t, "Check") == 0, "Check: %s", t->msg);
	after = get_metrics(t);
	EXPECT(after, "%s", t->why);
	TRY(exposition_ok(t, after));
	double b = metric(before, CHECK_OK), a = metric(after, CHECK_OK);
	EXPECT(a == b + 3, "%s went %g -> %g after 3 Checks", CHECK_OK, b, a);
	EXPECT(metric(after, "kata_agent_scrape_count") ==
		   metric(before, "kata_agent_scrape_count") + 1,
	       "scrape count did not go up by one");
	EXPECT(metric(after, "kata_agent_rpc_calls_total{service=\"grpc.AgentService\","
			     "method=\"GetMetrics\",code=\"OK\"}") >= 1,
	       "the first GetMetrics is not counted");
	EXPECT(metric(after, "kata_agent_threads") == 1, "pidone has %g threads",
	       metric(after, "kata_agent_threads"));
	EXPECT(metric(after, "kata_agent_total_rss") > 0, "no kata_agent_total_rss");
	EXPECT(metric(after, "kata_agent_fds") > 2, "no kata_agent_fds");
	EXPECT(metric(after, "kata_guest_meminfo{item=\"mem_total\"}") > 0, "no guest mem_total");
	EXPECT(has_series(after, "kata_guest_load{item=\"load1\"}"), "no guest load1");
	rc = 0;
out:
	free(before);
	free(after);
	return rc;
}

/* ---- SetPolicy and the gate ----------------------------------------------------------------- */

static int case_policy_denies_version(struct it *t)
{
	const char *deny = "{\"rules\":[{\"rpc\":\"Version\",\"action\":\"deny\","
			   "\"name\":\"no-version\"}]}";
	EXPECT(health_code(t, "Version") == 0, "Version before any policy: %s", t->msg);
	EXPECT(set_policy(t, deny) == 0, "SetPolicy: %s: %s", pd_code_name(t->code), t->msg);
	EXPECT(health_code(t, "Version") == PD_PERMISSION_DENIED, "Version: %s (%s)",
	       pd_code_name(t->code), t->msg);
	EXPECT(!strcmp(t->msg, "Version is blocked by policy: rule 1 (no-version: deny Version)"),
	       "message: %s", t->msg);
	EXPECT(health_code(t, "Check") == 0, "Check: %s", t->msg);
	/* An invalid policy is refused and the one in force stays. */
	EXPECT(set_policy(t, "{\"rules\":[{\"rpc\":\"Version\",\"aciton\":\"allow\"}]}") ==
		   PD_INVALID_ARGUMENT,
	       "bad policy: %s (%s)", pd_code_name(t->code), t->msg);
	EXPECT(strstr(t->msg, "aciton"), "bad policy message: %s", t->msg);
	EXPECT(set_policy(t, "not json") == PD_INVALID_ARGUMENT, "not json: %s",
	       pd_code_name(t->code));
	EXPECT(health_code(t, "Version") == PD_PERMISSION_DENIED,
	       "Version after a refused policy: %s", pd_code_name(t->code));
	/* Denials are counted by code. */
	char *m = get_metrics(t);
	EXPECT(m, "%s", t->why);
	double denied = metric(m, "kata_agent_rpc_calls_total{service=\"grpc.Health\","
				  "method=\"Version\",code=\"PERMISSION_DENIED\"}");
	free(m);
	EXPECT(denied == 2, "PERMISSION_DENIED Versions counted: %g, want 2", denied);
	/* Back to allow-all. */
	EXPECT(set_policy(t, "{}") == 0, "SetPolicy {}: %s", t->msg);
	EXPECT(health_code(t, "Version") == 0, "Version after allow-all: %s", t->msg);
	return 0;
out:
	return -1;
}

static int case_policy_field_rule(struct it *t)
{
	EXPECT(set_policy(
		   t, "{\"rules\":[{\"rpc\":\"CopyFile\",\"field\":\"path\",\"prefix\":\"" SHARED
		      "/it-secret\",\"action\":\"deny\"}]}") == 0,
	       "SetPolicy: %s", t->msg);
	struct copy c = {.path = SHARED "/it-secret/key", .size = 3, .data = "key", .len = 3};
	EXPECT(copy_code(t, &c) == PD_PERMISSION_DENIED, "CopyFile it-secret: %s (%s)",
	       pd_code_name(t->code), t->msg);
	EXPECT(strstr(t->msg, "CopyFile is blocked by policy: rule 1 (deny CopyFile when path "
			      "starts with"),
	       "message: %s", t->msg);
	TRY(expect_absent(t, "it-secret"));
	c.path = SHARED "/it-files/public";
	TRY(copy_ok(t, &c));
	EXPECT(health_code(t, "Version") == 0, "Version: %s", t->msg);
	return 0;
out:
	return -1;
}

static int read_code(struct it *t, const char *method, size_t *len)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	Grpc__ReadStreamResponse *resp = NULL;
	req.container_id = "no-such-container";
	req.exec_id = "x";
	req.len = 100;
	int code = it_call(t, method, &req.base, &grpc__read_stream_response__descriptor, &resp);
	*len = resp ? resp->data.len : 0;
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return code;
}

static int case_policy_redacts_reads(struct it *t)
{
	size_t len;
	int code;
	EXPECT(set_policy(t, "{}") == 0, "SetPolicy: %s", t->msg);
	code = read_code(t, "ReadStdout", &len);
	EXPECT(code > 0, "ReadStdout of no container without a policy: %s", pd_code_name(code));
	EXPECT(set_policy(t, "{\"rules\":[{\"rpc\":\"ReadStdout\",\"action\":\"deny\"}]}") == 0,
	       "SetPolicy: %s", t->msg);
	/* Denied: answered at once, empty, before the handler could look for the process. */
	code = read_code(t, "ReadStdout", &len);
	EXPECT(code == 0 && len == 0, "denied ReadStdout: %s (%s), %zu bytes", pd_code_name(code),
	       t->msg, len);
	code = read_code(t, "ReadStderr", &len);
	EXPECT(code > 0, "ReadStderr is not denied: want the handler's error, got %s",
	       pd_code_name(code));
	return 0;
out:
	return -1;
}

/* Last: SetPolicy is checked against the policy in force like any call. */
static int case_policy_guards_set_policy(struct it *t)
{
	EXPECT(set_policy(t, "{\"rules\":[{\"rpc\":\"SetPolicy\",\"action\":\"deny\"}]}") == 0,
	       "SetPolicy: %s", t->msg);
	EXPECT(set_policy(t, "{}") == PD_PERMISSION_DENIED,
	       "SetPolicy under a policy denying it: "
	       "%s (%s)",
	       pd_code_name(t->code), t->msg);
	EXPECT(strstr(t->msg, "SetPolicy is blocked by policy: rule 1"), "message: %s", t->msg);
	EXPECT(health_code(t, "Version") == 0, "Version: %s", t->msg);
	return 0;
out:
	return -1;
}

static const struct it_case cases[] = {
    {"copy_file_in_chunks", case_copy_file_in_chunks},
    {"copy_dir_and_symlink", case_copy_dir_and_symlink},
    {"copy_file_escapes", case_copy_file_escapes},
    {"copy_file_bad_chunks", case_copy_file_bad_chunks},
    {"metrics", case_metrics},
    {"policy_denies_version", case_policy_denies_version},
    {"policy_field_rule", case_policy_field_rule},
    {"policy_redacts_reads", case_policy_redacts_reads},
    {"policy_guards_set_policy", case_policy_guards_set_policy},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	snprintf(outside, sizeof(outside), "/tmp/pidone-it-outside-XXXXXX");
	if (!mkdtemp(outside)) {
		printf("not ok - setup: mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	int rc = 2;
	if (it_init(&t, argc, argv) == 0) {
		it_run_cases(&t, cases);
		rc = it_finish(&t, "files");
	}
	rmdir(outside); /* fails, and stays for a look, if something was written into it */
	return rc;
}
