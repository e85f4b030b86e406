# shellcheck shell=bash
# qemu-tests/guest.sh — sourced by run.sh: in-guest confinement and guest management, checks
# only a VM can make (issues #4 and #6, docs/boot-test.md):
#   guest_check_cgroups   the cgroup cases of tests/integration/cgroups.c against this VM's
#                         agent: limits seen from inside, an OOM kill, a fork bomb, devices
#   guest_check_cpu_hotplug  (PD_HOTPLUG has "cpu", PD_SMP "1,maxcpus=2") a vCPU plugged in
#                         through QMP, OnlineCPUMem, a running container's cpuset follows
#   guest_check_mem_probe    (PD_HOTPLUG has "mem", PD_MEM "512M,slots=2,maxmem=2G") a DIMM
#                         plugged in through QMP, MemHotplugByProbe + OnlineCPUMem, MemTotal
#   guest_check_virtiofs     (PD_VIRTIOFS=1) a virtio-fs share (virtiofsd), CreateSandbox
#                         mounting it, a container whose rootfs is on it
# guest_checks prints the CHECKS lines (see run.sh) this configuration runs.

# shellcheck source=tests/integration/cgroups.sh
. "$HERE/../tests/integration/cgroups.sh"

GUEST_ROOTFS_ID=qc-guest
GUEST_CMDS="write memhog forkbomb"

guest_has() { case ",${PD_HOTPLUG:-}," in *",$1,"*) return 0 ;; esac; return 1; }

# The test rootfs on the 9p share, with the commands the cgroup cases run.
guest_rootfs() {
	local cmd
	pd_share_rootfs "$GUEST_ROOTFS_ID"
	for cmd in $GUEST_CMDS; do
		ln -sf pdtest "$PD_SHARE/$GUEST_ROOTFS_ID/rootfs/bin/$cmd"
	done
}

guest_check_cgroups() {
	local out rc itest=$PD_BUILD/itest
	guest_rootfs
	out=$(cgroups_qemu_check "unix://$PD_SOCK" "$PD_GUEST_SHARED/$GUEST_ROOTFS_ID/rootfs" \
		qemu-sb)
	rc=$?
	if [ $rc != 0 ]; then
		echo "$out" | grep -v '^ok ' | tail -n 20
		return 1
	fi
	echo "$out" | tail -n 1
}

# The checks of this configuration, in the order they run. guest-cgroups runs unless
# PD_GUEST_CGROUPS=0 (a second boot of the same kernel and hierarchy need not repeat it).
guest_checks() {
	[ "${PD_GUEST_CGROUPS:-1}" = 0 ] || echo "guest-cgroups - guest_check_cgroups"
	! guest_has cpu || echo "cpu-hotplug - guest_check_cpu_hotplug"
	! guest_has mem || echo "mem-probe - guest_check_mem_probe"
	[ "${PD_VIRTIOFS:-0}" != 1 ] || echo "virtio-fs - guest_check_virtiofs"
}

# Before the boot (after pd_vm_setup): put guest_checks into run.sh's CHECKS, before
# destroy-sandbox (they need the sandbox), and with PD_VIRTIOFS=1 start virtiofsd and give
# QEMU and CreateSandbox what the share needs.
guest_setup() {
	local c out=() g
	mapfile -t g < <(guest_checks)
	for c in "${CHECKS[@]}"; do
		[ "${c%% *}" != destroy-sandbox ] || out+=("${g[@]}")
		out+=("$c")
	done
	CHECKS=("${out[@]}")
	[ "${PD_VIRTIOFS:-0}" != 1 ] || guest_virtiofsd_start
}

# ---- virtio-fs ----------------------------------------------------------------------------

