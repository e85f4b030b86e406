#!/bin/bash
# Host integration tests: start the agent on a unix socket and drive it with pidonectl and
# the test programs of build/itest/.
#   tests/integration/run.sh BUILD_DIR
# PIDONE=/path/to/agent runs another build of the agent (e.g. one with ASan/UBSan, whose
# reports in the agent's log fail the run); PD_KEEP_TMP=1 keeps the logs; PD_IT_ONLY runs
# only some sections (see below).
# The agent runs in a mount namespace of its own (unshare -m) so that nothing it might
# mount reaches the host, but NOT in a new pid namespace: there it would be pid 1 and
# boot as the guest's init.
set -u

build=${1:-build}
build=$(cd "$build" && pwd) || exit 2
pidone=${PIDONE:-$build/pidone}
ctl=$build/pidonectl
itest=$build/itest
for f in "$pidone" "$ctl" "$itest/ttrpc_torture"; do
	[ -x "$f" ] || {
		echo "integration: missing $f (make integration builds it)" >&2
		exit 2
	}
done

tmp=$(mktemp -d /tmp/pidone-it.XXXXXX)
addr=unix://$tmp/agent.sock
agent_log=$tmp/agent.log
agent_pid=
passed=0
failed=0
skipped=0

cleanup() {
	containers_cleanup
	namespaces_cleanup
	hooks_cleanup
	network_cleanup
	storage_cleanup
	attacker_bounds_cleanup
	attacker_paths_cleanup
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		kill -TERM "$agent_pid" 2>/dev/null
		sleep 0.5
		kill -KILL "$agent_pid" 2>/dev/null
	fi
	jobs -p | xargs -r kill 2>/dev/null
	[ -n "${PD_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
# wait_for, gone, WAIT_S: waiting for conditions with a generous bound.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The container tests (issue 3): containers_tests, containers_cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/containers.sh"
# User namespaces and sandbox_pidns (issue 4): namespaces_tests, namespaces_cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/namespaces.sh"
# CopyFile, GetMetrics, SetPolicy (issue 6): files_tests.
. "$(dirname "${BASH_SOURCE[0]}")/files.sh"
# The network tests (issue 6): network_tests, network_cleanup (deletes its netns).
. "$(dirname "${BASH_SOURCE[0]}")/network.sh"
# OCI hooks and guest hooks (issue 4): hooks_tests, hooks_cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/hooks.sh"
# What a host can make the agent hold (issue 11): attacker_bounds_tests, _cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/attacker_bounds.sh"
# Attacks on the agent's set-up children (issue 11): attacker_fds_tests.
. "$(dirname "${BASH_SOURCE[0]}")/attacker_fds.sh"
# Attacks on the shared pid namespace's PID 1 (issue 11): attacker_holder_tests.
. "$(dirname "${BASH_SOURCE[0]}")/attacker_holder.sh"

pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

start_agent() { # start_agent ADDR LOG: sets agent_pid
	unshare -m -- "$pidone" --server-addr "$1" --log-level debug >"$2" 2>&1 &
	agent_pid=$!
}

agent_alive() {
	kill -0 "$agent_pid" 2>/dev/null
}

# run_ctl NAME WANT_EXIT STDOUT_REGEX STDERR_REGEX -- pidonectl args...
run_ctl() {
	local name=$1 want=$2 out_re=$3 err_re=$4
	shift 5
	local out err rc
	out=$(timeout 60 "$ctl" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want (stdout: ${out:0:200}; stderr: ${err:0:300})"
	elif [ -n "$out_re" ] && ! grep -Eq -- "$out_re" <<<"$out"; then
		fail "$name" "stdout '${out:0:300}' does not match /$out_re/"
	elif [ -n "$err_re" ] && ! grep -Eq -- "$err_re" <<<"$err"; then
		fail "$name" "stderr '${err:0:300}' does not match /$err_re/"
	else
		pass "$name"
	fi
}

# Block storages and devices (issue 4): storage_tests, see storage.sh.
. "$(dirname "${BASH_SOURCE[0]}")/storage.sh"
# Symlinks and bad strings from the host (issue 11): attacker_paths_tests.
. "$(dirname "${BASH_SOURCE[0]}")/attacker_paths.sh"
# PD_IT_ONLY="cgroups guest": only those sections (files policy_boot containers namespaces
# hooks storage guest network cgroups attacker_bounds attacker_fds attacker_paths), each
# with its own agent; the main agent's checks and ctl_run.sh are left out.
if [ -n "${PD_IT_ONLY:-}" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/guest.sh"
	. "$(dirname "${BASH_SOURCE[0]}")/cgroups.sh"
	. "$(dirname "${BASH_SOURCE[0]}")/policy_boot.sh"
	for section in $PD_IT_ONLY; do "${section}_tests"; done
	echo "integration (only $PD_IT_ONLY): $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
fi

# ---- the agent comes up -------------------------------------------------------------------
start_agent "$addr" "$agent_log"
run_ctl agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
if ! agent_alive; then
	fail agent_alive "the agent exited at start; its log:"
	sed 's/^/    /' "$agent_log" | tail -20
	echo "integration: $passed passed, $failed failed, $skipped skipped"
	exit 1
fi

# ---- pidonectl against the agent ----------------------------------------------------------
export PIDONE_ADDR=$addr
run_ctl check 0 '^SERVING$' '' -- check
run_ctl version 0 '^agent_version=[^ ]+ grpc_version=[^ ]+$' '' -- version
run_ctl call_check_json 0 '"status": "SERVING"' '' -- call grpc.Health Check
printf '\x0a\x03abc' >"$tmp/check.pb" # CheckRequest{service: "abc"}
run_ctl call_request_file 0 '"status": "SERVING"' '' -- call grpc.Health Check "$tmp/check.pb"
run_ctl call_request_stdin 0 '"agent_version"' '' -- call grpc.Health Version - <"$tmp/check.pb"
run_ctl unknown_method 1 '' '^pidonectl: UNIMPLEMENTED: .*NoSuchMethod' \
	-- call grpc.Health NoSuchMethod
run_ctl unknown_service 1 '' '^pidonectl: UNIMPLEMENTED: .*grpc\.NoSuchService' \
	-- call grpc.NoSuchService Check
run_ctl rpc_not_built_yet 1 '' '^pidonectl: UNIMPLEMENTED: .*ResizeVolume' \
	-- call grpc.AgentService ResizeVolume
printf '\x0a\x7f' >"$tmp/bad.pb" # a string field cut short
run_ctl payload_does_not_decode 1 '' '^pidonectl: INVALID_ARGUMENT: ' \
	-- call grpc.Health Check "$tmp/bad.pb"
run_ctl env_addr_overridden 3 '' '^pidonectl: NOT_FOUND: ' -- --addr "unix://$tmp/none.sock" check
run_ctl no_agent_is_exit_3 3 '' '^pidonectl: ' -- --addr "unix://$tmp/none.sock" version
run_ctl usage_is_exit_2 2 '' '^pidonectl: INVALID_ARGUMENT: unknown command' -- frobnicate
run_ctl bad_addr_is_exit_2 2 '' '^pidonectl: INVALID_ARGUMENT: ' -- --addr tcp://x:1 check
run_ctl missing_file_is_exit_2 2 '' '^pidonectl: NOT_FOUND: ' \
	-- call grpc.Health Check "$tmp/missing.pb"

# ---- the torture program ------------------------------------------------------------------
while IFS= read -r line; do
	case $line in
	PASS\ *) pass "torture/${line#PASS }" ;;
	SKIP\ *)
		echo "$line"
		skipped=$((skipped + 1))
		;;
	FAIL\ *)
		rest=${line#FAIL }
		fail "torture/${rest%%:*}" "${rest#*: }"
		;;
	*) echo "$line" ;;
	esac
done < <(timeout 900 "$itest/ttrpc_torture" "$addr" 2>&1)

if agent_alive; then
	pass agent_survived_torture
else
	fail agent_survived_torture "the agent died during the tests; its log ends with:"
	tail -20 "$agent_log" | sed 's/^/    /'
fi

# ---- --wait and --timeout -----------------------------------------------------------------
# An agent that starts late: pidonectl --wait keeps trying until it serves.
late=unix://$tmp/late.sock
(sleep 1 && exec unshare -m -- "$pidone" --server-addr "$late" >"$tmp/late.log" 2>&1) &
late_job=$!
run_ctl wait_for_late_agent 0 '^SERVING$' '' -- --addr "$late" --wait "$WAIT_S" check
kill -TERM "$late_job" 2>/dev/null

# A socket that accepts and never answers (a QEMU chardev whose guest is not up yet):
# --timeout and --wait give up in time, with exit 3. "In time": while a call with the
# default timeout (30 s), started before them on another such socket, still waits — an
# order, not a number of milliseconds.
silent_up() { [ -S "$tmp/silent.sock" ] && [ -S "$tmp/silent2.sock" ]; }
"$itest/ttrpc_torture" --silent-server "$tmp/silent.sock" 600 &
silent_job=$!
"$itest/ttrpc_torture" --silent-server "$tmp/silent2.sock" 600 &
silent2_job=$!
if wait_for "silent server sockets" "$WAIT_S" silent_up; then
	"$ctl" --addr "unix://$tmp/silent2.sock" check >"$tmp/silent-ref.out" 2>&1 &
	ref_job=$!
	run_ctl silent_timeout 3 '' '^pidonectl: DEADLINE_EXCEEDED: ' \
		-- --addr "unix://$tmp/silent.sock" --timeout 1 check
	run_ctl silent_wait 3 '' '^pidonectl: DEADLINE_EXCEEDED: .*no agent answered' \
		-- --addr "unix://$tmp/silent.sock" --wait 3 check
	if ! gone "$ref_job"; then
		pass silent_gives_up_in_time
	else
		fail silent_gives_up_in_time "a call with the default timeout ended before the \
--timeout 1 and --wait 3 ones: $(cat "$tmp/silent-ref.out")"
	fi
	kill "$ref_job" 2>/dev/null
else
	fail silent_server "$wait_why"
fi
kill "$silent_job" "$silent2_job" 2>/dev/null

# ---- the end: DestroySandbox stops a host-mode agent cleanly -------------------------------
run_ctl destroy_sandbox 0 '' '' -- destroy-sandbox
if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$agent_pid"; then
	fail agent_stops_after_destroy "$wait_why"
else
	wait "$agent_pid"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass agent_stops_after_destroy
	else
		fail agent_stops_after_destroy "exit status $rc; log ends with:"
		tail -10 "$agent_log" | sed 's/^/    /'
	fi
fi
agent_pid=

if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$agent_log"; then
	fail agent_log_clean "sanitizer reports in the agent log:"
	grep -E 'Sanitizer|runtime error:' "$agent_log" | head -5 | sed 's/^/    /'
else
	pass agent_log_clean
fi
# ---- CopyFile, GetMetrics, SetPolicy (issue 6): an agent of its own, see files.sh ---------
files_tests
# ---- the policy file the image carries (issue 6), see policy_boot.sh -----------------------
. "$(dirname "${BASH_SOURCE[0]}")/policy_boot.sh"
policy_boot_tests
# ---- containers (issue 3): a second agent, see containers.sh ------------------------------
containers_tests
# ---- user namespaces, sandbox_pidns (issue 4): two more agents, see namespaces.sh --------
namespaces_tests
# ---- OCI hooks and guest hooks (issue 4): an agent of its own, see hooks.sh --------------
hooks_tests
# ---- pidonectl run/exec/kill/wait/rm on runc and crun bundles (issue 3), see ctl_run.sh ---
ctl_summary=
while IFS= read -r line; do
	case $line in
	PASS\ *) pass "ctl/${line#PASS }" ;;
	FAIL\ *) rest=${line#FAIL } && fail "ctl/${rest%%:*}" "${rest#*: }" ;;
	SKIP\ *) echo "$line" && skipped=$((skipped + 1)) ;;
	ctl:\ [0-9]*\ passed,*) echo "$line" && ctl_summary=$line ;;
	*) echo "$line" ;;
	esac
