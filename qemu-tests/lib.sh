# shellcheck shell=bash
# qemu-tests/lib.sh — shared by the QEMU boot test (run.sh) and the demo (demo.sh). Source it.
#
# One VM per script: pd_vm_setup makes a work dir (socket, console log, 9p share) and a trap
# that always kills QEMU and removes the work dir; pd_qemu_start boots an initrd; pd_ctl talks
# to the agent over the virtio-serial socket; pd_qemu_wait reaps QEMU with a timeout.
#
# Environment:
#   PD_KERNEL      kernel image (default: the newest /boot/vmlinuz-*)
#   PD_KERNEL_PVH=1  boot the uncompressed vmlinux extracted from it (faster under TCG)
#   PD_AGENT_LOG   agent.log level on the kernel command line (e.g. debug); unset = default
#   EXTRA_APPEND   more kernel command line
#   PD_QEMU_EXTRA  more QEMU arguments (word-split)
#   PD_MEM PD_SMP  guest memory (512M) and CPUs (2)
#   PD_NO_AGENT_PORT=1  no virtio-serial agent port (and no serial server_addr): the agent
#                  must be reached another way (qemu-tests/vsock.sh)
#   PD_KEEP=1      keep the work dir (console log, socket) after the run

PD_SERIAL_NAME=agent.channel.0
PD_SHARE_TAG=kataShared

# wait_for DESC SECONDS CMD..., gone PID, WAIT_S: waits for conditions with a generous bound
# (a TCG guest on a loaded host is slow; a check waits for what it needs, never a duration).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"

# Milliseconds since the epoch.
pd_now_ms() { date +%s%3N; }

pd_log() { echo "[$(date +%T)] $*" >&2; }

