# Guest-management tests of the host integration run (issue 6), sourced by run.sh, which
# provides $build $pidone $ctl $itest $tmp, pass/fail, and run_itest (containers.sh).
#
# A third agent runs in a mount namespace AND a network namespace of its own: /run is a
# tmpfs there, /run/guest-vol a small tmpfs for GetVolumeStats, and iptables (when the host
# has it) can only ever see the empty tables of that network namespace. After the first
# run, stand-in iptables programs go on /usr/sbin inside the agent's mount namespace only,
# and the second run drives the parked helper-program path with them.

guest_pid=

guest_agent_alive() {
	[ -n "$guest_pid" ] && kill -0 "$guest_pid" 2>/dev/null
}

# The stand-ins: iptables-save prints a marked table, ip6tables-save 2,000,000 bytes more;
# iptables-restore echoes its arguments and input, fails on FAIL, waits on SLOW until the
# test makes /run/pidone-it-slow.go (at most about a minute), and hangs on HANG.
guest_fake_iptables() {
	nsenter -t "$guest_pid" -m sh -c '
		mount -t tmpfs -o mode=755 tmpfs /usr/sbin || exit 1
		cat >/usr/sbin/iptables-save <<-"EOF"
			#!/bin/sh
			echo "# pidone-fake iptables-save"
			printf "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
		EOF
		cat >/usr/sbin/ip6tables-save <<-"EOF"
			#!/bin/sh
			echo "# pidone-fake ip6tables-save"
			head -c 2000000 /dev/zero | tr "\0" x
		EOF
		cat >/usr/sbin/iptables-restore <<-"EOF"
			#!/bin/sh
			input=$(cat)
			case "$input" in *HANG*) exec sleep 60 ;; esac
			case "$input" in *SLOW*)
				i=0
				while [ ! -e /run/pidone-it-slow.go ] && [ $i -lt 1200 ]; do
					sleep 0.05
					i=$((i + 1))
				done ;;
			esac
			case "$input" in *FAIL*)
				echo "iptables-restore: line 2 failed" >&2
				exit 1 ;;
			esac
			echo "restored $*"
			printf "%s\n" "$input"
		EOF
		cd /usr/sbin && chmod 755 iptables-save ip6tables-save iptables-restore
	'
}

guest_tests() {
	local addr=unix://$tmp/guest.sock log=$tmp/guest-agent.log
	if [ ! -x "$itest/guest" ]; then
		fail guest "missing $itest/guest (make integration builds it)"
		return
	fi
	unshare -m -n --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		mkdir /run/guest-vol &&
		mount -t tmpfs -o size=8m,nr_inodes=1000 tmpfs /run/guest-vol &&
		exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$log" 2>&1 &
	guest_pid=$!
	run_ctl guest_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	if ! guest_agent_alive; then
		fail guest_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		return
	fi

	run_itest guest 600 "$itest/guest" "$addr" /run/guest-vol "$guest_pid" -
	if guest_fake_iptables; then
		run_itest guest 600 "$itest/guest" "$addr" /run/guest-vol "$guest_pid" -
	else
		fail guest/fake_iptables_setup "no stand-ins in the agent's mount namespace"
	fi

	agent_teardown guest "$guest_pid" "$addr" "$log"
	guest_pid=
}
