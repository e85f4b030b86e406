/* The end of the VM. pid 1 must never exit or return: the kernel would panic ("Attempted to
 * kill init") and the host would see a crash instead of a clean power-off. So every way out
 * — DestroySandbox, SIGTERM/SIGPWR, a fatal error — comes here: ask everything to stop, make
 * it stop, flush and detach the file systems, and power off.
 * By now the event loop is gone, so this waits with a short sleep (bounded, ~2 s in total)
 * instead of events: there is nothing left to wait for but the children. */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "mounts.h"

#define GRACE_MS 2000
#define STEP_MS	 20

/* Reap whatever has exited. Returns true when there is no child left at all. */
static bool reap_exited(void)
{
	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG | __WALL);
		if (pid > 0)
			continue;
		if (pid < 0 && errno == EINTR)
			continue;
		return pid < 0 && errno == ECHILD;
	}
}

/* Reap until no child is left or budget_ms has passed. Returns true if none is left. */
static bool wait_children_gone(int budget_ms)
{
	const struct timespec step = {.tv_sec = 0, .tv_nsec = STEP_MS * 1000000L};
	for (int waited = 0;; waited += STEP_MS) {
		if (reap_exited())
			return true;
		if (waited >= budget_ms)
			return false;
		nanosleep(&step, NULL);
	}
}

/* Static so that unmounting needs no memory at a moment when there may be none. */
static char mountinfo_text[64 * 1024];

/* Detach every mount but "/" from the last mounted to the first (children before their
 * parents). MNT_DETACH cannot block on a busy file system; a mountinfo longer than the
 * buffer loses its tail, whose mounts go with their detached parents anyway. */
static void unmount_all(void)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC); /* no FILE: no malloc */
	if (fd < 0)
		return;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(mountinfo_text) - 1 &&
	       (r = read(fd, mountinfo_text + n, sizeof(mountinfo_text) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	mountinfo_text[n] = '\0';
	char *end = strrchr(mountinfo_text, '\n');
	if (!end)
		return;
	end[1] = '\0'; /* drop a partial last line */
	/* Walk the lines backwards, cutting each off the text as it is handled. */
	while (end > mountinfo_text) {
		*end = '\0';
		char *line = strrchr(mountinfo_text, '\n');
		line = line ? line + 1 : mountinfo_text;
		struct pd_mountinfo_entry e;
		if (pd_mountinfo_parse_line(line, &e) == 0 && strcmp(e.mount_point, "/") != 0 &&
		    umount2(e.mount_point, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			pd_debug("unmount failed", "path=%s error=\"%s\"", e.mount_point,
				 strerror(errno));
		end = line > mountinfo_text ? line - 1 : mountinfo_text;
	}
}

static void stop_everything(void)
{
	/* kill(-1) reaches every process we may signal except ourselves: as pid 1 of the VM
	 * (or of a pid namespace) that is every process there is. */
	kill(-1, SIGTERM);
	if (!wait_children_gone(GRACE_MS)) {
		pd_info("processes left after SIGTERM, sending SIGKILL", "grace_ms=%d", GRACE_MS);
		kill(-1, SIGKILL);
		wait_children_gone(GRACE_MS);
	}
}

void pd_shutdown(int status)
{
	if (getpid() != 1)
		exit(status);
	pd_info("shutting down", "status=%d", status);
	stop_everything();
	sync();
	unmount_all();
	sync();
	pd_info("powering off", "status=%d", status);
	reboot(RB_POWER_OFF);
	/* Only reached if the kernel refused: stay alive rather than panic the VM. */
	pd_error_log("power off failed", "error=\"%s\"", strerror(errno));
	for (;;)
		pause();
}
