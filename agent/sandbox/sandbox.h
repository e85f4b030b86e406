/* The sandbox's objects: the sandbox itself, its containers, and their processes (tasks:
 * a container's init and its execs). The RPC handlers work on these; the container engine
 * below (agent/container/) knows nothing of them.
 *
 * Ownership: the sandbox owns its containers (list), a container owns its tasks (list) and
 * its config arena, a task owns its stdio and its exec's process config. Parked calls are
 * linked from the objects they wait on and unlink themselves if their connection goes. */
#ifndef PD_SANDBOX_H
#define PD_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/cgroup/cgroup.h"
#include "agent/container/config.h"
#include "agent/container/spawn.h"
#include "agent/list.h"
#include "agent/loop.h"
#include "agent/proctable.h"
#include "agent/sandbox/pidns_holder.h"
#include "agent/sandbox/stdio.h"

#define PD_SANDBOX_NS_DIR  "/var/run/sandbox-ns"
#define PD_SANDBOX_PIDNS   PD_SANDBOX_NS_DIR "/pid" /* sandbox_pidns: pidns_holder.h */
#define PD_SHARED_DIR      "/run/kata-containers/shared/containers"
#define PD_SANDBOX_DIR     "/run/kata-containers/sandbox"
#define PD_MAX_CONTAINERS  256
#define PD_MAX_TASKS       1024 /* per container */

enum pd_container_status {
	PD_CTR_CREATED,
	PD_CTR_RUNNING,
	PD_CTR_PAUSED,
	PD_CTR_STOPPED,
};

struct pd_container;

/* The operation in flight on a task's process (its spawn, agent/container/spawn.h). */
enum pd_task_op {
	PD_TASK_OP_NONE,
	PD_TASK_OP_CREATE, /* an init's set-up up to READY (CreateContainer) */
	PD_TASK_OP_START,  /* an init's START up to its exec (StartContainer) */
	PD_TASK_OP_EXEC,   /* an exec's set-up and exec (ExecProcess) */
};

struct pd_task {
	struct pd_container *ctr;
	char exec_id[PD_ID_MAX + 1];
	bool init;
	pid_t pid;
	bool exited;
	int exit_code; /* status, or 128 + signal */
	struct pd_proc_watch watch;
	struct pd_stdio io;
	struct pd_spawn spawn;     /* set-up and start, from the loop; an init is held in it
				    * until StartContainer */
	int op;                    /* enum pd_task_op in flight */
	struct pd_list op_calls;   /* the call parked on it (CreateContainer, StartContainer,
				    * ExecProcess), answered by the RPC layer */
	bool exit_pending;         /* reaped while op was in flight: its end comes after op's */
	int exit_status;           /* the raw wait status then */
	struct pd_list waiters;    /* parked WaitProcess calls */
	struct pd_arena arena;     /* an exec's own process config */
	struct pd_process_config *proc;
	struct pd_list node;       /* in ctr->tasks */
};

struct pd_container {
	struct pd_sandbox *sb;
	char id[PD_ID_MAX + 1];
	int status; /* enum pd_container_status */
	struct pd_container_config cfg;
	struct pd_task *init;
	int ns_fds[PD_NS_COUNT]; /* pinned at create: execs join exactly these */
	int root_fd;
	struct timespec created; /* CLOCK_REALTIME */
	uint64_t init_start_ticks; /* /proc/<pid>/stat field 22, as runc records it */
	struct pd_list tasks;
	unsigned n_tasks;
	struct pd_list removers; /* parked RemoveContainer calls, answered when all exited */
	bool removing;
	bool creating; /* on sb->creating until its init reports ready */
	struct pd_cgroup *cgroup; /* NULL = none; owned by agent/rpc/cgroups_table.c */
	char **storage_mounts; /* mount points this container holds a reference on */
	size_t n_storage_mounts;
	struct pd_list node; /* in sb->containers, or sb->creating while creating */
};

struct pd_sandbox {
	struct pd_loop *loop;
	bool created;
	char id[PD_ID_MAX + 1];
	char hostname[65];
	struct pd_pidns_holder pidns; /* sandbox_pidns: pid > 0 = containers join PD_SANDBOX_PIDNS */
	/* The hooks of CreateSandbox's guest_hook_path, read once then (Kata's way) and added
	 * to every container's (agent/container/hooks.h). NULL = none; in guest_hooks_arena. */
	struct pd_hooks *guest_hooks;
	struct pd_arena guest_hooks_arena;
	bool no_pivot; /* "/" is an initramfs */
	unsigned pipe_size;
	struct pd_list containers;
	unsigned n_containers;
	struct pd_list creating; /* containers whose init is still setting up: not found by id,
				  * listed or counted as created (pd_sandbox_find_any does) */
	unsigned n_creating;
	struct pd_list storages; /* struct pd_storage */
	bool ns_pinned;          /* /var/run/sandbox-ns/{ipc,uts} are bind mounts we made */
	/* Set by the RPC layer: a process was reaped (answer WaitProcess, finish removals). */
	void (*on_task_exit)(struct pd_task *t);
	/* Set by the RPC layer: the operation `op` on t ended, err NULL = it succeeded. The
	 * calls that were parked on it (linked by owner_node, maybe none) are its to answer.
	 * A failed CREATE or EXEC is the RPC layer's to tear down (pd_container_destroy,
	 * pd_task_release); the sandbox touches neither t nor its container after it. */
	void (*on_op_done)(struct pd_task *t, int op, struct pd_list *calls,
			   const struct pd_error *err);
	int spawn_timeout_ms; /* a set-up or start step without a deadline of its caller */
};

void pd_sandbox_init(struct pd_sandbox *sb, struct pd_loop *loop, unsigned pipe_size);
/* DNS lines → /run/kata-containers/sandbox/resolv.conf bound over /etc/resolv.conf. */
int pd_sandbox_set_dns(char *const *lines, size_t n, struct pd_error *err);
/* Kill and remove every container, unmount storages and the sandbox namespaces. */
void pd_sandbox_destroy(struct pd_sandbox *sb);

struct pd_container *pd_sandbox_find(struct pd_sandbox *sb, const char *id);
/* Also the containers still being created. */
struct pd_container *pd_sandbox_find_any(struct pd_sandbox *sb, const char *id);
/* exec_id "" = the container's init. */
struct pd_task *pd_container_find_task(struct pd_container *ctr, const char *exec_id);

#endif
