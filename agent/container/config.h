/* A container's configuration as the engine sees it: built once from the OCI spec of a
 * CreateContainer (or ExecProcess) request, checked, and never a protobuf type. All memory
 * belongs to one arena (config->arena); nothing here is freed on its own.
 *
 * Paths: rootfs is absolute on the guest; mount destinations, device paths, masked and
 * readonly paths are absolute paths INSIDE the container, clean (no "." or ".." parts, no
 * "//"), resolved under the rootfs without following symlinks out of it. */
#ifndef PD_CONTAINER_CONFIG_H
#define PD_CONTAINER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/arena.h"

#define PD_ID_MAX 128 /* container and exec ids */

/* Limits on what one request may ask for (a request is at most 4 MiB anyway). */
#define PD_MAX_MOUNTS   512
#define PD_MAX_DEVICES  512
#define PD_MAX_ENV      4096
#define PD_MAX_ARGS     4096
#define PD_MAX_PATHS    512 /* masked, readonly */
#define PD_MAX_GIDS     256
#define PD_MAX_RLIMITS  32
#define PD_MAX_SYSCTLS  256
#define PD_MAX_SECCOMP_RULES  1024 /* Linux.Seccomp.Syscalls entries */
#define PD_MAX_SECCOMP_NAMES  4096 /* syscall names over all entries */
#define PD_MAX_SECCOMP_ARGS   16   /* comparisons in one entry */
#define PD_MAX_SECCOMP_ARCHES 32
#define PD_MAX_IDMAP    340 /* lines of a uid_map or gid_map (the kernel's limit) */
#define PD_CONFIG_BYTES (8u << 20) /* arena cap per container config */

enum pd_ns_type {
	PD_NS_MNT,
	PD_NS_PID,
	PD_NS_NET,
	PD_NS_IPC,
	PD_NS_UTS,
	PD_NS_USER,
	PD_NS_CGROUP,
	PD_NS_COUNT,
};

struct pd_namespace {
	bool enabled; /* listed in the spec: the container gets this namespace */
	char *path;   /* join this one (e.g. /var/run/sandbox-ns/ipc); NULL = a new one */
};

/* One line of a user namespace's uid_map or gid_map: ids container_id .. +size-1 inside
 * are host_id .. +size-1 outside. Checked by pd_idmap_check (idmap.h). */
struct pd_idmap {
	uint32_t container_id, host_id, size;
};

struct pd_mount {
	char *destination;     /* absolute, inside the container */
	char *source;          /* for binds: absolute guest path */
	char *type;            /* "proc", "tmpfs", "bind" (or NULL with a bind option) ... */
	unsigned long flags;   /* MS_* from the options (MS_BIND|MS_REC for rbind) */
	unsigned long propagation; /* MS_PRIVATE / MS_SLAVE / MS_SHARED / MS_UNBINDABLE (|MS_REC), 0 */
	char *data;            /* the options that are not flags, comma-joined, or NULL */
	bool bind;             /* bind or rbind */
};

struct pd_device {
	char *path;   /* absolute, under /dev */
	char type;    /* 'c', 'b', 'u' (= 'c'), 'p' */
	int64_t major, minor;
	uint32_t file_mode; /* permission bits; 0 = 0666 */
	uint32_t uid, gid;
};

struct pd_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

/* Capability sets as bitmasks of capability numbers (CAP_CHOWN = bit 0 ...). */
struct pd_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* A sysctl from Linux.Sysctl: key in dotted form ("kernel.msgmax"; a '/' stands for a '.'
 * inside a name, "net.ipv4.conf.eth0/100.rp_filter"), checked by sysctl.h. */
struct pd_sysctl {
	char *key;
	char *value;
};

/* Linux.Seccomp. Actions are libseccomp's SCMP_ACT_* values with their data folded in
 * (SCMP_ACT_ERRNO(EPERM)), arches its SCMP_ARCH_* tokens, ops its enum scmp_compare: the
 * engine hands them to libseccomp as they are. */
#define PD_SECCOMP_ARG_COUNT 6 /* a syscall's arguments */

struct pd_seccomp_arg {
	unsigned index; /* 0..PD_SECCOMP_ARG_COUNT-1 */
	uint64_t value, value_two;
	int op; /* SCMP_CMP_* */
};

struct pd_seccomp_rule {
	char **names; /* syscall names; names libseccomp does not know are skipped */
	size_t n_names;
	uint32_t action;
	struct pd_seccomp_arg *args; /* all must match (AND); see seccomp.h for repeats */
	size_t n_args;
};

#define PD_SECCOMP_FLAG_LOG	   (1u << 0) /* SECCOMP_FILTER_FLAG_LOG */
#define PD_SECCOMP_FLAG_SPEC_ALLOW (1u << 1) /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */

struct sock_filter; /* <linux/filter.h> */
struct pd_hooks;    /* agent/container/hooks.h */

struct pd_seccomp {
	uint32_t default_action;
	uint32_t *arches; /* besides the native one */
	size_t n_arches;
	unsigned flags; /* PD_SECCOMP_FLAG_*; TSYNC is accepted and dropped (one thread) */
	struct pd_seccomp_rule *rules;
	size_t n_rules;
	/* The compiled program (pd_seccomp_compile), in the config's arena. */
	struct sock_filter *bpf;
	unsigned short n_bpf;
};

struct pd_process_config {
	bool terminal;
	unsigned short rows, cols; /* console size, 0 = leave */
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char **args; /* NULL-terminated, n_args >= 1 */
	size_t n_args;
	char **env; /* NULL-terminated "K=V" */
	size_t n_env;
	char *cwd; /* absolute, inside the container; "/" when the spec has none */
	bool has_caps; /* false: an exec inherits the container's */
	struct pd_caps caps;
	struct pd_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
};

struct pd_container_config {
	struct pd_arena arena;
	char id[PD_ID_MAX + 1];
	char *rootfs; /* absolute guest path of the container's root directory */
	bool rootfs_readonly;
	char *hostname; /* NULL = leave */
	struct pd_namespace ns[PD_NS_COUNT];
	struct pd_idmap *uid_map; /* Linux.UIDMappings: written for a new user namespace */
	size_t n_uid_map;
	struct pd_idmap *gid_map; /* Linux.GIDMappings */
	size_t n_gid_map;
	unsigned long rootfs_propagation; /* MS_SLAVE|MS_REC by default */
	struct pd_mount *mounts;
	size_t n_mounts;
	struct pd_device *devices;
	size_t n_devices;
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	char *cgroups_path; /* Linux.CgroupsPath or NULL (issue 4) */
	struct pd_sysctl *sysctls; /* Linux.Sysctl, written in the child before the rootfs */
	size_t n_sysctls;
	struct pd_seccomp *seccomp; /* Linux.Seccomp or NULL; every process of the container */
	struct pd_hooks *hooks;     /* Spec.Hooks + guest hooks, NULL = none (hooks.h) */
	struct pd_process_config process;
};

/* "mnt", "pid", ... as in /proc/<pid>/ns; OCI names ("mount", "network") -> type. */
const char *pd_ns_proc_name(int type);
int pd_ns_from_oci(const char *name); /* -1 if unknown */
int pd_ns_clone_flag(int type);        /* CLONE_NEWNS ... */

#endif
