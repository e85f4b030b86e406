#!/bin/bash
# bench/run.sh BUILD_DIR — `make bench`: pidone against its peers, every figure measured in
# this one run on this machine, printed as a table of ratios and written into
# docs/PERFORMANCE.md (between its bench markers; the text around them is kept).
#
#   spawn    CreateContainer+StartContainer+WaitProcess of `true` over ttRPC (bench/spawn.c)
#            vs `crun run` / `runc run` of the same rootfs with the same spec (bench/timeit.c),
#            and exec latency vs `crun exec` / `runc exec`
#   ttRPC    Health.Check round trip and calls/s, pidone vs a Go server on Debian's
#            containerd/ttrpc (bench/go-ttrpc, bench/ttrpc_load.c)
#   streams  ReadStdout MB/s vs a raw pipe -> socket copy (bench/streams.c)
#   hooks    the slowest Health.Check while a container's prestart hook blocks, vs idle
#            (bench/slowhook.c): the loop never waits for a hook
#   size     binaries, initrds, RSS on the host and in the guest
#   boot     QEMU start -> first answered Check vs a busybox /init that powers off (boot.sh)
#
# Everything runs in a mount namespace of its own (re-exec under unshare -m) with a tmpfs on
# /run: pidone's /run/libcontainer, crun's /run/crun and runc's /run/runc stay in it. This
# host mounts cgroup v1 plus a v2 "unified" tree, a hybrid that crun refuses: the unified
# tree is unmounted in the namespace, so crun and runc both use the v1 hierarchies.
#
# Environment: PD_BENCH_RUNS (spawn/exec runs, 30), PD_BENCH_CALLS (sequential Checks per
# round, 20000), PD_BENCH_TPUT_S (seconds per calls/s run, 3), PD_BENCH_STREAM_MB (256),
# PD_BENCH_BOOTS (boots per variant on the pidone kernel, 5; 0 = no boot part),
# PD_BENCH_STOCK_BOOTS (on Debian's kernel, 2), PD_BENCH_KEEP=1 (keep the work dir),
# PD_BENCH_NO_DOC=1 (do not touch docs/PERFORMANCE.md), PD_BENCH_HOOK_CHECKS (Checks
# during the hook, 2000), PD_BENCH_ONLY=slowhook (only that part: it needs no peer, so it
# runs where scripts/deps.sh --bench has not installed them); QEMU: see qemu-tests/lib.sh.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
if [ "${PD_BENCH_NS:-}" != 1 ]; then
	exec unshare -m --propagation private -- env PD_BENCH_NS=1 bash "$0" "$@"
fi

B=$(cd "$1" && pwd) || exit 2
RUNS=${PD_BENCH_RUNS:-30}
CALLS=${PD_BENCH_CALLS:-20000}
TPUT_S=${PD_BENCH_TPUT_S:-3}
STREAM_BYTES=$((${PD_BENCH_STREAM_MB:-256} * 1048576))
HOOK_CHECKS=${PD_BENCH_HOOK_CHECKS:-2000}
export PD_BENCH_BOOTS=${PD_BENCH_BOOTS:-5}
NCPU=$(nproc)
SANDBOX=pidone-bench
BT=$B/bench

WORK=$(mktemp -d /tmp/pidone-bench.XXXXXX) || exit 1
RES=$WORK/results
: >"$RES"
agent_pid=
go_pid=
peer_ctrs=

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "bench: $*"; exit 1; }

