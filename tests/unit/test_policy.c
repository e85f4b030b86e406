/* The agent policy (agent/policy.c): documents that parse and documents that must not (each
 * refused one leaves the policy in force alone), rule order and defaults, the denial
 * message, ReadStdout/ReadStderr redaction, the boot file, and field rules matched on real
 * decoded requests: every message here is packed to wire bytes and unpacked again through
 * its descriptor, as the server does before the gate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/policy.h"
#include "health.pb-c.h"
#include "oci.pb-c.h"

#define AGENT  "grpc.AgentService"
#define HEALTH "grpc.Health"

static int reset(void **state)
{
	pd_policy_reset();
	return 0;
}

static void set_ok(const char *text)
{
	struct pd_error err;
	pd_error_clear(&err);
	if (pd_policy_set(text, strlen(text), &err) < 0)
		fail_msg("policy %s: %s", text, err.msg);
}

/* A document that must be refused; returns the message. */
static const char *set_bad(const char *text)
{
	static struct pd_error err;
	pd_error_clear(&err);
	if (pd_policy_set(text, strlen(text), &err) == 0)
		fail_msg("policy accepted: %s", text);
	if (err.code != PD_INVALID_ARGUMENT)
		fail_msg("policy %s: %s (%s), want INVALID_ARGUMENT", text, pd_code_name(err.code),
			 err.msg);
	return err.msg;
}

/* pd_policy_check on msg (NULL: an empty request of the method's type, decoded). */
static int check(const char *service, const char *method, const ProtobufCMessage *msg,
		 struct pd_error *err)
{
	pd_error_clear(err);
	return pd_policy_check(service, method, msg, err);
}

static void allowed(const char *service, const char *method, const ProtobufCMessage *msg)
{
	struct pd_error err;
	int rc = check(service, method, msg, &err);
	if (rc != 0)
		fail_msg("%s denied (%d): %s", method, rc, err.msg);
}

/* Denied; returns the message. */
static const char *denied(const char *service, const char *method, const ProtobufCMessage *msg)
{
	static struct pd_error err;
	int rc = check(service, method, msg, &err);
	if (rc != -1)
		fail_msg("%s: got %d, want denied", method, rc);
	assert_int_equal(err.code, PD_PERMISSION_DENIED);
	return err.msg;
}

/* msg through the wire and back, as the server sees it; free with free_msg. */
static ProtobufCMessage *decoded(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	protobuf_c_message_pack(msg, buf);
	ProtobufCMessage *m = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	assert_non_null(m);
	return m;
}

static void free_msg(ProtobufCMessage *m)
{
	protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- documents ------------------------------------------------------------------------------ */

static void test_no_policy_allows_everything(void **state)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	allowed(HEALTH, "Check", &req.base);
	allowed(AGENT, "ExecProcess", NULL);
	assert_int_equal(pd_policy_rule_count(), 0);
	set_ok("{}");
	allowed(AGENT, "CreateContainer", NULL);
	set_ok("{\"default\": \"allow\", \"rules\": []}");
	allowed(AGENT, "CreateContainer", NULL);
}

static void test_rpc_rules_in_order(void **state)
{
	set_ok("{\"default\":\"deny\",\"rules\":["
	       "{\"rpc\":\"Version\",\"action\":\"deny\",\"name\":\"no-version\"},"
	       "{\"rpc\":\"Check\",\"action\":\"allow\"},"
	       "{\"rpc\":\"ExecProcess\",\"action\":\"allow\"},"
	       "{\"rpc\":\"*\",\"action\":\"deny\"},"
	       "{\"rpc\":\"SetPolicy\",\"action\":\"allow\"}]}");
	assert_int_equal(pd_policy_rule_count(), 5);
	const char *msg = denied(HEALTH, "Version", NULL);
	assert_string_equal(msg, "Version is blocked by policy: rule 1 (no-version: deny Version)");
	allowed(HEALTH, "Check", NULL);
	allowed(AGENT, "ExecProcess", NULL);
	/* "*" comes before the SetPolicy allow: the first match decides. */
	msg = denied(AGENT, "SetPolicy", NULL);
	assert_string_equal(msg, "SetPolicy is blocked by policy: rule 4 (deny *)");
	set_ok("{\"default\":\"deny\",\"rules\":[{\"rpc\":\"Check\",\"action\":\"allow\"}]}");
	msg = denied(AGENT, "CreateSandbox", NULL);
	assert_string_equal(msg, "CreateSandbox is blocked by policy: default deny");
	allowed(HEALTH, "Check", NULL);
}

