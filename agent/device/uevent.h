/* Kernel uevents (NETLINK_KOBJECT_UEVENT): the kernel's word that a device was added, so
 * a wait for a hot-plugged disk is an fd in the loop, not a poll of sysfs. */
#ifndef PD_DEVICE_UEVENT_H
#define PD_DEVICE_UEVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/device/blockdev.h"

struct pd_uevent {
	char action[16];    /* "add", "remove", "change", "bind", ... */
	char devpath[256];  /* "/devices/pci0000:00/0000:00:02.0/.../block/vdb" (no /sys) */
	char subsystem[32]; /* "block" */
	char devname[64];   /* "vdb" (may be empty) */
	unsigned major, minor;
	bool has_devnum;
};

/* One kernel record: "add@/devices/...\0ACTION=add\0DEVPATH=...\0...". Returns 0, or -1
 * when it is not one (a libudev record, no ACTION/DEVPATH/SUBSYSTEM, a field too long). */
int pd_uevent_parse(const char *buf, size_t len, struct pd_uevent *ev);
/* A block "add" whose devpath is where the wanted disk would show up: any virtio disk
 * under the root complex for a PCI path (sysfs is then read for the exact one), ".../block/
 * <name>" for a name, ".../H:0:T:L/block/..." for a SCSI address. */
bool pd_uevent_matches(const struct pd_uevent *ev, const struct pd_blk_want *w);
/* A socket for the kernel's uevents, non-blocking, close-on-exec. */
int pd_uevent_open(struct pd_error *err);
/* Read one record: 1 and *ev; 0 when there is nothing more to read (records that are not
 * the kernel's are skipped); 2 when the socket overflowed and records were lost (whoever
 * waits must look again); -1 on error. */
int pd_uevent_read(int fd, struct pd_uevent *ev);

#endif
