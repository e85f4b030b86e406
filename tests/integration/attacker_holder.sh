# Attacks on the sandbox's shared pid namespace's PID 1 (issue 11 item 2; docs/security.md,
# "The shared pid namespace's PID 1"), sourced by run.sh after containers.sh (run_itest,
# containers_make_rootfs, agent_teardown); run.sh provides $build $pidone $itest $tmp,
# pass/fail and run_ctl. Run alone: PD_IT_ONLY=attacker_holder tests/integration/run.sh build
#
# An agent of its own (a mount namespace with a tmpfs on /run, like the containers' one)
# whose CreateSandbox asks for sandbox_pidns. The sandbox id is the marker the attacker looks
# for in pid 1's memory: random, so that nothing but the agent's memory can hold it. The
# attacker is `pdtest holder-probe` in a container with CAP_SYS_PTRACE and CAP_SYS_ADMIN.

aho_pid=

attacker_holder_tests() {
	local addr=unix://$tmp/attacker-holder.sock log=$tmp/attacker-holder-agent.log
	local rootfs=$tmp/attacker-holder-rootfs sandbox
	if [ ! -x "$itest/attacker_holder" ] || [ ! -x "$build/pdtest" ]; then
		fail attacker_holder "missing $itest/attacker_holder or $build/pdtest (make integration)"
		return
	fi
	# Not started by the agent (not pid 1, no pipe on fd 3): it refuses, and does nothing.
	local out rc
	out=$(exec -a pidns-holder "$pidone" 2>&1 3>&-)
	rc=$?
	if [ "$rc" -eq 2 ] && [[ $out == *"is started by the agent only"* ]]; then
		pass attacker_holder_mode_refused_by_hand
	else
		fail attacker_holder_mode_refused_by_hand "exit $rc, output: ${out:0:200}"
	fi
	sandbox=holder-marker-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	containers_make_rootfs "$rootfs"
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	aho_pid=$!
	run_ctl attacker_holder_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 check
	if ! kill -0 "$aho_pid" 2>/dev/null; then
		fail attacker_holder_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		return
	fi
	run_itest attacker_holder 30 "$itest/attacker_holder" --create-sandbox "$addr" "$sandbox" \
		--pidns
	run_itest attacker_holder 300 "$itest/attacker_holder" "$addr" "$rootfs" "$aho_pid" \
		"$sandbox"
	# The last case was DestroySandbox: the agent stops by itself.
	for _ in $(seq 100); do
		kill -0 "$aho_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$aho_pid" 2>/dev/null; then
		fail attacker_holder_agent_stops "still running 10 s after DestroySandbox"
		kill -KILL "$aho_pid" 2>/dev/null
	else
		wait "$aho_pid"
		local rc=$?
		if [ "$rc" -eq 0 ]; then
			pass attacker_holder_agent_stops
		else
			fail attacker_holder_agent_stops "exit status $rc; its log ends with:"
			tail -10 "$log" | sed 's/^/    /'
		fi
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail attacker_holder_agent_log_clean "sanitizer reports in the agent log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	else
		pass attacker_holder_agent_log_clean
	fi
	aho_pid=
	attacker_holder_dies_with_agent "$addr" "$log" "$sandbox"
}

# The holder drops its ids, which clears a parent-death signal: it must still die with an
# agent killed outright (on a host run it would linger, holding its namespaces).
attacker_holder_dies_with_agent() {
	local addr=$1 log=$2 sandbox=$3 holder= p
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >>"$log" 2>&1 &
	aho_pid=$!
	run_ctl attacker_holder_second_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 \
		check
	run_itest attacker_holder 30 "$itest/attacker_holder" --create-sandbox "$addr" "$sandbox" \
		--pidns
	for p in $(cat "/proc/$aho_pid/task/$aho_pid/children" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = pidns-holder ] && holder=$p
	done
	kill -KILL "$aho_pid" 2>/dev/null
	wait "$aho_pid" 2>/dev/null
	aho_pid=
	if [ -z "$holder" ]; then
		fail attacker_holder_dies_with_agent "no holder among the agent's children"
		return
	fi
	for _ in $(seq 100); do
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$holder" 2>/dev/null; then
		fail attacker_holder_dies_with_agent "the holder $holder outlived its agent by 10 s"
		kill -KILL "$holder" 2>/dev/null
	else
		pass attacker_holder_dies_with_agent
	fi
}
