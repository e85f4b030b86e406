/* pd_process_exec: find the container's binary and execve it.
 *
 * The PATH searched is the one of the process's own environment (as runc and Kata do),
 * not the agent's. Each candidate must be a regular file we may execute: directories and
 * non-executables are skipped as execvp skips them, and a miss is reported as NOT_FOUND
 * unless a candidate existed without execute permission (PERMISSION_DENIED). execve with
 * an explicit envp is what clears the agent's environment: nothing else is inherited.
 * A seccomp filter given here goes on after the look-up and the environment are ready, so
 * between it and execve the process makes no other system call. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/process.h"
#include "agent/container/process_steps.h"
#include "agent/container/seccomp.h"

#define PD_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Is dir/name (or name alone for an empty dir, meaning ".") an executable regular file?
 * Returns 0 and fills buf, or an errno value (ENOENT, EACCES, ENAMETOOLONG). */
static int candidate(const char *dir, size_t dlen, const char *name, char *buf, size_t size)
{
	int n = dlen ? snprintf(buf, size, "%.*s/%s", (int)dlen, dir, name)
		     : snprintf(buf, size, "%s", name);
	if (n < 0 || (size_t)n >= size)
		return ENAMETOOLONG;
	struct stat st;
	if (stat(buf, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return ENOENT;
	return faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == 0 ? 0 : EACCES;
}

/* Search `path` for name; 0 and buf filled, or -1 with err set. */
static int look_up(const char *path, const char *name, char *buf, size_t size, struct pd_error *err)
{
	bool denied = false;
	for (const char *dir = path;; dir++) {
		size_t dlen = strcspn(dir, ":");
		int e = candidate(dir, dlen, name, buf, size);
		if (e == 0)
			return 0;
		denied = denied || e == EACCES;
		dir += dlen;
		if (*dir == '\0')
			break;
	}
	if (denied)
		return pd_error_set(err, PD_PERMISSION_DENIED, EACCES,
				    "executable file '%s' in $PATH: permission denied", name);
	return pd_error_set(err, PD_NOT_FOUND, ENOENT, "executable file '%s' not found in $PATH",
			    name);
}

static int exec_failed(const char *file, int e, struct pd_error *err)
{
	if (e == ENOENT)
		return pd_error_set(err, PD_NOT_FOUND, e, "executable file '%s' not found", file);
	if (e == EACCES)
		return pd_error_set(err, PD_PERMISSION_DENIED, e,
				    "executable file '%s': permission denied", file);
	return pd_error_errno(err, e, "execve %s", file);
}

int pd_process_exec(const struct pd_process_config *p, const struct pd_seccomp *seccomp,
		    struct pd_error *err)
{
	if (p->n_args < 1 || !p->args || !p->args[0] || !p->args[0][0])
		return pd_error_set(err, PD_INVALID_ARGUMENT, 0, "no executable in process.args");
	const char *file = p->args[0];
	char buf[PATH_MAX];
	if (!strchr(file, '/')) {
		const char *path = pd_env_lookup(p->env, p->n_env, "PATH");
		if (look_up(path ? path : PD_DEFAULT_PATH, file, buf, sizeof(buf), err) < 0)
			return -1;
		file = buf;
	}
	char **envp;
	if (pd_exec_env(p, &envp, err) < 0)
		return -1;
	if (seccomp && pd_seccomp_load(seccomp, err) < 0) {
		pd_exec_env_free(p, envp);
		return -1;
	}
	execve(file, p->args, envp);
	int e = errno;
	pd_exec_env_free(p, envp);
	return exec_failed(p->args[0], e, err);
}
