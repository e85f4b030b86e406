/* Wire compatibility of our .proto files with Kata's agent API.
 *
 * The vectors in tests/data/kata-wire were encoded by a Go program built from Kata's own
 * agent.proto/oci.proto: decoding them with our generated C proves the field numbers and types
 * match. Every vector is checked three ways: the ttRPC envelope (service, method, payload),
 * specific field values of the request, and a re-encode that must give Kata's exact bytes.
 * Any field our protos do not know would show up as an "unknown field" and fails the test.
 *
 * The test data directory: $PD_TESTDATA, else the repository's tests/data/kata-wire
 * (helpers/testdata.h). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "helpers/testdata.h"
#include "health.pb-c.h"
#include "ttrpc.pb-c.h"

#define ENVELOPE_SUFFIX	 ".req-envelope.pb"
#define AGENT_SERVICE	 "grpc.AgentService"
#define MAX_VECTOR_BYTES (1 << 20)
#define NSEC_PER_SEC	 1000000000LL
#define ARRAY_LEN(a)	 (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------------------------- */
/* Finding and reading the vectors                                                          */
/* ---------------------------------------------------------------------------------------- */

static char testdata_dir[PATH_MAX];

static int find_testdata(void **state)
{
	(void)state;
	return pd_test_wire_dir(testdata_dir, sizeof(testdata_dir));
}

struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob read_file(const char *path)
{
	struct blob b = {0};
	FILE *f = fopen(path, "rb");

	if (!f)
		fail_msg("cannot open %s", path);
	b.data = malloc(MAX_VECTOR_BYTES);
	assert_non_null(b.data);
	b.len = fread(b.data, 1, MAX_VECTOR_BYTES, f);
	assert_int_equal(ferror(f), 0);
	assert_true(b.len < MAX_VECTOR_BYTES);
	fclose(f);
	return b;
}

static struct blob read_vector(const char *method, const char *suffix)
{
	char path[PATH_MAX];
	int n =
	    snprintf(path, sizeof(path), "%s/%s.%s%s", testdata_dir, AGENT_SERVICE, method, suffix);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	return read_file(path);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The methods that have a vector, sorted; returns their count. Caller frees each name. */
static size_t list_vector_methods(char **methods, size_t max)
{
	const char *prefix = AGENT_SERVICE ".";
	size_t n = 0;
	DIR *d = opendir(testdata_dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), plen = strlen(prefix),
		       slen = strlen(ENVELOPE_SUFFIX);

		if (len <= plen + slen || strcmp(de->d_name + len - slen, ENVELOPE_SUFFIX) != 0)
			continue;
		/* Every envelope in the directory must be an AgentService request. */
		assert_memory_equal(de->d_name, prefix, plen);
		assert_true(n < max);
		methods[n] = strndup(de->d_name + plen, len - plen - slen);
		assert_non_null(methods[n]);
		n++;
	}
	closedir(d);
	qsort(methods, n, sizeof(methods[0]), cmp_names);
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Generic walks over protobuf-c messages                                                   */
/* ---------------------------------------------------------------------------------------- */

static size_t field_elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	fail_msg("unknown protobuf-c type %d", (int)f->type);
	return 0;
}

static int msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

static int value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *sa = *(char *const *)a, *sb = *(char *const *)b;
		return (!sa || !sb) ? sa == sb : strcmp(sa, sb) == 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *ba = a, *bb = b;
		return ba->len == bb->len && (ba->len == 0 || !memcmp(ba->data, bb->data, ba->len));
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_equal(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b);
	default:
		return memcmp(a, b, field_elem_size(f)) == 0;
	}
}

static int field_equal(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *a,
		       const ProtobufCMessage *b)
{
	const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
	const char *qa = (const char *)a + f->quantifier_offset;
	const char *qb = (const char *)b + f->quantifier_offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)qa, size = field_elem_size(f);
		const char *ea = *(char *const *)pa, *eb = *(char *const *)pb;

		if (n != *(const size_t *)qb)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!value_equal(f, ea + i * size, eb + i * size))
				return 0;
		return 1;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t ca = *(const uint32_t *)qa, cb = *(const uint32_t *)qb;
		return ca == cb && (ca != f->id || value_equal(f, pa, pb));
	}
	return value_equal(f, pa, pb);
}