static void test_read_stream_redacted(void **state)
{
	set_ok("{\"rules\":[{\"rpc\":\"ReadStdout\",\"action\":\"deny\"},"
	       "{\"rpc\":\"ReadStderr\",\"action\":\"deny\"},"
	       "{\"rpc\":\"WriteStdin\",\"action\":\"deny\"}]}");
	struct pd_error err;
	assert_int_equal(check(AGENT, "ReadStdout", NULL, &err), PD_POLICY_REDACT);
	assert_int_equal(check(AGENT, "ReadStderr", NULL, &err), PD_POLICY_REDACT);
	denied(AGENT, "WriteStdin", NULL); /* only reads are redacted */
	/* By the default too. */
	set_ok("{\"default\":\"deny\"}");
	assert_int_equal(check(AGENT, "ReadStdout", NULL, &err), PD_POLICY_REDACT);
	denied(AGENT, "CloseStdin", NULL);
}

static void test_bad_documents(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"default\":\"maybe\"}",
	    "{\"default\":true}",
	    "{\"defualt\":\"deny\"}",
	    "{\"default\":\"deny\",\"default\":\"allow\"}",
	    "{\"rules\":{}}",
	    "{\"rules\":[1]}",
	    "{\"rules\":[{\"rpc\":\"Version\"}]}",
	    "{\"rules\":[{\"action\":\"deny\"}]}",
	    "{\"rules\":[{\"rpc\":\"Version\",\"aciton\":\"deny\"}]}",
	    "{\"rules\":[{\"rpc\":\"Version\",\"action\":\"drop\"}]}",
	    "{\"rules\":[{\"rpc\":\"Version\",\"action\":\"deny\",\"action\":\"allow\"}]}",
	    "{\"rules\":[{\"rpc\":\"NoSuchRpc\",\"action\":\"deny\"}]}",
	    "{\"rules\":[{\"rpc\":\"version\",\"action\":\"deny\"}]}",
	    "{\"rules\":[{\"rpc\":5,\"action\":\"deny\"}]}",
	    "{\"rules\":[{\"rpc\":\"*\",\"action\":\"deny\",\"field\":\"x\",\"equals\":\"y\"}]}",
	    "{\"rules\":[{\"rpc\":\"CopyFile\",\"action\":\"deny\",\"field\":\"path\"}]}",
	    "{\"rules\":[{\"rpc\":\"CopyFile\",\"action\":\"deny\",\"equals\":\"x\"}]}",
	    "{\"rules\":[{\"rpc\":\"CopyFile\",\"action\":\"deny\",\"field\":\"path\","
	    "\"equals\":\"a\",\"prefix\":\"b\"}]}",
	    "{\"rules\":[{\"rpc\":\"CopyFile\",\"action\":\"deny\",\"field\":\"nope\","
	    "\"equals\":\"a\"}]}",
	    "{\"rules\":[] } trailing",
	    "{\"rules\":[]",
	    "{\"rules\":[{\"rpc\":\"Version\",\"action\":\"deny\",\"name\":\"" /* 65 bytes */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
	};
	/* Each refused one leaves the one in force. */
	set_ok("{\"rules\":[{\"rpc\":\"Version\",\"action\":\"deny\"}]}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *msg = set_bad(bad[i]);
		assert_non_null(strstr(msg, "policy"));
		denied(HEALTH, "Version", NULL);
		allowed(HEALTH, "Check", NULL);
	}
	/* The messages say where. */
	assert_non_null(strstr(set_bad("{\"rules\":[{\"rpc\":\"Check\",\"action\":\"allow\"},"
				       "{\"rpc\":\"Version\",\"aciton\":\"deny\"}]}"),
			       "rule 2: unknown key \"aciton\""));
	assert_non_null(strstr(set_bad("{\"rules\":[{\"rpc\":\"NoSuchRpc\",\"action\":\"deny\"}]}"),
			       "NoSuchRpc"));
}

