/* A container's cgroup: the front door over two backends, cgroup v1 (one hierarchy per
 * controller under the root) and cgroup v2 (one unified tree), chosen by what is mounted at
 * the root directory — init/cgroups.c mounted one or the other at /sys/fs/cgroup, following
 * the kernel command line as Kata does. The root is a parameter so that unit tests run the
 * same code against a fake tree of plain files (docs/cgroups.md).
 *
 * Paths: `path` is relative to the root (and, on v1, to each hierarchy), clean, no "..";
 * pd_cgroup_path_from_spec() makes one from Linux.CgroupsPath.
 *
 * Device rules are applied as: deny everything, the request's rules in order, then the
 * defaults every container gets (pd_cgroup_default_devices) — on v1 as devices.deny /
 * devices.allow writes, on v2 as an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program.
 *
 * Single-threaded, no callbacks: every call returns when its work is done. Two calls wait,
 * bounded: pd_cgroup_freeze (until the kernel reports the cgroup frozen) and nothing else. */
#ifndef PD_CGROUP_H
#define PD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup/resources.h"
#include "agent/error.h"

#define PD_CGROUP_ROOT_DIR "/sys/fs/cgroup"
#define PD_CGROUP_PATH_MAX 1024

enum pd_cgroup_version {
	PD_CGROUP_NONE = 0, /* nothing usable mounted at the root */
	PD_CGROUP_V1 = 1,
	PD_CGROUP_V2 = 2,
};

struct pd_cgroup;

/* What is mounted at root: v2 if it is a cgroup2 filesystem or holds cgroup.controllers
 * (a fake v2 tree), v1 if it holds a directory of a known controller, else NONE. */
int pd_cgroup_detect(const char *root);

/* The cgroup path of a container, relative to the root: Linux.CgroupsPath made relative and
 * clean, a systemd triple "slice:prefix:name" becoming "slice/prefix/name" (as Kata does);
 * an empty CgroupsPath gives "<cid>" (Kata's "/<cid>"). `parent`, when not NULL or "", is
 * put in front (host tests keep their containers under a parent of their own).
 * INVALID_ARGUMENT for "..", "." components or a path longer than PD_CGROUP_PATH_MAX. */
int pd_cgroup_path_from_spec(const char *parent, const char *cgroups_path, const char *cid,
			     char *out, size_t size, struct pd_error *err);

/* mkdir the cgroup (v1: in every hierarchy; missing parents too, cpuset.cpus/mems copied
 * into new directories; v2: controllers enabled in the parents' subtree_control) and apply
 * res (NULL = no limits, device defaults only). An existing directory is reused, as Kata
 * does. On failure nothing is left behind that this call created. */
int pd_cgroup_create(const char *root, const char *path, const struct pd_resources *res,
		     struct pd_cgroup **out, struct pd_error *err);

int pd_cgroup_version(const struct pd_cgroup *cg);
/* "<path>" relative to the root, as given to create. */
const char *pd_cgroup_path(const struct pd_cgroup *cg);

/* v2: an O_PATH|O_DIRECTORY fd of the cgroup for clone3(CLONE_INTO_CGROUP); owned by cg.
 * -1 on v1. */
int pd_cgroup_dirfd(const struct pd_cgroup *cg);

/* Move a process in (every hierarchy on v1): write pid to cgroup.procs. pid 0 = the calling
 * process, which is what a freshly cloned child writes before it does anything else. Does
 * not allocate: safe in a child between clone and exec. */
int pd_cgroup_enter(struct pd_cgroup *cg, pid_t pid, struct pd_error *err);

/* UpdateContainer: apply what res sets; everything it leaves unset stays. */
int pd_cgroup_update(struct pd_cgroup *cg, const struct pd_resources *res, struct pd_error *err);

/* OnlineCPUMem brought CPUs online: the cgroup's cpuset (and its parents', on v1) gets the
 * guest's online CPUs, except that a container that pinned its CPUs keeps its pin
 * (agent/cgroup/cpuset.c). Nothing to do without a cpuset controller. */
int pd_cgroup_cpuset_online(struct pd_cgroup *cg, struct pd_error *err);

/* Freeze or thaw every process of the cgroup. Freezing waits until the kernel reports
 * FROZEN (v1 freezer.state) / "frozen 1" (v2 cgroup.events), at most PD_CGROUP_FREEZE_MS; on
 * timeout the cgroup is thawed again and the error is UNAVAILABLE. FAILED_PRECONDITION when
 * there is no freezer (v1 without the freezer hierarchy). */
#define PD_CGROUP_FREEZE_MS 2000
int pd_cgroup_freeze(struct pd_cgroup *cg, bool frozen, struct pd_error *err);
bool pd_cgroup_is_frozen(const struct pd_cgroup *cg);

