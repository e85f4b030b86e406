#include "oci_spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "agent/container/idmap.h"
#include "agent/container/mountopts.h"
#include "agent/container/names.h"
#include "agent/container/sysctl.h"
#include "agent/container/validate.h"
#include "agent/rpc/oci_seccomp.h"

#define FIELD_MAX	  96
#define HOSTNAME_MAX	  64 /* HOST_NAME_MAX: sethostname() refuses more */
#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000
#define DEV_MAJOR_MAX	  4095	     /* the kernel's dev_t: 12 bits of major */
#define DEV_MINOR_MAX	  0xfffff    /* and 20 bits of minor */
#define ID_UNCHANGED	  UINT32_MAX /* (uid_t)-1: "leave as is" to setresuid/chown */
#define DEVICE_MODE_BITS  0777

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static int invalid(struct pd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(struct pd_error *err, const char *fmt, ...)
{
	char msg[PD_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s", msg);
}

static int no_memory(struct pd_error *err, const char *what)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, ENOMEM,
			    "%s: out of memory, or over the size limit of one request", what);
}

static int too_many(struct pd_error *err, const char *what, size_t n, size_t max)
{
	return invalid(err, "%s: %zu entries, at most %zu allowed", what, n, max);
}

/* A hand-built message may leave a string NULL; the decoder never does. */
static const char *str(const char *s)
{
	return s ? s : "";
}

/* n strings -> a NULL-terminated array in the arena; NULL when out of memory. */
static char **copy_strings(struct pd_arena *a, char *const *src, size_t n)
{
	char **out = pd_arena_calloc(a, n + 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++) {
		out[i] = pd_arena_strdup(a, str(src[i]));
		if (!out[i])
			return NULL;
	}
	return out;
}

static int check_id(const char *what, uint32_t id, struct pd_error *err)
{
	if (id == ID_UNCHANGED)
		return invalid(err,
			       "%s: %" PRIu32 " is not a usable id (the kernel reads it as "
			       "\"unchanged\")",
			       what, id);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Process                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static int convert_args(const Grpc__Process *p, struct pd_arena *a, struct pd_process_config *out,
			struct pd_error *err)
{
	if (p->n_args == 0)
		return invalid(err, "Process.Args: empty, a process needs a program");
	if (p->n_args > PD_MAX_ARGS)
		return too_many(err, "Process.Args", p->n_args, PD_MAX_ARGS);
	if (!str(p->args[0])[0])
		return invalid(err, "Process.Args[0]: empty program name");
	out->args = copy_strings(a, p->args, p->n_args);
	if (!out->args)
		return no_memory(err, "Process.Args");
	out->n_args = p->n_args;
	return 0;
}

static int convert_env(const Grpc__Process *p, struct pd_arena *a, struct pd_process_config *out,
		       struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];

	if (p->n_env > PD_MAX_ENV)
		return too_many(err, "Process.Env", p->n_env, PD_MAX_ENV);
	for (size_t i = 0; i < p->n_env; i++) {
		const char *e = str(p->env[i]);
		const char *eq = strchr(e, '=');
		if (!eq)
			return invalid(err, "Process.Env[%zu]: '%s' is not KEY=VALUE", i,
				       pd_shown(e, shown, sizeof(shown)));
		if (eq == e)
			return invalid(err, "Process.Env[%zu]: empty name in '%s'", i,
				       pd_shown(e, shown, sizeof(shown)));
	}
	out->env = copy_strings(a, p->env, p->n_env);
	if (!out->env)
		return no_memory(err, "Process.Env");
	out->n_env = p->n_env;
	return 0;
}

static int convert_cwd(const Grpc__Process *p, struct pd_arena *a, struct pd_process_config *out,
		       struct pd_error *err)
{
	if (str(p->cwd)[0])
		return pd_validate_abs_path(p->cwd, "Process.Cwd", a, &out->cwd, err);
	out->cwd = pd_arena_strdup(a, "/");
	return out->cwd ? 0 : no_memory(err, "Process.Cwd");
}

static int convert_user(const Grpc__Process *p, struct pd_arena *a, struct pd_process_config *out,
			struct pd_error *err)
{
	const Grpc__User *u = p->user;
	char field[FIELD_MAX];

