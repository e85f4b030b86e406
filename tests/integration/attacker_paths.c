/* A host (or a container writing into the shared directory) that tries to redirect the
 * agent with symlinks and bad strings, against an agent that attacker_paths.sh starts in a
 * mount namespace with its own /run (its /tmp is this machine's: what a redirected mkdir,
 * chmod or mount would reach is checked from here, on the host side).
 *
 *   attacker_paths ADDR ROOTFS AGENT_PID SANDBOX_ID [CASE...]
 *   (IT_OUTSIDE: an empty directory of this machine, mode 0755, that must stay so)
 *
 * Symlinks are planted with CopyFile, which makes any symlink it is asked for, in the
 * shared directory: to IT_OUTSIDE and to "/". Storages whose mount point or bind source go
 * through them must be refused with INVALID_ARGUMENT naming the symlink, and nothing may be
 * made, chmodded or mounted outside /run/kata-containers. Then CopyFile's set-id modes,
 * and requests whose strings hold NUL or bytes that are not UTF-8. */
#include "itest.h"

#include <arpa/inet.h>
#include "ttrpc.pb-c.h"
#include <sys/socket.h>

#define SHARED	    "/run/kata-containers/shared/containers"
#define EVIL	    SHARED "/evil"     /* -> IT_OUTSIDE */
#define ROOTLINK    SHARED "/rootlink" /* -> "/" */
#define EVIL_INSIDE SHARED "/d/evil"   /* a symlink one directory down */

static const char *outside;

/* ---- helpers -------------------------------------------------------------------------------- */

static int copy_req(struct it *t, const char *path, uint32_t mode, const char *data, int uid)
{
	Grpc__CopyFileRequest r = GRPC__COPY_FILE_REQUEST__INIT;
	r.path = (char *)path;
	r.file_mode = mode;
	r.dir_mode = 0755;
	r.uid = uid;
	r.gid = uid;
	r.data.data = (uint8_t *)data;
	r.data.len = data ? strlen(data) : 0;
	r.file_size = S_ISLNK(mode) ? 0 : (int64_t)r.data.len;
	return it_ok(t, "CopyFile", &r.base, NULL, NULL);
}

/* IT_OUTSIDE is as it was: empty, 0755, not a mount point of the agent or of this machine. */
static int outside_untouched(struct it *t, const char *after)
{
	struct stat st;
	char path[PATH_MAX];
	if (stat(outside, &st) < 0 || (st.st_mode & 07777) != 0755)
		return it_why(t, "after %s: %s has mode %o, want 0755", after, outside,
			      st.st_mode & 07777);
	int n = it_count_dir(outside);
	if (n != 0)
		return it_why(t, "after %s: %s holds %d entries, want none", after, outside, n);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), i ? "/proc/self/mountinfo" : "/proc/%d/mountinfo",
			 (int)t->agent);
		char *mi = it_read_file(path, NULL);
		bool hit = mi && strstr(mi, outside);
		free(mi);
		if (hit)
			return it_why(t, "after %s: %s is a mount point in %s", after, outside,
				      path);
	}
	return 0;
}

/* The mount options (mountinfo's 6th field) of the agent's mount at path, "" if none. */
static const char *agent_mount_opts(struct it *t, const char *path, char *buf, size_t size)
{
	char mi_path[64], needle[PATH_MAX + 2];
	snprintf(mi_path, sizeof(mi_path), "/proc/%d/mountinfo", (int)t->agent);
	snprintf(needle, sizeof(needle), " %s ", path);
	char *mi = it_read_file(mi_path, NULL);
	const char *hit = mi ? strstr(mi, needle) : NULL;
	size_t n = 0;
	for (const char *p = hit ? hit + strlen(needle) : ""; *p && *p != ' ' && n + 1 < size;)
		buf[n++] = *p++;
	buf[n] = '\0';
	free(mi);
	return buf;
}

static bool agent_mounted(struct it *t, const char *path)
{
	char o[256];
	return agent_mount_opts(t, path, o, sizeof(o))[0] != '\0';
}

static void storage_init(Grpc__Storage *st, const char *driver, const char *source,
			 const char *fstype, const char *mp, char **opts, size_t n_opts)
{
	grpc__storage__init(st);
	st->driver = (char *)driver;
	st->source = (char *)source;
	st->fstype = (char *)fstype;
	st->mount_point = (char *)mp;
	st->options = opts;
	st->n_options = n_opts;
}

