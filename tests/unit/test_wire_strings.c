/* The string walk of dispatch (agent/ttrpc/wire_strings.c): UTF-8 by RFC 3629, NUL refused,
 * every string field found at any depth — nested messages, repeated fields, map keys and
 * values, every occurrence — bytes and unknown fields left alone, replies repaired in place
 * so protobuf-c (and so any decoder) reads them, and Kata's own requests passing unchanged.
 *
 * Bad strings are made the way a hostile host makes them: a message is packed with a
 * placeholder string and the placeholder's bytes are overwritten on the wire (protobuf-c
 * packs a char* and could not send "a\0b" itself). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/ttrpc/wire_strings.h"
#include "helpers/testdata.h"
#include "ttrpc.pb-c.h"

#define MAX_VECTOR_BYTES (1 << 20)

struct wire {
	uint8_t *buf;
	size_t len;
};

static struct wire pack(const ProtobufCMessage *m)
{
	struct wire w;
	w.len = protobuf_c_message_get_packed_size(m);
	w.buf = malloc(w.len ? w.len : 1);
	assert_non_null(w.buf);
	assert_int_equal(protobuf_c_message_pack(m, w.buf), w.len);
	return w;
}

/* Overwrite the first occurrence of from with to, n bytes each. */
static void patch_n(struct wire *w, const char *from, const char *to, size_t n)
{
	uint8_t *p = memmem(w->buf, w->len, from, n);
	assert_non_null(p);
	memcpy(p, to, n);
}
/* String literals, embedded NULs included. */
#define PATCH(w, from, to)                                                                         \
	do {                                                                                       \
		_Static_assert(sizeof(from) == sizeof(to), "same length");                         \
		patch_n((w), (from), (to), sizeof(from) - 1);                                      \
	} while (0)

static void expect_bad(const ProtobufCMessageDescriptor *d, const struct wire *w, const char *field,
		       const char *what)
{
	char why[256];
	assert_int_equal(pd_wire_strings_check(d, w->buf, w->len, why, sizeof(why)), -1);
	if (strncmp(why, field, strlen(field)) != 0 || why[strlen(field)] != ':' ||
	    !strstr(why, what))
		fail_msg("why '%s', want field '%s' and '%s'", why, field, what);
}

