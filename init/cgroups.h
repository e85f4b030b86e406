/* The cgroup file system of the VM: cgroup2, or one v1 hierarchy per controller. */
#ifndef PD_INIT_CGROUPS_H
#define PD_INIT_CGROUPS_H

#include <stdbool.h>
#include <stdio.h>

#include "agent/error.h"

#define PD_CGROUP_ROOT "/sys/fs/cgroup"

/* Mount cgroups at /sys/fs/cgroup: v2 = cgroup2 (nsdelegate) with every controller enabled
 * for children; v1 = a tmpfs with one hierarchy per enabled known controller, then read-only.
 * Skipped when /sys/fs/cgroup is already mounted. A controller that cannot be mounted or
 * enabled is logged; returns -1 only when the cgroup root itself could not be set up. */
int pd_cgroups_mount(bool v2, struct pd_error *err);

/* v1 controllers the agent mounts (Kata's set), in mount order; NULL-terminated. */
extern const char *const pd_cgroup_v1_known[];

/* Parse /proc/cgroups text: bit i set when pd_cgroup_v1_known[i] is listed as enabled. */
unsigned pd_cgroup_v1_enabled(FILE *proc_cgroups);

/* Write "+c" for every controller of dir/cgroup.controllers into dir/cgroup.subtree_control
 * (all at once, then one by one if the kernel refuses the batch). Returns the number of
 * controllers that could not be enabled, or -1 if dir/cgroup.controllers cannot be read. */
int pd_cgroup2_enable_all(const char *dir, struct pd_error *err);

#endif
