#!/bin/bash
# qemu-tests/run.sh BUILD_DIR — the QEMU boot test (make qemu-check).
#
# Boots $PD_INITRD (default BUILD_DIR/pidone-initrd.img) on $PD_KERNEL under TCG, with the agent channel on a
# virtio-serial port (host side: a unix socket) and a 9p share, then drives pidone with
# BUILD_DIR/pidonectl: Health.Check, Version, DestroySandbox, and checks the VM powers itself
# off cleanly. Each check is a function below; add new ones to CHECKS in boot order.
# Environment: see qemu-tests/lib.sh (PD_KERNEL, PD_AGENT_LOG, EXTRA_APPEND, PD_KEEP, ...).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu-tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=qemu-tests/containers.sh
. "$HERE/containers.sh"
# shellcheck source=qemu-tests/storage.sh
. "$HERE/storage.sh"
# shellcheck source=qemu-tests/guest.sh
. "$HERE/guest.sh"
# shellcheck source=qemu-tests/namespaces.sh
. "$HERE/namespaces.sh"

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
pd_vm_setup "$1" || exit 1
INITRD=${PD_INITRD:-$PD_BUILD/pidone-initrd.img}
EXPECTED_VERSION=$(sed -n 's/^VERSION *:= *//p' "$HERE/../Makefile")
# Bounds (a TCG guest on a loaded 2-core host: minutes where an idle one takes seconds).
HEALTH_WAIT_S=180
POWEROFF_WAIT_S=120

check_artifacts() {
	local f
	for f in "$INITRD" "$PD_BUILD/pidonectl" "$(pd_kernel)"; do
		[ -f "$f" ] || { echo "missing $f"; return 1; }
	done
	echo "initrd $(stat -c %s "$INITRD") bytes, kernel $(pd_kernel)"
}

# Boot, then wait for the first answered Health.Check (pidonectl retries the connection).
check_boot_health() {
	local out
	pd_qemu_start "$INITRD" || return 1
	out=$(pd_ctl_while_up --wait "$HEALTH_WAIT_S" check) || { echo "$out"; return 1; }
	PD_T_HEALTH=$(($(pd_now_ms) - PD_T0))
	echo "$out" | grep -q SERVING || { echo "no SERVING in: $out"; return 1; }
	echo "SERVING after ${PD_T_HEALTH} ms from QEMU start"
}

check_version() {
	local out
	out=$(pd_ctl_while_up version) || { echo "$out"; return 1; }
	# pidonectl prints "agent_version=X grpc_version=Y"; X is the Makefile's VERSION.
	if ! echo "$out" | grep -qE "(^| )agent_version=${EXPECTED_VERSION//./\\.}( |$)"; then
		echo "agent_version=$EXPECTED_VERSION not in: $out"
		return 1
	fi
	echo "$out" | grep -qE 'grpc_version=[^ ]+' || { echo "no grpc_version in: $out"; return 1; }
	echo "$out"
}

# Hosts come and go on the one serial port: 20 pidonectl runs back to back, each a new host
# connection, must all be answered (attach/detach events race with the data on a port).
# --timeout: a lost answer fails the run instead of waiting the default 30 s.
check_reconnects() {
	local i out
	for i in $(seq 1 20); do
		out=$(pd_ctl_while_up --timeout "$WAIT_S" version) || { echo "run $i: $out"; return 1; }
	done
	echo "20 back-to-back connections answered"
}

# CreateSandbox with Kata's 9p storage: the share lands at /run/kata-containers/shared/containers.
# Guest hooks from the share (docs/hooks.md): <share>/hooks/KIND/hook is pdtest's `hook`,
# which appends "KIND oom=<its oom_score_adj> <state>" to <share>/hooks/KIND.log; a symlink
# next to it must be skipped. PD_SANDBOX_STORAGE (set by guest.sh): one more storage,
# DRIVER:SOURCE:MOUNTPOINT.
check_create_sandbox() {
	local k
	for k in prestart poststart poststop; do
		mkdir -p "$PD_SHARE/hooks/$k"
		cp "$PD_BUILD/pdtest" "$PD_SHARE/hooks/$k/hook"
		ln -sf hook "$PD_SHARE/hooks/$k/link"
	done
	pd_ctl_while_up create-sandbox --id qemu-sb --hostname qemu-box --share-9p "$PD_SHARE_TAG" \
		--guest-hook-path /run/kata-containers/shared/containers/hooks \
		${PD_SANDBOX_STORAGE:+--storage "$PD_SANDBOX_STORAGE"}
}

