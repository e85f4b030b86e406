/* Linux.Sysctl: which keys a container may set, and setting them (docs/sysctl.md).
 *
 * Only namespaced sysctls are allowed, and only when the container has the namespace they
 * belong to (the rules of runc's validator):
 *   ipc  kernel.msgmax kernel.msgmnb kernel.msgmni kernel.sem kernel.shmall kernel.shmmax
 *        kernel.shmmni kernel.shm_rmid_forced fs.mqueue.*
 *   net  net.*
 *   uts  kernel.domainname (kernel.hostname is refused: the spec's Hostname sets it)
 * Anything else ("kernel.pid_max", "vm.*") would change the whole guest, the agent's own
 * world included. A namespace "belongs to the container" when the spec lists it and it is
 * not the agent's own one (a listed namespace joined by path may be ours: the same check
 * as runc's for the network). */
#ifndef PD_CONTAINER_SYSCTL_H
#define PD_CONTAINER_SYSCTL_H

#include <stddef.h>

#include "agent/container/config.h"
#include "agent/error.h"

#define PD_SYSCTL_VALUE_MAX 4096

/* Syntax of one entry: a key of letters, digits, '_', '-', '.', '/' whose /proc/sys path has
 * no empty, "." or ".." component, and a value of 1..PD_SYSCTL_VALUE_MAX bytes without a
 * newline. INVALID_ARGUMENT naming the key otherwise. */
int pd_sysctl_check_syntax(const char *key, const char *value, struct pd_error *err);

/* The namespace a key belongs to (PD_NS_IPC, PD_NS_NET, PD_NS_UTS), or -1 when the key is
 * not namespaced (and also for kernel.hostname). The key is in dotted form or runc's
 * slash form ("net/ipv4/ip_forward"). */
int pd_sysctl_namespace(const char *key);

/* The path under /proc/sys of a key: "net.ipv4.conf.eth0/100.rp_filter" ->
 * "net/ipv4/conf/eth0.100/rp_filter" (a key whose first separator is '/' is in slash form
 * already, with '.' inside names). -1 if it does not fit or has a bad component. */
int pd_sysctl_path(const char *key, char *buf, size_t size);

/* Every sysctl of cfg against the namespaces of cfg (after the agent filled in the
 * sandbox's paths): INVALID_ARGUMENT "Linux.Sysctl: 'net.ipv4.ip_forward' needs a network
 * namespace of the container's own" etc. Reads /proc/self/ns/<type> and stats namespace
 * paths; runs in the agent before anything is created. */
int pd_sysctls_check(const struct pd_container_config *cfg, struct pd_error *err);

/* In the container's init, after joining its namespaces and before its rootfs: write each
 * value to /proc/sys/<path> of the procfs we still see (the agent's /proc). /proc/sys
 * answers for the namespaces of the task that opens the file, so the values land in the
 * container's ipc/net/uts namespaces. Each file must be on a procfs. Errors name the key:
 * "sysctl kernel.msgmax=x: Invalid argument". */
int pd_sysctls_apply(const struct pd_sysctl *s, size_t n, struct pd_error *err);

#endif
