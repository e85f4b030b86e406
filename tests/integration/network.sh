# Network tests of the host integration run (issue 6), sourced by run.sh, which provides
# $build $pidone $itest $tmp, pass/fail, run_ctl and run_itest (containers.sh), and calls
# network_cleanup from its exit trap.
#
# The agent runs in a network namespace made here, never the host's: pdnet-<pid of run.sh>
# holds a veth pair (pdv0, the "NIC" the tests configure, down; pdv1, its peer, up). A
# mount namespace with a tmpfs on /run keeps the host's /run out of reach too. Its socket
# lives outside /run so the host can reach it. No traffic leaves the namespace.

net_ns=
net_pid=

network_cleanup() {
	if [ -n "$net_pid" ] && kill -0 "$net_pid" 2>/dev/null; then
		kill -KILL "$net_pid" 2>/dev/null
		wait "$net_pid" 2>/dev/null
	fi
	net_pid=
	if [ -n "$net_ns" ]; then
		ip netns delete "$net_ns" 2>/dev/null
		net_ns=
	fi
}

network_setup() { # network_setup NETNS: the namespace and its links
	ip netns add "$1" &&
		ip -n "$1" link add pdv0 address 02:00:00:00:0a:01 type veth \
			peer name pdv1 address 02:00:00:00:0a:02 &&
		ip -n "$1" link set pdv1 up
}

network_tests() {
	local addr=unix://$tmp/network.sock log=$tmp/network-agent.log
	if [ ! -x "$itest/network" ]; then
		fail network "missing $itest/network (make integration builds it)"
		return
	fi
	net_ns=pdnet-$$
	if ! network_setup "$net_ns" 2>"$tmp/netns.err"; then
		fail network_namespace "cannot set up $net_ns: $(cat "$tmp/netns.err")"
		network_cleanup
		return
	fi

	ip netns exec "$net_ns" unshare -m --propagation private -- sh -c \
		'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	net_pid=$!
	run_ctl network_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	if ! kill -0 "$net_pid" 2>/dev/null; then
		fail network_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		network_cleanup
		return
	fi
	# The agent is in the namespace, not the host's: it must see pdv0, which the host lacks.
	if [ "$(readlink /proc/"$net_pid"/ns/net)" = "$(readlink /proc/self/ns/net)" ]; then
		fail network_agent_in_netns "the agent runs in the host's network namespace"
		network_cleanup
		return
	fi

	run_itest network 900 "$itest/network" "$addr" "$net_ns"

	if kill -0 "$net_pid" 2>/dev/null; then
		pass network_agent_survived
	else
		fail network_agent_survived "the agent died during the tests; its log ends with:"
		tail -20 "$log" | sed 's/^/    /'
	fi
	# A clean stop, so that a sanitizer build reports leaks into the log.
	run_ctl network_destroy_sandbox 0 '' '' -- --addr "$addr" destroy-sandbox
	if wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$net_pid"; then
		wait "$net_pid"
		local rc=$?
		net_pid=
		if [ "$rc" -eq 0 ]; then
			pass network_agent_stops
		else
			fail network_agent_stops "exit status $rc after DestroySandbox"
		fi
	else
		fail network_agent_stops "$wait_why"
	fi
	network_cleanup
	if ip netns list | grep -q "^pdnet-$$\b"; then
		fail network_namespace_removed "pdnet-$$ is still there"
	else
		pass network_namespace_removed
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail network_agent_log_clean "sanitizer reports in the network agent's log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	fi
}
