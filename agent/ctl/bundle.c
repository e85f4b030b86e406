#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int too_large(const char *path, size_t max, struct pd_error *err)
{
	return pd_error_set(err, PD_RESOURCE_EXHAUSTED, EFBIG, "%s: larger than %zu bytes", path,
			    max);
}

/* Read into a buffer that doubles; it stops growing once past max, so a huge (or endless)
 * file costs about 2 * max, never more. */
static int read_all(int fd, const char *path, size_t max, char **text, size_t *len,
		    struct pd_error *err)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			char *more = cap > max ? NULL : realloc(buf, (cap = cap ? cap * 2 : 65536) + 1);
			if (!more) {
				free(buf);
				return n > max ? too_large(path, max, err)
					       : pd_error_errno(err, ENOMEM, "%s", path);
			}
			buf = more;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return pd_error_errno(err, errno, "%s", path);
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		free(buf);
		return too_large(path, max, err);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int pd_ctl_read_file(const char *path, size_t max, char **text, size_t *len,
		     struct pd_error *err)
{
	int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "%s", path);
	int rc = read_all(fd, path, max, text, len, err);
	close(fd);
	return rc;
}

/* Replace a string field's value with a copy of s (the old one freed unless it is the
 * shared empty default). */
static int set_string(char **field, const char *s, struct pd_error *err)
{
	char *copy = strdup(s);
	if (!copy)
		return pd_error_errno(err, ENOMEM, "spec");
	if (*field && *field != protobuf_c_empty_string)
		free(*field);
	*field = copy;
	return 0;
}

/* The namespaces Kata's runtime leaves out: the VM's network is the containers'; cgroup
 * and time are the agent's business; pid is the agent's (new, or the sandbox's). */
static bool dropped_namespace(const char *type)
{
	return !strcmp(type, "network") || !strcmp(type, "cgroup") || !strcmp(type, "time") ||
	       !strcmp(type, "pid");
}

static void constrain_namespaces(Grpc__Linux *l, bool *sandbox_pidns)
{
	size_t kept = 0;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		Grpc__LinuxNamespace *ns = l->namespaces[i];
		if (dropped_namespace(ns->type)) {
			if (!strcmp(ns->type, "pid") && ns->path[0])
				*sandbox_pidns = true;
			protobuf_c_message_free_unpacked(&ns->base, NULL);
			continue;
		}
		if (ns->path != protobuf_c_empty_string)
			free(ns->path);
		ns->path = (char *)protobuf_c_empty_string;
		l->namespaces[kept++] = ns;
	}
	l->n_namespaces = kept;
}

int pd_ctl_spec_for_guest(Grpc__Spec *spec, const char *root_path, bool *sandbox_pidns,
			  struct pd_error *err)
{
	*sandbox_pidns = false;
	if (!spec->root)
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "the spec has no root");
	if (root_path[0] != '/')
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL,
				    "rootfs path '%s' is not absolute", root_path);
	if (set_string(&spec->root->path, root_path, err) < 0)
		return -1;
	protobuf_c_message_free_unpacked((ProtobufCMessage *)spec->hooks, NULL);
	spec->hooks = NULL;
	if (spec->linux_)
		constrain_namespaces(spec->linux_, sandbox_pidns);
	return 0;
}

/* <dir>/<root.path> as an absolute path without symlinks (the agent insists on one). */
static int host_root_path(const char *dir, const Grpc__Spec *spec, char **out,
			  struct pd_error *err)
{
	const char *root = spec->root ? spec->root->path : "";
	char *joined;
	if (!root[0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, EINVAL, "config.json: no root.path");
	if (asprintf(&joined, "%s%s%s", root[0] == '/' ? "" : dir, root[0] == '/' ? "" : "/",
		     root) < 0)
		return pd_error_errno(err, ENOMEM, "root path");
	*out = realpath(joined, NULL);
	int rc = *out ? 0 : pd_error_errno(err, errno, "root.path %s", joined);
	free(joined);
	return rc;
}

int pd_ctl_load_bundle(const struct pd_ctl_bundle *b, Grpc__Spec **spec, bool *sandbox_pidns,
		       struct pd_error *err)
{
	char *path, *text, *root = NULL;
	size_t len;
	ProtobufCMessage *msg;

	*spec = NULL;
	if (asprintf(&path, "%s/config.json", b->dir) < 0)
		return pd_error_errno(err, ENOMEM, "bundle");
	int rc = pd_ctl_read_file(path, PD_J2P_MAX_TEXT, &text, &len, err);
	if (rc == 0) {
		rc = pd_json_to_proto(text, len, &grpc__spec__descriptor, b->unknown, &msg, err);
		free(text);
		if (rc < 0)
			pd_error_wrap(err, "%s", path);
	}
	free(path);
	if (rc < 0)
		return -1;
	Grpc__Spec *s = (Grpc__Spec *)msg;
	if (b->terminal >= 0 && s->process)
		s->process->terminal = b->terminal;
	if (!b->rootfs_guest_path)
		rc = host_root_path(b->dir, s, &root, err);
	if (rc == 0)
		rc = pd_ctl_spec_for_guest(s, root ? root : b->rootfs_guest_path, sandbox_pidns,
					   err);
	free(root);
	if (rc < 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		return -1;
	}
	*spec = s;
	return 0;
}