	if (!u)
		return 0; /* root:root, as the zero values of a present User would say */
	if (check_id("Process.User.UID", u->uid, err) < 0 ||
	    check_id("Process.User.GID", u->gid, err) < 0)
		return -1;
	if (u->n_additionalgids > PD_MAX_GIDS)
		return too_many(err, "Process.User.AdditionalGids", u->n_additionalgids,
				PD_MAX_GIDS);
	out->uid = u->uid;
	out->gid = u->gid;
	if (u->n_additionalgids == 0)
		return 0;
	out->additional_gids = pd_arena_calloc(a, u->n_additionalgids, sizeof(gid_t));
	if (!out->additional_gids)
		return no_memory(err, "Process.User.AdditionalGids");
	for (size_t i = 0; i < u->n_additionalgids; i++) {
		snprintf(field, sizeof(field), "Process.User.AdditionalGids[%zu]", i);
		if (check_id(field, u->additionalgids[i], err) < 0)
			return -1;
		out->additional_gids[i] = u->additionalgids[i];
	}
	out->n_additional_gids = u->n_additionalgids;
	return 0;
}

static int cap_mask(const char *set, char *const *names, size_t n, uint64_t *mask,
		    struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];

	*mask = 0;
	for (size_t i = 0; i < n; i++) {
		int cap = pd_cap_from_name(str(names[i]));
		if (cap < 0 || cap >= 64)
			return invalid(err, "Process.Capabilities.%s[%zu]: unknown capability '%s'",
				       set, i, pd_shown(names[i], shown, sizeof(shown)));
		*mask |= UINT64_C(1) << cap;
	}
	return 0;
}

static int convert_caps(const Grpc__Process *p, struct pd_process_config *out, struct pd_error *err)
{
	const Grpc__LinuxCapabilities *c = p->capabilities;

	out->has_caps = c != NULL;
	if (!c)
		return 0;
	const struct {
		const char *name;
		char *const *names;
		size_t n;
		uint64_t *mask;
	} sets[] = {
	    {"Bounding", c->bounding, c->n_bounding, &out->caps.bounding},
	    {"Effective", c->effective, c->n_effective, &out->caps.effective},
	    {"Inheritable", c->inheritable, c->n_inheritable, &out->caps.inheritable},
	    {"Permitted", c->permitted, c->n_permitted, &out->caps.permitted},
	    {"Ambient", c->ambient, c->n_ambient, &out->caps.ambient},
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (cap_mask(sets[i].name, sets[i].names, sets[i].n, sets[i].mask, err) < 0)
			return -1;
	return 0;
}

static int convert_rlimit(const Grpc__POSIXRlimit *r, size_t i, struct pd_rlimit *done,
			  struct pd_error *err)
{
	char shown[PD_SHOWN_MAX];
	int res = pd_rlimit_from_name(str(r->type));

	if (res < 0)
		return invalid(err, "Process.Rlimits[%zu].Type: unknown rlimit '%s'", i,
			       pd_shown(r->type, shown, sizeof(shown)));
	for (size_t j = 0; j < i; j++)
		if (done[j].resource == res)
			return invalid(err, "Process.Rlimits[%zu].Type: %s given twice", i,
				       r->type);
	if (r->soft > r->hard)
		return invalid(
		    err, "Process.Rlimits[%zu]: soft limit %" PRIu64 " above hard limit %" PRIu64,
		    i, r->soft, r->hard);
	done[i] = (struct pd_rlimit){.resource = res, .soft = r->soft, .hard = r->hard};
	return 0;
}

static int convert_rlimits(const Grpc__Process *p, struct pd_arena *a,
			   struct pd_process_config *out, struct pd_error *err)
{
	if (p->n_rlimits > PD_MAX_RLIMITS)
		return too_many(err, "Process.Rlimits", p->n_rlimits, PD_MAX_RLIMITS);
	if (p->n_rlimits == 0)
		return 0;
	out->rlimits = pd_arena_calloc(a, p->n_rlimits, sizeof(*out->rlimits));
	if (!out->rlimits)
		return no_memory(err, "Process.Rlimits");
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (convert_rlimit(p->rlimits[i], i, out->rlimits, err) < 0)
			return -1;
	out->n_rlimits = p->n_rlimits;
	return 0;
}

static int convert_terminal(const Grpc__Process *p, struct pd_process_config *out,
			    struct pd_error *err)
{
	const Grpc__Box *box = p->consolesize;

	out->terminal = p->terminal;
	if (!box)
		return 0;
	if (box->height > USHRT_MAX || box->width > USHRT_MAX)
		return invalid(
		    err, "Process.ConsoleSize: %" PRIu32 "x%" PRIu32 " (height x width) over %d",
		    box->height, box->width, USHRT_MAX);
	out->rows = (unsigned short)box->height;
	out->cols = (unsigned short)box->width;
	return 0;
}

static int convert_oom_score_adj(const Grpc__Process *p, struct pd_process_config *out,
				 struct pd_error *err)
{
	int64_t v = p->oomscoreadj;

	if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX)
		return invalid(err, "Process.OOMScoreAdj: %" PRId64 " outside %d..%d", v,
			       OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX);
	out->has_oom_score_adj = v != 0;
	out->oom_score_adj = (int)v;
	return 0;
}

