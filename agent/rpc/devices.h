/* CreateContainer's devices (Device messages): the host plugged a disk in and put a
 * linux.devices entry with the host's numbers in the spec; the agent finds the guest's disk
 * (waiting for it: agent/device/devwait.h) and rewrites the entry, and the cgroup rules
 * that named the host's numbers, to the guest's. */
#ifndef PD_RPC_DEVICES_H
#define PD_RPC_DEVICES_H

#include "agent.pb-c.h"
#include "agent/device/devwait.h"

#define PD_MAX_DEVICE_MSGS 128 /* per container */

/* What a Device names: blk → id (a PCI path; vm_path when id is empty), mmioblk and nvdimm
 * → vm_path (/dev/<name>), scsi → id ("target:lun"). Other types: UNIMPLEMENTED. */
int pd_rpc_device_want(const Grpc__Device *d, struct pd_blk_want *w, struct pd_error *err);
/* Each container_path ("" = only wait for the device) is used once and has a linux.devices
 * entry in the spec (else NOT_FOUND). */
int pd_rpc_devices_check(const Grpc__Spec *oci, Grpc__Device *const *d, size_t n,
			 struct pd_error *err);
/* The spec's linux.devices entry at each device's container_path ("" = only wait for it)
 * gets the guest's numbers; so do the linux.resources.devices rules of the same type that
 * named the entry's old numbers (each rule rewritten at most once, so two devices whose host
 * and guest numbers cross do not undo each other). NOT_FOUND when no entry has the path. */
int pd_rpc_devices_rewrite(Grpc__Spec *oci, Grpc__Device *const *d, size_t n,
			   const struct pd_blk_found *found, struct pd_error *err);
/* Everything CreateContainer must find before it changes anything: its devices (then the
 * spec rewrite) and the disks of its block storages (*storage_devs, malloc'd, one per
 * storage). 0, PD_RPC_PARKED or -1. */
int pd_rpc_create_devices(const struct pd_devwait_req *r, Grpc__CreateContainerRequest *req,
			  struct pd_blk_found **storage_devs, struct pd_error *err);

#endif
