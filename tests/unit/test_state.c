/* state.json: the JSON writer, the jsmn reader, the file's keys and nesting (runc's names),
 * atomic replacement, removal, hostile strings, malformed input, and `pidone list/state`
 * against a temporary root. Every check reads back what was written by an independent path:
 * jsmn token lookups, python3's json module when present, /proc/self/stat parsed here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "helpers/skip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/container/config.h"
#include "agent/container/json_read.h"
#include "agent/container/json_write.h"
#include "agent/container/state.h"
#include "agent/container/state_read.h"
#include "agent/statecmd.h"

#define BIT(c) ((uint64_t)1 << (c))

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup_root(void **state)
{
	snprintf(root, sizeof(root), "/tmp/pd-state-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown_root(void **state)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static char *read_all(const char *path, size_t *len)
{
	char *text;
	size_t n;
	struct pd_error err;
	assert_int_equal(pd_state_read_file(path, 1 << 26, &text, &n, &err), 0);
	if (len)
		*len = n;
	return text;
}

static void state_path(char *buf, size_t size, const char *sb, const char *id)
{
	snprintf(buf, size, "%s/%s/%s/state.json", root, sb, id);
}

/* A config as CreateContainer would leave it, built by hand in an arena. */
static void make_config(struct pd_container_config *cfg, const char *hostname)
{
	memset(cfg, 0, sizeof(*cfg));
	pd_arena_init(&cfg->arena, 0);
	struct pd_arena *a = &cfg->arena;
	snprintf(cfg->id, sizeof(cfg->id), "c1");
	cfg->rootfs = pd_arena_strdup(a, "/run/kata-containers/shared/containers/c1/rootfs");
	cfg->hostname = hostname ? pd_arena_strdup(a, hostname) : NULL;
	cfg->rootfs_propagation = MS_SLAVE | MS_REC;
	cfg->ns[PD_NS_MNT].enabled = true;
	cfg->ns[PD_NS_PID].enabled = true;
	cfg->ns[PD_NS_IPC].enabled = true;
	cfg->ns[PD_NS_IPC].path = pd_arena_strdup(a, "/var/run/sandbox-ns/ipc");
	cfg->n_mounts = 2;
	cfg->mounts = pd_arena_calloc(a, 2, sizeof(*cfg->mounts));
	cfg->mounts[0] = (struct pd_mount){.destination = pd_arena_strdup(a, "/proc"),
					   .source = pd_arena_strdup(a, "proc"),
					   .type = pd_arena_strdup(a, "proc"),
					   .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV};
	cfg->mounts[1] = (struct pd_mount){.destination = pd_arena_strdup(a, "/etc/hosts"),
					   .source = pd_arena_strdup(a, "/run/x/hosts"),
					   .flags = MS_BIND | MS_REC,
					   .propagation = MS_PRIVATE,
					   .data = pd_arena_strdup(a, "mode=755"),
					   .bind = true};
	cfg->n_devices = 1;
	cfg->devices = pd_arena_calloc(a, 1, sizeof(*cfg->devices));
	cfg->devices[0] = (struct pd_device){
	    .path = pd_arena_strdup(a, "/dev/fuse"), .type = 'c', .major = 10, .minor = 229};
	cfg->n_masked_paths = 2;
	cfg->masked_paths = pd_arena_calloc(a, 2, sizeof(char *));
	cfg->masked_paths[0] = pd_arena_strdup(a, "/proc/kcore");
	cfg->masked_paths[1] = pd_arena_strdup(a, "/sys/firmware");
	cfg->n_readonly_paths = 1;
	cfg->readonly_paths = pd_arena_calloc(a, 1, sizeof(char *));
	cfg->readonly_paths[0] = pd_arena_strdup(a, "/proc/sys");
	cfg->process.has_caps = true;
	cfg->process.caps.bounding = BIT(0) | BIT(21); /* CAP_CHOWN, CAP_SYS_ADMIN */
	cfg->process.caps.effective = BIT(0);
}

static struct pd_state make_state(const char *id, const struct pd_container_config *cfg)
{
	static const char *const cg_names[] = {"memory", ""};
	static const char *const cg_paths[] = {"/sys/fs/cgroup/memory/c1", "/sys/fs/cgroup/c1"};
	struct pd_state st = {
	    .id = id,
	    .init_pid = 4242,
	    .init_start = 987654321,
	    .created = {.tv_sec = 1700000000, .tv_nsec = 120000000},
	    .status = "created",
	    .cfg = cfg,
	    .cgroup_names = cg_names,
	    .cgroup_paths = cg_paths,
	    .n_cgroups = 2,
	};
	st.ns_paths[PD_NS_MNT] = "/proc/4242/ns/mnt";
	st.ns_paths[PD_NS_IPC] = "/var/run/sandbox-ns/ipc";
	return st;
}

static void write_state(const char *sb, const struct pd_state *st)
{
	struct pd_error err;
	int rc = pd_state_write(root, sb, st, &err);
	if (rc < 0)
		fail_msg("pd_state_write: %s", err.msg);
}