static int create_with_storage(struct it *t, const char *cid, Grpc__Storage *st, int want,
			       const char *part)
{
	struct it_spec s;
	Grpc__CreateContainerRequest req;
	Grpc__Storage *stp[1] = {st};
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	it_create_req(&req, cid, &s);
	req.storages = stp;
	req.n_storages = 1;
	if (want == 0)
		return it_ok(t, "CreateContainer", &req.base, NULL, NULL);
	return it_code_msg(t, "CreateContainer", &req.base, want, part);
}

/* ---- symlinks planted on the share ------------------------------------------------------ */

static int case_plant_symlinks(struct it *t)
{
	if (copy_req(t, EVIL, S_IFLNK | 0777, outside, 0) < 0 ||
	    copy_req(t, ROOTLINK, S_IFLNK | 0777, "/", 0) < 0 ||
	    copy_req(t, SHARED "/d", S_IFDIR | 0755, NULL, 0) < 0 ||
	    copy_req(t, EVIL_INSIDE, S_IFLNK | 0777, outside, 0) < 0)
		return -1;
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n =
	    readlink(it_agent_path(t, path, sizeof(path), EVIL), target, sizeof(target) - 1);
	if (n < 0 || (size_t)n != strlen(outside) || memcmp(target, outside, (size_t)n) != 0)
		return it_why(t, "the planted symlink %s is not there", EVIL);
	return outside_untouched(t, "planting");
}

/* Every driver that makes its mount point: local (mkdir + chmod 0777), ephemeral (tmpfs),
 * bind; through the symlink as the last component, in the middle, one directory down, and
 * through a symlink to "/". */
static int case_storage_mount_points(struct it *t)
{
	static char *mode[] = {"mode=0777"};
	char via_root[PATH_MAX];
	snprintf(via_root, sizeof(via_root), "%s%s/made", ROOTLINK, outside);
	const struct {
		const char *driver, *source, *mp;
	} bad[] = {
	    {"local", "", EVIL "/vol"},	       {"local", "", EVIL},
	    {"local", "", EVIL_INSIDE "/a/b"}, {"local", "", via_root},
	    {"ephemeral", "tmpfs", EVIL},      {"ephemeral", "tmpfs", EVIL "/tmp"},
	    {"ephemeral", "tmpfs", via_root},  {"bind", SHARED "/d", EVIL "/bind"},
	};
	for (size_t i = 0; i < IT_N(bad); i++) {
		Grpc__Storage st;
		storage_init(&st, bad[i].driver, bad[i].source, "", bad[i].mp, mode, 1);
		if (create_with_storage(t, "evil-storage", &st, PD_INVALID_ARGUMENT, "symlink") < 0)
			return it_why(t, "%s storage at %s: %s", bad[i].driver, bad[i].mp, t->why);
		if (it_remove_code(t, "evil-storage") != PD_NOT_FOUND)
			return it_why(t, "a container was left after a refused storage");
		if (outside_untouched(t, bad[i].mp) < 0)
			return -1;
	}
	return 0;
}

/* A bind storage whose source goes through a symlink: the guest's "/" (or IT_OUTSIDE) must
 * not be bound into /run/kata-containers. */
static int case_bind_source(struct it *t)
{
	const char *sources[] = {EVIL, ROOTLINK, EVIL_INSIDE};
	const char *mp = "/run/kata-containers/attacker/bound";
	for (size_t i = 0; i < IT_N(sources); i++) {
		Grpc__Storage st;
		storage_init(&st, "bind", sources[i], "", mp, NULL, 0);
		if (create_with_storage(t, "evil-bind", &st, PD_INVALID_ARGUMENT, "symlink") < 0)
			return it_why(t, "bind of %s: %s", sources[i], t->why);
		if (agent_mounted(t, mp))
			return it_why(t, "%s was bound on %s", sources[i], mp);
	}
	return outside_untouched(t, "bind storages");
}

/* The subPath attack inside the VM: a container with a volume on the share turns a
 * directory of it into "sub -> /"; a second container whose spec binds that subPath must be
 * refused, not handed the guest's root. */
