# Block storage and device tests of the host integration run (issue 4), sourced by run.sh,
# which provides $build $pidone $itest $tmp, pass/fail, run_ctl, and run_itest and
# containers_make_rootfs (containers.sh).
#
# An agent of its own in a mount namespace with a tmpfs on /run, started with
# --hotplug-timeout 2 so the waits that must time out do so quickly. The test program makes
# (and removes) the loop devices it needs; the ext4 image is built here with mkfs.ext4 -d.

storage_pid=

storage_agent_alive() {
	[ -n "$storage_pid" ] && kill -0 "$storage_pid" 2>/dev/null
}

storage_tests() {
	local addr=unix://$tmp/storage.sock log=$tmp/storage-agent.log rootfs=$tmp/storage-rootfs
	local img=$tmp/storage-ext4.img
	if [ ! -x "$itest/storage" ] || [ ! -x "$build/pdtest" ]; then
		fail storage "missing $itest/storage or $build/pdtest (make integration builds them)"
		return
	fi
	if ! command -v mkfs.ext4 >/dev/null || [ ! -e /dev/loop-control ]; then
		fail storage "needs mkfs.ext4 (e2fsprogs) and /dev/loop-control"
		return
	fi
	containers_make_rootfs "$rootfs"
	mkdir -p "$tmp/storage-img"
	printf 'hello-from-disk\n' >"$tmp/storage-img/hello.txt"
	if ! mkfs.ext4 -q -F -d "$tmp/storage-img" "$img" 4M >/dev/null; then
		fail storage "mkfs.ext4 -d failed"
		return
	fi
	unshare -m --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run &&
		exec "$0" --server-addr "$1" --log-level debug --hotplug-timeout 2' "$pidone" "$addr" \
		>"$log" 2>&1 &
	storage_pid=$!
	run_ctl storage_agent_starts 0 '^SERVING$' '' -- --addr "$addr" --wait "$WAIT_S" check
	if ! storage_agent_alive; then
		fail storage_agent_alive "the agent exited at start; its log:"
		tail -20 "$log" | sed 's/^/    /'
		return
	fi
	IT_EXT4_IMAGE=$img run_itest storage 600 "$itest/storage" "$addr" "$rootfs" "$storage_pid" \
		pidone-it-storage
	agent_teardown storage "$storage_pid" "$addr" "$log"
	storage_pid=
}

storage_cleanup() {
	storage_agent_alive && kill -KILL "$storage_pid" 2>/dev/null
	storage_pid=
}
