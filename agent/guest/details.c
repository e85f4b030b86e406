/* GetGuestDetails: what the host learns about the guest after CreateSandbox — the memory
 * block size (hotplugged memory must come in multiples of it), whether memory can be added
 * through the probe file, and who the agent is and what it supports. */
#include "guest.h"

#include <unistd.h>

#include "agent/sandbox/storage.h"

int pd_guest_details(const char *sysfs, bool mem_block_size, bool mem_hotplug_probe,
		     struct pd_guest_details *d, struct pd_error *err)
{
	*d = (struct pd_guest_details){0};
	if (mem_block_size && pd_memory_block_size(sysfs, &d->mem_block_size_bytes, err) < 0)
		return -1;
	if (mem_hotplug_probe)
		d->support_mem_hotplug_probe = pd_memory_probe_supported(sysfs);
	d->version = PD_VERSION;
	d->init_daemon = getpid() == 1;
	d->storage_handlers = pd_storage_drivers; /* one list: the drivers storage.c accepts */
	d->n_storage_handlers = pd_storage_n_drivers;
	/* Linux.Seccomp is applied to every container process (agent/container/seccomp.c). */
	d->supports_seccomp = true;
	d->extra_features = NULL; /* Kata lists build features here ("agent-policy"); none */
	d->n_extra_features = 0;
	return 0;
}
