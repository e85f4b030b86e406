#!/bin/bash
# qemu-tests/vsock.sh BUILD_DIR MODE — the agent's vsock side, exercised inside the guest.
#
# The host must never dial AF_VSOCK (there is no vhost-vsock here, and CID 2 is the host's
# own hypervisor), and QEMU gets no vsock device. The test kernel's loopback transport
# (kernel-config/build.sh --test: CONFIG_VSOCKETS_LOOPBACK, which the product kernel lacks)
# lets a client in the guest reach the guest's own listeners, as CID 1, so the clients run in
# the guest: build/pidonectl-static and build/sockchat-static, which the debug initrd carries
# as /bin/pidonectl and /bin/sockchat, and which the container rootfs get too.
#
# The agent's vsock ports answer only the host (CID 2; agent/ttrpc/peer.c). A guest-local
# client (CID 1) is answered only with agent.unsafe_vsock_loopback_peers, the test-only
# option of the ttrpc and vport modes; refuse and noloop are the product settings.
#
# MODE ttrpc (test kernel, unsafe option): agent.server_addr=vsock://-1:1024,
#   agent.debug_console (a shell on the serial console) and agent.log_vport=1025, and no
#   virtio-serial device (PD_NO_AGENT_PORT=1). Everything the host does goes through the
#   console shell (typed with build/itest/sockchat, as run.sh's debug-console check does):
#   pidonectl over vsock checks health, creates the sandbox, runs a container and destroys the
#   sandbox (the VM powers off); sockchat on the log port sees the agent's log lines.
# MODES vport, refuse, noloop: the host drives the agent over virtio-serial, which also
#   listens on vsock://-1:1024 (agent.server_addr=serial://agent.channel.0,vsock://-1:1024),
#   with the debug shell on vsock port 1026 (then none on the console) and the log on 1025.
#   The same containers dial the three ports from inside the guest: pidonectl check on
#   vsock://1:1024, sockchat on the log port and on the debug shell's port; and pidonectl on
#   vsock://2:1024, the host's CID, which never reaches the agent (ENODEV: the built-in
#   virtio transport takes CID 2 and has no device).
#     vport  (test kernel, unsafe option): each gets its answer (SERVING, a log line, the shell).
#     refuse (test kernel, product agent): each is closed without a byte (pidonectl: connection
#            closed by the agent; sockchat exit 3), the agent logs a refusal for each port,
#            and the host's connection works before and after.
#     noloop (product kernel, product agent): connect() itself fails (ENODEV: no transport
#            reaches CID 1 or 2 from inside the guest); the host's connection works.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu-tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=qemu-tests/containers.sh
. "$HERE/containers.sh"

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR ttrpc|vport|refuse|noloop" >&2; exit 2; }
MODE=$2
pd_vm_setup "$1" || exit 1
INITRD=${PD_INITRD:-$PD_BUILD/pidone-initrd-debug.img}
TTRPC_VPORT=1024
VSOCK_TTRPC=vsock://1:$TTRPC_VPORT
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

# The kernel's config (kernel-config/build.sh keeps it next to the vmlinux) must match the
# mode: the vsock loopback transport in the test kernel, not in the product kernel.
check_kernel_variant() {
	local config
	config=$(dirname "$(pd_kernel)")/config
	[ -f "$config" ] ||
		{ echo "no $config: PD_KERNEL must be a kernel-config/build.sh vmlinux"; return 1; }
	if grep -qx 'CONFIG_VSOCKETS_LOOPBACK=[ym]' "$config"; then
		[ "$KERNEL_VARIANT" = test ] ||
			{ echo "$MODE needs the product kernel; $config has the vsock loopback"; return 1; }
	else
		[ "$KERNEL_VARIANT" = product ] || {
			echo "$MODE needs the test kernel (build.sh --test); $config has no vsock loopback"
			return 1
		}
	fi
	echo "$KERNEL_VARIANT kernel: $config"
}

