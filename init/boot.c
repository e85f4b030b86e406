/* Early boot as pid 1, in the order that each step's needs dictate:
 *   stdio      fds 0-2 on the console first, so no file we open can take fd 2 (the logs);
 *   mounts     /proc first (mountinfo, cmdline), then /sys /dev /dev/shm /dev/pts /run /tmp;
 *   cmdline    agent.* options into cfg, and the log level takes effect from here on;
 *   cgroups    v2 or v1 per the command line (needs /proc/cgroups and /sys);
 *   session    /dev/ptmx link (needs devpts), setsid + controlling tty, PATH, hostname;
 *   modules    the initrd's list (virtio_console, vsock, 9p on a stock kernel);
 *   protection subreaper (orphans come to us anyway as pid 1; also right under a pid ns)
 *              and oom_score_adj -1000, so the OOM killer takes a container, not the VM.
 * Nothing here reads /dev/random or calls getrandom(): a fresh VM has little entropy and
 * Firecracker guests were seen waiting seconds for it. Signals are already blocked and read
 * by the event loop (agent/signals.c), so nothing here installs a handler. */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "agent/log.h"
#include "cgroups.h"
#include "console.h"
#include "modules.h"
#include "mounts.h"

#define CMDLINE_MAX 16384

/* Read /proc/cmdline; a command line longer than buf is cut at its last whole token. */
static int read_cmdline(char *buf, size_t len, struct pd_error *err)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pd_error_errno(err, errno, "open /proc/cmdline");
	size_t n = 0;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (n == len - 1) {
		char *cut = strrchr(buf, ' ');
		if (cut)
			*cut = '\0';
		pd_warn("kernel command line truncated", "max=%zu", len - 1);
	}
	return 0;
}

static void setup_session(void)
{
	struct pd_error e;
	if (pd_console_link_ptmx("/dev", &e) < 0)
		pd_warn("/dev/ptmx link failed", "error=\"%s\"", e.msg);
	if (pd_console_take(&e) < 0)
		pd_info("console is not our controlling terminal", "error=\"%s\"", e.msg);
	if (setenv("PATH", PD_INIT_PATH, 1) < 0)
		pd_warn("setenv PATH failed", "error=\"%s\"", strerror(errno));
	if (pd_hostname_setup("/etc/hostname", &e) < 0)
		pd_warn("hostname not set", "error=\"%s\"", e.msg);
}

static void load_modules(void)
{
	struct pd_error e;
	int failed = pd_modules_load_file(PD_MODULES_LIST, &e);
	if (failed < 0 && e.errnum == ENOENT)
		pd_debug("no module list", "path=%s", PD_MODULES_LIST);
	else if (failed < 0)
		pd_warn("module list not read", "error=\"%s\"", e.msg);
}

/* Both steps are wanted in host runs too, where they may fail without privileges. */
static void protect_self(int fail_level)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		pd_log(fail_level, "set child subreaper failed", "error=\"%s\"", strerror(errno));
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "-1000", 5) != 5)
		pd_log(fail_level, "oom_score_adj -1000 failed", "error=\"%s\"", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int pd_boot_early(struct pd_config *cfg, struct pd_error *err)
{
	pd_console_ensure_stdio();
	if (pd_mounts_early(err) < 0)
		return pd_error_wrap(err, "early mounts");

	struct pd_error e;
	char cmdline[CMDLINE_MAX];
	if (read_cmdline(cmdline, sizeof(cmdline), &e) < 0)
		pd_warn("kernel command line not read, defaults kept", "error=\"%s\"", e.msg);
	else
		pd_config_parse_cmdline(cfg, cmdline);
	pd_log_set_level(cfg->log_level);

	if (pd_cgroups_mount(cfg->cgroup_v2, &e) < 0)
		pd_warn("cgroups not mounted", "error=\"%s\"", e.msg);
	setup_session();
	load_modules();
	protect_self(PD_LOG_WARN);
	return 0;
}

void pd_boot_host(void)
{
	protect_self(PD_LOG_DEBUG);
}
