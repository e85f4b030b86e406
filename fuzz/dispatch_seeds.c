/* fuzz_dispatch's seeds, written by the target itself (FUZZ_WRITE_SEEDS=dir): it knows the
 * method numbers of its input format. Requests are written as JSON (pidonectl's decoder,
 * agent/ctl/json_to_proto.c) and packed; the Kata wire vectors are used as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "agent/ctl/json_to_proto.h"
#include "common.h"
#include "oci.pb-c.h"
#include "dispatch.h"
#include "health.pb-c.h"

#define SEED_MAX (1u << 16)
#define CID	 "wirecheck"
#define EID	 "exec-1aa70a2b"
#define SHARED	 "/run/kata-containers/shared/containers/"

static uint8_t seed[SEED_MAX];
static size_t seed_len;
static const char *seed_dir;
static unsigned n_written;

static void put_bytes(const void *p, size_t n)
{
	if (seed_len + n > SEED_MAX) {
		fprintf(stderr, "fuzz_dispatch: seed too large\n");
		exit(1);
	}
	if (n)
		memcpy(seed + seed_len, p, n);
	seed_len += n;
}

static void record(uint8_t kind, const void *p, size_t n)
{
	uint8_t h[3] = {kind, (uint8_t)(n & 0xff), (uint8_t)(n >> 8)};
	put_bytes(h, 3);
	put_bytes(p, n);
}

static void begin(uint8_t flags)
{
	seed_len = 0;
	put_bytes(&flags, 1);
}

static void end(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s", seed_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, seed_len, f) != seed_len || fclose(f) != 0) {
		fprintf(stderr, "fuzz_dispatch: cannot write %s\n", path);
		exit(1);
	}
	n_written++;
}

/* The request `method` (of either service) from JSON, as a method record. */
static void call(const char *method, const char *json)
{
	int idx = fz_method_index(method);
	if (idx < 0) {
		fprintf(stderr, "fuzz_dispatch: no method %s\n", method);
		exit(1);
	}
	const ProtobufCMessageDescriptor *d = fz_method_input(idx);
	ProtobufCMessage *msg;
	struct pd_error err;
	if (pd_json_to_proto(json, strlen(json), d, NULL, &msg, &err) < 0) {
		fprintf(stderr, "fuzz_dispatch: seed %s: %s\n", method, err.msg);
		exit(1);
	}
	static uint8_t buf[SEED_MAX];
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n > sizeof(buf))
		exit(1);
	protobuf_c_message_pack(msg, buf);
	protobuf_c_message_free_unpacked(msg, NULL);
	record((uint8_t)idx, buf, n);
}

static size_t read_vector(const char *method, const char *suffix, uint8_t *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/grpc.AgentService.%s.%s.pb", PD_WIRE_DIR, method, suffix);
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static const char *const vectors[] = {
    "CreateSandbox", "CreateContainer", "StartContainer", "ReadStdout",	     "ReadStderr",
    "WaitProcess",   "ExecProcess",	"SignalProcess",  "RemoveContainer", "DestroySandbox"};

static void wire_seeds(void)
{
	static uint8_t buf[SEED_MAX];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char name[128];
		size_t n = read_vector(vectors[i], "req", buf, sizeof(buf));
		begin(0x01);
		record((uint8_t)fz_method_index(vectors[i]), buf, n);
		snprintf(name, sizeof(name), "wire-%s", vectors[i]);
		end(name);
		n = read_vector(vectors[i], "req-envelope", buf, sizeof(buf));
		begin(0x01);
		record(0xf0, buf, n);
		snprintf(name, sizeof(name), "envelope-%s", vectors[i]);
		end(name);
	}
	/* The lifecycle on the wire, without the prelude (the vector's rootfs does not exist
	 * here: CreateContainer fails, and what follows finds no container). */
	begin(0x00);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = read_vector(vectors[i], "req", buf, sizeof(buf));
		record((uint8_t)fz_method_index(vectors[i]), buf, n);
	}
	end("wire-lifecycle");
}

static void method_seeds(void)
{
	for (int i = 0; i < fz_method_count(); i++) {
		char name[128];
		begin(0x01);
		record((uint8_t)i, NULL, 0);
		snprintf(name, sizeof(name), "empty-%s", fz_method_name(i));
		end(name);
	}
}