/* Deep equality of two decoded messages of the same type (NULL equals only NULL). */
static int msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	if (!a || !b)
		return a == b;
	if (a->descriptor != b->descriptor)
		return 0;
	for (unsigned i = 0; i < a->descriptor->n_fields; i++)
		if (!field_equal(&a->descriptor->fields[i], a, b))
			return 0;
	return 1;
}

/* Fields on the wire that our descriptors do not know, anywhere in the tree. */
static size_t count_unknown(const ProtobufCMessage *m)
{
	size_t n;

	if (!m)
		return 0;
	n = m->n_unknown_fields;
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
		const char *p = (const char *)m + f->offset;
		size_t count = 1;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue; /* no oneof of ours holds a message */
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(const size_t *)((const char *)m + f->quantifier_offset);
			p = *(char *const *)p;
		}
		for (size_t k = 0; k < count; k++)
			n += count_unknown(((ProtobufCMessage *const *)p)[k]);
	}
	return n;
}

/* Re-encode msg: the bytes must be Kata's bytes, and decode again to an equal message. */
static void assert_round_trip(const ProtobufCMessage *msg, const uint8_t *orig, size_t orig_len)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *again;

	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(msg, buf), len);
	assert_int_equal(len, orig_len);
	if (len)
		assert_memory_equal(buf, orig, len);
	again = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	assert_non_null(again);
	assert_true(msg_equal(msg, again));
	protobuf_c_message_free_unpacked(again, NULL);
	free(buf);
}

/* Pack msg and compare with hand-computed bytes. */
static void assert_packs_to(const ProtobufCMessage *msg, const uint8_t *want, size_t want_len)
{
	uint8_t buf[256];

	assert_true(protobuf_c_message_get_packed_size(msg) <= sizeof(buf));
	assert_int_equal(protobuf_c_message_pack(msg, buf), want_len);
	assert_memory_equal(buf, want, want_len);
}

static void assert_strv(char **got, size_t n_got, const char *const *want, size_t n_want)
{
	assert_int_equal(n_got, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_string_equal(got[i], want[i]);
}

#define ASSERT_STRV(got, n_got, want) assert_strv((got), (n_got), (want), ARRAY_LEN(want))

/* ---------------------------------------------------------------------------------------- */
/* What Kata's client put in each request (values read from the vectors once, by hand)      */
/* ---------------------------------------------------------------------------------------- */

#define CID "wirecheck"

/* runc's default capability set, identical in the bounding, effective and permitted sets. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};
static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

/* Shared by the container's init process and the exec'd one. */
static void check_default_process(const Grpc__Process *p)
{
	assert_non_null(p);
	assert_false(p->terminal);
	assert_null(p->consolesize);
	/* root: present on the wire as an empty User message */
	assert_non_null(p->user);
	assert_int_equal(p->user->uid, 0);
	assert_int_equal(p->user->gid, 0);
	assert_int_equal(p->user->n_additionalgids, 0);
	assert_string_equal(p->user->username, "");
	ASSERT_STRV(p->env, p->n_env, default_env);
	assert_string_equal(p->cwd, "/");
	assert_non_null(p->capabilities);
	ASSERT_STRV(p->capabilities->bounding, p->capabilities->n_bounding, default_caps);
	ASSERT_STRV(p->capabilities->effective, p->capabilities->n_effective, default_caps);
	ASSERT_STRV(p->capabilities->permitted, p->capabilities->n_permitted, default_caps);
	assert_int_equal(p->capabilities->n_inheritable, 0);
	assert_int_equal(p->capabilities->n_ambient, 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_string_equal(p->rlimits[0]->type, "RLIMIT_NOFILE");
	assert_int_equal(p->rlimits[0]->hard, 1024);
	assert_int_equal(p->rlimits[0]->soft, 1024);
	assert_true(p->nonewprivileges);
	assert_string_equal(p->apparmorprofile, "");
	assert_int_equal(p->oomscoreadj, 0);
}

struct want_mount {
	const char *dest, *source, *type;
	const char *opts[8];
	size_t n_opts;
};

static const struct want_mount default_mounts[] = {
    {"/proc", "proc", "proc", {0}, 0},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, 4},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
     6},
    {"/dev/shm", "shm", "tmpfs", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}, 5},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}, 3},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}, 4},
};

