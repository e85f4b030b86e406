# qemu-tests/containers.sh — sourced by run.sh and demo.sh: containers in the guest, their
# rootfs and bundle on the 9p share (as Kata shares them), driven by pidonectl over the
# virtio-serial port.
#   pd_share_rootfs ID      the test rootfs (build/pdtest + command links) at <share>/ID/rootfs
#   pd_bundle DIR ARGS...   a `runc spec` bundle whose process runs ARGS (no terminal)

PD_GUEST_SHARED=/run/kata-containers/shared/containers

pd_share_rootfs() {
	local root=$PD_SHARE/$1/rootfs cmd
	mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/tmp" "$root/etc"
	cp "$PD_BUILD/pdtest" "$root/bin/pdtest"
	for cmd in echo true false exit cat sleep hostname pid env pwd status; do
		ln -sf pdtest "$root/bin/$cmd"
	done
}

# JSON string array of the arguments (they are plain words in these tests).
pd_json_args() {
	local a out=
	for a in "$@"; do out="$out${out:+, }\"$a\""; done
	echo "$out"
}

pd_bundle() {
	local dir=$1
	shift
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	(cd "$dir" && runc spec) || return 1
	# runc spec: "args": ["sh"] and "terminal": true; the rootfs path is replaced by
	# --rootfs-guest-path.
	sed -i -e "s|\"sh\"$|$(pd_json_args "$@")|" -e 's|"terminal": true|"terminal": false|' \
		"$dir/config.json"
}

# pd_guest_run ID WANT_STATUS WANT_OUTPUT ARGS...: run a container from the share.
pd_guest_run() {
	local id=$1 want_st=$2 want_out=$3 out st
	shift 3
	pd_share_rootfs "$id"
	pd_bundle "$PD_WORK/bundle-$id" "$@" || return 1
	out=$(pd_ctl_while_up run --id "$id" --rootfs-guest-path "$PD_GUEST_SHARED/$id/rootfs" \
		"$PD_WORK/bundle-$id")
	st=$?
	[ "$st" = "$want_st" ] || { echo "run $*: exit $st, want $want_st; output: $out"; return 1; }
	[ "$out" = "$want_out" ] || { echo "run $*: output '$out', want '$want_out'"; return 1; }
	echo "run $*: '$out', exit $st"
}
