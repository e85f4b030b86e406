# qemu-tests/namespaces.sh — sourced by run.sh after containers.sh: a user namespace and the
# sandbox's shared pid namespace in the guest, where "/" is an initramfs (no pivot_root)
# and the rootfs is on the 9p share. docs/namespaces.md.

# pd_bundle_edit DIR PYTHON: edit DIR/config.json; the snippet sees it as `c`.
pd_bundle_edit() {
	python3 -c "import json,sys
p=sys.argv[1]; c=json.load(open(p))
$2
json.dump(c, open(p,'w'), indent=1)" "$1/config.json"
}

# pd_userns_run ID WANT ARGS...: run ARGS in a `runc spec` container with a user namespace
# mapping 0..65535 to 100000; its output, blanks squeezed, must be WANT.
pd_userns_run() {
	local id=$1 want=$2 dir=$PD_WORK/bundle-$1 out
	shift 2
	pd_share_rootfs "$id"
	pd_bundle "$dir" "$@" || return 1
	pd_bundle_edit "$dir" '
m=[{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"]=m
c["linux"]["gidMappings"]=m' || return 1
	out=$(pd_ctl_while_up run --id "$id" --rootfs-guest-path "$PD_GUEST_SHARED/$id/rootfs" \
		"$dir") || { echo "run $*: $out"; return 1; }
	[ "$(echo $out)" = "$want" ] || { echo "$* inside: '$out', want '$want'"; return 1; }
	echo "$*: $want"
}

# The spec's mounts all made (sysfs and the cgroup mount over the guest's /sys, which a
# user namespace gets bound): its uid_map; its cgroup mount shows its own cgroup (one
# process, itself: pid 1).
check_container_userns() {
	local procs=/sys/fs/cgroup/pids/cgroup.procs
	case ${EXTRA_APPEND:-} in *unified_cgroup_hierarchy=1*) procs=/sys/fs/cgroup/cgroup.procs ;; esac
	pd_userns_run qc-userns "0 100000 65536" cat /proc/self/uid_map &&
		pd_userns_run qc-userns-cg 1 cat "$procs"
}

# Containers whose spec names a pid namespace by path get the sandbox's shared one
# (pidonectl sets CreateContainer.sandbox_pidns, as Kata's runtime does): the second sees
# the first's sleep, and pid 1 is the holder.
check_sandbox_pidns() {
	local out edit='c["linux"]["namespaces"]=[n if n["type"]!="pid" else {"type":"pid","path":"/proc/1/ns/pid"} for n in c["linux"]["namespaces"]]'
	pd_share_rootfs qc-pidns-a
	pd_bundle "$PD_WORK/bundle-qc-pidns-a" sleep 1000 || return 1
	pd_bundle_edit "$PD_WORK/bundle-qc-pidns-a" "$edit" || return 1
	pd_ctl_while_up run -d --id qc-pidns-a --rootfs-guest-path \
		"$PD_GUEST_SHARED/qc-pidns-a/rootfs" "$PD_WORK/bundle-qc-pidns-a" >/dev/null || return 1
	pd_share_rootfs qc-pidns-b
	pd_bundle "$PD_WORK/bundle-qc-pidns-b" pdtest ps || return 1
	pd_bundle_edit "$PD_WORK/bundle-qc-pidns-b" "$edit" || return 1
	out=$(pd_ctl_while_up run --id qc-pidns-b --rootfs-guest-path \
		"$PD_GUEST_SHARED/qc-pidns-b/rootfs" "$PD_WORK/bundle-qc-pidns-b")
	pd_ctl_while_up rm qc-pidns-a >/dev/null || return 1
	echo "$out" | grep -qx '1 pidns-holder' && echo "$out" | grep -q ' sleep$' ||
		{ echo "ps in B: $out"; return 1; }
	echo "ps in B: $(echo $out)"
}
