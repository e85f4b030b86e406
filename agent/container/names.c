#include "names.h"

#include <string.h>
#include <sys/resource.h>

/* Index = capability number (linux/capability.h). */
static const char *const cap_names[] = {
	"CAP_CHOWN",		"CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID",		"CAP_KILL",	      "CAP_SETGID",	     "CAP_SETUID",
	"CAP_SETPCAP",		"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",	"CAP_NET_RAW",	      "CAP_IPC_LOCK",	     "CAP_IPC_OWNER",
	"CAP_SYS_MODULE",	"CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",	     "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",	"CAP_SYS_ADMIN",      "CAP_SYS_BOOT",	     "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",	"CAP_SYS_TIME",	      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
	"CAP_LEASE",		"CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",	"CAP_MAC_ADMIN",      "CAP_SYSLOG",	     "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",	"CAP_AUDIT_READ",     "CAP_PERFMON",	     "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int pd_cap_count(void)
{
	return (int)(sizeof(cap_names) / sizeof(cap_names[0]));
}

int pd_cap_from_name(const char *name)
{
	for (int i = 0; i < pd_cap_count(); i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

const char *pd_cap_name(int cap)
{
	return cap >= 0 && cap < pd_cap_count() ? cap_names[cap] : NULL;
}

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{"RLIMIT_CPU", RLIMIT_CPU},	      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_DATA", RLIMIT_DATA},	      {"RLIMIT_STACK", RLIMIT_STACK},
	{"RLIMIT_CORE", RLIMIT_CORE},	      {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},	      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int pd_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].resource;
	return -1;
}

const char *pd_rlimit_name(int resource)
{
	for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
		if (rlimits[i].resource == resource)
			return rlimits[i].name;
	return NULL;
}
