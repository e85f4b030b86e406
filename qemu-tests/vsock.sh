#!/bin/bash
# qemu-tests/vsock.sh BUILD_DIR MODE — the agent's vsock side, exercised inside the guest.
#
# The host must never dial AF_VSOCK (there is no vhost-vsock here, and CID 2 is the host's
# own hypervisor), and QEMU gets no vsock device. The guest kernel's loopback transport
# (CONFIG_VSOCKETS_LOOPBACK) lets a client in the guest reach the guest's own listeners at
# CID 1, so the clients run in the guest: build/pidonectl-static and build/sockchat-static,
# which the debug initrd carries as /bin/pidonectl and /bin/sockchat.
#
# MODE ttrpc: agent.server_addr=vsock://-1:1024, agent.debug_console (a shell on the serial
#   console) and agent.log_vport=1025, and no virtio-serial device (PD_NO_AGENT_PORT=1).
#   Everything the host does goes through the console shell (typed with build/itest/sockchat, as run.sh's debug-console check does): pidonectl
#   over vsock checks health, creates the sandbox, runs a container and destroys the sandbox
#   (the VM powers off); sockchat on the log port sees the agent's log lines.
# MODE vport: agent.debug_console_vport=1026 — the debug shell is on vsock, so the console
#   has none. The agent serves on virtio-serial as usual; the host runs a container whose
#   program is sockchat, dialling vsock://1:1026 and getting an answer from the shell.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu-tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=qemu-tests/containers.sh
. "$HERE/containers.sh"

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR ttrpc|vport" >&2; exit 2; }
MODE=$2
pd_vm_setup "$1" || exit 1
INITRD=${PD_INITRD:-$PD_BUILD/pidone-initrd-debug.img}
VSOCK_TTRPC=vsock://1:1024
LOG_VPORT=1025
CONSOLE_VPORT=1026
BOOT_WAIT_S=60
POWEROFF_WAIT_S=30

# pd_shell CMD SECONDS: type CMD into the console shell; print what the console showed until
# CMD finished, and return CMD's exit status (2xx: no answer in time). The end marker is
# computed by the shell, so the echo of the typed line never matches it.
pd_shell() {
	local out rc mark
	# Unique per call (callers run in $(...) subshells: no counter survives them).
	mark=$(($(date +%s%N) % 1000000000 + 1000000000))
	out=$("$PD_BUILD/itest/sockchat" "$PD_WORK/console.sock" \
		"$1; echo \"rc=\$? end-\$(($mark-1+1))\"\\n" "end-$mark" "$2")
	rc=$?
	echo "${out//$'\r'/}" # the console's CR LF line ends
	[ $rc = 0 ] || { echo "(no end marker within $2 s)"; return 200; }
	rc=$(echo "$out" | sed -n "s/.*rc=\([0-9]*\) end-$mark.*/\1/p" | tail -n 1)
	return "${rc:-201}"
}

# pd_vctl ARGS...: pidonectl in the guest, over vsock to the agent.
pd_vctl() {
	pd_shell "pidonectl --addr $VSOCK_TTRPC $*" "${PD_VCTL_WAIT_S:-40}"
}

check_artifacts() {
	local f
	for f in "$INITRD" "$PD_BUILD/pidonectl" "$PD_BUILD/itest/sockchat" \
		"$PD_BUILD/sockchat-static" "$PD_BUILD/pdtest" "$(pd_kernel)"; do
		[ -f "$f" ] || { echo "missing $f"; return 1; }
	done
	# No vsock device of any kind for QEMU: the guest must do with its loopback transport.
	case " ${PD_QEMU_EXTRA:-} " in
	*vsock*) echo "PD_QEMU_EXTRA asks for a vsock device: $PD_QEMU_EXTRA"; return 1 ;;
	esac
	echo "initrd $(stat -c %s "$INITRD") bytes, kernel $(pd_kernel)"
}

# ---- MODE ttrpc ---------------------------------------------------------------------------

# Typing before the shell reads the console may be lost: ask again every few seconds.
check_boot_shell() {
	local out deadline
	pd_qemu_start "$INITRD" || return 1
	deadline=$(($(date +%s) + BOOT_WAIT_S))
	while [ ! -S "$PD_WORK/console.sock" ] && pd_qemu_running; do sleep 0.1; done
	until out=$(pd_shell 'echo shell-$((40+2))' 3) && echo "$out" | grep -q shell-42; do
		pd_qemu_running || { echo "qemu exited during boot"; return 1; }
		[ "$(date +%s)" -lt "$deadline" ] ||
			{ echo "no answer from the console shell in $BOOT_WAIT_S s: $out"; return 1; }
		sleep 1
	done
	echo "the console shell answers after $(($(pd_now_ms) - PD_T0)) ms"
}