# The guest hooks ran for the first container, once per kind (the symlinks skipped), with
# its state on stdin, at oom_score_adj 0 (pidone itself is at -1000).
check_guest_hooks() {
	local k st line
	for k in prestart:creating poststart:running poststop:stopped; do
		st=${k#*:}
		k=${k%%:*}
		line=$(grep -c "\"id\":\"qc-echo\"" "$PD_SHARE/hooks/$k.log" 2>/dev/null)
		[ "$line" = 1 ] || { echo "$k: $line lines for qc-echo in $k.log, want 1"; return 1; }
		line=$(grep "\"id\":\"qc-echo\"" "$PD_SHARE/hooks/$k.log")
		case $line in
		"$k oom=0 {"*"\"status\":\"$st\",\"pid\":"[1-9]*) ;;
		*) echo "$k.log: '$line', want status $st, oom=0 and a pid"; return 1 ;;
		esac
	done
	echo "prestart, poststart, poststop guest hooks ran for qc-echo at oom_score_adj 0"
}

# Containers whose rootfs is on the 9p share: output and exit codes over virtio-serial.
check_container_run() {
	pd_guest_run qc-echo 0 "hello from the guest" echo hello from the guest || return 1
	pd_guest_run qc-exit 7 "" exit 7 || return 1
	pd_guest_run qc-host 0 "qemu-box" hostname
}

# An exec into a running container: its output and its exit code.
check_container_exec() {
	local out st stats
	pd_share_rootfs qc-exec
	pd_bundle "$PD_WORK/bundle-qc-exec" sleep 1000 || return 1
	pd_ctl_while_up run -d --id qc-exec --rootfs-guest-path "$PD_GUEST_SHARED/qc-exec/rootfs" \
		"$PD_WORK/bundle-qc-exec" >/dev/null || return 1
	out=$(pd_ctl_while_up exec qc-exec -- echo exec works)
	st=$?
	[ "$st" = 0 ] && [ "$out" = "exec works" ] || { echo "exec: '$out' exit $st"; return 1; }
	pd_ctl_while_up exec qc-exec -- exit 3
	st=$?
	[ "$st" = 3 ] || { echo "exec exit 3: got $st"; return 1; }
	# The container has its own cgroup (v1 or v2, per the kernel command line): the agent
	# reads the pids in it back through StatsContainer.
	echo '{"container_id": "qc-exec"}' >"$PD_WORK/stats.json"
	stats=$(pd_ctl_while_up call grpc.AgentService StatsContainer --json "$PD_WORK/stats.json") ||
		{ echo "StatsContainer: $stats"; return 1; }
	echo "$stats" | tr -d ' \n' | grep -q '"pids_stats":{"current":"\?1"\?' ||
		{ echo "StatsContainer: no pids_stats.current 1 in: $stats"; return 1; }
	pd_ctl_while_up rm qc-exec >/dev/null || return 1
	echo "exec: '$out' exit 0, then exit 3; its cgroup holds 1 pid; removed"
}

# agent.debug_console (PD_DEBUG_CONSOLE=1, with an initrd that has busybox): a shell on the
# serial console answers what is typed to it.
check_debug_console() {
	local out
	out=$("$PD_BUILD/itest/sockchat" "$PD_WORK/console.sock" 'echo dbg-$((40+2))\n' dbg-42 \
		"$WAIT_S") ||
		{ echo "no answer from the debug shell; it printed: $out"; return 1; }
	echo "the shell on the console answered dbg-42"
}

guest_clock_logged() {
	pd_console_text |
		grep -Eq 'time=2030-01-01T00:00:[0-9.]+Z level=info msg="guest clock set"'
}

