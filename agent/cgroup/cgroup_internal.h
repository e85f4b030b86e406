/* Inside the cgroup engine: the backend table, the object, and the file helpers the
 * backends share. Not for use outside agent/cgroup/ (and its unit tests). */
#ifndef PD_CGROUP_INTERNAL_H
#define PD_CGROUP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup/cgroup.h"

/* One backend (crun's cgroup.c does the same with its cgroup managers). */
struct pd_cgroup_ops {
	const char *name;
	/* mkdir everything; on failure remove what it made */
	int (*create)(struct pd_cgroup *cg, struct pd_error *err);
	/* write res; `create` = the first time (device defaults always go in then) */
	int (*apply)(struct pd_cgroup *cg, const struct pd_resources *res, bool create,
		     struct pd_error *err);
	int (*enter)(struct pd_cgroup *cg, pid_t pid, struct pd_error *err);
	/* write the freezer state, without waiting */
	int (*set_frozen)(struct pd_cgroup *cg, bool frozen, struct pd_error *err);
	/* 1 frozen, 0 not (yet), < 0 cannot tell */
	int (*frozen_state)(const struct pd_cgroup *cg);
	/* an fd that becomes readable (POLLPRI) when the frozen state may have changed, or -1:
	 * then the waiter polls the state at short intervals */
	int (*freeze_notify_fd)(const struct pd_cgroup *cg);
	/* the directory whose cgroup.procs lists the container's processes */
	const char *(*procs_dir)(const struct pd_cgroup *cg);
	/* kill the whole cgroup in one step if the kernel can (v2 cgroup.kill): 1 done, 0 not
	 * available, < 0 error */
	int (*kill_fast)(struct pd_cgroup *cg, struct pd_error *err);
	int (*remove)(struct pd_cgroup *cg, struct pd_error *err);
	int (*oom_open)(struct pd_cgroup *cg, struct pd_error *err);
	bool (*oom_check)(struct pd_cgroup *cg);
	int (*stats)(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err);
	size_t (*paths)(const struct pd_cgroup *cg, const char **names, const char **paths,
			size_t max);
};

extern const struct pd_cgroup_ops pd_cgroup_v1_ops;
extern const struct pd_cgroup_ops pd_cgroup_v2_ops;

#define PD_CG_MAX_HIER 16

/* One v1 controller found under the root. Co-mounted controllers (a host's "cpu,cpuacct"
 * reached through the "cpu" and "cpuacct" symlinks) share a hierarchy: the second one has
 * same_as >= 0 and is only named in pd_cgroup_paths, never written twice. */
struct pd_cg_hier {
	const char *name; /* "memory" (static string) */
	int same_as;	  /* index of the entry that owns this hierarchy, or -1 */
	char *dir;	  /* the container's directory in this hierarchy */
	size_t n_made;	  /* how many trailing components of the path create() made */
};

struct pd_cgroup {
	const struct pd_cgroup_ops *ops;
	int version;
	char *root; /* "/sys/fs/cgroup" */
	char *path; /* relative, clean */
	/* v1 */
	struct pd_cg_hier hier[PD_CG_MAX_HIER];
	size_t n_hier;
	/* v2 */
	bool fake; /* not a cgroup2 mount (a unit test's tree): no BPF program can attach */
	char *dir;
	int dirfd;	 /* O_PATH, for clone3 */
	int events_fd;	 /* cgroup.events, for frozen/populated notifications */
	int dev_prog_fd; /* the attached device program; replaced on update */
	size_t n_made;
	/* OOM */
	int oom_fd;	/* v1 eventfd / v2 inotify fd */
	int oom_ctl_fd; /* v1: memory.oom_control, kept open while the eventfd is registered */
	uint64_t oom_kills;
	/* the CPU list the container pinned (Resources.CPU.Cpus), NULL when none */
	char *cpus_pin;
};

/* ---- files (cgfile.c) ---- */

