# shellcheck shell=bash
# qemu-tests/storage.sh — sourced by run.sh: block storages, devices and swap on disks the
# host hot-plugs through QMP while the guest runs (issues 4 and 6).
#
# The VM gets three PCIe root ports (rp1..rp3 at 00:10.0, 00:11.0, 00:12.0: a disk plugged
# into one is at PCI path "10/00", "11/00", "12/00") and a virtio-scsi controller (scsi0,
# 00:13.0), with QEMU's ACPI hotplug off so the guest's native PCIe hotplug (pciehp) takes
# the slots. Each check sends its request BEFORE the disk is plugged in: the agent parks the
# call on the uevent wait (its "waiting for a device" line shows on the console), and the
# device_add ends it. A hot-plug under TCG on a loaded host can take seconds: the agent's
# hotplug timeout is PD_ST_HOTPLUG_S (agent.hotplug_timeout, from pd_storage_append).
#
#   pd_storage_qemu_args      the QEMU arguments above (run.sh adds them to PD_QEMU_EXTRA)
#   check_storage_blk         blk storage (ext4, ro) from a PCI path, read from a container
#   check_storage_scsi_xfs    scsi storage (xfs, rw) from "0:1", a file made on it
#   check_storage_device      CreateContainer devices: a blk disk at /dev/xdisk with the
#                             guest's numbers, readable (the device cgroup allows it)
#   check_storage_swap        AddSwap on a hot-plugged disk: /proc/swaps shows it
#   check_storage_swapfile    AddSwapPath on a file of an ext4 scsi storage (LUN 2)
#   check_storage_timeout     a disk that never comes: DEADLINE_EXCEEDED naming it
#   pd_storage_append         the kernel command line they want (run.sh adds it)

PD_ST_MP=/run/kata-containers/qemu-st
PD_ST_MARK=pidone-raw-disk-marker
PD_ST_HOTPLUG_S=10

# The kernel command line the storage checks want (run.sh adds it to EXTRA_APPEND).
pd_storage_append() { echo "agent.hotplug_timeout=$PD_ST_HOTPLUG_S"; }

# pd_st_parked N PID: the console shows more than N "waiting for a device" lines (the call
# has parked), or the client PID has ended (it did not wait).
pd_st_waits() { pd_console_text | grep -c 'msg="waiting for a device"'; }
pd_st_parked() { [ "$(pd_st_waits)" -gt "$1" ] || gone "$2"; }

# pd_st_call_parked NAME OUT ARGS...: pd_ctl_while_up ARGS in the background (output to OUT),
# once it has parked on a device wait; sets pd_st_pid. Fails if it did not wait.
pd_st_call_parked() {
	local name=$1 out=$2 n
	shift 2
	n=$(pd_st_waits)
	pd_ctl_while_up "$@" >"$out" 2>&1 &
	pd_st_pid=$!
	if ! wait_for "\"waiting for a device\" line for $name" "$WAIT_S" pd_st_parked "$n" \
		"$pd_st_pid"; then
		echo "$wait_why"
		kill "$pd_st_pid" 2>/dev/null
		return 1
	fi
	pd_pid_alive "$pd_st_pid" || { echo "$name did not wait: $(cat "$out")"; return 1; }
}

pd_storage_qemu_args() {
	echo "-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off" \
		"-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x10" \
		"-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=0x11" \
		"-device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3,addr=0x12" \
		"-device virtio-scsi-pci,id=scsi0,bus=pcie.0,addr=0x13"
}

# pd_st_plug NODE FILE DEVICE_JSON_REST: blockdev-add FILE as NODE, then device_add.
pd_st_plug() {
	pd_qmp "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"raw\",
		\"node-name\": \"$1\", \"file\": {\"driver\": \"file\", \"filename\": \"$2\"}}}" \
		"{\"execute\": \"device_add\", \"arguments\": {\"drive\": \"$1\", $3}}" >/dev/null
}

# The test rootfs on the share, with the commands these checks use.
pd_st_rootfs() {
	local cmd
	pd_share_rootfs "$1"
	for cmd in stat write; do
		ln -sf pdtest "$PD_SHARE/$1/rootfs/bin/$cmd"
	done
}