pd_kernel() {
	local image
	image=${PD_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
	if [ "${PD_KERNEL_PVH:-0}" = 1 ] && [ -n "$image" ]; then
		pd_kernel_pvh "$image"
		return
	fi
	echo "$image"
}

# pd_kernel_pvh BZIMAGE: the uncompressed ELF vmlinux inside an XZ bzImage, extracted once into
# BUILD/qemu-run/ (cached by name). QEMU boots it through its PVH entry, skipping the real-mode
# setup and the XZ decompression that cost ~2–5 s under TCG (Debian builds CONFIG_PVH=y).
pd_kernel_pvh() {
	local image=$1 out off
	out=$(basename "$image")
	out=${PD_BUILD:-/tmp}/qemu-run/vmlinux-${out#vmlinuz-}
	if [ ! -s "$out" ]; then
		mkdir -p "$(dirname "$out")"
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$image" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || { echo "$image"; return; } # not XZ: boot it as it is
		if ! tail -c +$((off + 1)) "$image" | xz -dc --single-stream >"$out.$$" 2>/dev/null; then
			rm -f "$out.$$"
			echo "$image"
			return
		fi
		mv "$out.$$" "$out"
	fi
	echo "$out"
}

# pd_vm_setup BUILD_DIR: set PD_BUILD PD_WORK PD_SOCK PD_LOG PD_QEMU_LOG PD_SHARE, install the
# cleanup trap. The work dir is under BUILD/qemu-run/, or /tmp when that path is too long for
# a unix socket (108 bytes).
pd_vm_setup() {
	PD_BUILD=$(cd "$1" && pwd) || return 1
	mkdir -p "$PD_BUILD/qemu-run"
	PD_WORK=$(mktemp -d "$PD_BUILD/qemu-run/vm.XXXXXX") || return 1
	if [ ${#PD_WORK} -gt 80 ]; then
		rmdir "$PD_WORK"
		PD_WORK=$(mktemp -d /tmp/pidone-vm.XXXXXX) || return 1
	fi
	PD_SOCK=$PD_WORK/agent.sock
	PD_LOG=$PD_WORK/console.log
	PD_QEMU_LOG=$PD_WORK/qemu.log
	PD_SHARE=$PD_WORK/share
	PD_QEMU_PID=
	mkdir -p "$PD_SHARE"
	: >"$PD_LOG"
	trap pd_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Always run on exit: no QEMU left behind, no temp dirs left behind.
pd_cleanup() {
	local rc=$?
	if [ -n "${PD_QEMU_PID:-}" ] && kill -0 "$PD_QEMU_PID" 2>/dev/null; then
		kill -9 "$PD_QEMU_PID" 2>/dev/null
		wait "$PD_QEMU_PID" 2>/dev/null
	fi
	PD_QEMU_PID=
	if [ -n "${PD_WORK:-}" ] && [ -d "$PD_WORK" ]; then
		if [ "${PD_KEEP:-0}" = 1 ]; then
			echo "kept $PD_WORK" >&2
		else
			rm -rf "$PD_WORK"
		fi
	fi
	return $rc
}

pd_append_line() {
	local line="console=ttyS0 quiet panic=1"
	[ "${PD_NO_AGENT_PORT:-0}" = 1 ] || line="$line agent.server_addr=serial://$PD_SERIAL_NAME"
	[ -z "${PD_AGENT_LOG:-}" ] || line="$line agent.log=$PD_AGENT_LOG"
	echo "$line ${EXTRA_APPEND:-}"
}

# pd_qemu_start INITRD: boot in the background. Sets PD_QEMU_PID and PD_T0 (ms).
pd_qemu_start() {
	local initrd=$1 kernel port
	kernel=$(pd_kernel)
	port=(-device virtio-serial-pci
		-chardev "socket,path=$PD_SOCK,server=on,wait=off,id=ch0"
		-device "virtserialport,chardev=ch0,name=$PD_SERIAL_NAME")
	[ "${PD_NO_AGENT_PORT:-0}" != 1 ] || port=()
	[ -f "$kernel" ] || { pd_log "no kernel (set PD_KERNEL)"; return 1; }
	[ -f "$initrd" ] || { pd_log "no initrd $initrd"; return 1; }
	PD_T0=$(pd_now_ms)
	# shellcheck disable=SC2086  # PD_QEMU_EXTRA is a list of words
	qemu-system-x86_64 -accel tcg -machine q35 -m "${PD_MEM:-512M}" -smp "${PD_SMP:-2}" \
		-nographic -no-reboot -nodefaults -no-user-config \
		-kernel "$kernel" -initrd "$initrd" -append "$(pd_append_line)" \
		-chardev "socket,id=con0,path=$PD_WORK/console.sock,server=on,wait=off,logfile=$PD_LOG" \
		-serial chardev:con0 "${port[@]}" \
		-fsdev "local,id=fs0,path=$PD_SHARE,security_model=none" \
		-device "virtio-9p-pci,fsdev=fs0,mount_tag=$PD_SHARE_TAG" \
		-qmp "unix:$PD_WORK/qmp.sock,server=on,wait=off" \
		${PD_QEMU_EXTRA:-} \
		</dev/null >"$PD_QEMU_LOG" 2>&1 &
	PD_QEMU_PID=$!
	pd_log "qemu pid $PD_QEMU_PID: kernel $kernel, initrd $initrd ($(stat -c %s "$initrd") bytes)"
}

# pd_qmp COMMAND...: QMP commands (JSON objects) to the running QEMU; prints each answer.
pd_qmp() { "$PD_BUILD/itest/qmp" "$PD_WORK/qmp.sock" "$@"; }

# pd_pid_alive PID: true while the process has not exited (a zombie counts as exited).
# Reads /proc with builtins only (gone): it runs in polling loops next to a CPU-bound TCG guest.
pd_pid_alive() { [ -n "$1" ] && ! gone "$1"; }

pd_qemu_running() { pd_pid_alive "${PD_QEMU_PID:-}"; }

# pd_qemu_wait TIMEOUT_S: reap QEMU; returns its exit status, or 124 after kill -9 on timeout.
# Sets PD_QEMU_STATUS and PD_T_EXIT (ms).
pd_qemu_wait() {
	local deadline=$(($(pd_now_ms) + $1 * 1000)) timed_out=0
	[ -n "${PD_QEMU_PID:-}" ] || { PD_QEMU_STATUS=127; return 127; }
	while pd_qemu_running; do
		if [ "$(pd_now_ms)" -ge "$deadline" ]; then
			pd_log "qemu still running after $1 s: kill -9"
			kill -9 "$PD_QEMU_PID" 2>/dev/null
			timed_out=1
			break
		fi
		sleep 0.1
	done
	wait "$PD_QEMU_PID" 2>/dev/null
	PD_QEMU_STATUS=$?
	PD_T_EXIT=$(pd_now_ms)
	PD_QEMU_PID=
	[ $timed_out = 0 ] || PD_QEMU_STATUS=124
	return $PD_QEMU_STATUS
}

# pd_ctl ARGS...: pidonectl against this VM's agent socket.
pd_ctl() {
	"$PD_BUILD/pidonectl" --addr "unix://$PD_SOCK" "$@"
}

# The guest console without SeaBIOS's terminal escapes.
pd_console_text() {
	sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' "$PD_LOG" 2>/dev/null
}

# Guest console (and QEMU's own messages) to stderr, for failures.
pd_dump_console() {
	local lines=${1:-200}
	{
		echo "----- guest console (last $lines lines of $PD_LOG) -----"
		pd_console_text | tail -n "$lines"
		if [ -s "${PD_QEMU_LOG:-}" ]; then
			echo "----- qemu stderr -----"
			tail -n 50 "$PD_QEMU_LOG"
		fi
		echo "----- end of console -----"
	} >&2
}

# True if the console shows the kernel died (or pid 1 did).
pd_console_has_panic() {
	grep -Eq 'Kernel panic|Attempted to kill init' "$PD_LOG" 2>/dev/null
}

# A check: the console log is there and shows no panic.
pd_console_clean() {
	if pd_console_has_panic; then
		pd_console_text | grep -E -m 3 'Kernel panic|Attempted to kill init'
		return 1
	fi
	[ -s "$PD_LOG" ] || { echo "empty console log"; return 1; }
	echo "no panic in $(wc -l <"$PD_LOG") console lines"
}

# --- a tiny check runner: pd_check NAME KIND FUNCTION [ARGS...] --------------------------
# A check prints what it measured on stdout and returns non-zero on failure. KIND: "fatal"
# (when it fails, later checks are counted failed without running), "always" (runs even
# after a fatal failure: diagnostics), or "-".
PD_PASSED=0
PD_FAILED=0
PD_BROKEN=

pd_check() {
	local name=$1 kind=$2 out rc
	shift 2
	if [ -n "$PD_BROKEN" ] && [ "$kind" != always ]; then
		echo "FAIL $name (not run: $PD_BROKEN failed)"
		PD_FAILED=$((PD_FAILED + 1))
		return 1
	fi
	# In this shell, not a subshell: checks reap QEMU and set variables for later checks.
	"$@" >"$PD_WORK/check.out" 2>&1
	rc=$?
	out=$(cat "$PD_WORK/check.out")
	if [ $rc = 0 ]; then
		echo "ok   $name${out:+: $(echo "$out" | paste -sd ';' | sed 's/;/; /g')}"
		PD_PASSED=$((PD_PASSED + 1))
	else
		echo "FAIL $name (status $rc)"
		[ -z "$out" ] || echo "$out" | sed 's/^/     /'
		PD_FAILED=$((PD_FAILED + 1))
		[ "$kind" != fatal ] || PD_BROKEN=$name
	fi
	return $rc
}

# pd_ctl_while_up ARGS...: pd_ctl, but give up soon after QEMU exits (a guest that panicked
# must not make a `--wait 60` client sit out its whole minute). Output goes to stdout.
pd_ctl_while_up() {
	local pid
	# The binary itself in the background, not a subshell running pd_ctl: killing a subshell
	# would leave the client holding our stdout (and a $(...) around us) open.
	"$PD_BUILD/pidonectl" --addr "unix://$PD_SOCK" "$@" &
	pid=$!
	while pd_pid_alive "$pid"; do
		if ! pd_qemu_running; then
			# A client that already got its answer (DestroySandbox's) ends by itself,
			# however slowly; one still retrying its connection (--wait) would go on
			# for its whole wait: cut short after 10 s.
			if ! wait_for "exit of pidonectl after QEMU's" 10 gone "$pid"; then
				kill "$pid" 2>/dev/null
				wait "$pid" 2>/dev/null
				echo "qemu exited while waiting for: pidonectl $*"
				return 1
			fi
		fi
		sleep 0.05
	done
	wait "$pid"
}
