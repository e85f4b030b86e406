/* New CPUs online (OnlineCPUMem): a container's cpuset follows, as the Kata agent makes it.
 *
 * v1: the kernel widens only the root cpuset when a CPU comes online; every cgroup below
 * keeps the list it was given (we copied the parent's at create). So each level from the
 * top down to the container gets the root's list (top down: a child may only hold what its
 * parent holds). v2: an empty cpuset.cpus means "the parent's", and cpuset.cpus.effective
 * grows by itself; only levels someone wrote a list into are widened. Then a container that
 * pinned its own CPUs (Linux.Resources.CPU.Cpus, at create or by UpdateContainer) gets its
 * pin back: it keeps what it asked for. */
#include "cgroup_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pd_cg_remember_pin(struct pd_cgroup *cg, const struct pd_resources *res, char **pin,
		       struct pd_error *err)
{
	*pin = NULL;
	if (!res || !res->cpuset_cpus)
		return 0;
	*pin = strdup(res->cpuset_cpus);
	if (!*pin)
		return pd_error_errno(err, ENOMEM, "cgroup %s: cpuset", cg->path);
	return 0;
}

void pd_cg_keep_pin(struct pd_cgroup *cg, char *pin)
{
	if (!pin)
		return;
	free(cg->cpus_pin);
	cg->cpus_pin = pin;
}

/* One level: v1 always, v2 only where a list was written. */
static int widen(const char *level, const char *cpus, bool v2, struct pd_error *err)
{
	char cur[4096];
	if (v2 &&
	    (pd_cg_read(level, "cpuset.cpus", cur, sizeof(cur), NULL) < 0 || pd_cg_blank(cur)))
		return 0;
	return pd_cg_write(level, "cpuset.cpus", cpus, err);
}

int pd_cgroup_cpuset_online(struct pd_cgroup *cg, struct pd_error *err)
{
	bool v2 = cg->version == PD_CGROUP_V2;
	char level[PATH_MAX], cpus[4096];
	int n = snprintf(level, sizeof(level), "%s%s", cg->root, v2 ? "" : "/cpuset");
	if (!v2 && !pd_cg_v1_dir(cg, "cpuset"))
		return 0; /* no cpuset hierarchy */
	if (pd_cg_read(level, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", cpus, sizeof(cpus),
		       NULL) < 0)
		return 0; /* v2 without the cpuset controller */
	cpus[strcspn(cpus, "\n")] = '\0';
	if (pd_cg_blank(cpus))
		return 0;
	for (const char *p = cg->path; *p;) {
		size_t w = strcspn(p, "/");
		int k = snprintf(level + n, sizeof(level) - (size_t)n, "/%.*s", (int)w, p);
		if (k < 0 || (size_t)(n + k) >= sizeof(level))
			return pd_error_errno(err, ENAMETOOLONG, "cgroup %s: cpuset", cg->path);
		n += k;
		if (widen(level, cpus, v2, err) < 0)
			return pd_error_wrap(err, "cgroup %s: give it the online CPUs", cg->path);
		p += w + (p[w] == '/');
	}
	if (cg->cpus_pin && pd_cg_write(level, "cpuset.cpus", cg->cpus_pin, err) < 0)
		return pd_error_wrap(err, "cgroup %s: its own CPUs back", cg->path);
	return 0;
}