cleanup() {
	local id
	for id in $peer_ctrs; do
		crun kill "$id" KILL >/dev/null 2>&1
		runc kill "$id" KILL >/dev/null 2>&1
		crun delete -f "$id" >/dev/null 2>&1
		runc delete -f "$id" >/dev/null 2>&1
	done
	stop_pid "$agent_pid"
	stop_pid "$go_pid"
	if [ "${PD_BENCH_KEEP:-0}" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Run a bench program; its RESULT lines go to the results file (and the log), their names
# suffixed with $SUFFIX (the round) when it is set.
SUFFIX=
record() {
	local out rc
	out=$("$@" 2>"$WORK/last.err")
	rc=$?
	echo "$out" | grep '^RESULT ' | sed -E "s/^RESULT ([^ ]+)/RESULT \1$SUFFIX/" |
		tee -a "$RES" | sed 's/^RESULT /  /' >&2
	if [ $rc -ne 0 ]; then
		log "failed ($rc): $*"
		sed 's/^/    /' "$WORK/last.err" | tail -5 >&2
	fi
	return $rc
}

result() { echo "RESULT $*" >>"$RES"; }

kb_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# ---- the machine ---------------------------------------------------------------------------
machine() {
	result params "runs=$RUNS" "calls=$CALLS" "tput_s=$TPUT_S" "stream_bytes=$STREAM_BYTES"
	result machine "kernel=$(uname -r)" "cpus=$NCPU" \
		"mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
	{
		echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "cpus: $NCPU"
		echo "memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		echo "kernel: $(uname -r)"
		echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "crun: $(crun --version | head -n 1 | awk '{ print $3 }'), runc:" \
			"$(runc --version | head -n 1 | awk '{ print $3 }'), go: $(go version |
				awk '{ print $3 }'), containerd/ttrpc:" \
			"$(dpkg-query -W -f '${Version}' golang-github-containerd-ttrpc-dev)," \
			"qemu: $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }')"
	} >"$WORK/machine"
}

# ---- setup ---------------------------------------------------------------------------------
check_tools() {
	local f
	for f in "$B/pidone" "$B/pidonectl" "$B/pdtest" "$BT/timeit" "$BT/spawn" "$BT/ttrpc_load" \
		"$BT/streams" "$BT/bootwatch" "$BT/slowhook"; do
		[ -x "$f" ] || die "missing $f (make bench builds it)"
	done
	for f in crun runc go busybox taskset; do
		command -v "$f" >/dev/null || die "missing $f (scripts/deps.sh installs the peers)"
	done
	file -L "$(command -v busybox)" | grep -q 'statically linked' ||
		die "busybox is not static (apt-get install busybox-static)"
}

# The Go peer, built offline from Debian's Go sources (GOPATH mode, no module download).
build_go_peer() {
	log "building the Go peer (bench/go-ttrpc)"
	(cd "$HERE/go-ttrpc" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' \
		GOCACHE="$BT/go-cache" go build -trimpath -ldflags '-s -w' -o "$BT/go-ttrpc" .) ||
		die "go build of bench/go-ttrpc failed"
}

# The containers' rootfs: tests/payload's pdtest with its command links (as the integration
# tests make it) plus a static busybox for the stream writer.
make_rootfs() {
	local dir=$WORK/rootfs cmd
	mkdir -p "$dir"/{bin,proc,dev,sys,tmp,etc,root}
	chmod 1777 "$dir/tmp"
	cp "$B/pdtest" "$dir/bin/pdtest"
	for cmd in true false sleep spew echo cat; do
		ln -s pdtest "$dir/bin/$cmd"
	done
	[ "${PD_BENCH_ONLY:-}" = slowhook ] || cp "$(command -v busybox)" "$dir/bin/busybox"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
}

# config.json equal to the spec bench/spawn.c sends (tests/integration/itest.h,
# it_spec_default): `runc spec` minus the network namespace and the read-only root (a Kata
# container has the VM's network), plus Docker's capabilities, NOFILE 1024, no_new_privs.
oci_config() { # oci_config ROOT ARG...
	local root=$1 args='' a caps
	shift
	for a in "$@"; do args="$args${args:+, }\"$a\""; done
	caps='"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"'
	cat <<-EOF
	{
	  "ociVersion": "1.0.2",
	  "process": {
	    "terminal": false,
	    "user": {"uid": 0, "gid": 0},
	    "args": [$args],
	    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
	    "cwd": "/",
	    "capabilities": {"bounding": [$caps], "effective": [$caps], "permitted": [$caps]},
	    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
	    "noNewPrivileges": true
	  },
	  "root": {"path": "$root", "readonly": false},
	  "hostname": "pidone-test",
	  "mounts": [
	    {"destination": "/proc", "type": "proc", "source": "proc",
	     "options": ["nosuid", "noexec", "nodev"]},
	    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
	     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
	    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
	     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
	    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
	     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
	    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
	     "options": ["nosuid", "noexec", "nodev"]},
	    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
	     "options": ["nosuid", "noexec", "nodev", "ro"]}
	  ],
	  "linux": {
	    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
	    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	      "/sys/firmware", "/proc/scsi"],
	    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	      "/proc/sysrq-trigger"]
	  }
	}
	EOF
}