static void check_mounts(const Grpc__Spec *spec)
{
	assert_int_equal(spec->n_mounts, ARRAY_LEN(default_mounts));
	for (size_t i = 0; i < ARRAY_LEN(default_mounts); i++) {
		const struct want_mount *w = &default_mounts[i];
		const Grpc__Mount *m = spec->mounts[i];

		assert_string_equal(m->destination, w->dest);
		assert_string_equal(m->source, w->source);
		assert_string_equal(m->type, w->type);
		assert_strv(m->options, m->n_options, w->opts, w->n_opts);
	}
}

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
static const char *const namespace_types[] = {"pid", "ipc", "uts", "mount"};

static void check_linux(const Grpc__Linux *l)
{
	assert_non_null(l);
	assert_int_equal(l->n_namespaces, ARRAY_LEN(namespace_types));
	for (size_t i = 0; i < ARRAY_LEN(namespace_types); i++) {
		assert_string_equal(l->namespaces[i]->type, namespace_types[i]);
		assert_string_equal(l->namespaces[i]->path, "");
	}
	ASSERT_STRV(l->maskedpaths, l->n_maskedpaths, masked_paths);
	ASSERT_STRV(l->readonlypaths, l->n_readonlypaths, readonly_paths);
	/* The runtime strips these before sending (no cgroup limits, no seccomp profile). */
	assert_null(l->resources);
	assert_null(l->seccomp);
	assert_string_equal(l->cgroupspath, "");
	assert_int_equal(l->n_uidmappings, 0);
	assert_int_equal(l->n_devices, 0);
	assert_int_equal(l->n_sysctl, 0);
}

static const char *const init_args[] = {
    "/bin/sh",
    "-c",
    "echo kata-conform init ok; id; hostname; grep ^Cap /proc/self/status",
};

static void check_create_container(const ProtobufCMessage *msg)
{
	const Grpc__CreateContainerRequest *r = (const Grpc__CreateContainerRequest *)msg;
	const Grpc__Spec *spec = r->oci;

	assert_string_equal(r->container_id, CID);
	assert_string_equal(r->exec_id, CID); /* the runtime reuses the container id */
	assert_null(r->string_user);
	assert_int_equal(r->n_devices, 0);
	assert_int_equal(r->n_storages, 0);
	assert_false(r->sandbox_pidns);
	assert_int_equal(r->stdin_port, 0);

	assert_non_null(spec);
	assert_string_equal(spec->version, "1.1.0");
	assert_string_equal(spec->hostname, "kata-conform");
	assert_non_null(spec->root);
	assert_string_equal(spec->root->path, "/rootfs");
	assert_false(spec->root->readonly);
	assert_null(spec->hooks);
	check_default_process(spec->process);
	ASSERT_STRV(spec->process->args, spec->process->n_args, init_args);
	check_mounts(spec);
	assert_int_equal(spec->n_annotations, 1);
	assert_string_equal(spec->annotations[0]->key, "io.katacontainers.conformance");
	assert_string_equal(spec->annotations[0]->value, "kata-conform");
	check_linux(spec->linux_);
}

static void check_create_sandbox(const ProtobufCMessage *msg)
{
	const Grpc__CreateSandboxRequest *r = (const Grpc__CreateSandboxRequest *)msg;

	assert_string_equal(r->hostname, "kata-conform");
	assert_string_equal(r->sandbox_id, CID);
	assert_int_equal(r->n_dns, 0);
	assert_int_equal(r->n_storages, 0);
	assert_false(r->sandbox_pidns);
	assert_string_equal(r->guest_hook_path, "");
	assert_int_equal(r->n_kernel_modules, 0);
}

static void check_destroy_sandbox(const ProtobufCMessage *msg)
{
	/* No fields at all: only the type matters, and it decoded from zero bytes. */
	assert_ptr_equal(msg->descriptor, &grpc__destroy_sandbox_request__descriptor);
}

static const char *const exec_args[] = {"echo", "hi"};

static void check_exec_process(const ProtobufCMessage *msg)
{
	const Grpc__ExecProcessRequest *r = (const Grpc__ExecProcessRequest *)msg;

	assert_string_equal(r->container_id, CID);
	assert_string_equal(r->exec_id, "exec-1aa70a2b");
	assert_null(r->string_user);
	check_default_process(r->process);
	ASSERT_STRV(r->process->args, r->process->n_args, exec_args);
}

static void check_read_stream(const ProtobufCMessage *msg)
{
	const Grpc__ReadStreamRequest *r = (const Grpc__ReadStreamRequest *)msg;

	assert_string_equal(r->container_id, CID);
	assert_string_equal(r->exec_id, CID);
	assert_int_equal(r->len, 32768);
}

