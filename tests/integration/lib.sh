# shellcheck shell=bash
# Shell helpers of the tests: sourced by tests/integration/run.sh, ctl_run.sh and
# namespaces.sh (alone), and by qemu-tests/lib.sh.
#
# The tests wait for conditions, never for durations: a loaded 2-core host (or a TCG guest
# on it) may take many times longer than an idle one. WAIT_S is the bound of every such
# wait: a guard against a hang, not a measurement; reaching it is a failure that names
# what was waited for.

WAIT_S=60

# wait_for DESC SECONDS CMD...: run CMD every 0.1 s until it succeeds (returns 0). After
# SECONDS it gives up: returns 1 with wait_why="no DESC within SECONDS s".
wait_for() {
	local desc=$1 secs=$2 end=$((SECONDS + $2))
	shift 2
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			wait_why="no $desc within $secs s"
			return 1
		fi
		sleep 0.1
	done
}

# gone PID: true once the process has exited (a zombie counts as exited). Builtins only.
gone() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
	stat=${stat##*) } # after "pid (comm) ": the state letter
	[ "${stat%% *}" = Z ]
}
