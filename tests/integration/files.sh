# CopyFile, GetMetrics and SetPolicy end to end (issue 6), sourced by run.sh, which provides
# $pidone $itest $tmp, pass/fail, run_ctl and (from containers.sh) run_itest.
#
# An agent of its own: CopyFile writes below /run/kata-containers/shared/containers, so its
# /run is a private tmpfs (the host's /run is never touched), and the policy cases change
# its policy. The test program reads the files back through /proc/<agent-pid>/root.

files_tests() {
	local addr=unix://$tmp/files.sock log=$tmp/files-agent.log pid rc
	local shared_before shared_after
	if [ ! -x "$itest/files" ]; then
		fail files "missing $itest/files (make integration builds it)"
		return
	fi
	shared_before=$(ls -d /run/kata-containers/shared 2>/dev/null)
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	pid=$!
	run_ctl files_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	run_itest files 600 "$itest/files" "$addr" - "$pid" -
	# The last case left SetPolicy denied; DestroySandbox is still allowed.
	run_ctl files_destroy_sandbox 0 '' '' -- --addr "$addr" destroy-sandbox
	if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$pid"; then
		fail files_agent_stops "$wait_why"
		kill -KILL "$pid" 2>/dev/null
	else
		wait "$pid"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			pass files_agent_stops
		else
			fail files_agent_stops "exit status $rc; log ends with:"
			tail -10 "$log" | sed 's/^/    /'
		fi
	fi
	shared_after=$(ls -d /run/kata-containers/shared 2>/dev/null)
	if [ "$shared_before" = "$shared_after" ]; then
		pass files_host_run_untouched
	else
		fail files_host_run_untouched "the host's /run/kata-containers/shared appeared"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail files_agent_log_clean "sanitizer reports in the files agent's log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	else
		pass files_agent_log_clean
	fi
}