make_bundles() {
	mkdir -p "$WORK/bundle-true" "$WORK/bundle-sleep"
	oci_config "$WORK/rootfs" true >"$WORK/bundle-true/config.json"
	oci_config "$WORK/rootfs" sleep 1000 >"$WORK/bundle-sleep/config.json"
}

# A private /run, and cgroup v1 only (crun refuses the hybrid layout).
setup_namespace() {
	mount -t tmpfs -o mode=755 tmpfs /run || die "cannot mount a tmpfs on /run"
	if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		umount /sys/fs/cgroup/unified || die "cannot unmount /sys/fs/cgroup/unified"
	fi
	result cgroup "layout=$(stat -f -c %T /sys/fs/cgroup)"
}

start_servers() {
	"$B/pidone" --server-addr "unix://$WORK/agent.sock" >"$WORK/agent.log" 2>&1 &
	agent_pid=$!
	"$BT/go-ttrpc" "$WORK/go.sock" >"$WORK/go.log" 2>&1 &
	go_pid=$!
	"$B/pidonectl" --addr "unix://$WORK/agent.sock" --wait 10 check >/dev/null ||
		die "pidone does not answer; log: $(tail -3 "$WORK/agent.log")"
	"$B/pidonectl" --addr "unix://$WORK/go.sock" --wait 10 check >/dev/null ||
		die "the Go server does not answer; log: $(tail -3 "$WORK/go.log")"
	result rss_idle_pidone "rss_kb=$(kb_of "$agent_pid" VmRSS)"
	result rss_idle_go "rss_kb=$(kb_of "$go_pid" VmRSS)"
}

# ---- ttRPC ---------------------------------------------------------------------------------
# Round trips in two placements, three rounds each, pidone and Go alternating:
#   any   no pinning: where the scheduler puts server and client (what a user gets)
#   cpu0  server and client pinned to one CPU: no cross-CPU wake-up in the figure
bench_ttrpc() {
	local round all="0-$((NCPU - 1))"
	log "ttRPC round trip: $CALLS sequential Checks x 3 rounds x 2 placements"
	for round in 1 2 3; do
		record "$BT/ttrpc_load" lat "pidone-any-$round" "unix://$WORK/agent.sock" "$CALLS"
		record "$BT/ttrpc_load" lat "go-any-$round" "unix://$WORK/go.sock" "$CALLS"
	done
	taskset -a -p -c 0 "$agent_pid" >/dev/null
	taskset -a -p -c 0 "$go_pid" >/dev/null
	for round in 1 2 3; do
		record taskset -c 0 "$BT/ttrpc_load" lat "pidone-cpu0-$round" \
			"unix://$WORK/agent.sock" "$CALLS"
		record taskset -c 0 "$BT/ttrpc_load" lat "go-cpu0-$round" "unix://$WORK/go.sock" \
			"$CALLS"
	done
	taskset -a -p -c "$all" "$agent_pid" >/dev/null
	taskset -a -p -c "$all" "$go_pid" >/dev/null
	log "ttRPC calls/s: 8 connections, depth 1 and 16, ${TPUT_S} s each"
	tput pidone "$agent_pid" "$WORK/agent.sock" 1
	tput go "$go_pid" "$WORK/go.sock" 1
	tput pidone "$agent_pid" "$WORK/agent.sock" 16
	tput go "$go_pid" "$WORK/go.sock" 16
	result rss_loaded_pidone "rss_kb=$(kb_of "$agent_pid" VmRSS)" \
		"hwm_kb=$(kb_of "$agent_pid" VmHWM)"
	result rss_loaded_go "rss_kb=$(kb_of "$go_pid" VmRSS)" "hwm_kb=$(kb_of "$go_pid" VmHWM)"
}

