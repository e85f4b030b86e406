#!/bin/bash
# pidonectl's container commands end to end (issue 3): bundles made by `runc spec` (and by
# `crun spec` when crun is installed) run UNCHANGED but for process.args and
# process.terminal, against an agent on this host: output, exit codes, stdin, terminals
# (through build/itest/ctl_pty), signals, exec into a detached container, kill, wait, rm.
#
#   tests/integration/ctl_run.sh BUILD_DIR
# PIDONE=/path/to/agent runs another build of the agent (sanitizer reports in its log fail
# the run); PD_KEEP_TMP=1 keeps the logs. Prints PASS/FAIL/SKIP lines, then
# "ctl: N passed, M failed"; exits 1 if anything failed. tests/integration/run.sh runs it.
#
# The agent runs as in containers.sh: its own mount namespace with a tmpfs on /run (nothing
# it mounts reaches the host), its socket outside /run. The rootfs is pdtest and its
# command links plus the host's static busybox (sh, stty) for the terminal cases.
set -u

build=${1:-build}
build=$(cd "$build" && pwd) || exit 2
pidone=${PIDONE:-$build/pidone}
ctl=$build/pidonectl
pty=$build/itest/ctl_pty
tmp=$(mktemp -d /tmp/pidone-ctl.XXXXXX)
addr=unix://$tmp/agent.sock
agent_log=$tmp/agent.log
agent_pid=
passed=0
failed=0

pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}
skip() {
	echo "SKIP $1: $2"
}

# Processes running one of our rootfs's pdtest or busybox copies (by inode), wherever
# they are: a container outlives an agent that crashed.
payload_pids() {
	local p b
	for p in /proc/[0-9]*; do
		for b in "$tmp"/*/rootfs/bin/pdtest "$tmp"/*/rootfs/bin/busybox; do
			[ "$p/exe" -ef "$b" ] 2>/dev/null && echo "${p#/proc/}"
		done
	done | sort -u
}

