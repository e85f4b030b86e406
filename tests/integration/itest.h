/* Helpers of the container integration tests (containers.c, container_security.c): calls
 * with deadlines, OCI specs shaped like runc's default spec, one container run to its end,
 * and what the agent leaves behind in its mount namespace (state.json, fds, mounts,
 * children), read from the host through /proc/<agent-pid>/.
 *
 * Everything is static inline: the Makefile builds one binary per .c file here,
 * and a header is the only way for two of them to share code.
 *
 * A test binary is run as
 *   PROG ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 * against an agent on which CreateSandbox{hostname IT_HOSTNAME, sandbox_id SANDBOX_ID} was
 * called (tests/integration/run.sh does it). It prints "ok - name" or "not ok - name: why"
 * per case and a summary line, and exits 1 if a case failed. Naming cases runs only the
 * cases whose names contain one of the words. */
#ifndef PD_ITEST_H
#define PD_ITEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define JSMN_STATIC
#include <jsmn.h>

#include "agent.pb-c.h"
#include "agent/error.h"
#include "agent/ttrpc/client.h"
#include "health.pb-c.h"
#include "oci.pb-c.h"

#define IT_SERVICE  "grpc.AgentService"
#define IT_HOSTNAME "pidone-test"
#define IT_CALL_MS  30000 /* one call; container set-up on a loaded 2-core box is slow */
#define IT_IO_MS    300000 /* a whole drain of a process's output (50 MiB on a loaded host) */
#define IT_READ_LEN 65536
#define IT_KEEP_MAX (4u << 20) /* output bytes kept for checks; the rest only counted */
/* The bound of every wait for a condition (see it_retry): a guard against a hang on a loaded
 * 2-core host, never a measurement. Tests wait for conditions, not durations. */
#define IT_WAIT_MS 60000

struct it {
	const char *addr;
	const char *rootfs;
	const char *sandbox;
	pid_t agent;
	struct pd_client c;
	int passed, failed;
	char why[4096];
	int code;      /* status code of the last call */
	char msg[512]; /* its message */
	char *const *only;
	int n_only;
};

/* Record why a case failed; returns -1 so helpers can `return it_why(...)`. */
__attribute__((format(printf, 2, 3))) static inline int it_why(struct it *t, const char *fmt, ...)
{
	char buf[sizeof(t->why)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(t->why, buf, sizeof(buf));
	return -1;
}

/* In a case: fail with a reason and go to its cleanup (label `out`). */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			it_why(t, __VA_ARGS__);                                                    \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)
/* A helper that already said why failed. */
#define TRY(expr)                                                                                  \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			goto out;                                                                  \
	} while (0)

static inline int64_t it_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline double it_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline void it_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One more round of polling for a condition, or false once IT_WAIT_MS have passed since the
 * first call (*end is 0 before it):
 *   int64_t end = 0;
 *   while (!(ok = CONDITION) && it_retry(&end))
 *           ;
 *   if (!ok) return it_why(t, "... not within %d s", IT_WAIT_MS / 1000);  */
static inline bool it_retry(int64_t *end)
{
	if (*end == 0)
		*end = it_now_ms() + IT_WAIT_MS;
	if (it_now_ms() >= *end)
		return false;
	it_sleep_ms(20);
	return true;
}

/* A short quoted rendering of bytes for a failure message. */
static inline const char *it_show(const void *data, size_t len, char *buf, size_t size)
{
	const unsigned char *p = data;
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < len && o + 8 < size; i++) {
		if (p[i] == '\n')
			o += (size_t)snprintf(buf + o, size - o, "\\n");
		else if (p[i] == '\r')
			o += (size_t)snprintf(buf + o, size - o, "\\r");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", p[i]);
		else
			buf[o++] = (char)p[i];
		if (i + 1 < len && o + 8 >= size) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
	}
	snprintf(buf + o, size - o, "\"");
	return buf;
}
#define IT_SHOW(data, len) it_show((data), (len), (char[300]){0}, 300)

/* ---- calls ------------------------------------------------------------------------------ */

static inline int it_connect(struct it *t, struct pd_client *c)
{
	struct pd_error err = {0};
	if (pd_client_connect(c, t->addr, 10000, &err) < 0)
		return it_why(t, "connect %s: %s", t->addr, err.msg);
	return 0;
}

/* One call on connection c. Returns the status code of the answer (0 = OK; then *out, if
 * given, is the unpacked reply of desc), or -1 when no answer came (t->why says why). The
 * status is also left in t->code and t->msg. */