check_artifacts() {
	local f
	for f in "$INITRD" "$PD_BUILD/pidonectl" "$PD_BUILD/itest/sockchat" \
		"$PD_BUILD/sockchat-static" "$PD_BUILD/pidonectl-static" "$PD_BUILD/pdtest" \
		"$(pd_kernel)"; do
		[ -f "$f" ] || { echo "missing $f"; return 1; }
	done
	check_kernel_variant || return 1
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

# ---- MODES vport, refuse, noloop ---------------------------------------------------------

# The agent announced both addresses, and the unsafe option exactly when the mode sets it.
check_boot_health() {
	local out
	pd_qemu_start "$INITRD" || return 1
	out=$(pd_ctl_while_up --wait "$BOOT_WAIT_S" check) || { echo "$out"; return 1; }
	echo "$out" | grep -q SERVING || { echo "no SERVING in: $out"; return 1; }
	pd_console_text | grep -q "msg=\"pidone serving\".*addr=$SERVER_ADDRS " ||
		{ echo "no 'pidone serving ... addr=$SERVER_ADDRS' on the console"; return 1; }
	check_unsafe_announced || return 1
	echo "SERVING on virtio-serial; also listening on vsock://-1:1024"
}

check_unsafe_announced() {
	if [ "$UNSAFE" = 1 ]; then
		pd_console_text | grep -q 'msg="UNSAFE: the vsock ports accept guest-local peers' ||
			{ echo "no UNSAFE warning on the console"; return 1; }
		echo "the agent warned: UNSAFE (test-only option on)"
	elif pd_console_text | grep -q 'UNSAFE\|unsafe_vsock_loopback_peers=true'; then
		echo "the unsafe option is on in the product setting"
		return 1
	fi
}

check_create_sandbox() {
	pd_ctl_while_up create-sandbox --id vp-sb --hostname vport-box --share-9p "$PD_SHARE_TAG"
}

# pd_dial ID ARGS...: a container of the share whose program is ARGS (pidonectl or sockchat,
# both static, in its /bin), run by the host over virtio-serial. Sets DIAL_OUT (its stdout
# and stderr, and pidonectl's own errors) and DIAL_ST (its exit status).
pd_dial() {
	local id=$1
	shift
	pd_share_rootfs "$id"
	cp "$PD_BUILD/sockchat-static" "$PD_SHARE/$id/rootfs/bin/sockchat"
	cp "$PD_BUILD/pidonectl-static" "$PD_SHARE/$id/rootfs/bin/pidonectl"
	pd_bundle "$PD_WORK/bundle-$id" "$@" || return 1
	DIAL_OUT=$(pd_ctl_while_up run --id "$id" --rootfs-guest-path \
		"$PD_GUEST_SHARED/$id/rootfs" "$PD_WORK/bundle-$id" 2>&1)
	DIAL_ST=$?
	DIAL_OUT=${DIAL_OUT//$'\n'/ | }
	pd_qemu_running || { echo "qemu exited: $DIAL_OUT"; return 1; }
}

# The expected end of a dial, by mode. refused: the connection was made (so it was the agent
# that ended it) and closed without a byte; nodev: connect() failed for want of a transport.
# pidonectl exits 3 (transport) in both, with "connection closed by the agent" or a reset /
# broken pipe in the first case and "No such device" in the second; sockchat exits 3 (closed
# by the peer, after 0 bytes) or 4 (connect failed).
expect_pidonectl() {
	case $EXPECT in
	answer)
		[ "$DIAL_ST" = 0 ] && [[ $DIAL_OUT == *SERVING* ]] && [[ $DIAL_OUT != *NOT_SERVING* ]]
		;;
	refused)
		[ "$DIAL_ST" = 3 ] && [[ $DIAL_OUT != *SERVING* ]] &&
			[[ $DIAL_OUT =~ "connection closed by the agent"|"reset by peer"|"Broken pipe" ]]
		;;
	nodev)
		[ "$DIAL_ST" = 3 ] && [[ $DIAL_OUT != *SERVING* ]] && [[ $DIAL_OUT == *"No such device"* ]]
		;;
	esac
}

