/* The kernel takes a map in one write of "inside outside count\n" lines, and refuses the
 * whole write for one bad line with a bare EINVAL or EPERM: the checks here come first so
 * that the host hears which line is wrong, before anything was created. */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define ID_LAST 4294967294ULL /* the highest id; 4294967295 is (uid_t)-1 */
#define LINE_MAX_CHARS 34     /* "4294967295 4294967295 4294967295\n" */

static bool overlap(uint64_t a, uint64_t b, uint32_t size_a, uint32_t size_b)
{
	return a < b + size_b && b < a + size_a;
}

static int check_line(const char *what, const struct pd_idmap *m, size_t i,
		      struct pd_error *err)
{
	const struct pd_idmap *e = &m[i];
	if (e->size == 0)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "%s[%zu]: size 0", what, i);
	if ((uint64_t)e->container_id + e->size - 1 > ID_LAST ||
	    (uint64_t)e->host_id + e->size - 1 > ID_LAST)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s[%zu]: %u..%u -> %u..: past the last id %llu", what, i,
				    e->container_id, e->container_id + (e->size - 1), e->host_id,
				    ID_LAST);
	for (size_t j = 0; j < i; j++) {
		if (overlap(e->container_id, m[j].container_id, e->size, m[j].size))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "%s[%zu]: container ids overlap those of [%zu]", what,
					    i, j);
		if (overlap(e->host_id, m[j].host_id, e->size, m[j].size))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "%s[%zu]: host ids overlap those of [%zu]", what, i, j);
	}
	return 0;
}

int pd_idmap_check(const char *what, const struct pd_idmap *m, size_t n, struct pd_error *err)
{
	if (n > PD_MAX_IDMAP)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "%s: %zu lines, the kernel takes at most %d", what, n,
				    PD_MAX_IDMAP);
	for (size_t i = 0; i < n; i++)
		if (check_line(what, m, i, err) < 0)
			return -1;
	return 0;
}

/* The process's ids must exist in the namespace: setresuid would fail in the child. */
static int unmapped_ids(const struct pd_container_config *cfg, struct pd_error *err)
{
	const struct pd_process_config *p = &cfg->process;
	uint32_t host;
	if (!pd_idmap_to_host(cfg->uid_map, cfg->n_uid_map, p->uid, &host))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Process.User.UID %u is not mapped by Linux.UIDMappings",
				    (unsigned)p->uid);
	if (!pd_idmap_to_host(cfg->gid_map, cfg->n_gid_map, p->gid, &host))
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "Process.User.GID %u is not mapped by Linux.GIDMappings",
				    (unsigned)p->gid);
	for (size_t i = 0; i < p->n_additional_gids; i++)
		if (!pd_idmap_to_host(cfg->gid_map, cfg->n_gid_map, p->additional_gids[i], &host))
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "Process.User.AdditionalGids: %u is not mapped by "
					    "Linux.GIDMappings",
					    (unsigned)p->additional_gids[i]);
	return 0;
}

bool pd_userns_new(const struct pd_container_config *cfg)
{
	return cfg->ns[PD_NS_USER].enabled && !cfg->ns[PD_NS_USER].path;
}

int pd_userns_check(const struct pd_container_config *cfg, struct pd_error *err)
{
	const struct pd_namespace *user = &cfg->ns[PD_NS_USER];
	bool maps = cfg->n_uid_map || cfg->n_gid_map;
	if (!user->enabled)
		return maps ? pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					   "Linux.UIDMappings/GIDMappings: given, but "
					   "Linux.Namespaces has no user namespace")
			    : 0;
	if (user->path)
		return 0; /* maps, if any, only tell the host ids of stdio's owner */
	if (!cfg->n_uid_map || !cfg->n_gid_map)
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
				    "a new user namespace needs both Linux.UIDMappings and "
				    "Linux.GIDMappings");
	if (unmapped_ids(cfg, err) < 0)
		return -1;
	/* The container's processes have capabilities only over namespaces its user
	 * namespace owns: one owned by the agent's could be joined but not used. */
	for (int t = 0; t < PD_NS_COUNT; t++)
		if (t != PD_NS_USER && cfg->ns[t].enabled && cfg->ns[t].path)
			return pd_error_set(err, PD_INVALID_ARGUMENT, 0,
					    "a container with a new user namespace cannot join "
					    "the %s namespace %s (owned by another user namespace)",
					    pd_ns_proc_name(t), cfg->ns[t].path);
	return 0;
}

int pd_idmap_write(pid_t pid, const char *file, const struct pd_idmap *m, size_t n,
		   struct pd_error *err)
{
	static char buf[PD_MAX_IDMAP * LINE_MAX_CHARS + 1];
	char path[64];
	size_t len = 0;
	for (size_t i = 0; i < n && i < PD_MAX_IDMAP; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
					m[i].container_id, m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	ssize_t w = write(fd, buf, len);
	int e = errno;
	close(fd);
	if (w != (ssize_t)len)
		return pd_error_errno(err, w < 0 ? e : EIO, "write %s", path);
	return 0;
}

bool pd_idmap_to_host(const struct pd_idmap *m, size_t n, uint32_t id, uint32_t *host)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container_id && id - m[i].container_id < m[i].size) {
			*host = m[i].host_id + (id - m[i].container_id);
			return true;
		}
	return false;
}