static inline int it_call_svc(struct it *t, struct pd_client *c, const char *service,
			      const char *method, const ProtobufCMessage *req,
			      const ProtobufCMessageDescriptor *desc, void *out, int timeout_ms)
{
	uint8_t *buf = NULL;
	size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;
	if (out)
		*(ProtobufCMessage **)out = NULL;
	if (len) {
		buf = malloc(len);
		if (!buf)
			return it_why(t, "%s: out of memory", method);
		protobuf_c_message_pack(req, buf);
	}
	struct pd_client_reply r;
	struct pd_error err = {0};
	int rc = pd_client_call_raw(c, service, method, buf, len, timeout_ms, &r, &err);
	free(buf);
	if (rc < 0)
		return it_why(t, "%s: no answer: %s", method, err.msg);
	t->code = r.code;
	snprintf(t->msg, sizeof(t->msg), "%s", r.message);
	if (r.code == 0 && desc && out) {
		ProtobufCMessage *m =
		    protobuf_c_message_unpack(desc, NULL, r.payload_len, r.payload);
		if (!m) {
			pd_client_reply_free(&r);
			return it_why(t, "%s: the reply is not a %s", method, desc->name);
		}
		*(ProtobufCMessage **)out = m;
	}
	pd_client_reply_free(&r);
	return r.code;
}

static inline int it_call(struct it *t, const char *method, const ProtobufCMessage *req,
			  const ProtobufCMessageDescriptor *desc, void *out)
{
	return it_call_svc(t, &t->c, IT_SERVICE, method, req, desc, out, IT_CALL_MS);
}

/* A call that must answer OK. */
static inline int it_ok(struct it *t, const char *method, const ProtobufCMessage *req,
			const ProtobufCMessageDescriptor *desc, void *out)
{
	int code = it_call(t, method, req, desc, out);
	if (code < 0)
		return -1;
	if (code != 0)
		return it_why(t, "%s: %s: %s", method, pd_code_name(code), t->msg);
	return 0;
}

/* A call that must fail with `want`. */
static inline int it_code(struct it *t, const char *method, const ProtobufCMessage *req, int want)
{
	int code = it_call(t, method, req, NULL, NULL);
	if (code < 0)
		return -1;
	if (code != want)
		return it_why(t, "%s: got %s (%s), want %s", method, pd_code_name(code), t->msg,
			      pd_code_name(want));
	return 0;
}

/* A call that must fail with `want` and a message containing `part` (NULL: any). */
static inline int it_code_msg(struct it *t, const char *method, const ProtobufCMessage *req,
			      int want, const char *part)
{
	if (it_code(t, method, req, want) < 0)
		return -1;
	if (part && !strstr(t->msg, part))
		return it_why(t, "%s: message '%s' lacks '%s'", method, t->msg, part);
	return 0;
}

/* Health.Check round trip on c: every request sent on c before it has been dispatched
 * (the agent handles one connection's frames in order), so parked calls are parked. */
static inline int it_sync(struct it *t, struct pd_client *c)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	int code = it_call_svc(t, c, "grpc.Health", "Check", &req.base, NULL, NULL, IT_CALL_MS);
	if (code > 0)
		return it_why(t, "Health.Check: %s: %s", pd_code_name(code), t->msg);
	return code;
}

/* A call whose work cannot finish (a container process stuck in its set-up, for longer than
 * IT_CALL_MS or for good): sent with a 3 s timeout on the wire, it must be answered
 * DEADLINE_EXCEEDED with `stuck` in the message, not before those 3 s, and within
 * IT_CALL_MS; then Health.Check must answer within IT_CALL_MS too: the agent's one loop is
 * free again, not waiting for the stuck step. (Orders and generous bounds, no speed.) */
static inline int it_call_past_deadline(struct it *t, const char *method,
					const ProtobufCMessage *req, const char *stuck)
{
	struct pd_client_reply r = {0};
	struct pd_error e = {0};
	uint32_t stream;
	int64_t t0 = it_now_ms();
	if (pd_client_send(&t->c, IT_SERVICE, method, req, 3000000000LL, &stream, &e) < 0 ||
	    pd_client_recv(&t->c, IT_CALL_MS, &r, &e) < 0)
		return it_why(t, "%s: no answer within %d s: %s", method, IT_CALL_MS / 1000, e.msg);
	int64_t took = it_now_ms() - t0;
	int code = r.code;
	snprintf(t->msg, sizeof(t->msg), "%s", r.message);
	pd_client_reply_free(&r);
	if (r.stream_id != stream || code != PD_DEADLINE_EXCEEDED || !strstr(t->msg, stuck))
		return it_why(t, "%s answered %s: '%s', want DEADLINE_EXCEEDED naming '%s'",
			      method, pd_code_name(code), t->msg, stuck);
	if (took < 2500)
		return it_why(t, "%s answered after %lld ms, before its 3 s deadline", method,
			      (long long)took);
	return it_sync(t, &t->c);
}

