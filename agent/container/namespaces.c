#include "config.h"

#include <sched.h>
#include <string.h>

static const struct {
	const char *oci;
	const char *proc;
	int flag;
} ns_names[PD_NS_COUNT] = {
	[PD_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
	[PD_NS_PID] = {"pid", "pid", CLONE_NEWPID},
	[PD_NS_NET] = {"network", "net", CLONE_NEWNET},
	[PD_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
	[PD_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
	[PD_NS_USER] = {"user", "user", CLONE_NEWUSER},
	[PD_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
};

const char *pd_ns_proc_name(int type)
{
	return type >= 0 && type < PD_NS_COUNT ? ns_names[type].proc : "?";
}

int pd_ns_from_oci(const char *name)
{
	for (int i = 0; i < PD_NS_COUNT; i++)
		if (strcmp(name, ns_names[i].oci) == 0)
			return i;
	return -1;
}

int pd_ns_clone_flag(int type)
{
	return type >= 0 && type < PD_NS_COUNT ? ns_names[type].flag : 0;
}
