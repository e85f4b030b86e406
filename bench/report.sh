#!/bin/bash
# bench/report.sh RESULTS MACHINE — the table of `make bench` in Markdown, from the RESULT
# lines bench/run.sh collected (RESULTS) and its machine description (MACHINE).
# Figures measured in rounds (spawn, exec, round trips, server start, boots) show the median
# of the rounds' figures.
set -u
[ $# -eq 2 ] || { echo "usage: $0 RESULTS MACHINE" >&2; exit 2; }
RES=$1
MACHINE=$2

# The value of KEY in the last "RESULT NAME ..." line.
val() {
	awk -v n="$1" -v k="$2" '$1 == "RESULT" && $2 == n {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2)
	} END { print v }' "$RES"
}

# Median of KEY over the RESULT lines whose name matches the regex RE.
med() {
	awk -v re="$1" -v k="$2" '$1 == "RESULT" && $2 ~ re {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)
	}' "$RES" | grep -E '^-?[0-9.]+$' | sort -g |
		awk '{ a[NR] = $1 } END {
			if (NR == 0) exit
			if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

num() { [[ ${1:-} =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }
# fmt VALUE SCALE DECIMALS: VALUE/SCALE, or "n/a".
fmt() { num "${1:-}" && awk -v v="$1" -v s="$2" -v d="$3" 'BEGIN { printf "%.*f", d, v / s }' ||
	echo "n/a"; }
ratio() { num "${1:-}" && num "${2:-}" && awk -v a="$1" -v b="$2" 'BEGIN {
	if (b == 0) print "n/a"; else printf "%.2f×", a / b }' || echo "n/a"; }
# verdict VALUE OP LIMIT: "met" or "**missed**" (VALUE may carry a trailing ×).
verdict() {
	local v=${1%×}
	num "$v" || { echo "n/a"; return; }
	awk -v v="$v" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == "<=") ? v <= l : (op == "<") ? v < l : (op == ">=") ? v >= l : 0
		print ok ? "met" : "**missed**" }'
}
kib() { fmt "${1:-}" 1 0; }
mib() { fmt "${1:-}" 1048576 2; }

row() {
	local out='|' cell
	for cell in "$@"; do out="$out $cell |"; done
	echo "$out"
}

# ---- figures -------------------------------------------------------------------------------
spawn=$(med '^spawn-r[0-9]' median_us)
spawn_p90=$(med '^spawn-r[0-9]' p90_us)
full=$(med '^spawn_full-r' median_us)
remove=$(med '^remove-r' median_us)
crun=$(med '^crun_run-r' median_us)
crun_p90=$(med '^crun_run-r' p90_us)
crun_nocg=$(med '^crun_run_nocgroup-r' median_us)
runc=$(med '^runc_run-r' median_us)
exec_pd=$(med '^exec-r' median_us)
crun_exec=$(med '^crun_exec-r' median_us)
runc_exec=$(med '^runc_exec-r' median_us)

lat_any=$(med '^lat_pidone-any-' median_us)
lat_any_go=$(med '^lat_go-any-' median_us)
p99_any=$(med '^lat_pidone-any-' p99_us)
p99_any_go=$(med '^lat_go-any-' p99_us)
lat_cpu=$(med '^lat_pidone-cpu0-' median_us)
lat_cpu_go=$(med '^lat_go-cpu0-' median_us)
p99_cpu=$(med '^lat_pidone-cpu0-' p99_us)
p99_cpu_go=$(med '^lat_go-cpu0-' p99_us)
tp1=$(val tput_pidone-d1 calls_per_s)
tp1_go=$(val tput_go-d1 calls_per_s)
tp16=$(val tput_pidone-d16 calls_per_s)
tp16_go=$(val tput_go-d16 calls_per_s)
cpu1=$(val cpu_pidone-d1 us_per_call)
cpu1_go=$(val cpu_go-d1 us_per_call)
cpu16=$(val cpu_pidone-d16 us_per_call)
cpu16_go=$(val cpu_go-d16 us_per_call)
start_pd=$(med '^startup_pidone-r' median_us)
start_go=$(med '^startup_go-r' median_us)
start_pd_min=$(med '^startup_pidone-r' min_us)
start_go_min=$(med '^startup_go-r' min_us)

