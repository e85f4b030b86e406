/* libFuzzer target: ttRPC requests through the real dispatch table and the real handlers,
 * down to a stub sandbox (dispatch_fake.c) — decode, policy gate, every check, the sandbox's
 * objects, state.json, stdio pipes and the process table run as in the agent; what would
 * fork, mount or change the machine is faked or refused.
 *
 * Input: byte 0 steers the run, then records {u8 kind, u16 length (LE), bytes}:
 *   byte 0   bit 0: prelude — the Kata wire vectors' CreateSandbox, CreateContainer
 *                   ("wirecheck", its rootfs moved to FZ_ROOTFS), StartContainer and
 *                   ExecProcess first, so later requests find a sandbox, a container and an
 *                   exec; bit 1: a virtio-serial port (stream ids may restart, the oldest
 *                   parked call gives way); bit 2: two parked calls at most; bit 3: the
 *                   container processes fail to spawn; bit 4: hooks exit 1; bit 5: at most
 *                   512 bytes of replies the host has not read (then replies with data are
 *                   refused until it reads, 0xf8).
 *   kind < 0x80      a request for method kind % N (grpc.Health, then grpc.AgentService, in
 *                    descriptor order) with the bytes as its payload;
 *   0x80..0xef       the same with timeout_nano 1 (expired at once);
 *   0xf0             the bytes are a whole ttrpc.Request;
 *   0xf1             a raw frame: stream id (4 bytes BE, kept off the harness's ids), type
 *                    (1 byte), then the frame's data;
 *   0xf2             a fake process exits: which (1 byte), exit code (1), killed (1);
 *   0xf3             an OOM event in a container's cgroup: which (1 byte);
 *   0xf4             the connection goes: every parked call is cancelled;
 *   0xf5             every parked call's deadline passes;
 *   0xf6             a fake process writes: which (1 byte), stderr (bit 0 of 1 byte), bytes;
 *   0xf7             a fake process reads its stdin: which (1 byte), 64 * n bytes (1);
 *   0xf8             the host reads every reply so far (bit 5's bound is for unread ones).
 * After each record the process table reaps and the loop runs what is ready, without waiting.
 * At the end DestroySandbox is called, every call still parked is cancelled, and the agent
 * must be back where it started: no container, no fake process or cgroup, no fd more. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/agent.h"
#include "agent/device/devwait.h"
#include "agent/log.h"
#include "agent/policy.h"
#include "agent/rpc/cgroups_internal.h"
#include "agent/rpc/rpc.h"
#include "agent/sandbox/hooks_async.h"
#include "common.h"
#include "dispatch.h"
#include "health.pb-c.h"
#include "init/mounts.h"
#include "ttrpc.pb-c.h"

#ifndef PD_WIRE_DIR
#error "PD_WIRE_DIR: the Kata wire vectors (tests/data/kata-wire)"
#endif

#define MAX_METHODS 128

static struct pd_agent agent;
static const ProtobufCServiceDescriptor *method_service[MAX_METHODS];
static const ProtobufCMethodDescriptor *methods[MAX_METHODS];
static unsigned n_methods;
static uint32_t next_sid;
static int base_fds;

struct prelude_req {
	const char *method;
	uint8_t *payload;
	size_t len;
};
static struct prelude_req prelude[4] = {{.method = "CreateSandbox"},
					{.method = "CreateContainer"},
					{.method = "StartContainer"},
					{.method = "ExecProcess"}};

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz_dispatch: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* Logs are formatted (their arguments are part of what runs) and dropped. */
void __wrap_pd_log(int level, const char *msg, const char *kv, ...)
{
	char line[2048];
	snprintf(line, sizeof(line), "%s", msg);
	if (kv && kv[0]) {
		va_list ap;
		va_start(ap, kv);
		vsnprintf(line, sizeof(line), kv, ap);
		va_end(ap);
	}
}

/* ---- isolation and the fake kernel's files ------------------------------------------------ */

