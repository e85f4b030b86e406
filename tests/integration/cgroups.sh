# cgroup tests of the host integration run (issues 4 and 6), sourced by run.sh, which
# provides $build $pidone $ctl $itest $tmp, pass/fail, run_ctl, and run_itest and
# containers_make_rootfs (containers.sh).
#
# An agent of its own, in a mount namespace with a tmpfs on /run, started with
# PIDONE_CGROUP_PARENT=pidone-it-<pid>: its containers' cgroups are made on this host's
# cgroup tree, but only under /sys/fs/cgroup/<controller>/pidone-it-<pid>/, which the agent
# removes at DestroySandbox and cgroups_cleanup removes whatever happens (after killing what
# is left in it). Without root or cgroups on this host the tests are skipped.
#
# For the QEMU boot test, cgroups_qemu_check runs the same program against an agent in a VM
# (RPC-level checks only, cgroup v1 or v2), see docs/cgroups.md.

cg_pid=
cg_parent=pidone-it-$$

cg_agent_alive() {
	[ -n "$cg_pid" ] && kill -0 "$cg_pid" 2>/dev/null
}

# Kill what is left in our cgroups and remove them, deepest first, in every hierarchy.
cgroups_cleanup() {
	local d p
	if cg_agent_alive; then
		kill -KILL "$cg_pid" 2>/dev/null
	fi
	for d in /sys/fs/cgroup/*/"$cg_parent" /sys/fs/cgroup/"$cg_parent"; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d | while IFS= read -r p; do
			[ -w "$p/freezer.state" ] && echo THAWED >"$p/freezer.state" 2>/dev/null
			[ -w "$p/cgroup.freeze" ] && echo 0 >"$p/cgroup.freeze" 2>/dev/null
			xargs -r kill -KILL <"$p/cgroup.procs" 2>/dev/null
			for _ in $(seq 50); do rmdir "$p" 2>/dev/null && break; sleep 0.1; done
		done
	done
}

cgroups_tests() {
	local addr=unix://$tmp/cgroups.sock log=$tmp/cgroups-agent.log sandbox=pidone-it-cg
	local rootfs=$tmp/cg-rootfs left
	if [ "$(id -u)" -ne 0 ] ||
		{ [ ! -d /sys/fs/cgroup/memory ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; }; then
		echo "SKIP cgroups: needs root and a cgroup tree at /sys/fs/cgroup"
		skipped=$((skipped + 1))
		return
	fi
	if [ ! -x "$itest/cgroups" ] || [ ! -x "$itest/containers" ]; then
		fail cgroups "missing $itest/cgroups (make integration builds it)"
		return
	fi
	trap 'cgroups_cleanup; cleanup' EXIT
	containers_make_rootfs "$rootfs"
	PIDONE_CGROUP_PARENT=$cg_parent unshare -m --propagation private -- sh -c \
		'mount -t tmpfs -o mode=755 tmpfs /run && exec "$0" --server-addr "$1" --log-level debug' \
		"$pidone" "$addr" >"$log" 2>&1 &
	cg_pid=$!
	run_ctl cgroups_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	if ! cg_agent_alive; then
		fail cgroups_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		trap cleanup EXIT
		return
	fi
	run_itest cgroups 120 "$itest/containers" --create-sandbox "$addr" "$sandbox"
	run_itest cgroups 900 "$itest/cgroups" "$addr" "$rootfs" "$cg_pid" "$sandbox"
	run_itest cgroups 300 "$itest/cgroups" --destroy-sandbox "$addr" "$rootfs" \
		"$cg_pid" "$sandbox"
	if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$cg_pid"; then
		fail cgroups_agent_stops "$wait_why"
	else
		wait "$cg_pid"
		cg_pid=
	fi
	left=$(ls -d /sys/fs/cgroup/*/"$cg_parent" /sys/fs/cgroup/"$cg_parent" 2>/dev/null |
		tr '\n' ' ')
	if [ -z "$left" ]; then
		pass cgroups_host_tree_clean
	else
		fail cgroups_host_tree_clean "left on the host after DestroySandbox: $left"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail cgroups_agent_log_clean "sanitizer reports in the cgroup agent's log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	fi
	cgroups_cleanup
	trap cleanup EXIT
}

# For qemu-tests (qemu-tests/guest.sh sets $itest): the cases against the agent of a booted
# VM, whose container rootfs is ROOTFS (a path in the guest, e.g. on the 9p share) and whose
# sandbox exists: the RPC-level ones and those that look from inside a container (limits,
# OOM kill, fork bomb). Not --destroy-sandbox: it needs a second connection, which the one
# virtio-serial port does not give; the boot test's own DestroySandbox check follows.
#   cgroups_qemu_check ADDR ROOTFS SANDBOX_ID   → prints ok/not ok lines, returns non-zero
#                                                on a failed case
cgroups_qemu_check() {
	"$itest/cgroups" "$1" "$2" 0 "$3"
}
