#!/bin/bash
# bench/boot.sh BUILD_DIR WORK_DIR — the boot part of `make bench` (bench/run.sh runs it and
# collects the RESULT lines it prints). Boots under QEMU/TCG with qemu-tests/lib.sh, the
# variants interleaved.
#
# On the pidone kernel (kernel-config/, everything built in, PVH vmlinux; PD_BENCH_BOOTS each):
#   pidone        build/pidone-initrd.img: QEMU start -> first answered Health.Check
#   floor         an initrd whose /init is a busybox script that powers off at once:
#                 QEMU start -> QEMU exit. The least any /init can cost on this kernel.
# On Debian's stock kernel (PVH extract; PD_BENCH_STOCK_BOOTS each, 0 = skip):
#   stock         build/pidone-initrd-stock.img (pidone loads 14 modules itself)
#   floormod      that initrd with /init replaced by a busybox script that loads the same
#                 modules (/etc/pidone/modules) with one `modprobe -a`, says so, and powers
#                 off: the part of pidone's boot that is the kernel's work on its behalf.
#
# Times are host wall clock. The kernel prints its messages (loglevel=7) so that "Run /init
# as init process" marks the hand-over to /init; bench/bootwatch stamps console lines as they
# arrive. The first pidone boot also reads pidone's RSS through GetMetrics, idle and with 10
# `sleep` containers running from the 9p share (rootfs: WORK_DIR/rootfs).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=qemu-tests/lib.sh
. "$HERE/../qemu-tests/lib.sh"

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR WORK_DIR" >&2; exit 2; }
BOOTS=${PD_BENCH_BOOTS:-5}
STOCK_BOOTS=${PD_BENCH_STOCK_BOOTS:-2}
WORK=$2
EXTRA_APPEND="${EXTRA_APPEND:-} loglevel=7"
INIT_LINE="Run /init as init process"
MODULES_LINE="pidone-bench: modules loaded"
pd_vm_setup "$1" || exit 1
BT=$PD_BUILD/bench
INITRD=$PD_BUILD/pidone-initrd.img
INITRD_STOCK=$PD_BUILD/pidone-initrd-stock.img
FLOOR=$WORK/floor-initrd.img
FLOOR_MOD=$WORK/floor-modules-initrd.img
KERNEL_DIR=$(bash "$HERE/../kernel-config/build.sh" --print-path) || exit 1
# shellcheck disable=SC2012  # the rule of qemu-tests/lib.sh: the newest /boot/vmlinuz-*
STOCK_KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)

# The kernel of the next boots (qemu-tests/lib.sh reads PD_KERNEL and PD_KERNEL_PVH).
use_kernel() {
	case $1 in
	pidone) export PD_KERNEL=$KERNEL_DIR/vmlinux PD_KERNEL_PVH=0 ;;
	stock) export PD_KERNEL=$STOCK_KERNEL PD_KERNEL_PVH=1 ;;
	esac
}

# A gzip'd newc cpio of a directory, as rootfs/mkinitrd.sh packs pidone's.
pack() { # pack DIR OUT
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$2"
}

make_floors() {
	local d=$WORK/floor m=$WORK/floor-modules names
	mkdir -p "$d/bin" "$m"
	install -m 0755 "$(command -v busybox)" "$d/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox poweroff -f\n' >"$d/init"
	chmod 0755 "$d/init"
	pack "$d" "$FLOOR"
	(cd "$m" && gzip -dc "$INITRD_STOCK" | cpio -id --quiet) || return 1
	rm -f "$m/init"
	mkdir -p "$m/bin"
	install -m 0755 "$(command -v busybox)" "$m/bin/busybox"
	# One modprobe process for the whole list (an insmod per module would add an exec per
	# module, tens of ms each under TCG); names in pidone's order, modules.dep is the image's.
	names=$(sed -n 's|^/[^ ]*/\([^/ ]*\)\.ko.*|\1|p' "$m/etc/pidone/modules" | tr '\n' ' ')
	cat >"$m/init" <<-EOF
		#!/bin/busybox sh
		/bin/busybox modprobe -a $names
		echo "$MODULES_LINE"
		/bin/busybox poweroff -f
	EOF
	chmod 0755 "$m/init"
	pack "$m" "$FLOOR_MOD"
	echo "RESULT size_floor_initrd bytes=$(stat -c %s "$FLOOR")"
}