static int case_bind_subpath_from_container(struct it *t)
{
	struct it_spec a, b;
	struct it_io io = {0};
	int status = -1, rc = -1;
	static char *rw[] = {"rbind", "rw"};
	it_spec_default(&a, t->rootfs);
	it_spec_mount(&a, "/vol", "bind", SHARED "/d", rw, 2);
	it_spec_args(&a, "/bin/pdtest", "symlink", "/", "/vol/sub", NULL);
	rc = it_run(t, "attacker-a", &a, &io, &status);
	if (rc == 0)
		rc = it_expect_out(t, "symlink from the container", &io, status, "ok\n", 0);
	it_cleanup(t, "attacker-a", &rc);
	if (rc < 0)
		goto out;
	it_spec_default(&b, t->rootfs);
	it_spec_mount(&b, "/mnt", "bind", SHARED "/d/sub", rw, 2);
	it_spec_args(&b, "/bin/pdtest", "cat", "/mnt/proc/1/cmdline", NULL);
	Grpc__CreateContainerRequest req;
	it_create_req(&req, "attacker-b", &b);
	rc = it_code_msg(t, "CreateContainer", &req.base, PD_INVALID_ARGUMENT, "symlink");
	if (rc == 0 && it_remove_code(t, "attacker-b") != PD_NOT_FOUND)
		rc = it_why(t, "attacker-b exists after a refused create");
out:
	it_io_free(&io);
	return rc;
}

/* CreateSandbox storages go the same way: refused, no sandbox made. */
static int case_sandbox_storage(struct it *t)
{
	static char *mode[] = {"mode=0777"};
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage st, *stp[1] = {&st};
	storage_init(&st, "local", "", "", EVIL "/sandbox-vol", mode, 1);
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = (char *)t->sandbox;
	req.storages = stp;
	req.n_storages = 1;
	TRY(it_code_msg(t, "CreateSandbox", &req.base, PD_INVALID_ARGUMENT, "symlink"));
	storage_init(&st, "ephemeral", "tmpfs", "", EVIL, NULL, 0);
	TRY(it_code_msg(t, "CreateSandbox", &req.base, PD_INVALID_ARGUMENT, "symlink"));
	return outside_untouched(t, "CreateSandbox");
out:
	return -1;
}

/* The same drivers at clean paths still work: a local directory of mode 0777, a tmpfs,
 * a bind of a directory of the share (the sandbox's storages: kept until it ends). */
static int case_clean_storages_work(struct it *t)
{
	static char *mode[] = {"mode=0777"};
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage st[3], *stp[3] = {&st[0], &st[1], &st[2]};
	storage_init(&st[0], "local", "", "", "/run/kata-containers/sandbox/local/v1", mode, 1);
	storage_init(&st[1], "ephemeral", "tmpfs", "", "/run/kata-containers/sandbox/eph", NULL, 0);
	static char *ro[] = {"rbind", "ro", "nosuid"};
	storage_init(&st[2], "bind", SHARED "/d", "", "/run/kata-containers/sandbox/bound", ro, 3);
	req.hostname = IT_HOSTNAME;
	req.sandbox_id = (char *)t->sandbox;
	req.storages = stp;
	req.n_storages = 3;
	if (it_ok(t, "CreateSandbox", &req.base, NULL, NULL) < 0)
		return -1;
	char path[PATH_MAX];
	struct stat st0;
	if (stat(it_agent_path(t, path, sizeof(path), "%s", st[0].mount_point), &st0) < 0 ||
	    (st0.st_mode & 07777) != 0777)
		return it_why(t, "local storage: %s is not a directory of mode 0777", path);
	char o[256];
	if (!agent_mounted(t, st[1].mount_point))
		return it_why(t, "the ephemeral storage is not mounted");
	agent_mount_opts(t, st[2].mount_point, o, sizeof(o));
	if (strncmp(o, "ro,", 3) != 0 || !strstr(o, "nosuid"))
		return it_why(t, "the bind storage's options are '%s', want ro and nosuid", o);
	return outside_untouched(t, "clean storages");
}

/* ---- CopyFile keeps set-id bits ------------------------------------------------------------- */

