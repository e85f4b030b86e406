#!/bin/bash
# qemu-tests/demo.sh BUILD_DIR — the main job, shown step by step (make demo): boot pidone's
# initrd in a QEMU microVM, talk to it over ttRPC on the virtio-serial channel, shut it down.
# Environment: see qemu-tests/lib.sh (PD_KERNEL, PD_AGENT_LOG, EXTRA_APPEND, PD_KEEP, ...).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu-tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=qemu-tests/containers.sh
. "$HERE/containers.sh"

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
pd_vm_setup "$1" || exit 1
INITRD=${PD_INITRD:-$PD_BUILD/pidone-initrd.img}

fail() {
	echo "demo failed: $*" >&2
	pd_dump_console 200
	exit 1
}

step() { printf '\n== %s\n' "$*"; }

# pd_ctl, its answer indented; stops the demo if it fails.
show() {
	local out
	out=$(pd_ctl_while_up "$@" 2>&1) || { echo "$out" | sed 's/^/   /'; fail "pidonectl $*"; }
	echo "${out:-OK (empty reply)}" | sed 's/^/   /'
}

step "Boot: $(pd_kernel) + $INITRD ($(stat -c %s "$INITRD" 2>/dev/null || echo ?) bytes)"
echo "   qemu-system-x86_64 -accel tcg -machine q35, agent on virtio-serial port" \
	"$PD_SERIAL_NAME = unix:$PD_SOCK, 9p share $PD_SHARE_TAG"
pd_qemu_start "$INITRD" 2>/dev/null || fail "cannot start QEMU"

step "grpc.Health/Check (pidonectl retries until the agent answers)"
show --wait 180 check
echo "   first answer $(($(pd_now_ms) - PD_T0)) ms after QEMU started"

step "grpc.Health/Version"
show version

step "grpc.AgentService/CreateSandbox with Kata's 9p storage (the share at $PD_GUEST_SHARED)"
show create-sandbox --id demo --hostname pidone-demo --share-9p "$PD_SHARE_TAG"

step "A container from a runc-spec bundle, its rootfs on the 9p share"
pd_share_rootfs demo-c1
pd_bundle "$PD_WORK/bundle-demo-c1" sleep 1000 >/dev/null || fail "runc spec"
echo "   pidonectl run -d: CreateContainer + StartContainer"
show run -d --id demo-c1 --rootfs-guest-path "$PD_GUEST_SHARED/demo-c1/rootfs" \
	"$PD_WORK/bundle-demo-c1"
echo "   pidonectl exec: ExecProcess + ReadStdout/ReadStderr + WaitProcess"
show exec demo-c1 -- echo hello from a container in the guest
show exec demo-c1 -- hostname
show exec demo-c1 -- status
echo "   pidonectl rm: RemoveContainer"
show rm demo-c1

step "grpc.AgentService/DestroySandbox (the guest powers off)"
t=$(pd_now_ms)
show destroy-sandbox
pd_qemu_wait 120
[ "$PD_QEMU_STATUS" = 0 ] || fail "QEMU status $PD_QEMU_STATUS after destroy-sandbox"
! pd_console_has_panic || fail "kernel panic on the guest console"
echo "   QEMU exited with status 0, $((PD_T_EXIT - t)) ms later; total $((PD_T_EXIT - PD_T0)) ms"
