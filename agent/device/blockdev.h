/* Block devices the host plugs into the guest, named the ways the host names them:
 *   - a PCI path ("02/01": slot 2 of the root bus is a bridge, slot 1 behind it the disk) to
 *     a virtio-blk disk (storage driver and device type "blk");
 *   - a device name ("/dev/vdb": virtio-mmio disks, which have no address, "mmioblk");
 *   - a SCSI address "target:lun" on the virtio-scsi host, channel 0 ("scsi").
 * Lookups only read sysfs and never wait; the waiting is devwait.h's (uevents). Every path
 * starts at a `sysfs` root argument so the unit tests can use a fake tree. */
#ifndef PD_DEVICE_BLOCKDEV_H
#define PD_DEVICE_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/error.h"

#define PD_PCI_PATH_MAX 8 /* bridges deep */
#define PD_PCI_SLOT_MAX 31
#define PD_BLK_NAME_MAX 32
#define PD_SCSI_ID_MAX	0xffffu /* target and LUN, as the kernel's scan file takes them */

enum pd_blk_kind {
	PD_BLK_PCI,
	PD_BLK_NAME,
	PD_BLK_SCSI,
};

struct pd_blk_want {
	enum pd_blk_kind kind;
	uint32_t slots[PD_PCI_PATH_MAX]; /* PD_BLK_PCI */
	size_t n_slots;
	char name[PD_BLK_NAME_MAX]; /* PD_BLK_NAME: "vdb" */
	unsigned target, lun;	    /* PD_BLK_SCSI */
};

struct pd_blk_found {
	char name[PD_BLK_NAME_MAX]; /* "vdb", the node is /dev/<name> */
	unsigned major, minor;
};

/* A PCI path from the host: 1..PD_PCI_PATH_MAX slots, each 0..31 (function 0). */
int pd_pci_path_check(const uint32_t *slots, size_t n, struct pd_error *err);
/* "02/01" (hex slots, '/' between) into slots. */
int pd_pci_path_parse(const char *text, uint32_t *slots, size_t *n, struct pd_error *err);
/* The sysfs directory of the device at a PCI path under root complex 0000:00, following
 * bridges through their pci_bus/ entry (or, lacking it, their child devices):
 * "<sysfs>/devices/pci0000:00/0000:00:02.0/0000:01:01.0". */
int pd_pci_path_to_sysfs(const char *sysfs, const uint32_t *slots, size_t n, char *out, size_t size,
			 struct pd_error *err);
/* The block device name ("vdb") of the virtio-blk disk at a PCI path. NOT_FOUND when there
 * is no device, or no disk on it (yet). */
int pd_virtio_blk_at(const char *sysfs, const uint32_t *slots, size_t n, char *name, size_t size,
		     struct pd_error *err);

/* What a storage driver or device type names, from its source text: "blk" (a PCI path, or
 * a /dev/ name), "mmioblk" (a /dev/ name), "scsi" ("target:lun"). Any other kind is
 * UNIMPLEMENTED naming it. */
int pd_blk_want_parse(const char *kind, const char *source, struct pd_blk_want *w,
		      struct pd_error *err);
/* "PCI path 02/01", "block device vdb", "SCSI address 0:1", for messages. */
void pd_blk_want_text(const struct pd_blk_want *w, char *buf, size_t size);
/* Look the device up now: 0 and *f, or -1 with NOT_FOUND when it is not (yet) there; any
 * other status is an error that waiting will not cure. */
int pd_blk_find(const char *sysfs, const struct pd_blk_want *w, struct pd_blk_found *f,
		struct pd_error *err);
/* "254:16\n" into numbers. */
int pd_blk_parse_devnum(const char *text, unsigned *major, unsigned *minor);

#endif