static int case_copyfile_setuid(struct it *t)
{
	const struct {
		const char *path;
		uint32_t mode;
		int uid;
	} files[] = {
	    {SHARED "/suid-root", S_IFREG | 04755, 0},
	    {SHARED "/suid-user", S_IFREG | 04755, 1000},
	    {SHARED "/sgid-user", S_IFREG | 02711, 1000},
	};
	for (size_t i = 0; i < IT_N(files); i++) {
		char path[PATH_MAX];
		struct stat st;
		if (copy_req(t, files[i].path, files[i].mode, "#!/bin/true\n", files[i].uid) < 0)
			return -1;
		if (stat(it_agent_path(t, path, sizeof(path), "%s", files[i].path), &st) < 0)
			return it_why(t, "stat %s: %s", path, strerror(errno));
		if ((st.st_mode & 07777) != (files[i].mode & 07777) ||
		    st.st_uid != (uid_t)files[i].uid)
			return it_why(t, "%s: mode %o uid %d, want %o uid %d", files[i].path,
				      st.st_mode & 07777, (int)st.st_uid, files[i].mode & 07777,
				      files[i].uid);
	}
	return 0;
}

/* ---- strings with NUL or bytes that are not UTF-8 --------------------------------------- */

/* RFC 3629, written again here: the test must not trust the agent's own checker. */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80	      ? 0
			: (*s & 0xE0) == 0xC0 ? 1
			: (*s & 0xF0) == 0xE0 ? 2
			: (*s & 0xF8) == 0xF0 ? 3
					      : -1;
		if (n < 0 || (n == 1 && *s < 0xC2) || (n == 3 && *s > 0xF4))
			return false;
		uint32_t cp = n == 0 ? *s : *s & (0x3F >> n);
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3F);
		}
		static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
		if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += n + 1;
	}
	return true;
}

/* Pack msg with placeholder strings, overwrite one placeholder's bytes on the wire, send. */
static int send_patched(struct it *t, const char *method, const ProtobufCMessage *msg,
			const char *from, const char *to, size_t n, struct pd_client_reply *r)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len);
	struct pd_error err = {0};
	protobuf_c_message_pack(msg, buf);
	uint8_t *p = memmem(buf, len, from, n);
	if (!p) {
		free(buf);
		return it_why(t, "%s: placeholder not in the packed message", method);
	}
	memcpy(p, to, n);
	int rc = pd_client_call_raw(&t->c, IT_SERVICE, method, buf, len, IT_CALL_MS, r, &err);
	free(buf);
	return rc < 0 ? it_why(t, "%s: no answer: %s", method, err.msg) : 0;
}

static int expect_refused(struct it *t, const char *method, const ProtobufCMessage *msg,
			  const char *from, const char *to, size_t n, const char *field)
{
	struct pd_client_reply r;
	if (send_patched(t, method, msg, from, to, n, &r) < 0)
		return -1;
	int code = r.code;
	char m[sizeof(r.message)];
	snprintf(m, sizeof(m), "%s", r.message);
	pd_client_reply_free(&r);
	if (code != PD_INVALID_ARGUMENT || !strstr(m, field))
		return it_why(t, "%s with %s = %s: %s '%s', want INVALID_ARGUMENT naming %s",
			      method, field, IT_SHOW(to, n), pd_code_name(code), m, field);
	if (!utf8_ok((const unsigned char *)m))
		return it_why(t, "%s: the status message is not UTF-8: %s", method,
			      IT_SHOW(m, strlen(m)));
	return 0;
}

