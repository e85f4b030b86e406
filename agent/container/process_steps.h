/* The steps of pd_process_setup / pd_process_exec, one file each (caps.c, user.c,
 * rlimits.c, env.c). Internal to the container engine; callers use process.h. */
#ifndef PD_CONTAINER_PROCESS_STEPS_H
#define PD_CONTAINER_PROCESS_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/container/config.h"
#include "agent/error.h"

/* setrlimit for each entry, in order. */
int pd_rlimits_apply(const struct pd_rlimit *rl, size_t n, struct pd_error *err);

/* setgroups(gids) + setresgid(gid) + setresuid(uid). keep_caps: the permitted set survives
 * a change away from uid 0 (the effective set is cleared by the kernel all the same). */
int pd_user_switch(uid_t uid, gid_t gid, const gid_t *gids, size_t n_gids, bool keep_caps,
		   struct pd_error *err);

/* Highest capability number the running kernel knows (CAP_LAST_CAP). */
int pd_caps_last(void);

/* Make the five sets of the calling process exactly `caps` (less what the kernel does not
 * know, and ambient bits that are not both permitted and inheritable). Needs CAP_SETPCAP
 * in the permitted set when the bounding set shrinks. */
int pd_caps_apply(const struct pd_caps *caps, struct pd_error *err);

/* p->env plus HOME when it has none: a NULL-terminated array from malloc (the strings are
 * p->env's, one HOME string is malloc'd too); free with pd_exec_env_free. */
int pd_exec_env(const struct pd_process_config *p, char ***envp, struct pd_error *err);
void pd_exec_env_free(const struct pd_process_config *p, char **envp);

/* The value of `key` in a "K=V" array (first match, as getenv), or NULL. */
const char *pd_env_lookup(char *const *env, size_t n, const char *key);

#endif
