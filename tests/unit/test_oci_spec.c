/* The protobuf -> engine line: agent/rpc/oci_spec.c, agent/container/mountopts.c and
 * agent/container/validate.c.
 *
 * 1. Kata's own CreateContainer and ExecProcess requests (tests/data/kata-wire) are
 *    decoded and converted; the resulting config is checked field by field.
 * 2. Hostile or broken inputs: each case decodes a fresh copy of the same spec, changes one
 *    field, and must fail with INVALID_ARGUMENT and a message naming that field.
 * 3. The id, path and mount-option functions on their own, table-driven.
 *
 * The test data directory: $PD_TESTDATA, else the repository's tests/data/kata-wire
 * (helpers/testdata.h).
 * Mutations replace strings and messages with malloc'd ones (protobuf-c's default allocator
 * is malloc), so *_free_unpacked() releases them and LeakSanitizer sees any leak. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "agent/container/mountopts.h"
#include "agent/container/validate.h"
#include "agent/rpc/oci_spec.h"
#include "helpers/testdata.h"

#define CREATE_VECTOR	 "grpc.AgentService.CreateContainer.req.pb"
#define EXEC_VECTOR	 "grpc.AgentService.ExecProcess.req.pb"
#define MAX_VECTOR_BYTES (1 << 20)
#define ARRAY_LEN(a)	 (sizeof(a) / sizeof((a)[0]))
#define BIT(cap)	 (UINT64_C(1) << (cap))

/* ---------------------------------------------------------------------------------------- */
/* Test data                                                                                */
/* ---------------------------------------------------------------------------------------- */

struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob create_blob, exec_blob;

static int load_blob(const char *dir, const char *name, struct blob *b)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	b->data = malloc(MAX_VECTOR_BYTES);
	b->len = b->data ? fread(b->data, 1, MAX_VECTOR_BYTES, f) : 0;
	fclose(f);
	return b->len > 0 && b->len < MAX_VECTOR_BYTES ? 0 : -1;
}

static int setup_vectors(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	if (pd_test_wire_dir(dir, sizeof(dir)) < 0)
		return -1;
	return load_blob(dir, CREATE_VECTOR, &create_blob) < 0 ||
		       load_blob(dir, EXEC_VECTOR, &exec_blob) < 0
		   ? -1
		   : 0;
}

static int teardown_vectors(void **state)
{
	(void)state;
	free(create_blob.data);
	free(exec_blob.data);
	return 0;
}

static Grpc__CreateContainerRequest *decode_create(void)
{
	Grpc__CreateContainerRequest *req =
	    grpc__create_container_request__unpack(NULL, create_blob.len, create_blob.data);
	assert_non_null(req);
	assert_non_null(req->oci);
	return req;
}

static Grpc__ExecProcessRequest *decode_exec(void)
{
	Grpc__ExecProcessRequest *req =
	    grpc__exec_process_request__unpack(NULL, exec_blob.len, exec_blob.data);
	assert_non_null(req);
	return req;
}

/* ---------------------------------------------------------------------------------------- */
/* Editing decoded messages (malloc'd, so free_unpacked releases them)                      */
/* ---------------------------------------------------------------------------------------- */

static void set_str(char **slot, const char *value)
{
	if (*slot && *slot != protobuf_c_empty_string)
		free(*slot);
	*slot = strdup(value);
	assert_non_null(*slot);
}

static void clear_strs(size_t *n, char ***arr)
{
	for (size_t i = 0; i < *n; i++)
		free((*arr)[i]);
	free(*arr);
	*arr = NULL;
	*n = 0;
}

static void grow(void **arr, size_t n, size_t elem)
{
	void *p = realloc(*arr, (n + 1) * elem);
	assert_non_null(p);
	*arr = p;
}

static Grpc__LinuxDevice *add_device(Grpc__Spec *s, const char *path, const char *type)
{
	Grpc__Linux *l = s->linux_;
	Grpc__LinuxDevice *d = malloc(sizeof(*d));

	assert_non_null(d);
	grpc__linux_device__init(d);
	set_str(&d->path, path);
	set_str(&d->type, type);
	grow((void **)&l->devices, l->n_devices, sizeof(*l->devices));
	l->devices[l->n_devices++] = d;
	return d;
}

static Grpc__Mount *add_mount(Grpc__Spec *s, const char *dest, const char *type, const char *source)
{
	Grpc__Mount *m = malloc(sizeof(*m));

	assert_non_null(m);
	grpc__mount__init(m);
	set_str(&m->destination, dest);
	set_str(&m->type, type);
	set_str(&m->source, source);
	grow((void **)&s->mounts, s->n_mounts, sizeof(*s->mounts));
	s->mounts[s->n_mounts++] = m;
	return m;
}

static void add_option(Grpc__Mount *m, const char *opt)
{
	grow((void **)&m->options, m->n_options, sizeof(*m->options));
	m->options[m->n_options] = NULL;
	set_str(&m->options[m->n_options++], opt);
}

static Grpc__Spec *spec_of(Grpc__CreateContainerRequest *req)
{
	return req->oci;
}

/* ---------------------------------------------------------------------------------------- */
/* Running a conversion                                                                     */
/* ---------------------------------------------------------------------------------------- */