static void expect_good(const ProtobufCMessageDescriptor *d, const struct wire *w)
{
	char why[256];
	if (pd_wire_strings_check(d, w->buf, w->len, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

static void test_utf8(void **state)
{
	// clang-format off
	static const char *good[] = {
	    "", "ctr-1", "caf\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
	    /* U+FFFF, U+10FFFF; around the surrogates */
	    "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
	};
	static const struct {
		const char *s;
		size_t bad;
	} bad[] = {
	    /* stray continuation bytes */
	    {"\x80", 0}, {"ab\xbf", 2},
	    /* overlong forms (C0 80 is the overlong NUL) */
	    {"\xc0\x80", 0}, {"\xc1\xbf", 0}, {"\xe0\x80\xaf", 0}, {"\xe0\x9f\xbf", 0},
	    {"\xf0\x80\x80\x80", 0},
	    /* UTF-16 surrogates */
	    {"\xed\xa0\x80", 0}, {"x\xed\xbf\xbf", 1},
	    /* past U+10FFFF */
	    {"\xf4\x90\x80\x80", 0}, {"\xf5\x80\x80\x80", 0}, {"\xff", 0},
	    /* cut short */
	    {"ok\xe2\x82", 2}, {"\xf0\x9f\x98", 0}, {"\xc3", 0},
	    /* a lead byte followed by something else than a continuation */
	    {"\xe2\x28\xa1", 0}, {"a\xc3\x28", 1},
	};
	// clang-format on
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pd_utf8_valid((const uint8_t *)good[i], strlen(good[i]), NULL))
			fail_msg("good[%zu] refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t at = 99;
		if (pd_utf8_valid((const uint8_t *)bad[i].s, strlen(bad[i].s), &at))
			fail_msg("bad[%zu] accepted", i);
		if (at != bad[i].bad)
			fail_msg("bad[%zu] at %zu, want %zu", i, at, bad[i].bad);
	}
	/* NUL is valid UTF-8: refusing it is the walk's rule, not the decoder's. */
	assert_true(pd_utf8_valid((const uint8_t *)"a\0b", 3, NULL));
}

static void test_utf8_repair(void **state)
{
	uint8_t s[] = "a\xff"
		      "b\xe2\x82"
		      "c\xc3\xa9\xed\xa0\x80";
	size_t n = sizeof(s) - 1;
	assert_int_equal(pd_utf8_repair(s, n), 6);
	assert_memory_equal(s, "a?b??c\xc3\xa9???", n);
	assert_true(pd_utf8_valid(s, n, NULL));
	uint8_t ok[] = "caf\xc3\xa9";
	assert_int_equal(pd_utf8_repair(ok, sizeof(ok) - 1), 0);
	assert_memory_equal(ok, "caf\xc3\xa9", sizeof(ok) - 1);
}

/* ---- the walk ------------------------------------------------------------------------- */

static void test_top_level_nul_and_utf8(void **state)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = "@@@@@";
	req.exec_id = "#####";
	struct wire w = pack(&req.base);
	expect_good(&grpc__create_container_request__descriptor, &w);
	PATCH(&w, "@@@@@", "ab\0cd");
	expect_bad(&grpc__create_container_request__descriptor, &w, "container_id", "NUL");
	/* protobuf-c alone takes it as "ab": the reason for the walk. */
	Grpc__CreateContainerRequest *d =
	    grpc__create_container_request__unpack(NULL, w.len, w.buf);
	assert_non_null(d);
	assert_string_equal(d->container_id, "ab");
	grpc__create_container_request__free_unpacked(d, NULL);
	PATCH(&w, "ab\0cd",
	      "ab\xff"
	      "cd");
	expect_bad(&grpc__create_container_request__descriptor, &w, "container_id", "UTF-8");
	PATCH(&w,
	      "ab\xff"
	      "cd",
	      "abcde");
	PATCH(&w, "#####", "\xc0\x80xyz");
	expect_bad(&grpc__create_container_request__descriptor, &w, "exec_id", "UTF-8");
	free(w.buf);
}

/* storages[1].mount_point and storages[0].options[2]: nested, repeated, any element. */
static void test_nested_and_repeated(void **state)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Storage st[2], *stp[2] = {&st[0], &st[1]};
	char *opts[] = {"ro", "nodev", "@@@@"};
	for (int i = 0; i < 2; i++) {
		grpc__storage__init(&st[i]);
		st[i].driver = "local";
		st[i].mount_point = i ? "/run/kata-containers/%%%%" : "/run/kata-containers/a";
	}
	st[0].options = opts;
	st[0].n_options = 3;
	req.container_id = "ctr";
	req.storages = stp;
	req.n_storages = 2;
	struct wire w = pack(&req.base);
	expect_good(&grpc__create_container_request__descriptor, &w);
	PATCH(&w, "%%%%", "x\0yz");
	expect_bad(&grpc__create_container_request__descriptor, &w, "storages.mount_point",
		   "NUL byte at offset 22");
	PATCH(&w, "x\0yz", "xxyz");
	PATCH(&w, "@@@@", "\xed\xa0\x80!");
	expect_bad(&grpc__create_container_request__descriptor, &w, "storages.options",
		   "UTF-8 (byte 0)");
	free(w.buf);
}