static const char policy[] =
    "{\"default\": \"allow\", \"rules\": ["
    "{\"rpc\": \"ExecProcess\", \"field\": \"process.Args[0]\", \"equals\": \"/bin/sh\","
    " \"action\": \"deny\", \"name\": \"no-shell\"},"
    "{\"rpc\": \"CreateContainer\", \"field\": \"OCI.Annotations[*].key\","
    " \"prefix\": \"io.example.debug\", \"action\": \"deny\"},"
    "{\"rpc\": \"CopyFile\", \"field\": \"path\", \"prefix\": \"" SHARED "\","
    " \"action\": \"allow\"},"
    "{\"rpc\": \"CopyFile\", \"action\": \"deny\"},"
    "{\"rpc\": \"ReadStdout\", \"action\": \"deny\"}]}";

static void handwritten_seeds(void)
{
	char json[2048];
	begin(0x01); /* a process exits while WaitProcess waits; its output to EOF */
	call("WaitProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\"}");
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 10}");
	record(0xf2, "\x01\x03\x00", 3);
	call("WaitProcess", "{\"container_id\": \"" CID "\"}");
	record(0xf2, "\x00\x09\x01", 3);
	end("exits");

	begin(0x01); /* output read while it comes, a parked read answered by data, then EOF */
	call("ReadStdout", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 4}");
	record(0xf6, "\x01\x00hello world", 13);
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 100}");
	record(0xf6, "\x01\x01oops", 6);
	call("ReadStderr",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 100}");
	call("WriteStdin", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\","
			   " \"data\": \"aGVsbG8K\"}");
	record(0xf7, "\x01\x01", 2);
	record(0xf2, "\x01\x00\x00", 3);
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 100}");
	end("output");

	begin(0x21); /* 512 bytes of unread replies at most: reads cut short, then refused */
	{
		uint8_t out[602] = {0x01, 0x00};
		memset(out + 2, 'x', sizeof(out) - 2);
		record(0xf6, out, sizeof(out));
	}
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 1000}");
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 1000}");
	call("StatsContainer", "{\"container_id\": \"" CID "\"}");
	record(0xf8, NULL, 0);
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 1000}");
	end("unread-bound");

	begin(0x01); /* stdin, a tty exec, a resize */
	call("WriteStdin", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\","
			   " \"data\": \"aGVsbG8K\"}");
	call("CloseStdin", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\"}");
	call("ExecProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"tty\", \"process\":"
			    " {\"terminal\": true, \"args\": [\"/bin/sh\"], \"cwd\": \"/\","
			    " \"user\": {\"uid\": 0}, \"consoleSize\": {\"height\": 24,"
			    " \"width\": 80}}}");
	call("TtyWinResize", "{\"container_id\": \"" CID "\", \"exec_id\": \"tty\", \"row\": 50,"
			     " \"column\": 132}");
	call("SignalProcess",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"tty\", \"signal\": 15}");
	end("stdio");

	begin(0x01); /* cgroups: update, stats, pause/resume, an OOM */
	call("UpdateContainer", "{\"container_id\": \"" CID "\", \"resources\": {\"memory\":"
				" {\"limit\": 1048576, \"swap\": -1}, \"cpu\": {\"shares\": 512,"
				" \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\"},"
				" \"pids\": {\"limit\": 64}, \"devices\": [{\"allow\": false,"
				" \"access\": \"rwm\"}]}}");
	call("StatsContainer", "{\"container_id\": \"" CID "\"}");
	call("PauseContainer", "{\"container_id\": \"" CID "\"}");
	call("ResumeContainer", "{\"container_id\": \"" CID "\"}");
	call("GetOOMEvent", "{}");
	record(0xf3, "\x00", 1);
	end("cgroups");

	begin(0x01); /* a policy, then calls it allows and denies */
	snprintf(json, sizeof(json), "{\"policy\": \"%s\"}", "POLICY");
	{
		/* the policy as a JSON string: escape its quotes */
		char esc[2048], *o = esc;
		for (const char *p = policy; *p && o < esc + sizeof(esc) - 2; p++) {
			if (*p == '"')
				*o++ = '\\';
			*o++ = *p;
		}
		*o = '\0';
		snprintf(json, sizeof(json), "{\"policy\": \"%s\"}", esc);
	}
	call("SetPolicy", json);
	call("ReadStdout",
	     "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 10}");
	call("CopyFile", "{\"path\": \"/etc/passwd\", \"file_mode\": 33188, \"file_size\": 1,"
			 " \"data\": \"eA==\"}");
	end("policy");

	begin(0x01); /* CopyFile: a directory, a file in two chunks, a symlink */
	call("CopyFile", "{\"path\": \"" SHARED CID "-d\", \"file_mode\": 16877,"
			 " \"dir_mode\": 493, \"uid\": -1, \"gid\": -1}");
	call("CopyFile",
	     "{\"path\": \"" SHARED CID "-d/f\", \"file_mode\": 33188, \"file_size\": 6,"
	     " \"offset\": 0, \"data\": \"aGVs\", \"uid\": 0, \"gid\": 0}");
	call("CopyFile",
	     "{\"path\": \"" SHARED CID "-d/f\", \"file_mode\": 33188, \"file_size\": 6,"
	     " \"offset\": 3, \"data\": \"bG8K\", \"uid\": 0, \"gid\": 0}");
	call("CopyFile", "{\"path\": \"" SHARED CID "-d/l\", \"file_mode\": 41471,"
			 " \"data\": \"Li4vLi4vZXRj\"}");
	call("CopyFile", "{\"path\": \"" SHARED CID "-d/l/x\", \"file_mode\": 33188,"
			 " \"file_size\": 0}");
	end("copyfile");

	begin(0x00); /* network in the harness's own namespace */
	call("ListInterfaces", "{}");
	call("UpdateInterface",
	     "{\"interface\": {\"name\": \"lo\", \"mtu\": 65536,"
	     " \"IPAddresses\": [{\"family\": \"v4\", \"address\": \"127.0.0.1\","
	     " \"mask\": \"8\"}, {\"family\": \"v6\", \"address\": \"::1\","
	     " \"mask\": \"128\"}]}}");
	call("UpdateRoutes", "{\"routes\": {\"routes\": [{\"dest\": \"127.5.0.0/16\","
			     " \"device\": \"lo\", \"scope\": 253, \"family\": \"v4\"}]}}");
	call("ListRoutes", "{}");
	call("AddARPNeighbors",
	     "{\"neighbors\": {\"ARPNeighbors\": [{\"toIPAddress\": {\"family\":"
	     " \"v4\", \"address\": \"127.0.0.9\"}, \"device\": \"lo\", \"lladdr\":"
	     " \"02:00:00:00:00:01\", \"state\": 128}]}}");
	end("network");

	begin(0x00); /* the guest */
	call("OnlineCPUMem", "{\"nb_cpus\": 2, \"cpu_only\": false}");
	call("GetGuestDetails", "{\"mem_block_size\": true, \"mem_hotplug_probe\": true}");
	call("MemHotplugByProbe", "{\"memHotplugProbeAddr\": [134217728]}");
	call("SetGuestDateTime", "{\"Sec\": 1700000000, \"Usec\": 5}");
	call("ReseedRandomDev", "{\"data\": \"AAECAwQFBgc=\"}");
	call("AddSwap", "{\"PCIPath\": [2, 1]}");
	call("AddSwapPath", "{\"path\": \"" FZ_HOME "/swapfile\"}");
	call("GetVolumeStats", "{\"volume_guest_path\": \"/run\"}");
	call("GetIPTables", "{\"is_ipv6\": false}");
	call("MemAgentMemcgSet", "{\"disabled\": false, \"swap\": true, \"swappiness_max\": 50,"
				 " \"period_secs\": 60}");
	call("MemAgentCompactSet", "{\"disabled\": false, \"compact_order\": 9}");
	end("guest");

	begin(0x00); /* a sandbox with storages, a container with a disk */
	call("CreateSandbox",
	     "{\"hostname\": \"h\", \"sandbox_id\": \"" CID "\", \"storages\": ["
	     "{\"driver\": \"blk\", \"source\": \"02/01\", \"fstype\": \"ext4\","
	     " \"options\": [\"ro\"], \"mount_point\": \"/run/kata-containers/"
	     "sandbox/storage/d\"}, {\"driver\": \"local\", \"mount_point\":"
	     " \"/run/kata-containers/sandbox/local/x\", \"options\": [\"mode=0777\"]},"
	     " {\"driver\": \"ephemeral\", \"source\": \"tmpfs\", \"fstype\": \"tmpfs\","
	     " \"mount_point\": \"/run/kata-containers/sandbox/ephemeral/e\"}],"
	     " \"dns\": [\"nameserver 10.0.0.1\"]}");
	call("CreateContainer",
	     "{\"container_id\": \"c2\", \"exec_id\": \"c2\", \"devices\": ["
	     "{\"type\": \"blk\", \"id\": \"02/01\", \"container_path\":"
	     " \"/dev/xda\", \"vm_path\": \"\"}], \"OCI\": {\"ociVersion\":"
	     " \"1.1.0\", \"root\": {\"path\": \"" FZ_ROOTFS "\"}, \"process\":"
	     " {\"args\": [\"/bin/true\"], \"cwd\": \"/\"}, \"linux\":"
	     " {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}],"
	     " \"devices\": [{\"path\": \"/dev/xda\", \"type\": \"b\", \"major\": 8,"
	     " \"minor\": 0}]}, \"mounts\": [{\"destination\": \"/dev/termination-log\","
	     " \"source\": \"" FZ_HOME "/termination-log\", \"type\": \"bind\","
	     " \"options\": [\"rbind\", \"ro\"]}]}}");
	call("UpdateEphemeralMounts",
	     "{\"storages\": [{\"driver\": \"ephemeral\", \"source\":"
	     " \"tmpfs\", \"fstype\": \"tmpfs\", \"options\": [\"size=1M\"],"
	     " \"mount_point\": \"/run/kata-containers/sandbox/ephemeral/e\"}]}");
	call("RemoveStaleVirtiofsShareMounts", "{}");
	call("GetDiagnosticData", "{\"container_id\": \"c2\", \"log_type\": \"termination_log\"}");
	end("storages");

	begin(0x00); /* the sandbox's pid namespace (its holder cannot start here) */
	call("CreateSandbox", "{\"sandbox_id\": \"" CID "\", \"sandbox_pidns\": true}");
	end("sandbox-pidns");

	begin(0x06); /* a serial port, two parked calls at most: the oldest gives way */
	for (int i = 0; i < 3; i++)
		call("ReadStdout", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\","
				   " \"len\": 10}");
	record(0xf4, NULL, 0);
	end("parked-limit");

	begin(0x01); /* deadlines: a call that has already timed out; the host goes away */
	record((uint8_t)(0x80 + fz_method_index("WaitProcess")), NULL, 0);
	call("ReadStderr", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 1}");
	record(0xf5, NULL, 0);
	call("RemoveContainer", "{\"container_id\": \"" CID "\", \"timeout\": 1}");
	record(0xf4, NULL, 0);
	end("deadlines");

	begin(0x01); /* an exec waited for, its container removed under it, waited for again */
	call("WaitProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\"}");
	call("ReadStdout", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 8}");
	call("RemoveContainer", "{\"container_id\": \"" CID "\", \"timeout\": 5}");
	call("WaitProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\"}");
	call("CreateContainer", "{\"container_id\": \"" CID "\", \"exec_id\": \"" CID "\","
				" \"OCI\": {\"root\": {\"path\": \"" FZ_ROOTFS "\"}, \"process\":"
				" {\"args\": [\"/bin/sh\"], \"cwd\": \"/\"}, \"linux\":"
				" {\"namespaces\": [{\"type\": \"mount\"}]}}}");
	end("remove-under-waiters");

	begin(0x01); /* a device that is not there: the call waits, then its host goes or its
		      * deadline passes */
	call("CreateContainer", "{\"container_id\": \"c3\", \"devices\": [{\"type\": \"blk\","
				" \"id\": \"09/01\", \"container_path\": \"/dev/xdb\"}], \"OCI\":"
				" {\"root\": {\"path\": \"" FZ_ROOTFS "\"}, \"process\": {\"args\":"
				" [\"/bin/true\"], \"cwd\": \"/\"}, \"linux\": {\"namespaces\":"
				" [{\"type\": \"mount\"}], \"devices\": [{\"path\": \"/dev/xdb\","
				" \"type\": \"b\", \"major\": 8, \"minor\": 16}]}}}");
	call("AddSwap", "{\"PCIPath\": [9, 2]}");
	record(0xf4, NULL, 0);
	record((uint8_t)(0x80 + fz_method_index("AddSwap")), "\x0a\x02\x09\x03", 4);
	record(0xf5, NULL, 0);
	end("device-waits");

	begin(0x01); /* DestroySandbox with calls parked, then a new sandbox in the same session */
	call("ReadStdout", "{\"container_id\": \"" CID "\", \"exec_id\": \"" EID "\", \"len\": 8}");
	call("WaitProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"\"}");
	call("GetOOMEvent", "{}");
	call("DestroySandbox", "{}");
	call("CreateSandbox", "{\"sandbox_id\": \"again\", \"hostname\": \"again\"}");
	call("GetOOMEvent", "{}");
	end("destroy-parked");

	begin(0x19); /* the spawn fails, hooks fail */
	call("ExecProcess", "{\"container_id\": \"" CID "\", \"exec_id\": \"e2\", \"process\":"
			    " {\"args\": [\"/bin/true\"], \"cwd\": \"/\"}}");
	end("failures");

	begin(0x00); /* raw frames: even and reused stream ids, data and unknown types */
	record(0xf1, "\x00\x00\x00\x02\x01", 5);
	record(0xf1, "\x00\x00\x00\x07\x03xy", 7);
	record(0xf1, "\x00\x00\x00\x07\x01", 5);
	record(0xf1, "\x00\x00\x00\x0b\x09", 5);
	end("frames");
}