/* Follows a path of object keys (strings) and array indexes ("#3") from the top. */
static int lookup(const struct pd_json_doc *d, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	int t = 0;
	for (char *part = strtok_r(buf, ".", &save); part && t >= 0;
	     part = strtok_r(NULL, ".", &save))
		t = part[0] == '#' ? pd_json_at(d, t, strtoul(part + 1, NULL, 10))
				   : pd_json_get(d, t, part);
	return t;
}

static void assert_str_at(const struct pd_json_doc *d, const char *path, const char *want)
{
	int t = lookup(d, path);
	if (pd_json_type(d, t) != PD_JSON_STRING)
		fail_msg("%s: not a string", path);
	char *s = pd_json_str(d, t);
	if (strcmp(s, want))
		fail_msg("%s: \"%s\", want \"%s\"", path, s, want);
	free(s);
}

static void assert_uint_at(const struct pd_json_doc *d, const char *path, uint64_t want)
{
	uint64_t v;
	if (pd_json_uint64(d, lookup(d, path), &v) < 0)
		fail_msg("%s: not an unsigned integer", path);
	if (v != want)
		fail_msg("%s: %llu, want %llu", path, (unsigned long long)v,
			 (unsigned long long)want);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* ---- the writer --------------------------------------------------------------------------- */

static char *write_one_string(const char *s, size_t n)
{
	struct pd_json j;
	struct pd_error err;
	pd_json_init(&j, 1 << 20);
	pd_json_begin_array(&j);
	pd_json_string_n(&j, s, n);
	pd_json_end_array(&j);
	assert_int_equal(pd_json_finish(&j, &err), 0);
	return j.buf;
}

static void test_writer_escapes(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	    {"a\"b\\c", 5, "[\"a\\\"b\\\\c\"]"},
	    {"\n\r\t\b\f", 5, "[\"\\n\\r\\t\\b\\f\"]"},
	    {"\x01\x1f\x7f", 3, "[\"\\u0001\\u001f\\u007f\"]"},
	    {"/é€😀", 10, "[\"/é€😀\"]"},				/* valid UTF-8 stays raw */
	    {"\xff", 1, "[\"\\ufffd\"]"},			/* never valid */
	    {"\xc0\xaf", 2, "[\"\\ufffd\\ufffd\"]"},		/* overlong '/' */
	    {"\xed\xa0\x80", 3, "[\"\\ufffd\\ufffd\\ufffd\"]"}, /* UTF-16 surrogate */
	    {"\xf4\x90\x80\x80", 4, "[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]"}, /* > U+10FFFF */
	    {"x\xe2\x82", 3, "[\"x\\ufffd\\ufffd\"]"},			   /* cut short */
	    {"", 0, "[\"\"]"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = write_one_string(cases[i].in, cases[i].n);
		if (strcmp(out, cases[i].out))
			fail_msg("case %zu: %s, want %s", i, out, cases[i].out);
		free(out);
	}
}

static void test_writer_structure(void **state)
{
	struct pd_json j;
	struct pd_error err;
	pd_json_init(&j, 1 << 20);
	pd_json_begin_object(&j);
	pd_json_kv_int(&j, "a", -5);
	pd_json_key(&j, "b");
	pd_json_begin_array(&j);
	pd_json_uint(&j, UINT64_MAX);
	pd_json_bool(&j, true);
	pd_json_null(&j);
	pd_json_begin_object(&j);
	pd_json_end_object(&j);
	pd_json_end_array(&j);
	pd_json_kv_string(&j, "c", NULL);
	pd_json_end_object(&j);
	assert_int_equal(pd_json_finish(&j, &err), 0);
	assert_string_equal(j.buf,
			    "{\"a\":-5,\"b\":[18446744073709551615,true,null,{}],\"c\":null}");
	pd_json_free(&j);
}

/* Misuse is sticky and reported by finish, never a crash or a half-valid document. */
static void test_writer_misuse(void **state)
{
	struct pd_json j;
	struct pd_error err;

	pd_json_init(&j, 1 << 20); /* a value in an object without a key */
	pd_json_begin_object(&j);
	assert_int_equal(pd_json_int(&j, 1), -1);
	assert_int_equal(pd_json_end_object(&j), -1);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	pd_json_free(&j);

	pd_json_init(&j, 1 << 20); /* left open */
	pd_json_begin_array(&j);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	pd_json_free(&j);

	pd_json_init(&j, 1 << 20); /* ] closing an object */
	pd_json_begin_object(&j);
	assert_int_equal(pd_json_end_array(&j), -1);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	pd_json_free(&j);

	pd_json_init(&j, 1 << 20); /* two top-level values */
	pd_json_begin_array(&j);
	pd_json_end_array(&j);
	assert_int_equal(pd_json_begin_array(&j), -1);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	pd_json_free(&j);

	pd_json_init(&j, 1 << 20); /* too deep */
	for (int i = 0; i < PD_JSON_MAX_DEPTH; i++)
		assert_int_equal(pd_json_begin_array(&j), 0);
	assert_int_equal(pd_json_begin_array(&j), -1);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	pd_json_free(&j);

	pd_json_init(&j, 1 << 20); /* nothing */
	assert_int_equal(pd_json_finish(&j, &err), -1);
	pd_json_free(&j);
}

static void test_writer_limit(void **state)
{
	struct pd_json j;
	struct pd_error err;
	char big[100];
	memset(big, '\x01', sizeof(big)); /* 600 bytes escaped */
	pd_json_init(&j, 500);
	pd_json_begin_array(&j);
	assert_int_equal(pd_json_string_n(&j, big, sizeof(big)), -1);
	pd_json_end_array(&j);
	assert_int_equal(pd_json_finish(&j, &err), -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	assert_true(j.cap <= 501);
	pd_json_free(&j);
}

/* ---- the reader --------------------------------------------------------------------------- */

/* Every hostile string survives writer -> jsmn -> decoder; invalid UTF-8 bytes come back as
 * U+FFFD each. */
static void test_escape_roundtrip(void **state)
{
	static const struct {
		const char *in, *back;
	} cases[] = {
	    {"quote\" back\\slash /", "quote\" back\\slash /"},
	    {"line\nfeed\r\ttab\b\f", "line\nfeed\r\ttab\b\f"},
	    {"\x01\x02\x1b[31mred\x7f", "\x01\x02\x1b[31mred\x7f"},
	    {"é€😀", "é€😀"},
	    {"bad\xff", "bad\xef\xbf\xbd"},
	    {"\xed\xa0\x80!", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!"},
	    {"\"}],{\"id\":\"evil\"", "\"}],{\"id\":\"evil\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = write_one_string(cases[i].in, strlen(cases[i].in));
		struct pd_json_doc d;
		struct pd_error err;
		assert_int_equal(pd_json_parse(&d, text, strlen(text), 16, &err), 0);
		assert_int_equal(pd_json_count(&d, 0), 1);
		char *back = pd_json_str(&d, pd_json_at(&d, 0, 0));
		if (strcmp(back, cases[i].back))
			fail_msg("case %zu did not round-trip: %s", i, back);
		free(back);
		pd_json_doc_free(&d);
		free(text);
	}
}

static void test_reader_decodes_escapes(void **state)
{
	const char *text = "[\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\", \"\\u0000x\\ud800y\\udc00\","
			   " \"\\/\\\"\"]";
	struct pd_json_doc d;
	struct pd_error err;
	assert_int_equal(pd_json_parse(&d, text, strlen(text), 16, &err), 0);
	char *a = pd_json_str(&d, pd_json_at(&d, 0, 0));
	char *b = pd_json_str(&d, pd_json_at(&d, 0, 1));
	char *c = pd_json_str(&d, pd_json_at(&d, 0, 2));
	assert_string_equal(a, "Aé€😀");
	assert_string_equal(b, "\xef\xbf\xbdx\xef\xbf\xbdy\xef\xbf\xbd"); /* NUL, lone halves */
	assert_string_equal(c, "/\"");
	assert_int_equal(pd_json_at(&d, 0, 3), -1);
	free(a);
	free(b);
	free(c);
	pd_json_doc_free(&d);
}

static int parse_fails(const char *text, size_t len, int code)
{
	struct pd_json_doc d;
	struct pd_error err;
	if (pd_json_parse(&d, text, len, 1 << 16, &err) == 0) {
		pd_json_doc_free(&d);
		return 0;
	}
	assert_null(d.toks);
	assert_true(err.msg[0]);
	return err.code == code;
}

static void test_reader_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "{",
	    "{\"a\":",
	    "{\"a\":1",
	    "[1,2",
	    "\"str\"",
	    "42",
	    "{\"a\":1}}",
	    "{\"a\":1} x",
	    "{\"a\":1}{\"b\":2}",
	    "{\"a\":tru}",
	    "{a:1}",
	    "{\"a\":\"\\x\"}",
	    "{\"a\":\"\\u12g4\"}",
	    "]",
	    "{]",
	    "[01]",
	    "[1.]",
	    "[-]",
	    "[1e]",
	    "[.5]",
	    "[nul]",
	    "[truex]",
	    "[1.5e+]",
	    "[--1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!parse_fails(bad[i], strlen(bad[i]), PD_INVALID_ARGUMENT))
			fail_msg("accepted: %s", bad[i]);
	assert_true(parse_fails("{\"a\":\"x\0y\"}", 11, PD_INVALID_ARGUMENT)); /* NUL byte */
	static const char *const good = "[0,-0,12,-3.25,1e9,2E-3,6.02e+23,true,false,null]";
	struct pd_json_doc ok;
	struct pd_error ok_err;
	assert_int_equal(pd_json_parse(&ok, good, strlen(good), 64, &ok_err), 0);
	assert_int_equal(pd_json_count(&ok, 0), 10);
	pd_json_doc_free(&ok);

	/* Deep nesting: refused before jsmn, whatever the token budget. */
	size_t n = 200000;
	char *deep = malloc(2 * n);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	assert_true(parse_fails(deep, 2 * n, PD_INVALID_ARGUMENT));
	free(deep);

	/* Many tokens: more than the budget is RESOURCE_EXHAUSTED, not a huge allocation. */
	n = 300000;
	char *wide = malloc(2 * n + 2);
	wide[0] = '[';
	for (size_t i = 0; i < n; i++)
		memcpy(wide + 1 + 2 * i, "1,", 2);
	wide[2 * n] = ']';
	assert_true(parse_fails(wide, 2 * n + 1, PD_RESOURCE_EXHAUSTED));
	struct pd_json_doc d;
	struct pd_error err;
	assert_int_equal(pd_json_parse(&d, wide, 2 * n + 1, n + 1, &err), 0); /* it fits */
	assert_int_equal(pd_json_count(&d, 0), (int)n);
	pd_json_doc_free(&d);
	free(wide);
}

/* jsmn tolerates missing ':' and ','; lookups must notice rather than misread. */
static void test_reader_lenient_shapes(void **state)
{
	static const char *const shapes[] = {
	    "{\"id\" \"x\"}",
	    "{\"a\":1 \"id\":\"x\"}",
	    "{\"id\":\"x\":\"y\"}",
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct pd_json_doc d;
		struct pd_error err;
		if (pd_json_parse(&d, shapes[i], strlen(shapes[i]), 64, &err) < 0)
			continue; /* refused outright: fine too */
		int t = pd_json_get(&d, 0, "id");
		if (t >= 0 && pd_json_str_eq(&d, t, "x") && pd_json_count(&d, 0) != 1)
			fail_msg("misread %s", shapes[i]);
		char *s = pd_json_str(&d, t); /* NULL or a string, never a crash */
		free(s);
		pd_json_doc_free(&d);
	}
}

/* ---- state.json --------------------------------------------------------------------------- */

static void test_state_keys_and_nesting(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, "box");
	struct pd_state st = make_state("c1", &cfg);
	write_state("sb1", &st);

	char path[256], dir[256];
	state_path(path, sizeof(path), "sb1", "c1");
	snprintf(dir, sizeof(dir), "%s/sb1/c1", root);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(entries(dir), 1); /* the temp file is gone */

	size_t len;
	char *text = read_all(path, &len);
	struct pd_json_doc d;
	struct pd_error err;
	assert_int_equal(pd_json_parse(&d, text, len, 4096, &err), 0);
	assert_str_at(&d, "id", "c1");
	assert_uint_at(&d, "init_process_pid", 4242);
	assert_uint_at(&d, "init_process_start", 987654321);
	assert_str_at(&d, "created", "2023-11-14T22:13:20.12Z");
	assert_str_at(&d, "status", "created");
	assert_str_at(&d, "config.rootfs", "/run/kata-containers/shared/containers/c1/rootfs");
	assert_str_at(&d, "config.hostname", "box");
	assert_true(pd_json_is_literal(&d, lookup(&d, "config.readonlyfs"), "false"));
	assert_uint_at(&d, "config.rootPropagation", MS_SLAVE | MS_REC);
	assert_int_equal(pd_json_count(&d, lookup(&d, "config.mounts")), 2);
	assert_str_at(&d, "config.mounts.#0.destination", "/proc");
	assert_str_at(&d, "config.mounts.#0.source", "proc");
	assert_str_at(&d, "config.mounts.#0.device", "proc");
	assert_uint_at(&d, "config.mounts.#0.flags", MS_NOSUID | MS_NOEXEC | MS_NODEV);
	assert_str_at(&d, "config.mounts.#0.data", "");
	assert_int_equal(pd_json_count(&d, lookup(&d, "config.mounts.#0.propagation_flags")), 0);
	assert_str_at(&d, "config.mounts.#1.device", "bind");
	assert_str_at(&d, "config.mounts.#1.data", "mode=755");
	assert_uint_at(&d, "config.mounts.#1.flags", MS_BIND | MS_REC);
	assert_uint_at(&d, "config.mounts.#1.propagation_flags.#0", MS_PRIVATE);
	assert_uint_at(&d, "config.devices.#0.type", 'c');
	assert_str_at(&d, "config.devices.#0.path", "/dev/fuse");
	assert_uint_at(&d, "config.devices.#0.major", 10);
	assert_uint_at(&d, "config.devices.#0.minor", 229);
	assert_uint_at(&d, "config.devices.#0.file_mode", 0666);
	assert_int_equal(pd_json_count(&d, lookup(&d, "config.namespaces")), 3);
	assert_str_at(&d, "config.namespaces.#0.type", "NEWNS");
	assert_str_at(&d, "config.namespaces.#0.path", "");
	assert_str_at(&d, "config.namespaces.#1.type", "NEWPID");
	assert_str_at(&d, "config.namespaces.#2.type", "NEWIPC");
	assert_str_at(&d, "config.namespaces.#2.path", "/var/run/sandbox-ns/ipc");
	assert_str_at(&d, "config.capabilities.Bounding.#0", "CAP_CHOWN");
	assert_str_at(&d, "config.capabilities.Bounding.#1", "CAP_SYS_ADMIN");
	assert_int_equal(pd_json_count(&d, lookup(&d, "config.capabilities.Bounding")), 2);
	assert_str_at(&d, "config.capabilities.Effective.#0", "CAP_CHOWN");
	assert_int_equal(pd_json_type(&d, lookup(&d, "config.capabilities.Ambient")),
			 PD_JSON_ARRAY);
	assert_int_equal(pd_json_count(&d, lookup(&d, "config.capabilities.Inheritable")), 0);
	assert_int_equal(pd_json_type(&d, lookup(&d, "config.capabilities.Permitted")),
			 PD_JSON_ARRAY);
	assert_str_at(&d, "config.mask_paths.#0", "/proc/kcore");
	assert_str_at(&d, "config.mask_paths.#1", "/sys/firmware");
	assert_str_at(&d, "config.readonly_paths.#0", "/proc/sys");
	assert_str_at(&d, "cgroup_paths.memory", "/sys/fs/cgroup/memory/c1");
	int v2 = pd_json_get(&d, lookup(&d, "cgroup_paths"), ""); /* v2: the key is "" */
	assert_true(pd_json_str_eq(&d, v2, "/sys/fs/cgroup/c1"));
	assert_str_at(&d, "namespace_paths.NEWNS", "/proc/4242/ns/mnt");
	assert_str_at(&d, "namespace_paths.NEWIPC", "/var/run/sandbox-ns/ipc");
	int nsp = lookup(&d, "namespace_paths"), key = -1;
	assert_int_equal(pd_json_count(&d, nsp), 2);
	assert_int_equal(pd_json_member(&d, nsp, 1, &key), lookup(&d, "namespace_paths.NEWIPC"));
	assert_true(pd_json_str_eq(&d, key, "NEWIPC"));
	assert_int_equal(pd_json_member(&d, nsp, 0, &key), lookup(&d, "namespace_paths.NEWNS"));
	assert_true(pd_json_str_eq(&d, key, "NEWNS"));
	assert_int_equal(pd_json_member(&d, nsp, 2, &key), -1);
	assert_int_equal(pd_json_member(&d, lookup(&d, "config.mounts"), 0, &key), -1);
	/* The top-level keys, in the order written (docs/state.md). */
	static const char *const top[] = {"id",	      "init_process_pid", "init_process_start",
					  "created",  "status",		  "config",
					  "rootless", "cgroup_paths",	  "namespace_paths"};
	assert_int_equal(pd_json_count(&d, 0), 9);
	for (int i = 0; i < 9; i++) {
		assert_true(pd_json_member(&d, 0, (size_t)i, &key) > 0);
		if (!pd_json_str_eq(&d, key, top[i]))
			fail_msg("top-level key %d is not %s", i, top[i]);
	}
	pd_json_doc_free(&d);
	free(text);
	pd_arena_free(&cfg.arena);
}

static void test_state_python_agrees(void **state)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		PD_SKIP("no /usr/bin/python3 to compare with");
	struct pd_container_config cfg;
	make_config(&cfg, "h\"o\\s\nt\x01\xff");
	struct pd_state st = make_state("c1", &cfg);
	write_state("sb1", &st);
	char path[256], cmd[512];
	state_path(path, sizeof(path), "sb1", "c1");
	/* Strict UTF-8 and strict JSON (no control characters in strings). */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1],encoding=\"utf-8\"));"
		 "assert d[\"config\"][\"hostname\"]==\"h\\\"o\\\\s\\nt\\x01\\ufffd\", d;"
		 "assert d[\"config\"][\"namespaces\"][2]==dict(type=\"NEWIPC\","
		 "path=\"/var/run/sandbox-ns/ipc\");"
		 "assert d[\"namespace_paths\"][\"NEWNS\"]==\"/proc/4242/ns/mnt\"' %s",
		 path);
	assert_int_equal(system(cmd), 0);
	pd_arena_free(&cfg.arena);
}

