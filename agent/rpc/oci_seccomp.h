/* Linux.Seccomp (grpc.LinuxSeccomp, the current numbering: Flags = 3, Syscalls = 4, and
 * LinuxSyscall's errnoret oneof = 3) -> struct pd_seccomp, checked and compiled. Part of the
 * protobuf line of oci_spec.h; docs/seccomp.md has the rules. */
#ifndef PD_RPC_OCI_SECCOMP_H
#define PD_RPC_OCI_SECCOMP_H

#include "agent/arena.h"
#include "agent/container/config.h"
#include "agent/error.h"
#include "oci.pb-c.h"

/* *out = NULL when s is NULL (no filter). Names as libseccomp spells them:
 *   actions  SCMP_ACT_KILL (= KILL_THREAD), SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS,
 *            SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG;
 *            SCMP_ACT_NOTIFY is refused (no seccomp agent to hand the fd to). ERRNO and
 *            TRACE take errnoret when present, else EPERM (runc's default); the default
 *            action has no errnoret in this proto: EPERM.
 *   ops      SCMP_CMP_NE LT LE EQ GE GT MASKED_EQ (MASKED_EQ: Value = mask, ValueTwo =
 *            the value to compare with)
 *   arches   SCMP_ARCH_X86, X86_64, X32, ARM, AARCH64, MIPS*, PPC*, S390*, PARISC*, RISCV64
 *   flags    SECCOMP_FILTER_FLAG_TSYNC (accepted, nothing to sync: one thread),
 *            SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW
 * Anything else, an empty name list, a name that cannot be a syscall's, an arg index >= 6
 * or a count over the PD_MAX_SECCOMP_* limits is INVALID_ARGUMENT naming the field; syscall
 * names this libseccomp does not know are kept and skipped at compile time. Then
 * pd_seccomp_compile (agent/container/seccomp.h) builds the program into `a`. */
int pd_oci_seccomp_to_config(const Grpc__LinuxSeccomp *s, struct pd_arena *a,
			     struct pd_seccomp **out, struct pd_error *err);

#endif