/* "dir/file" into buf; ENAMETOOLONG as an error. */
int pd_cg_join(char *buf, size_t size, const char *dir, const char *file, struct pd_error *err);
/* Replace a value file's content with `value` (one write). */
int pd_cg_write(const char *dir, const char *file, const char *value, struct pd_error *err);
/* One command to a command file (devices.allow, cgroup.procs, cgroup.event_control,
 * cgroup.kill): opened for appending, written as "value\n", so a fake tree keeps the whole
 * sequence while the kernel reads each write alone. Does not allocate. */
int pd_cg_command(const char *dir, const char *file, const char *value, struct pd_error *err);
int pd_cg_write_u64(const char *dir, const char *file, uint64_t v, struct pd_error *err);
/* -1 → "max" (v2) or "-1" (v1) as `max_word` says. */
int pd_cg_write_i64(const char *dir, const char *file, int64_t v, const char *max_word,
		    struct pd_error *err);
/* Whole file into buf (NUL-terminated, truncated to size - 1); returns the length. */
ssize_t pd_cg_read(const char *dir, const char *file, char *buf, size_t size, struct pd_error *err);
/* A single number; "max" → UINT64_MAX. */
int pd_cg_read_u64(const char *dir, const char *file, uint64_t *v, struct pd_error *err);
bool pd_cg_exists(const char *dir, const char *file);
/* Only spaces, tabs and newlines (an empty cpuset file). */
bool pd_cg_blank(const char *s);
/* mkdir each missing component of `path` under `base`; *n_made = how many it made (the last
 * ones). EEXIST is fine. On failure removes what it made. */
int pd_cg_mkdir_path(const char *base, const char *path, size_t *n_made, struct pd_error *err);
/* rmdir dir, its sub-directories first (cgroups the container made); ENOENT is fine. */
int pd_cg_rmdir_tree(const char *dir, struct pd_error *err);
/* rmdir the last n components of dir (what pd_cg_mkdir_path made), best effort. */
void pd_cg_rmdir_made(const char *dir, size_t n);
/* Allocation-checked strdup of a formatted path. */
char *pd_cg_path_dup(const char *a, const char *b, const char *c);

/* ---- pieces shared by the backends ---- */

/* cpuset.c: a copy of res's CPU pin before applying res (*pin NULL when res sets none);
 * after a successful apply, keep it in cg (which then owns it). */
int pd_cg_remember_pin(struct pd_cgroup *cg, const struct pd_resources *res, char **pin,
		       struct pd_error *err);
void pd_cg_keep_pin(struct pd_cgroup *cg, char *pin);

/* devices_v1.c */
int pd_cg_v1_devices_apply(const char *dir, const struct pd_resources *res, struct pd_error *err);
/* ebpf_devices.c: load the program for res's rules (+ defaults) and attach it to dir,
 * replacing *prog_fd's program. */
int pd_cg_v2_devices_apply(const char *dir, const struct pd_resources *res, int *prog_fd,
			   struct pd_error *err);
/* The same without loading: build and check the program only (fake trees). */
int pd_cg_v2_devices_check(const struct pd_resources *res, struct pd_error *err);
/* blkio.c: the block io part of res, to the v1 blkio / v2 io files of dir */
bool pd_cg_has_blkio(const struct pd_resources *res);
int pd_cg_v1_blkio(const char *dir, const struct pd_resources *res, struct pd_error *err);
int pd_cg_v2_io(const char *dir, const struct pd_resources *res, struct pd_error *err);
/* v1_apply.c / v2_apply.c */
int pd_cg_v1_apply(struct pd_cgroup *cg, const struct pd_resources *res, bool create,
		   struct pd_error *err);
int pd_cg_v2_apply(struct pd_cgroup *cg, const struct pd_resources *res, bool create,
		   struct pd_error *err);