static void test_state_view(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, NULL);
	struct pd_state st = make_state("c1", &cfg);
	st.status = "running";
	write_state("sb1", &st);
	char path[256];
	state_path(path, sizeof(path), "sb1", "c1");
	struct pd_state_view v;
	struct pd_error err;
	char *text;
	size_t len;
	assert_int_equal(pd_state_view_load(path, &v, &text, &len, &err), 0);
	assert_string_equal(v.id, "c1");
	assert_int_equal(v.init_pid, 4242);
	assert_int_equal(v.init_start, 987654321);
	assert_string_equal(v.created, "2023-11-14T22:13:20.12Z");
	assert_string_equal(v.status, "running");
	assert_string_equal(v.rootfs, cfg.rootfs);
	assert_string_equal(v.hostname, "");
	assert_true(v.has_status);
	assert_int_equal(v.status_end - v.status_start, 7);
	assert_memory_equal(text + v.status_start, "running", 7);
	free(text);
	pd_state_view_free(&v);
	pd_arena_free(&cfg.arena);
}

/* Every prefix of a good file, and a few wrong types, fail cleanly. */
static void test_state_view_malformed(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, "h");
	struct pd_state st = make_state("c1", &cfg);
	char *text;
	size_t len;
	struct pd_error err;
	struct pd_state_view v;
	assert_int_equal(pd_state_render(&st, &text, &len, &err), 0);
	assert_int_equal(pd_state_view_parse(text, len, &v, &err), 0);
	pd_state_view_free(&v);
	for (size_t n = 0; n < len; n++)
		if (pd_state_view_parse(text, n, &v, &err) == 0)
			fail_msg("accepted a prefix of %zu bytes", n);
	free(text);
	pd_arena_free(&cfg.arena);

	static const char *const bad[] = {
	    "{}",
	    "[]",
	    "{\"id\":1,\"init_process_pid\":1,\"created\":\"x\",\"config\":{\"rootfs\":\"/\"}}",
	    "{\"id\":\"a\",\"init_process_pid\":\"1\",\"created\":\"x\",\"config\":{\"rootfs\":\"/"
	    "\"}}",
	    "{\"id\":\"a\",\"init_process_pid\":1.5,\"created\":\"x\",\"config\":{\"rootfs\":\"/"
	    "\"}}",
	    "{\"id\":\"a\",\"init_process_pid\":1,\"created\":\"x\",\"config\":[]}",
	    "{\"id\":\"a\",\"init_process_pid\":1,\"created\":\"x\",\"config\":{}}",
	    "{\"id\":\"a\",\"init_process_pid\":99999999999999999999,\"created\":\"x\","
	    "\"config\":{\"rootfs\":\"/\"}}",
	    "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":-1,\"created\":\"x\","
	    "\"config\":{\"rootfs\":\"/\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pd_state_view_parse(bad[i], strlen(bad[i]), &v, &err) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(v.id);
	}
	/* Old runc wrote init_process_start as a string. */
	const char *old = "{\"id\":\"a\",\"init_process_pid\":7,\"init_process_start\":\"123\","
			  "\"created\":\"x\",\"config\":{\"rootfs\":\"/r\"}}";
	assert_int_equal(pd_state_view_parse(old, strlen(old), &v, &err), 0);
	assert_int_equal(v.init_start, 123);
	assert_string_equal(v.status, "");
	assert_false(v.has_status);
	pd_state_view_free(&v);
}