int pd_oci_process_to_config(const Grpc__Process *proc, struct pd_arena *a,
			     struct pd_process_config *out, struct pd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!proc)
		return invalid(err, "Process: missing");
	if (convert_args(proc, a, out, err) < 0 || convert_env(proc, a, out, err) < 0 ||
	    convert_cwd(proc, a, out, err) < 0 || convert_user(proc, a, out, err) < 0 ||
	    convert_caps(proc, out, err) < 0 || convert_rlimits(proc, a, out, err) < 0 ||
	    convert_terminal(proc, out, err) < 0 || convert_oom_score_adj(proc, out, err) < 0)
		return -1;
	out->no_new_privileges = proc->nonewprivileges;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Root, hostname, mounts                                                                   */
/* ---------------------------------------------------------------------------------------- */

static int convert_root(const Grpc__Spec *spec, struct pd_container_config *cfg,
			struct pd_error *err)
{
	if (!spec->root)
		return invalid(err, "Root: missing");
	if (pd_validate_abs_path(spec->root->path, "Root.Path", &cfg->arena, &cfg->rootfs, err) < 0)
		return -1;
	cfg->rootfs_readonly = spec->root->readonly;
	return 0;
}

static int convert_hostname(const Grpc__Spec *spec, struct pd_container_config *cfg,
			    struct pd_error *err)
{
	const char *h = str(spec->hostname);

	if (!h[0])
		return 0;
	if (strnlen(h, HOSTNAME_MAX + 1) > HOSTNAME_MAX)
		return invalid(err, "Hostname: longer than %d bytes", HOSTNAME_MAX);
	cfg->hostname = pd_arena_strdup(&cfg->arena, h);
	return cfg->hostname ? 0 : no_memory(err, "Hostname");
}

/* Type, source and the bind decision, once the options are parsed. */
static int convert_mount_source(const Grpc__Mount *m, size_t i, bool bind_option,
				struct pd_arena *a, struct pd_mount *out, struct pd_error *err)
{
	const char *type = str(m->type);
	bool bind_type = strcmp(type, "bind") == 0;
	char field[FIELD_MAX];

	if (bind_type && !bind_option)
		out->flags |= MS_BIND; /* type "bind" alone: a plain, non-recursive bind */
	out->bind = bind_option || bind_type;
	if (type[0]) {
		out->type = pd_arena_strdup(a, type);
		if (!out->type)
			return no_memory(err, "Mounts[].type");
	} else if (!out->bind && !(out->flags & MS_REMOUNT)) {
		return invalid(err, "Mounts[%zu].type: empty, and the mount is not a bind", i);
	}
	snprintf(field, sizeof(field), "Mounts[%zu].source", i);
	if (out->bind)
		return pd_validate_abs_path(m->source, field, a, &out->source, err);
	if (!str(m->source)[0])
		return 0;
	out->source = pd_arena_strdup(a, m->source);
	return out->source ? 0 : no_memory(err, field);
}

static int convert_mount(const Grpc__Mount *m, size_t i, struct pd_arena *a, struct pd_mount *out,
			 struct pd_error *err)
{
	char field[FIELD_MAX];
	bool bind_option;

	snprintf(field, sizeof(field), "Mounts[%zu].destination", i);
	if (pd_validate_abs_path(m->destination, field, a, &out->destination, err) < 0)
		return -1;
	if (pd_mount_options_parse(m->options, m->n_options, a, &out->flags, &out->propagation,
				   &out->data, &bind_option, err) < 0)
		return pd_error_wrap(err, "Mounts[%zu].options", i);
	return convert_mount_source(m, i, bind_option, a, out, err);
}