/* The harness's own calls go past its guards (fuzz_dispatch.wrap wraps them here too). */
extern int __real_mount(const char *, const char *, const char *, unsigned long, const void *);
extern int __real_unshare(int);

static void put(const char *rel, const char *text)
{
	char path[512];
	struct pd_error err;
	snprintf(path, sizeof(path), "%s/%s", FZ_HOME, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (pd_mkdir_p(path, 0755, &err) < 0)
		die("mkdir %s: %s", path, err.msg);
	*slash = '/';
	if (!text)
		return;
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("write %s", path);
}

#define PCI "sys/devices/pci0000:00/"
static void fake_kernel_files(void)
{
	put("sys/devices/system/cpu/online", "0\n");
	put("sys/devices/system/cpu/possible", "0-3\n");
	put("sys/devices/system/cpu/present", "0-3\n");
	put("sys/devices/system/cpu/cpu1/online", "0\n");
	put("sys/devices/system/cpu/cpu2/online", "0\n");
	put("sys/devices/system/cpu/cpu3/online", "1\n");
	put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	put("sys/devices/system/memory/probe", "");
	put("sys/devices/system/memory/memory0/online", "1\n");
	put("sys/devices/system/memory/memory1/online", "0\n");
	put("sys/kernel/mm/lru_gen/enabled", "0x0007\n");
	put("proc/sys/vm/compaction_proactiveness", "20\n");
	/* a disk at PCI path 02/01 (vdb), one at 04 (vda), a SCSI disk at 0:1 (sda) */
	put(PCI "0000:00:02.0/pci_bus/0000:01/", NULL);
	put(PCI "0000:00:02.0/0000:01:01.0/virtio3/block/vdb/queue/", NULL);
	put(PCI "0000:00:04.0/virtio0/block/vda/", NULL);
	put("sys/class/block/vdb/dev", "254:16\n");
	put("sys/class/block/vda/dev", "254:0\n");
	put("sys/bus/scsi/devices/0:0:0:1/block/sda/", NULL);
	put("sys/class/block/sda/dev", "8:0\n");
	put("dev/random", "");
	put("termination-log", "the container's last words\n");
	put("root/usr/sbin/", NULL);
	put("rootfs/bin/", NULL);
	put("mnt/", NULL);
}

/* ---- the prelude: the Kata wire vectors -------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("open %s: %s", path, strerror(errno));
	static uint8_t buf[1 << 16];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint8_t *out = malloc(*len ? *len : 1);
	if (!out)
		die("out of memory");
	memcpy(out, buf, *len);
	return out;
}

static void load_prelude(void)
{
	for (unsigned i = 0; i < 4; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/grpc.AgentService.%s.req.pb", PD_WIRE_DIR,
			 prelude[i].method);
		prelude[i].payload = read_file(path, &prelude[i].len);
	}
	/* CreateContainer: the rootfs is ours (the vector's /rootfs is the test VM's). */
	Grpc__CreateContainerRequest *cc =
	    grpc__create_container_request__unpack(NULL, prelude[1].len, prelude[1].payload);
	if (!cc || !cc->oci || !cc->oci->root)
		die("the CreateContainer wire vector does not decode");
	char *wire_root = cc->oci->root->path;
	cc->oci->root->path = (char *)FZ_ROOTFS;
	size_t len = grpc__create_container_request__get_packed_size(cc);
	uint8_t *p = malloc(len);
	if (!p)
		die("out of memory");
	grpc__create_container_request__pack(cc, p);
	cc->oci->root->path = wire_root;
	grpc__create_container_request__free_unpacked(cc, NULL);
	free(prelude[1].payload);
	prelude[1].payload = p;
	prelude[1].len = len;
}

int fz_method_count(void)
{
	return (int)n_methods;
}