static void test_bad_field_paths(void **state)
{
	static const char *const bad[] = {
	    "OCI.Process.Args",	   /* repeated without an index */
	    "OCI[0].Hostname",	   /* an index on a single field */
	    "OCI.Process",	   /* ends at a message */
	    "OCI.Process.Args[x]", /* not an index */
	    "OCI.Process.Args[-1]",
	    "OCI.Process.Args[0",
	    "OCI.Process.Args[0].x", /* past a string */
	    "OCI..Hostname",
	    ".OCI",
	    "OCI.",
	    "OCI.Linux.Resources", /* Linux is Linux_ here */
	    "OCI.Process.Args[99999999]",
	    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char doc[512];
		snprintf(doc, sizeof(doc),
			 "{\"rules\":[{\"rpc\":\"CreateContainer\",\"action\":\"deny\","
			 "\"field\":\"%s\",\"equals\":\"x\"}]}",
			 bad[i]);
		const char *msg = set_bad(doc);
		if (!strstr(msg, "field"))
			fail_msg("%s: message without the field: %s", bad[i], msg);
	}
}

static void test_limits(void **state)
{
	/* PD_POLICY_MAX_RULES rules parse; one more does not. */
	size_t cap = 64 + (PD_POLICY_MAX_RULES + 1) * 48;
	char *doc = malloc(cap);
	assert_non_null(doc);
	for (int extra = 0; extra < 2; extra++) {
		size_t o = (size_t)snprintf(doc, cap, "{\"rules\":[");
		for (int i = 0; i < PD_POLICY_MAX_RULES + extra; i++)
			o += (size_t)snprintf(doc + o, cap - o,
					      "%s{\"rpc\":\"Version\",\"action\":\"%s\"}",
					      i ? "," : "", i == 0 ? "allow" : "deny");
		snprintf(doc + o, cap - o, "]}");
		if (extra)
			assert_non_null(strstr(set_bad(doc), "more than"));
		else
			set_ok(doc);
	}
	assert_int_equal(pd_policy_rule_count(), PD_POLICY_MAX_RULES);
	allowed(HEALTH, "Version", NULL);
	free(doc);
	/* Over 1 MiB of text, even if it is only blanks. */
	size_t big = PD_POLICY_MAX_BYTES + 1;
	doc = malloc(big + 1);
	memset(doc, ' ', big);
	memcpy(doc, "{}", 2);
	doc[big] = '\0';
	struct pd_error err;
	assert_int_equal(pd_policy_set(doc, big, &err), -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	doc[big - 1] = '\0'; /* 1 MiB exactly is fine */
	set_ok(doc);
	free(doc);
}

/* ---- field rules on decoded requests ---------------------------------------------------- */

/* A CreateContainerRequest with OCI.Process {Args, Terminal, User.UID}, a hostname and an
 * annotation, decoded from its wire bytes. */
static ProtobufCMessage *create_request(const char *arg0, bool terminal, uint32_t uid,
					bool with_oci)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	Grpc__Spec__AnnotationsEntry ann = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	Grpc__Spec__AnnotationsEntry *anns[] = {&ann};
	char *args[] = {(char *)arg0, "-c", "echo hi"};
	req.container_id = "c1";
	user.uid = uid;
	proc.user = &user;
	proc.terminal = terminal;
	proc.n_args = 3;
	proc.args = args;
	spec.process = &proc;
	spec.hostname = "box";
	ann.key = "io.katacontainers.pkg.oci.bundle_path";
	ann.value = "/run/x";
	spec.n_annotations = 1;
	spec.annotations = anns;
	if (with_oci)
		req.oci = &spec;
	return decoded(&req.base);
}

static void test_field_equals_and_prefix(void **state)
{
	set_ok("{\"rules\":["
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Process.Args[0]\","
	       "\"equals\":\"/bin/sh\",\"action\":\"deny\",\"name\":\"no-shell\"},"
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Process.Args[*]\","
	       "\"prefix\":\"rm \",\"action\":\"deny\"},"
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Process.Args[7]\","
	       "\"equals\":\"\",\"action\":\"deny\"}"
	       "]}");
	ProtobufCMessage *m = create_request("/bin/sh", false, 1000, true);
	const char *msg = denied(AGENT, "CreateContainer", m);
	assert_string_equal(msg, "CreateContainer is blocked by policy: rule 1 (no-shell: deny "
				 "CreateContainer when OCI.Process.Args[0] equals \"/bin/sh\")");
	free_msg(m);
	/* Equality is exact: a longer or shorter string is not it. */
	m = create_request("/bin/shell", false, 1000, true);
	allowed(AGENT, "CreateContainer", m);
	free_msg(m);
	m = create_request("/bin/s", false, 1000, true);
	allowed(AGENT, "CreateContainer", m);
	free_msg(m);
	/* Any element, by prefix. */
	m = create_request("rm -rf /", false, 1000, true);
	msg = denied(AGENT, "CreateContainer", m);
	assert_non_null(strstr(msg, "rule 2 (deny CreateContainer when OCI.Process.Args[*] starts "
				    "with \"rm \")"));
	free_msg(m);
	/* Rules of one rpc do not apply to another with the same field names. */
	Grpc__ExecProcessRequest ex = GRPC__EXEC_PROCESS_REQUEST__INIT;
	m = decoded(&ex.base);
	allowed(AGENT, "ExecProcess", m);
	free_msg(m);
}

