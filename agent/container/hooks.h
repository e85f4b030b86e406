/* OCI hooks (runtime-spec config.md, "POSIX-platform Hooks") as the engine sees them, and
 * the pieces that run one: the state document a hook reads on stdin, the exec in a forked
 * child, a bounded wait for its exit.
 *
 * Where each kind runs (docs/hooks.md):
 *   prestart, createRuntime   the agent's namespaces, after the container's namespaces exist
 *                             and before its rootfs is set up (pivot_root): the agent runs
 *                             them from its loop while the container child waits on its
 *                             sync socket
 *   createContainer           the container's mount namespace, before pivot_root (the child
 *                             runs them; the path is resolved in the agent's tree)
 *   startContainer            inside the container, after StartContainer, right before the
 *                             user process's exec (the path is resolved in the container)
 *   poststart, poststop       the agent's namespaces, after start / after removal
 * A failing or timed-out hook of the first four kinds fails the operation; poststart and
 * poststop failures are logged and the next hook runs.
 *
 * Memory: everything lives in the container config's arena. */
#ifndef PD_CONTAINER_HOOKS_H
#define PD_CONTAINER_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/arena.h"
#include "agent/error.h"

enum pd_hook_kind {
	PD_HOOK_PRESTART,
	PD_HOOK_CREATE_RUNTIME,
	PD_HOOK_CREATE_CONTAINER,
	PD_HOOK_START_CONTAINER,
	PD_HOOK_POSTSTART,
	PD_HOOK_POSTSTOP,
	PD_HOOK_KINDS,
};

/* Limits on what one spec may ask for. */
#define PD_HOOKS_MAX		32 /* per kind, guest hooks included */
#define PD_HOOK_MAX_ARGS	256
#define PD_HOOK_MAX_ENV		256
#define PD_HOOK_MAX_ANNOTATIONS 1024
/* Timeouts, in seconds. Every hook's wait is an event of the loop or of the container
 * child (docs/hooks.md): the timeout is the spec's own. A hook without one gets
 * PD_HOOK_DEFAULT_TIMEOUT; PD_HOOK_MAX_TIMEOUT (a day) is only the largest value the spec
 * may give (INVALID_ARGUMENT above it), so that every budget in ms stays representable. */
#define PD_HOOK_DEFAULT_TIMEOUT 10
#define PD_HOOK_MAX_TIMEOUT	86400

struct pd_hook {
	char *path;  /* absolute */
	char **args; /* NULL-terminated, n_args >= 1; [path] when the spec has none */
	size_t n_args;
	char **env; /* NULL-terminated "K=V", may be empty */
	size_t n_env;
	int timeout_s; /* 1..PD_HOOK_MAX_TIMEOUT */
};

struct pd_hooks {
	struct pd_hook *list[PD_HOOK_KINDS];
	size_t n[PD_HOOK_KINDS];
	/* For the state document. */
	char *oci_version;
	char **annotation_keys, **annotation_values;
	size_t n_annotations;
};

/* "prestart", "createRuntime", ... as the spec names them. */
const char *pd_hook_kind_name(int kind);

/* Add one hook of `kind` (strings are copied to a). *hooks is allocated on first use.
 * Checks the count against PD_HOOKS_MAX; the caller checked the strings. */
int pd_hooks_add(struct pd_arena *a, struct pd_hooks **hooks, int kind, const char *path,
		 char *const *args, size_t n_args, char *const *env, size_t n_env, int timeout_s,
		 struct pd_error *err);

/* Add copies of every hook of src after those of *hooks, kind by kind. */
int pd_hooks_append(struct pd_arena *a, struct pd_hooks **hooks, const struct pd_hooks *src,
		    struct pd_error *err);

/* The hook binary: a regular executable file, the last component not a symlink
 * (AT_SYMLINK_NOFOLLOW), looked up under `root` ("" = "/"). INVALID_ARGUMENT otherwise,
 * naming `what`. */
int pd_hook_check_path(const char *root, const char *path, const char *what, struct pd_error *err);

/* The guest's hook directory (CreateSandbox guest_hook_path): the regular executable files
 * of <dir>/prestart, <dir>/poststart and <dir>/poststop, in name order, become hooks with
 * args [path], no env and the default timeout (the sandbox adds them to every container's,
 * after the spec's own). Anything else there (symlinks, directories, files without an x
 * bit) is skipped with a log line; a missing directory adds nothing. */
int pd_hooks_add_guest(struct pd_arena *a, struct pd_hooks **hooks, const char *dir,
		       struct pd_error *err);

/* The state a hook gets on stdin: {ociVersion, id, status, pid, bundle, annotations}.
 * bundle = the directory holding the rootfs. malloc'd text in *out. */
int pd_hook_state_render(const struct pd_hooks *hooks, const char *id, const char *rootfs,
			 const char *status, pid_t pid, char **out, size_t *len,
			 struct pd_error *err);

/* A memfd holding the state, at offset 0, close-on-exec (rewind it before each hook). */
int pd_hook_state_fd(const char *state, size_t len, struct pd_error *err);

/* In a freshly forked child: not dumpable, stdin = state_fd, stdout = /dev/null, stderr
 * kept and every other fd closed (agent/child_fds.h), a new session, default signals,
 * oom_score_adj 0 when it is the agent's -1000, then execve. Exits 127 if the exec fails. */
__attribute__((noreturn)) void pd_hook_exec(const struct pd_hook *h, int state_fd);

/* Rewind the state and fork a child that runs pd_hook_exec: its pid, or -1. The caller
 * registers the pid where it is reaped. */
pid_t pd_hook_fork(int kind, size_t i, const struct pd_hook *h, int state_fd, struct pd_error *err);

/* Wait up to timeout_ms for child `pid` to exit WITHOUT reaping it (pidfd, or waitid
 * WNOWAIT): 0 when it has exited, 1 on timeout, -1 on error. For the container child, which
 * may wait (its createContainer and startContainer hooks); it then reaps with waitpid. The
 * agent never waits: its hooks run from the loop (hooks_seq.h). */
int pd_hook_wait_exit(pid_t pid, int timeout_ms, struct pd_error *err);

/* A hook over its timeout: SIGKILL to it and its process group (it leads a session of its
 * own, so children it started in the background go too). */
void pd_hook_kill(pid_t pid);

/* The error of a hook that ended with wait status `st` (or timed out). */
int pd_hook_failed(int kind, size_t i, const struct pd_hook *h, bool timed_out, int st,
		   struct pd_error *err);

/* Run the hooks of one kind from a process that may wait for its own children (the
 * container child: createContainer, startContainer). Stops at the first failure. */
int pd_hooks_run_local(const struct pd_hooks *hooks, int kind, const char *state, size_t len,
		       struct pd_error *err);

/* Worst-case time the hooks of `kind` may take, in ms: the child's createContainer and
 * startContainer hooks lengthen the agent's wait for its next message by this much. */
int64_t pd_hooks_budget_ms(const struct pd_hooks *hooks, int kind);

#endif