/* ---- OCI specs -------------------------------------------------------------------------- */

#define IT_MAX_ITEMS 32

/* A spec whose sub-messages live inside it: build it in place, never copy it. */
struct it_spec {
	Grpc__Spec spec;
	Grpc__Process proc;
	Grpc__User user;
	Grpc__Root root;
	Grpc__Linux lx;
	Grpc__LinuxCapabilities caps;
	Grpc__Box box;
	char *args[IT_MAX_ITEMS];
	char *env[IT_MAX_ITEMS];
	char *cap_names[IT_MAX_ITEMS];
	char *ambient[IT_MAX_ITEMS];
	uint32_t gids[IT_MAX_ITEMS];
	Grpc__POSIXRlimit rl[8];
	Grpc__POSIXRlimit *rlp[8];
	Grpc__Mount mnt[IT_MAX_ITEMS];
	Grpc__Mount *mntp[IT_MAX_ITEMS];
	Grpc__LinuxNamespace ns[8];
	Grpc__LinuxNamespace *nsp[8];
};

/* Docker's default capability set: CapEff/CapPrm/CapBnd 00000000a80425fb. */
static inline char **it_default_caps(size_t *n)
{
	static char *caps[] = {
	    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
	    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
	    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	    "CAP_KILL",	   "CAP_AUDIT_WRITE",
	};
	*n = sizeof(caps) / sizeof(caps[0]);
	return caps;
}

static inline void it_spec_mount(struct it_spec *s, const char *dest, const char *type,
				 const char *source, char **opts, size_t n_opts)
{
	size_t i = s->spec.n_mounts;
	if (i >= IT_MAX_ITEMS)
		return;
	grpc__mount__init(&s->mnt[i]);
	s->mnt[i].destination = (char *)dest;
	s->mnt[i].type = (char *)type;
	s->mnt[i].source = (char *)source;
	s->mnt[i].options = opts;
	s->mnt[i].n_options = n_opts;
	s->mntp[i] = &s->mnt[i];
	s->spec.n_mounts = i + 1;
}

#define IT_N(a) (sizeof(a) / sizeof((a)[0]))