static int convert(const Grpc__Spec *spec, const char *id, struct pd_container_config *cfg,
		   struct pd_error *err)
{
	pd_arena_init(&cfg->arena, PD_CONFIG_BYTES);
	pd_error_clear(err);
	return pd_oci_spec_to_config(spec, id, cfg, err);
}

/* rc must be -1 with `code` and a message containing `field`; case_name says which case. */
static void fails_naming(const char *case_name, int rc, const struct pd_error *err, int code,
			 const char *field)
{
	if (rc != -1)
		fail_msg("%s: accepted (rc %d), want %s naming '%s'", case_name, rc,
			 pd_code_name(code), field);
	if (err->code != code || !strstr(err->msg, field))
		fail_msg("%s: want %s naming '%s', got %s: %s", case_name, pd_code_name(code),
			 field, pd_code_name(err->code), err->msg);
}

static void assert_fails_naming(int rc, const struct pd_error *err, int code, const char *field)
{
	fails_naming("", rc, err, code, field);
}

/* ---------------------------------------------------------------------------------------- */
/* Kata's CreateContainer, field by field                                                   */
/* ---------------------------------------------------------------------------------------- */

static const uint64_t runc_default_caps =
    BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) | BIT(CAP_MKNOD) |
    BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) |
    BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);