static void test_state_rewrite_is_atomic(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, "h");
	struct pd_state st = make_state("c1", &cfg);
	char path[256], dir[256];
	state_path(path, sizeof(path), "sb1", "c1");
	snprintf(dir, sizeof(dir), "%s/sb1/c1", root);
	write_state("sb1", &st);
	struct stat before;
	assert_int_equal(stat(path, &before), 0);

	/* A reader holding the old file keeps reading the old content: it was replaced, not
	 * rewritten in place. */
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	st.status = "running";
	write_state("sb1", &st);
	struct stat after;
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	char old[8192];
	ssize_t n = read(fd, old, sizeof(old) - 1);
	close(fd);
	assert_true(n > 0);
	old[n] = '\0';
	assert_non_null(strstr(old, "\"status\":\"created\""));
	char *text = read_all(path, NULL);
	assert_non_null(strstr(text, "\"status\":\"running\""));
	free(text);
	assert_int_equal(entries(dir), 1);

	/* A stale temp file from a crash is reused and gone afterwards. */
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s/%s", dir, PD_STATE_TMP_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junkjunkjunk", 12), 12);
	close(fd);
	write_state("sb1", &st);
	assert_int_equal(entries(dir), 1);
	pd_arena_free(&cfg.arena);
}

static void test_state_remove(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, "h");
	struct pd_state a = make_state("a1", &cfg), b = make_state("b1", &cfg);
	struct pd_error err;
	char sb_dir[256];
	snprintf(sb_dir, sizeof(sb_dir), "%s/sb1", root);
	write_state("sb1", &a);
	write_state("sb1", &b);
	assert_int_equal(entries(sb_dir), 2);

	assert_int_equal(pd_state_remove(root, "sb1", "a1", &err), 0);
	assert_int_equal(entries(sb_dir), 1); /* b1 keeps the sandbox directory */
	assert_int_equal(pd_state_remove(root, "sb1", "a1", &err), 0); /* already gone: fine */
	assert_int_equal(pd_state_remove(root, "sb1", "b1", &err), 0);
	assert_int_equal(access(sb_dir, F_OK), -1);
	assert_int_equal(entries(root), 0); /* the root itself stays */

	/* Something unexpected in the container directory is an error, not silently kept. */
	write_state("sb1", &a);
	char extra[300];
	snprintf(extra, sizeof(extra), "%s/sb1/a1/extra", root);
	assert_int_equal(mkdir(extra, 0700), 0);
	assert_int_equal(pd_state_remove(root, "sb1", "a1", &err), -1);
	assert_int_equal(err.errnum, ENOTEMPTY);
	assert_int_equal(rmdir(extra), 0);
	assert_int_equal(pd_state_remove(root, "sb1", "a1", &err), 0);
	pd_arena_free(&cfg.arena);
}