# tput NAME PID SOCKET DEPTH: calls/s, and the server's CPU time per call (utime+stime).
tput() {
	local t0 t1 calls hz
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "$2")
	record "$BT/ttrpc_load" tput "$1-d$4" "unix://$3" 8 "$4" "$TPUT_S" || return
	t1=$(cpu_ticks "$2")
	calls=$(awk -v n="tput_$1-d$4" '$2 == n { for (i = 3; i <= NF; i++)
		if ($i ~ /^calls=/) { sub(/calls=/, "", $i); print $i } }' "$RES" | tail -n 1)
	result "cpu_$1-d$4" "us_per_call=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$calls" \
		'BEGIN { printf "%.2f", (n > 0 ? (b - a) * 1e6 / hz / n : 0) }')"
}

# ---- containers ----------------------------------------------------------------------------
# Three rounds, each: pidone (spawn, exec, 10 containers), then crun and runc on the same
# rootfs and spec, RUNS runs of each figure. The other tenants of a shared machine come and
# go; rounds spread them over every contender.
bench_containers() {
	local r err=$WORK/peers.err
	peer_ctrs="bench-crun-exec bench-runc-exec"
	crun run -d --bundle "$WORK/bundle-sleep" bench-crun-exec </dev/null >/dev/null 2>>"$err" ||
		log "crun run -d failed: no crun exec figure"
	runc run -d --bundle "$WORK/bundle-sleep" bench-runc-exec </dev/null >/dev/null 2>>"$err" ||
		log "runc run -d failed: no runc exec figure"
	for r in 1 2 3; do
		SUFFIX=-r$r
		log "round $r: spawn/exec of true x $RUNS: pidone, crun (v1 cgroup / none), runc"
		record "$BT/spawn" "unix://$WORK/agent.sock" "$WORK/rootfs" "$agent_pid" "$SANDBOX" \
			"$RUNS"
		record "$BT/timeit" -n "$RUNS" -e "$err" crun_run crun run \
			--bundle "$WORK/bundle-true" bench-crun
		record "$BT/timeit" -n "$RUNS" -e "$err" crun_run_nocgroup \
			crun --cgroup-manager=disabled run --bundle "$WORK/bundle-true" bench-crun-nocg
		record "$BT/timeit" -n "$RUNS" -e "$err" runc_run runc run \
			--bundle "$WORK/bundle-true" bench-runc
		record "$BT/timeit" -n "$RUNS" -e "$err" crun_exec crun exec bench-crun-exec true
		record "$BT/timeit" -n "$RUNS" -e "$err" runc_exec runc exec bench-runc-exec true
	done
	SUFFIX=
	crun kill bench-crun-exec KILL 2>/dev/null
	runc kill bench-runc-exec KILL 2>/dev/null
	sleep 0.2
	crun delete -f bench-crun-exec 2>/dev/null
	runc delete -f bench-runc-exec 2>/dev/null
	peer_ctrs=
	[ ! -s "$err" ] || { log "peer errors:"; sort -u "$err" | head -5 | sed 's/^/    /' >&2; }
}

bench_streams() {
	log "streams: ReadStdout vs raw copy, $((STREAM_BYTES / 1048576)) MiB x 3 each"
	record "$BT/streams" "unix://$WORK/agent.sock" "$WORK/rootfs" "$SANDBOX" "$STREAM_BYTES" 3
}

# Three rounds: HOOK_CHECKS sequential Checks idle, then as many while a CreateContainer's
# prestart hook blocks (released once they are done).
bench_slow_hook() {
	local r
	mkdir -p "$WORK/hooks"
	log "hooks: the slowest of $HOOK_CHECKS Checks while a prestart hook blocks, 3 rounds"
	for r in 1 2 3; do
		SUFFIX=-r$r
		record "$BT/slowhook" "unix://$WORK/agent.sock" "$WORK/rootfs" "$agent_pid" \
			"$SANDBOX" "$WORK/hooks" "$HOOK_CHECKS"
	done
	SUFFIX=
}