/* runc's default mounts (`runc spec`), with /dev/shm and /dev/mqueue. */
static inline void it_spec_default_mounts(struct it_spec *s)
{
	static char *proc[] = {"nosuid", "noexec", "nodev"};
	static char *dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
	static char *pts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
	static char *shm[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
	static char *mq[] = {"nosuid", "noexec", "nodev"};
	static char *sys[] = {"nosuid", "noexec", "nodev", "ro"};
	s->spec.mounts = s->mntp;
	s->spec.n_mounts = 0;
	it_spec_mount(s, "/proc", "proc", "proc", proc, IT_N(proc));
	it_spec_mount(s, "/dev", "tmpfs", "tmpfs", dev, IT_N(dev));
	it_spec_mount(s, "/dev/pts", "devpts", "devpts", pts, IT_N(pts));
	it_spec_mount(s, "/dev/shm", "tmpfs", "shm", shm, IT_N(shm));
	it_spec_mount(s, "/dev/mqueue", "mqueue", "mqueue", mq, IT_N(mq));
	it_spec_mount(s, "/sys", "sysfs", "sysfs", sys, IT_N(sys));
}

static inline char **it_masked_paths(size_t *n)
{
	static char *p[] = {"/proc/acpi",	 "/proc/asound",	"/proc/kcore",
			    "/proc/keys",	 "/proc/latency_stats", "/proc/timer_list",
			    "/proc/timer_stats", "/proc/sched_debug",	"/sys/firmware",
			    "/proc/scsi"};
	*n = IT_N(p);
	return p;
}

static inline char **it_readonly_paths(size_t *n)
{
	static char *p[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
			    "/proc/sysrq-trigger"};
	*n = IT_N(p);
	return p;
}

/* Replace a NULL-terminated list of strings. */
static inline size_t it_strv(char **dst, const char *first, va_list ap)
{
	size_t n = 0;
	for (const char *a = first; a && n < IT_MAX_ITEMS; a = va_arg(ap, const char *))
		dst[n++] = (char *)a;
	return n;
}

/* args: NULL-terminated. */
static inline void it_spec_args(struct it_spec *s, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	s->proc.n_args = it_strv(s->args, first, ap);
	va_end(ap);
}

static inline void it_spec_env(struct it_spec *s, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	s->proc.n_env = it_strv(s->env, first, ap);
	va_end(ap);
}

/* Bounding, effective and permitted (inheritable and ambient empty). */
static inline void it_spec_caps(struct it_spec *s, char **names, size_t n)
{
	if (n > IT_MAX_ITEMS)
		n = IT_MAX_ITEMS;
	memcpy(s->cap_names, names, n * sizeof(*names));
	grpc__linux_capabilities__init(&s->caps);
	s->caps.bounding = s->caps.effective = s->caps.permitted = s->cap_names;
	s->caps.n_bounding = s->caps.n_effective = s->caps.n_permitted = n;
	s->proc.capabilities = &s->caps;
}

static inline void it_spec_rlimit(struct it_spec *s, const char *type, uint64_t soft, uint64_t hard)
{
	size_t i = s->proc.n_rlimits;
	if (i >= IT_N(s->rl))
		return;
	grpc__posixrlimit__init(&s->rl[i]);
	s->rl[i].type = (char *)type;
	s->rl[i].soft = soft;
	s->rl[i].hard = hard;
	s->rlp[i] = &s->rl[i];
	s->proc.rlimits = s->rlp;
	s->proc.n_rlimits = i + 1;
}

static inline void it_spec_namespace(struct it_spec *s, const char *type)
{
	size_t i = s->lx.n_namespaces;
	if (i >= IT_N(s->ns))
		return;
	grpc__linux_namespace__init(&s->ns[i]);
	s->ns[i].type = (char *)type;
	s->nsp[i] = &s->ns[i];
	s->lx.namespaces = s->nsp;
	s->lx.n_namespaces = i + 1;
}

/* What a Kata runtime sends for a plain container, like `runc spec` plus Docker's
 * capabilities: pid/ipc/uts/mount namespaces (no network: the VM's), runc's mounts,
 * masked and read-only paths, NOFILE 1024, no_new_privs. Args are set by the caller. */
static inline void it_spec_default(struct it_spec *s, const char *rootfs)
{
	memset(s, 0, sizeof(*s));
	grpc__spec__init(&s->spec);
	grpc__process__init(&s->proc);
	grpc__user__init(&s->user);
	grpc__root__init(&s->root);
	grpc__linux__init(&s->lx);
	grpc__box__init(&s->box);
	s->spec.version = "1.0.2";
	s->spec.process = &s->proc;
	s->spec.root = &s->root;
	s->spec.hostname = IT_HOSTNAME;
	s->spec.linux_ = &s->lx;
	s->root.path = (char *)rootfs;
	s->proc.user = &s->user;
	s->proc.args = s->args;
	s->proc.env = s->env;
	s->proc.cwd = "/";
	s->proc.nonewprivileges = true;
	s->user.additionalgids = s->gids;
	it_spec_env(s, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		    "TERM=xterm", NULL);
	size_t n;
	char **caps = it_default_caps(&n);
	it_spec_caps(s, caps, n);
	it_spec_rlimit(s, "RLIMIT_NOFILE", 1024, 1024);
	it_spec_default_mounts(s);
	it_spec_namespace(s, "pid");
	it_spec_namespace(s, "ipc");
	it_spec_namespace(s, "uts");
	it_spec_namespace(s, "mount");
	s->lx.maskedpaths = it_masked_paths(&s->lx.n_maskedpaths);
	s->lx.readonlypaths = it_readonly_paths(&s->lx.n_readonlypaths);
}

/* ---- container RPCs --------------------------------------------------------------------- */

static inline void it_create_req(Grpc__CreateContainerRequest *req, const char *cid,
				 struct it_spec *s)
{
	grpc__create_container_request__init(req);
	req->container_id = (char *)cid;
	req->exec_id = (char *)cid;
	req->oci = &s->spec;
}

static inline int it_create(struct it *t, const char *cid, struct it_spec *s)
{
	Grpc__CreateContainerRequest req;
	it_create_req(&req, cid, s);
	return it_ok(t, "CreateContainer", &req.base, NULL, NULL);
}

static inline int it_start(struct it *t, const char *cid)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return it_ok(t, "StartContainer", &req.base, NULL, NULL);
}

/* RemoveContainer; returns the status code (NOT_FOUND for a container that is not
 * there), -1 without an answer. */
static inline int it_remove_code(struct it *t, const char *cid)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return it_call(t, "RemoveContainer", &req.base, NULL, NULL);
}

/* Every case's cleanup: remove the container whatever happened; a failed removal fails a
 * case that had passed so far. A case that failed may have left calls parked on its
 * connection: a fresh connection makes the agent drop them. */
static inline void it_cleanup(struct it *t, const char *cid, int *rc)
{
	if (*rc < 0) {
		pd_client_close(&t->c);
		if (it_connect(t, &t->c) < 0)
			return;
	}
	char saved[sizeof(t->why)];
	memcpy(saved, t->why, sizeof(saved));
	int code = it_remove_code(t, cid);
	if (*rc == 0 && code != 0) {
		if (code > 0)
			it_why(t, "RemoveContainer %s: %s: %s", cid, pd_code_name(code), t->msg);
		*rc = -1;
	} else if (*rc < 0) {
		memcpy(t->why, saved, sizeof(saved));
	}
}

