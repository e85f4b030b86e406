/* The line between protobuf and the engine: an OCI spec (grpc.Spec) or process
 * (grpc.Process) from the host becomes a pd_container_config / pd_process_config, with every
 * field checked on the way. Nothing below this line sees a protobuf type.
 *
 * Errors: INVALID_ARGUMENT with the field named as the Go spec names it
 * ("Mounts[3].destination: relative path 'x'", "Process.Capabilities.Bounding[2]: unknown
 * capability 'CAP_X'"), including counts over the PD_MAX_* limits of config.h — a request
 * that asks for too much is a bad request, not a busy agent. The one exception is the arena
 * running out (malloc failure or over PD_CONFIG_BYTES): RESOURCE_EXHAUSTED, errnum ENOMEM.
 *
 * What is checked here and what is left to the engine:
 *   here    shape and syntax: presence, absolute clean paths without "..", names of
 *           capabilities/rlimits/namespaces/propagation, numeric ranges, counts, a mount
 *           namespace (a container sharing PID 1's mounts could unmount the agent's world),
 *           a uts namespace when Hostname is set, the syntax of Linux.Sysctl entries,
 *           Linux.Seccomp (oci_seccomp.h: names, limits, and the filter compiled);
 *   engine  everything that needs the filesystem: Root.Path existing and symlink-free, bind
 *           sources existing, destinations resolved under the rootfs, and whether a
 *           sysctl's namespace is the container's own (pd_sysctls_check, sysctl.h).
 * Converted elsewhere: Hooks (and the Annotations their state carries) by oci_hooks.h.
 * Not converted (no field in the config yet): Resources, UID/GID mappings, IntelRdt,
 * ApparmorProfile, SelinuxLabel, MountLabel, User.Username. */
#ifndef PD_RPC_OCI_SPEC_H
#define PD_RPC_OCI_SPEC_H

#include "agent/container/config.h"
#include "agent/error.h"
#include "oci.pb-c.h"

/* Fill cfg from spec. cfg->arena must be initialised by the caller
 * (pd_arena_init(&cfg->arena, PD_CONFIG_BYTES)); every other field is overwritten. On error
 * cfg is left for the caller to free with pd_arena_free. id = the container id (checked
 * again here with pd_validate_container_id, it is cheap).
 *
 * Defaults: Process.Cwd "" -> "/"; Linux.RootfsPropagation "" -> MS_SLAVE|MS_REC; Hostname
 * "" -> NULL (leave); CgroupsPath "" -> NULL; a namespace Path "" -> NULL (a new one). */
int pd_oci_spec_to_config(const Grpc__Spec *spec, const char *id, struct pd_container_config *cfg,
			  struct pd_error *err);

/* ExecProcess: the Process alone (the container's config is known to the caller). Strings
 * and arrays go to `a`; *out is overwritten.
 *
 * has_caps is true iff the Process has a Capabilities message (an exec without one inherits
 * the container's). OOMScoreAdj: proto3 has no presence, so 0 cannot be told from "not
 * given"; has_oom_score_adj is set only for a non-zero value (range -1000..1000). Note for
 * the engine: pidone itself runs at -1000, so "not set" must still become 0 in the child,
 * never the inherited -1000 (Kata always writes the value, 0 included).
 * ConsoleSize: rows = Height, cols = Width (each <= 65535). uid/gid 4294967295 is refused: to
 * setresuid() it means "unchanged", i.e. root. */
int pd_oci_process_to_config(const Grpc__Process *proc, struct pd_arena *a,
			     struct pd_process_config *out, struct pd_error *err);

#endif