int fz_method_index(const char *name)
{
	for (unsigned i = 0; i < n_methods; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const char *fz_method_name(int i)
{
	return methods[i]->name;
}

const ProtobufCMessageDescriptor *fz_method_input(int i)
{
	return methods[i]->input;
}

/* ---- sending requests ---------------------------------------------------------------------- */

static void send_frame(uint32_t sid, uint8_t type, const uint8_t *data, size_t len)
{
	struct pd_frame f = {.h = {.length = (uint32_t)len, .stream_id = sid, .type = type}};
	if (len) {
		f.data = malloc(len);
		if (!f.data)
			die("out of memory");
		memcpy(f.data, data, len);
	}
	pd_dispatch_frame(fz_conn(), &f);
	free(f.data);
}

static void send_envelope(const uint8_t *env, size_t len)
{
	uint32_t sid = next_sid;
	next_sid += 4; /* ids 1 mod 4 are the harness's; raw frames get 3 mod 4 or even ones */
	fz_conn_expect(sid);
	send_frame(sid, PD_TTRPC_REQUEST, env, len);
}

static void send_request(const ProtobufCServiceDescriptor *svc, const char *method,
			 const uint8_t *payload, size_t len, int64_t timeout_nano)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = (char *)svc->name;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	req.timeout_nano = timeout_nano;
	size_t n = ttrpc__request__get_packed_size(&req);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		die("out of memory");
	ttrpc__request__pack(&req, buf);
	send_envelope(buf, n);
	free(buf);
}

/* Reap what the fake processes did, run what the loop has ready, until nothing moves. */
static void settle(void)
{
	for (int round = 0; round < 64; round++) {
		int moved = pd_proctable_reap();
		struct epoll_event ev[64];
		int n = epoll_wait(agent.loop.epfd, ev, 64, 0);
		/* as pd_loop_run: a watch deleted by an earlier handler of the batch is skipped */
		agent.loop.batch = ev;
		agent.loop.batch_n = n > 0 ? n : 0;
		for (int i = 0; i < n; i++) {
			struct pd_watch *w = ev[i].data.ptr;
			agent.loop.batch_next = i + 1;
			if (w)
				w->fn(&agent.loop, w, ev[i].events);
		}
		agent.loop.batch_n = agent.loop.batch_next = 0;
		pd_dispatch_expire(fz_conn()->srv, pd_now_ns());
		if (!moved && n <= 0)
			return;
	}
}

/* ---- one input ------------------------------------------------------------------------------- */

static void run_record(uint8_t kind, const uint8_t *b, size_t len)
{
	if (kind < 0xf0) {
		unsigned m = (kind & 0x7f) % n_methods;
		send_request(method_service[m], methods[m]->name, b, len, kind & 0x80 ? 1 : 0);
	} else if (kind == 0xf0) {
		send_envelope(b, len);
	} else if (kind == 0xf1 && len >= 5) {
		uint32_t sid =
		    (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		sid = sid % 2 ? sid | 3 : sid; /* never one of the harness's ids (1 mod 4) */
		send_frame(sid, b[4], b + 5, len - 5);
	} else if (kind == 0xf2 && len >= 3) {
		fz_fake_exit_one(b[0], b[2] & 1 ? (b[1] & 0x7f) % 31 + 1 : b[1] << 8);
	} else if (kind == 0xf3 && len >= 1) {
		fz_fake_oom_one(b[0]);
	} else if (kind == 0xf4) {
		fz_conn_cancel_all();
	} else if (kind == 0xf5) {
		pd_dispatch_expire(fz_conn()->srv, INT64_MAX);
	} else if (kind == 0xf6 && len >= 2) {
		fz_fake_output(b[0], b[1] & 1, b + 2, len - 2);
	} else if (kind == 0xf7 && len >= 2) {
		fz_fake_input(b[0], (size_t)b[1] * 64);
	} else if (kind == 0xf8) {
		fz_conn_host_reads();
	}
	settle();
}

static void run_prelude(void)
{
	for (unsigned i = 0; i < 4; i++) {
		send_request(&grpc__agent_service__descriptor, prelude[i].method,
			     prelude[i].payload, prelude[i].len, 0);
		settle();
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		die("opendir /proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Back to the state of a fresh agent, and check that nothing was left behind. */
static void teardown(void)
{
	pd_policy_reset(); /* a policy from the input must not keep DestroySandbox out */
	fz_conn_cancel_all();
	fz_conn_reset(false, 1024, 16u << 20);
	send_request(&grpc__agent_service__descriptor, "DestroySandbox", NULL, 0, 0);
	settle();
	fz_conn_cancel_all();
	if (agent.sandbox.created || agent.sandbox.n_containers ||
	    !pd_list_empty(&agent.sandbox.containers))
		die("DestroySandbox left the sandbox or a container behind");
	if (fz_fake_procs_alive())
		die("%u container processes alive after DestroySandbox", fz_fake_procs_alive());
	if (fz_fake_cgroups())
		die("%u cgroups left after DestroySandbox", fz_fake_cgroups());
	if (pd_hook_runs_busy())
		die("%u hook runs busy after DestroySandbox", pd_hook_runs_busy());
	fz_fake_forget_all();
	pd_rpc_cg.destroyed = false; /* a new agent would serve GetOOMEvent again */
	pd_rpc_cg.count = pd_rpc_cg.head = 0;
	pd_list_init(&agent.destroyers);
	agent.stopping = false;
	remove_tree("/run/kata-containers");
	remove_tree("/run/libcontainer");
	if (fz_fake_mounts()) {
		remove_tree(FZ_MNT);
		put("mnt/", NULL);
		fz_fake_mounts_forget();
	}
	int fds = count_fds();
	if (fds != base_fds)
		die("%d file descriptors open after the input, %d before", fds, base_fds);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct fz_sys sys = {__real_mount, __real_unshare};
	struct pd_error err;
	/* The agent blocks every signal (they come through its signalfd): a write to a pipe
	 * whose reader is gone is EPIPE, not death. libFuzzer needs the others. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, NULL);
	fz_isolate(&sys, *argc, *argv);
	put("", NULL);
	fake_kernel_files();
	pd_log_set_level(PD_LOG_DEBUG);
	setenv("PIDONE_CGROUP_PARENT", "pidone-fuzz", 1); /* cgroups on (the fake engine) */
	pd_proctable_init();
	if (pd_loop_init(&agent.loop, &err) < 0)
		die("loop: %s", err.msg);
	pd_config_defaults(&agent.cfg);
	agent.cfg.hotplug_timeout_s = 1;
	pd_sandbox_init(&agent.sandbox, &agent.loop, 0);
	pd_rpc_sandbox_init(&agent);
	const struct pd_service *services;
	unsigned n;
	if (pd_rpc_services(&agent, &services, &n, &err) < 0)
		die("services: %s", err.msg);
	fz_conn_init(services, n);
	agent.server = fz_conn()->srv;
	for (unsigned s = 0; s < n; s++)
		for (unsigned m = 0; m < services[s].desc->n_methods && n_methods < MAX_METHODS;
		     m++) {
			method_service[n_methods] = services[s].desc;
			methods[n_methods++] = &services[s].desc->methods[m];
		}
	if (pd_devwait_listen(&agent.loop, &err) < 0) /* opened once, as in the agent */
		die("uevent socket: %s", err.msg);
	load_prelude();
	const char *seeds = fz_seed_dir();
	if (seeds) {
		fz_write_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	base_fds = count_fds(); /* libFuzzer's own come and go between inputs, never during one */
	next_sid = 1;
	fz_conn_reset(flags & 2, flags & 4 ? 2 : 1024, flags & 32 ? 512 : 16u << 20);
	fz_fake_reset(flags & 8, flags & 16);
	if (flags & 1)
		run_prelude();
	size_t off = 1;
	while (off + 3 <= size) {
		uint8_t kind = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		run_record(kind, data + off, len);
		off += len;
	}
	fz_fake_reset(false, false);
	teardown();
	return 0;
}