static inline int it_exec(struct it *t, const char *cid, const char *eid, Grpc__Process *p)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.process = p;
	return it_ok(t, "ExecProcess", &req.base, NULL, NULL);
}

static inline int it_signal(struct it *t, const char *cid, const char *eid, int sig)
{
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.signal = (uint32_t)sig;
	return it_ok(t, "SignalProcess", &req.base, NULL, NULL);
}

static inline int it_wait_on(struct it *t, struct pd_client *c, const char *cid, const char *eid,
			     int *status, int timeout_ms)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	Grpc__WaitProcessResponse *resp;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	int code = it_call_svc(t, c, IT_SERVICE, "WaitProcess", &req.base,
			       &grpc__wait_process_response__descriptor, &resp, timeout_ms);
	if (code < 0)
		return -1;
	if (code != 0)
		return it_why(t, "WaitProcess %s/%s: %s: %s", cid, eid, pd_code_name(code), t->msg);
	*status = resp->status;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

static inline int it_wait(struct it *t, const char *cid, const char *eid, int *status)
{
	return it_wait_on(t, &t->c, cid, eid, status, IT_CALL_MS);
}

/* WriteStdin of len bytes (0 = close stdin); the answer must count them all. */
static inline int it_write_stdin(struct it *t, const char *cid, const char *eid, const void *data,
				 size_t len)
{
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	Grpc__WriteStreamResponse *resp;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	if (it_ok(t, "WriteStdin", &req.base, &grpc__write_stream_response__descriptor, &resp) < 0)
		return -1;
	uint32_t n = resp->len;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (n != len)
		return it_why(t, "WriteStdin of %zu bytes answered len %u", len, n);
	return 0;
}