# pd_st_request ID STORAGES_JSON DEVICES_JSON: a CreateContainer (init: sleep 1000) whose
# /data binds $PD_ST_MP/ID (when it has storages), whose spec has /dev/xdisk (b 259:99, host numbers the guest
# does not have) and a device cgroup that denies everything but that device, read-only.
pd_st_request() {
	local data=
	[ "$2" = "[]" ] || data=", {\"destination\": \"/data\", \"type\": \"bind\",
		\"source\": \"$PD_ST_MP/$1\", \"options\": [\"rbind\", \"rw\"]}"
	cat <<-EOF
		{"container_id": "$1", "exec_id": "$1", "storages": $2, "devices": $3,
		 "OCI": {"ociVersion": "1.0.2", "hostname": "qemu-box",
		  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
		   "args": ["sleep", "1000"], "env": ["PATH=/bin"], "noNewPrivileges": true},
		  "root": {"path": "$PD_GUEST_SHARED/$1/rootfs"},
		  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
		   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		    "options": ["nosuid", "mode=755", "size=65536k"]}$data],
		  "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
		    {"type": "mount"}],
		   "devices": [{"path": "/dev/xdisk", "type": "b", "major": 259, "minor": 99,
		    "fileMode": 432, "uid": 0, "gid": 0}],
		   "resources": {"devices": [{"allow": false, "access": "rwm"},
		    {"allow": true, "type": "b", "major": 259, "minor": 99, "access": "r"}]}}}}
	EOF
}

# pd_st_create_parked ID STORAGES DEVICES PLUG_ARGS...: send the CreateContainer, see it
# parked, plug the disk (pd_st_plug PLUG_ARGS), and see it answered.
pd_st_create_parked() {
	local id=$1 rc
	pd_st_rootfs "$id"
	pd_st_request "$id" "$2" "$3" >"$PD_WORK/$id.json"
	shift 3
	pd_st_call_parked CreateContainer "$PD_WORK/$id.out" \
		call grpc.AgentService CreateContainer --json "$PD_WORK/$id.json" || return 1
	pd_st_plug "$@" || { echo "hot-plug failed"; return 1; }
	wait "$pd_st_pid"
	rc=$?
	[ "$rc" = 0 ] || { echo "CreateContainer: exit $rc: $(cat "$PD_WORK/$id.out")"; return 1; }
	pd_ctl_while_up start "$id" >/dev/null || { echo "start $id failed"; return 1; }
}

# pd_st_exec ID WANT_REGEX ARGS...: exec in the container, its output must match.
pd_st_exec() {
	local id=$1 want=$2 out
	shift 2
	out=$(pd_ctl_while_up exec "$id" -- "$@" 2>&1 | tr -d '\0')
	echo "$out" | grep -Eq "$want" || { echo "exec $*: '${out:0:200}' lacks /$want/"; return 1; }
	echo "$*: ${out:0:80}"
}

check_storage_blk() {
	local d=$PD_WORK/st-ext4 img=$PD_WORK/st-ext4.img
	mkdir -p "$d" && printf 'hello-from-ext4\n' >"$d/hello.txt"
	mkfs.ext4 -q -F -d "$d" "$img" 16M >/dev/null || { echo "mkfs.ext4 failed"; return 1; }
	pd_st_create_parked st-blk \
		"[{\"driver\": \"blk\", \"source\": \"10/00\", \"fstype\": \"ext4\",
		  \"options\": [\"ro\"], \"mount_point\": \"$PD_ST_MP/st-blk\"}]" "[]" \
		d-ext4 "$img" '"driver": "virtio-blk-pci", "id": "vd-ext4", "bus": "rp1"' || return 1
	pd_st_exec st-blk '^hello-from-ext4$' cat /data/hello.txt || return 1
	pd_st_exec st-blk 'Read-only file system' write /data/new || return 1
	pd_ctl_while_up rm st-blk >/dev/null || return 1
}

check_storage_scsi_xfs() {
	local img=$PD_WORK/st-xfs.img
	truncate -s 320M "$img" && mkfs.xfs -q "$img" >/dev/null || { echo "mkfs.xfs failed"; return 1; }
	pd_st_create_parked st-scsi \
		"[{\"driver\": \"scsi\", \"source\": \"0:1\", \"fstype\": \"xfs\",
		  \"options\": [\"nouuid\"], \"mount_point\": \"$PD_ST_MP/st-scsi\"}]" "[]" \
		d-xfs "$img" '"driver": "scsi-hd", "id": "sd-xfs", "bus": "scsi0.0", "scsi-id": 0,
		 "lun": 1' || return 1
	pd_st_exec st-scsi '^ok$' write /data/made-in-the-guest || return 1
	pd_st_exec st-scsi '^100644 ' stat /data/made-in-the-guest || return 1
	pd_ctl_while_up rm st-scsi >/dev/null || return 1
}