static int convert_mounts(const Grpc__Spec *spec, struct pd_container_config *cfg,
			  struct pd_error *err)
{
	if (spec->n_mounts > PD_MAX_MOUNTS)
		return too_many(err, "Mounts", spec->n_mounts, PD_MAX_MOUNTS);
	if (spec->n_mounts == 0)
		return 0;
	cfg->mounts = pd_arena_calloc(&cfg->arena, spec->n_mounts, sizeof(*cfg->mounts));
	if (!cfg->mounts)
		return no_memory(err, "Mounts");
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (convert_mount(spec->mounts[i], i, &cfg->arena, &cfg->mounts[i], err) < 0)
			return -1;
	cfg->n_mounts = spec->n_mounts;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Linux: namespaces, devices, paths, propagation, cgroups                                  */
/* ---------------------------------------------------------------------------------------- */

static int convert_namespace(const Grpc__LinuxNamespace *ns, size_t i,
			     struct pd_container_config *cfg, struct pd_error *err)
{
	char field[FIELD_MAX];
	char shown[PD_SHOWN_MAX];
	int type = pd_ns_from_oci(str(ns->type));

	if (type < 0)
		return invalid(err, "Linux.Namespaces[%zu].Type: unknown namespace '%s'", i,
			       pd_shown(ns->type, shown, sizeof(shown)));
	if (cfg->ns[type].enabled)
		return invalid(err, "Linux.Namespaces[%zu].Type: '%s' listed twice", i, ns->type);
	cfg->ns[type].enabled = true;
	if (!str(ns->path)[0])
		return 0;
	snprintf(field, sizeof(field), "Linux.Namespaces[%zu].Path", i);
	return pd_validate_abs_path(ns->path, field, &cfg->arena, &cfg->ns[type].path, err);
}

static int convert_namespaces(const Grpc__Linux *l, struct pd_container_config *cfg,
			      struct pd_error *err)
{
	for (size_t i = 0; l && i < l->n_namespaces; i++)
		if (convert_namespace(l->namespaces[i], i, cfg, err) < 0)
			return -1;
	/* The container's rootfs setup (mounts, pivot_root) would otherwise happen in PID 1's
	 * own mount namespace: refuse rather than trust the engine to notice. */
	if (!cfg->ns[PD_NS_MNT].enabled)
		return invalid(err, "Linux.Namespaces: no mount namespace; a container may not "
				    "share the agent's mounts");
	if (cfg->hostname && !cfg->ns[PD_NS_UTS].enabled)
		return invalid(err, "Hostname: set, but Linux.Namespaces has no uts namespace");
	return 0;
}

/* Linux.UIDMappings / GIDMappings: checked here; whether the namespaces want them is
 * pd_userns_check's, once the agent has settled the namespaces. */
static int convert_idmap(const char *what, Grpc__LinuxIDMapping *const *src, size_t n,
			 struct pd_arena *a, struct pd_idmap **out, size_t *n_out,
			 struct pd_error *err)
{
	if (n == 0)
		return 0;
	if (n > PD_MAX_IDMAP)
		return too_many(err, what, n, PD_MAX_IDMAP);
	*out = pd_arena_calloc(a, n, sizeof(**out));
	if (!*out)
		return no_memory(err, what);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (struct pd_idmap){.container_id = src[i]->containerid,
					      .host_id = src[i]->hostid,
					      .size = src[i]->size};
	*n_out = n;
	return pd_idmap_check(what, *out, n, err);
}

static int convert_idmaps(const Grpc__Linux *l, struct pd_container_config *cfg,
			  struct pd_error *err)
{
	if (!l)
		return 0;
	if (convert_idmap("Linux.UIDMappings", l->uidmappings, l->n_uidmappings, &cfg->arena,
			  &cfg->uid_map, &cfg->n_uid_map, err) < 0 ||
	    convert_idmap("Linux.GIDMappings", l->gidmappings, l->n_gidmappings, &cfg->arena,
			  &cfg->gid_map, &cfg->n_gid_map, err) < 0)
		return -1;
	return 0;
}

static int convert_device_numbers(const Grpc__LinuxDevice *d, size_t i, struct pd_device *out,
				  struct pd_error *err)
{
	char field[FIELD_MAX];