/* One ReadStdout/ReadStderr: the bytes in a malloc'd *data (NULL and 0 for EOF). */
static inline int it_read1(struct it *t, const char *cid, const char *eid, bool err_stream,
			   uint8_t **data, size_t *len, int timeout_ms)
{
	const char *method = err_stream ? "ReadStderr" : "ReadStdout";
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	Grpc__ReadStreamResponse *resp;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.len = IT_READ_LEN;
	*data = NULL;
	*len = 0;
	int code = it_call_svc(t, &t->c, IT_SERVICE, method, &req.base,
			       &grpc__read_stream_response__descriptor, &resp, timeout_ms);
	if (code < 0)
		return -1;
	if (code != 0)
		return it_why(t, "%s %s/%s: %s: %s", method, cid, eid, pd_code_name(code), t->msg);
	if (resp->data.len) {
		*data = malloc(resp->data.len);
		if (*data) {
			memcpy(*data, resp->data.data, resp->data.len);
			*len = resp->data.len;
		}
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

/* ---- draining a process's output -------------------------------------------------------- */

struct it_buf {
	char *p;
	size_t len, cap; /* kept bytes, NUL-terminated */
	size_t total;	 /* all bytes seen */
};

static inline void it_buf_add(struct it_buf *b, const uint8_t *p, size_t n)
{
	b->total += n;
	size_t keep = b->len + n > IT_KEEP_MAX ? IT_KEEP_MAX - b->len : n;
	if (keep == 0)
		return;
	if (b->len + keep + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + keep + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, keep);
	b->len += keep;
	b->p[b->len] = '\0';
}

static inline void it_buf_free(struct it_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static inline const char *it_buf_str(const struct it_buf *b)
{
	return b->p ? b->p : "";
}

/* Output of one process. A sink, when set, sees stdout's bytes instead of the buffer. */
struct it_io {
	struct it_buf out, err;
	void (*sink)(void *arg, const uint8_t *p, size_t n);
	void *sink_arg;
	uint32_t read_len; /* 0 = IT_READ_LEN */
};

static inline void it_io_free(struct it_io *io)
{
	it_buf_free(&io->out);
	it_buf_free(&io->err);
}

static inline int it_send_read(struct it *t, struct pd_client *c, const char *cid, const char *eid,
			       bool err_stream, uint32_t len, int64_t deadline, uint32_t *stream)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	struct pd_error e = {0};
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.len = len;
	int64_t left = deadline - it_now_ms();
	if (left < 1)
		left = 1;
	if (pd_client_send(c, IT_SERVICE, err_stream ? "ReadStderr" : "ReadStdout", &req.base,
			   left * 1000000, stream, &e) < 0)
		return it_why(t, "send Read: %s", e.msg);
	return 0;
}

/* Read stdout and stderr (stdout only with a tty: both calls read the same pty) until
 * both answered EOF, with a ReadStdout and a ReadStderr always in flight as a shim does. */
static inline int it_drain(struct it *t, const char *cid, const char *eid, bool tty,
			   struct it_io *io, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	uint32_t len = io->read_len ? io->read_len : IT_READ_LEN;
	uint32_t s_out = 0, s_err = 0;
	bool out_done = false, err_done = tty;
	if (it_send_read(t, &t->c, cid, eid, false, len, deadline, &s_out) < 0 ||
	    (!tty && it_send_read(t, &t->c, cid, eid, true, len, deadline, &s_err) < 0))
		return -1;
	while (!out_done || !err_done) {
		struct pd_client_reply r;
		struct pd_error e = {0};
		int64_t left = deadline - it_now_ms();
		if (left <= 0 || pd_client_recv(&t->c, (int)left, &r, &e) < 0)
			return it_why(t, "%s/%s: no EOF on %s within %d ms (%s; stdout so far %s)",
				      cid, eid, out_done ? "stderr" : "stdout", timeout_ms,
				      left <= 0 ? "timeout" : e.msg,
				      IT_SHOW(it_buf_str(&io->out), io->out.len));
		bool is_out = r.stream_id == s_out && !out_done;
		bool is_err = r.stream_id == s_err && !err_done;
		if (!is_out && !is_err) {
			pd_client_reply_free(&r); /* a late answer to an earlier case's call */
			continue;
		}
		if (r.code != 0) {
			pd_client_reply_free(&r);
			return it_why(t, "%s %s/%s: %s: %s", is_out ? "ReadStdout" : "ReadStderr",
				      cid, eid, pd_code_name(r.code), r.message);
		}
		Grpc__ReadStreamResponse *resp =
		    grpc__read_stream_response__unpack(NULL, r.payload_len, r.payload);
		pd_client_reply_free(&r);
		if (!resp)
			return it_why(t, "Read: reply is not a ReadStreamResponse");
		size_t n = resp->data.len;
		if (n == 0) {
			*(is_out ? &out_done : &err_done) = true;
		} else if (is_out && io->sink) {
			io->sink(io->sink_arg, resp->data.data, n);
		} else {
			it_buf_add(is_out ? &io->out : &io->err, resp->data.data, n);
		}
		grpc__read_stream_response__free_unpacked(resp, NULL);
		if (n > 0 && it_send_read(t, &t->c, cid, eid, is_err, len, deadline,
					  is_out ? &s_out : &s_err) < 0)
			return -1;
	}
	return 0;
}

/* Create, start, drain, wait: the container's output and exit status. The caller removes
 * the container (it_cleanup). */
static inline int it_run(struct it *t, const char *cid, struct it_spec *s, struct it_io *io,
			 int *status)
{
	if (it_create(t, cid, s) < 0 || it_start(t, cid) < 0 ||
	    it_drain(t, cid, cid, s->proc.terminal, io, IT_IO_MS) < 0 ||
	    it_wait(t, cid, cid, status) < 0)
		return -1;
	return 0;
}

/* A running container whose init sleeps: the base of the exec and signal cases. */
#define IT_LONG_SLEEP "1000"
static inline int it_up_sleeping(struct it *t, const char *cid, struct it_spec *s)
{
	it_spec_default(s, t->rootfs);
	it_spec_args(s, "sleep", IT_LONG_SLEEP, NULL);
	if (it_create(t, cid, s) < 0 || it_start(t, cid) < 0)
		return -1;
	return 0;
}

/* ExecProcess, drain, wait. */
static inline int it_exec_run(struct it *t, const char *cid, const char *eid, Grpc__Process *p,
			      struct it_io *io, int *status)
{
	if (it_exec(t, cid, eid, p) < 0 || it_drain(t, cid, eid, p->terminal, io, IT_IO_MS) < 0 ||
	    it_wait(t, cid, eid, status) < 0)
		return -1;
	return 0;
}

/* Checks of a finished process: exact stdout, exit status. */
static inline int it_expect_out(struct it *t, const char *what, const struct it_io *io, int status,
				const char *want_out, int want_status)
{
	if (strcmp(it_buf_str(&io->out), want_out) != 0 || io->out.total != strlen(want_out))
		return it_why(t, "%s: stdout %s, want %s (stderr %s)", what,
			      IT_SHOW(io->out.p, io->out.len), IT_SHOW(want_out, strlen(want_out)),
			      IT_SHOW(io->err.p, io->err.len));
	if (status != want_status)
		return it_why(t, "%s: exit status %d, want %d (stderr %s)", what, status,
			      want_status, IT_SHOW(io->err.p, io->err.len));
	return 0;
}

/* text with its runs of blanks squeezed to one space, leading and trailing ones dropped;
 * one_line: up to the first newline, else newlines count as blanks. */
static inline const char *it_squeeze(const char *text, bool one_line, char *buf, size_t size)
{
	size_t o = 0;
	bool space = false;
	for (const char *p = text; *p && !(one_line && *p == '\n') && o + 2 < size; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			space = o > 0;
			continue;
		}
		if (space)
			buf[o++] = ' ';
		space = false;
		buf[o++] = *p;
	}
	buf[o] = '\0';
	return buf;
}

/* A line of pdtest status ("Uid:\t1000\t1000...") with its whitespace squeezed. */
static inline const char *it_status_field(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	buf[0] = '\0';
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, klen) == 0 && l[klen] == ':')
			return it_squeeze(l + klen + 1, true, buf, size);
	return buf;
}

