/* state.json: the document (runc's key names and nesting, a subset — docs/state.md) and its
 * atomic replacement on disk. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/json_write.h"
#include "agent/container/names.h"

/* libcontainer's NamespaceType names, in our enum's order. */
static const char *const ns_types[PD_NS_COUNT] = {
    [PD_NS_MNT] = "NEWNS",	  [PD_NS_PID] = "NEWPID", [PD_NS_NET] = "NEWNET",
    [PD_NS_IPC] = "NEWIPC",	  [PD_NS_UTS] = "NEWUTS", [PD_NS_USER] = "NEWUSER",
    [PD_NS_CGROUP] = "NEWCGROUP",
};

int pd_state_format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	if (size < PD_STATE_TIME_MAX || !gmtime_r(&sec, &tm))
		return -1;
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return -1;
	long ns = ts->tv_nsec;
	if (ns > 0 && ns < 1000000000L) {
		int digits = 9;
		while (ns % 10 == 0) {
			ns /= 10;
			digits--;
		}
		n += (size_t)snprintf(buf + n, size - n, ".%0*ld", digits, ns);
	}
	snprintf(buf + n, size - n, "Z");
	return 0;
}

/* Go strings are never null: a missing one is "". */
static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static void render_strings(struct pd_json *j, const char *key, char *const *v, size_t n)
{
	pd_json_key(j, key);
	pd_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		pd_json_string(j, v[i]);
	pd_json_end_array(j);
}

/* "device" is the filesystem type; runc writes "bind" for bind mounts. */
static void render_mount(struct pd_json *j, const struct pd_mount *m)
{
	const char *device = m->type ? m->type : m->bind ? "bind" : "";
	pd_json_begin_object(j);
	pd_json_kv_string(j, "source", str_or_empty(m->source));
	pd_json_kv_string(j, "destination", m->destination);
	pd_json_kv_string(j, "device", device);
	pd_json_kv_uint(j, "flags", m->flags);
	pd_json_key(j, "propagation_flags");
	pd_json_begin_array(j);
	if (m->propagation)
		pd_json_uint(j, m->propagation);
	pd_json_end_array(j);
	pd_json_kv_string(j, "data", str_or_empty(m->data));
	pd_json_end_object(j);
}

/* "type" is a Go rune: the character's code ('c' = 99), as runc writes it. */
static void render_device(struct pd_json *j, const struct pd_device *d)
{
	char type = d->type == 'u' ? 'c' : d->type;
	pd_json_begin_object(j);
	pd_json_kv_int(j, "type", (unsigned char)type);
	pd_json_kv_string(j, "path", d->path);
	pd_json_kv_int(j, "major", d->major);
	pd_json_kv_int(j, "minor", d->minor);
	pd_json_kv_uint(j, "file_mode", d->file_mode ? d->file_mode : 0666);
	pd_json_kv_uint(j, "uid", d->uid);
	pd_json_kv_uint(j, "gid", d->gid);
	pd_json_end_object(j);
}