/* The OCI spec: process.args (repeated, deep) and annotations (a map: key and value). */
static void test_spec_and_map(void **state)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__Spec__AnnotationsEntry ann[2], *annp[2] = {&ann[0], &ann[1]};
	char *args[] = {"sh", "-c", "echo @@@@"};
	proc.args = args;
	proc.n_args = 3;
	spec.process = &proc;
	for (int i = 0; i < 2; i++)
		grpc__spec__annotations_entry__init(&ann[i]);
	ann[0].key = "io.kata.a";
	ann[0].value = "1";
	ann[1].key = "io.kata.%%%%";
	ann[1].value = "v=&&&&";
	spec.annotations = annp;
	spec.n_annotations = 2;
	req.container_id = "ctr";
	req.oci = &spec;
	struct wire w = pack(&req.base);
	const ProtobufCMessageDescriptor *d = &grpc__create_container_request__descriptor;
	expect_good(d, &w);
	PATCH(&w, "@@@@", "\xe2\x82\xac\x00"); /* a good euro sign, then NUL */
	char why[256];
	assert_int_equal(pd_wire_strings_check(d, w.buf, w.len, why, sizeof(why)), -1);
	if (!strcasestr(why, "oci.process.args: NUL byte at offset 8"))
		fail_msg("why: %s", why);
	PATCH(&w, "\xe2\x82\xac\x00", "\xe2\x82\xac!");
	expect_good(d, &w);
	PATCH(&w, "%%%%", "\xf8\x88\x80\x80");
	assert_int_equal(pd_wire_strings_check(d, w.buf, w.len, why, sizeof(why)), -1);
	if (!strcasestr(why, "oci.annotations.key: not valid UTF-8 (byte 8)"))
		fail_msg("why: %s", why);
	PATCH(&w, "\xf8\x88\x80\x80", "kkkk");
	PATCH(&w, "&&&&", "\0\0\0\0");
	assert_int_equal(pd_wire_strings_check(d, w.buf, w.len, why, sizeof(why)), -1);
	if (!strcasestr(why, "oci.annotations.value: NUL byte at offset 2"))
		fail_msg("why: %s", why);
	free(w.buf);
}

/* A field sent twice: decoding keeps the last, the walk checks both. */
static void test_every_occurrence(void **state)
{
	/* CheckRequest-like: field 1 (container_id of RemoveContainerRequest) twice. */
	static const uint8_t twice[] = {0x0a, 0x03, 'a', 0x00, 'b', 0x0a, 0x02, 'o', 'k'};
	struct wire w = {(uint8_t *)twice, sizeof(twice)};
	Grpc__RemoveContainerRequest *r =
	    grpc__remove_container_request__unpack(NULL, w.len, w.buf);
	assert_non_null(r);
	assert_string_equal(r->container_id, "ok");
	grpc__remove_container_request__free_unpacked(r, NULL);
	expect_bad(&grpc__remove_container_request__descriptor, &w, "container_id", "NUL");
}

/* Bytes fields and unknown fields may hold anything. */
static void test_bytes_and_unknown_fields(void **state)
{
	Grpc__CopyFileRequest cf = GRPC__COPY_FILE_REQUEST__INIT;
	uint8_t data[] = {0xff, 0x00, 0xc0, 0x80, 0xed, 0xa0, 0x80};
	cf.path = "/run/kata-containers/shared/containers/x";
	cf.data.data = data;
	cf.data.len = sizeof(data);
	struct wire w = pack(&cf.base);
	expect_good(&grpc__copy_file_request__descriptor, &w);
	free(w.buf);
	/* Field 999, length-delimited, with bad bytes; then field 1 fine. */
	static const uint8_t unknown[] = {0xba, 0x3e, 0x02, 0xff, 0x00, 0x0a, 0x01, 'c'};
	struct wire u = {(uint8_t *)unknown, sizeof(unknown)};
	expect_good(&grpc__remove_container_request__descriptor, &u);
}

