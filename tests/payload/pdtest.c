/* pdtest: a tiny static multi-call program for test rootfs (no distro image needed).
 * Run as `pdtest CMD ARGS...`, or through a symlink named CMD. Each command prints what
 * a test checks from inside a container. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int cat_file(const char *path)
{
	int fd = path ? open(path, O_RDONLY) : 0;
	if (fd < 0) {
		perror(path);
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	return n < 0;
}

/* Lines of /proc/self/status a test reads: capabilities, ids, no_new_privs. */
static int status(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) ||
		    !strncmp(line, "Uid", 3) || !strncmp(line, "Gid", 3) ||
		    !strncmp(line, "Groups", 6) || !strncmp(line, "Pid:", 4) ||
		    !strncmp(line, "Seccomp:", 8))
			fputs(line, stdout);
	fclose(f);
	return 0;
}

/* N bytes of a pattern a test can verify without storing it: byte i = i * 7 mod 251. */
static int spew(long long n)
{
	static unsigned char buf[65536];
	long long i = 0;
	while (i < n) {
		size_t k = 0;
		for (; k < sizeof(buf) && i + (long long)k < n; k++)
			buf[k] = (unsigned char)(((i + (long long)k) * 7) % 251);
		size_t off = 0;
		while (off < k) {
			ssize_t w = write(1, buf + off, k - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return 1;
			off += (size_t)w;
		}
		i += (long long)k;
	}
	return 0;
}

static int rlimit(const char *name)
{
	static const struct {
		const char *n;
		int r;
	} m[] = {{"NOFILE", RLIMIT_NOFILE}, {"NPROC", RLIMIT_NPROC}, {"CORE", RLIMIT_CORE},
		 {"STACK", RLIMIT_STACK}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct rlimit rl;
		if (strcmp(m[i].n, name) == 0 && getrlimit(m[i].r, &rl) == 0) {
			printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
			       (unsigned long long)rl.rlim_max);
			return 0;
		}
	}
	return 1;
}

/* Touch MIB MiB of fresh memory, page by page: in a memory cgroup with a lower limit (and
 * no swap) the kernel OOM-kills us part way. Surviving prints "survived" and exits 0. */
static int memhog(long mib)
{
	size_t size = (size_t)mib << 20;
	volatile char *p =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return perror("mmap"), 1;
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	return puts("survived"), 0;
}

/* Fork children that wait, until fork fails (a pids limit stops it with EAGAIN): print
 * "forked N: <error>", then kill and reap them. At most `max` children. */
static int forkbomb(long max)
{
	pid_t kids[4096];
	long n = 0;
	int err = 0;
	if (max <= 0 || max > 4096)
		max = 4096;
	while (n < max) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			pause();
			_exit(0);
		}
		kids[n++] = pid;
	}
	printf("forked %ld: %s\n", n, err ? strerror(err) : "no error");
	for (long i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

/* "PID COMM" of every process this pid namespace's /proc shows, in /proc's order. */
static int ps(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	if (!d)
		return perror("/proc"), 1;
	while ((e = readdir(d))) {
		char path[300], comm[64] = "";
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* gone meanwhile */
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		printf("%s %s\n", e->d_name, comm);
	}
	closedir(d);
	return 0;
}

static void on_term(int sig)
{
	static const char msg[] = "got SIGTERM\n";
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(0);
}

/* `hook` without arguments, as a guest hook (argv is [path]): installed as DIR/KIND/hook,
 * it appends "KIND oom=<its oom_score_adj> <stdin>" to DIR/KIND.log. */
static int guest_hook(void)
{
	char exe[4096], oom[32] = "?", state[65536];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash || slash == exe)
		return 1;
	*slash = '\0'; /* DIR/KIND */
	const char *kind = strrchr(exe, '/') + 1;
	FILE *o = fopen("/proc/self/oom_score_adj", "r");
	if (o) {
		if (!fgets(oom, sizeof(oom), o))
			strcpy(oom, "?");
		oom[strcspn(oom, "\n")] = '\0';
		fclose(o);
	}
	ssize_t len = 0;
	while (len < (ssize_t)sizeof(state) - 1 &&
	       (n = read(0, state + len, sizeof(state) - 1 - (size_t)len)) > 0)
		len += n;
	state[len] = '\0';
	char log[4200];
	snprintf(log, sizeof(log), "%s.log", exe);
	FILE *f = fopen(log, "a");
	if (!f)
		return 1;
	fprintf(f, "%s oom=%s %s\n", kind, oom, state);
	return fclose(f) != 0;
}

