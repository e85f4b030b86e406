# OCI hooks and guest hooks (issue 4), sourced by run.sh, which provides $build $pidone $itest
# $tmp, pass/fail, run_ctl, and run_itest and containers_make_rootfs (containers.sh).
#
# An agent of its own, like the containers' one (a mount namespace with a tmpfs on /run),
# whose sandbox has a guest hook directory. The hooks are /bin/sh scripts of this host
# under $tmp/hooks (see tests/integration/hooks.c for what each one does); startContainer
# hooks run the rootfs's pdtest. Run alone: HOOKS_ONLY=1 tests/integration/run.sh build.

hk_pid=

hooks_cleanup() {
	if [ -n "$hk_pid" ] && kill -0 "$hk_pid" 2>/dev/null; then
		kill -KILL "$hk_pid" 2>/dev/null
	fi
}

# hooks_make_dir DIR: hook.sh, link.sh, noexec.sh and the guest hook tree DIR/guest.
hooks_make_dir() {
	local d=$1 k
	mkdir -p "$d"
	cat >"$d/hook.sh" <<'SH'
#!/bin/sh
# hook.sh LOG KIND [fail|sleep|gate|block]: one line
# "KIND env=$HOOK_ENV mnt=<its mount namespace> <state from stdin>"; then fail, sleep (until
# killed), wait until the test makes LOG.KIND.go (gate; at most about a minute), or wait for a
# line on the fifo LOG.release (block: the test says when the hook ends, not a clock).
state=$(cat)
printf '%s env=%s mnt=%s %s\n' "$2" "${HOOK_ENV:-}" "$(readlink /proc/self/ns/mnt)" "$state" \
	>>"$1"
case ${3:-} in
fail) exit 3 ;;
sleep) exec sleep 300 ;;
gate)
	i=0
	while [ ! -e "$1.$2.go" ] && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	;;
block) read -r line <"$1.release" ;;
esac
SH
	chmod 755 "$d/hook.sh"
	ln -sf hook.sh "$d/link.sh"
	cp "$d/hook.sh" "$d/noexec.sh"
	chmod 644 "$d/noexec.sh"
	for k in prestart poststart poststop; do
		mkdir -p "$d/guest/$k"
		printf '#!/bin/sh\nstate=$(cat)\necho "%s $state" >>"%s/guest.log"\n' "$k" "$d" \
			>"$d/guest/$k/10-log.sh"
		chmod 755 "$d/guest/$k/10-log.sh"
		ln -sf 10-log.sh "$d/guest/$k/20-link.sh" # skipped: a symlink
		cp "$d/guest/$k/10-log.sh" "$d/guest/$k/30-noexec.sh"
		chmod 644 "$d/guest/$k/30-noexec.sh" # skipped: not executable
	done
}

hooks_tests() {
	local addr=unix://$tmp/hooks.sock log=$tmp/hooks-agent.log sandbox=pidone-it-hooks
	local rootfs=$tmp/hooks-rootfs dir=$tmp/hooks
	if [ ! -x "$itest/hooks" ] || [ ! -x "$build/pdtest" ]; then
		fail hooks "missing $itest/hooks or $build/pdtest (make integration builds them)"
		return
	fi
	containers_make_rootfs "$rootfs"
	hooks_make_dir "$dir"
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	hk_pid=$!
	run_ctl hooks_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	if ! kill -0 "$hk_pid" 2>/dev/null; then
		fail hooks_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		return
	fi
	run_itest hooks 120 "$itest/hooks" --create-sandbox "$addr" "$sandbox" "$dir/guest"
	PD_HOOKS_DIR=$dir run_itest hooks 900 "$itest/hooks" "$addr" "$rootfs" "$hk_pid" "$sandbox"
	if grep -q 'guest hook skipped.*20-link.sh.*symlink' "$log" &&
		grep -q 'guest hook skipped.*30-noexec.sh' "$log"; then
		pass hooks/guest_skips_logged
	else
		fail hooks/guest_skips_logged "no 'guest hook skipped' lines for the symlink and the non-executable"
	fi
	if kill -0 "$hk_pid" 2>/dev/null; then
		pass hooks_agent_survived
	else
		fail hooks_agent_survived "the agent died; its log ends with:"
		tail -20 "$log" | sed 's/^/    /'
	fi
	# The last: DestroySandbox runs poststop hooks; the agent then exits by itself (an
	# ASan build checks for leaks on the way out).
	PD_HOOKS_DIR=$dir run_itest hooks 300 "$itest/hooks" --destroy-sandbox "$addr" "$rootfs" \
		"$hk_pid" "$sandbox"
	if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$hk_pid"; then
		fail hooks_agent_stops "$wait_why"
	elif wait "$hk_pid"; then
		pass hooks_agent_stops
		hk_pid=
	else
		fail hooks_agent_stops "exit status $? after DestroySandbox"
		hk_pid=
	fi
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		fail hooks_agent_log_clean "sanitizer reports in the agent log:"
		grep -E 'Sanitizer|runtime error:' "$log" | head -5 | sed 's/^/    /'
	else
		pass hooks_agent_log_clean
	fi
	hooks_cleanup
	hk_pid=
}