static const char *const masked[] = {
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
static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct want_mount {
	const char *dest, *type, *source;
	unsigned long flags;
	const char *data;
};

static const struct want_mount want_mounts[] = {
    {"/proc", "proc", "proc", 0, NULL}, /* the vector gives /proc no options */
    {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
    {"/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
    {"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
};

static void assert_strv(char **got, size_t n_got, const char *const *want, size_t n_want)
{
	assert_int_equal(n_got, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_string_equal(got[i], want[i]);
	assert_null(got[n_want]); /* NULL-terminated */
}

static void check_kata_process(const struct pd_process_config *p)
{
	static const char *const env[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};

	assert_strv(p->env, p->n_env, env, ARRAY_LEN(env));
	assert_string_equal(p->cwd, "/");
	assert_int_equal(p->uid, 0);
	assert_int_equal(p->gid, 0);
	assert_int_equal(p->n_additional_gids, 0);
	assert_true(p->has_caps);
	assert_true(p->caps.bounding & BIT(CAP_CHOWN));
	assert_true(p->caps.permitted & BIT(CAP_AUDIT_WRITE));
	assert_false(p->caps.bounding & BIT(CAP_SYS_ADMIN));
	assert_int_equal(p->caps.bounding, runc_default_caps);
	assert_int_equal(p->caps.effective, runc_default_caps);
	assert_int_equal(p->caps.permitted, runc_default_caps);
	assert_int_equal(p->caps.inheritable, 0);
	assert_int_equal(p->caps.ambient, 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_true(p->no_new_privileges);
	assert_false(p->terminal);
	assert_false(p->has_oom_score_adj);
}

static void check_kata_mounts(const struct pd_container_config *cfg)
{
	assert_int_equal(cfg->n_mounts, ARRAY_LEN(want_mounts));
	for (size_t i = 0; i < ARRAY_LEN(want_mounts); i++) {
		const struct pd_mount *m = &cfg->mounts[i];
		const struct want_mount *w = &want_mounts[i];

		assert_string_equal(m->destination, w->dest);
		assert_string_equal(m->type, w->type);
		assert_string_equal(m->source, w->source);
		assert_int_equal(m->flags, w->flags);
		assert_int_equal(m->propagation, 0);
		assert_false(m->bind);
		if (w->data)
			assert_string_equal(m->data, w->data);
		else
			assert_null(m->data);
	}
}

static void test_create_container_spec(void **state)
{
	static const char *const args[] = {
	    "/bin/sh", "-c",
	    "echo kata-conform init ok; id; hostname; grep ^Cap /proc/self/status"};
	Grpc__CreateContainerRequest *req = decode_create();
	struct pd_container_config cfg;
	struct pd_error err;

	(void)state;
	assert_int_equal(pd_validate_container_id(req->container_id, &err), 0);
	assert_int_equal(convert(req->oci, req->container_id, &cfg, &err), 0);
	assert_string_equal(cfg.id, "wirecheck");
	assert_string_equal(cfg.rootfs, "/rootfs");
	assert_false(cfg.rootfs_readonly);
	assert_string_equal(cfg.hostname, "kata-conform");
	assert_strv(cfg.process.args, cfg.process.n_args, args, ARRAY_LEN(args));
	check_kata_process(&cfg.process);
	check_kata_mounts(&cfg);
	for (int t = 0; t < PD_NS_COUNT; t++) {
		bool want = t == PD_NS_PID || t == PD_NS_IPC || t == PD_NS_UTS || t == PD_NS_MNT;
		assert_int_equal(cfg.ns[t].enabled, want);
		assert_null(cfg.ns[t].path); /* the runtime sends no paths: new namespaces */
	}
	assert_int_equal(cfg.n_devices, 0);
	assert_strv(cfg.masked_paths, cfg.n_masked_paths, masked, ARRAY_LEN(masked));
	assert_strv(cfg.readonly_paths, cfg.n_readonly_paths, readonly, ARRAY_LEN(readonly));
	assert_int_equal(cfg.rootfs_propagation, MS_SLAVE | MS_REC);
	assert_null(cfg.cgroups_path);
	pd_arena_free(&cfg.arena);
	grpc__create_container_request__free_unpacked(req, NULL);
}

/* The fields the vector leaves at their defaults, set by hand to values that must pass. */
static void edit_all_optional_fields(Grpc__Spec *s)
{
	Grpc__Linux *l = s->linux_;
	Grpc__Process *p = s->process;
	Grpc__LinuxDevice *d;
	Grpc__Mount *m;

	set_str(&l->namespaces[1]->path, "/var/run/sandbox-ns/ipc");
	set_str(&l->namespaces[2]->path, "//var/run/sandbox-ns//uts/");
	d = add_device(s, "/dev/fuse", "c");
	d->major = 10;
	d->minor = 229;
	d->filemode = 020666; /* S_IFCHR | 0666: the type bits are dropped */
	d->uid = 1000;
	d = add_device(s, "/dev/./fifo", "p");
	d->major = -1; /* ignored for a fifo */
	m = add_mount(s, "/data/", "bind", "/run/kata-containers/shared//x");
	add_option(m, "rbind");
	add_option(m, "ro");
	add_option(m, "rprivate");
	m = add_mount(s, "/etc/hosts", "", "/run/hosts");
	add_option(m, "bind");
	set_str(&l->rootfspropagation, "rshared");
	set_str(&l->cgroupspath, "/kubepods/pod1/wirecheck");
	s->root->readonly = 1;
	set_str(&p->cwd, "/home//user/");
	p->oomscoreadj = -500;
	p->terminal = 1;
	p->consolesize = malloc(sizeof(*p->consolesize));
	assert_non_null(p->consolesize);
	grpc__box__init(p->consolesize);
	p->consolesize->height = 40;
	p->consolesize->width = 120;
	p->user->uid = 1000;
	p->user->gid = 1000;
	p->user->additionalgids = malloc(2 * sizeof(uint32_t));
	assert_non_null(p->user->additionalgids);
	p->user->additionalgids[0] = 10;
	p->user->additionalgids[1] = 20;
	p->user->n_additionalgids = 2;
}

static void check_optional_mounts(const struct pd_container_config *cfg)
{
	const struct pd_mount *m = &cfg->mounts[ARRAY_LEN(want_mounts)];

	assert_int_equal(cfg->n_mounts, ARRAY_LEN(want_mounts) + 2);
	assert_string_equal(m->destination, "/data");
	assert_string_equal(m->source, "/run/kata-containers/shared/x");
	assert_string_equal(m->type, "bind");
	assert_true(m->bind);
	assert_int_equal(m->flags, MS_BIND | MS_REC | MS_RDONLY);
	assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
	assert_null(m->data);
	m++;
	assert_string_equal(m->destination, "/etc/hosts");
	assert_null(m->type); /* no type, bind option */
	assert_true(m->bind);
	assert_int_equal(m->flags, MS_BIND);
}

static void test_optional_fields_convert(void **state)
{
	Grpc__CreateContainerRequest *req = decode_create();
	struct pd_container_config cfg;
	struct pd_error err;

	(void)state;
	edit_all_optional_fields(spec_of(req));
	if (convert(req->oci, "wirecheck", &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.ns[PD_NS_IPC].path, "/var/run/sandbox-ns/ipc");
	assert_string_equal(cfg.ns[PD_NS_UTS].path, "/var/run/sandbox-ns/uts");
	assert_null(cfg.ns[PD_NS_PID].path);
	assert_int_equal(cfg.n_devices, 2);
	assert_string_equal(cfg.devices[0].path, "/dev/fuse");
	assert_int_equal(cfg.devices[0].type, 'c');
	assert_int_equal(cfg.devices[0].major, 10);
	assert_int_equal(cfg.devices[0].minor, 229);
	assert_int_equal(cfg.devices[0].file_mode, 0666);
	assert_int_equal(cfg.devices[0].uid, 1000);
	assert_string_equal(cfg.devices[1].path, "/dev/fifo");
	assert_int_equal(cfg.devices[1].type, 'p');
	assert_int_equal(cfg.devices[1].major, 0);
	check_optional_mounts(&cfg);
	assert_int_equal(cfg.rootfs_propagation, MS_SHARED | MS_REC);
	assert_string_equal(cfg.cgroups_path, "/kubepods/pod1/wirecheck");
	assert_true(cfg.rootfs_readonly);
	assert_string_equal(cfg.process.cwd, "/home/user");
	assert_true(cfg.process.has_oom_score_adj);
	assert_int_equal(cfg.process.oom_score_adj, -500);
	assert_true(cfg.process.terminal);
	assert_int_equal(cfg.process.rows, 40);
	assert_int_equal(cfg.process.cols, 120);
	assert_int_equal(cfg.process.uid, 1000);
	assert_int_equal(cfg.process.gid, 1000);
	assert_int_equal(cfg.process.n_additional_gids, 2);
	assert_int_equal(cfg.process.additional_gids[1], 20);
	pd_arena_free(&cfg.arena);
	grpc__create_container_request__free_unpacked(req, NULL);
}

/* The caller's cfg may hold garbage apart from the arena: everything else is overwritten. */
static void test_config_is_overwritten(void **state)
{
	Grpc__CreateContainerRequest *req = decode_create();
	struct pd_container_config cfg;
	struct pd_error err;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(convert(req->oci, "wirecheck", &cfg, &err), 0);
	assert_null(cfg.devices);
	assert_null(cfg.cgroups_path);
	assert_null(cfg.ns[PD_NS_NET].path);
	assert_false(cfg.ns[PD_NS_NET].enabled);
	pd_arena_free(&cfg.arena);
	grpc__create_container_request__free_unpacked(req, NULL);
}

/* Over the arena's cap: RESOURCE_EXHAUSTED, not a crash and not INVALID_ARGUMENT. */
static void test_arena_limit(void **state)
{
	Grpc__CreateContainerRequest *req = decode_create();
	struct pd_container_config cfg;
	struct pd_error err;

	(void)state;
	pd_arena_init(&cfg.arena, 256);
	pd_error_clear(&err);
	assert_int_equal(pd_oci_spec_to_config(req->oci, "wirecheck", &cfg, &err), -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	assert_int_equal(err.errnum, ENOMEM);
	pd_arena_free(&cfg.arena);
	grpc__create_container_request__free_unpacked(req, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Kata's ExecProcess                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_exec_process(void **state)
{
	static const char *const args[] = {"echo", "hi"};
	Grpc__ExecProcessRequest *req = decode_exec();
	struct pd_process_config p;
	struct pd_arena a;
	struct pd_error err;

	(void)state;
	assert_int_equal(pd_validate_container_id(req->container_id, &err), 0);
	assert_int_equal(pd_validate_exec_id(req->exec_id, &err), 0);
	assert_string_equal(req->exec_id, "exec-1aa70a2b");
	pd_arena_init(&a, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_process_to_config(req->process, &a, &p, &err), 0);
	assert_strv(p.args, p.n_args, args, ARRAY_LEN(args));
	check_kata_process(&p);
	pd_arena_free(&a);

	/* Without a Capabilities message the exec inherits the container's: has_caps false. */
	grpc__linux_capabilities__free_unpacked(req->process->capabilities, NULL);
	req->process->capabilities = NULL;
	pd_arena_init(&a, PD_CONFIG_BYTES);
	assert_int_equal(pd_oci_process_to_config(req->process, &a, &p, &err), 0);
	assert_false(p.has_caps);
	assert_int_equal(p.caps.bounding, 0);
	pd_arena_free(&a);

	pd_arena_init(&a, PD_CONFIG_BYTES);
	assert_fails_naming(pd_oci_process_to_config(NULL, &a, &p, &err), &err, PD_INVALID_ARGUMENT,
			    "Process");
	pd_arena_free(&a);
	grpc__exec_process_request__free_unpacked(req, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Hostile and broken specs                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void relative_destination(Grpc__Spec *s)
{
	set_str(&s->mounts[3]->destination, "x");
}
static void dotdot_destination(Grpc__Spec *s)
{
	set_str(&s->mounts[0]->destination, "/proc/../etc");
}
static void relative_bind_source(Grpc__Spec *s)
{
	add_option(add_mount(s, "/data", "bind", "data"), "rbind");
}
static void untyped_mount(Grpc__Spec *s)
{
	set_str(&s->mounts[4]->type, "");
}
static void huge_mount_data(Grpc__Spec *s)
{
	char big[PD_MOUNT_DATA_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	add_option(s->mounts[1], big);
}
static void unknown_capability(Grpc__Spec *s)
{
	set_str(&s->process->capabilities->bounding[2], "CAP_BOGUS");
}
static void unknown_ambient_capability(Grpc__Spec *s)
{
	Grpc__LinuxCapabilities *c = s->process->capabilities;
	grow((void **)&c->ambient, c->n_ambient, sizeof(*c->ambient));
	c->ambient[c->n_ambient] = NULL;
	set_str(&c->ambient[c->n_ambient++], "cap_chown"); /* names are case-sensitive */
}
static void unknown_rlimit(Grpc__Spec *s)
{
	set_str(&s->process->rlimits[0]->type, "RLIMIT_BOGUS");
}
static void soft_above_hard(Grpc__Spec *s)
{
	s->process->rlimits[0]->soft = 2048;
}
static void duplicate_rlimit(Grpc__Spec *s)
{
	Grpc__Process *p = s->process;
	Grpc__POSIXRlimit *r = malloc(sizeof(*r));
	assert_non_null(r);
	grpc__posixrlimit__init(r);
	set_str(&r->type, "RLIMIT_NOFILE");
	grow((void **)&p->rlimits, p->n_rlimits, sizeof(*p->rlimits));
	p->rlimits[p->n_rlimits++] = r;
}
static void device_outside_dev(Grpc__Spec *s)
{
	add_device(s, "/etc/x", "c");
}
static void device_dotdot(Grpc__Spec *s)
{
	add_device(s, "/dev/../etc/x", "c");
}
static void device_is_dev(Grpc__Spec *s)
{
	add_device(s, "/dev/", "c");
}
static void device_bad_type(Grpc__Spec *s)
{
	add_device(s, "/dev/x", "cb");
}
static void device_bad_major(Grpc__Spec *s)
{
	add_device(s, "/dev/x", "b")->major = 4096;
}
static void device_negative_minor(Grpc__Spec *s)
{
	add_device(s, "/dev/x", "c")->minor = -1;
}
static void device_uid_unchanged(Grpc__Spec *s)
{
	add_device(s, "/dev/x", "c")->uid = UINT32_MAX;
}
static void duplicate_namespace(Grpc__Spec *s)
{
	set_str(&s->linux_->namespaces[1]->type, "pid");
}
static void unknown_namespace(Grpc__Spec *s)
{
	set_str(&s->linux_->namespaces[1]->type, "time");
}
static void relative_namespace_path(Grpc__Spec *s)
{
	set_str(&s->linux_->namespaces[1]->path, "proc/1/ns/ipc");
}
static void no_mount_namespace(Grpc__Spec *s)
{
	set_str(&s->linux_->namespaces[3]->type, "network");
}
static void hostname_without_uts(Grpc__Spec *s)
{
	set_str(&s->linux_->namespaces[2]->type, "network");
}
static void long_hostname(Grpc__Spec *s)
{
	char name[66];
	memset(name, 'h', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	set_str(&s->hostname, name);
}
static void env_without_equals(Grpc__Spec *s)
{
	set_str(&s->process->env[0], "PATH");
}
static void env_empty_name(Grpc__Spec *s)
{
	set_str(&s->process->env[0], "=x");
}
static void empty_args(Grpc__Spec *s)
{
	clear_strs(&s->process->n_args, &s->process->args);
}
static void empty_program(Grpc__Spec *s)
{
	set_str(&s->process->args[0], "");
}
static void relative_cwd(Grpc__Spec *s)
{
	set_str(&s->process->cwd, "tmp");
}
static void uid_unchanged(Grpc__Spec *s)
{
	s->process->user->uid = UINT32_MAX;
}
static void oom_out_of_range(Grpc__Spec *s)
{
	s->process->oomscoreadj = 1001;
}
static void huge_console(Grpc__Spec *s)
{
	Grpc__Process *p = s->process;
	p->consolesize = malloc(sizeof(*p->consolesize));
	assert_non_null(p->consolesize);
	grpc__box__init(p->consolesize);
	p->consolesize->width = 70000;
}
static void missing_root(Grpc__Spec *s)
{
	grpc__root__free_unpacked(s->root, NULL);
	s->root = NULL;
}
static void relative_root(Grpc__Spec *s)
{
	set_str(&s->root->path, "rootfs");
}
static void missing_process(Grpc__Spec *s)
{
	grpc__process__free_unpacked(s->process, NULL);
	s->process = NULL;
}
static void relative_masked_path(Grpc__Spec *s)
{
	set_str(&s->linux_->maskedpaths[4], "proc/latency_stats");
}
static void dotdot_readonly_path(Grpc__Spec *s)
{
	set_str(&s->linux_->readonlypaths[3], "/proc/sys/../../etc");
}
static void unknown_propagation(Grpc__Spec *s)
{
	set_str(&s->linux_->rootfspropagation, "rbogus");
}
static void climbing_cgroups_path(Grpc__Spec *s)
{
	set_str(&s->linux_->cgroupspath, "system.slice:kata:../../x");
}
static void too_many_mounts(Grpc__Spec *s)
{
	while (s->n_mounts <= PD_MAX_MOUNTS)
		add_mount(s, "/m", "tmpfs", "tmpfs");
}
static void too_many_rlimits(Grpc__Spec *s)
{
	while (s->process->n_rlimits <= PD_MAX_RLIMITS)
		duplicate_rlimit(s);
}

struct bad_case {
	const char *name;
	void (*mutate)(Grpc__Spec *s); /* NULL: the spec as sent */
	const char *id;		       /* NULL: "wirecheck" */
	const char *field;	       /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
    {"relative mount destination", relative_destination, NULL,
     "Mounts[3].destination: relative path 'x'"},
    {"'..' in a destination", dotdot_destination, NULL, "Mounts[0].destination"},
    {"relative bind source", relative_bind_source, NULL, "Mounts[6].source"},
    {"mount without a type", untyped_mount, NULL, "Mounts[4].type"},
    {"mount data over a page", huge_mount_data, NULL, "Mounts[1].options"},
    {"unknown capability", unknown_capability, NULL,
     "Process.Capabilities.Bounding[2]: unknown capability 'CAP_BOGUS'"},
    {"lower-case capability", unknown_ambient_capability, NULL, "Process.Capabilities.Ambient[0]"},
    {"unknown rlimit", unknown_rlimit, NULL, "Process.Rlimits[0].Type"},
    {"soft above hard", soft_above_hard, NULL, "Process.Rlimits[0]"},
    {"rlimit twice", duplicate_rlimit, NULL, "Process.Rlimits[1].Type"},
    {"too many rlimits", too_many_rlimits, NULL, "Process.Rlimits"},
    {"device outside /dev", device_outside_dev, NULL, "Linux.Devices[0].Path"},
    {"/dev/../etc/x", device_dotdot, NULL, "Linux.Devices[0].Path"},
    {"device at /dev itself", device_is_dev, NULL, "Linux.Devices[0].Path"},
    {"device type", device_bad_type, NULL, "Linux.Devices[0].Type"},
    {"device major", device_bad_major, NULL, "Linux.Devices[0]"},
    {"device minor", device_negative_minor, NULL, "Linux.Devices[0]"},
    {"device uid -1", device_uid_unchanged, NULL, "Linux.Devices[0].UID"},
    {"duplicate namespace", duplicate_namespace, NULL, "Linux.Namespaces[1].Type"},
    {"unknown namespace", unknown_namespace, NULL, "Linux.Namespaces[1].Type"},
    {"relative namespace path", relative_namespace_path, NULL, "Linux.Namespaces[1].Path"},
    {"no mount namespace", no_mount_namespace, NULL, "mount namespace"},
    {"hostname without uts", hostname_without_uts, NULL, "Hostname"},
    {"long hostname", long_hostname, NULL, "Hostname"},
    {"env without '='", env_without_equals, NULL, "Process.Env[0]"},
    {"env with empty name", env_empty_name, NULL, "Process.Env[0]"},
    {"empty args", empty_args, NULL, "Process.Args"},
    {"empty program", empty_program, NULL, "Process.Args[0]"},
    {"relative cwd", relative_cwd, NULL, "Process.Cwd"},
    {"uid -1", uid_unchanged, NULL, "Process.User.UID"},
    {"oom score adj", oom_out_of_range, NULL, "Process.OOMScoreAdj"},
    {"console size", huge_console, NULL, "Process.ConsoleSize"},
    {"missing root", missing_root, NULL, "Root"},
    {"relative root", relative_root, NULL, "Root.Path"},
    {"missing process", missing_process, NULL, "Process"},
    {"relative masked path", relative_masked_path, NULL, "Linux.MaskedPaths[4]"},
    {"'..' in a readonly path", dotdot_readonly_path, NULL, "Linux.ReadonlyPaths[3]"},
    {"unknown rootfs propagation", unknown_propagation, NULL, "Linux.RootfsPropagation"},
    {"cgroups path climbing", climbing_cgroups_path, NULL, "Linux.CgroupsPath"},
    {"too many mounts", too_many_mounts, NULL, "Mounts"},
    {"empty id", NULL, "", "container id"},
    {"one-character id", NULL, "a", "container id"},
    {"id starting with '-'", NULL, "-x", "container id"},
    {"id with '/'", NULL, "a/b", "container id"},
    {"id '..'", NULL, "..", "container id"},
    {"non-ASCII id", NULL, "\xc3\xa9", "container id"},
    {"non-ASCII later in the id", NULL, "a\xc3\xa9", "container id"},
    {"200-character id", NULL,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaa",
     "container id"},
};

static void test_bad_specs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		Grpc__CreateContainerRequest *req = decode_create();
		struct pd_container_config cfg;
		struct pd_error err;

		if (c->mutate)
			c->mutate(req->oci);
		fails_naming(c->name, convert(req->oci, c->id ? c->id : "wirecheck", &cfg, &err),
			     &err, PD_INVALID_ARGUMENT, c->field);
		pd_arena_free(&cfg.arena);
		grpc__create_container_request__free_unpacked(req, NULL);
	}
}

/* A spec that is not there at all. */
static void test_missing_spec(void **state)
{
	struct pd_container_config cfg;
	struct pd_error err;

	(void)state;
	assert_fails_naming(convert(NULL, "wirecheck", &cfg, &err), &err, PD_INVALID_ARGUMENT,
			    "OCI");
	pd_arena_free(&cfg.arena);
}

/* Host strings in messages are cut and made printable: no control bytes reach a log line. */
static void test_messages_quote_safely(void **state)
{
	Grpc__CreateContainerRequest *req = decode_create();
	struct pd_container_config cfg;
	struct pd_error err;
	char hostile[300];

	(void)state;
	memset(hostile, 'A', sizeof(hostile) - 1);
	hostile[sizeof(hostile) - 1] = '\0';
	memcpy(hostile, "x\n\x1b[2J", 6);
	set_str(&req->oci->mounts[2]->destination, hostile);
	assert_int_equal(convert(req->oci, "wirecheck", &cfg, &err), -1);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "'x??[2JAAA"));
	assert_non_null(strstr(err.msg, "...'"));
	assert_true(strlen(err.msg) < 120);
	pd_arena_free(&cfg.arena);
	grpc__create_container_request__free_unpacked(req, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Ids and paths                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void test_container_ids(void **state)
{
	/* The last one: 64 hex digits, the form containerd gives its ids. */
	static const char *const good[] = {
	    "ab",   "wirecheck",
	    "0x",   "a.b_c-d",
	    "A1..", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
	static const char *const bad[] = {"",	 "a",	"-x",  "_x",	   ".x",	"..",
					  "a/b", "a b", "a\n", "\xc3\xa9", "a\xc3\xa9", "a:b"};
	char longest[PD_ID_MAX + 2];
	struct pd_error err;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(pd_validate_container_id(good[i], &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_fails_naming(pd_validate_container_id(bad[i], &err), &err,
				    PD_INVALID_ARGUMENT, "container id");
	assert_int_equal(pd_validate_container_id(NULL, &err), -1);
	memset(longest, 'a', sizeof(longest));
	longest[PD_ID_MAX] = '\0';
	assert_int_equal(pd_validate_container_id(longest, &err), 0);
	longest[PD_ID_MAX] = 'a';
	longest[PD_ID_MAX + 1] = '\0';
	assert_int_equal(pd_validate_container_id(longest, &err), -1);
}

static void test_exec_ids(void **state)
{
	static const char *const good[] = {"a", "exec-1aa70a2b", "0", "A.b_c:d=e@f!~", ".."};
	static const char *const bad[] = {"",	   "a b",  "a/b",      "/",
					  "a\x01", "\x7f", "\xc3\xa9", "tab\t"};
	char longest[PD_ID_MAX + 2];
	struct pd_error err;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(pd_validate_exec_id(good[i], &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_fails_naming(pd_validate_exec_id(bad[i], &err), &err, PD_INVALID_ARGUMENT,
				    "exec id");
	assert_int_equal(pd_validate_exec_id(NULL, &err), -1);
	memset(longest, 'e', sizeof(longest));
	longest[PD_ID_MAX] = '\0';
	assert_int_equal(pd_validate_exec_id(longest, &err), 0);
	longest[PD_ID_MAX] = 'e';
	longest[PD_ID_MAX + 1] = '\0';
	assert_int_equal(pd_validate_exec_id(longest, &err), -1);
}

static void test_abs_paths(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a", "/a"},
	    {"/a/", "/a"},
	    {"/a//b///c/", "/a/b/c"},
	    {"/./a/./b/.", "/a/b"},
	    {"/.", "/"},
	    {"/..a/b..", "/..a/b.."},
	    {"/.../x", "/.../x"},
	    {"/dev/pts", "/dev/pts"},
	};
	static const char *const bad[] = {"",	   "a",	      "./a",   "../a",		"/..",
					  "/a/..", "/a/../b", "//../", "/a/b/../../..", " /a"};
	struct pd_arena a;
	struct pd_error err;
	char *clean;
	char *longest = malloc(PATH_MAX + 1);

	(void)state;
	assert_non_null(longest);
	pd_arena_init(&a, 0);
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		assert_int_equal(pd_validate_abs_path(good[i].in, "p", &a, &clean, &err), 0);
		assert_string_equal(clean, good[i].out);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_fails_naming(pd_validate_abs_path(bad[i], "Field[7]", &a, &clean, &err),
				    &err, PD_INVALID_ARGUMENT, "Field[7]: ");
	assert_int_equal(pd_validate_abs_path(NULL, "p", &a, &clean, &err), -1);
	/* Check only: no arena, no output. */
	assert_int_equal(pd_validate_abs_path("/x//y", "p", NULL, NULL, &err), 0);
	assert_int_equal(pd_validate_abs_path("/x/../y", "p", NULL, NULL, &err), -1);
	/* PATH_MAX counts the NUL: PATH_MAX - 1 bytes pass, PATH_MAX fail. */
	memset(longest, 'l', PATH_MAX);
	longest[0] = '/';
	longest[PATH_MAX - 1] = '\0';
	assert_int_equal(pd_validate_abs_path(longest, "p", &a, &clean, &err), 0);
	assert_int_equal(strlen(clean), PATH_MAX - 1);
	longest[PATH_MAX - 1] = 'l';
	longest[PATH_MAX] = '\0';
	assert_fails_naming(pd_validate_abs_path(longest, "p", &a, &clean, &err), &err,
			    PD_INVALID_ARGUMENT, "longer than");
	pd_arena_free(&a);
	free(longest);
}

/* ---------------------------------------------------------------------------------------- */
/* Mount options                                                                            */
/* ---------------------------------------------------------------------------------------- */

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

struct opt_case {
	const char *const *opts; /* NULL-terminated */
	unsigned long flags, propagation;
	const char *data;
	bool bind;
};

static const struct opt_case opt_cases[] = {
    {OPTS("nosuid", "noexec", "nodev"), MS_NOSUID | MS_NOEXEC | MS_NODEV, 0, NULL, false},
    {OPTS("nosuid", "strictatime", "mode=755", "size=65536k"), MS_NOSUID | MS_STRICTATIME, 0,
     "mode=755,size=65536k", false},
    {OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
     MS_NOSUID | MS_NOEXEC, 0, "newinstance,ptmxmode=0666,mode=0620,gid=5", false},
    {OPTS("ro"), MS_RDONLY, 0, NULL, false},
    {OPTS("ro", "rw"), 0, 0, NULL, false},
    {OPTS("rw", "ro"), MS_RDONLY, 0, NULL, false},
    {OPTS("nosuid", "suid", "nodev", "dev", "noexec", "exec"), 0, 0, NULL, false},
    {OPTS("sync", "dirsync", "mand", "remount"),
     MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_REMOUNT, 0, NULL, false},
    {OPTS("sync", "async", "mand", "nomand"), 0, 0, NULL, false},
    {OPTS("noatime", "nodiratime", "relatime", "lazytime"),
     MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_LAZYTIME, 0, NULL, false},
    {OPTS("noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime", "strictatime",
	  "nostrictatime", "lazytime", "nolazytime"),
     0, 0, NULL, false},
    {OPTS("bind"), MS_BIND, 0, NULL, true},
    {OPTS("rbind", "ro"), MS_BIND | MS_REC | MS_RDONLY, 0, NULL, true},
    {OPTS("rbind", "rprivate"), MS_BIND | MS_REC, MS_PRIVATE | MS_REC, NULL, true},
    {OPTS("private"), 0, MS_PRIVATE, NULL, false},
    {OPTS("shared"), 0, MS_SHARED, NULL, false},
    {OPTS("rshared"), 0, MS_SHARED | MS_REC, NULL, false},
    {OPTS("slave"), 0, MS_SLAVE, NULL, false},
    {OPTS("rslave"), 0, MS_SLAVE | MS_REC, NULL, false},
    {OPTS("unbindable"), 0, MS_UNBINDABLE, NULL, false},
    {OPTS("runbindable"), 0, MS_UNBINDABLE | MS_REC, NULL, false},
    {OPTS("rshared", "slave"), 0, MS_SLAVE, NULL, false}, /* last wins */
    {OPTS("defaults"), 0, 0, NULL, false},
    {OPTS("", "nodev", ""), MS_NODEV, 0, NULL, false},
    {OPTS("bogus", "RO", "x-systemd.automount"), 0, 0, "bogus,RO,x-systemd.automount", false},
    {OPTS("context=\"system_u:object_r:x:s0:c1,c2\"", "ro"), MS_RDONLY, 0,
     "context=\"system_u:object_r:x:s0:c1,c2\"", false},
};

static size_t count_opts(const char *const *opts)
{
	size_t n = 0;
	while (opts[n])
		n++;
	return n;
}

static void test_mount_options(void **state)
{
	struct pd_arena a;
	struct pd_error err;

	(void)state;
	pd_arena_init(&a, 0);
	for (size_t i = 0; i < ARRAY_LEN(opt_cases); i++) {
		const struct opt_case *c = &opt_cases[i];
		unsigned long flags = ~0ul, prop = ~0ul;
		char *data = (char *)"junk";
		bool bind = !c->bind;

		int rc = pd_mount_options_parse((char *const *)c->opts, count_opts(c->opts), &a,
						&flags, &prop, &data, &bind, &err);
		bool data_ok = c->data ? data && strcmp(data, c->data) == 0 : !data;

		if (rc != 0 || flags != c->flags || prop != c->propagation || bind != c->bind ||
		    !data_ok)
			fail_msg("case %zu (%s...): rc %d flags %#lx prop %#lx bind %d data '%s'",
				 i, c->opts[0], rc, flags, prop, bind, data ? data : "(null)");
	}
	pd_arena_free(&a);
}

static void test_mount_options_limits(void **state)
{
	char *opts[2];
	char big[PD_MOUNT_DATA_MAX + 1];
	unsigned long flags, prop;
	char *data;
	bool bind;
	struct pd_arena a;
	struct pd_error err;

	(void)state;
	pd_arena_init(&a, 0);
	/* No options at all. */
	assert_int_equal(pd_mount_options_parse(NULL, 0, &a, &flags, &prop, &data, &bind, &err), 0);
	assert_int_equal(flags, 0);
	assert_null(data);
	/* Exactly a page minus the NUL passes; one more byte (the comma) does not. */
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	opts[0] = big;
	opts[1] = (char *)"x";
	assert_int_equal(pd_mount_options_parse(opts, 1, &a, &flags, &prop, &data, &bind, &err), 0);
	assert_int_equal(strlen(data), PD_MOUNT_DATA_MAX);
	assert_int_equal(pd_mount_options_parse(opts, 2, &a, &flags, &prop, &data, &bind, &err),
			 -1);
	assert_int_equal(err.code, PD_INVALID_ARGUMENT);
	pd_arena_free(&a);
	/* An arena that cannot hold the data: RESOURCE_EXHAUSTED. */
	pd_arena_init(&a, 64);
	assert_int_equal(pd_mount_options_parse(opts, 1, &a, &flags, &prop, &data, &bind, &err),
			 -1);
	assert_int_equal(err.code, PD_RESOURCE_EXHAUSTED);
	pd_arena_free(&a);
}

static void test_propagation_names(void **state)
{
	unsigned long p = 0;

	(void)state;
	assert_int_equal(pd_mount_propagation_from_name("rslave", &p), 0);
	assert_int_equal(p, MS_SLAVE | MS_REC);
	assert_int_equal(pd_mount_propagation_from_name("private", &p), 0);
	assert_int_equal(p, MS_PRIVATE);
	assert_int_equal(pd_mount_propagation_from_name("", &p), -1);
	assert_int_equal(pd_mount_propagation_from_name("Private", &p), -1);
	assert_int_equal(p, MS_PRIVATE); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_container_spec),
	    cmocka_unit_test(test_optional_fields_convert),
	    cmocka_unit_test(test_config_is_overwritten),
	    cmocka_unit_test(test_arena_limit),
	    cmocka_unit_test(test_exec_process),
	    cmocka_unit_test(test_bad_specs),
	    cmocka_unit_test(test_missing_spec),
	    cmocka_unit_test(test_messages_quote_safely),
	    cmocka_unit_test(test_container_ids),
	    cmocka_unit_test(test_exec_ids),
	    cmocka_unit_test(test_abs_paths),
	    cmocka_unit_test(test_mount_options),
	    cmocka_unit_test(test_mount_options_limits),
	    cmocka_unit_test(test_propagation_names),
	};
	return cmocka_run_group_tests(tests, setup_vectors, teardown_vectors);
}