	if (out->type != 'p') { /* a fifo has no device number */
		if (d->major < 0 || d->major > DEV_MAJOR_MAX || d->minor < 0 ||
		    d->minor > DEV_MINOR_MAX)
			return invalid(err,
				       "Linux.Devices[%zu]: device %" PRId64 ":%" PRId64
				       " out of range (major 0..%d, minor 0..%d)",
				       i, d->major, d->minor, DEV_MAJOR_MAX, DEV_MINOR_MAX);
		out->major = d->major;
		out->minor = d->minor;
	}
	/* Go's os.FileMode may carry its own type bits above the permissions: not ours. */
	out->file_mode = d->filemode & DEVICE_MODE_BITS;
	snprintf(field, sizeof(field), "Linux.Devices[%zu].UID", i);
	if (check_id(field, d->uid, err) < 0)
		return -1;
	snprintf(field, sizeof(field), "Linux.Devices[%zu].GID", i);
	if (check_id(field, d->gid, err) < 0)
		return -1;
	out->uid = d->uid;
	out->gid = d->gid;
	return 0;
}

static int convert_device(const Grpc__LinuxDevice *d, size_t i, struct pd_arena *a,
			  struct pd_device *out, struct pd_error *err)
{
	char field[FIELD_MAX];
	char shown[PD_SHOWN_MAX];
	const char *type = str(d->type);

	snprintf(field, sizeof(field), "Linux.Devices[%zu].Path", i);
	if (pd_validate_abs_path(d->path, field, a, &out->path, err) < 0)
		return -1;
	if (strncmp(out->path, "/dev/", 5) != 0)
		return invalid(err, "%s: '%s' is not under /dev", field,
			       pd_shown(d->path, shown, sizeof(shown)));
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return invalid(err, "Linux.Devices[%zu].Type: '%s' is not c, b, u or p", i,
			       pd_shown(type, shown, sizeof(shown)));
	out->type = type[0];
	return convert_device_numbers(d, i, out, err);
}

static int convert_devices(const Grpc__Linux *l, struct pd_container_config *cfg,
			   struct pd_error *err)
{
	if (!l || l->n_devices == 0)
		return 0;
	if (l->n_devices > PD_MAX_DEVICES)
		return too_many(err, "Linux.Devices", l->n_devices, PD_MAX_DEVICES);
	cfg->devices = pd_arena_calloc(&cfg->arena, l->n_devices, sizeof(*cfg->devices));
	if (!cfg->devices)
		return no_memory(err, "Linux.Devices");
	for (size_t i = 0; i < l->n_devices; i++)
		if (convert_device(l->devices[i], i, &cfg->arena, &cfg->devices[i], err) < 0)
			return -1;
	cfg->n_devices = l->n_devices;
	return 0;
}

/* MaskedPaths, ReadonlyPaths: clean absolute paths, NULL-terminated in the arena. */
static int convert_paths(const char *what, char *const *src, size_t n, struct pd_arena *a,
			 char ***out, size_t *n_out, struct pd_error *err)
{
	char field[FIELD_MAX];

	if (n > PD_MAX_PATHS)
		return too_many(err, what, n, PD_MAX_PATHS);
	if (n == 0)
		return 0;
	*out = pd_arena_calloc(a, n + 1, sizeof(**out));
	if (!*out)
		return no_memory(err, what);
	for (size_t i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "%s[%zu]", what, i);
		if (pd_validate_abs_path(src[i], field, a, &(*out)[i], err) < 0)
			return -1;
	}
	*n_out = n;
	return 0;
}

static int convert_propagation(const Grpc__Linux *l, struct pd_container_config *cfg,
			       struct pd_error *err)
{
	const char *name = l ? str(l->rootfspropagation) : "";
	char shown[PD_SHOWN_MAX];

	if (!name[0]) {
		cfg->rootfs_propagation = MS_SLAVE | MS_REC;
		return 0;
	}
	if (pd_mount_propagation_from_name(name, &cfg->rootfs_propagation) < 0)
		return invalid(err, "Linux.RootfsPropagation: unknown propagation '%s'",
			       pd_shown(name, shown, sizeof(shown)));
	return 0;
}