/* fdrace WANT COMM [PID]: an attacker of the agent's set-up children (docs/security.md, "Forked
 * children hold nothing of the agent"). Prints "dumpable N" (its own, as the exec left
 * it), then loops over the fds (/proc/<pid>/fd/N) and the root of every other process it
 * can see. A process named COMM (the agent's name: a child of the agent before its exec)
 * must let it open nothing: each fd and the root it opens is printed as "leak ...", each
 * refusal (EACCES/EPERM) counted; the first visit of each such pid that met a refusal or
 * a leak prints "seen PID fds N denied D root R". Any other process may hold only pipes,
 * /dev/null and terminals. Ends after WANT such pids (exit 0, or 1 if anything leaked), or
 * at SIGTERM (exit 3: the race was not run). The last line is the summary. WANT 0: only
 * the first line. PID: that process only. */
static volatile sig_atomic_t race_stop;

static void on_race_term(int sig)
{
	race_stop = 1;
}

static bool race_allowed(const char *target)
{
	return !strncmp(target, "pipe:[", 6) || !strcmp(target, "/dev/null") ||
	       !strncmp(target, "/dev/pts/", 9) || !strcmp(target, "/dev/tty");
}

struct race {
	const char *comm;
	int seen[4096];
	int n_seen;
	long denied, leaks, passes;
};

/* Was pid, which let us open something, still the agent's child, not yet exec'd? Between
 * the kernel's dumpability for the new image and its new name, a process is dumpable under
 * the agent's name; our look at its name may also be older than its exec. Its exe names
 * the new image from before both. A process gone meanwhile cannot tell: not counted. */
static bool still_agents(const char *pid, const char *comm)
{
	char path[64], buf[512] = "";
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	if (strcmp(buf, comm))
		return false;
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return errno != ENOENT && errno != ESRCH; /* refused now: count it */
	buf[n] = '\0';
	const char *base = strrchr(buf, '/');
	return strncmp(base ? base + 1 : buf, comm, strlen(comm)) == 0; /* comm: 15 chars */
}

/* One fd, or the root, of pid: opened (O_PATH follows the magic link) or refused. */
static int race_open(struct race *r, const char *pid, const char *what, bool agent_child)
{
	char path[300], target[512] = "";
	snprintf(path, sizeof(path), "/proc/%s/%s", pid, what);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	int e = n < 0 ? errno : 0;
	target[n > 0 ? n : 0] = '\0';
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else if (e == 0)
		e = errno;
	if (e == ENOENT || e == ESRCH)
		return 0; /* gone meanwhile */
	if (e == EACCES || e == EPERM) {
		r->denied++;
		return 1;
	}
	if (agent_child ? !still_agents(pid, r->comm) : race_allowed(target))
		return 0;
	if (++r->leaks <= 20) /* nobody reads our output until we end */
		printf("leak %s %s %s -> %s (%s)\n", pid, agent_child ? r->comm : "other", what,
		       target, e ? strerror(e) : "opened");
	return 0;
}

static void race_pid(struct race *r, const char *pid)
{
	char path[300], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
	bool child = !strcmp(comm, r->comm);
	int fds = 0, denied = 0;
	long leaks = r->leaks;
	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d && (errno == EACCES || errno == EPERM)) {
		r->denied++;
		fds = -1; /* not even listed */
	}
	while (d && (e = readdir(d))) {
		char what[300];
		if (e->d_name[0] == '.')
			continue;
		snprintf(what, sizeof(what), "fd/%s", e->d_name);
		fds++;
		denied += race_open(r, pid, what, child);
	}
	if (d)
		closedir(d);
	if (!child)
		return;
	int root_denied = race_open(r, pid, "root", true);
	if (fds >= 0 && !denied && !root_denied && r->leaks == leaks)
		return; /* it exec'd or went away before any attempt: not met */
	int p = atoi(pid);
	for (int i = 0; i < r->n_seen; i++)
		if (r->seen[i] == p)
			return;
	if (r->n_seen < (int)(sizeof(r->seen) / sizeof(r->seen[0])))
		r->seen[r->n_seen++] = p;
	printf("seen %d fds %d denied %d root %s\n", p, fds, denied,
	       root_denied ? "denied" : "open");
}