static void render_namespaces(struct pd_json *j, const struct pd_container_config *cfg)
{
	pd_json_key(j, "namespaces");
	pd_json_begin_array(j);
	for (int t = 0; t < PD_NS_COUNT; t++) {
		if (!cfg->ns[t].enabled)
			continue;
		pd_json_begin_object(j);
		pd_json_kv_string(j, "type", ns_types[t]);
		pd_json_kv_string(j, "path", str_or_empty(cfg->ns[t].path));
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
}

/* libcontainer's uid_mappings / gid_mappings. */
static void render_idmap(struct pd_json *j, const char *key, const struct pd_idmap *m, size_t n)
{
	pd_json_key(j, key);
	pd_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		pd_json_begin_object(j);
		pd_json_kv_uint(j, "container_id", m[i].container_id);
		pd_json_kv_uint(j, "host_id", m[i].host_id);
		pd_json_kv_uint(j, "size", m[i].size);
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
}

static void render_cap_set(struct pd_json *j, const char *key, uint64_t set)
{
	pd_json_key(j, key);
	pd_json_begin_array(j);
	for (int c = 0; c < 64; c++)
		if ((set >> c & 1) && pd_cap_name(c))
			pd_json_string(j, pd_cap_name(c));
	pd_json_end_array(j);
}

/* libcontainer's Capabilities has no json tags: its keys are the Go field names. */
static void render_caps(struct pd_json *j, const struct pd_process_config *p)
{
	pd_json_key(j, "capabilities");
	if (!p->has_caps) {
		pd_json_null(j);
		return;
	}
	pd_json_begin_object(j);
	render_cap_set(j, "Bounding", p->caps.bounding);
	render_cap_set(j, "Effective", p->caps.effective);
	render_cap_set(j, "Inheritable", p->caps.inheritable);
	render_cap_set(j, "Permitted", p->caps.permitted);
	render_cap_set(j, "Ambient", p->caps.ambient);
	pd_json_end_object(j);
}

static void render_config(struct pd_json *j, const struct pd_container_config *cfg)
{
	pd_json_key(j, "config");
	pd_json_begin_object(j);
	pd_json_kv_string(j, "rootfs", str_or_empty(cfg->rootfs));
	pd_json_kv_bool(j, "readonlyfs", cfg->rootfs_readonly);
	pd_json_kv_uint(j, "rootPropagation", cfg->rootfs_propagation);
	pd_json_key(j, "mounts");
	pd_json_begin_array(j);
	for (size_t i = 0; i < cfg->n_mounts; i++)
		render_mount(j, &cfg->mounts[i]);
	pd_json_end_array(j);
	pd_json_key(j, "devices");
	pd_json_begin_array(j);
	for (size_t i = 0; i < cfg->n_devices; i++)
		render_device(j, &cfg->devices[i]);
	pd_json_end_array(j);
	pd_json_kv_string(j, "hostname", str_or_empty(cfg->hostname));
	render_namespaces(j, cfg);
	render_idmap(j, "uid_mappings", cfg->uid_map, cfg->n_uid_map);
	render_idmap(j, "gid_mappings", cfg->gid_map, cfg->n_gid_map);
	render_caps(j, &cfg->process);
	pd_json_key(j, "cgroups");
	pd_json_begin_object(j);
	pd_json_kv_string(j, "path", str_or_empty(cfg->cgroups_path));
	pd_json_end_object(j);
	render_strings(j, "mask_paths", cfg->masked_paths, cfg->n_masked_paths);
	render_strings(j, "readonly_paths", cfg->readonly_paths, cfg->n_readonly_paths);
	pd_json_kv_bool(j, "no_new_privileges", cfg->process.no_new_privileges);
	pd_json_end_object(j);
}

static void render_maps(struct pd_json *j, const struct pd_state *st)
{
	pd_json_key(j, "cgroup_paths");
	pd_json_begin_object(j);
	for (size_t i = 0; i < st->n_cgroups; i++)
		pd_json_kv_string(j, str_or_empty(st->cgroup_names[i]), st->cgroup_paths[i]);
	pd_json_end_object(j);
	pd_json_key(j, "namespace_paths");
	pd_json_begin_object(j);
	for (int t = 0; t < PD_NS_COUNT; t++)
		if (st->ns_paths[t])
			pd_json_kv_string(j, ns_types[t], st->ns_paths[t]);
	pd_json_end_object(j);
}

int pd_state_render(const struct pd_state *st, char **out, size_t *len, struct pd_error *err)
{
	static const struct pd_container_config no_config;
	char created[PD_STATE_TIME_MAX];
	if (!st->id || pd_state_format_time(&st->created, created, sizeof(created)) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "state: no id or bad time");
	struct pd_json j;
	pd_json_init(&j, PD_STATE_MAX_BYTES);
	pd_json_begin_object(&j);
	pd_json_kv_string(&j, "id", st->id);
	pd_json_kv_int(&j, "init_process_pid", st->init_pid);
	pd_json_kv_uint(&j, "init_process_start", st->init_start);
	pd_json_kv_string(&j, "created", created);
	pd_json_kv_string(&j, "status", str_or_empty(st->status));
	render_config(&j, st->cfg ? st->cfg : &no_config);
	pd_json_kv_bool(&j, "rootless", false);
	render_maps(&j, st);
	pd_json_end_object(&j);
	if (pd_json_finish(&j, err) < 0) {
		pd_json_free(&j);
		return pd_error_wrap(err, "state of %s", st->id);
	}
	*out = j.buf;
	*len = j.len;
	return 0;
}

/* --- the file ----------------------------------------------------------------------------- */

/* An id becomes a directory name: one non-empty path component. */
static int check_component(const char *s, const char *what, struct pd_error *err)
{
	if (!s || !*s || strlen(s) > PD_ID_MAX || strchr(s, '/') || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "state: %s is not a valid directory name", what);
	return 0;
}

static const char *sandbox_dir_name(const char *sandbox_id)
{
	return sandbox_id && *sandbox_id ? sandbox_id : PD_STATE_NO_SANDBOX;
}

static int join(char *buf, size_t size, struct pd_error *err, const char *a, const char *b,
		const char *c)
{
	int n = c ? snprintf(buf, size, "%s/%s/%s", a, b, c) : snprintf(buf, size, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= size)
		return pd_error_errno(err, ENAMETOOLONG, "state: path under %s", a);
	return 0;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *path, struct pd_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return pd_error_errno(err, ENAMETOOLONG, "state: mkdir %s", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return pd_error_errno(err, errno, "state: mkdir %s", buf);
		buf[i] = saved;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Readers see the old file or the new one, never a part: the bytes go to a temporary name
 * in the same directory and are renamed over state.json. A temp file left by a crash is
 * truncated and reused by the next write (the agent is the only writer). */
static int replace_file(int dfd, const char *dir, const char *text, size_t len,
			struct pd_error *err)
{
	int fd = openat(dfd, PD_STATE_TMP_FILE,
			O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pd_error_errno(err, errno, "state: create %s/%s", dir, PD_STATE_TMP_FILE);
	int rc = 0;
	if (write_all(fd, text, len) < 0 || fsync(fd) < 0)
		rc = pd_error_errno(err, errno, "state: write %s/%s", dir, PD_STATE_TMP_FILE);
	if (close(fd) < 0 && rc == 0 && errno != EINTR)
		rc = pd_error_errno(err, errno, "state: close %s/%s", dir, PD_STATE_TMP_FILE);
	if (rc == 0 && renameat(dfd, PD_STATE_TMP_FILE, dfd, PD_STATE_FILE) < 0)
		rc = pd_error_errno(err, errno, "state: rename in %s", dir);
	if (rc < 0)
		unlinkat(dfd, PD_STATE_TMP_FILE, 0);
	return rc;
}

int pd_state_write(const char *root, const char *sandbox_id, const struct pd_state *st,
		   struct pd_error *err)
{
	const char *sb = sandbox_dir_name(sandbox_id);
	char dir[PATH_MAX];
	if (check_component(sb, "sandbox id", err) < 0 ||
	    check_component(st->id, "container id", err) < 0 ||
	    join(dir, sizeof(dir), err, root, sb, st->id) < 0 || make_dirs(dir, err) < 0)
		return -1;
	char *text;
	size_t len;
	if (pd_state_render(st, &text, &len, err) < 0)
		return -1;
	int rc = -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		pd_error_errno(err, errno, "state: open %s", dir);
	else
		rc = replace_file(dfd, dir, text, len, err);
	if (dfd >= 0)
		close(dfd);
	free(text);
	return rc;
}

static int unlink_quiet(const char *dir, const char *name, struct pd_error *err)
{
	char path[PATH_MAX];
	if (join(path, sizeof(path), err, dir, name, NULL) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return pd_error_errno(err, errno, "state: unlink %s", path);
	return 0;
}

int pd_state_remove(const char *root, const char *sandbox_id, const char *id, struct pd_error *err)
{
	const char *sb = sandbox_dir_name(sandbox_id);
	char sb_dir[PATH_MAX], dir[PATH_MAX];
	if (check_component(sb, "sandbox id", err) < 0 ||
	    check_component(id, "container id", err) < 0 ||
	    join(sb_dir, sizeof(sb_dir), err, root, sb, NULL) < 0 ||
	    join(dir, sizeof(dir), err, root, sb, id) < 0)
		return -1;
	if (unlink_quiet(dir, PD_STATE_FILE, err) < 0 ||
	    unlink_quiet(dir, PD_STATE_TMP_FILE, err) < 0)
		return -1;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return pd_error_errno(err, errno, "state: rmdir %s", dir);
	/* Other containers of the sandbox keep its directory alive. */
	if (rmdir(sb_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return pd_error_errno(err, errno, "state: rmdir %s", sb_dir);
	return 0;
}