/* ---- the agent's side, seen from the host ------------------------------------------------ */

/* A path of the agent's mount namespace. */
static inline const char *it_agent_path(struct it *t, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline const char *it_agent_path(struct it *t, char *buf, size_t size, const char *fmt, ...)
{
	int n = snprintf(buf, size, "/proc/%d/root", (int)t->agent);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

static inline const char *it_state_path(struct it *t, const char *cid, char *buf, size_t size)
{
	return it_agent_path(t, buf, size, "/run/libcontainer/%s/%s/state.json", t->sandbox, cid);
}

/* Entries of a directory (not . and ..), -1 if it cannot be opened. */
static inline int it_count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A whole file, NUL-terminated, or NULL (errno set). */
static inline char *it_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

static inline int it_agent_fd_count(struct it *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)t->agent);
	return it_count_dir(path);
}

/* What a failed or finished container must not leave in the agent. */
struct it_snap {
	int fds;
	int mounts;	    /* lines of the agent's mountinfo */
	char children[512]; /* the agent's child pids */
	int kata_dirs;	    /* entries of /run/kata-containers */
	int state_dirs;	    /* entries of /run/libcontainer/<sandbox> */
};

static inline void it_snap_take(struct it *t, struct it_snap *s)
{
	/* A round trip first: an answer can leave the agent before the work that follows it
	 * in the same loop turn (e.g. RemoveContainer's teardown); the next request is read
	 * only after that. */
	it_sync(t, &t->c);
	char path[PATH_MAX];
	memset(s, 0, sizeof(*s));
	s->fds = it_agent_fd_count(t);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)t->agent);
	char *mi = it_read_file(path, NULL);
	for (char *p = mi; p && *p; p++)
		s->mounts += *p == '\n';
	free(mi);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->agent, (int)t->agent);
	char *ch = it_read_file(path, NULL);
	snprintf(s->children, sizeof(s->children), "%s", ch ? ch : "?");
	free(ch);
	s->kata_dirs = it_count_dir(it_agent_path(t, path, sizeof(path), "/run/kata-containers"));
	s->state_dirs =
	    it_count_dir(it_agent_path(t, path, sizeof(path), "/run/libcontainer/%s", t->sandbox));
}

static inline bool it_snap_eq(const struct it_snap *a, const struct it_snap *b)
{
	return a->fds == b->fds && a->mounts == b->mounts &&
	       strcmp(a->children, b->children) == 0 && a->kata_dirs == b->kata_dirs &&
	       a->state_dirs == b->state_dirs;
}

/* The agent is back to `before` (reaping and closing may lag a moment: up to IT_WAIT_MS). */
static inline int it_snap_same(struct it *t, const struct it_snap *before, const char *what)
{
	struct it_snap now;
	int64_t end = 0;
	do {
		it_snap_take(t, &now);
		if (it_snap_eq(before, &now))
			return 0;
	} while (it_retry(&end));
	return it_why(t,
		      "%s left something behind for %d s: fds %d -> %d, mountinfo lines %d -> %d, "
		      "children [%s] -> [%s], /run/kata-containers entries %d -> %d, "
		      "/run/libcontainer/%s entries %d -> %d",
		      what, IT_WAIT_MS / 1000, before->fds, now.fds, before->mounts, now.mounts,
		      before->children, now.children, before->kata_dirs, now.kata_dirs, t->sandbox,
		      before->state_dirs, now.state_dirs);
}

/* ---- JSON (state.json) -------------------------------------------------------------------- */

struct it_json {
	char *text;
	jsmntok_t *tok;
	int n;
};

static inline int it_json_parse(struct it_json *j, char *text)
{
	jsmn_parser p;
	j->text = text;
	j->tok = NULL;
	for (int cap = 1024; cap <= (1 << 20); cap *= 4) {
		free(j->tok);
		j->tok = malloc(sizeof(jsmntok_t) * (size_t)cap);
		if (!j->tok)
			return -1;
		jsmn_init(&p);
		j->n = jsmn_parse(&p, text, strlen(text), j->tok, (unsigned)cap);
		if (j->n != JSMN_ERROR_NOMEM)
			break;
	}
	return j->n > 0 && j->tok[0].type == JSMN_OBJECT ? 0 : -1;
}