static int case_ids_with_nul_and_bad_utf8(struct it *t)
{
	Grpc__RemoveContainerRequest rm = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	Grpc__StartContainerRequest start = GRPC__START_CONTAINER_REQUEST__INIT;
	Grpc__SignalProcessRequest sig = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	Grpc__CreateSandboxRequest sb = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	rm.container_id = "@@@@@";
	start.container_id = "@@@@@";
	sig.container_id = "ctr-x";
	sig.exec_id = "@@@@@";
	sb.sandbox_id = "@@@@@";
	sb.hostname = IT_HOSTNAME;
	TRY(expect_refused(t, "RemoveContainer", &rm.base, "@@@@@", "ab\0cd", 5, "container_id"));
	TRY(expect_refused(t, "RemoveContainer", &rm.base, "@@@@@",
			   "ab\xff\xfe"
			   "d",
			   5, "container_id"));
	TRY(expect_refused(t, "StartContainer", &start.base, "@@@@@", "\0\0\0\0\0", 5,
			   "container_id"));
	TRY(expect_refused(t, "SignalProcess", &sig.base, "@@@@@", "e\xc0\x80x1", 5, "exec_id"));
	TRY(expect_refused(t, "CreateSandbox", &sb.base, "@@@@@", "sb\xed\xa0\x80", 5,
			   "sandbox_id"));
	/* Deep in the spec: a storage's mount point with a NUL ("/run/kata-containers/ok\0/..."
	 * would be taken as ".../ok"). */
	struct it_spec s;
	Grpc__CreateContainerRequest cc;
	Grpc__Storage st, *stp[1] = {&st};
	it_spec_default(&s, t->rootfs);
	it_spec_args(&s, "true", NULL);
	it_create_req(&cc, "nul-storage", &s);
	storage_init(&st, "local", "", "", "/run/kata-containers/ok@/x", NULL, 0);
	cc.storages = stp;
	cc.n_storages = 1;
	TRY(expect_refused(t, "CreateContainer", &cc.base, "ok@", "ok\0", 3,
			   "storages.mount_point"));
	/* Nothing was made for any of them: the agent answers as before. */
	if (it_remove_code(t, "ab") != PD_NOT_FOUND)
		return it_why(t, "RemoveContainer ab: %s", t->msg);
	return 0;
out:
	return -1;
}

/* The ttRPC Request's own strings: a service name with a NUL is not grpc.AgentService. */
static int case_service_name_with_nul(struct it *t)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	req.service = "grpc.Health@@";
	req.method = "Check";
	size_t len = ttrpc__request__get_packed_size(&req);
	uint8_t frame[256];
	if (len + 10 > sizeof(frame))
		return it_why(t, "request too long");
	ttrpc__request__pack(&req, frame + 10);
	uint8_t *p = memmem(frame + 10, len, "@@", 2);
	memcpy(p, "\0x", 2);
	uint32_t stream = t->c.next_stream;
	t->c.next_stream += 2;
	uint32_t be_len = htonl((uint32_t)len), be_stream = htonl(stream);
	memcpy(frame, &be_len, 4);
	memcpy(frame + 4, &be_stream, 4);
	frame[8] = 1; /* request */
	frame[9] = 0;
	if (send(t->c.fd, frame, len + 10, MSG_NOSIGNAL) != (ssize_t)(len + 10))
		return it_why(t, "send: %s", strerror(errno));
	struct pd_client_reply r;
	struct pd_error err = {0};
	if (pd_client_recv(&t->c, IT_CALL_MS, &r, &err) < 0)
		return it_why(t, "no answer: %s", err.msg);
	int code = r.code;
	char m[sizeof(r.message)];
	snprintf(m, sizeof(m), "%s", r.message);
	pd_client_reply_free(&r);
	if (r.stream_id != stream || code != PD_INVALID_ARGUMENT || !strstr(m, "service"))
		return it_why(t, "got %s '%s' on stream %u, want INVALID_ARGUMENT naming service",
			      pd_code_name(code), m, r.stream_id);
	return it_sync(t, &t->c);
}

/* In this order: the symlinks first, CreateSandbox refused then made, then containers. */
static const struct it_case cases[] = {
    {"plant_symlinks", case_plant_symlinks},
    {"sandbox_storage", case_sandbox_storage},
    {"clean_storages_work", case_clean_storages_work},
    {"storage_mount_points", case_storage_mount_points},
    {"bind_source", case_bind_source},
    {"bind_subpath_from_container", case_bind_subpath_from_container},
    {"copyfile_setuid", case_copyfile_setuid},
    {"ids_with_nul_and_bad_utf8", case_ids_with_nul_and_bad_utf8},
    {"service_name_with_nul", case_service_name_with_nul},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	struct it t;
	outside = getenv("IT_OUTSIDE");
	if (!outside || outside[0] != '/') {
		printf("not ok - setup: IT_OUTSIDE must name an empty directory\n");
		return 1;
	}
	if (it_init(&t, argc, argv) < 0)
		return 1;
	it_run_cases(&t, cases);
	return it_finish(&t, "attacker_paths");
}
