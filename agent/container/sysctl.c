/* Linux.Sysctl: the namespaced-only rule and the writes (sysctl.h, docs/sysctl.md). */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/container/validate.h"

#define SYSCTL_KEY_MAX 256 /* the longest /proc/sys path is far below */

/* The ipc sysctls the kernel keeps per ipc namespace (besides fs.mqueue.*). */
static const char *const ipc_keys[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '/';
}

/* runc's slash form ("net/ipv4/conf/eth0.100/rp_filter") swaps the roles of '.' and '/'. */
static bool slash_form(const char *key)
{
	size_t n = strcspn(key, "./");
	return key[n] == '/';
}

int pd_sysctl_path(const char *key, char *buf, size_t size)
{
	bool slashes = slash_form(key);
	size_t len = strlen(key);
	if (len == 0 || len >= size)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		char c = key[i];
		buf[i] = slashes ? c : c == '.' ? '/' : c == '/' ? '.' : c;
	}
	/* No way out of /proc/sys and no ambiguity: every component is a plain name. */
	for (const char *p = buf;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int pd_sysctl_check_syntax(const char *key, const char *value, struct pd_error *err)
{
	char shown[PD_SHOWN_MAX], path[SYSCTL_KEY_MAX];
	key = key ? key : "";
	value = value ? value : "";
	for (const char *p = key; *p; p++)
		if (!key_char(*p))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "Linux.Sysctl: bad character in key '%s'",
					    pd_shown(key, shown, sizeof(shown)));
	if (pd_sysctl_path(key, path, sizeof(path)) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Linux.Sysctl: '%s' is not a sysctl name",
				    pd_shown(key, shown, sizeof(shown)));
	size_t vlen = strnlen(value, PD_SYSCTL_VALUE_MAX + 1);
	if (vlen == 0 || vlen > PD_SYSCTL_VALUE_MAX)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Linux.Sysctl[%s]: the value must have 1 to %d bytes", key,
				    PD_SYSCTL_VALUE_MAX);
	if (strchr(value, '\n'))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Linux.Sysctl[%s]: a newline in the value", key);
	return 0;
}

/* The key in dotted form (the slash form swaps '.' and '/'); "" if it does not fit. */
static const char *dotted(const char *key, char *buf, size_t size)
{
	if (snprintf(buf, size, "%s", key) >= (int)size)
		return "";
	if (slash_form(key))
		for (char *p = buf; *p; p++)
			*p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
	return buf;
}

int pd_sysctl_namespace(const char *key)
{
	char buf[SYSCTL_KEY_MAX];
	const char *k = dotted(key, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(ipc_keys) / sizeof(ipc_keys[0]); i++)
		if (strcmp(k, ipc_keys[i]) == 0)
			return PD_NS_IPC;
	if (strncmp(k, "fs.mqueue.", 10) == 0 && k[10])
		return PD_NS_IPC;
	if (strncmp(k, "net.", 4) == 0 && k[4])
		return PD_NS_NET;
	if (strcmp(k, "kernel.domainname") == 0)
		return PD_NS_UTS;
	return -1;
}

/* Is the namespace at path the agent's own one of this type? */
static int is_ours(int type, const char *path, bool *ours, struct pd_error *err)
{
	char self[64];
	struct stat a, b;
	snprintf(self, sizeof(self), "/proc/self/ns/%s", pd_ns_proc_name(type));
	if (stat(self, &a) < 0)
		return pd_error_errno(err, errno, "stat %s", self);
	if (stat(path, &b) < 0)
		return pd_error_errno(err, errno, "Linux.Namespaces: %s namespace %s",
				      pd_ns_proc_name(type), path);
	*ours = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return 0;
}

static int check_one(const struct pd_container_config *cfg, const char *key, struct pd_error *err)
{
	static const char *const oci_name[PD_NS_COUNT] = {
	    [PD_NS_IPC] = "an ipc", [PD_NS_NET] = "a network", [PD_NS_UTS] = "a uts"};
	char buf[SYSCTL_KEY_MAX];
	int type = pd_sysctl_namespace(key);
	if (type < 0 && strcmp(dotted(key, buf, sizeof(buf)), "kernel.hostname") == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Linux.Sysctl: 'kernel.hostname' is not allowed, the Hostname "
				    "field sets it");
	if (type < 0)
		return pd_error_set(
		    err, PD_INVALID_ARGUMENT, 0,
		    "Linux.Sysctl: '%s' is not namespaced: it would change the whole "
		    "guest",
		    key);
	const struct pd_namespace *ns = &cfg->ns[type];
	bool ours = false;
	if (ns->enabled && ns->path && is_ours(type, ns->path, &ours, err) < 0)
		return pd_error_wrap(err, "Linux.Sysctl[%s]", key);
	if (!ns->enabled || ours)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Linux.Sysctl: '%s' needs %s namespace of the container's own, "
				    "and the container shares the agent's",
				    key, oci_name[type]);
	return 0;
}

int pd_sysctls_check(const struct pd_container_config *cfg, struct pd_error *err)
{
	for (size_t i = 0; i < cfg->n_sysctls; i++)
		if (check_one(cfg, cfg->sysctls[i].key, err) < 0)
			return -1;
	return 0;
}

static int write_one(const struct pd_sysctl *s, struct pd_error *err)
{
	char path[SYSCTL_KEY_MAX + 16] = "/proc/sys/";
	if (pd_sysctl_path(s->key, path + 10, sizeof(path) - 10) < 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "sysctl %s: bad name", s->key);
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "sysctl %s: open %s", s->key, path);
	struct statfs st;
	char shown[PD_SHOWN_MAX];
	int rc = 0;
	size_t len = strlen(s->value);
	ssize_t w = 0;
	if (fstatfs(fd, &st) < 0)
		rc = pd_error_errno(err, errno, "sysctl %s: fstatfs", s->key);
	else if (st.f_type != PROC_SUPER_MAGIC)
		rc = pd_error_set(err, PD_FAILED_PRECONDITION, 0,
				  "sysctl %s: %s is not on a procfs", s->key, path);
	else if ((w = write(fd, s->value, len)) != (ssize_t)len)
		rc = pd_error_errno(err, w < 0 ? errno : EIO, "sysctl %s=%s", s->key,
				    pd_shown(s->value, shown, sizeof(shown)));
	close(fd);
	return rc;
}

int pd_sysctls_apply(const struct pd_sysctl *s, size_t n, struct pd_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (write_one(&s[i], err) < 0)
			return -1;
	return 0;
}