static int fdrace(int want, const char *comm, const char *only)
{
	static struct race r;
	char self[16];
	r.comm = comm;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	printf("dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	if (want <= 0)
		return 0;
	signal(SIGTERM, on_race_term);
	while (r.n_seen < want && !race_stop) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		if (!d)
			return perror("/proc"), 2;
		while ((e = readdir(d)))
			if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && strcmp(e->d_name, self) &&
			    (!only || !strcmp(e->d_name, only)))
				race_pid(&r, e->d_name);
		closedir(d);
		r.passes++;
	}
	printf("summary seen %d denied %ld leaks %ld passes %ld\n", r.n_seen, r.denied, r.leaks,
	       r.passes);
	return r.leaks ? 1 : r.n_seen < want ? 3 : 0;
}

/* ---- holder-probe: what a container sees of its pid 1 (tests/integration/attacker_holder) -- */

/* "KEY: a b c" for the entries of a directory ("KEY: (empty)"), or "KEY: error <errno>". */
static void probe_dir(const char *key, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;
	if (!d) {
		printf("%s: error %s\n", key, strerror(errno));
		return;
	}
	printf("%s:", key);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			printf(" %s", e->d_name), n++;
	printf("%s\n", n ? "" : " (empty)");
	closedir(d);
}

/* A file's bytes with NULs and newlines as '|', "KEY: error ..." if unreadable. */
static void probe_file(const char *key, const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("%s: error %s\n", key, strerror(errno));
	} else {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0' || buf[i] == '\n')
				buf[i] = '|';
		buf[n] = '\0';
		printf("%s: %zd bytes %s\n", key, n, buf);
	}
	if (fd >= 0)
		close(fd);
}

/* Every readable mapping of pid 1 through process_vm_readv: bytes read, and whether the
 * marker is in any of them (the agent's memory has it: it is the sandbox's id). */
