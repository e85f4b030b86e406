/* Spec.Hooks (and the guest's hook directory) -> cfg->hooks, checked: paths absolute and
 * without "..", counts and sizes within the PD_HOOK* limits of agent/container/hooks.h,
 * env entries KEY=VALUE, Timeout >= 0 (0 = the default, above the cap = the cap), and every
 * binary that runs in the agent's tree a regular executable file that is not a symlink.
 * startContainer paths resolve in the container: the engine checks them under the rootfs.
 * Bad input is INVALID_ARGUMENT naming the field ("Hooks.Prestart[1].Path: ..."). */
#ifndef PD_RPC_OCI_HOOKS_H
#define PD_RPC_OCI_HOOKS_H

#include "agent/container/config.h"
#include "agent/error.h"
#include "oci.pb-c.h"

struct pd_hooks;

/* guest: the sandbox's guest hooks (pd_hooks_add_guest at CreateSandbox), NULL for none;
 * they come after the spec's own of each kind. cfg->hooks stays NULL when there is no hook
 * at all. */
int pd_oci_hooks_to_config(const Grpc__Spec *spec, const struct pd_hooks *guest,
			   struct pd_container_config *cfg, struct pd_error *err);

#endif