hook_max=$(med '^check_during_hook-r' max_us)
hook_p99=$(med '^check_during_hook-r' p99_us)
idle_max=$(med '^check_idle-r' max_us)
idle_p99=$(med '^check_idle-r' p99_us)

rs=$(val readstdout mb_s)
raw=$(val rawcopy mb_s)

sz=$(val size_pidone bytes)
sz_go=$(val size_go bytes)
sz_crun=$(val size_crun bytes)
sz_runc=$(val size_runc bytes)
initrd=$(val size_initrd bytes)
initrd_stock=$(val size_initrd_stock bytes)
floor_initrd=$(val size_floor_initrd bytes)
rss=$(val rss_idle_pidone rss_kb)
rss_go=$(val rss_idle_go rss_kb)
rss_load=$(val rss_loaded_pidone rss_kb)
rss_load_go=$(val rss_loaded_go rss_kb)
rss10=$(med '^rss_containers-r' rss_kb)
rss_after=$(val rss_final_pidone rss_kb)
g_idle=$(val guest_rss idle_kb)
g_ten=$(val guest_rss containers10_kb)

b_total=$(med '^boot_pidone_[0-9]' total_ms)
b_kernel=$(med '^boot_pidone_[0-9]' kernel_ms)
b_serving=$(med '^boot_pidone_[0-9]' init_to_serving_ms)
b_health=$(med '^boot_pidone_[0-9]' init_to_health_ms)
f_total=$(med '^boot_floor_[0-9]' total_ms)
f_kernel=$(med '^boot_floor_[0-9]' kernel_ms)
f_exit=$(med '^boot_floor_[0-9]' init_to_exit_ms)
s_total=$(med '^boot_stock_[0-9]' total_ms)
s_health=$(med '^boot_stock_[0-9]' init_to_health_ms)
m_mods=$(med '^boot_floormod_[0-9]' init_to_modules_ms)
m_total=$(med '^boot_floormod_[0-9]' total_ms)
adds=
num "${b_health:-}" && num "${f_exit:-}" &&
	adds=$(awk -v a="$b_health" -v b="$f_exit" 'BEGIN { printf "%.1f", a - b }')

# ---- the table -----------------------------------------------------------------------------
echo "Measured by \`make bench\` (bench/run.sh) on $(sed -n 's/^date: //p' "$MACHINE")."
echo
sed -n '/^date: /!s/^/- /p' "$MACHINE"
case $(val rss_containers-r1 cgroup) in
own) pd_cg="pidone puts each container in a cgroup of its own too" ;;
none) pd_cg="pidone's containers stay in the agent's cgroup (no cgroup of their own)" ;;
*) pd_cg="pidone's container cgroups: not determined" ;;
esac
echo "- cgroups for crun/runc: v1 ($(val cgroup layout) on /sys/fs/cgroup; the v2 \"unified\"" \
	"tree unmounted in the benchmark's mount namespace); $pd_cg"
echo "- rounds: spawn/exec 3 × $(val params runs) runs of each contender; round trips" \
	"3 × $(val params calls) sequential calls per placement; calls/s over $(val params tput_s) s;" \
	"the table shows the median of the rounds' medians"
echo "- boots under QEMU TCG (no KVM), medians: the pidone kernel ($(val boot_setup kernel))" \
	"$(val boot_setup boots) per variant, Debian's $(val boot_setup stock_kernel)" \
	"$(val boot_setup stock_boots) per variant; the whole run took $(val bench seconds) s"