done < <(PIDONE=$pidone timeout -k 5 1800 bash "$(dirname "${BASH_SOURCE[0]}")/ctl_run.sh" "$build" 2>&1)
[ -n "$ctl_summary" ] || fail ctl/finished "ctl_run.sh ended without its summary line"
# ---- guest management (issue 6): a third agent, in its own netns too, see guest.sh --------
. "$(dirname "${BASH_SOURCE[0]}")/guest.sh"
guest_tests
# ---- network (issue 6): an agent in a network namespace with a veth pair, see network.sh --
network_tests
# ---- cgroups (issues 4, 6): an agent making cgroups under a parent of its own, cgroups.sh -
. "$(dirname "${BASH_SOURCE[0]}")/cgroups.sh"
cgroups_tests
# ---- block storages and devices (issue 4): an agent with a short hotplug timeout ---------
storage_tests
# ---- what a host can make the agent hold (issue 11): two agents, see attacker_bounds.sh --
attacker_bounds_tests
# ---- the agent's set-up children hold nothing of it (issue 11), see attacker_fds.sh -----
attacker_fds_tests
# ---- the shared pid namespace's PID 1 holds nothing of the agent (issue 11), attacker_holder.sh
attacker_holder_tests
# ---- symlinks and bad strings from the host (issue 11): see attacker_paths.sh ------------
attacker_paths_tests

echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