/* A cgroupfs path ("/a/b") or a systemd triple ("slice:prefix:name"): neither may climb. */
static bool climbs(const char *path)
{
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/:");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

static int convert_cgroups_path(const Grpc__Linux *l, struct pd_container_config *cfg,
				struct pd_error *err)
{
	const char *path = l ? str(l->cgroupspath) : "";
	char shown[PD_SHOWN_MAX];

	if (!path[0])
		return 0;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return invalid(err, "Linux.CgroupsPath: longer than %d bytes", PATH_MAX - 1);
	if (climbs(path))
		return invalid(err, "Linux.CgroupsPath: '..' in '%s'",
			       pd_shown(path, shown, sizeof(shown)));
	cfg->cgroups_path = pd_arena_strdup(&cfg->arena, path);
	return cfg->cgroups_path ? 0 : no_memory(err, "Linux.CgroupsPath");
}

/* Syntax only here: which keys the container's namespaces allow is pd_sysctls_check's,
 * once the agent has filled in the sandbox's namespace paths. */
static int convert_sysctls(const Grpc__Linux *l, struct pd_container_config *cfg,
			   struct pd_error *err)
{
	if (!l || l->n_sysctl == 0)
		return 0;
	if (l->n_sysctl > PD_MAX_SYSCTLS)
		return too_many(err, "Linux.Sysctl", l->n_sysctl, PD_MAX_SYSCTLS);
	cfg->sysctls = pd_arena_calloc(&cfg->arena, l->n_sysctl, sizeof(*cfg->sysctls));
	if (!cfg->sysctls)
		return no_memory(err, "Linux.Sysctl");
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const Grpc__Linux__SysctlEntry *e = l->sysctl[i];
		struct pd_sysctl *out = &cfg->sysctls[i];
		if (pd_sysctl_check_syntax(e->key, e->value, err) < 0)
			return -1;
		out->key = pd_arena_strdup(&cfg->arena, e->key);
		out->value = pd_arena_strdup(&cfg->arena, e->value);
		if (!out->key || !out->value)
			return no_memory(err, "Linux.Sysctl");
	}
	cfg->n_sysctls = l->n_sysctl;
	return 0;
}

static int convert_linux(const Grpc__Linux *l, struct pd_container_config *cfg,
			 struct pd_error *err)
{
	if (convert_namespaces(l, cfg, err) < 0 || convert_idmaps(l, cfg, err) < 0 ||
	    convert_devices(l, cfg, err) < 0 ||
	    convert_propagation(l, cfg, err) < 0 || convert_cgroups_path(l, cfg, err) < 0 ||
	    convert_sysctls(l, cfg, err) < 0)
		return -1;
	if (!l)
		return 0;
	if (pd_oci_seccomp_to_config(l->seccomp, &cfg->arena, &cfg->seccomp, err) < 0)
		return -1;
	if (convert_paths("Linux.MaskedPaths", l->maskedpaths, l->n_maskedpaths, &cfg->arena,
			  &cfg->masked_paths, &cfg->n_masked_paths, err) < 0 ||
	    convert_paths("Linux.ReadonlyPaths", l->readonlypaths, l->n_readonlypaths, &cfg->arena,
			  &cfg->readonly_paths, &cfg->n_readonly_paths, err) < 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The spec                                                                                 */
/* ---------------------------------------------------------------------------------------- */

int pd_oci_spec_to_config(const Grpc__Spec *spec, const char *id, struct pd_container_config *cfg,
			  struct pd_error *err)
{
	struct pd_arena arena = cfg->arena;

	memset(cfg, 0, sizeof(*cfg));
	cfg->arena = arena;
	if (pd_validate_container_id(id, err) < 0)
		return -1;
	memcpy(cfg->id, id, strlen(id) + 1);
	if (!spec)
		return invalid(err, "OCI: missing spec");
	if (!spec->process)
		return invalid(err, "Process: missing");
	if (convert_root(spec, cfg, err) < 0 ||
	    pd_oci_process_to_config(spec->process, &cfg->arena, &cfg->process, err) < 0 ||
	    convert_hostname(spec, cfg, err) < 0 || convert_mounts(spec, cfg, err) < 0 ||
	    convert_linux(spec->linux_, cfg, err) < 0)
		return -1;
	return 0;
}