check_storage_device() {
	local img=$PD_WORK/st-raw.img out
	{ printf '%s\n' "$PD_ST_MARK"; head -c 65536 /dev/zero; } | head -c 65536 >"$img"
	pd_st_create_parked st-dev "[]" \
		'[{"id": "11/00", "type": "blk", "vm_path": "", "container_path": "/dev/xdisk"}]' \
		d-raw "$img" '"driver": "virtio-blk-pci", "id": "vd-raw", "bus": "rp2"' || return 1
	# The guest's numbers, not the host's 259:99 (virtio-blk's major is dynamic: 25x).
	out=$(pd_ctl_while_up exec st-dev -- stat /dev/xdisk) || { echo "stat: $out"; return 1; }
	echo "$out" | grep -Eq '^60660 25[0-9]:[0-9]+$' && ! echo "$out" | grep -q '259:99' ||
		{ echo "stat /dev/xdisk: '$out'"; return 1; }
	echo "/dev/xdisk: $out"
	pd_st_exec st-dev "$PD_ST_MARK" cat /dev/xdisk || return 1
	pd_ctl_while_up rm st-dev >/dev/null || return 1
}

check_storage_swap() {
	local img=$PD_WORK/st-swap.img rc out
	truncate -s 16M "$img" && chmod 600 "$img" && mkswap "$img" >/dev/null 2>&1 ||
		{ echo "mkswap failed"; return 1; }
	echo '{"PCIPath": [18, 0]}' >"$PD_WORK/swap.json" # 12/00: rp3
	pd_st_call_parked AddSwap "$PD_WORK/swap.out" \
		call grpc.AgentService AddSwap --json "$PD_WORK/swap.json" || return 1
	pd_st_plug d-swap "$img" '"driver": "virtio-blk-pci", "id": "vd-swap", "bus": "rp3"' ||
		return 1
	wait "$pd_st_pid"
	rc=$?
	[ "$rc" = 0 ] || { echo "AddSwap: exit $rc: $(cat "$PD_WORK/swap.out")"; return 1; }
	# /proc/swaps is the kernel's, whatever /proc a container mounts.
	pd_st_rootfs st-swaps
	pd_bundle "$PD_WORK/bundle-st-swaps" cat /proc/swaps || return 1
	out=$(pd_ctl_while_up run --id st-swaps --rootfs-guest-path \
		"$PD_GUEST_SHARED/st-swaps/rootfs" "$PD_WORK/bundle-st-swaps") || { echo "$out"; return 1; }
	echo "$out" | grep -Eq '^/dev/vd[a-z]+[[:space:]]+partition[[:space:]]+16380[[:space:]]' ||
		{ echo "/proc/swaps: $out"; return 1; }
	echo "swap on: $(echo "$out" | tail -n 1)"
}

# AddSwapPath: a swap file (no holes: random bytes under the mkswap header, 4 KiB blocks so
# mke2fs -d does not leave the zeros of the header page out) on an ext4 disk,
# a scsi storage at LUN 2 mounted rw.
check_storage_swapfile() {
	local d=$PD_WORK/st-swapf img=$PD_WORK/st-swapf.img
	mkdir -p "$d" && head -c 8M /dev/urandom >"$d/swapfile" && chmod 600 "$d/swapfile" &&
		mkswap "$d/swapfile" >/dev/null 2>&1 &&
		mkfs.ext4 -q -F -b 4096 -d "$d" "$img" 32M >/dev/null ||
		{ echo "swap file image failed"; return 1; }
	pd_st_create_parked st-swapf \
		"[{\"driver\": \"scsi\", \"source\": \"0:2\", \"fstype\": \"ext4\",
		  \"mount_point\": \"$PD_ST_MP/st-swapf\"}]" "[]" \
		d-swapf "$img" '"driver": "scsi-hd", "id": "sd-swapf", "bus": "scsi0.0", "scsi-id": 0,
		 "lun": 2' || return 1
	echo "{\"path\": \"$PD_ST_MP/st-swapf/swapfile\"}" >"$PD_WORK/swapf.json"
	pd_ctl_while_up call grpc.AgentService AddSwapPath --json "$PD_WORK/swapf.json" >/dev/null ||
		return 1
	pd_st_exec st-swapf 'swapfile[[:space:]]+file[[:space:]]+8188[[:space:]]' cat /proc/swaps
}

check_storage_timeout() {
	local out
	echo '{"PCIPath": [16, 5]}' >"$PD_WORK/swap-none.json"
	out=$(pd_ctl_while_up call grpc.AgentService AddSwap --json "$PD_WORK/swap-none.json" 2>&1)
	echo "$out" | grep -q \
		"DEADLINE_EXCEEDED: .*PCI path 10/05 did not appear within $PD_ST_HOTPLUG_S s" ||
		{ echo "AddSwap 10/05: $out"; return 1; }
	echo "$out"
}
