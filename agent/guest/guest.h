/* Guest management: what the host asks of the VM itself rather than of a container — CPU and
 * memory hotplug, the clock, entropy, swap, volume figures, iptables, memory-agent knobs and
 * the guest's self-description.
 *
 * No protobuf types here (agent/rpc/guest.c translates). Every kernel path is built from a
 * root prefix argument (`sysfs`, `procfs`, `dev`, `root`) so the unit tests can point the code
 * at a fake tree in a temporary directory; the RPC handlers pass the real ones below.
 * Each function returns < 0 with err filled on failure. */
#ifndef PD_GUEST_H
#define PD_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/error.h"
#include "agent/loop.h"

#define PD_GUEST_SYSFS  "/sys"
#define PD_GUEST_PROCFS "/proc"
#define PD_GUEST_DEV    "/dev"
#define PD_GUEST_ROOT   "" /* prefix of /usr/sbin etc. when looking for programs */

/* ---- kfile.c: one-value kernel files ------------------------------------------------------ */

/* root + the formatted rest into buf; ENAMETOOLONG (INVALID_ARGUMENT) when it does not fit. */
int pd_kpath(char *buf, size_t size, struct pd_error *err, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The whole (small) file as a NUL-terminated string; returns its length. A file longer than
 * size - 1 bytes is an error (a kernel value that long is not what we expect). */
ssize_t pd_kfile_read(const char *path, char *buf, size_t size, struct pd_error *err);
/* One write() of value, as sysfs wants it (a short write is an error). */
int pd_kfile_write(const char *path, const char *value, struct pd_error *err);
bool pd_kfile_exists(const char *path);

/* ---- cpu_mem.c: CPU and memory hotplug ------------------------------------------------------ */

/* Number of CPUs in a kernel CPU list ("0-3,5\n"; "" or "\n" is none). */
int pd_cpu_list_count(const char *text, unsigned *count, struct pd_error *err);
/* Count of <sysfs>/devices/system/cpu/online (or `possible`). */
int pd_cpus_count(const char *sysfs, const char *which, unsigned *count, struct pd_error *err);
/* Bring CPUs online until `want` are: one pass over the offline ones, lowest number first, no
 * waiting (the loop must not sleep). Fails with INVALID_ARGUMENT when want exceeds the
 * possible CPUs, UNAVAILABLE when fewer than want are online after the pass (CPUs the host
 * hot-plugged may not have appeared yet: the host may retry). *online gets the count. */
int pd_cpus_online(const char *sysfs, unsigned want, unsigned *online, struct pd_error *err);
/* Write "1" to every memoryN/online that reads "0". Every block is tried; the first failure
 * is reported after the pass. *onlined gets the number of blocks brought online. */
int pd_memory_online(const char *sysfs, unsigned *onlined, struct pd_error *err);
/* Memory block size (the kernel writes it in hex, no 0x); 0 when the file does not exist. */
int pd_memory_block_size(const char *sysfs, uint64_t *bytes, struct pd_error *err);
int pd_memory_block_size_parse(const char *text, uint64_t *bytes, struct pd_error *err);
/* <sysfs>/devices/system/memory/probe exists (CONFIG_ARCH_MEMORY_PROBE). */
bool pd_memory_probe_supported(const char *sysfs);
/* Write each address ("0x%llX") to the probe file. FAILED_PRECONDITION without one. */
#define PD_PROBE_ADDRS_MAX 4096
int pd_memory_probe(const char *sysfs, const uint64_t *addrs, size_t n, struct pd_error *err);

/* ---- datetime.c ----------------------------------------------------------------------------- */

/* sec >= 0, 0 <= usec < 1000000. */
int pd_guest_time_check(int64_t sec, int64_t usec, struct pd_error *err);
/* Check, then settimeofday. */
int pd_guest_time_set(int64_t sec, int64_t usec, struct pd_error *err);

/* ---- random.c ------------------------------------------------------------------------------- */

#define PD_RESEED_MAX (1u << 20)
/* Mix data into the pool of `dev` (/dev/random), credit it and force a CRNG reseed. Empty or
 * more than PD_RESEED_MAX bytes: INVALID_ARGUMENT. */
int pd_random_reseed(const char *dev, const void *data, size_t len, struct pd_error *err);

/* ---- swap.c --------------------------------------------------------------------------------- */

/* AddSwapPath: an absolute path to a regular file or a block device, then swapon. */
int pd_swap_check_path(const char *path, struct pd_error *err);
int pd_swap_on(const char *path, struct pd_error *err);

/* ---- volume.c ------------------------------------------------------------------------------- */

struct pd_volume_usage {
	uint64_t total, available, used;
};

/* statfs of an absolute, existing path: bytes (available = what an unprivileged user may
 * still use, used = total - free) and inodes. */
int pd_volume_stats(const char *path, struct pd_volume_usage *bytes,
		    struct pd_volume_usage *inodes, struct pd_error *err);

/* ---- runcmd.c: a helper program run from the event loop ------------------------------------ */

/* The program gets `in` on stdin, its stdout is collected (at most out_max bytes, more is an
 * error), the start of its stderr is kept for the message of a failure. Everything goes
 * through loop watches; the exit status comes from the process table. `done` runs once,
 * from the loop, never from pd_runcmd_start: err is NULL when the program exited 0, else
 * says why (exit status and stderr, timeout, too much output). After `done` returns, out is
 * gone. */
typedef void (*pd_runcmd_done_fn)(void *data, const uint8_t *out, size_t out_len,
				  const struct pd_error *err);

struct pd_runcmd_spec {
	const char *const *argv; /* argv[0] is the absolute path */
	const void *in;
	size_t in_len;
	size_t out_max;
	unsigned timeout_ms; /* then the program (its process group) is killed */
};

#define PD_RUNCMD_MAX 8 /* programs running at once; more is RESOURCE_EXHAUSTED */
struct pd_runcmd;

struct pd_runcmd *pd_runcmd_start(struct pd_loop *loop, const struct pd_runcmd_spec *spec,
				  pd_runcmd_done_fn done, void *data, struct pd_error *err);
/* Nobody waits any more: kill the program, never call done; its slot is freed once the
 * program is reaped. */
void pd_runcmd_abandon(struct pd_runcmd *rc);
/* Slots in use (tests, metrics). */
unsigned pd_runcmd_busy(void);

/* ---- iptables.c ----------------------------------------------------------------------------- */

#define PD_IPTABLES_TIMEOUT_MS   10000
#define PD_IPTABLES_RESTORE_WAIT "5" /* iptables-restore --wait, seconds (as Kata) */
#define PD_IPTABLES_OUT_MAX      (4u << 20)

/* Where (ip6)iptables-save / -restore is: <root>{/usr/sbin,/sbin,/usr/bin,/bin}/NAME.
 * FAILED_PRECONDITION "iptables-save is not in the guest image" when nowhere. */
int pd_iptables_find(const char *root, bool ipv6, bool restore, char *path, size_t size,
		     struct pd_error *err);
/* Find the program and start it (restore: with `in` on stdin). done as for pd_runcmd. */
struct pd_runcmd *pd_iptables_start(struct pd_loop *loop, const char *root, bool ipv6,
				    bool restore, const void *in, size_t in_len,
				    pd_runcmd_done_fn done, void *data, struct pd_error *err);

/* ---- memagent.c: memory-agent settings ------------------------------------------------------ */

/* Kata's mem-agent policy: memcg eviction through MGLRU, and compaction. What maps to a knob
 * of the guest kernel is applied; the rest is kept (it would drive a periodic loop that
 * pidone does not run; see docs/guest.md). */
struct pd_memcg_config {
	bool disabled, swap;
	uint32_t swappiness_max;
	uint64_t period_secs;
	uint32_t period_psi_percent_limit, eviction_psi_percent_limit;
	uint64_t eviction_run_aging_count_min;
};

struct pd_compact_config {
	bool disabled;
	uint64_t period_secs;
	uint32_t period_psi_percent_limit, compact_psi_percent_limit;
	int64_t compact_sec_max;
	uint32_t compact_order;
	uint64_t compact_threshold, compact_force_times;
};

/* Which fields of an update the host set (proto3 optional presence). */
enum {
	PD_MEMCG_DISABLED = 1 << 0,
	PD_MEMCG_SWAP = 1 << 1,
	PD_MEMCG_SWAPPINESS_MAX = 1 << 2,
	PD_MEMCG_PERIOD_SECS = 1 << 3,
	PD_MEMCG_PERIOD_PSI = 1 << 4,
	PD_MEMCG_EVICTION_PSI = 1 << 5,
	PD_MEMCG_AGING_COUNT_MIN = 1 << 6,
};
enum {
	PD_COMPACT_DISABLED = 1 << 0,
	PD_COMPACT_PERIOD_SECS = 1 << 1,
	PD_COMPACT_PERIOD_PSI = 1 << 2,
	PD_COMPACT_PSI = 1 << 3,
	PD_COMPACT_SEC_MAX = 1 << 4,
	PD_COMPACT_ORDER = 1 << 5,
	PD_COMPACT_THRESHOLD = 1 << 6,
	PD_COMPACT_FORCE_TIMES = 1 << 7,
};

struct pd_memagent {
	struct pd_memcg_config memcg;
	struct pd_compact_config compact;
};

/* Kata's defaults. */
void pd_memagent_init(struct pd_memagent *ma);
/* Check the fields in `set`, check that the kernel has the knobs they need, apply them, then
 * store everything. Nothing changes on failure. */
int pd_memagent_memcg_set(struct pd_memagent *ma, const struct pd_memcg_config *v, unsigned set,
			  const char *sysfs, struct pd_error *err);
int pd_memagent_compact_set(struct pd_memagent *ma, const struct pd_compact_config *v,
			    unsigned set, const char *procfs, struct pd_error *err);
#define PD_COMPACTION_PROACTIVENESS_ON "20" /* the kernel's default */

/* ---- details.c ------------------------------------------------------------------------------ */

struct pd_guest_details {
	uint64_t mem_block_size_bytes; /* when asked; 0 if the kernel does not say */
	bool support_mem_hotplug_probe; /* when asked */
	const char *version;
	bool init_daemon;
	const char *const *storage_handlers;
	size_t n_storage_handlers;
	bool supports_seccomp;
	const char *const *extra_features;
	size_t n_extra_features;
};

int pd_guest_details(const char *sysfs, bool mem_block_size, bool mem_hotplug_probe,
		     struct pd_guest_details *d, struct pd_error *err);

#endif