/* the v1 directory of one controller, NULL if that hierarchy is not mounted */
const char *pd_cg_v1_dir(const struct pd_cgroup *cg, const char *controller);
/* oom.c */
int pd_cg_v1_oom_open(struct pd_cgroup *cg, struct pd_error *err);
bool pd_cg_v1_oom_check(struct pd_cgroup *cg);
int pd_cg_v2_oom_open(struct pd_cgroup *cg, struct pd_error *err);
bool pd_cg_v2_oom_check(struct pd_cgroup *cg);
/* stats_v1.c / stats_v2.c */
int pd_cg_v1_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err);
int pd_cg_v2_stats(struct pd_cgroup *cg, struct pd_cgroup_stats *st, struct pd_error *err);

/* stats_hugetlb.c and friends: the text of dir/file into buf (size PD_CG_STAT_BUF), false
 * when the file is absent or unreadable (a controller that is not there reports zeros). */
#define PD_CG_STAT_BUF (64u << 10)
bool pd_cg_read_opt(const char *dir, const char *file, char *buf);
uint64_t pd_cg_u64_opt(const char *dir, const char *file, char *buf);
/* hugetlb.<size>.<suffix> files of dir: the sizes, each with usage/max/failcnt read by the
 * version's names. */
int pd_cg_hugetlb_stats(const char *dir, const char *usage, const char *max_usage,
			const char *failcnt_file, const char *failcnt_key, char *buf,
			struct pd_cgroup_stats *st, struct pd_error *err);

/* ---- conversions (convert.c), exposed for the unit tests ---- */

/* cpu.shares 2..262144 → cpu.weight 1..10000 (runc/crun's formula). */
uint64_t pd_cg_shares_to_weight(uint64_t shares);
/* blkio.weight 10..1000 → io.weight 1..10000 (runc's formula). */
uint64_t pd_cg_blkio_to_io_weight(uint64_t weight);
/* v1 memsw (memory + swap) → v2 memory.swap.max (swap alone), given the memory limit:
 * 0 = leave, -1 = max. INVALID_ARGUMENT when it cannot be expressed. */
int pd_cg_swap_to_v2(int64_t memsw, int64_t mem_limit, bool has_limit, int64_t *out,
		     struct pd_error *err);
/* "quota period" for cpu.max ("max 100000" ...); `current` = the file's content, whose quota
 * stays when only the period changes. Returns false when there is nothing to write. */
bool pd_cg_cpu_max(const struct pd_resources *res, const char *current, char *buf, size_t size);

/* ---- stats parsing (stats_parse.c), exposed for the unit tests ---- */

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events): the value of key,
 * or false if absent. */
bool pd_cg_flat_get(const char *text, const char *key, uint64_t *v);
/* All "key value" lines into a malloc'd array. */
int pd_cg_flat_all(const char *text, struct pd_kv **out, size_t *n, struct pd_error *err);
/* Space-separated numbers (cpuacct.usage_percpu) into a malloc'd array. */
int pd_cg_numbers(const char *text, uint64_t **out, size_t *n, struct pd_error *err);
/* v1 blkio: "8:0 Read 123" lines (op lowercased; a line without op gives op ""); "Total N"
 * summary lines skipped. Appends to *out. */
int pd_cg_blkio_v1_parse(const char *text, struct pd_blkio_entry **out, size_t *n,
			 struct pd_error *err);
/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" → bytes (read, write,
 * discard) and ios (read, write, discard) entries. */
int pd_cg_io_stat_parse(const char *text, struct pd_blkio_entry **bytes, size_t *n_bytes,
			struct pd_blkio_entry **ios, size_t *n_ios, struct pd_error *err);

/* ---- eBPF program generation (ebpf_devices.c), exposed for the unit tests ---- */

struct bpf_insn;
/* Build the device program for `rules` (checked last to first: the last matching rule
 * decides, as later writes win on v1; a rule matching everything ends the program).
 * *out is malloc'd, *n instructions. */
int pd_ebpf_devices_build(const struct pd_device_rule *rules, size_t n_rules, struct bpf_insn **out,
			  size_t *n, struct pd_error *err);
/* The effective rule list of res: deny all, res's rules, defaults (malloc'd). */
int pd_cg_device_rules(const struct pd_resources *res, struct pd_device_rule **out, size_t *n,
		       struct pd_error *err);

#endif
