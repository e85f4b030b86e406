# Symlinks and bad strings from the host (issue 11, items 4 and 6), sourced by run.sh, which
# provides $build $pidone $itest $tmp $ctl, pass/fail, run_ctl, and (containers.sh)
# run_itest, agent_teardown and containers_make_rootfs.
#
# An agent of its own in a mount namespace with a tmpfs on /run; its /tmp is this
# machine's. The test program plants symlinks on the shared directory with CopyFile, to a
# directory of this machine ($tmp/outside) and to "/", and checks from here that storages
# going through them are refused and leave that directory as it was. Then requests whose
# strings hold NUL or bytes that are not UTF-8, from the test program and as files sent
# with `pidonectl call`.

attacker_paths_pid=

attacker_paths_tests() {
	local addr=unix://$tmp/attacker.sock log=$tmp/attacker-agent.log rootfs=$tmp/attacker-rootfs
	local outside=$tmp/outside kata_before kata_after
	if [ ! -x "$itest/attacker_paths" ]; then
		fail attacker_paths "missing $itest/attacker_paths (make integration builds it)"
		return
	fi
	containers_make_rootfs "$rootfs"
	mkdir -p "$outside" && chmod 0755 "$outside"
	kata_before=$(ls -d /run/kata-containers 2>/dev/null)
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	attacker_paths_pid=$!
	run_ctl attacker_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait 10 check
	IT_OUTSIDE=$outside run_itest attacker_paths 120 "$itest/attacker_paths" "$addr" \
		"$rootfs" "$attacker_paths_pid" pidone-it-attacker

	# Hand-made requests through pidonectl: a container id with a NUL, one with bytes that
	# are not UTF-8. INVALID_ARGUMENT naming the field, and a message that is UTF-8.
	printf '\x0a\x05ab\x00cd' >"$tmp/nul-id.pb"
	printf '\x0a\x04ab\xff\xfe' >"$tmp/bad-utf8-id.pb"
	local f out
	for f in nul-id bad-utf8-id; do
		run_ctl "attacker_ctl_$f" 1 '' \
			'^pidonectl: INVALID_ARGUMENT: RemoveContainer: string field container_id: ' \
			-- --addr "$addr" call grpc.AgentService RemoveContainer "$tmp/$f.pb"
		out=$("$ctl" --addr "$addr" call grpc.AgentService RemoveContainer "$tmp/$f.pb" 2>&1)
		if iconv -f UTF-8 -t UTF-8 <<<"$out" >/dev/null 2>&1; then
			pass "attacker_ctl_${f}_reply_utf8"
		else
			fail "attacker_ctl_${f}_reply_utf8" "pidonectl printed bytes that are not UTF-8"
		fi
	done
	agent_teardown attacker "$attacker_paths_pid" "$addr" "$log"
	attacker_paths_pid=
	kata_after=$(ls -d /run/kata-containers 2>/dev/null)
	if [ "$kata_before" = "$kata_after" ] && [ -z "$(ls -A "$outside")" ] &&
		[ "$(stat -c %a "$outside")" = 755 ]; then
		pass attacker_host_untouched
	else
		fail attacker_host_untouched "$outside or the host's /run/kata-containers changed"
	fi
}

attacker_paths_cleanup() {
	[ -n "$attacker_paths_pid" ] && kill -KILL "$attacker_paths_pid" 2>/dev/null
	attacker_paths_pid=
}
