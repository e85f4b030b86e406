/* Names the OCI spec uses for kernel constants: capabilities and rlimits. */
#ifndef PD_CONTAINER_NAMES_H
#define PD_CONTAINER_NAMES_H

/* "CAP_CHOWN" -> 0 ... ; -1 if unknown. Also the number of names known. */
int pd_cap_from_name(const char *name);
const char *pd_cap_name(int cap); /* NULL if unknown */
int pd_cap_count(void);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 if unknown. */
int pd_rlimit_from_name(const char *name);
const char *pd_rlimit_name(int resource);

#endif