static inline void it_json_free(struct it_json *j)
{
	free(j->tok);
	j->tok = NULL;
}

/* Index of the token after the subtree at i. */
static inline int it_json_skip(const struct it_json *j, int i)
{
	int n = j->tok[i].size;
	i++;
	while (n-- > 0 && i < j->n)
		i = it_json_skip(j, i);
	return i;
}

static inline bool it_json_eq(const struct it_json *j, int i, const char *s, size_t len)
{
	const jsmntok_t *k = &j->tok[i];
	return k->type == JSMN_STRING && (size_t)(k->end - k->start) == len &&
	       memcmp(j->text + k->start, s, len) == 0;
}

/* The token of a dotted key path ("config.hostname"), -1 if absent. */
static inline int it_json_find(const struct it_json *j, const char *path)
{
	int cur = 0;
	while (*path) {
		const char *dot = strchrnul(path, '.');
		if (j->tok[cur].type != JSMN_OBJECT)
			return -1;
		int i = cur + 1, found = -1;
		for (int k = 0; k < j->tok[cur].size && i < j->n; k++) {
			if (it_json_eq(j, i, path, (size_t)(dot - path))) {
				found = i + 1;
				break;
			}
			i = it_json_skip(j, i);
		}
		if (found < 0 || found >= j->n)
			return -1;
		cur = found;
		path = *dot ? dot + 1 : dot;
	}
	return cur;
}

/* The value at path as text (strings without their quotes), or NULL. */
static inline const char *it_json_get(const struct it_json *j, const char *path, char *buf,
				      size_t size)
{
	int i = it_json_find(j, path);
	if (i < 0)
		return NULL;
	const jsmntok_t *k = &j->tok[i];
	snprintf(buf, size, "%.*s", k->end - k->start, j->text + k->start);
	return buf;
}

/* Inode of a namespace file (or of what an nsfs magic link names). */
static inline unsigned long it_ns_ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* ---- the case runner -------------------------------------------------------------------- */

struct it_case {
	const char *name;
	int (*fn)(struct it *t);
};

static inline bool it_selected(const struct it *t, const char *name)
{
	if (t->n_only == 0)
		return true;
	for (int i = 0; i < t->n_only; i++)
		if (strstr(name, t->only[i]))
			return true;
	return false;
}

static inline void it_report(struct it *t, const char *name, int rc)
{
	if (rc == 0) {
		printf("ok - %s\n", name);
		t->passed++;
	} else {
		for (char *p = t->why; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("not ok - %s: %s\n", name, t->why[0] ? t->why : "(no reason given)");
		t->failed++;
	}
	fflush(stdout);
}

static inline void it_run_cases(struct it *t, const struct it_case *cases)
{
	for (const struct it_case *c = cases; c->name; c++) {
		if (!it_selected(t, c->name))
			continue;
		t->why[0] = '\0';
		it_report(t, c->name, c->fn(t));
	}
}

/* PROG ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...] */
static inline int it_init(struct it *t, int argc, char **argv)
{
	memset(t, 0, sizeof(*t));
	t->c.fd = -1;
	if (argc < 5) {
		fprintf(stderr, "usage: %s ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]\n", argv[0]);
		return -1;
	}
	t->addr = argv[1];
	t->rootfs = argv[2];
	t->agent = (pid_t)atoi(argv[3]);
	t->sandbox = argv[4];
	t->only = argv + 5;
	t->n_only = argc - 5;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (it_connect(t, &t->c) < 0) {
		printf("not ok - connect: %s\n", t->why);
		return -1;
	}
	return 0;
}

/* PROG --create-sandbox ADDR SANDBOX_ID: CreateSandbox{hostname IT_HOSTNAME, sandbox_pidns
 * as asked}, reported as case `name` (before the cases, on a fresh agent). */
static inline int it_create_sandbox(int argc, char **argv, bool pidns, const char *name)
{
	struct it t;
	if (argc < 4) {
		fprintf(stderr, "usage: %s --create-sandbox ADDR SANDBOX_ID\n", argv[0]);
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.addr = argv[2];
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = argv[3];
	req.sandbox_pidns = pidns;
	int rc = it_connect(&t, &t.c) < 0 ? -1 : it_ok(&t, "CreateSandbox", &req.base, NULL, NULL);
	it_report(&t, name, rc);
	pd_client_close(&t.c);
	return rc < 0;
}

static inline int it_finish(struct it *t, const char *prog)
{
	pd_client_close(&t->c);
	printf("%s: %d passed, %d failed\n", prog, t->passed, t->failed);
	return t->failed ? 1 : 0;
}

#endif
