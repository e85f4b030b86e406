/* The environment a container process is exec'd with: the spec's, plus HOME when the spec
 * has none — the user's home directory from the container's /etc/passwd, else "/"
 * (what Kata and runc do). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/container/process_steps.h"

const char *pd_env_lookup(char *const *env, size_t n, const char *key)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
			return env[i] + klen + 1;
	return NULL;
}

/* "name:pw:uid:gid:gecos:home:shell" -> home if uid matches; NULL otherwise. */
static const char *passwd_home(char *line, uid_t uid)
{
	char *field[7];
	int n = 0;
	for (char *s = line; n < 7; n++) {
		field[n] = s;
		s = strchr(s, ':');
		if (!s)
			break;
		*s++ = '\0';
	}
	if (n < 5)
		return NULL; /* fewer than 6 fields: no home */
	char *end;
	errno = 0;
	unsigned long v = strtoul(field[2], &end, 10);
	if (errno || end == field[2] || *end || v != (unsigned long)uid)
		return NULL;
	field[5][strcspn(field[5], "\n")] = '\0';
	return field[5][0] ? field[5] : NULL;
}

/* The image's file is untrusted: regular files only (a FIFO would block us), lines longer
 * than the buffer are skipped. Returns a malloc'd home or NULL. */
static char *home_of(uid_t uid)
{
	int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "r") : NULL;
	if (!f) {
		close(fd);
		return NULL;
	}
	char line[1024];
	char *home = NULL;
	bool skipping = false; /* inside an over-long line */
	while (!home && fgets(line, sizeof(line), f)) {
		bool whole = strchr(line, '\n') || feof(f);
		const char *h = !skipping && whole ? passwd_home(line, uid) : NULL;
		skipping = !whole;
		if (h)
			home = strdup(h);
	}
	fclose(f);
	return home;
}

static char *home_entry(uid_t uid)
{
	char *home = home_of(uid);
	const char *dir = home ? home : "/";
	size_t len = strlen("HOME=") + strlen(dir) + 1;
	char *entry = malloc(len);
	if (entry)
		snprintf(entry, len, "HOME=%s", dir);
	free(home);
	return entry;
}

int pd_exec_env(const struct pd_process_config *p, char ***envp, struct pd_error *err)
{
	char **env = calloc(p->n_env + 2, sizeof(*env));
	if (!env)
		return pd_error_errno(err, ENOMEM, "environment of %zu entries", p->n_env);
	if (p->n_env)
		memcpy(env, p->env, p->n_env * sizeof(*env));
	if (!pd_env_lookup(p->env, p->n_env, "HOME")) {
		env[p->n_env] = home_entry(p->uid);
		if (!env[p->n_env]) {
			free(env);
			return pd_error_errno(err, ENOMEM, "HOME");
		}
	}
	*envp = env;
	return 0;
}

void pd_exec_env_free(const struct pd_process_config *p, char **envp)
{
	if (!envp)
		return;
	free(envp[p->n_env]); /* our HOME entry, or the terminating NULL */
	free(envp);
}
