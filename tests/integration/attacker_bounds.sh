# What a host can make the agent hold (issue 11 item 5), sourced by run.sh, which provides
# $build $pidone $itest $tmp, pass/fail, run_ctl and (from containers.sh) run_itest,
# agent_teardown and containers_make_rootfs. docs/security.md, "Bounded memory and
# connections", lists the bounds these attack.
#
# Two agents of their own:
#   - connections: --frame-timeout 2 (the half-frame timeout, 30 s by default), no sandbox;
#   - memory: a sandbox and containers (a private tmpfs on /run, as containers.sh does),
#     --frame-timeout 3600 so that the connections a case stalls stay until it closes them.
# Memory is read from /proc/<agent>/status. The ASan agent keeps freed memory in its
# quarantine (256 MiB by default), which would be counted as the agent's: these agents run
# with an 8 MiB one (ASAN_OPTIONS; the product agent ignores it).

bounds_pid=
bounds_rootfs=

attacker_bounds_cleanup() {
	local p
	if [ -n "$bounds_pid" ] && kill -0 "$bounds_pid" 2>/dev/null; then
		kill -KILL "$bounds_pid" 2>/dev/null
	fi
	[ -n "$bounds_rootfs" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$bounds_rootfs/bin/pdtest" ] 2>/dev/null && kill -KILL "${p#/proc/}"
	done
}

attacker_bounds_tests() {
	local addr log sandbox_id=pidone-bounds
	local asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
	if [ ! -x "$itest/attacker_bounds" ] || [ ! -x "$build/pdtest" ]; then
		fail attacker_bounds "missing $itest/attacker_bounds or $build/pdtest"
		return
	fi

	# ---- connections: idle floods, half frames, every connection waiting ----
	addr=unix://$tmp/bounds-conns.sock
	log=$tmp/bounds-conns-agent.log
	ASAN_OPTIONS=$asan unshare -m -- "$pidone" --server-addr "$addr" --log-level debug \
		--frame-timeout 2 >"$log" 2>&1 &
	bounds_pid=$!
	run_ctl bounds_conns_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 check
	run_itest attacker_bounds_conns 600 "$itest/attacker_bounds" --conns "$addr" "$bounds_pid"
	agent_teardown bounds_conns "$bounds_pid" "$addr" "$log"
	bounds_pid=

	# ---- memory: stdin, large frames, a client that does not read ----
	bounds_rootfs=$tmp/bounds-rootfs
	containers_make_rootfs "$bounds_rootfs"
	addr=unix://$tmp/bounds-mem.sock
	log=$tmp/bounds-mem-agent.log
	ASAN_OPTIONS=$asan unshare -m --propagation private -- sh -c \
		'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug --frame-timeout 3600' \
		"$pidone" "$addr" >"$log" 2>&1 &
	bounds_pid=$!
	run_ctl bounds_mem_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 check
	run_itest attacker_bounds 60 "$itest/attacker_bounds" --create-sandbox "$addr" \
		"$sandbox_id"
	run_itest attacker_bounds 900 "$itest/attacker_bounds" "$addr" "$bounds_rootfs" \
		"$bounds_pid" "$sandbox_id"
	agent_teardown bounds_mem "$bounds_pid" "$addr" "$log"
	bounds_pid=
	attacker_bounds_cleanup
}