echo
row "figure" "pidone" "peer" "ratio" "goal" "verdict"
row "---" "---:" "---" "---:" "---" "---"
r=$(ratio "$spawn" "$crun")
row "spawn \`true\`: Create+Start+WaitProcess, median ms" "$(fmt "$spawn" 1000 2)" \
	"\`crun run\` $(fmt "$crun" 1000 2)" "$r" "≤ 0.5× crun" "$(verdict "$r" "<=" 0.5)"
row "↳ p90 ms" "$(fmt "$spawn_p90" 1000 2)" "\`crun run\` $(fmt "$crun_p90" 1000 2)" \
	"$(ratio "$spawn_p90" "$crun_p90")" "" ""
row "↳ vs crun with no cgroup" "$(fmt "$spawn" 1000 2)" \
	"\`crun --cgroup-manager=disabled run\` $(fmt "$crun_nocg" 1000 2)" \
	"$(ratio "$spawn" "$crun_nocg")" "" ""
row "↳ vs runc" "$(fmt "$spawn" 1000 2)" "\`runc run\` $(fmt "$runc" 1000 2)" \
	"$(ratio "$spawn" "$runc")" "" ""
row "↳ + RemoveContainer (all \`crun run\` does), median ms" "$(fmt "$full" 1000 2)" \
	"\`crun run\` $(fmt "$crun" 1000 2)" "$(ratio "$full" "$crun")" "" \
	"(remove alone $(fmt "$remove" 1000 2) ms)"
row "exec \`true\`: ExecProcess+WaitProcess, median ms" "$(fmt "$exec_pd" 1000 2)" \
	"\`crun exec\` $(fmt "$crun_exec" 1000 2)" "$(ratio "$exec_pd" "$crun_exec")" "" ""
row "↳ vs runc" "$(fmt "$exec_pd" 1000 2)" "\`runc exec\` $(fmt "$runc_exec" 1000 2)" \
	"$(ratio "$exec_pd" "$runc_exec")" "" ""
r=$(ratio "$lat_any" "$lat_any_go")
row "ttRPC Health.Check round trip, median µs (no pinning)" "$(fmt "$lat_any" 1 1)" \
	"Go ttrpc $(fmt "$lat_any_go" 1 1)" "$r" "≤ 0.5× Go" "$(verdict "$r" "<=" 0.5)"
row "↳ p99 µs (no pinning)" "$(fmt "$p99_any" 1 1)" "Go ttrpc $(fmt "$p99_any_go" 1 1)" \
	"$(ratio "$p99_any" "$p99_any_go")" "" ""
r=$(ratio "$lat_cpu" "$lat_cpu_go")
row "↳ median µs, server and client on one CPU" "$(fmt "$lat_cpu" 1 1)" \
	"Go ttrpc $(fmt "$lat_cpu_go" 1 1)" "$r" "≤ 0.5× Go" "$(verdict "$r" "<=" 0.5)"
row "↳ p99 µs, one CPU" "$(fmt "$p99_cpu" 1 1)" "Go ttrpc $(fmt "$p99_cpu_go" 1 1)" \
	"$(ratio "$p99_cpu" "$p99_cpu_go")" "" ""
r=$(ratio "$tp1" "$tp1_go")
row "calls/s, 8 connections, sequential calls" "$(fmt "$tp1" 1 0)" \
	"Go ttrpc $(fmt "$tp1_go" 1 0)" "$r" "≥ 1.5× Go" "$(verdict "$r" ">=" 1.5)"
r=$(ratio "$tp16" "$tp16_go")
row "calls/s, 8 connections × 16 calls in flight" "$(fmt "$tp16" 1 0)" \
	"Go ttrpc $(fmt "$tp16_go" 1 0)" "$r" "≥ 1.5× Go" "$(verdict "$r" ">=" 1.5)"
row "↳ server CPU µs per call (sequential / 16 in flight)" "$cpu1 / $cpu16" \
	"Go ttrpc $cpu1_go / $cpu16_go" "$(ratio "$cpu1" "$cpu1_go") / $(ratio "$cpu16" "$cpu16_go")" \
	"" ""