static void test_state_ids(void **state)
{
	struct pd_container_config cfg;
	make_config(&cfg, "h");
	struct pd_error err;
	static const char *const bad[] = {"", ".", "..", "a/b", "../x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_state st = make_state(bad[i], &cfg);
		assert_int_equal(pd_state_write(root, "sb1", &st, &err), -1);
		assert_int_equal(err.code, PD_INVALID_ARGUMENT);
		st.id = "c1";
		if (bad[i][0]) { /* "" is the no-sandbox case */
			assert_int_equal(pd_state_write(root, bad[i], &st, &err), -1);
			assert_int_equal(err.code, PD_INVALID_ARGUMENT);
			assert_int_equal(pd_state_remove(root, bad[i], "c1", &err), -1);
		}
		assert_int_equal(pd_state_remove(root, "sb1", bad[i], &err), -1);
	}
	assert_int_equal(entries(root), 0);

	/* No sandbox id: the "default" directory. */
	struct pd_state st = make_state("c1", &cfg);
	write_state("", &st);
	char path[256];
	state_path(path, sizeof(path), PD_STATE_NO_SANDBOX, "c1");
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(pd_state_remove(root, NULL, "c1", &err), 0);
	assert_int_equal(entries(root), 0);

	/* A root that does not exist yet is created. */
	char deep[256];
	snprintf(deep, sizeof(deep), "%s/x/y", root);
	assert_int_equal(pd_state_write(deep, "sb", &st, &err), 0);
	pd_arena_free(&cfg.arena);
}