# expect_sockchat WANT: WANT is what the port says when it answers.
expect_sockchat() {
	case $EXPECT in
	answer) [ "$DIAL_ST" = 0 ] && [[ $DIAL_OUT == *"$1"* ]] ;;
	refused)
		[ "$DIAL_ST" = 3 ] && [[ $DIAL_OUT == *"closed by the peer"*"after 0 bytes"* ]] &&
			[[ $DIAL_OUT != *"$1"* ]]
		;;
	nodev) [ "$DIAL_ST" = 4 ] && [[ $DIAL_OUT == *"No such device"* ]] ;;
	esac
}

# A container calls Health.Check on the agent's vsock port at CID 1 (the loopback), then at
# the host's CID 2: that one never reaches the agent in any mode — the virtio transport is
# built in and takes CID 2 even with no device, and fails with ENODEV.
check_dial_ttrpc() {
	local cid want
	for cid in 1 2; do
		want=$EXPECT
		[ "$cid" = 1 ] || want=nodev
		pd_dial "vp-ttrpc$cid" pidonectl --addr "vsock://$cid:$TTRPC_VPORT" check || return 1
		EXPECT=$want expect_pidonectl || {
			echo "pidonectl check on vsock://$cid:$TTRPC_VPORT from a container, want $want:" \
				"exit $DIAL_ST: $DIAL_OUT"
			return 1
		}
		echo "vsock://$cid:$TTRPC_VPORT: $want (exit $DIAL_ST: ${DIAL_OUT:0:120})"
	done
}

# A container reads the log port: a reader that is let in gets "log reader attached" (no
# quotes in container arguments: pd_bundle writes them into JSON as they are).
check_dial_log() {
	pd_dial vp-log sockchat "vsock://1:$LOG_VPORT" '' 'log reader attached' 20 || return 1
	expect_sockchat 'log reader attached' || {
		echo "sockchat on the log port from a container, want $EXPECT: exit $DIAL_ST: $DIAL_OUT"
		return 1
	}
	echo "vsock://1:$LOG_VPORT: $EXPECT (exit $DIAL_ST: ${DIAL_OUT:0:120})"
}

# A container types to the debug shell's port.
check_dial_console() {
	# shellcheck disable=SC2016 # $((40+2)) is for the shell at the other end
	pd_dial vp-chat sockchat "vsock://1:$CONSOLE_VPORT" 'echo vport-$((40+2))\\n' vport-42 20 ||
		return 1
	expect_sockchat vport-42 || {
		echo "sockchat on the debug console port from a container, want $EXPECT:" \
			"exit $DIAL_ST: $DIAL_OUT"
		return 1
	}
	echo "vsock://1:$CONSOLE_VPORT: $EXPECT (exit $DIAL_ST: ${DIAL_OUT:0:120})"
}

