# User namespace and sandbox_pidns tests of the host integration run (issue 4), sourced by
# run.sh after containers.sh (run_itest, containers_make_rootfs); run.sh provides $build
# $pidone $itest $tmp and pass/fail, and calls namespaces_cleanup from its exit trap.
#
# Two agents, each in a mount namespace with its own tmpfs on /run (as containers.sh does):
# one with a plain sandbox (user namespaces; pid namespaces without sandbox_pidns), one whose
# CreateSandbox asks for sandbox_pidns, ended by DestroySandbox.
#
# Run alone: bash tests/integration/namespaces.sh BUILD_DIR [CASE...]
# (PIDONE=build/pidone-asan for the sanitizer build).

ns_pids=

namespaces_cleanup() {
	local p
	for p in $ns_pids; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ns_pids=
}

ns_start_agent() { # ns_start_agent ADDR LOG: sets ns_agent
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$1" >"$2" 2>&1 &
	ns_agent=$!
	ns_pids="$ns_pids $ns_agent"
	if ! timeout $((WAIT_S + 10)) "$build/pidonectl" --addr "$1" --wait "$WAIT_S" check \
		>/dev/null 2>&1; then
		fail "$3/agent_starts" "no agent at $1; its log:"
		tail -20 "$2" | sed 's/^/    /'
		return 1
	fi
}

ns_log_clean() { # ns_log_clean NAME LOG
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$2"; then
		fail "$1/agent_log_clean" "sanitizer reports in $2:"
		grep -E 'Sanitizer|runtime error:' "$2" | head -5 | sed 's/^/    /'
	else
		pass "$1/agent_log_clean"
	fi
}

namespaces_tests() {
	local rootfs=$tmp/ns-rootfs addr log ns_agent
	if [ ! -x "$itest/namespaces" ] || [ ! -x "$build/pdtest" ]; then
		fail namespaces "missing $itest/namespaces or $build/pdtest"
		return
	fi
	containers_make_rootfs "$rootfs"
	# The root of a user namespace (host uid 100000) sets the rootfs up: it must be able
	# to reach it, as with runc (mktemp made $tmp 0700).
	# Nor may it create a mount destination in a directory of the host's root: /vol exists.
	chmod 755 "$tmp"
	mkdir -p "$rootfs/vol"

	addr=unix://$tmp/ns-user.sock
	log=$tmp/ns-user-agent.log
	if ns_start_agent "$addr" "$log" namespaces; then
		run_itest namespaces 120 "$itest/namespaces" --create-sandbox "$addr" ns-it
		run_itest namespaces 1200 "$itest/namespaces" "$addr" "$rootfs" "$ns_agent" ns-it "$@"
		if kill -0 "$ns_agent" 2>/dev/null; then
			pass namespaces/agent_survived
		else
			fail namespaces/agent_survived "the agent died; its log ends with:"
			tail -20 "$log" | sed 's/^/    /'
		fi
		ns_log_clean namespaces "$log"
	fi
	namespaces_cleanup

	addr=unix://$tmp/ns-pid.sock
	log=$tmp/ns-pid-agent.log
	if ns_start_agent "$addr" "$log" shared_pidns; then
		run_itest shared_pidns 120 "$itest/namespaces" --create-sandbox "$addr" ns-pid-it \
			--pidns
		run_itest shared_pidns 900 "$itest/namespaces" --shared-pidns "$addr" "$rootfs" \
			"$ns_agent" ns-pid-it
		if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$ns_agent"
		then
			fail shared_pidns/agent_stops_after_destroy "$wait_why"
		else
			wait "$ns_agent"
			local rc=$?
			if [ "$rc" -eq 0 ]; then
				pass shared_pidns/agent_stops_after_destroy
			else
				fail shared_pidns/agent_stops_after_destroy "exit status $rc"
			fi
		fi
		ns_log_clean shared_pidns "$log"
	fi
	namespaces_cleanup
}

# Alone: the few things run.sh would provide.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	build=$(cd "${1:-build}" && pwd) || exit 2
	shift
	pidone=${PIDONE:-$build/pidone}
	itest=$build/itest
	tmp=$(mktemp -d /tmp/pidone-ns.XXXXXX)
	passed=0
	failed=0
	pass() { echo "PASS $1" && passed=$((passed + 1)); }
	fail() { echo "FAIL $1: $2" && failed=$((failed + 1)); }
	trap 'namespaces_cleanup; [ -n "${PD_KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
	. "$(dirname "${BASH_SOURCE[0]}")/containers.sh"
	namespaces_tests "$@"
	echo "namespaces: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
fi