static void probe_memory(const char *marker)
{
	char line[512], perms[8], buf[65536 + 256];
	unsigned long lo, hi;
	long long total = 0;
	int found = 0, errors = 0, skipped = 0;
	size_t mlen = strlen(marker);
	FILE *f = mlen > 0 && mlen <= 256 ? fopen("/proc/1/maps", "r") : NULL;
	if (!f) {
		printf("memory: error %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
			continue;
		if (hi - lo > (1UL << 30)) { /* ASan's shadow: terabytes of reserved zeros */
			skipped++;
			continue;
		}
		size_t keep = 0; /* a marker across two chunks */
		for (unsigned long a = lo; a < hi;) {
			size_t want = hi - a < 65536 ? hi - a : 65536;
			struct iovec local = {buf + keep, want}, remote = {(void *)a, want};
			ssize_t n = process_vm_readv(1, &local, 1, &remote, 1, 0);
			if (n <= 0) {
				errors++;
				break;
			}
			total += n;
			size_t have = keep + (size_t)n;
			if (memmem(buf, have, marker, mlen))
				found = 1;
			keep = have < mlen - 1 ? have : mlen - 1;
			memmove(buf, buf + have - keep, keep);
			a += (unsigned long)n;
		}
	}
	fclose(f);
	printf("memory: %lld bytes read, %d unreadable, %d over 1 GiB skipped, marker %s\n", total,
	       errors, skipped, found ? "FOUND" : "absent");
}

/* Seize, stop, detach: what CAP_SYS_PTRACE allows on pid 1. */
static void probe_ptrace(void)
{
	int st = 0;
	if (ptrace(PTRACE_SEIZE, 1, 0, 0) < 0) {
		printf("ptrace: error %s\n", strerror(errno));
		return;
	}
	if (ptrace(PTRACE_INTERRUPT, 1, 0, 0) < 0 || waitpid(1, &st, __WALL) != 1)
		printf("ptrace: seized, no stop: %s\n", strerror(errno));
	else
		printf("ptrace: attached\n");
	ptrace(PTRACE_DETACH, 1, 0, 0);
}

/* In a child: join pid 1's namespace of that type, print what is there. */
static void probe_setns(const char *type, int nstype)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/1/ns/%s", type);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, nstype) < 0) {
			printf("setns-%s: error %s\n", type, strerror(errno));
			_exit(0);
		}
		if (nstype == CLONE_NEWNS) {
			struct statfs sf;
			probe_dir("setns-mnt-root", "/");
			printf("setns-mnt-fstype: %s\n",
			       statfs("/", &sf) < 0 ? strerror(errno)
			       : sf.f_type == 0x01021994 ? "tmpfs" : "other");
		} else {
			struct if_nameindex *ifs = if_nameindex(), *i;
			printf("setns-net-links:");
			for (i = ifs; i && i->if_name; i++)
				printf(" %s", i->if_name);
			printf("\n");
		}
		fflush(stdout);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static int holder_probe(const char *marker)
{
	char exe[4096];
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	probe_file("comm", "/proc/1/comm");
	probe_file("cmdline", "/proc/1/cmdline");
	probe_file("environ", "/proc/1/environ");
	printf("exe: %s\n", n > 0 ? exe : strerror(errno));
	probe_dir("root", "/proc/1/root/");
	probe_dir("cwd", "/proc/1/cwd/");
	probe_dir("fd", "/proc/1/fd");
	probe_file("mountinfo", "/proc/1/mountinfo");
	FILE *f = fopen("/proc/1/status", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) ||
		    !strncmp(line, "Seccomp", 7) || !strncmp(line, "Uid", 3) ||
		    !strncmp(line, "Gid", 3) || !strncmp(line, "Groups", 6))
			printf("status %s", line);
	if (f)
		fclose(f);
	probe_memory(marker);
	probe_ptrace();
	probe_setns("mnt", CLONE_NEWNS);
	probe_setns("net", CLONE_NEWNET);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	if (!strcmp(cmd, "echo")) {
		for (int i = 1; i < argc; i++)
			printf("%s%s", i > 1 ? " " : "", argv[i]);
		printf("\n");
		return 0;
	}
	if (!strcmp(cmd, "true"))
		return 0;
	if (!strcmp(cmd, "false"))
		return 1;
	if (!strcmp(cmd, "exit"))
		return argc > 1 ? atoi(argv[1]) : 0;
	if (!strcmp(cmd, "cat"))
		return cat_file(argc > 1 ? argv[1] : NULL);
	if (!strcmp(cmd, "status"))
		return status();
	if (!strcmp(cmd, "env")) {
		for (char **e = environ; *e; e++)
			puts(*e);
		return 0;
	}
	if (!strcmp(cmd, "pwd")) {
		char buf[4096];
		return getcwd(buf, sizeof(buf)) ? (puts(buf), 0) : 1;
	}
	if (!strcmp(cmd, "hostname")) {
		char buf[256];
		return gethostname(buf, sizeof(buf)) == 0 ? (puts(buf), 0) : 1;
	}
	if (!strcmp(cmd, "pid"))
		return printf("%d\n", (int)getpid()) < 0;
	if (!strcmp(cmd, "isatty"))
		return puts(isatty(0) ? "tty" : "notty") < 0;
	if (!strcmp(cmd, "sleep"))
		return sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 1000000), 0;
	if (!strcmp(cmd, "trap-term")) { /* handle SIGTERM, then wait for it */
		signal(SIGTERM, on_term);
		puts("ready");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(cmd, "ps"))
		return ps();
	if (!strcmp(cmd, "spew"))
		return spew(argc > 1 ? atoll(argv[1]) : 0);
	if (!strcmp(cmd, "memhog"))
		return memhog(argc > 1 ? atol(argv[1]) : 256);
	if (!strcmp(cmd, "forkbomb"))
		return forkbomb(argc > 1 ? atol(argv[1]) : 0);
	if (!strcmp(cmd, "rlimit"))
		return argc > 1 ? rlimit(argv[1]) : 1;
	if (!strcmp(cmd, "kill-self")) {
		kill(getpid(), argc > 1 ? atoi(argv[1]) : SIGKILL);
		pause();
	}
	if (!strcmp(cmd, "stat")) { /* type and rdev of a path, without following symlinks */
		struct stat st;
		if (argc < 2 || lstat(argv[1], &st) < 0)
			return perror("stat"), 1;
		printf("%o %u:%u\n", st.st_mode, major(st.st_rdev), minor(st.st_rdev));
		return 0;
	}
	if (!strcmp(cmd, "write")) { /* write a file: succeeds or prints the errno */
		int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
		if (fd < 0)
			return printf("%s\n", strerror(errno)), 1;
		close(fd);
		return puts("ok"), 0;
	}
	if (!strcmp(cmd, "mkdir")) { /* mkdir PATH [OCTAL-MODE]: "ok" or the errno's text */
		if (argc < 2)
			return 2;
		mode_t mode = argc > 2 ? (mode_t)strtoul(argv[2], NULL, 8) : 0755;
		if (mkdir(argv[1], mode) < 0)
			return printf("%s\n", strerror(errno)), 1;
		return puts("ok"), 0;
	}
	if (!strcmp(cmd, "symlink")) { /* symlink TARGET LINK: "ok" or the errno's text */
		if (argc < 3)
			return 2;
		if (symlink(argv[1], argv[2]) < 0)
			return printf("%s\n", strerror(errno)), 1;
		return puts("ok"), 0;
	}
	if (!strcmp(cmd, "hook")) { /* hook LOG KIND [fail|block FIFO]: an OCI hook appending
				     * "KIND <stdin>", then failing or waiting for FIFO */
		if (argc < 3)
			return guest_hook();
		char state[65536];
		ssize_t n, len = 0;
		while (len < (ssize_t)sizeof(state) - 1 &&
		       (n = read(0, state + len, sizeof(state) - 1 - (size_t)len)) > 0)
			len += n;
		state[len] = '\0';
		FILE *f = fopen(argv[1], "a");
		if (!f)
			return 1;
		fprintf(f, "%s %s\n", argv[2], state);
		fclose(f);
		if (argc > 4 && !strcmp(argv[3], "block")) { /* until a line comes on fifo argv[4] */
			char line[16];
			int fd = open(argv[4], O_RDONLY | O_CLOEXEC);
			if (fd < 0 || read(fd, line, sizeof(line)) <= 0)
				return 5;
			close(fd);
		}
		return argc > 3 && !strcmp(argv[3], "fail") ? 4 : 0;
	}
	if (!strcmp(cmd, "fdrace"))
		return argc > 2 ? fdrace(atoi(argv[1]), argv[2], argc > 3 ? argv[3] : NULL) : 2;
	if (!strcmp(cmd, "bg-child")) { /* leave a child holding stdio, exit at once */
		if (fork() == 0) {
			sleep(1000);
			_exit(0);
		}
		puts("parent done");
		return 0;
	}
	if (!strcmp(cmd, "orphan") && argc > 1) { /* orphan FILE: a child that outlives us */
		sigset_t usr1;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		pid_t parent = getpid(), pid = fork();
		if (pid == 0) {
			/* Sent once we are reparented (the kernel's forget_original_parent). Our
			 * stdout may be closed by then: FILE gets "orphan of <the new ppid>". */
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			if (getppid() == parent)
				sigwaitinfo(&usr1, NULL);
			char line[64];
			int n = snprintf(line, sizeof(line), "orphan of %d\n", (int)getppid());
			int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
			_exit(fd < 0 || write(fd, line, (size_t)n) != n);
		}
		puts(pid > 0 ? "parent done" : "fork failed");
		return pid > 0 ? 0 : 1;
	}
	if (!strcmp(cmd, "holder-probe")) /* holder-probe MARKER: as root with SYS_PTRACE/ADMIN */
		return argc > 1 ? holder_probe(argv[1]) : 2;
	fprintf(stderr, "pdtest: unknown command %s\n", cmd);
	return 127;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(base, "pdtest") == 0) {
		if (argc < 2) {
			fprintf(stderr, "usage: pdtest CMD [ARGS]\n");
			return 2;
		}
		return run(argc - 1, argv + 1);
	}
	argv[0] = (char *)base;
	return run(argc, argv);
}