# PD_BENCH_ONLY=slowhook: that part alone, against pidone alone (no peer needed).
only_slow_hook() {
	local f
	for f in "$B/pidone" "$B/pidonectl" "$B/pdtest" "$BT/slowhook"; do
		[ -x "$f" ] || die "missing $f (make build/pidone build/pidonectl build/pdtest" \
			"build/bench/slowhook)"
	done
	mount -t tmpfs -o mode=755 tmpfs /run || die "cannot mount a tmpfs on /run"
	make_rootfs
	"$B/pidone" --server-addr "unix://$WORK/agent.sock" >"$WORK/agent.log" 2>&1 &
	agent_pid=$!
	"$B/pidonectl" --addr "unix://$WORK/agent.sock" --wait 10 check >/dev/null ||
		die "pidone does not answer; log: $(tail -3 "$WORK/agent.log")"
	bench_slow_hook
	awk '$2 ~ /^check_/ { n = $2; for (i = 3; i <= NF; i++) if ($i ~ /^(median|p99|max)_us=/)
		n = n " " $i; print n }' "$RES"
}

bench_startup() {
	local r
	log "startup: spawn -> first answered Check, 3 rounds x 10 each"
	for r in 1 2 3; do
		SUFFIX=-r$r
		record "$BT/ttrpc_load" startup pidone "unix://$WORK/start.sock" 10 "$B/pidone" \
			--server-addr "unix://$WORK/start.sock"
		record "$BT/ttrpc_load" startup go "unix://$WORK/start.sock" 10 "$BT/go-ttrpc" \
			"$WORK/start.sock"
	done
	SUFFIX=
}

bench_sizes() {
	local f
	result size_pidone "bytes=$(stat -c %s "$B/pidone")"
	result size_go "bytes=$(stat -c %s "$BT/go-ttrpc")"
	for f in crun runc; do
		result "size_$f" "bytes=$(stat -c %s "$(command -v "$f")")" \
			"linkage=$(file -L "$(command -v "$f")" | grep -q 'statically linked' &&
				echo static || echo dynamic)"
	done
	result size_initrd "bytes=$(stat -c %s "$B/pidone-initrd.img")"
	result size_initrd_stock "bytes=$(stat -c %s "$B/pidone-initrd-stock.img")"
}

main() {
	local t_start=$SECONDS
	if [ "${PD_BENCH_ONLY:-}" = slowhook ]; then
		only_slow_hook
		return
	fi
	check_tools
	machine
	setup_namespace
	build_go_peer
	make_rootfs
	make_bundles
	start_servers
	bench_ttrpc
	bench_containers
	bench_streams
	bench_slow_hook
	result rss_final_pidone "rss_kb=$(kb_of "$agent_pid" VmRSS)"
	stop_pid "$agent_pid"
	stop_pid "$go_pid"
	agent_pid=
	go_pid=
	bench_startup
	bench_sizes
	if [ "$PD_BENCH_BOOTS" -gt 0 ]; then
		log "boot (TCG): pidone and busybox floors on the pidone and the stock kernel"
		bash "$HERE/boot.sh" "$B" "$WORK" >>"$RES" 2>"$WORK/boot.err" ||
			{ log "boot part failed:"; tail -15 "$WORK/boot.err" >&2; }
		grep '^RESULT boot_' "$RES" | sed 's/^RESULT /  /' >&2
	fi
	result bench "seconds=$((SECONDS - t_start))"
	bash "$HERE/report.sh" "$RES" "$WORK/machine" >"$WORK/report.md" || die "report failed"
	echo
	cat "$WORK/report.md"
	[ "${PD_BENCH_NO_DOC:-0}" = 1 ] || write_doc
	[ "${PD_BENCH_KEEP:-0}" != 1 ] || cp "$RES" "$WORK/results.keep"
}

# Replace the measured part of docs/PERFORMANCE.md (between the markers); the rest of the
# page (method, analysis) is written by hand and kept.
write_doc() {
	local doc=$TOP/docs/PERFORMANCE.md begin='<!-- bench:begin -->' end='<!-- bench:end -->'
	if [ ! -f "$doc" ] || ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
		printf '# Performance\n\n%s\n%s\n' "$begin" "$end" >"$doc"
	fi
	awk -v b="$begin" -v e="$end" -v f="$WORK/report.md" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
	log "wrote $doc"
}

main