static void test_does_not_parse(void **state)
{
	static const uint8_t cut[] = {0x0a, 0x05, 'a', 'b'};
	static const uint8_t group[] = {0x0b, 0x0c};
	static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	char why[256];
	const ProtobufCMessageDescriptor *d = &grpc__remove_container_request__descriptor;
	assert_int_equal(pd_wire_strings_check(d, cut, sizeof(cut), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not parse"));
	assert_int_equal(pd_wire_strings_check(d, group, sizeof(group), why, sizeof(why)), -1);
	assert_int_equal(
	    pd_wire_strings_check(d, long_varint, sizeof(long_varint), why, sizeof(why)), -1);
	assert_int_equal(pd_wire_strings_check(d, NULL, 0, why, sizeof(why)), 0);
}

/* A reply with bad strings, nested and repeated: repaired in place, then any decoder
 * (protobuf-c here, Go's in the field) reads it, and nothing else changed. */
static void test_reply_repair(void **state)
{
	Grpc__Interfaces ifs = GRPC__INTERFACES__INIT;
	Types__Interface i[2], *ip[2] = {&i[0], &i[1]};
	for (int k = 0; k < 2; k++)
		types__interface__init(&i[k]);
	i[0].name = "eth@@";
	i[0].device = "eth0";
	i[0].mtu = 1500;
	i[1].name = "caf\xc3\xa9";
	i[1].hwaddr = "%%%%";
	ifs.interfaces = ip;
	ifs.n_interfaces = 2;
	struct wire w = pack(&ifs.base);
	const ProtobufCMessageDescriptor *d = &grpc__interfaces__descriptor;
	assert_int_equal(pd_wire_strings_repair(d, w.buf, w.len), 0);
	PATCH(&w, "eth@@", "eth\xff\xfe");
	PATCH(&w, "%%%%", "\xe2\x82\x28z");
	uint8_t *copy = malloc(w.len);
	memcpy(copy, w.buf, w.len);
	assert_int_equal(pd_wire_strings_repair(d, w.buf, w.len), 4);
	expect_good(d, &w);
	/* Only those bytes changed. */
	size_t diff = 0;
	for (size_t k = 0; k < w.len; k++)
		diff += copy[k] != w.buf[k];
	assert_int_equal(diff, 4);
	Grpc__Interfaces *r = grpc__interfaces__unpack(NULL, w.len, w.buf);
	assert_non_null(r);
	assert_int_equal(r->n_interfaces, 2);
	assert_string_equal(r->interfaces[0]->name, "eth??");
	assert_int_equal(r->interfaces[0]->mtu, 1500);
	assert_string_equal(r->interfaces[1]->name, "caf\xc3\xa9");
	assert_string_equal(r->interfaces[1]->hwaddr, "?\?(z");
	grpc__interfaces__free_unpacked(r, NULL);
	free(copy);
	free(w.buf);
}

/* ---- Kata's own requests pass unchanged --------------------------------------------------- */

static struct wire read_file(const char *path)
{
	struct wire w = {malloc(MAX_VECTOR_BYTES), 0};
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_non_null(w.buf);
	w.len = fread(w.buf, 1, MAX_VECTOR_BYTES, f);
	assert_true(w.len < MAX_VECTOR_BYTES);
	fclose(f);
	return w;
}

static void test_kata_vectors(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX * 2], method[128];
	if (pd_test_wire_dir(dir, sizeof(dir)) < 0)
		fail_msg("no wire vectors");
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	int payloads = 0, envelopes = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		const char *suffix = strstr(e->d_name, ".req");
		if (!suffix || strncmp(e->d_name, "grpc.AgentService.", 18) != 0)
			continue;
		snprintf(method, sizeof(method), "%.*s", (int)(suffix - e->d_name - 18),
			 e->d_name + 18);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct wire w = read_file(path);
		const ProtobufCMessageDescriptor *d;
		if (strcmp(suffix, ".req-envelope.pb") == 0) {
			d = &ttrpc__request__descriptor;
			envelopes++;
		} else {
			const ProtobufCMethodDescriptor *m =
			    protobuf_c_service_descriptor_get_method_by_name(
				&grpc__agent_service__descriptor, method);
			if (!m)
				fail_msg("%s: no method %s", e->d_name, method);
			d = m->input;
			payloads++;
		}
		char why[256];
		if (pd_wire_strings_check(d, w.buf, w.len, why, sizeof(why)) != 0)
			fail_msg("%s refused: %s", e->d_name, why);
		uint8_t *copy = malloc(w.len ? w.len : 1);
		memcpy(copy, w.buf, w.len);
		assert_int_equal(pd_wire_strings_repair(d, w.buf, w.len), 0);
		assert_memory_equal(copy, w.buf, w.len);
		free(copy);
		free(w.buf);
	}
	closedir(dp);
	assert_true(payloads >= 10);
	assert_int_equal(payloads, envelopes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_utf8_repair),
	    cmocka_unit_test(test_top_level_nul_and_utf8),
	    cmocka_unit_test(test_nested_and_repeated),
	    cmocka_unit_test(test_spec_and_map),
	    cmocka_unit_test(test_every_occurrence),
	    cmocka_unit_test(test_bytes_and_unknown_fields),
	    cmocka_unit_test(test_does_not_parse),
	    cmocka_unit_test(test_reply_repair),
	    cmocka_unit_test(test_kata_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