cleanup() {
	local p
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		kill -KILL "$agent_pid" 2>/dev/null
	fi
	for p in $(payload_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${PD_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
# wait_for, gone, WAIT_S: waiting for conditions with a generous bound.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for f in "$pidone" "$ctl" "$pty" "$build/pdtest"; do
	[ -x "$f" ] || {
		echo "ctl: missing $f (make integration builds it)" >&2
		exit 2
	}
done

# ---- bundles ------------------------------------------------------------------------------

make_rootfs() { # make_rootfs DIR
	local dir=$1 cmd
	mkdir -p "$dir"/{bin,proc,dev,sys,tmp,etc,root,home/user}
	chmod 1777 "$dir/tmp"
	cp "$build/pdtest" "$dir/bin/pdtest"
	for cmd in echo true exit cat status env pwd hostname isatty sleep trap-term spew; do
		ln -s pdtest "$dir/bin/$cmd"
	done
	if [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked'; then
		cp /bin/busybox "$dir/bin/busybox"
		ln -s busybox "$dir/bin/sh"
		ln -s busybox "$dir/bin/stty"
	fi
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' \
		>"$dir/etc/passwd"
}

# make_bundle TOOL DIR: `TOOL spec` in DIR, and a rootfs where it points (root.path
# "rootfs"). Fails if TOOL cannot make one.
make_bundle() {
	mkdir -p "$2" && (cd "$2" && "$1" spec) && grep -q '"path": "rootfs"' "$2/config.json" &&
		make_rootfs "$2/rootfs"
}

# set_process BUNDLE TERMINAL ARGS: change only process.terminal (true/false) and
# process.args (JSON items, e.g. '"echo", "hello"') of a config.json as runc and crun print
# it ("args": [ on one line, "sh" alone on the next). No jq or python needed.
set_process() {
	# through the environment: awk -v would undo the backslashes of JSON escapes
	PD_TERM=$2 PD_ARGS=$3 awk '
		!t && /"terminal": (true|false)/ { sub(/true|false/, ENVIRON["PD_TERM"]); t = 1 }
		in_args && /^[ \t]*"sh"[ \t]*$/ {
			match($0, /^[ \t]*/)
			print substr($0, 1, RLENGTH) ENVIRON["PD_ARGS"]
			in_args = 0
			a = 1
			next
		}
		!a && /"args": \[/ { in_args = 1 }
		{ print }
		END { exit !(t && a) }' "$1/config.orig.json" >"$1/config.json"
}

# ---- checks -------------------------------------------------------------------------------

# ck NAME WANT_EXIT STDOUT_RE STDERR_RE CMD...: run CMD (stdin from $ck_in, /dev/null by
# default) and match its whole stdout and stderr against the EREs ('' = anything).
ck_in=/dev/null
ck() {
	local name=$1 want=$2 out_re=$3 err_re=$4 out err rc
	shift 4
	out=$(timeout -k 5 60 "$@" <"$ck_in" 2>"$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want (stdout: ${out:0:200}; stderr: ${err:0:300})"
	elif [ -n "$out_re" ] && ! [[ $out =~ $out_re ]]; then
		fail "$name" "stdout '${out:0:300}' does not match /$out_re/"
	elif [ -n "$err_re" ] && ! [[ $err =~ $err_re ]]; then
		fail "$name" "stderr '${err:0:300}' does not match /$err_re/"
	else
		pass "$name"
	fi
}

# ---- the agent and its sandbox ------------------------------------------------------------
unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
	exec "$0" --server-addr "$1" --log-level debug' "$pidone" "$addr" >"$agent_log" 2>&1 &
agent_pid=$!
export PIDONE_ADDR=$addr
ck agent_serving 0 '^SERVING$' '' "$ctl" --wait "$WAIT_S" check
ck create_sandbox 0 '' '' "$ctl" create-sandbox --id ctl-sandbox --hostname ctl-host \
	--dns 'nameserver 10.0.0.1' --shm-size 1048576
if grep -q ' /run/kata-containers/sandbox/shm tmpfs .*size=1024k' "/proc/$agent_pid/mounts"; then
	pass sandbox_shm_storage
else
	fail sandbox_shm_storage "no 1 MiB tmpfs on /run/kata-containers/sandbox/shm in the agent"
fi
ck create_sandbox_bad_storage 2 '' 'INVALID_ARGUMENT: create-sandbox: storage' \
	"$ctl" create-sandbox --storage 9p:tag:relative
ck create_sandbox_bad_shm_size 2 '' '--shm-size wants a number' \
	"$ctl" create-sandbox --shm-size 1G

# ---- the same bundle tests for every tool that writes bundles ------------------------------
bundle_tests() { # bundle_tests TOOL
	local t=$1 b=$tmp/$1
	if ! command -v "$t" >/dev/null; then
		skip "$t" "$t is not installed"
		return 1
	fi
	if ! make_bundle "$t" "$b" >"$tmp/$t.out" 2>&1; then
		fail "$t/spec" "'$t spec' made no usable bundle: $(head -c 300 "$tmp/$t.out")"
		return 1
	fi
	cp "$b/config.json" "$b/config.orig.json"
	set_process "$b" false '"echo", "hello"' || {
		fail "$t/edit" "could not set process.args in $t's config.json"
		return 1
	}
	ck "$t/echo" 0 '^hello$' '^$' "$ctl" run "$b"
	set_process "$b" false '"exit", "3"'
	ck "$t/exit_code" 3 '^$' '' "$ctl" run "$b"
	set_process "$b" false '"pdtest", "no-such-command"'
	ck "$t/stderr_apart" 127 '^$' '^pdtest: unknown command no-such-command$' "$ctl" run "$b"
	set_process "$b" false '"cat"'
	printf 'abc' >"$tmp/abc"
	ck_in=$tmp/abc ck "$t/stdin" 0 '^abc$' '' "$ctl" run "$b"
	# the spec's own "terminal": true, with no terminal on our side: bytes still flow
	set_process "$b" true '"isatty"'
	ck "$t/terminal_true_without_tty" 0 $'^tty\r$' '' "$ctl" run "$b"
	set_process "$b" true '"hostname"'
	ck "$t/sandbox_hostname" 0 $'^ctl-host\r$' '' "$ctl" run "$b"
}

bundle_tests crun
if ! bundle_tests runc; then
	echo "ctl: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi
b=$tmp/runc

# ---- terminals ----------------------------------------------------------------------------
set_process "$b" true '"cat"'
printf 'abc\n' >"$tmp/abc-line"
ck_in=$tmp/abc-line ck tty_stdin_pipe 0 $'^abc\r\nabc\r$' '' "$ctl" run "$b"
set_process "$b" false '"isatty"'
ck tty_option 0 $'^tty\r$' '' "$ctl" run -t "$b"
set_process "$b" true '"isatty"'
ck no_tty_option 0 '^notty$' '' "$ctl" run -T "$b"

if [ -x "$b/rootfs/bin/busybox" ]; then
	# our side raw (typed text echoed once, by the container's tty), the first size from
	# ConsoleSize/TtyWinResize, ^D reaching the container, the terminal restored
	# (the size is printed before "ready": text typed after "ready" cannot race it)
	set_process "$b" true '"sh", "-c", "stty size; echo ready; cat"'
	ck tty_raw_and_size 0 $'33 111\r\nready\r\nhello\r\nhello\r\n\nctl_pty: tty restored$' '' \
		"$pty" 33 111 --when ready --type 'hello\r\x04' -- "$ctl" run "$b"
	set_process "$b" true '"sh", "-c", "echo ready; read x; stty size; exit 4"'
	ck tty_resize 4 $'go\r\n40 120\r\n\nctl_pty: tty restored$' '' \
		"$pty" 33 111 --when ready --resize 40 120 --type 'go\r' -- "$ctl" run "$b"
	set_process "$b" true '"sh", "-c", "trap \"echo caught; exit 5\" INT; echo ready; while :; do sleep 1; done"'
	ck tty_ctrl_c_is_the_containers 5 'caught' '' \
		"$pty" 33 111 --when ready --type '\x03' -- "$ctl" run "$b"
	set_process "$b" false '"sleep", "1000"'
	ck run_detached_for_tty 0 '^ctl-tty$' '' "$ctl" run -d --id ctl-tty "$b"
	ck exec_tty 3 $'^ready\r\n24 80\r\n\nctl_pty: tty restored$' '' \
		"$pty" 24 80 --when '' -- "$ctl" exec -t ctl-tty sh -c 'echo ready; stty size; exit 3'
	ck rm_tty 0 '' '' "$ctl" rm ctl-tty
else
	skip tty_pty "no static /bin/busybox for sh and stty in the rootfs"
fi

# ---- a detached container: exec, kill, wait, rm ------------------------------------------
set_process "$b" false '"sleep", "1000"'
ck run_detached 0 '^ctl-bg$' '' "$ctl" run -d --id ctl-bg "$b"
ck exec 0 '^hi there$' '' "$ctl" exec ctl-bg -- echo hi there
ck exec_exit_code 7 '' '' "$ctl" exec ctl-bg exit 7
ck_in=$tmp/abc ck exec_stdin 0 '^abc$' '' "$ctl" exec ctl-bg cat
ck exec_env 0 $'(^|\n)FOO=bar(\n|$)' '' "$ctl" exec --env FOO=bar ctl-bg env
ck exec_cwd 0 '^/tmp$' '' "$ctl" exec --cwd /tmp ctl-bg pwd
ck exec_user 0 $'Uid:\t1000\t1000\t1000\t1000' '' "$ctl" exec --user 1000:1000 ctl-bg status
ck exec_tty_without_tty 0 $'^tty\r$' '' "$ctl" exec -t ctl-bg isatty
eid=$(timeout 60 "$ctl" exec -d ctl-bg sleep 100)
ck exec_detached_kill 0 '' '' "$ctl" kill --exec "$eid" ctl-bg KILL
ck exec_detached_wait 137 '^137$' '' "$ctl" wait ctl-bg "$eid"
ck kill_bad_signal 2 '' 'is not a signal' "$ctl" kill ctl-bg NOPE
ck kill_init 0 '' '' "$ctl" kill ctl-bg TERM # no handler: the agent makes it KILL
ck wait_init 137 '^137$' '' "$ctl" wait ctl-bg
ck rm 0 '' '' "$ctl" rm ctl-bg
ck rm_again 1 '' '^pidonectl: NOT_FOUND: ' "$ctl" rm ctl-bg
ck exec_no_container 1 '' '^pidonectl: NOT_FOUND: ' "$ctl" exec ctl-bg true

# ---- create + start, --keep, the rootfs path -----------------------------------------------
set_process "$b" false '"exit", "9"'
ck create 0 '' '' "$ctl" create ctl-cs "$b"
ck start 0 '' '' "$ctl" start ctl-cs
ck wait_created 9 '^9$' '' "$ctl" wait ctl-cs
ck rm_created 0 '' '' "$ctl" rm --timeout 30 ctl-cs
set_process "$b" false '"exit", "2"'
ck run_keep 2 '' '' "$ctl" run --keep --id ctl-keep "$b"
ck wait_kept 2 '^2$' '' "$ctl" wait ctl-keep
ck rm_kept 0 '' '' "$ctl" rm ctl-keep
set_process "$b" false '"echo", "guest path"'
ck rootfs_guest_path 0 '^guest path$' '' \
	"$ctl" run --rootfs-guest-path "$(realpath "$b/rootfs")" "$b"
ck rootfs_guest_path_missing 1 '' '^pidonectl: ' \
	"$ctl" run --rootfs-guest-path /no/such/rootfs "$b"

# ---- signals and our own output going away --------------------------------------------------
set_process "$b" false '"trap-term"'
# said FILE: the container printed "ready" (through the attach: pidonectl reads its
# signals by then).
said() { grep -q ready "$1"; }
# taken PID SIG: the process has read the signal sent to it (pidonectl takes signals through
# a signalfd: until then the signal is pending). Two SIGINTs pending at once are one.
taken() {
	local pnd
	pnd=$(sed -n 's/^ShdPnd:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null) || return 0
	[ -n "$pnd" ] && [ $((0x$pnd >> ($2 - 1) & 1)) = 0 ]
}
# job_status NAME PID OUT: rc = the exit status of the job, once it has ended by itself;
# killed (and a failure of NAME) if it has not within WAIT_S.
job_status() {
	if ! wait_for "exit of pidonectl run" "$WAIT_S" gone "$2"; then
		kill -KILL "$2" 2>/dev/null
		wait "$2" 2>/dev/null
		fail "$1" "$wait_why; output: $(head -c 300 "$3")"
		return 1
	fi
	wait "$2"
	rc=$?
}
"$ctl" run --id ctl-sig "$b" </dev/null >"$tmp/sig.out" 2>&1 &
job=$!
if ! wait_for '"ready" from trap-term' "$WAIT_S" said "$tmp/sig.out"; then
	fail sigterm_forwarded "$wait_why; output: $(head -c 300 "$tmp/sig.out")"
	kill -KILL "$job"
	wait "$job"
else
	kill -TERM "$job"
	if ! job_status sigterm_forwarded "$job" "$tmp/sig.out"; then
		:
	elif [ "$rc" -eq 0 ] && grep -q 'got SIGTERM' "$tmp/sig.out"; then
		pass sigterm_forwarded
	else
		fail sigterm_forwarded "exit $rc, output: $(head -c 300 "$tmp/sig.out")"
	fi
fi
# trap-term has no SIGINT handler: as a pid-namespace init it ignores what we send it.
"$ctl" run --id ctl-int "$b" </dev/null >"$tmp/int.out" 2>&1 &
job=$!
if ! wait_for '"ready" from trap-term' "$WAIT_S" said "$tmp/int.out"; then
	fail three_interrupts_give_up "$wait_why; output: $(head -c 300 "$tmp/int.out")"
	kill -KILL "$job"
	wait "$job"
else
	for i in 1 2 3; do
		kill -INT "$job"
		wait_for "SIGINT $i taken by pidonectl" "$WAIT_S" taken "$job" 2 || break
	done
	if ! job_status three_interrupts_give_up "$job" "$tmp/int.out"; then
		:
	elif [ "$rc" -eq 130 ] && grep -q 'interrupted' "$tmp/int.out"; then
		pass three_interrupts_give_up
	else
		fail three_interrupts_give_up "exit $rc, output: $(head -c 300 "$tmp/int.out")"
	fi
fi
ck interrupted_run_removed 1 '' 'NOT_FOUND' "$ctl" wait ctl-int
set_process "$b" false '"spew", "100000000"'
timeout 60 "$ctl" run --id ctl-pipe "$b" </dev/null | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 141 ]; then
	pass broken_pipe_is_141
else
	fail broken_pipe_is_141 "exit $rc"
fi
ck broken_pipe_run_removed 1 '' 'NOT_FOUND' "$ctl" wait ctl-pipe

# ---- config.json problems, --verbose, call --json -------------------------------------------
mkdir -p "$tmp/bad"
ln -s "$b/rootfs" "$tmp/bad/rootfs"
sed 's/"uid": 0/"uid": -1/' "$b/config.json" >"$tmp/bad/config.json"
ck bad_config_uid 2 '' 'config.json: process.user.uid: -1 is out of range for uint32' \
	"$ctl" run "$tmp/bad"
printf '{"ociVersion": "1.0.2", "process": {"args": "echo"}}' >"$tmp/bad/config.json"
ck bad_config_type 2 '' 'process.args: wants an array, not a string' "$ctl" run "$tmp/bad"
printf '{"process": ' >"$tmp/bad/config.json"
ck bad_config_json 2 '' 'config.json: json: ' "$ctl" run "$tmp/bad"
ck no_bundle 2 '' 'NOT_FOUND: .*config.json' "$ctl" run "$tmp/none"
set_process "$b" false '"echo", "hello"'
sed 's/"ociVersion"/"domainname": "d", "ociVersion"/' "$b/config.json" >"$tmp/bad/config.json"
ck verbose_unknown_key 0 '^hello$' "ignoring 'domainname'" \
	"$ctl" --verbose run "$tmp/bad"
printf '{"service": "x", "nonsense": 1}' >"$tmp/check.json"
ck call_json 0 '"status": "SERVING"' '^$' "$ctl" call grpc.Health Check --json "$tmp/check.json"
printf '{"container_id": "none", "exec_id": "", "signal": 99999999999}' >"$tmp/sig.json"
ck call_json_range 2 '' 'signal: 99999999999 is out of range for uint32' \
	"$ctl" call grpc.AgentService SignalProcess --json "$tmp/sig.json"
ck call_json_unknown_method 2 '' 'not a known method' \
	"$ctl" call grpc.AgentService NoSuch --json "$tmp/check.json"

# ---- the end: DestroySandbox, nothing left behind --------------------------------------------
ck destroy_sandbox 0 '' '' "$ctl" destroy-sandbox
if ! wait_for "exit of the agent after DestroySandbox" "$WAIT_S" gone "$agent_pid"; then
	fail agent_stops "$wait_why"
else
	wait "$agent_pid"
	rc=$?
	[ "$rc" -eq 0 ] && pass agent_stops || fail agent_stops "exit status $rc"
	agent_pid=
fi
left=$(payload_pids | tr '\n' ' ')
[ -z "$left" ] && pass no_process_left || fail no_process_left "still running: $left"
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$agent_log"; then
	fail agent_log_clean "sanitizer reports in the agent's log:"
	grep -E 'Sanitizer|runtime error:' "$agent_log" | head -5 | sed 's/^/    /'
else
	pass agent_log_clean
fi

echo "ctl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
