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
	echo "$out" | grep "^not ok"
	[ $rc = 0 ] || return 1
	echo "$out" | tail -n 1
}

# The checks of this configuration, in the order they run.
guest_checks() {
	echo "guest-cgroups - guest_check_cgroups"
	! guest_has cpu || echo "cpu-hotplug - guest_check_cpu_hotplug"
	! guest_has mem || echo "mem-probe - guest_check_mem_probe"
	[ "${PD_VIRTIOFS:-0}" != 1 ] || echo "virtio-fs - guest_check_virtiofs"
}

# Put guest_checks into run.sh's CHECKS, before destroy-sandbox (they need the sandbox).
guest_add_checks() {
	local c out=() g
	mapfile -t g < <(guest_checks)
	for c in "${CHECKS[@]}"; do
		[ "${c%% *}" != destroy-sandbox ] || out+=("${g[@]}")
		out+=("$c")
	done
	CHECKS=("${out[@]}")
}
