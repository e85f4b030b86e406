/* The file systems pid 1 mounts before anything else, as the Kata agent does (proc, sysfs,
 * devtmpfs, /dev/shm, devpts, /run) plus /tmp. Each is skipped when it is already mounted
 * with the same fstype, so a kernel that automounted devtmpfs, or a second call, does no
 * harm. /proc comes first: it is where we learn what is mounted. */
#include "mounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "agent/log.h"

struct early_mount {
	const char *source;
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *data;
};

static const struct early_mount early_mounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    /* ptmxmode=0666: /dev/ptmx becomes a link to pts/ptmx, which everyone must open. */
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666"},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

/* mountinfo escapes space, tab, newline and backslash as \ooo (three octal digits). */
static void unescape_octal(char *s)
{
	char *out = s;
	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

/* Next space-separated field; NULL at the end of the line. */
static char *next_field(char **cursor)
{
	char *p = *cursor;
	while (*p == ' ')
		p++;
	if (*p == '\0' || *p == '\n')
		return NULL;
	char *start = p;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return start;
}

/* "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw": the mount point is the
 * fifth field; optional fields end at "-", after which comes the fstype. */
int pd_mountinfo_parse_line(char *line, struct pd_mountinfo_entry *e)
{
	char *cursor = line;
	char *f[5];
	for (int i = 0; i < 5; i++)
		if (!(f[i] = next_field(&cursor)))
			return -1;
	char *opt;
	while ((opt = next_field(&cursor)) && strcmp(opt, "-") != 0)
		; /* optional fields: shared:N, master:N, ... */
	char *fstype = opt ? next_field(&cursor) : NULL;
	if (!fstype)
		return -1;
	unescape_octal(f[4]);
	e->mount_point = f[4];
	e->fstype = fstype;
	return 0;
}

bool pd_mountinfo_has(FILE *f, const char *path, const char *fstype)
{
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0) {
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) < 0)
			continue;
		found =
		    strcmp(e.mount_point, path) == 0 && (!fstype || strcmp(e.fstype, fstype) == 0);
	}
	free(line);
	return found;
}

bool pd_is_mount_point(const char *path, const char *fstype)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	bool found = pd_mountinfo_has(f, path, fstype);
	fclose(f);
	return found;
}

int pd_mkdir_p(const char *path, unsigned mode, struct pd_error *err)
{
	char buf[4096];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(buf))
		return pd_error_set(err, PD_INVALID_ARGUMENT, ENAMETOOLONG, "mkdir %s: bad length",
				    path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return pd_error_errno(err, errno, "mkdir %s", buf);
		if (saved == '\0')
			break;
		*p = saved;
	}
	return 0;
}

static int mount_one(const struct early_mount *m, struct pd_error *err)
{
	if (pd_is_mount_point(m->target, m->fstype)) {
		pd_debug("already mounted", "target=%s fstype=%s", m->target, m->fstype);
		return 0;
	}
	if (pd_mkdir_p(m->target, 0755, err) < 0)
		return -1;
	if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
		return pd_error_errno(err, errno, "mount %s on %s", m->fstype, m->target);
	pd_debug("mounted", "target=%s fstype=%s", m->target, m->fstype);
	return 0;
}

int pd_mounts_early(struct pd_error *err)
{
	for (size_t i = 0; i < sizeof(early_mounts) / sizeof(early_mounts[0]); i++) {
		struct pd_error e;
		if (mount_one(&early_mounts[i], &e) < 0)
			pd_warn("early mount failed", "error=\"%s\"", e.msg);
	}
	/* Without /proc there is no command line, no mountinfo, no container setup. */
	if (!pd_is_mount_point("/proc", "proc"))
		return pd_error_set(err, PD_INTERNAL, 0, "/proc is not mounted");
	return 0;
}
