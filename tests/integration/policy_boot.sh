# The policy the image carries (issue 6): at start the agent loads /etc/pidone/policy.json.
# Sourced by run.sh, which provides $pidone $tmp, pass/fail and run_ctl.
#
# Each agent gets a private /etc (a tmpfs in its own mount namespace) holding only the policy
# file of the case, so the host's /etc is never touched.

# policy_boot_agent NAME POLICY_TEXT: start an agent with that /etc/pidone/policy.json;
# sets pb_addr, pb_pid, pb_log.
policy_boot_agent() {
	local name=$1
	printf '%s' "$2" >"$tmp/$name.policy.json"
	pb_addr=unix://$tmp/$name.sock
	pb_log=$tmp/$name.log
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		mount -t tmpfs -o mode=755 tmpfs /etc && mkdir /etc/pidone &&
		cp "$2" /etc/pidone/policy.json &&
		exec "$0" --server-addr "$1" --log-level debug' \
		"$pidone" "$pb_addr" "$tmp/$name.policy.json" >"$pb_log" 2>&1 &
	pb_pid=$!
}

# A clean stop (SIGTERM), so that a sanitizer build writes its report; SIGKILL only if it
# hangs.
policy_boot_stop() {
	kill -TERM "$pb_pid" 2>/dev/null
	wait_for "exit of the agent after SIGTERM" "$WAIT_S" gone "$pb_pid" ||
		fail "$1_stops" "$wait_why"
	kill -KILL "$pb_pid" 2>/dev/null
	wait "$pb_pid" 2>/dev/null
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$pb_log"; then
		fail "$1_log_clean" "sanitizer reports in $pb_log"
	else
		pass "$1_log_clean"
	fi
}

policy_boot_tests() {
	# A valid policy: one method denied by a named rule, the rest allowed; SetPolicy replaces it.
	policy_boot_agent policy_boot '{"rules": [
		{"rpc": "GetGuestDetails", "action": "deny", "name": "no-guest-details"}]}'
	run_ctl policy_boot_starts 0 '^SERVING$' '' -- --addr "$pb_addr" --wait "$WAIT_S" check
	run_ctl policy_boot_denies 1 '' \
		'^pidonectl: PERMISSION_DENIED: .*GetGuestDetails.*no-guest-details' \
		-- --addr "$pb_addr" call grpc.AgentService GetGuestDetails
	run_ctl policy_boot_allows_others 0 'agent_version' '' \
		-- --addr "$pb_addr" version
	if grep -q 'policy loaded.*path=/etc/pidone/policy.json rules=1' "$pb_log"; then
		pass policy_boot_logged
	else
		fail policy_boot_logged "no 'policy loaded ... rules=1' line in $pb_log"
	fi
	echo '{"policy": "{}"}' >"$tmp/policy_boot_open.json"
	run_ctl policy_boot_replaced 0 '' '' \
		-- --addr "$pb_addr" call grpc.AgentService SetPolicy --json "$tmp/policy_boot_open.json"
	run_ctl policy_boot_replaced_allows 0 '"agent_details"' '' \
		-- --addr "$pb_addr" call grpc.AgentService GetGuestDetails
	policy_boot_stop policy_boot

	# A file that is not a valid policy: every call is denied, naming the file and the reason.
	policy_boot_agent policy_broken '{"rules": [{"rpc": "Check", "aciton": "deny"}]}'
	run_ctl policy_broken_denies_all 1 '' \
		'^pidonectl: PERMISSION_DENIED: .*/etc/pidone/policy.json did not load.*aciton' \
		-- --addr "$pb_addr" --wait "$WAIT_S" check
	run_ctl policy_broken_denies_setpolicy 1 '' '^pidonectl: PERMISSION_DENIED: .*did not load' \
		-- --addr "$pb_addr" call grpc.AgentService SetPolicy --json "$tmp/policy_boot_open.json"
	policy_boot_stop policy_broken
}