# Value of key K in a "RESULT boot k=v ..." line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

fresh_vm() {
	rm -f "$PD_SOCK"
	: >"$PD_LOG"
}

# The guest figures: pidone's VmRSS (kB) from GetMetrics, the line
# kata_agent_proc_status{item="vmrss"} N (quotes escaped in pidonectl's JSON).
guest_rss_kb() {
	local out kb
	out=$(pd_ctl call grpc.AgentService GetMetrics 2>&1) || { echo "n/a:${out##*: }"; return; }
	kb=$(echo "$out" | grep -o 'item=\\"vmrss\\"} [0-9][0-9]*' | head -n 1 | awk '{ print $2 }')
	echo "${kb:-n/a:no_vmrss_in_GetMetrics}"
}

guest_figures() {
	local idle ten
	mkdir -p "$PD_SHARE/rootfs"
	cp -a "$WORK/rootfs/." "$PD_SHARE/rootfs/"
	idle=$(guest_rss_kb)
	if "$BT/spawn" --guest "unix://$PD_SOCK" bench-guest 10 >/dev/null 2>"$WORK/guest.err"; then
		ten=$(guest_rss_kb)
	else
		ten="n/a:$(tail -n 1 "$WORK/guest.err")"
	fi
	echo "RESULT guest_rss idle_kb=${idle// /_} containers10_kb=${ten// /_}"
}

boot_pidone() { # boot_pidone NAME INITRD N
	local out t_init
	fresh_vm
	pd_qemu_start "$2" || return 1
	out=$("$BT/bootwatch" "$PD_LOG" "$PD_QEMU_PID" 180000 --check "unix://$PD_SOCK" \
		--mark "init=$INIT_LINE" --mark "serving=pidone serving" \
		--timeline "$WORK/timeline-$1-$3.txt") || { pd_dump_console 40; return 1; }
	t_init=$(field "$out" mark_init)
	echo "RESULT boot_$1_$3 kernel_ms=$(ms "$PD_T0" "$t_init")" \
		"init_to_serving_ms=$(ms "$t_init" "$(field "$out" mark_serving)")" \
		"init_to_health_ms=$(ms "$t_init" "$(field "$out" health)")" \
		"total_ms=$(ms "$PD_T0" "$(field "$out" health)")"
	[ "$1-$3" != pidone-1 ] || guest_figures
	pd_ctl_while_up --timeout 20 destroy-sandbox >/dev/null
	pd_qemu_wait 30 || { echo "pidone boot $1: QEMU status $PD_QEMU_STATUS" >&2; return 1; }
}

boot_floor() { # boot_floor NAME INITRD N [--mark ...]
	local name=$1 initrd=$2 n=$3 out t_init extra=''
	shift 3
	fresh_vm
	pd_qemu_start "$initrd" || return 1
	out=$("$BT/bootwatch" "$PD_LOG" "$PD_QEMU_PID" 180000 --mark "init=$INIT_LINE" "$@") ||
		{ pd_dump_console 40; return 1; }
	pd_qemu_wait 30
	t_init=$(field "$out" mark_init)
	[ -z "$(field "$out" mark_modules)" ] ||
		extra="init_to_modules_ms=$(ms "$t_init" "$(field "$out" mark_modules)")"
	echo "RESULT boot_${name}_$n kernel_ms=$(ms "$PD_T0" "$t_init")" \
		"init_to_exit_ms=$(ms "$t_init" "$(field "$out" exit)") $extra" \
		"total_ms=$(ms "$PD_T0" "$(field "$out" exit)")"
}

make_floors || { echo "cannot build the floor initrds" >&2; exit 1; }
echo "RESULT boot_setup kernel=$(basename "$KERNEL_DIR")/vmlinux boots=$BOOTS" \
	"stock_kernel=$(basename "$STOCK_KERNEL") stock_boots=$STOCK_BOOTS"
rc=0
use_kernel pidone
for i in $(seq 1 "$BOOTS"); do
	boot_pidone pidone "$INITRD" "$i" || rc=1
	boot_floor floor "$FLOOR" "$i" || rc=1
done
use_kernel stock
for i in $(seq 1 "$STOCK_BOOTS"); do
	boot_pidone stock "$INITRD_STOCK" "$i" || rc=1
	boot_floor floormod "$FLOOR_MOD" "$i" --mark "modules=$MODULES_LINE" || rc=1
done
exit $rc
