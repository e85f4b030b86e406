/* PID-1 work: what the agent does before it serves, and how it ends. */
#ifndef PD_BOOT_H
#define PD_BOOT_H

#include "config.h"
#include "../agent/error.h"

/* Early boot as pid 1: mount /proc /sys /dev /dev/pts /dev/shm /run /tmp (skipping what is
 * mounted), then read /proc/cmdline into cfg, mount cgroups (v2 or v1 per cfg), /dev/ptmx
 * link, setsid + controlling console, PATH, hostname, subreaper, oom_score_adj -1000, load
 * the modules listed in /etc/pidone/modules. A step that fails is logged and boot goes on
 * where it can; returns -1 only if the agent cannot work at all (no /proc). cfg must hold the
 * defaults (pd_config_defaults) on entry; the command line is applied on top. Safe to call
 * when things are already mounted or loaded. */
int pd_boot_early(struct pd_config *cfg, struct pd_error *err);

/* Host mode (not pid 1): subreaper and oom_score_adj best effort, nothing else. */
void pd_boot_host(void);

/* Stop everything and power off (pid 1): SIGTERM then SIGKILL to all processes, sync,
 * unmount, reboot(RB_POWER_OFF). Never returns. Not pid 1: exit(status). */
__attribute__((noreturn)) void pd_shutdown(int status);

#endif
