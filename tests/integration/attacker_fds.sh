# Attacks on the agent's set-up children (issue 11 item 1; docs/security.md, "Forked
# children hold nothing of the agent"), sourced by run.sh after containers.sh (run_itest,
# containers_make_rootfs, agent_teardown); run.sh provides $build $pidone $itest $tmp,
# pass/fail and run_ctl. Run alone: PD_IT_ONLY=attacker_fds tests/integration/run.sh build
#
# An agent of its own, like the containers' one (a mount namespace with a tmpfs on /run),
# whose sandbox has no sandbox_pidns: its last case asks for it container by container.
# The test rootfs is pdtest's (its `fdrace` mode is the attacker inside the containers);
# fds.sh, a /bin/sh prestart hook of this host, lists what the container process holds
# while it waits for the hooks.

afd_pid=

attacker_fds_tests() {
	local addr=unix://$tmp/attacker-fds.sock log=$tmp/attacker-fds-agent.log
	local sandbox=pidone-it-fds rootfs=$tmp/attacker-rootfs hook=$tmp/attacker-hooks/fds.sh
	if [ ! -x "$itest/attacker_fds" ] || [ ! -x "$build/pdtest" ]; then
		fail attacker_fds "missing $itest/attacker_fds or $build/pdtest (make integration)"
		return
	fi
	containers_make_rootfs "$rootfs"
	# The root of a user namespace (host uid 100000) sets a rootfs up: it must reach it.
	chmod 755 "$tmp"
	mkdir -p "${hook%/*}"
	cat >"$hook" <<'SH'
#!/bin/sh
# fds.sh OUT: "N TARGET" for each fd of the process whose pid the OCI state on stdin names.
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
for f in /proc/"$pid"/fd/*; do
	printf '%s %s\n' "${f##*/}" "$(readlink "$f")"
done | sort -n >"$1"
SH
	chmod 755 "$hook"
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	afd_pid=$!
	run_ctl attacker_fds_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 check
	if ! kill -0 "$afd_pid" 2>/dev/null; then
		fail attacker_fds_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		return
	fi
	run_itest attacker_fds 30 "$itest/attacker_fds" --create-sandbox "$addr" "$sandbox"
	PD_FDS_HOOK=$hook run_itest attacker_fds 600 "$itest/attacker_fds" "$addr" "$rootfs" \
		"$afd_pid" "$sandbox"
	agent_teardown attacker_fds "$afd_pid" "$addr" "$log"
	afd_pid=
}
