/* JSON -> protobuf through descriptors (agent/ctl/json_to_proto.c) and the OCI bundle
 * reader (agent/ctl/bundle.c). The ctl sources are not part of the agent, so the files under
 * test are compiled in here; jsmn and the pd_json_* helpers come from the agent's
 * json_read.c. Every test frees what it decoded: LeakSanitizer checks the error paths too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/ctl/bundle.c"
#include "agent/ctl/json_to_proto.c"

#include "agent.pb-c.h"

/* What `runc spec` (runc 1.1.5) prints, unchanged. */
static const char runc_spec[] =
	"{\n"
	"\t\"ociVersion\": \"1.0.2-dev\",\n"
	"\t\"process\": {\n"
	"\t\t\"terminal\": true,\n"
	"\t\t\"user\": {\n\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n"
	"\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
	"\t\t\"env\": [\n"
	"\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"\t\t\t\"TERM=xterm\"\n\t\t],\n"
	"\t\t\"cwd\": \"/\",\n"
	"\t\t\"capabilities\": {\n"
	"\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
	"\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
	"\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
	"\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
	"\t\t},\n"
	"\t\t\"rlimits\": [\n"
	"\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n\t\t\t\t\"hard\": 1024,\n"
	"\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
	"\t\t\"noNewPrivileges\": true\n"
	"\t},\n"
	"\t\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
	"\t\"hostname\": \"runc\",\n"
	"\t\"mounts\": [\n"
	"\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
	"\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
	"\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\",\n"
	"\t\t             \"mode=0620\", \"gid=5\"]},\n"
	"\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
	"\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
	"\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
	"\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
	"\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
	"\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
	"\t],\n"
	"\t\"linux\": {\n"
	"\t\t\"resources\": {\n"
	"\t\t\t\"devices\": [\n\t\t\t\t{\n\t\t\t\t\t\"allow\": false,\n"
	"\t\t\t\t\t\"access\": \"rwm\"\n\t\t\t\t}\n\t\t\t]\n\t\t},\n"
	"\t\t\"namespaces\": [\n"
	"\t\t\t{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
	"\t\t\t{\"type\": \"uts\"}, {\"type\": \"mount\"}\n"
	"\t\t],\n"
	"\t\t\"maskedPaths\": [\n"
	"\t\t\t\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
	"\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
	"\t\t\t\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"\n"
	"\t\t],\n"
	"\t\t\"readonlyPaths\": [\n"
	"\t\t\t\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
	"\t\t]\n"
	"\t}\n"
	"}";

/* Unknown keys seen, joined by spaces. */
static char unknown_seen[512];

static void record_unknown(void *ctx, const char *path)
{
	size_t n = strlen(unknown_seen);
	snprintf(unknown_seen + n, sizeof(unknown_seen) - n, "%s%s", n ? " " : "", path);
}

static const struct pd_j2p_unknown recorder = {record_unknown, NULL};

static int decode(const char *json, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out,
		  struct pd_error *err)
{
	unknown_seen[0] = '\0';
	memset(err, 0, sizeof(*err));
	return pd_json_to_proto(json, strlen(json), d, &recorder, out, err);
}

static Grpc__Spec *spec_ok(const char *json)
{
	ProtobufCMessage *m;
	struct pd_error err;
	int rc = decode(json, &grpc__spec__descriptor, &m, &err);
	if (rc != 0)
		fail_msg("decode failed: %s", err.msg);
	return (Grpc__Spec *)m;
}

/* Decoding fails with INVALID_ARGUMENT and a message containing want. */
static void spec_fails(const char *json, const char *want)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	struct pd_error err;
	assert_int_equal(decode(json, &grpc__spec__descriptor, &m, &err), -1);
	assert_null(m);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not contain '%s'", err.msg, want);
}

static void free_msg(void *m)
{
	protobuf_c_message_free_unpacked(m, NULL);
}

static void assert_strv(char **v, size_t n, const char *const *want, size_t n_want)
{
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
}

#define STRV(v, n, ...)                                                                       \
	do {                                                                                  \
		static const char *const w_[] = {__VA_ARGS__};                                \
		assert_strv(v, n, w_, sizeof(w_) / sizeof(w_[0]));                            \
	} while (0)

