/* The box the targets that run the agent's file and process code sit in (fuzz_dispatch,
 * fuzz_copyfile): whatever slips past their fakes must not reach the host.
 *
 *   - mount, network, uts and ipc namespaces of their own (the network one only holds lo);
 *   - every mount read-only in that mount namespace, except the directories libFuzzer writes
 *     (its corpus and artifact directories, from argv);
 *   - a tmpfs on /run: the agent's own paths (/run/kata-containers, /run/libcontainer, ...)
 *     and the target's fake kernel files live there;
 *   - the capabilities that act on the whole machine dropped (mount, modules, time, reboot,
 *     raw I/O, ptrace, mknod, BPF, ...).
 * Needs root; a target that cannot box itself does not run. */
#include "common.h"

#include <cap-ng.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (the target boxes itself before it runs: it needs root)\n");
	va_end(ap);
	exit(1);
}

/* mountinfo's mount point field: octal escapes undone in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* The per-mount flags a bind remount must keep (the kernel refuses to clear locked ones). */
static unsigned long kept_flags(const char *opts)
{
	unsigned long f = 0;
	static const struct {
		const char *name;
		unsigned long flag;
	} map[] = {{"nosuid", MS_NOSUID},	  {"nodev", MS_NODEV},
		   {"noexec", MS_NOEXEC},	  {"noatime", MS_NOATIME},
		   {"nodiratime", MS_NODIRATIME}, {"relatime", MS_RELATIME}};
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(t, map[i].name) == 0)
				f |= map[i].flag;
	return f;
}

static void all_read_only(const struct fz_sys *sys)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	if (!f)
		die("open /proc/self/mountinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *field[6], *save;
		int n = 0;
		for (char *t = strtok_r(line, " ", &save); t && n < 6;
		     t = strtok_r(NULL, " ", &save))
			field[n++] = t;
		if (n < 6)
			continue;
		unescape(field[4]);
		if (sys->mount(NULL, field[4], NULL,
			       MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(field[5]), NULL) < 0 &&
		    errno != ENOENT &&
		    errno != EACCES) /* hidden under another mount: unreachable */
			die("remount %s read-only: %s", field[4], strerror(errno));
	}
	fclose(f);
}

/* libFuzzer's corpus and artifact directories stay writable. */
static void writable(const struct fz_sys *sys, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return; /* an input file: only read */
	if (sys->mount(dir, dir, NULL, MS_BIND, NULL) < 0 ||
	    sys->mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT, NULL) < 0)
		die("keep %s writable: %s", dir, strerror(errno));
}

static void output_dirs(const struct fz_sys *sys, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *prefix = "-artifact_prefix=";
		if (strncmp(a, prefix, strlen(prefix)) == 0) {
			char dir[4096];
			snprintf(dir, sizeof(dir), "%s", a + strlen(prefix));
			char *slash = strrchr(dir, '/');
			if (slash && slash[1]) /* "dir/crash-" names a prefix in dir */
				*slash = '\0';
			writable(sys, slash ? dir : ".");
		} else if (a[0] != '-') {
			writable(sys, a);
		}
	}
}

static void drop_caps(void)
{
	static const int drop[] = {CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME,	    CAP_SYS_BOOT,
				   CAP_SYS_RAWIO, CAP_SYS_PTRACE, CAP_MKNOD,	    CAP_SYSLOG,
				   CAP_MAC_ADMIN, CAP_BPF,	  CAP_PERFMON,	    CAP_SYS_NICE,
				   CAP_SYS_PACCT, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND};
	if (capng_get_caps_process() < 0)
		die("capng_get_caps_process");
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			     drop[i]);
	if (capng_apply(CAPNG_SELECT_BOTH) < 0)
		die("cannot drop capabilities");
}

void fz_isolate(const struct fz_sys *sys, int argc, char **argv)
{
	if (sys->unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
		die("unshare: %s", strerror(errno));
	if (sys->mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private: %s", strerror(errno));
	all_read_only(sys);
	output_dirs(sys, argc, argv);
	if (fz_seed_dir())
		writable(sys, fz_seed_dir());
	if (sys->mount("pidone-fuzz", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=755") <
	    0)
		die("tmpfs on /run: %s", strerror(errno));
	drop_caps();
	/* The box holds: the host's root takes no new file. */
	if (mkdir("/pidone-fuzz-probe", 0700) == 0) {
		rmdir("/pidone-fuzz-probe");
		die("/ is still writable");
	}
	if (errno != EROFS)
		die("/ is not read-only: %s", strerror(errno));
}