static void check_remove_container(const ProtobufCMessage *msg)
{
	const Grpc__RemoveContainerRequest *r = (const Grpc__RemoveContainerRequest *)msg;

	assert_string_equal(r->container_id, CID);
	assert_int_equal(r->timeout, 10);
}

static void check_signal_process(const ProtobufCMessage *msg)
{
	const Grpc__SignalProcessRequest *r = (const Grpc__SignalProcessRequest *)msg;

	assert_string_equal(r->container_id, CID);
	assert_string_equal(r->exec_id, "sleep-9c371156");
	assert_int_equal(r->signal, 9); /* SIGKILL */
}

static void check_start_container(const ProtobufCMessage *msg)
{
	assert_string_equal(((const Grpc__StartContainerRequest *)msg)->container_id, CID);
}

static void check_wait_process(const ProtobufCMessage *msg)
{
	const Grpc__WaitProcessRequest *r = (const Grpc__WaitProcessRequest *)msg;

	assert_string_equal(r->container_id, CID);
	assert_string_equal(r->exec_id, CID);
}

struct vector_check {
	const char *method;
	const ProtobufCMessageDescriptor *type;
	void (*check)(const ProtobufCMessage *msg);
};

/* One row per vector file; a vector without a row fails, so new vectors get real checks. */
static const struct vector_check vector_checks[] = {
    {"CreateContainer", &grpc__create_container_request__descriptor, check_create_container},
    {"CreateSandbox", &grpc__create_sandbox_request__descriptor, check_create_sandbox},
    {"DestroySandbox", &grpc__destroy_sandbox_request__descriptor, check_destroy_sandbox},
    {"ExecProcess", &grpc__exec_process_request__descriptor, check_exec_process},
    {"ReadStderr", &grpc__read_stream_request__descriptor, check_read_stream},
    {"ReadStdout", &grpc__read_stream_request__descriptor, check_read_stream},
    {"RemoveContainer", &grpc__remove_container_request__descriptor, check_remove_container},
    {"SignalProcess", &grpc__signal_process_request__descriptor, check_signal_process},
    {"StartContainer", &grpc__start_container_request__descriptor, check_start_container},
    {"WaitProcess", &grpc__wait_process_request__descriptor, check_wait_process},
};

static const struct vector_check *find_check(const char *method)
{
	for (size_t i = 0; i < ARRAY_LEN(vector_checks); i++)
		if (strcmp(vector_checks[i].method, method) == 0)
			return &vector_checks[i];
	fail_msg("vector for %s has no field checks in test_wire.c", method);
	return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests on Kata's vectors                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* The directory holds exactly the lifecycle we have checks for, each with both files. */
static void test_vector_set_is_complete(void **state)
{
	char *methods[64];
	size_t n = list_vector_methods(methods, ARRAY_LEN(methods));

	(void)state;
	assert_int_equal(n, ARRAY_LEN(vector_checks));
	for (size_t i = 0; i < n; i++) {
		struct blob req;

		assert_string_equal(methods[i], vector_checks[i].method);
		req = read_vector(methods[i], ".req.pb"); /* fails if missing */
		free(req.data);
		free(methods[i]);
	}
}

static Ttrpc__Request *decode_envelope(const char *method, const struct blob *env,
				       const struct blob *req)
{
	Ttrpc__Request *r = ttrpc__request__unpack(NULL, env->len, env->data);

	assert_non_null(r);
	assert_int_equal(count_unknown(&r->base), 0);
	assert_string_equal(r->service, AGENT_SERVICE);
	assert_string_equal(r->method, method);
	assert_int_equal(r->payload.len, req->len);
	if (req->len)
		assert_memory_equal(r->payload.data, req->data, req->len);
	/* The client sent each call with a deadline of at most a minute, and no metadata. */
	assert_true(r->timeout_nano > 0 && r->timeout_nano <= 60 * NSEC_PER_SEC);
	assert_int_equal(r->n_metadata, 0);
	assert_round_trip(&r->base, env->data, env->len);
	return r;
}

static void check_one_vector(const struct vector_check *vc)
{
	struct blob env = read_vector(vc->method, ENVELOPE_SUFFIX);
	struct blob req = read_vector(vc->method, ".req.pb");
	Ttrpc__Request *r = decode_envelope(vc->method, &env, &req);
	/* Decode with the type our service definition declares for this method. */
	const ProtobufCMethodDescriptor *m = protobuf_c_service_descriptor_get_method_by_name(
	    &grpc__agent_service__descriptor, r->method);
	ProtobufCMessage *msg;

	assert_non_null(m);
	assert_ptr_equal(m->input, vc->type);
	msg = protobuf_c_message_unpack(m->input, NULL, r->payload.len, r->payload.data);
	assert_non_null(msg);
	assert_int_equal(count_unknown(msg), 0);
	vc->check(msg);
	assert_round_trip(msg, req.data, req.len);

	protobuf_c_message_free_unpacked(msg, NULL);
	ttrpc__request__free_unpacked(r, NULL);
	free(env.data);
	free(req.data);
}

static void test_every_vector_decodes(void **state)
{
	char *methods[64];
	size_t n = list_vector_methods(methods, ARRAY_LEN(methods));

	(void)state;
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		check_one_vector(find_check(methods[i]));
		free(methods[i]);
	}
}