static void test_field_types_and_absence(void **state)
{
	set_ok("{\"rules\":["
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Process.Terminal\","
	       "\"equals\":\"true\",\"action\":\"deny\"},"
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Process.User.UID\","
	       "\"equals\":\"0\",\"action\":\"deny\"},"
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Annotations[*].key\","
	       "\"prefix\":\"io.katacontainers.pkg.oci.\",\"action\":\"allow\"},"
	       "{\"rpc\":\"CreateContainer\",\"field\":\"OCI.Hostname\","
	       "\"equals\":\"box\",\"action\":\"deny\"}"
	       "]}");
	ProtobufCMessage *m = create_request("/app", true, 1000, true);
	assert_non_null(strstr(denied(AGENT, "CreateContainer", m), "rule 1 "));
	free_msg(m);
	m = create_request("/app", false, 0, true);
	assert_non_null(strstr(denied(AGENT, "CreateContainer", m), "rule 2 "));
	free_msg(m);
	/* Rule 3 (allow) matches before rule 4 would deny the hostname. */
	m = create_request("/app", false, 1000, true);
	allowed(AGENT, "CreateContainer", m);
	free_msg(m);
	/* No OCI at all: no field has a value, no rule matches, not even UID "0" (a proto3
	 * zero inside an absent message is not there). */
	m = create_request("/app", false, 0, false);
	allowed(AGENT, "CreateContainer", m);
	free_msg(m);
}

static void test_int64_field(void **state)
{
	set_ok("{\"rules\":[{\"rpc\":\"CreateContainer\",\"action\":\"deny\","
	       "\"field\":\"OCI.Linux_.Resources.CPU.Quota\",\"equals\":\"-1\"}]}");
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Linux lx = GRPC__LINUX__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	cpu.quota = -1;
	res.cpu = &cpu;
	lx.resources = &res;
	spec.linux_ = &lx;
	req.oci = &spec;
	ProtobufCMessage *m = decoded(&req.base);
	denied(AGENT, "CreateContainer", m);
	free_msg(m);
	cpu.quota = 100000;
	m = decoded(&req.base);
	allowed(AGENT, "CreateContainer", m);
	free_msg(m);
}

static void test_enum_and_oneof_fields(void **state)
{
	set_ok("{\"rules\":["
	       "{\"rpc\":\"UpdateInterface\",\"field\":\"interface.IPAddresses[*].family\","
	       "\"equals\":\"v6\",\"action\":\"deny\"},"
	       "{\"rpc\":\"MemAgentMemcgSet\",\"field\":\"swappiness_max\","
	       "\"equals\":\"0\",\"action\":\"deny\"}"
	       "]}");
	Types__IPAddress a4 = TYPES__IPADDRESS__INIT, a6 = TYPES__IPADDRESS__INIT;
	a4.family = TYPES__IPFAMILY__v4;
	a4.address = "10.0.0.2";
	a6.family = TYPES__IPFAMILY__v6;
	a6.address = "fd00::2";
	Types__IPAddress *addrs[] = {&a4, &a6};
	Types__Interface ifc = TYPES__INTERFACE__INIT;
	ifc.n_ipaddresses = 1;
	ifc.ipaddresses = addrs;
	Grpc__UpdateInterfaceRequest up = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	up.interface = &ifc;
	ProtobufCMessage *m = decoded(&up.base);
	allowed(AGENT, "UpdateInterface", m);
	free_msg(m);
	ifc.n_ipaddresses = 2;
	m = decoded(&up.base);
	denied(AGENT, "UpdateInterface", m);
	free_msg(m);
	/* A oneof member that is not set has no value, even one that reads as "0". */
	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	m = decoded(&mc.base);
	allowed(AGENT, "MemAgentMemcgSet", m);
	free_msg(m);
	mc.opt_swappiness_max_case =
	    GRPC__MEM_AGENT_MEMCG_CONFIG__OPT_SWAPPINESS_MAX_SWAPPINESS_MAX;
	mc.swappiness_max = 0;
	m = decoded(&mc.base);
	denied(AGENT, "MemAgentMemcgSet", m);
	free_msg(m);
}