row "server start on the host: exec → first answered Check, median (min) ms" \
	"$(fmt "$start_pd" 1000 2) ($(fmt "$start_pd_min" 1000 2))" \
	"Go ttrpc $(fmt "$start_go" 1000 2) ($(fmt "$start_go_min" 1000 2))" \
	"$(ratio "$start_pd" "$start_go")" "" ""
row "slowest Health.Check while a prestart hook blocks, ms (p99 µs)" \
	"$(fmt "$hook_max" 1000 2) ($(fmt "$hook_p99" 1 0))" \
	"pidone idle $(fmt "$idle_max" 1000 2) ($(fmt "$idle_p99" 1 0))" \
	"$(ratio "$hook_max" "$idle_max")" "no wait for the hook" ""
row "container stdout via ReadStdout, MB/s" "$(fmt "$rs" 1 0)" \
	"raw pipe→socket copy $(fmt "$raw" 1 0)" "$(ratio "$rs" "$raw")" "" ""
row "static binary, MiB" "$(mib "$sz")" \
	"Go server $(mib "$sz_go"), crun $(mib "$sz_crun") ($(val size_crun linkage)), runc $(mib "$sz_runc")" \
	"$(ratio "$sz" "$sz_go") of Go" "< 1 MiB" "$(verdict "$(mib "$sz")" "<" 1)"
row "initrd (gzip cpio), MiB: pidone kernel / stock kernel + modules" \
	"$(mib "$initrd") / $(mib "$initrd_stock")" "busybox floor $(mib "$floor_initrd")" \
	"$(ratio "$initrd" "$floor_initrd")" "" ""
row "RSS idle on the host, KiB" "$(kib "$rss")" "Go server $(kib "$rss_go")" \
	"$(ratio "$rss" "$rss_go")" "< 1 MiB" "$(verdict "$(kib "$rss")" "<" 1024)"
row "RSS idle in the guest (pid 1 VmRSS via GetMetrics), KiB" "$(kib "$g_idle")" "—" "" "< 1 MiB" \
	"$(verdict "$(kib "$g_idle")" "<" 1024)"
row "RSS after the ttRPC load, KiB" "$(kib "$rss_load")" "Go server $(kib "$rss_load_go")" \
	"$(ratio "$rss_load" "$rss_load_go")" "" ""
row "RSS with 10 containers running, KiB (host / guest)" "$(kib "$rss10") / $(kib "$g_ten")" \
	"—" "" "" "(host, after all tests: $(kib "$rss_after"))"
row "boot, pidone kernel: QEMU start → first answered Check, median ms" "$(fmt "$b_total" 1 0)" \
	"busybox /init → power-off $(fmt "$f_total" 1 0)" "$(ratio "$b_total" "$f_total")" "" ""
row "↳ kernel: QEMU start → \"Run /init\", ms" "$(fmt "$b_kernel" 1 0)" \
	"floor $(fmt "$f_kernel" 1 0)" "" "" ""
row "↳ pidone's share: /init → first answered Check (→ \"serving\" log), ms" \
	"$(fmt "$b_health" 1 1) ($(fmt "$b_serving" 1 1))" \
	"floor /init → QEMU exit $(fmt "$f_exit" 1 1)" "$(ratio "$b_health" "$f_exit")" "" ""
row "↳ what pidone adds over the floor's /init, ms" "$(fmt "$adds" 1 1)" "" "" "< 5 ms" \
	"$(verdict "$adds" "<" 5) (TCG)"
row "boot, stock kernel + 14 modules: QEMU start → first answered Check, ms" \
	"$(fmt "$s_total" 1 0)" "busybox modprobe + power-off $(fmt "$m_total" 1 0)" "" "" ""
row "↳ /init → first answered Check, ms" "$(fmt "$s_health" 1 1)" \
	"busybox /init → same modules loaded $(fmt "$m_mods" 1 1)" \
	"$(ratio "$s_health" "$m_mods")" "" ""
