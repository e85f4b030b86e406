/* An OCI bundle (a directory with config.json and a rootfs, as `runc spec` makes it) turned
 * into the grpc.Spec that CreateContainer carries, with the changes Kata's runtime makes on
 * the host before it sends a spec to the agent:
 *   - the network, cgroup and time namespaces are dropped (containers share the VM's
 *     network; the agent decides about cgroups), and so is pid: the agent gives each
 *     container a new one, or the sandbox's when sandbox_pidns is set — which Kata sets
 *     when the spec's pid namespace had a path;
 *   - every other namespace path is blanked (host paths mean nothing in the guest);
 *   - hooks are cleared (they ran on the host, if anywhere);
 *   - Root.Path becomes a path the agent can open: the absolute host path of the bundle's
 *     root (host tests: the agent runs on this machine) or the rootfs's path in the guest
 *     (a VM: e.g. /run/kata-containers/shared/containers/<id>/rootfs on a 9p share). */
#ifndef PD_CTL_BUNDLE_H
#define PD_CTL_BUNDLE_H

#include <stdbool.h>

#include "agent/ctl/json_to_proto.h"
#include "agent/error.h"
#include "oci.pb-c.h"

struct pd_ctl_bundle {
	const char *dir;
	const char *rootfs_guest_path; /* NULL: the host path of <dir>/<root.path> */
	int terminal;                  /* -1: as the spec says; 0 or 1: Process.Terminal */
	const struct pd_j2p_unknown *unknown; /* told of config.json keys that fit no field */
};

/* Read and convert <dir>/config.json, then pd_ctl_spec_for_guest(). *spec is freed with
 * protobuf_c_message_free_unpacked(&(*spec)->base, NULL). */
int pd_ctl_load_bundle(const struct pd_ctl_bundle *b, Grpc__Spec **spec, bool *sandbox_pidns,
		       struct pd_error *err);

/* Kata's host-side changes (above) on a spec built as unpacked messages are (malloc'd):
 * what is taken out is freed, what is put in is malloc'd. root_path must be absolute. */
int pd_ctl_spec_for_guest(Grpc__Spec *spec, const char *root_path, bool *sandbox_pidns,
			  struct pd_error *err);

/* A whole file ("-": stdin) into a malloc'd buffer, NUL-terminated, at most max bytes. */
int pd_ctl_read_file(const char *path, size_t max, char **text, size_t *len,
		     struct pd_error *err);

#endif