/* A proto with a wrong field number would not fail to decode: the field would land in
 * unknown_fields and even re-encode identically. Prove that count_unknown() sees it. */
static void test_unknown_fields_are_detected(void **state)
{
	/* StartContainerRequest{container_id = "a"} plus a field 15 (varint 1). */
	static const uint8_t bytes[] = {0x0a, 0x01, 'a', 0x78, 0x01};
	ProtobufCMessage *msg = protobuf_c_message_unpack(
	    &grpc__start_container_request__descriptor, NULL, sizeof(bytes), bytes);

	(void)state;
	assert_non_null(msg);
	assert_int_equal(count_unknown(msg), 1);
	protobuf_c_message_free_unpacked(msg, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Service definitions                                                                      */
/* ---------------------------------------------------------------------------------------- */

struct want_rpc {
	const char *name, *input, *output;
};

/* Kata's AgentService, in declaration order (spec §2.3). */
static const struct want_rpc agent_rpcs[] = {
    {"CreateContainer", "grpc.CreateContainerRequest", "google.protobuf.Empty"},
    {"StartContainer", "grpc.StartContainerRequest", "google.protobuf.Empty"},
    {"RemoveContainer", "grpc.RemoveContainerRequest", "google.protobuf.Empty"},
    {"ExecProcess", "grpc.ExecProcessRequest", "google.protobuf.Empty"},
    {"SignalProcess", "grpc.SignalProcessRequest", "google.protobuf.Empty"},
    {"WaitProcess", "grpc.WaitProcessRequest", "grpc.WaitProcessResponse"},
    {"UpdateContainer", "grpc.UpdateContainerRequest", "google.protobuf.Empty"},
    {"UpdateEphemeralMounts", "grpc.UpdateEphemeralMountsRequest", "google.protobuf.Empty"},
    {"StatsContainer", "grpc.StatsContainerRequest", "grpc.StatsContainerResponse"},
    {"PauseContainer", "grpc.PauseContainerRequest", "google.protobuf.Empty"},
    {"ResumeContainer", "grpc.ResumeContainerRequest", "google.protobuf.Empty"},
    {"RemoveStaleVirtiofsShareMounts", "grpc.RemoveStaleVirtiofsShareMountsRequest",
     "google.protobuf.Empty"},
    {"GetDiagnosticData", "grpc.GetDiagnosticDataRequest", "grpc.GetDiagnosticDataResponse"},
    {"WriteStdin", "grpc.WriteStreamRequest", "grpc.WriteStreamResponse"},
    {"ReadStdout", "grpc.ReadStreamRequest", "grpc.ReadStreamResponse"},
    {"ReadStderr", "grpc.ReadStreamRequest", "grpc.ReadStreamResponse"},
    {"CloseStdin", "grpc.CloseStdinRequest", "google.protobuf.Empty"},
    {"TtyWinResize", "grpc.TtyWinResizeRequest", "google.protobuf.Empty"},
    {"UpdateInterface", "grpc.UpdateInterfaceRequest", "types.Interface"},
    {"UpdateRoutes", "grpc.UpdateRoutesRequest", "grpc.Routes"},
    {"ListInterfaces", "grpc.ListInterfacesRequest", "grpc.Interfaces"},
    {"ListRoutes", "grpc.ListRoutesRequest", "grpc.Routes"},
    {"AddARPNeighbors", "grpc.AddARPNeighborsRequest", "google.protobuf.Empty"},
    {"GetIPTables", "grpc.GetIPTablesRequest", "grpc.GetIPTablesResponse"},
    {"SetIPTables", "grpc.SetIPTablesRequest", "grpc.SetIPTablesResponse"},
    {"GetMetrics", "grpc.GetMetricsRequest", "grpc.Metrics"},
    {"MemAgentMemcgSet", "grpc.MemAgentMemcgConfig", "google.protobuf.Empty"},
    {"MemAgentCompactSet", "grpc.MemAgentCompactConfig", "google.protobuf.Empty"},
    {"CreateSandbox", "grpc.CreateSandboxRequest", "google.protobuf.Empty"},
    {"DestroySandbox", "grpc.DestroySandboxRequest", "google.protobuf.Empty"},
    {"OnlineCPUMem", "grpc.OnlineCPUMemRequest", "google.protobuf.Empty"},
    {"ReseedRandomDev", "grpc.ReseedRandomDevRequest", "google.protobuf.Empty"},
    {"GetGuestDetails", "grpc.GuestDetailsRequest", "grpc.GuestDetailsResponse"},
    {"MemHotplugByProbe", "grpc.MemHotplugByProbeRequest", "google.protobuf.Empty"},
    {"SetGuestDateTime", "grpc.SetGuestDateTimeRequest", "google.protobuf.Empty"},
    {"CopyFile", "grpc.CopyFileRequest", "google.protobuf.Empty"},
    {"GetOOMEvent", "grpc.GetOOMEventRequest", "grpc.OOMEvent"},
    {"AddSwap", "grpc.AddSwapRequest", "google.protobuf.Empty"},
    {"AddSwapPath", "grpc.AddSwapPathRequest", "google.protobuf.Empty"},
    {"GetVolumeStats", "grpc.VolumeStatsRequest", "grpc.VolumeStatsResponse"},
    {"ResizeVolume", "grpc.ResizeVolumeRequest", "google.protobuf.Empty"},
    {"SetPolicy", "grpc.SetPolicyRequest", "google.protobuf.Empty"},
};

static const struct want_rpc health_rpcs[] = {
    {"Check", "grpc.CheckRequest", "grpc.HealthCheckResponse"},
    {"Version", "grpc.CheckRequest", "grpc.VersionCheckResponse"},
};

static void assert_service(const ProtobufCServiceDescriptor *svc, const char *full_name,
			   const struct want_rpc *want, size_t n_want)
{
	/* The ttRPC service string is "<proto package>.<Service>": the full name. */
	assert_string_equal(svc->name, full_name);
	assert_int_equal(svc->n_methods, n_want);
	for (size_t i = 0; i < n_want; i++) {
		const ProtobufCMethodDescriptor *m = &svc->methods[i];

		assert_string_equal(m->name, want[i].name);
		assert_string_equal(m->input->name, want[i].input);
		assert_string_equal(m->output->name, want[i].output);
		assert_ptr_equal(protobuf_c_service_descriptor_get_method_by_name(svc, m->name), m);
	}
}

static void test_agent_service_has_kata_rpcs(void **state)
{
	(void)state;
	assert_int_equal(ARRAY_LEN(agent_rpcs), 42);
	assert_service(&grpc__agent_service__descriptor, "grpc.AgentService", agent_rpcs,
		       ARRAY_LEN(agent_rpcs));
	/* Lookup is case-sensitive, like Kata's servers. */
	assert_null(protobuf_c_service_descriptor_get_method_by_name(
	    &grpc__agent_service__descriptor, "createcontainer"));
}

static void test_health_service_has_kata_rpcs(void **state)
{
	(void)state;
	assert_service(&grpc__health__descriptor, "grpc.Health", health_rpcs,
		       ARRAY_LEN(health_rpcs));
}

/* ---------------------------------------------------------------------------------------- */
/* The hand-computed Health.Check exchange (spec §1.8)                                      */
/* ---------------------------------------------------------------------------------------- */

static const uint8_t check_request_frame[] = {
    0x00, 0x00, 0x00, 0x14, /* data length 20, big-endian */
    0x00, 0x00, 0x00, 0x01, /* stream 1 */
    0x01,		    /* type: request */
    0x00,		    /* flags: unary */
    0x0a, 0x0b, 'g',  'r',  'p',  'c', '.', 'H', 'e', 'a',
    'l',  't',	'h',  0x12, 0x05, 'C', 'h', 'e', 'c', 'k',
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_health_check_request_bytes(void **state)
{
	const uint8_t *data = check_request_frame + 10;
	size_t len = sizeof(check_request_frame) - 10;
	Ttrpc__Request *r;
	Grpc__CheckRequest *check;
	Ttrpc__Request built = TTRPC__REQUEST__INIT;

	(void)state;
	assert_int_equal(be32(check_request_frame), len);
	assert_int_equal(be32(check_request_frame + 4), 1);
	r = ttrpc__request__unpack(NULL, len, data);
	assert_non_null(r);
	assert_string_equal(r->service, "grpc.Health");
	assert_string_equal(r->method, "Check");
	assert_int_equal(r->payload.len, 0);
	assert_int_equal(r->timeout_nano, 0);
	assert_int_equal(r->n_metadata, 0);
	/* An absent payload is an empty CheckRequest. */
	check = grpc__check_request__unpack(NULL, r->payload.len, r->payload.data);
	assert_non_null(check);
	assert_string_equal(check->service, "");
	grpc__check_request__free_unpacked(check, NULL);
	ttrpc__request__free_unpacked(r, NULL);

	/* And we encode the same request to the same bytes. */
	built.service = "grpc.Health";
	built.method = "Check";
	assert_packs_to(&built.base, data, len);
}

static void test_health_check_reply_bytes(void **state)
{
	static const uint8_t serving[] = {0x0a, 0x00, 0x12, 0x02, 0x08, 0x01};
	static const uint8_t not_found_x[] = {0x0a, 0x05, 0x08, 0x05, 0x12, 0x01, 'x'};
	Grpc__HealthCheckResponse hc = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	Google__Rpc__Status ok = GOOGLE__RPC__STATUS__INIT, nf = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	uint8_t payload[8];
	Ttrpc__Response *got;
	Grpc__HealthCheckResponse *got_hc;

	(void)state;
	assert_int_equal(GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__UNKNOWN, 0);
	assert_int_equal(GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING, 2);
	hc.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	resp.status = &ok;
	resp.payload.len = grpc__health_check_response__pack(&hc, payload);
	resp.payload.data = payload;
	assert_packs_to(&resp.base, serving, sizeof(serving));

	got = ttrpc__response__unpack(NULL, sizeof(serving), serving);
	assert_non_null(got);
	assert_non_null(got->status);
	assert_int_equal(got->status->code, 0);
	got_hc = grpc__health_check_response__unpack(NULL, got->payload.len, got->payload.data);
	assert_non_null(got_hc);
	assert_int_equal(got_hc->status, 1);
	grpc__health_check_response__free_unpacked(got_hc, NULL);
	ttrpc__response__free_unpacked(got, NULL);

	nf.code = 5;
	nf.message = "x";
	resp.status = &nf;
	resp.payload.len = 0;
	resp.payload.data = NULL;
	assert_packs_to(&resp.base, not_found_x, sizeof(not_found_x));
}

/* ---------------------------------------------------------------------------------------- */
/* Field numbers that differ from the obvious (pinned by hand-computed bytes)              */
/* ---------------------------------------------------------------------------------------- */

/* Current numbering: LinuxSeccomp Flags = 3, Syscalls = 4; LinuxSyscall errnoret = 3,
 * Args = 4 (Kata 1.x used Syscalls = 3 and Args = 3). */
static void test_seccomp_current_numbering(void **state)
{
	static const uint8_t want[] = {
	    0x1a, 0x01, 'L',		 /* Flags (3) */
	    0x22, 0x0f,			 /* Syscalls (4), 15 bytes */
	    0x0a, 0x01, 'r',		 /*   Names (1) */
	    0x12, 0x01, 'A',		 /*   Action (2) */
	    0x18, 0x00,			 /*   errnoret (3) = 0, present */
	    0x22, 0x05,			 /*   Args (4), 5 bytes */
	    0x10, 0x02, 0x22, 0x01, 'O', /*     Value (2), Op (4) */
	};
	char *flags[] = {"L"}, *names[] = {"r"};
	Grpc__LinuxSeccompArg arg = GRPC__LINUX_SECCOMP_ARG__INIT;
	Grpc__LinuxSeccompArg *args[] = {&arg};
	Grpc__LinuxSyscall sc = GRPC__LINUX_SYSCALL__INIT;
	Grpc__LinuxSyscall *scs[] = {&sc};
	Grpc__LinuxSeccomp seccomp = GRPC__LINUX_SECCOMP__INIT;
	Grpc__LinuxSeccomp *got;

	(void)state;
	arg.value = 2;
	arg.op = "O";
	sc.n_names = 1;
	sc.names = names;
	sc.action = "A";
	sc.errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	sc.errnoret = 0;
	sc.n_args = 1;
	sc.args = args;
	seccomp.n_flags = 1;
	seccomp.flags = flags;
	seccomp.n_syscalls = 1;
	seccomp.syscalls = scs;
	assert_packs_to(&seccomp.base, want, sizeof(want));

	got = grpc__linux_seccomp__unpack(NULL, sizeof(want), want);
	assert_non_null(got);
	assert_int_equal(got->n_syscalls, 1);
	/* errno 0 given explicitly stays distinguishable from "not given" */
	assert_int_equal(got->syscalls[0]->errno_ret_case, GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET);
	assert_int_equal(got->syscalls[0]->errnoret, 0);
	assert_true(msg_equal(&seccomp.base, &got->base));
	grpc__linux_seccomp__free_unpacked(got, NULL);
}

/* Upstream's proto3 `optional` fields, written as one-member oneofs: same bytes, and a field
 * sent as zero is still "set". */
static void test_mem_agent_optional_presence(void **state)
{
	static const uint8_t want[] = {0x08, 0x00, 0x18, 0x00, 0x20, 0x07};
	Grpc__MemAgentMemcgConfig cfg = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	Grpc__MemAgentMemcgConfig *got;

	(void)state;
	cfg.opt_disabled_case = GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_DISABLED_DISABLED;
	cfg.disabled = 0;
	cfg.opt_swappiness_max_case =
	    GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_SWAPPINESS_MAX_SWAPPINESS_MAX;
	cfg.swappiness_max = 0;
	cfg.opt_period_secs_case = GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_PERIOD_SECS_PERIOD_SECS;
	cfg.period_secs = 7;
	assert_packs_to(&cfg.base, want, sizeof(want));

	got = grpc__mem_agent_memcg_config__unpack(NULL, sizeof(want), want);
	assert_non_null(got);
	assert_int_equal(got->opt_disabled_case,
			 GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_DISABLED_DISABLED);
	assert_int_equal(got->opt_swap_case, GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_SWAP__NOT_SET);
	assert_int_equal(got->opt_period_secs_case,
			 GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_PERIOD_SECS_PERIOD_SECS);
	assert_int_equal(got->period_secs, 7);
	grpc__mem_agent_memcg_config__free_unpacked(got, NULL);
}

static void test_odd_field_numbers(void **state)
{
	static const uint8_t reseed[] = {0x12, 0x01, 'x'};	    /* data is field 2 */
	static const uint8_t fs_group[] = {0x10, 0x05, 0x18, 0x01}; /* fields 2 and 3 */
	static const uint8_t ports[] = {0x48, 0x01, 0x58, 0x03};    /* stdin 9, stderr 11 */
	static const uint8_t shared[] = {0x40, 0x01};		    /* Storage.shared is 8 */
	Grpc__ReseedRandomDevRequest rs = GRPC__RESEED_RANDOM_DEV_REQUEST__INIT;
	Grpc__FSGroup fg = GRPC__FSGROUP__INIT;
	Grpc__CreateContainerRequest cc = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Storage st = GRPC__STORAGE__INIT;

	(void)state;
	rs.data.data = (uint8_t *)"x";
	rs.data.len = 1;
	assert_packs_to(&rs.base, reseed, sizeof(reseed));
	fg.group_id = 5;
	fg.group_change_policy = TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch;
	assert_packs_to(&fg.base, fs_group, sizeof(fs_group));
	cc.stdin_port = 1;
	cc.stderr_port = 3;
	assert_packs_to(&cc.base, ports, sizeof(ports));
	st.shared = 1;
	assert_packs_to(&st.base, shared, sizeof(shared));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_set_is_complete),
	    cmocka_unit_test(test_every_vector_decodes),
	    cmocka_unit_test(test_unknown_fields_are_detected),
	    cmocka_unit_test(test_agent_service_has_kata_rpcs),
	    cmocka_unit_test(test_health_service_has_kata_rpcs),
	    cmocka_unit_test(test_health_check_request_bytes),
	    cmocka_unit_test(test_health_check_reply_bytes),
	    cmocka_unit_test(test_seccomp_current_numbering),
	    cmocka_unit_test(test_mem_agent_optional_presence),
	    cmocka_unit_test(test_odd_field_numbers),
	};

	return cmocka_run_group_tests(tests, find_testdata, NULL);
}