# The guest has no virtio vsock device (virtio device id 0x0013), so whatever vsock does
# below runs on the loopback transport alone; it has no virtio-serial port either
# (PD_NO_AGENT_PORT=1), and the agent serves on vsock.
check_no_vsock_device() {
	local out
	out=$(pd_shell 'grep -l -e 0x0013 -e 0x0003 /sys/bus/virtio/devices/*/device; echo devices-$((6*7))' 20)
	echo "$out" | grep -q devices-42 || { echo "no answer: $out"; return 1; }
	if echo "$out" | grep -q '^/sys/bus/virtio/devices/.*/device'; then
		echo "a virtio vsock (0x0013) or console (0x0003) device is present: $out"
		return 1
	fi
	pd_console_text | grep -q 'msg="pidone serving".*addr=vsock://-1:1024' ||
		{ echo "no 'pidone serving ... addr=vsock://-1:1024' on the console"; return 1; }
	echo "no virtio vsock or serial device; the agent serves on vsock://-1:1024"
}

# pd_log_reader FILE WANT: a reader of agent.log_vport in the background of the console
# shell, until WANT (no single quotes) reaches it; its output and exit status go to FILE.
pd_log_reader() {
	local out cmd
	# One line, no tabs: a tab typed to the shell is a completion request.
	cmd="(sockchat vsock://1:$LOG_VPORT '' '$2' 60; echo reader-exit=\$?)"
	out=$(pd_shell "$cmd >$1 2>&1 & sleep 1; kill -0 \$!" 20) ||
		{ echo "log reader not running: $out"; return 1; }
}

# pd_log_reader_saw FILE LINE...: the reader of FILE ended on its WANT and saw each LINE.
pd_log_reader_saw() {
	local out line
	out=$(pd_shell "wait; cat $1" 70) || { echo "$out"; return 1; }
	shift
	echo "$out" | grep -q 'reader-exit=0' ||
		{ echo "the log reader did not see its line: $out"; return 1; }
	for line in "$@"; do
		echo "$out" | grep -qF "$line" || { echo "no '$line' on the log port: $out"; return 1; }
	done
}

# The first reader waits for the "sandbox created" line of the create-sandbox below.
check_log_reader_start() {
	pd_log_reader /tmp/vsock-log1.out 'msg="sandbox created"' || return 1
	echo "sockchat reads vsock://1:$LOG_VPORT in the guest"
}

check_vsock_health() {
	local out
	out=$(PD_VCTL_WAIT_S=60 pd_vctl --wait 40 check) || { echo "$out"; return 1; }
	echo "$out" | grep -q SERVING || { echo "no SERVING in: $out"; return 1; }
	out=$(pd_vctl version) || { echo "$out"; return 1; }
	echo "$out" | grep -q 'agent_version=' || { echo "no agent_version in: $out"; return 1; }
	echo "pidonectl --addr $VSOCK_TTRPC check: SERVING; version answered"
}

check_vsock_create_sandbox() {
	local out
	out=$(pd_vctl create-sandbox --id vs-sb --hostname vsock-box --share-9p "$PD_SHARE_TAG") ||
		{ echo "$out"; return 1; }
	echo "create-sandbox over vsock, 9p share mounted"
}

# A container from the share, created, started, read and waited for over vsock.
check_vsock_container_run() {
	local out
	pd_share_rootfs vs-echo
	pd_bundle "$PD_SHARE/bundle-vs-echo" echo hello through vsock || return 1
	out=$(pd_vctl run --id vs-echo --rootfs-guest-path "$PD_GUEST_SHARED/vs-echo/rootfs" \
		"$PD_GUEST_SHARED/bundle-vs-echo") || { echo "run: $out"; return 1; }
	echo "$out" | grep -qx 'hello through vsock' ||
		{ echo "no 'hello through vsock' line in: $out"; return 1; }
	pd_share_rootfs vs-exit
	pd_bundle "$PD_SHARE/bundle-vs-exit" exit 5 || return 1
	pd_vctl run --id vs-exit --rootfs-guest-path "$PD_GUEST_SHARED/vs-exit/rootfs" \
		"$PD_GUEST_SHARED/bundle-vs-exit" >"$PD_WORK/vs-exit.out"
	out=$?
	[ "$out" = 5 ] || { echo "exit 5 container: status $out"; cat "$PD_WORK/vs-exit.out"; return 1; }
	echo "run over vsock: 'hello through vsock', exit 0; exit 5 came back as 5"
}

# The first reader got its lines and hung up; a second one attaches for the container run.
check_log_vport() {
	pd_log_reader_saw /tmp/vsock-log1.out 'msg="log reader attached"' \
		'msg="sandbox created" id=vs-sb' || return 1
	pd_log_reader /tmp/vsock-log2.out 'msg="container removed" cid=vs-echo' || return 1
	echo "log port: 'log reader attached' and 'sandbox created id=vs-sb' lines"
}

# After a reader went away, the next one gets the lines (and the agent did not mind).
check_log_vport_again() {
	pd_log_reader_saw /tmp/vsock-log2.out 'msg="log reader attached"' \
		'msg="container created" cid=vs-echo' 'msg="container removed" cid=vs-echo' ||
		return 1
	echo "a second log reader: the vs-echo container's created/removed lines"
}

