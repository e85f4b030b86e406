/* cgroups for the containers, mounted the way the Kata agent mounts them so that a runtime
 * that knows Kata finds the same layout:
 *   v2  cgroup2 at /sys/fs/cgroup (nsdelegate), every controller enabled in subtree_control
 *       (the Go agent did this; without it a container's cgroup gets no controllers);
 *   v1  tmpfs at /sys/fs/cgroup, one hierarchy per enabled controller of a known set (cpu
 *       and cpuacct not co-mounted), the tmpfs remounted read-only, memory.use_hierarchy=1. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "agent/log.h"
#include "mounts.h"

#define CGROUP_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME)

const char *const pd_cgroup_v1_known[] = {
    "cpu",     "cpuacct",    "blkio",	 "cpuset",  "memory", "devices", "freezer",
    "net_cls", "perf_event", "net_prio", "hugetlb", "pids",   "rdma",	 NULL,
};

static int known_index(const char *name)
{
	for (int i = 0; pd_cgroup_v1_known[i]; i++)
		if (strcmp(pd_cgroup_v1_known[i], name) == 0)
			return i;
	return -1;
}

/* "#subsys_name hierarchy num_cgroups enabled", then "memory 4 26 1" per controller. */
unsigned pd_cgroup_v1_enabled(FILE *proc_cgroups)
{
	char line[256];
	unsigned mask = 0;
	while (fgets(line, sizeof(line), proc_cgroups)) {
		char name[64];
		unsigned hierarchy, count, enabled;
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %u %u %u", name, &hierarchy, &count, &enabled) != 4)
			continue;
		int i = known_index(name);
		if (i >= 0 && enabled)
			mask |= 1u << i;
	}
	return mask;
}

static int write_file(const char *path, const char *text, struct pd_error *err)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (n != (ssize_t)len)
		return pd_error_errno(err, n < 0 ? saved : EIO, "write %s", path);
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t len, struct pd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open %s", path);
	ssize_t n = read(fd, buf, len - 1);
	int saved = errno;
	close(fd);
	if (n < 0)
		return pd_error_errno(err, saved, "read %s", path);
	buf[n] = '\0';
	return 0;
}

/* cgroup.controllers "cpuset cpu io memory" -> "+cpuset +cpu +io +memory". */
static void build_enable_list(const char *controllers, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = controllers; *p;) {
		size_t w = strcspn(p, " \t\n");
		if (w > 0 && n + w + 2 < len) {
			n += (size_t)snprintf(out + n, len - n, "%s+%.*s", n ? " " : "", (int)w, p);
		}
		p += w;
		p += strspn(p, " \t\n");
	}
}

int pd_cgroup2_enable_all(const char *dir, struct pd_error *err)
{
	char path[512], controllers[1024], list[2048];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (read_small_file(path, controllers, sizeof(controllers), err) < 0)
		return -1;
	build_enable_list(controllers, list, sizeof(list));
	if (list[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	struct pd_error e;
	if (write_file(path, list, &e) == 0)
		return 0;
	/* The kernel refuses the whole batch if one controller fails: try each alone. */
	int failed = 0;
	for (char *save = NULL, *c = strtok_r(list, " ", &save); c;
	     c = strtok_r(NULL, " ", &save)) {
		if (write_file(path, c, &e) < 0) {
			pd_warn("cgroup controller not enabled", "controller=%s error=\"%s\"",
				c + 1, e.msg);
			failed++;
		}
	}
	return failed;
}

static int mount_v2(struct pd_error *err)
{
	if (mount("cgroup2", PD_CGROUP_ROOT, "cgroup2", CGROUP_FLAGS, "nsdelegate") < 0) {
		/* nsdelegate needs Linux 4.13; a kernel without it still gives a usable tree. */
		if (errno != EINVAL ||
		    mount("cgroup2", PD_CGROUP_ROOT, "cgroup2", CGROUP_FLAGS, NULL) < 0)
			return pd_error_errno(err, errno, "mount cgroup2 on %s", PD_CGROUP_ROOT);
	}
	struct pd_error e;
	int failed = pd_cgroup2_enable_all(PD_CGROUP_ROOT, &e);
	if (failed < 0)
		pd_warn("cgroup controllers not enabled", "error=\"%s\"", e.msg);
	return 0;
}

static void mount_v1_controllers(unsigned mask)
{
	for (int i = 0; pd_cgroup_v1_known[i]; i++) {
		if (!(mask & (1u << i)))
			continue;
		const char *name = pd_cgroup_v1_known[i];
		char path[128];
		struct pd_error e;
		snprintf(path, sizeof(path), "%s/%s", PD_CGROUP_ROOT, name);
		int rc = pd_mkdir_p(path, 0755, &e);
		if (rc == 0 && mount("cgroup", path, "cgroup", CGROUP_FLAGS, name) < 0)
			rc = pd_error_errno(&e, errno, "mount cgroup on %s", path);
		if (rc < 0)
			pd_warn("cgroup hierarchy not mounted", "error=\"%s\"", e.msg);
	}
}

static int mount_v1(struct pd_error *err)
{
	FILE *f = fopen("/proc/cgroups", "re");
	if (!f)
		return pd_error_errno(err, errno, "open /proc/cgroups");
	unsigned mask = pd_cgroup_v1_enabled(f);
	fclose(f);
	if (!(mask & (1u << known_index("devices")))) {
		/* Kata mounts nothing then: a v1 setup without devices cannot confine containers.
		 */
		pd_warn("no devices cgroup controller, cgroups not mounted", "path=%s",
			PD_CGROUP_ROOT);
		return 0;
	}
	if (mount("tmpfs", PD_CGROUP_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") <
	    0)
		return pd_error_errno(err, errno, "mount tmpfs on %s", PD_CGROUP_ROOT);
	mount_v1_controllers(mask);
	/* Read-only so nothing but a hierarchy mount can appear at the top. */
	if (mount("tmpfs", PD_CGROUP_ROOT, "tmpfs",
		  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		pd_warn("remount cgroup root read-only failed", "error=\"%s\"", strerror(errno));
	struct pd_error e;
	if (mask & (1u << known_index("memory")) &&
	    write_file(PD_CGROUP_ROOT "/memory/memory.use_hierarchy", "1", &e) < 0)
		pd_warn("memory.use_hierarchy not set", "error=\"%s\"", e.msg);
	return 0;
}

int pd_cgroups_mount(bool v2, struct pd_error *err)
{
	if (pd_is_mount_point(PD_CGROUP_ROOT, NULL)) {
		pd_debug("cgroups already mounted", "path=%s", PD_CGROUP_ROOT);
		return 0;
	}
	if (pd_mkdir_p(PD_CGROUP_ROOT, 0755, err) < 0)
		return -1;
	return v2 ? mount_v2(err) : mount_v1(err);
}