static void check_runc_process(const Grpc__Process *p)
{
	assert_non_null(p);
	assert_true(p->terminal);
	assert_null(p->consolesize);
	assert_non_null(p->user);
	assert_int_equal(p->user->uid, 0);
	assert_int_equal(p->user->gid, 0);
	assert_int_equal(p->user->n_additionalgids, 0);
	assert_string_equal(p->user->username, "");
	STRV(p->args, p->n_args, "sh");
	STRV(p->env, p->n_env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	     "TERM=xterm");
	assert_string_equal(p->cwd, "/");
	const Grpc__LinuxCapabilities *c = p->capabilities;
	assert_non_null(c);
	STRV(c->bounding, c->n_bounding, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	STRV(c->effective, c->n_effective, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	STRV(c->permitted, c->n_permitted, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	STRV(c->ambient, c->n_ambient, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
	assert_int_equal(c->n_inheritable, 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_string_equal(p->rlimits[0]->type, "RLIMIT_NOFILE");
	assert_int_equal(p->rlimits[0]->hard, 1024);
	assert_int_equal(p->rlimits[0]->soft, 1024);
	assert_true(p->nonewprivileges);
	assert_string_equal(p->apparmorprofile, "");
	assert_int_equal(p->oomscoreadj, 0);
	assert_string_equal(p->selinuxlabel, "");
}

static void check_mount(const Grpc__Mount *m, const char *dst, const char *type,
			const char *src, const char *opts)
{
	char joined[256] = "";
	assert_string_equal(m->destination, dst);
	assert_string_equal(m->type, type);
	assert_string_equal(m->source, src);
	for (size_t i = 0; i < m->n_options; i++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
			 i ? "," : "", m->options[i]);
	assert_string_equal(joined, opts);
}

static void check_runc_linux(const Grpc__Linux *l)
{
	assert_non_null(l);
	assert_non_null(l->resources);
	assert_int_equal(l->resources->n_devices, 1);
	assert_false(l->resources->devices[0]->allow);
	assert_string_equal(l->resources->devices[0]->access, "rwm");
	assert_string_equal(l->resources->devices[0]->type, "");
	assert_null(l->resources->memory);
	assert_int_equal(l->n_namespaces, 5);
	static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount"};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(l->namespaces[i]->type, ns[i]);
		assert_string_equal(l->namespaces[i]->path, "");
	}
	STRV(l->maskedpaths, l->n_maskedpaths, "/proc/acpi", "/proc/asound", "/proc/kcore",
	     "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	     "/proc/sched_debug", "/sys/firmware", "/proc/scsi");
	STRV(l->readonlypaths, l->n_readonlypaths, "/proc/bus", "/proc/fs", "/proc/irq",
	     "/proc/sys", "/proc/sysrq-trigger");
	assert_int_equal(l->n_uidmappings, 0);
	assert_int_equal(l->n_sysctl, 0);
	assert_null(l->seccomp);
	assert_string_equal(l->cgroupspath, "");
}

static void test_runc_spec(void **state)
{
	Grpc__Spec *s = spec_ok(runc_spec);
	assert_string_equal(unknown_seen, "");
	assert_string_equal(s->version, "1.0.2-dev");
	check_runc_process(s->process);
	assert_non_null(s->root);
	assert_string_equal(s->root->path, "rootfs");
	assert_true(s->root->readonly);
	assert_string_equal(s->hostname, "runc");
	assert_int_equal(s->n_mounts, 7);
	check_mount(s->mounts[0], "/proc", "proc", "proc", "");
	check_mount(s->mounts[1], "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	check_mount(s->mounts[2], "/dev/pts", "devpts", "devpts",
		    "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	check_mount(s->mounts[3], "/dev/shm", "tmpfs", "shm",
		    "nosuid,noexec,nodev,mode=1777,size=65536k");
	check_mount(s->mounts[4], "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	check_mount(s->mounts[5], "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	check_mount(s->mounts[6], "/sys/fs/cgroup", "cgroup", "cgroup",
		    "nosuid,noexec,nodev,relatime,ro");
	assert_null(s->hooks);
	assert_int_equal(s->n_annotations, 0);
	check_runc_linux(s->linux_);
	assert_null(s->solaris);
	assert_null(s->windows);

	/* It encodes, and decodes back to the same bytes. */
	size_t n = protobuf_c_message_get_packed_size(&s->base);
	uint8_t *buf = malloc(n), *buf2 = malloc(n);
	assert_int_equal(protobuf_c_message_pack(&s->base, buf), n);
	ProtobufCMessage *back = protobuf_c_message_unpack(&grpc__spec__descriptor, NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(protobuf_c_message_get_packed_size(back), n);
	protobuf_c_message_pack(back, buf2);
	assert_memory_equal(buf, buf2, n);
	free_msg(back);
	free(buf);
	free(buf2);
	free_msg(s);
}

/* Fields `runc spec` leaves out: maps, id mappings, seccomp (with its oneof), devices,
 * resources with negative int64s, hooks, console size, and keys that fit nothing. */
static const char rich_spec[] =
	"{\"ociVersion\": \"1.1.0\", \"domainname\": \"ignored\","
	" \"annotations\": {\"a.b/c\": \"x\", \"empty\": \"\"},"
	" \"process\": {\"consoleSize\": {\"height\": 24, \"width\": 80},"
	"   \"user\": {\"uid\": 4294967295, \"gid\": 1000, \"additionalGids\": [5, 6],"
	"              \"username\": \"u\", \"umask\": 18},"
	"   \"oomScoreAdj\": -999, \"apparmorProfile\": \"p\", \"selinuxLabel\": \"l\","
	"   \"args\": [\"a\\tb\", \"\\u00e9\\n\"], \"ioPriority\": {\"class\": 1}},"
	" \"hooks\": {\"prestart\": [{\"path\": \"/bin/h\", \"args\": [\"h\"], \"timeout\": 5}],"
	"            \"createRuntime\": [{\"path\": \"/bin/c\"}]},"
	" \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
	"   \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
	"   \"namespaces\": [{\"type\": \"network\", \"path\": \"/var/run/netns/x\"}],"
	"   \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10,"
	"                  \"minor\": 229, \"fileMode\": 438, \"uid\": 0, \"gid\": 0}],"
	"   \"resources\": {\"memory\": {\"limit\": 536870912, \"swap\": -1,"
	"                                \"disableOOMKiller\": true},"
	"                   \"cpu\": {\"shares\": 1024, \"quota\": -1, \"cpus\": \"0-1\"},"
	"                   \"pids\": {\"limit\": 100}, \"unified\": {\"memory.high\": \"1\"},"
	"                   \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}]},"
	"   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
	"     \"architectures\": [\"SCMP_ARCH_X86_64\"], \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],"
	"     \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	"                   {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
	"                    \"errnoRet\": 0, \"args\": [{\"index\": 1, \"value\": 18446744073709551615,"
	"                    \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]},"
	"   \"rootfsPropagation\": \"rslave\", \"mountLabel\": \"m\","
	"   \"intelRdt\": {\"l3CacheSchema\": \"L3:0=f\"}, \"cgroupsPath\": \"/a/b\"},"
	" \"mounts\": null, \"solaris\": null}";

static void check_rich_linux(const Grpc__Linux *l)
{
	assert_int_equal(l->n_uidmappings, 1);
	assert_int_equal(l->uidmappings[0]->containerid, 0);
	assert_int_equal(l->uidmappings[0]->hostid, 100000);
	assert_int_equal(l->uidmappings[0]->size, 65536);
	assert_int_equal(l->n_sysctl, 1);
	assert_string_equal(l->sysctl[0]->key, "net.ipv4.ip_forward");
	assert_string_equal(l->sysctl[0]->value, "1");
	assert_string_equal(l->namespaces[0]->path, "/var/run/netns/x");
	const Grpc__LinuxDevice *d = l->devices[0];
	assert_string_equal(d->path, "/dev/fuse");
	assert_int_equal(d->major, 10);
	assert_int_equal(d->minor, 229);
	assert_int_equal(d->filemode, 0666);
	const Grpc__LinuxResources *r = l->resources;
	assert_int_equal(r->memory->limit, 536870912);
	assert_int_equal(r->memory->swap, -1);
	assert_true(r->memory->disableoomkiller);
	assert_int_equal(r->cpu->shares, 1024);
	assert_int_equal(r->cpu->quota, -1);
	assert_string_equal(r->cpu->cpus, "0-1");
	assert_int_equal(r->pids->limit, 100);
	assert_string_equal(r->hugepagelimits[0]->pagesize, "2MB");
	const Grpc__LinuxSeccomp *sc = l->seccomp;
	assert_string_equal(sc->defaultaction, "SCMP_ACT_ERRNO");
	STRV(sc->architectures, sc->n_architectures, "SCMP_ARCH_X86_64");
	STRV(sc->flags, sc->n_flags, "SECCOMP_FILTER_FLAG_LOG");
	assert_int_equal(sc->n_syscalls, 2);
	STRV(sc->syscalls[0]->names, sc->syscalls[0]->n_names, "read", "write");
	assert_int_equal(sc->syscalls[0]->errno_ret_case, GRPC__LINUX_SYSCALL__ERRNO_RET__NOT_SET);
	/* errno 0 given is not errno absent: the oneof case says so */
	assert_int_equal(sc->syscalls[1]->errno_ret_case, GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET);
	assert_int_equal(sc->syscalls[1]->errnoret, 0);
	assert_int_equal(sc->syscalls[1]->args[0]->index, 1);
	assert_true(sc->syscalls[1]->args[0]->value == UINT64_MAX);
	assert_string_equal(sc->syscalls[1]->args[0]->op, "SCMP_CMP_EQ");
	assert_string_equal(l->rootfspropagation, "rslave");
	assert_string_equal(l->mountlabel, "m");
	assert_string_equal(l->intelrdt->l3cacheschema, "L3:0=f");
	assert_string_equal(l->cgroupspath, "/a/b");
}

static void test_rich_spec(void **state)
{
	Grpc__Spec *s = spec_ok(rich_spec);
	assert_string_equal(unknown_seen,
			    "domainname process.user.umask process.ioPriority "
			    "linux.resources.unified linux.seccomp.defaultErrnoRet");
	assert_string_equal(s->version, "1.1.0");
	assert_int_equal(s->n_annotations, 2);
	assert_string_equal(s->annotations[0]->key, "a.b/c");
	assert_string_equal(s->annotations[0]->value, "x");
	assert_string_equal(s->annotations[1]->key, "empty");
	assert_string_equal(s->annotations[1]->value, "");
	const Grpc__Process *p = s->process;
	assert_int_equal(p->consolesize->height, 24);
	assert_int_equal(p->consolesize->width, 80);
	assert_int_equal(p->user->uid, 4294967295u);
	assert_int_equal(p->user->gid, 1000);
	assert_int_equal(p->user->n_additionalgids, 2);
	assert_int_equal(p->user->additionalgids[1], 6);
	assert_string_equal(p->user->username, "u");
	assert_int_equal(p->oomscoreadj, -999);
	assert_string_equal(p->apparmorprofile, "p");
	assert_string_equal(p->selinuxlabel, "l");
	STRV(p->args, p->n_args, "a\tb", "\xc3\xa9\n");
	assert_int_equal(s->hooks->n_prestart, 1);
	assert_string_equal(s->hooks->prestart[0]->path, "/bin/h");
	assert_int_equal(s->hooks->prestart[0]->timeout, 5);
	assert_int_equal(s->hooks->n_createruntime, 1);
	assert_int_equal(s->n_mounts, 0);
	assert_null(s->solaris);
	check_rich_linux(s->linux_);
	free_msg(s);
}

static void test_bad_json(void **state)
{
	spec_fails("{\"process\": ", "json: ");
	spec_fails("{\"process\": {}} x", "json: ");
	spec_fails("[1, 2]", "top level: wants an object (Spec), not an array");
	spec_fails("{\"a\" \"b\"}", "malformed object");
	spec_fails("{\"hostname\": tru}", "json: ");
	ProtobufCMessage *m;
	struct pd_error err;
	assert_int_equal(pd_json_to_proto("", 0, &grpc__spec__descriptor, NULL, &m, &err), -1);
	assert_int_equal(pd_json_to_proto("{\"hostname\": \"a\0b\"}", 19, &grpc__spec__descriptor,
					  NULL, &m, &err),
			 -1);
}

static void test_wrong_types(void **state)
{
	spec_fails("{\"hostname\": 5}", "hostname: wants a string, not a number");
	spec_fails("{\"process\": {\"terminal\": \"yes\"}}",
		   "process.terminal: wants true or false, not a string");
	spec_fails("{\"process\": {\"args\": \"sh\"}}", "process.args: wants an array, not a string");
	spec_fails("{\"process\": {\"args\": [\"sh\", 1]}}", "process.args[1]: wants a string");
	spec_fails("{\"process\": {\"args\": [null]}}", "process.args[0]: null in a list");
	spec_fails("{\"root\": [\"rootfs\"]}", "root: wants an object, not an array");
	spec_fails("{\"process\": {\"user\": {\"uid\": \"0\"}}}",
		   "process.user.uid: wants an integer (uint32), not a string");
	spec_fails("{\"annotations\": {\"a\": 1}}", "annotations.a: wants a string, not a number");
	spec_fails("{\"annotations\": [1]}", "annotations[0]: wants an object");
	spec_fails("{\"linux\": {\"resources\": {\"memory\": {\"limit\": true}}}}",
		   "linux.resources.memory.limit: wants an integer (int64), not a boolean");
	/* the same field twice, under two spellings */
	spec_fails("{\"hostname\": \"a\", \"Hostname\": \"b\"}", "Hostname: given twice");
	spec_fails("{\"linux\": {}, \"Linux_\": {}}", "Linux_: given twice");
}

static void test_out_of_range(void **state)
{
	spec_fails("{\"process\": {\"user\": {\"uid\": -1}}}",
		   "process.user.uid: -1 is out of range for uint32");
	spec_fails("{\"process\": {\"user\": {\"gid\": 4294967296}}}",
		   "process.user.gid: 4294967296 is out of range for uint32");
	spec_fails("{\"process\": {\"user\": {\"additionalGids\": [1, 99999999999]}}}",
		   "process.user.additionalGids[1]: 99999999999 is out of range for uint32");
	spec_fails("{\"process\": {\"oomScoreAdj\": 9223372036854775808}}",
		   "process.oomScoreAdj: 9223372036854775808 is out of range for int64");
	spec_fails("{\"process\": {\"rlimits\": [{\"hard\": -5}]}}",
		   "process.rlimits[0].hard: -5 is out of range for uint64");
	spec_fails("{\"process\": {\"rlimits\": [{\"soft\": 18446744073709551616}]}}",
		   "out of range for uint64");
	spec_fails("{\"process\": {\"consoleSize\": {\"height\": 1.5}}}",
		   "process.consoleSize.height: 1.5 is not an integer (uint32)");
	spec_fails("{\"process\": {\"consoleSize\": {\"width\": 1e3}}}", "1e3 is not an integer");
}

/* The generic side: agent.proto requests with snake_case names, protobuf's JSON camelCase,
 * enums, bytes, and an unknown key reported with its full path. */
static void test_agent_requests(void **state)
{
	ProtobufCMessage *m;
	struct pd_error err;
	const char *json = "{\"hostname\": \"h\", \"dns\": [\"nameserver 10.0.0.1\"],"
			   " \"sandboxId\": \"sb\", \"sandbox_pidns\": true,"
			   " \"storages\": [{\"driver\": \"9p\", \"mount_point\": \"/m\","
			   "   \"fs_group\": {\"group_id\": 5, \"group_change_policy\": "
			   "\"OnRootMismatch\"}, \"bogus\": 1}]}";
	assert_int_equal(decode(json, &grpc__create_sandbox_request__descriptor, &m, &err), 0);
	Grpc__CreateSandboxRequest *r = (Grpc__CreateSandboxRequest *)m;
	assert_string_equal(r->hostname, "h");
	STRV(r->dns, r->n_dns, "nameserver 10.0.0.1");
	assert_string_equal(r->sandbox_id, "sb");
	assert_true(r->sandbox_pidns);
	assert_string_equal(r->storages[0]->driver, "9p");
	assert_string_equal(r->storages[0]->mount_point, "/m");
	assert_int_equal(r->storages[0]->fs_group->group_id, 5);
	assert_int_equal(r->storages[0]->fs_group->group_change_policy,
			 TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch);
	assert_string_equal(unknown_seen, "storages[0].bogus");
	free_msg(m);

	assert_int_equal(decode("{\"storages\": [{\"fs_group\": {\"group_change_policy\": 1}}]}",
				&grpc__create_sandbox_request__descriptor, &m, &err),
			 0);
	free_msg(m);
	assert_int_equal(decode("{\"storages\": [{\"fs_group\": {\"group_change_policy\": "
				"\"Never\"}}]}",
				&grpc__create_sandbox_request__descriptor, &m, &err),
			 -1);
	assert_non_null(strstr(err.msg, "'Never' is not a FSGroupChangePolicy"));

	/* bytes: base64 with and without padding, URL alphabet; bad ones refused */
	assert_int_equal(decode("{\"container_id\": \"c\", \"data\": \"aGVsbG8=\"}",
				&grpc__write_stream_request__descriptor, &m, &err),
			 0);
	Grpc__WriteStreamRequest *w = (Grpc__WriteStreamRequest *)m;
	assert_int_equal(w->data.len, 5);
	assert_memory_equal(w->data.data, "hello", 5);
	free_msg(m);
	assert_int_equal(decode("{\"data\": \"_-8\"}", &grpc__write_stream_request__descriptor,
				&m, &err),
			 0);
	w = (Grpc__WriteStreamRequest *)m;
	assert_int_equal(w->data.len, 2);
	assert_memory_equal(w->data.data, "\xff\xef", 2);
	free_msg(m);
	assert_int_equal(decode("{\"data\": \"a*==\"}", &grpc__write_stream_request__descriptor,
				&m, &err),
			 -1);
	assert_non_null(strstr(err.msg, "data: wants base64"));
	assert_int_equal(decode("{\"data\": \"abcde\"}", &grpc__write_stream_request__descriptor,
				&m, &err),
			 -1);

	/* int32 range */
	assert_int_equal(decode("{\"status\": -2147483649}", &grpc__wait_process_response__descriptor,
				&m, &err),
			 -1);
	assert_non_null(strstr(err.msg, "status: -2147483649 is out of range for int32"));
	assert_int_equal(decode("{\"status\": -2147483648}", &grpc__wait_process_response__descriptor,
				&m, &err),
			 0);
	assert_int_equal(((Grpc__WaitProcessResponse *)m)->status, INT32_MIN);
	free_msg(m);
}

/* Errors deep inside, after much was built: nothing leaks (LeakSanitizer), nothing is
 * returned. */
static void test_failure_late(void **state)
{
	spec_fails("{\"process\": {\"args\": [\"a\", \"b\"], \"env\": [\"X=1\"]},"
		   " \"mounts\": [{\"destination\": \"/a\", \"options\": [\"x\"]},"
		   "              {\"destination\": \"/b\", \"options\": [\"y\", 3]}]}",
		   "mounts[1].options[1]: wants a string");
	spec_fails("{\"annotations\": {\"a\": \"1\", \"b\": []}}", "annotations.b: wants a string");
	spec_fails("{\"linux\": {\"seccomp\": {\"syscalls\": [{\"errnoRet\": 1, \"errnoret\": 2}]}}}",
		   "given twice");
}

/* ---- Kata's host-side changes ------------------------------------------------------------ */

static void test_spec_for_guest(void **state)
{
	Grpc__Spec *s = spec_ok(rich_spec);
	bool pidns = true;
	struct pd_error err;
	/* rich_spec has no root */
	assert_int_equal(pd_ctl_spec_for_guest(s, "/r", &pidns, &err), -1);
	free_msg(s);

	s = spec_ok(runc_spec);
	assert_int_equal(pd_ctl_spec_for_guest(s, "relative", &pidns, &err), -1);
	assert_int_equal(pd_ctl_spec_for_guest(s, "/run/kata-containers/shared/containers/c/rootfs",
					       &pidns, &err),
			 0);
	assert_false(pidns);
	assert_string_equal(s->root->path, "/run/kata-containers/shared/containers/c/rootfs");
	assert_true(s->root->readonly);
	assert_int_equal(s->linux_->n_namespaces, 3);
	assert_string_equal(s->linux_->namespaces[0]->type, "ipc");
	assert_string_equal(s->linux_->namespaces[1]->type, "uts");
	assert_string_equal(s->linux_->namespaces[2]->type, "mount");
	free_msg(s);

	s = spec_ok("{\"root\": {\"path\": \"x\"}, \"hooks\": {\"poststop\": [{\"path\": \"/h\"}]},"
		    " \"linux\": {\"namespaces\": [{\"type\": \"pid\", \"path\": \"/proc/1/ns/pid\"},"
		    " {\"type\": \"ipc\", \"path\": \"/proc/1/ns/ipc\"}, {\"type\": \"cgroup\"},"
		    " {\"type\": \"time\"}, {\"type\": \"user\", \"path\": \"/u\"}]}}");
	assert_int_equal(pd_ctl_spec_for_guest(s, "/r", &pidns, &err), 0);
	assert_true(pidns); /* the pid namespace had a path: join the sandbox's */
	assert_null(s->hooks);
	assert_int_equal(s->linux_->n_namespaces, 2);
	assert_string_equal(s->linux_->namespaces[0]->type, "ipc");
	assert_string_equal(s->linux_->namespaces[0]->path, "");
	assert_string_equal(s->linux_->namespaces[1]->type, "user");
	assert_string_equal(s->linux_->namespaces[1]->path, "");
	free_msg(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_bundle(void **state)
{
	char dir[] = "/tmp/pd-bundle.XXXXXX", path[256], real[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, runc_spec);
	struct pd_ctl_bundle b = {.dir = dir, .terminal = -1, .unknown = &recorder};
	Grpc__Spec *s;
	bool pidns;
	struct pd_error err;

	/* no rootfs yet: the host path cannot be resolved */
	assert_int_equal(pd_ctl_load_bundle(&b, &s, &pidns, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	assert_non_null(strstr(err.msg, "rootfs"));

	snprintf(path, sizeof(path), "%s/rootfs", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_non_null(realpath(path, real));
	b.terminal = 0;
	assert_int_equal(pd_ctl_load_bundle(&b, &s, &pidns, &err), 0);
	assert_string_equal(s->root->path, real);
	assert_false(s->process->terminal);
	assert_int_equal(s->linux_->n_namespaces, 3);
	free_msg(s);

	/* a guest path is taken as it is; the host's rootfs is not looked at */
	b.rootfs_guest_path = "/run/kata-containers/shared/containers/x/rootfs";
	b.terminal = -1;
	assert_int_equal(pd_ctl_load_bundle(&b, &s, &pidns, &err), 0);
	assert_string_equal(s->root->path, b.rootfs_guest_path);
	assert_true(s->process->terminal);
	free_msg(s);

	/* a bad config.json names the file and the field */
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_file(path, "{\"process\": {\"user\": {\"uid\": -1}}}");
	assert_int_equal(pd_ctl_load_bundle(&b, &s, &pidns, &err), -1);
	assert_non_null(strstr(err.msg, "config.json: process.user.uid: -1 is out of range"));
	unlink(path);
	assert_int_equal(pd_ctl_load_bundle(&b, &s, &pidns, &err), -1);
	assert_int_equal(err.code, PD_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_read_file_limit(void **state)
{
	char path[] = "/tmp/pd-read.XXXXXX", *text;
	size_t len;
	struct pd_error err;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static char big[200000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	assert_int_equal(pd_ctl_read_file(path, sizeof(big), &text, &len, &err), 0);
	assert_int_equal(len, sizeof(big));
	assert_int_equal(text[len], '\0');
	free(text);
	assert_int_equal(pd_ctl_read_file(path, sizeof(big) - 1, &text, &len, &err), -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	assert_int_equal(pd_ctl_read_file(path, 1000, &text, &len, &err), -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_spec),	 cmocka_unit_test(test_rich_spec),
		cmocka_unit_test(test_bad_json),	 cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_out_of_range),	 cmocka_unit_test(test_agent_requests),
		cmocka_unit_test(test_failure_late),	 cmocka_unit_test(test_spec_for_guest),
		cmocka_unit_test(test_load_bundle),	 cmocka_unit_test(test_read_file_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