# The shutdown that follows DestroySandbox SIGTERMs every guest process, the in-guest
# pidonectl too: it may be killed (143) before it reads the answer. The power-off is the proof.
check_vsock_destroy_poweroff() {
	local out st
	out=$(pd_vctl destroy-sandbox)
	st=$?
	[ $st = 0 ] || [ $st = 143 ] || { echo "destroy-sandbox: status $st: $out"; return 1; }
	pd_console_text | grep -q 'msg="stopping" why=DestroySandbox' ||
		{ echo "no 'stopping why=DestroySandbox' on the console: $out"; return 1; }
	pd_qemu_wait "$POWEROFF_WAIT_S"
	[ "$PD_QEMU_STATUS" = 0 ] || { echo "qemu exit status $PD_QEMU_STATUS"; return 1; }
	! pd_console_has_panic || { echo "qemu exited 0 by the panic reboot"; return 1; }
	echo "destroy-sandbox over vsock (pidonectl status $st); qemu exited 0"
}

# ---- MODE vport ---------------------------------------------------------------------------

check_boot_health() {
	local out
	pd_qemu_start "$INITRD" || return 1
	out=$(pd_ctl_while_up --wait "$BOOT_WAIT_S" check) || { echo "$out"; return 1; }
	echo "$out" | grep -q SERVING || { echo "no SERVING in: $out"; return 1; }
	echo "SERVING on virtio-serial"
}

check_create_sandbox() {
	pd_ctl_while_up create-sandbox --id vp-sb --hostname vport-box --share-9p "$PD_SHARE_TAG"
}

# A container's program dials the debug console's vsock port and types to the shell there.
check_console_vport() {
	local out st
	pd_share_rootfs vp-chat
	cp "$PD_BUILD/sockchat-static" "$PD_SHARE/vp-chat/rootfs/bin/sockchat"
	pd_bundle "$PD_WORK/bundle-vp-chat" sockchat "vsock://1:$CONSOLE_VPORT" \
		'echo vport-$((40+2))\\n' vport-42 20 || return 1
	out=$(pd_ctl_while_up run --id vp-chat --rootfs-guest-path \
		"$PD_GUEST_SHARED/vp-chat/rootfs" "$PD_WORK/bundle-vp-chat")
	st=$?
	[ "$st" = 0 ] || { echo "sockchat in the container: exit $st; output: $out"; return 1; }
	echo "$out" | grep -q vport-42 || { echo "no vport-42 in: $out"; return 1; }
	pd_console_text | grep -q 'msg="debug console".*on=vsock' ||
		{ echo "no 'debug console ... on=vsock' line on the console"; return 1; }
	echo "the shell on vsock port $CONSOLE_VPORT answered vport-42"
}

check_destroy_poweroff() {
	pd_ctl_while_up destroy-sandbox || return 1
	pd_qemu_wait "$POWEROFF_WAIT_S"
	[ "$PD_QEMU_STATUS" = 0 ] || { echo "qemu exit status $PD_QEMU_STATUS"; return 1; }
	! pd_console_has_panic || { echo "qemu exited 0 by the panic reboot"; return 1; }
	echo "qemu exited 0"
}

case $MODE in
ttrpc)
	PD_NO_AGENT_PORT=1
	EXTRA_APPEND="agent.server_addr=vsock://-1:1024 agent.debug_console \
agent.log_vport=$LOG_VPORT ${EXTRA_APPEND:-}"
	CHECKS=(
		"artifacts fatal check_artifacts"
		"vsock:boot+console-shell fatal check_boot_shell"
		"vsock:no-vsock-device - check_no_vsock_device"
		"vsock:log-reader-start - check_log_reader_start"
		"vsock:health fatal check_vsock_health"
		"vsock:create-sandbox - check_vsock_create_sandbox"
		"vsock:log-vport - check_log_vport"
		"vsock:container-run - check_vsock_container_run"
		"vsock:log-vport-again - check_log_vport_again"
		"vsock:destroy+poweroff - check_vsock_destroy_poweroff"
		"console always pd_console_clean"
	)
	;;
vport)
	EXTRA_APPEND="agent.debug_console agent.debug_console_vport=$CONSOLE_VPORT \
${EXTRA_APPEND:-}"
	CHECKS=(
		"artifacts fatal check_artifacts"
		"vport:boot+health fatal check_boot_health"
		"vport:create-sandbox - check_create_sandbox"
		"vport:debug-console-vport - check_console_vport"
		"vport:destroy+poweroff - check_destroy_poweroff"
		"console always pd_console_clean"
	)
	;;
*)
	echo "usage: $0 BUILD_DIR ttrpc|vport" >&2
	exit 2
	;;
esac

for c in "${CHECKS[@]}"; do
	read -r name kind fn <<<"$c"
	pd_check "$name" "$kind" "$fn"
done

[ "$PD_FAILED" = 0 ] || pd_dump_console 200
echo "qemu vsock ($MODE): $PD_PASSED passed, $PD_FAILED failed"
[ "$PD_FAILED" = 0 ]