GUEST_VFS_TAG=vfsShared
GUEST_VFS_GUEST=/run/kata-containers/shared/vfs
GUEST_VIRTIOFSD=${PD_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
GUEST_VFS_PID=

# Runs from the EXIT trap, before pd_cleanup, whose status it keeps. virtiofsd also ends by
# itself when QEMU goes.
guest_virtiofsd_stop() {
	local rc=$?
	if [ -n "$GUEST_VFS_PID" ]; then
		kill "$GUEST_VFS_PID" 2>/dev/null
		wait "$GUEST_VFS_PID" 2>/dev/null
		GUEST_VFS_PID=
	fi
	return $rc
}

# virtiofsd serving $PD_WORK/vfs (a rootfs of its own, not on the 9p share); QEMU gets guest
# RAM in a shared memfd (vhost-user maps it), the socket and a vhost-user-fs device;
# CreateSandbox (run.sh: PD_SANDBOX_STORAGE) mounts the tag at GUEST_VFS_GUEST with the
# agent's virtio-fs storage driver. A setup failure shows as the virtio-fs check failing.
guest_virtiofsd_start() {
	local sock=$PD_WORK/vfs.sock mem=${PD_MEM:-512M}
	mkdir -p "$PD_WORK/vfs"
	[ -x "$GUEST_VIRTIOFSD" ] || { GUEST_VFS_ERR="no $GUEST_VIRTIOFSD"; return 1; }
	"$GUEST_VIRTIOFSD" --socket-path="$sock" -o source="$PD_WORK/vfs" -o cache=auto \
		-o sandbox=chroot >"$PD_WORK/virtiofsd.log" 2>&1 &
	GUEST_VFS_PID=$!
	trap 'guest_virtiofsd_stop; pd_cleanup' EXIT
	wait_for "virtiofsd socket" "$WAIT_S" test -S "$sock" ||
		{ GUEST_VFS_ERR="$wait_why: $(cat "$PD_WORK/virtiofsd.log")"; return 1; }
	PD_QEMU_EXTRA="${PD_QEMU_EXTRA:-} -object memory-backend-memfd,id=vmem,size=${mem%%,*},share=on
		-machine memory-backend=vmem -chardev socket,id=vfs,path=$sock
		-device vhost-user-fs-pci,chardev=vfs,tag=$GUEST_VFS_TAG"
	# shellcheck disable=SC2034  # read by run.sh's check_create_sandbox
	PD_SANDBOX_STORAGE="virtio-fs:$GUEST_VFS_TAG:$GUEST_VFS_GUEST"
}

# A container whose rootfs is on the virtio-fs share: it runs, and its / is a virtiofs mount.
guest_check_virtiofs() {
	local root=$PD_WORK/vfs/qc-vfs/rootfs out st
	[ -z "${GUEST_VFS_ERR:-}" ] || { echo "$GUEST_VFS_ERR"; return 1; }
	mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/tmp" "$root/etc"
	cp "$PD_BUILD/pdtest" "$root/bin/pdtest"
	ln -sf pdtest "$root/bin/cat"
	pd_bundle "$PD_WORK/bundle-qc-vfs" cat /proc/self/mounts || return 1
	out=$(pd_ctl_while_up run --id qc-vfs --rootfs-guest-path "$GUEST_VFS_GUEST/qc-vfs/rootfs" \
		"$PD_WORK/bundle-qc-vfs")
	st=$?
	[ $st = 0 ] || { echo "run from the virtio-fs share: exit $st: $out"; return 1; }
	echo "$out" | grep -Eq '^[^ ]+ / virtiofs ' ||
		{ echo "the container's / is not virtiofs: $(echo "$out" | head -n 3)"; return 1; }
	echo "container from $GUEST_VFS_TAG (virtiofsd, $GUEST_VFS_GUEST): / is" \
		"$(echo "$out" | grep -E '^[^ ]+ / ' | head -n 1 | cut -d' ' -f1-3)"
}

# pd_bundle; when PIN is not empty, with Linux.Resources.CPU.Cpus = PIN.
guest_bundle_pin() {
	local dir=$1 pin=$2
	shift 2
	pd_bundle "$dir" "$@" || return 1
	[ -z "$pin" ] ||
		sed -i "s|\"resources\": {|\"resources\": {\"cpu\": {\"cpus\": \"$pin\"},|" \
			"$dir/config.json"
}

# guest_cpuset ID: the CPUs the container may run on, as a process in it reads them. v2: its
# cgroup namespace shows its own cpuset.cpus.effective at the top. v1 (no cgroup namespace:
# the runtime leaves it out) the whole hierarchy: its own directory, "<cid>", whose
# cpuset.cpus the kernel does not widen on hotplug.
guest_cpuset() {
	pd_ctl_while_up exec "$1" -- cat /sys/fs/cgroup/cpuset.cpus.effective 2>/dev/null ||
		pd_ctl_while_up exec "$1" -- cat "/sys/fs/cgroup/cpuset/$1/cpuset.cpus"
}

# The first hot-pluggable CPU slot QEMU has left empty, as device_add arguments:
# "driver":"<type>","id":"cpu-hp","socket-id":N,... (query-hotpluggable-cpus lists filled
# slots with a qom-path).
guest_cpu_slot() {
	pd_qmp '{"execute":"query-hotpluggable-cpus"}' | tr -d ' \n' |
		sed 's/},{"props"/}\n{"props"/g; s/^{"return":\[//' | grep -v qom-path | head -n 1 |
		sed -n 's/^{"props":{\([^}]*\)}.*"type":"\([^"]*\)".*/"driver":"\2","id":"cpu-hp",\1/p'
}

# One OnlineCPUMem for 2 CPUs (guest_check_cpu_hotplug): done unless it answered UNAVAILABLE;
# sets out, online_rc, and counts the tries in i.
guest_online_cpus() {
	i=$((i + 1))
	out=$(pd_ctl_while_up call grpc.AgentService OnlineCPUMem --json "$PD_WORK/cpus2.json" 2>&1)
	online_rc=$?
	[ "$online_rc" = 0 ] || ! echo "$out" | grep -q UNAVAILABLE
}

# A vCPU plugged in through QMP comes online by OnlineCPUMem; a running container that pins
# no CPUs gets it in its cpuset, one that pins CPU 0 keeps its pin.
guest_check_cpu_hotplug() {
	local w=$PD_WORK slot before after pinned online i out c online_rc
	guest_rootfs
	for c in qc-cpus:"" qc-pin:0; do
		guest_bundle_pin "$w/bundle-${c%%:*}" "${c#*:}" sleep 1000 || return 1
		pd_ctl_while_up run -d --id "${c%%:*}" \
			--rootfs-guest-path "$PD_GUEST_SHARED/$GUEST_ROOTFS_ID/rootfs" \
			"$w/bundle-${c%%:*}" >/dev/null || return 1
	done
	before=$(guest_cpuset qc-cpus) || { echo "cpuset before: $before"; return 1; }
	[ "$before" = 0 ] || { echo "cpuset before the hotplug: '$before', want 0"; return 1; }
	slot=$(guest_cpu_slot)
	[ -n "$slot" ] || { echo "no empty CPU slot (PD_SMP=1,maxcpus=2?)"; return 1; }
	pd_qmp "{\"execute\":\"device_add\",\"arguments\":{$slot}}" >/dev/null ||
		{ echo "device_add $slot failed"; return 1; }
	# The guest learns of the CPU through an ACPI event: until its cpu1 appears, the agent
	# answers UNAVAILABLE and the host asks again (as Kata's runtime does).
	echo '{"nb_cpus": 2, "cpu_only": true}' >"$w/cpus2.json"
	i=0
	wait_for "OnlineCPUMem answered other than UNAVAILABLE" "$WAIT_S" guest_online_cpus ||
		{ echo "$wait_why: $out"; return 1; }
	[ "$online_rc" = 0 ] || { echo "OnlineCPUMem: $out"; return 1; }
	online=$(pd_ctl_while_up exec qc-cpus -- cat /sys/devices/system/cpu/online)
	after=$(guest_cpuset qc-cpus)
	pinned=$(guest_cpuset qc-pin)
	pd_ctl_while_up rm qc-cpus >/dev/null
	pd_ctl_while_up rm qc-pin >/dev/null
	[ "$online" = 0-1 ] || { echo "guest online CPUs '$online', want 0-1"; return 1; }
	[ "$after" = 0-1 ] || { echo "container cpuset after OnlineCPUMem '$after', want 0-1"; return 1; }
	[ "$pinned" = 0 ] || { echo "pinned container's cpuset '$pinned', want 0"; return 1; }
	echo "device_add {$slot}: OnlineCPUMem after $i tries; CPUs online 0-1;" \
		"container cpuset $before -> $after, pinned one stays $pinned"
}

# guest_memtotal ID: MemTotal (kB) of the guest, as a process in the container reads it.
guest_memtotal() {
	pd_ctl_while_up exec "$1" -- cat /proc/meminfo | sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p'
}

# guest_qmp_field JSON KEY: the first number after "KEY": in QMP's answer.
guest_qmp_field() {
	echo "$1" | tr -d ' \n' | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# A 128 MiB DIMM plugged in through QMP: the guest kernel has no ACPI memory hotplug driver,
# so only MemHotplugByProbe (one address per memory block) and OnlineCPUMem bring it in.
guest_check_mem_probe() {
	local w=$PD_WORK out block addr size before after probed n i addrs=
	guest_rootfs
	echo '{"mem_block_size": true, "mem_hotplug_probe": true}' >"$w/gd.json"
	out=$(pd_ctl_while_up call grpc.AgentService GetGuestDetails --json "$w/gd.json") ||
		{ echo "GetGuestDetails: $out"; return 1; }
	out=$(echo "$out" | tr -d ' \n')
	echo "$out" | grep -q '"support_mem_hotplug_probe":true' ||
		{ echo "GetGuestDetails without support_mem_hotplug_probe true: $out"; return 1; }
	block=$(echo "$out" | sed -n 's/.*"mem_block_size_bytes":"\{0,1\}\([0-9]*\).*/\1/p')
	[ "${block:-0}" -gt 0 ] || { echo "no mem_block_size_bytes in: $out"; return 1; }
	pd_bundle "$w/bundle-qc-mem" sleep 1000 || return 1
	pd_ctl_while_up run -d --id qc-mem \
		--rootfs-guest-path "$PD_GUEST_SHARED/$GUEST_ROOTFS_ID/rootfs" \
		"$w/bundle-qc-mem" >/dev/null || return 1
	before=$(guest_memtotal qc-mem)
	out=$(pd_qmp '{"execute":"object-add","arguments":{"qom-type":"memory-backend-ram","id":"m1","size":134217728}}' \
		'{"execute":"device_add","arguments":{"driver":"pc-dimm","id":"d1","memdev":"m1"}}' \
		'{"execute":"query-memory-devices"}') || { echo "QMP: $out"; return 1; }
	addr=$(guest_qmp_field "$out" addr)
	size=$(guest_qmp_field "$out" size)
	if [ -z "$addr" ] || [ -z "$size" ]; then
		echo "no DIMM address in: $out"
		return 1
	fi
	n=$((size / block))
	for i in $(seq 0 $((n - 1))); do
		addrs="$addrs${addrs:+, }$((addr + i * block))"
	done
	echo "{\"memHotplugProbeAddr\": [$addrs]}" >"$w/probe.json"
	out=$(pd_ctl_while_up call grpc.AgentService MemHotplugByProbe --json "$w/probe.json") ||
		{ echo "MemHotplugByProbe [$addrs]: $out"; return 1; }
	probed=$(guest_memtotal qc-mem)
	echo '{"nb_cpus": 0, "cpu_only": false}' >"$w/mem.json"
	out=$(pd_ctl_while_up call grpc.AgentService OnlineCPUMem --json "$w/mem.json") ||
		{ echo "OnlineCPUMem: $out"; return 1; }
	after=$(guest_memtotal qc-mem)
	pd_ctl_while_up rm qc-mem >/dev/null
	# Probed memory is offline (no MemTotal change) until OnlineCPUMem; then all of it counts.
	[ "$probed" = "$before" ] || { echo "MemTotal $before -> $probed kB by the probe alone"; return 1; }
	[ $((after - before)) -eq $((size / 1024)) ] ||
		{ echo "MemTotal $before -> $after kB, want +$((size / 1024))"; return 1; }
	printf 'DIMM %d MiB at 0x%x, block %d MiB: %d probe address(es); MemTotal %d -> %d kB\n' \
		$((size >> 20)) "$addr" $((block >> 20)) "$n" "$before" "$after"
}