# Guest RPCs that only a VM can take for real: the clock, entropy, CPUs, details.
check_guest_rpcs() {
	local out w=$PD_WORK ncpu
	echo '{"sec": 1893456000, "usec": 1000000}' >"$w/dt-bad.json"
	out=$(pd_ctl_while_up call grpc.AgentService SetGuestDateTime --json "$w/dt-bad.json" 2>&1)
	echo "$out" | grep -q INVALID_ARGUMENT || { echo "usec 1000000 accepted: $out"; return 1; }
	echo '{"sec": 1893456000, "usec": 250000}' >"$w/dt.json"
	pd_ctl_while_up call grpc.AgentService SetGuestDateTime --json "$w/dt.json" >/dev/null ||
		return 1
	# The agent logs right after settimeofday: its line carries the new clock. (The console
	# log may show it a moment after the answer.)
	wait_for "'guest clock set' line with a 2030 timestamp on the console" "$WAIT_S" \
		guest_clock_logged || { echo "$wait_why"; return 1; }
	echo '{"data": "cGlkb25lIHNlZWQgYnl0ZXMgZm9yIHRoZSBndWVzdA=="}' >"$w/seed.json"
	pd_ctl_while_up call grpc.AgentService ReseedRandomDev --json "$w/seed.json" >/dev/null ||
		return 1
	# as many as the VM booted with (PD_SMP "1,maxcpus=2": one; guest.sh plugs the second)
	ncpu=${PD_SMP:-2}
	ncpu=${ncpu%%,*}
	echo "{\"nb_cpus\": $ncpu, \"cpu_only\": true}" >"$w/cpus.json"
	pd_ctl_while_up call grpc.AgentService OnlineCPUMem --json "$w/cpus.json" >/dev/null || return 1
	echo '{"mem_block_size": true, "mem_hotplug_probe": true}' >"$w/gd.json"
	out=$(pd_ctl_while_up call grpc.AgentService GetGuestDetails --json "$w/gd.json") || return 1
	echo "$out" | tr -d ' \n' | grep -q '"init_daemon":true' ||
		{ echo "GetGuestDetails without init_daemon true: $out"; return 1; }
	echo "clock set to 2030-01-01 (bad usec refused), reseeded, $ncpu CPUs online, init_daemon true"
}

check_destroy_sandbox() {
	pd_ctl_while_up destroy-sandbox
}

# The guest powers itself off after DestroySandbox: QEMU (-no-reboot) exits by itself, status 0.
check_poweroff() {
	local t_cmd
	t_cmd=$(pd_now_ms)
	pd_qemu_wait "$POWEROFF_WAIT_S"
	if [ "$PD_QEMU_STATUS" = 0 ] && pd_console_has_panic; then
		echo "qemu exited 0, but by the panic reboot (panic=1 + -no-reboot), not a power-off"
		return 1
	fi
	case $PD_QEMU_STATUS in
	0) echo "qemu exited 0, $((PD_T_EXIT - t_cmd)) ms after destroy-sandbox returned" ;;
	124) echo "qemu still running ${POWEROFF_WAIT_S} s after destroy-sandbox"; return 1 ;;
	*) echo "qemu exited with status $PD_QEMU_STATUS"; return 1 ;;
	esac
}

check_console_clean() { pd_console_clean; }

# NAME KIND FUNCTION — KIND: fatal (the rest cannot run without it), always, or -
CHECKS=(
	"artifacts fatal check_artifacts"
	"boot+health fatal check_boot_health"
	"version - check_version"
	"reconnects - check_reconnects"
	"create-sandbox - check_create_sandbox"
	"container-run - check_container_run"
	"guest-hooks - check_guest_hooks"
	"container-exec - check_container_exec"
	"container-userns - check_container_userns"
	"sandbox-pidns - check_sandbox_pidns"
	"guest-rpcs - check_guest_rpcs"
	"destroy-sandbox - check_destroy_sandbox"
	"poweroff - check_poweroff"
	"console always check_console_clean"
)

# Hot-plugged disks (storage.sh): with the pidone kernel (PD_KERNEL set), unless PD_STORAGE=0.
if [ -n "${PD_KERNEL:-}" ] && [ "${PD_STORAGE:-1}" = 1 ]; then
	PD_QEMU_EXTRA="${PD_QEMU_EXTRA:-} $(pd_storage_qemu_args)"
	EXTRA_APPEND="${EXTRA_APPEND:-} $(pd_storage_append)"
	i=0
	while [ "${CHECKS[$i]%% *}" != container-exec ]; do i=$((i + 1)); done
	CHECKS=("${CHECKS[@]:0:$((i + 1))}" "storage-blk - check_storage_blk"
		"storage-scsi-xfs - check_storage_scsi_xfs" "storage-device - check_storage_device"
		"storage-swap - check_storage_swap" "storage-swapfile - check_storage_swapfile"
		"storage-timeout - check_storage_timeout"
		"${CHECKS[@]:$((i + 1))}")
fi

if [ "${PD_DEBUG_CONSOLE:-0}" = 1 ]; then
	CHECKS=("${CHECKS[@]:0:2}" "debug-console - check_debug_console" "${CHECKS[@]:2}")
fi

guest_setup

for c in "${CHECKS[@]}"; do
	read -r name kind fn <<<"$c"
	pd_check "$name" "$kind" "$fn"
done

echo "initrd: $(stat -c %s "$INITRD" 2>/dev/null || echo ?) bytes;" \
	"QEMU start to first Health.Check: ${PD_T_HEALTH:-?} ms"
if [ "$PD_FAILED" -gt 0 ]; then
	pd_dump_console 200
fi
echo "qemu: $PD_PASSED passed, $PD_FAILED failed"
[ "$PD_FAILED" = 0 ]