/* SIGKILL every process in the cgroup: v2 with cgroup.kill writes it (the kernel kills the
 * whole subtree, also processes forking meanwhile); otherwise freeze (so nothing forks
 * between reading and killing; failure only logged), kill each pid of cgroup.procs, thaw
 * (frozen processes on v1 die only once thawed). Returns the number of pids signalled
 * (cgroup.kill: 0), < 0 on error. Does not wait for them to exit. */
int pd_cgroup_kill_all(struct pd_cgroup *cg, struct pd_error *err);

/* True when no process is left in the cgroup (v2 cgroup.events "populated 0"; v1 an empty
 * cgroup.procs). Zombies do not count: a killed process leaves its cgroup when it exits. */
bool pd_cgroup_is_empty(const struct pd_cgroup *cg);

/* rmdir the cgroup (and any sub-cgroups the container made), never waiting: EBUSY while a
 * process is still in it. A cgroup already gone is not an error. Can be retried. */
int pd_cgroup_remove(struct pd_cgroup *cg, struct pd_error *err);
/* Close fds, detach nothing, free. NULL is fine. */
void pd_cgroup_free(struct pd_cgroup *cg);
/* remove + free (free happens also when remove fails: the error says what was left). */
int pd_cgroup_destroy(struct pd_cgroup *cg, struct pd_error *err);

/* rmdir `parent` (relative, clean) under the root — in every v1 hierarchy — and its own
 * parents, as far as they are empty. For a parent made on demand by create. */
void pd_cgroup_remove_parent(const char *root, const char *parent);

/* OOM notification: an fd for the event loop (readable when the memory controller reports
 * an OOM event): v1 an eventfd registered in cgroup.event_control on memory.oom_control,
 * v2 an inotify watch on memory.events. Owned by cg; the same fd on every call. Records the
 * current oom_kill count, so only later kills are reported. NOT_FOUND without a memory
 * controller. */
int pd_cgroup_oom_fd(struct pd_cgroup *cg, struct pd_error *err);
/* After the fd was readable: drain it, and tell whether an OOM happened: v1 every OOM
 * notification of a cgroup that still exists (the kernel sends it before it kills, and
 * also when the cgroup is removed); v2 the oom_kill count of memory.events grew since the
 * last check. */
bool pd_cgroup_oom_check(struct pd_cgroup *cg);

/* For state.json cgroup_paths: controller name → absolute directory (v1: one per hierarchy,
 * co-mounted ones under each name; v2: "" → the directory). Fills up to max pairs (pointers
 * valid while cg lives), returns the total number available. */
size_t pd_cgroup_paths(const struct pd_cgroup *cg, const char **names, const char **paths,
		       size_t max);

/* ---- statistics (StatsContainer) ------------------------------------------------------ */

struct pd_mem_data {
	uint64_t usage, max_usage, failcnt, limit;
};

struct pd_kv {
	char key[48];
	uint64_t value;
};

struct pd_blkio_entry {
	uint64_t major, minor;
	char op[12]; /* "read" "write" "sync" "async" "discard" "total", "" for counts */
	uint64_t value;
};

enum pd_blkio_kind {
	PD_BLKIO_SERVICE_BYTES,
	PD_BLKIO_SERVICED,
	PD_BLKIO_QUEUED,
	PD_BLKIO_SERVICE_TIME,
	PD_BLKIO_WAIT_TIME,
	PD_BLKIO_MERGED,
	PD_BLKIO_TIME,
	PD_BLKIO_SECTORS,
	PD_BLKIO_KINDS,
};

struct pd_hugetlb_stat {
	char pagesize[16];
	uint64_t usage, max_usage, failcnt;
};

/* Everything in nanoseconds and bytes. Arrays are malloc'd: pd_cgroup_stats_free(). A
 * controller that is absent leaves its part zero. */
struct pd_cgroup_stats {
	struct {
		uint64_t total, kernel, user; /* usage */
		uint64_t *percpu;	      /* v1 cpuacct.usage_percpu */
		size_t n_percpu;
		uint64_t periods, throttled_periods, throttled_time;
	} cpu;
	struct {
		uint64_t cache;
		struct pd_mem_data usage, swap, kernel;
		bool use_hierarchy;
		struct pd_kv *stats; /* memory.stat as it is */
		size_t n_stats;
	} memory;
	struct {
		uint64_t current, limit; /* limit 0 = unlimited, as Kata reports it */
	} pids;
	struct pd_blkio_entry *blkio[PD_BLKIO_KINDS];
	size_t n_blkio[PD_BLKIO_KINDS];
	struct pd_hugetlb_stat *hugetlb;
	size_t n_hugetlb;
};

int pd_cgroup_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err);
void pd_cgroup_stats_free(struct pd_cgroup_stats *st);

/* The rules every container gets after its own (docs/cgroups.md): mknod of any device, the
 * standard character devices pidone creates in /dev, the console, ptys and /dev/net/tun. */
extern const struct pd_device_rule pd_cgroup_default_devices[];
extern const size_t pd_cgroup_n_default_devices;

#endif