# What the agent logged about those connections: in refuse, a refusal naming each port and
# CID 1, and no shell, no log reader; otherwise no refusal at all (answer: the shell and the
# reader did start; nodev: nothing reached the agent).
check_agent_log() {
	local text port refused='msg="connection refused: only the host may use this vsock port"'
	text=$(pd_console_text)
	if [ "$EXPECT" = refused ]; then
		for port in "$TTRPC_VPORT" "$LOG_VPORT" "$CONSOLE_VPORT"; do
			echo "$text" | grep -qF "$refused port=$port peer_cid=1 " ||
				{ echo "no refusal of peer_cid=1 logged for port $port"; return 1; }
		done
		! echo "$text" | grep -q 'msg="debug console".*on=vsock' ||
			{ echo "a refused peer got a shell"; return 1; }
		! echo "$text" | grep -q 'msg="log reader attached"' ||
			{ echo "a refused peer got the log"; return 1; }
		echo "refusals of peer_cid=1 logged for ports $TTRPC_VPORT $LOG_VPORT" \
			"$CONSOLE_VPORT; no shell, no log reader"
		return 0
	fi
	! echo "$text" | grep -q 'connection refused: only the host' ||
		{ echo "a refusal was logged in mode $MODE"; return 1; }
	if [ "$EXPECT" = answer ]; then
		echo "$text" | grep -q 'msg="debug console".*on=vsock' ||
			{ echo "no 'debug console ... on=vsock' line"; return 1; }
		echo "$text" | grep -q 'msg="log reader attached"' ||
			{ echo "no 'log reader attached' line"; return 1; }
	fi
	echo "no refusal logged ($EXPECT)"
}

# The host's connection works after the attempts.
check_host_after() {
	local out
	out=$(pd_ctl_while_up check) || { echo "$out"; return 1; }
	echo "$out" | grep -q SERVING || { echo "no SERVING in: $out"; return 1; }
	echo "the host's Health.Check over virtio-serial: SERVING"
}

check_destroy_poweroff() {
	pd_ctl_while_up destroy-sandbox || return 1
	pd_qemu_wait "$POWEROFF_WAIT_S"
	[ "$PD_QEMU_STATUS" = 0 ] || { echo "qemu exit status $PD_QEMU_STATUS"; return 1; }
	! pd_console_has_panic || { echo "qemu exited 0 by the panic reboot"; return 1; }
	echo "qemu exited 0"
}

UNSAFE_OPT=agent.unsafe_vsock_loopback_peers
SERVER_ADDRS=serial://$PD_SERIAL_NAME,vsock://-1:$TTRPC_VPORT
case $MODE in
ttrpc)
	KERNEL_VARIANT="test"
	UNSAFE=1
	PD_NO_AGENT_PORT=1
	EXTRA_APPEND="agent.server_addr=vsock://-1:1024 agent.debug_console \
agent.log_vport=$LOG_VPORT $UNSAFE_OPT ${EXTRA_APPEND:-}"
	CHECKS=(
		"artifacts fatal check_artifacts"
		"vsock:boot+console-shell fatal check_boot_shell"
		"vsock:no-vsock-device - check_no_vsock_device"
		"vsock:unsafe-option - check_unsafe_announced"
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
vport | refuse | noloop)
	case $MODE in
	vport) KERNEL_VARIANT="test" UNSAFE=1 EXPECT=answer ;;
	refuse) KERNEL_VARIANT="test" UNSAFE=0 EXPECT=refused ;;
	noloop) KERNEL_VARIANT=product UNSAFE=0 EXPECT=nodev ;;
	esac
	EXTRA_APPEND="agent.server_addr=$SERVER_ADDRS agent.debug_console \
agent.debug_console_vport=$CONSOLE_VPORT agent.log_vport=$LOG_VPORT ${EXTRA_APPEND:-}"
	[ "$UNSAFE" = 0 ] || EXTRA_APPEND="$EXTRA_APPEND $UNSAFE_OPT"
	CHECKS=(
		"artifacts fatal check_artifacts"
		"$MODE:boot+health fatal check_boot_health"
		"$MODE:create-sandbox fatal check_create_sandbox"
		"$MODE:container-dials-ttrpc - check_dial_ttrpc"
		"$MODE:container-dials-log - check_dial_log"
		"$MODE:container-dials-console - check_dial_console"
		"$MODE:agent-log - check_agent_log"
		"$MODE:host-still-served - check_host_after"
		"$MODE:destroy+poweroff - check_destroy_poweroff"
		"console always pd_console_clean"
	)
	;;
*)
	echo "usage: $0 BUILD_DIR ttrpc|vport|refuse|noloop" >&2
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