/* A container from fuzz/seeds/config.json (hooks, seccomp, sysctls, a user namespace, devices,
 * resources) through its whole life. */
static void rich_seed(void)
{
	size_t len;
	const uint8_t *text = fz_seed_file("config.json", &len);
	ProtobufCMessage *msg;
	struct pd_error err;
	if (pd_json_to_proto((const char *)text, len, &grpc__spec__descriptor, NULL, &msg, &err) <
	    0) {
		fprintf(stderr, "fuzz_dispatch: config.json: %s\n", err.msg);
		exit(1);
	}
	Grpc__Spec *spec = (Grpc__Spec *)msg;
	free(spec->root->path);
	spec->root->path = strdup(FZ_ROOTFS);
	Grpc__CreateContainerRequest cc = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	cc.container_id = cc.exec_id = (char *)"rich";
	cc.oci = spec;
	static uint8_t buf[SEED_MAX];
	size_t n = grpc__create_container_request__get_packed_size(&cc);
	if (n > sizeof(buf))
		exit(1);
	grpc__create_container_request__pack(&cc, buf);
	protobuf_c_message_free_unpacked(msg, NULL);
	begin(0x01);
	record((uint8_t)fz_method_index("CreateContainer"), buf, n);
	call("StartContainer", "{\"container_id\": \"rich\"}");
	call("ExecProcess", "{\"container_id\": \"rich\", \"exec_id\": \"e\", \"process\":"
			    " {\"args\": [\"/bin/true\"], \"cwd\": \"/\", \"capabilities\":"
			    " {\"bounding\": [\"CAP_KILL\"]}}}");
	call("StatsContainer", "{\"container_id\": \"rich\"}");
	call("SignalProcess", "{\"container_id\": \"rich\", \"exec_id\": \"\", \"signal\": 9}");
	call("RemoveContainer", "{\"container_id\": \"rich\"}");
	end("rich-container");
}

void fz_write_seeds(const char *dir)
{
	seed_dir = dir;
	begin(0x01);
	end("prelude");
	wire_seeds();
	method_seeds();
	handwritten_seeds();
	rich_seed();
	fprintf(stderr, "fuzz_dispatch: %u seeds in %s\n", n_written, dir);
}