static void test_copyfile_and_setpolicy_fields(void **state)
{
	set_ok("{\"rules\":["
	       "{\"rpc\":\"CopyFile\",\"field\":\"path\","
	       "\"prefix\":\"/run/kata-containers/shared/containers/secret\",\"action\":\"deny\"},"
	       "{\"rpc\":\"SetPolicy\",\"field\":\"policy\",\"prefix\":\"{}\","
	       "\"action\":\"deny\"}]}");
	Grpc__CopyFileRequest cp = GRPC__COPY_FILE_REQUEST__INIT;
	cp.path = "/run/kata-containers/shared/containers/secret-1/x";
	ProtobufCMessage *m = decoded(&cp.base);
	denied(AGENT, "CopyFile", m);
	free_msg(m);
	cp.path = "/run/kata-containers/shared/containers/public/x";
	m = decoded(&cp.base);
	allowed(AGENT, "CopyFile", m);
	free_msg(m);
	Grpc__SetPolicyRequest sp = GRPC__SET_POLICY_REQUEST__INIT;
	sp.policy = "{}";
	m = decoded(&sp.base);
	denied(AGENT, "SetPolicy", m);
	free_msg(m);
}

/* ---- boot ---------------------------------------------------------------------------------- */

static void test_boot_file(void **state)
{
	char dir[] = "/tmp/pd-policy-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	/* None: everything allowed. */
	pd_policy_load_boot(path);
	allowed(HEALTH, "Version", NULL);
	/* A good one. */
	FILE *f = fopen(path, "w");
	fputs("{\"rules\":[{\"rpc\":\"Version\",\"action\":\"deny\"}]}\n", f);
	fclose(f);
	pd_policy_load_boot(path);
	assert_int_equal(pd_policy_rule_count(), 1);
	denied(HEALTH, "Version", NULL);
	allowed(HEALTH, "Check", NULL);
	/* A bad one: everything denied, saying why; SetPolicy too (fail closed). */
	f = fopen(path, "w");
	fputs("{\"rules\":[{\"rpc\":\"Versoin\",\"action\":\"deny\"}]}\n", f);
	fclose(f);
	pd_policy_load_boot(path);
	const char *msg = denied(HEALTH, "Check", NULL);
	assert_non_null(strstr(msg, "Check is blocked by policy: "));
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "Versoin"));
	denied(AGENT, "SetPolicy", NULL);
	/* An unreadable one (a directory) fails closed too. */
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	pd_policy_reset();
	pd_policy_load_boot(path);
	denied(HEALTH, "Check", NULL);
	rmdir(path);
	rmdir(dir);
	/* The deny-all of a failed boot can be replaced like any policy. */
	set_ok("{}");
	allowed(HEALTH, "Check", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_policy_allows_everything, reset, reset),
	    cmocka_unit_test_setup_teardown(test_rpc_rules_in_order, reset, reset),
	    cmocka_unit_test_setup_teardown(test_read_stream_redacted, reset, reset),
	    cmocka_unit_test_setup_teardown(test_bad_documents, reset, reset),
	    cmocka_unit_test_setup_teardown(test_bad_field_paths, reset, reset),
	    cmocka_unit_test_setup_teardown(test_limits, reset, reset),
	    cmocka_unit_test_setup_teardown(test_field_equals_and_prefix, reset, reset),
	    cmocka_unit_test_setup_teardown(test_field_types_and_absence, reset, reset),
	    cmocka_unit_test_setup_teardown(test_int64_field, reset, reset),
	    cmocka_unit_test_setup_teardown(test_enum_and_oneof_fields, reset, reset),
	    cmocka_unit_test_setup_teardown(test_copyfile_and_setpolicy_fields, reset, reset),
	    cmocka_unit_test_setup_teardown(test_boot_file, reset, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
