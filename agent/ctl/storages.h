/* The Storage entries of create-sandbox, as Kata's runtime sends them (protocol §3.3):
 * the sandbox's shared directory over 9p or virtio-fs, the sandbox's /dev/shm, or any one
 * spelled out on the command line. Each Storage is malloc'd as an unpacked message:
 * protobuf_c_message_free_unpacked(&s->base, NULL) frees it. */
#ifndef PD_CTL_STORAGES_H
#define PD_CTL_STORAGES_H

#include "agent.pb-c.h"
#include "agent/error.h"

/* Where Kata mounts the share that holds every container's rootfs and volumes. */
#define PD_CTL_KATA_SHARED_DIR "/run/kata-containers/shared/containers/"
/* Where Kata mounts the sandbox's /dev/shm tmpfs. */
#define PD_CTL_KATA_SHM_DIR "/run/kata-containers/sandbox/shm"
/* Kata's 9p msize when the configuration does not change it. */
#define PD_CTL_9P_MSIZE 262144

/* "DRIVER:SOURCE:MOUNTPOINT[:OPT,OPT...]" e.g. "9p:tag:/mnt:trans=virtio,version=9p2000.L".
 * The fstype follows the driver (9p, virtio-fs -> virtiofs, ephemeral -> tmpfs, others: the
 * driver's name) unless an option "fstype=TYPE" says otherwise (it is not sent as an
 * option). */
int pd_ctl_parse_storage(const char *text, Grpc__Storage **out, struct pd_error *err);
/* The sandbox share: driver "9p" or "virtio-fs", source = the mount tag. */
int pd_ctl_share_storage(const char *driver, const char *tag, Grpc__Storage **out,
			 struct pd_error *err);
/* The sandbox's /dev/shm: an ephemeral tmpfs of that many bytes. */
int pd_ctl_shm_storage(unsigned long long bytes, Grpc__Storage **out, struct pd_error *err);

#endif