static void test_time_format(void **state)
{
	char buf[PD_STATE_TIME_MAX];
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
	assert_int_equal(pd_state_format_time(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	ts = (struct timespec){.tv_sec = 1700000000, .tv_nsec = 1};
	assert_int_equal(pd_state_format_time(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20.000000001Z");
	ts.tv_nsec = 123456780;
	assert_int_equal(pd_state_format_time(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20.12345678Z");
	assert_int_equal(pd_state_format_time(&ts, buf, 10), -1);
}

/* ---- pidone list / pidone state ----------------------------------------------------------- */

struct output {
	int rc;
	char out[16384], err[4096];
};

static void drain(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* Runs pd_state_cmd with stdout and stderr captured in memfds. */
static void run(struct output *o, int argc, ...)
{
	char *argv[16];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	int out = memfd_create("out", 0), err = memfd_create("err", 0);
	int saved_out = dup(1), saved_err = dup(2);
	assert_true(out >= 0 && err >= 0 && saved_out >= 0 && saved_err >= 0);
	dup2(out, 1);
	dup2(err, 2);
	o->rc = pd_state_cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	drain(out, o->out, sizeof(o->out));
	drain(err, o->err, sizeof(o->err));
}

/* Field 22 of /proc/self/stat, counted from the last ')'. */
static uint64_t my_start_ticks(void)
{
	char buf[2048];
	int fd = open("/proc/self/stat", O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	char *p = strrchr(buf, ')') + 2;
	unsigned long long v = 0;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	assert_int_equal(sscanf(p, "%llu", &v), 1);
	return v;
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* Three containers in two sandboxes: alive, dead, and alive-but-a-reused-pid. */
static void populate(struct pd_container_config *cfg)
{
	make_config(cfg, "h");
	struct pd_state live = make_state("web", cfg), dead = make_state("db", cfg),
			reused = make_state("cache", cfg);
	live.init_pid = getpid();
	live.init_start = my_start_ticks();
	live.status = "running";
	dead.init_pid = dead_pid();
	dead.status = "running";
	reused.init_pid = getpid();
	reused.init_start = my_start_ticks() + 1;
	reused.status = "paused";
	write_state("sb1", &live);
	write_state("sb1", &dead);
	write_state("sb2", &reused);
}

static void test_cmd_list_table(void **state)
{
	struct pd_container_config cfg;
	populate(&cfg);
	struct output o;
	run(&o, 3, "list", "--root", root);
	assert_int_equal(o.rc, 0);
	assert_string_equal(o.err, "");
	char line[3][512];
	char *save = NULL, *l = strtok_r(o.out, "\n", &save);
	assert_non_null(l);
	assert_int_equal(strncmp(l, "ID", 2), 0);
	assert_non_null(strstr(l, "PID"));
	assert_true(strstr(l, "STATUS") < strstr(l, "CREATED"));
	assert_non_null(strstr(l, "ROOTFS"));
	for (int i = 0; i < 3; i++) {
		l = strtok_r(NULL, "\n", &save);
		assert_non_null(l);
		snprintf(line[i], sizeof(line[i]), "%s", l);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	char want[512];
	/* Sorted by id; the dead and the reused one are stopped, with pid 0 like runc. */
	assert_int_equal(sscanf(line[0], "cache 0 stopped %s", want), 1);
	assert_int_equal(sscanf(line[1], "db 0 stopped %s", want), 1);
	char status[32];
	int pid;
	assert_int_equal(sscanf(line[2], "web %d %31s", &pid, status), 2);
	assert_int_equal(pid, getpid());
	assert_string_equal(status, "running");
	assert_non_null(strstr(line[2], "2023-11-14T22:13:20.12Z"));
	assert_non_null(strstr(line[2], cfg.rootfs));

	run(&o, 4, "list", "-q", "--root", root);
	assert_int_equal(o.rc, 0);
	assert_string_equal(o.out, "cache\ndb\nweb\n");
	pd_arena_free(&cfg.arena);
}

static void test_cmd_list_json(void **state)
{
	struct pd_container_config cfg;
	populate(&cfg);
	struct output o;
	char rootopt[128];
	snprintf(rootopt, sizeof(rootopt), "--root=%s", root);
	run(&o, 4, "list", rootopt, "--format", "json");
	assert_int_equal(o.rc, 0);
	struct pd_json_doc d;
	struct pd_error err;
	assert_int_equal(pd_json_parse(&d, o.out, strlen(o.out), 1024, &err), 0);
	assert_int_equal(pd_json_count(&d, 0), 3);
	assert_str_at(&d, "#2.id", "web");
	assert_str_at(&d, "#2.status", "running");
	assert_uint_at(&d, "#2.pid", (uint64_t)getpid());
	assert_str_at(&d, "#2.rootfs", cfg.rootfs);
	assert_str_at(&d, "#2.created", "2023-11-14T22:13:20.12Z");
	assert_str_at(&d, "#0.status", "stopped");
	assert_uint_at(&d, "#0.pid", 0);
	pd_json_doc_free(&d);
	pd_arena_free(&cfg.arena);
}

static void test_cmd_list_skips_damaged(void **state)
{
	struct pd_container_config cfg;
	populate(&cfg);
	char path[256];
	state_path(path, sizeof(path), "sb1", "db");
	assert_int_equal(truncate(path, 40), 0);
	struct output o;
	run(&o, 3, "list", "--root", root);
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(o.err, "db/state.json"));
	assert_non_null(strstr(o.out, "\nweb "));
	assert_non_null(strstr(o.out, "\ncache "));
	assert_null(strstr(o.out, "\ndb "));

	/* An empty or missing root lists nothing. */
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none", root);
	run(&o, 3, "list", "--root", missing);
	assert_int_equal(o.rc, 0);
	assert_int_equal(strncmp(o.out, "ID", 2), 0);
	assert_int_equal(strchr(o.out, '\n')[1], '\0');
	pd_arena_free(&cfg.arena);
}

static void test_cmd_state(void **state)
{
	struct pd_container_config cfg;
	populate(&cfg);
	struct output o;
	char path[256];

	/* Alive: the file exactly, plus a newline. */
	run(&o, 4, "state", "--root", root, "web");
	assert_int_equal(o.rc, 0);
	state_path(path, sizeof(path), "sb1", "web");
	char *text = read_all(path, NULL);
	assert_int_equal(strlen(o.out), strlen(text) + 1);
	assert_memory_equal(o.out, text, strlen(text));
	free(text);

	/* Dead: the same file with the status corrected, still valid JSON. */
	run(&o, 4, "state", "--root", root, "db");
	assert_int_equal(o.rc, 0);
	state_path(path, sizeof(path), "sb1", "db");
	text = read_all(path, NULL);
	assert_non_null(strstr(text, "\"status\":\"running\""));
	assert_non_null(strstr(o.out, "\"status\":\"stopped\""));
	assert_null(strstr(o.out, "\"status\":\"running\""));
	assert_int_equal(strlen(o.out), strlen(text) + 1);
	struct pd_state_view v;
	struct pd_error err;
	assert_int_equal(pd_state_view_parse(o.out, strlen(o.out), &v, &err), 0);
	assert_string_equal(v.status, "stopped");
	assert_string_equal(v.id, "db");
	pd_state_view_free(&v);
	free(text);

	/* Found in the other sandbox directory too. */
	run(&o, 4, "state", "--root", root, "cache");
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(o.out, "\"id\":\"cache\""));
	assert_non_null(strstr(o.out, "\"status\":\"stopped\"")); /* reused pid */

	run(&o, 4, "state", "--root", root, "nope");
	assert_int_equal(o.rc, 1);
	assert_string_equal(o.out, "");
	assert_non_null(strstr(o.err, "\"nope\" does not exist"));
	pd_arena_free(&cfg.arena);
}

static void test_cmd_usage(void **state)
{
	struct output o;
	run(&o, 1, "state");
	assert_int_equal(o.rc, 2);
	run(&o, 3, "state", "a", "b");
	assert_int_equal(o.rc, 2);
	run(&o, 2, "list", "--bogus");
	assert_int_equal(o.rc, 2);
	run(&o, 3, "list", "--format", "yaml");
	assert_int_equal(o.rc, 2);
	run(&o, 2, "list", "--root");
	assert_int_equal(o.rc, 2);
	run(&o, 1, "frobnicate");
	assert_int_equal(o.rc, 2);
	run(&o, 2, "list", "--help");
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(o.err, "usage:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_escapes),
	    cmocka_unit_test(test_writer_structure),
	    cmocka_unit_test(test_writer_misuse),
	    cmocka_unit_test(test_writer_limit),
	    cmocka_unit_test(test_escape_roundtrip),
	    cmocka_unit_test(test_reader_decodes_escapes),
	    cmocka_unit_test(test_reader_malformed),
	    cmocka_unit_test(test_reader_lenient_shapes),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test_setup_teardown(test_state_keys_and_nesting, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_state_python_agrees, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_state_view, setup_root, teardown_root),
	    cmocka_unit_test(test_state_view_malformed),
	    cmocka_unit_test_setup_teardown(test_state_rewrite_is_atomic, setup_root,
					    teardown_root),
	    cmocka_unit_test_setup_teardown(test_state_remove, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_state_ids, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_cmd_list_table, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_cmd_list_json, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_cmd_list_skips_damaged, setup_root, teardown_root),
	    cmocka_unit_test_setup_teardown(test_cmd_state, setup_root, teardown_root),
	    cmocka_unit_test(test_cmd_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
