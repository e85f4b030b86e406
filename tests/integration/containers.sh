# Container tests of the host integration run (issue 3), sourced by run.sh, which provides
# $build $pidone $ctl $itest $tmp, pass/fail and run_ctl, and calls containers_cleanup
# from its exit trap.
#
# A second agent runs in a mount namespace with its own tmpfs on /run: /run/libcontainer,
# /run/kata-containers and /var/run/sandbox-ns (/var/run -> /run on Debian) stay inside
# it. Its socket lives outside /run so the host can reach it. The test rootfs is pdtest
# and its command links, no distro image. The test programs read what the agent leaves
# behind through /proc/<agent-pid>/root.

ctr_pid=
ctr_rootfs=

# Pids of processes running the test rootfs's pdtest (by inode: it is our copy), wherever
# they are: a container init outlives an agent that crashed.
containers_payload_pids() {
	local p
	[ -n "$ctr_rootfs" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$ctr_rootfs/bin/pdtest" ] 2>/dev/null && echo "${p#/proc/}"
	done
}

containers_cleanup() {
	local p
	if [ -n "$ctr_pid" ] && kill -0 "$ctr_pid" 2>/dev/null; then
		kill -KILL "$ctr_pid" 2>/dev/null
	fi
	for p in $(containers_payload_pids); do
		kill -KILL "$p" 2>/dev/null
	done
}

# run_itest NAME SECONDS CMD...: fold a test program's "ok - x" / "not ok - x: why" lines
# into the totals as NAME/x; its other lines are shown as they are. SECONDS guards against a
# hang: several times what the program takes on a loaded host, never a measurement. A program that ends
# badly without saying which case failed counts as a failure of NAME/exit.
run_itest() {
	local name=$1 secs=$2 line rest rc=0 bad=0
	shift 2
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$name/${line#ok - }" ;;
		"not ok - "*)
			rest=${line#not ok - }
			fail "$name/${rest%%: *}" "${rest#*: }"
			bad=1
			;;
		"#rc="*) rc=${line#\#rc=} ;;
		*) echo "$line" ;;
		esac
	done < <(timeout -k 5 "$secs" "$@" 2>&1; echo "#rc=$?")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		fail "$name/exit" "exit status $rc without a failed case (124: timed out)"
	fi
}

# agent_teardown NAME PID ADDR LOG: the end of a test agent's run — it survived the tests,
# DestroySandbox stops it (status 0; else it is killed after WAIT_S), no sanitizer report in
# its log. Checks are named NAME_agent_survived, NAME_destroy_sandbox, NAME_agent_stops,
# NAME_agent_log_clean.
agent_teardown() {
	local name=$1 pid=$2 addr=$3 log=$4 rc
	if kill -0 "$pid" 2>/dev/null; then
		pass "${name}_agent_survived"
	else
		fail "${name}_agent_survived" "the agent died during the tests; its log ends with:"
		tail -20 "$log" | sed 's/^/    /'
	fi
	run_ctl "${name}_destroy_sandbox" 0 '' '' -- --addr "$addr" destroy-sandbox
	if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$pid"; then
		fail "${name}_agent_stops" "$wait_why"
		kill -KILL "$pid" 2>/dev/null
	else
		wait "$pid"
		rc=$?
		[ "$rc" -eq 0 ] && pass "${name}_agent_stops" ||
			fail "${name}_agent_stops" "exit status $rc"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail "${name}_agent_log_clean" "sanitizer reports in the agent log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	else
		pass "${name}_agent_log_clean"
	fi
}

containers_make_rootfs() { # containers_make_rootfs DIR
	local dir=$1 cmd
	mkdir -p "$dir"/{bin,proc,dev,sys,tmp,etc,work,root,home/user}
	chmod 1777 "$dir/tmp"
	cp "$build/pdtest" "$dir/bin/pdtest"
	for cmd in echo true false exit cat status env pwd hostname pid isatty sleep trap-term \
		spew rlimit kill-self stat write bg-child; do
		ln -s pdtest "$dir/bin/$cmd"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' \
		>"$dir/etc/passwd"
}

ctr_agent_alive() {
	kill -0 "$ctr_pid" 2>/dev/null
}

containers_tests() {
	local f rootfs=$tmp/rootfs sandbox_id=pidone-it-sandbox left
	local ctr_addr=unix://$tmp/containers.sock ctr_log=$tmp/containers-agent.log
	local run_before run_after rc
	for f in "$build/pdtest" "$itest/containers" "$itest/container_security"; do
		if [ ! -x "$f" ]; then
			fail containers "missing $f (make integration builds it)"
			return
		fi
	done
	containers_make_rootfs "$rootfs"
	ctr_rootfs=$rootfs
	run_before=$(ls -d /run/libcontainer /run/kata-containers /run/sandbox-ns 2>/dev/null)

	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$ctr_addr" \
		>"$ctr_log" 2>&1 &
	ctr_pid=$!

	run_ctl containers_agent_starts 0 '^SERVING$' '' -- --addr "$ctr_addr" --wait "$WAIT_S" check
	if ! ctr_agent_alive; then
		fail containers_agent_alive "the agent exited at start; its log:"
		tail -20 "$ctr_log" | sed 's/^/    /'
		return
	fi
	run_itest containers 120 "$itest/containers" --create-sandbox "$ctr_addr" "$sandbox_id"
	# containers last: its last case has crashed the agent (a reply to a connection that
	# stopped reading), and a crash there costs only the DestroySandbox test.
	run_itest container_security 1200 "$itest/container_security" "$ctr_addr" "$rootfs" \
		"$ctr_pid" "$sandbox_id"
	run_itest containers 1800 "$itest/containers" "$ctr_addr" "$rootfs" "$ctr_pid" \
		"$sandbox_id"
	if ctr_agent_alive; then
		pass containers_agent_survived
	else
		fail containers_agent_survived "the agent died during the tests; its log ends with:"
		tail -20 "$ctr_log" | sed 's/^/    /'
	fi

	# The last test: DestroySandbox answers the pending WaitProcess calls, then the agent
	# stops by itself with status 0.
	run_itest containers 300 "$itest/containers" --destroy-sandbox "$ctr_addr" "$rootfs" \
		"$ctr_pid" "$sandbox_id"
	if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$ctr_pid"; then
		fail containers_agent_stops_after_destroy "$wait_why"
	else
		wait "$ctr_pid"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			pass containers_agent_stops_after_destroy
		else
			fail containers_agent_stops_after_destroy "exit status $rc; log ends with:"
			tail -10 "$ctr_log" | sed 's/^/    /'
		fi
		ctr_pid=
	fi

	left=$(containers_payload_pids | tr '\n' ' ')
	if [ -z "$left" ]; then
		pass containers_no_process_left
	else
		fail containers_no_process_left "pdtest processes still running: $left"
		containers_cleanup
	fi
	run_after=$(ls -d /run/libcontainer /run/kata-containers /run/sandbox-ns 2>/dev/null)
	if [ "$run_before" = "$run_after" ]; then
		pass containers_host_run_untouched
	else
		fail containers_host_run_untouched \
			"the host's /run changed: '$run_before' -> '$run_after'"
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$ctr_log"; then
		fail containers_agent_log_clean "sanitizer reports in the container agent's log:"
		grep -E 'Sanitizer|runtime error:' "$ctr_log" | head -5 | sed 's/^/    /'
	fi
}
