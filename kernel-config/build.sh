#!/usr/bin/env bash
# kernel-config/build.sh [--test] [--print-path] — pidone's minimal x86_64 guest kernel, built
# once per machine from Debian's linux-source-6.1 with everything built in (no modules).
#
#   tinyconfig  +  kernel-config/*.conf (merge_config.sh)  +  olddefconfig  →  vmlinux, bzImage
#
# --test: the test kernel, the product fragments + kernel-config/test/*.conf (the vsock loopback
# transport for the in-guest vsock boot test); a second cache entry. Without it the product
# kernel, which must not have the symbols of PRODUCT_OFF (checked after olddefconfig).
#
# The result lives OUTSIDE the checkout in $CACHE/<hash>/{vmlinux,bzImage,config,build.log,
# kernelrelease}, where <hash> covers every input: the fragments, the linux-source package
# version, the compiler version and this script. With the cache in place the script only hashes
# a few files and prints the directory. Otherwise it installs what is missing (apt), unpacks the
# source once per package version, configures, checks the merged config, builds and publishes the
# directory atomically (temp dir + rename), so a half-built kernel is never seen.
#
#   (no option)    progress on stderr, the cache directory on stdout
#   --print-path   only the cache directory on stdout (errors still go to stderr)
#   --test         the test kernel (with either of the above)
#
# Environment: PD_KERNEL_CACHE (default /var/cache/pidone/kernel), PD_KERNEL_JOBS (default nproc).
# Details and measurements: docs/kernel.md.
# shellcheck disable=SC2317  # the steps are called through step()
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PD_KERNEL_CACHE:-/var/cache/pidone/kernel}
JOBS=${PD_KERNEL_JOBS:-$(nproc)}
export DEBIAN_FRONTEND=noninteractive
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
PKGS=("$SRC_PKG" bc bison flex libelf-dev libssl-dev xz-utils cpio build-essential)

# Symbols without which the boot test cannot pass: a fragment asks for them and the final config
# lacks them → stop. Any other symbol that did not take is only reported (a newer source package
# may have renamed it; the kernel still boots).
ESSENTIAL=(PVH BINFMT_ELF BINFMT_SCRIPT BLK_DEV_INITRD RD_GZIP TTY SERIAL_8250
	SERIAL_8250_CONSOLE ACPI PCI VIRTIO_PCI VIRTIO_CONSOLE NET_9P NET_9P_VIRTIO 9P_FS PROC_FS SYSFS
	DEVTMPFS TMPFS EPOLL SIGNALFD FUTEX UNIX NAMESPACES UTS_NS IPC_NS PID_NS NET_NS USER_NS CGROUPS
	MEMCG CGROUP_PIDS CPUSETS CGROUP_FREEZER CGROUP_DEVICE SECCOMP SECCOMP_FILTER)

# Never in the product kernel: the vsock loopback transport lets every process of the guest,
# containers included, dial the agent's vsock ports (docs/security.md). Kconfig's default is y.
PRODUCT_OFF=(VSOCKETS_LOOPBACK)

QUIET=0
VARIANT=product
say() { [ "$QUIET" = 1 ] || printf 'kernel: %s\n' "$*" >&2; }
die() {
	printf 'kernel: ERROR: %s\n' "$*" >&2
	exit 1
}

for arg in "$@"; do
	case "$arg" in
	--print-path) QUIET=1 ;;
	--test) VARIANT="test" ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo\|shellcheck/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*) die "unknown option $arg (usage: $0 [--test] [--print-path])" ;;
	esac
done

[ "$(uname -m)" = x86_64 ] || die "builds an x86_64 guest kernel on an x86_64 host only"

FRAGMENTS=("$HERE"/*.conf)
[ -e "${FRAGMENTS[0]}" ] || die "no fragments in $HERE"
if [ "$VARIANT" = test ]; then
	TEST_FRAGMENTS=("$HERE"/test/*.conf)
	[ -e "${TEST_FRAGMENTS[0]}" ] || die "no fragments in $HERE/test"
	FRAGMENTS+=("${TEST_FRAGMENTS[@]}") # after the product ones: they win
fi

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install only what is missing; the package lists are refreshed only when something is.
ensure_packages() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: run as root or apt-get install them"
	say "installing ${missing[*]}"
	local log
	log=$(mktemp /tmp/pidone-kernel-apt.XXXXXX)
	if ! { apt-get update -q && apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=300 "${missing[@]}"; } >"$log" 2>&1 </dev/null; then
		tail -n 20 "$log" >&2
		die "apt-get install ${missing[*]} failed (log $log)"
	fi
	rm -f "$log"
}

# The cache key: every input that changes the kernel we get.
input_hash() {
	local f
	{
		printf '== variant %s\n' "$VARIANT"
		for f in "${FRAGMENTS[@]}"; do
			printf '== %s\n' "${f#"$HERE"/}"
			cat "$f"
		done
		printf '== %s %s\n' "$SRC_PKG" "$SRC_VERSION"
		printf '== gcc %s\n' "$(gcc -dumpfullversion)"
		printf '== build.sh\n'
		cat "$HERE/build.sh"
	} | sha256sum | cut -c1-16
}

cached() {
	[ -s "$OUT/vmlinux" ] && [ -s "$OUT/bzImage" ] && [ -s "$OUT/config" ]
}

finish() {
	say "vmlinux $(stat -c %s "$OUT/vmlinux") bytes, bzImage $(stat -c %s "$OUT/bzImage") bytes"
	echo "$OUT"
	exit 0
}

# The source tree, unpacked once per package version (temp dir + rename, like the result).
unpack_source() {
	SRC=$CACHE/src-$SRC_VERSION
	[ -f "$SRC/Makefile" ] && return 0
	say "unpacking $TARBALL into $SRC"
	local tmp
	tmp=$(mktemp -d "$CACHE/.src-$SRC_VERSION.XXXXXX")
	tar -xJf "$TARBALL" -C "$tmp" --strip-components=1 || die "cannot unpack $TARBALL"
	chmod 755 "$tmp" # mktemp made it private
	rm -rf "$SRC"
	mv "$tmp" "$SRC"
}

kmake() {
	# nice: the machine is usually shared with other builds and QEMU guests
	nice -n 10 make -C "$SRC" O="$BUILD" ARCH=x86_64 KBUILD_BUILD_USER=pidone \
		KBUILD_BUILD_HOST=pidone KBUILD_BUILD_TIMESTAMP="$STAMP" "$@" >>"$LOG" 2>&1
}

# Run a step; on failure show the end of the build log and stop.
step() {
	local what=$1
	shift
	printf '\n===== %s\n' "$what" >>"$LOG"
	if ! "$@"; then
		printf 'kernel: ERROR: %s failed; end of %s:\n' "$what" "$LOG" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
}

configure() {
	rm -f "$BUILD/.config"
	kmake tinyconfig || return 1
	# -m: merge only (the olddefconfig below resolves dependencies); -O: where .config goes
	(cd "$SRC" && ./scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/.config" \
		"${FRAGMENTS[@]}") >>"$LOG" 2>&1 || return 1
	kmake olddefconfig
}

# Every CONFIG_X=V and "# CONFIG_X is not set" line of the fragments (the last fragment to
# mention X wins, as in merge_config.sh) must hold in the final .config. Prints the ones that
# do not; fails if one of them is ESSENTIAL.
verify_config() {
	local -A want=() got=()
	local line sym val f bad=0 fatal=0 e
	for f in "${FRAGMENTS[@]}"; do
		while IFS= read -r line; do
			if [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(.*)$ ]]; then
				want[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
			elif [[ $line =~ ^#\ CONFIG_([A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
				want[${BASH_REMATCH[1]}]=n
			fi
		done <"$f"
	done
	while IFS= read -r line; do
		[[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(.*)$ ]] && got[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
	done <"$BUILD/.config"
	for sym in $(printf '%s\n' "${!want[@]}" | sort); do
		val=${got[$sym]:-n}
		[ "$val" = "${want[$sym]}" ] && continue
		bad=$((bad + 1))
		e=
		for f in "${ESSENTIAL[@]}"; do
			[ "$f" = "$sym" ] && { e=" (ESSENTIAL)"; fatal=1; }
		done
		printf 'kernel: CONFIG_%s: fragments want %s, config has %s%s\n' "$sym" \
			"${want[$sym]}" "$val" "$e" >&2
	done
	printf 'verify: %d symbols checked, %d differ\n' "${#want[@]}" "$bad" >>"$LOG"
	[ "$bad" = 0 ] || say "$bad symbol(s) did not take (see docs/kernel.md: fix the dependency)"
	[ "$fatal" = 0 ] || { printf 'kernel: ERROR: essential symbols missing\n' >&2; return 1; }
	[ "$VARIANT" = product ] || return 0
	for sym in "${PRODUCT_OFF[@]}"; do
		val=${got[$sym]:-n}
		[ "$val" = n ] && continue
		printf 'kernel: ERROR: CONFIG_%s=%s in the product kernel (PRODUCT_OFF)\n' "$sym" \
			"$val" >&2
		fatal=1
	done
	[ "$fatal" = 0 ]
}

build() {
	kmake -j"$JOBS" vmlinux bzImage
}

# QEMU boots an ELF vmlinux through its PVH entry only if the Xen PHYS32_ENTRY note is there.
check_pvh_note() {
	readelf -n "$BUILD/vmlinux" | grep -qi xen
}

publish() {
	local tmp
	tmp=$(mktemp -d "$CACHE/.out-$HASH.XXXXXX")
	cp "$BUILD/vmlinux" "$tmp/vmlinux"
	cp "$BUILD/arch/x86/boot/bzImage" "$tmp/bzImage"
	cp "$BUILD/.config" "$tmp/config"
	make -s -C "$SRC" O="$BUILD" ARCH=x86_64 kernelrelease >"$tmp/kernelrelease"
	cp "$LOG" "$tmp/build.log"
	chmod 755 "$tmp"
	rm -rf "$OUT" # an incomplete leftover; we hold the lock
	mv -T "$tmp" "$OUT"
}

# --- fast path: hash the inputs, print the cached directory -------------------------------
ensure_packages # ~10 dpkg queries when nothing is missing
SRC_VERSION=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
HASH=$(input_hash)
OUT=$CACHE/$HASH
cached && finish

# --- slow path: build it -----------------------------------------------------------------
mkdir -p "$CACHE" 2>/dev/null || die "cannot create $CACHE (run as root or set PD_KERNEL_CACHE)"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; another CI job waits here and then finds the cache
cached && finish

START=$SECONDS
unpack_source
# The same date in every build of this source (uname -v), instead of the build's wall clock.
STAMP=$(date -u -R -r "$TARBALL")
# One build tree per source version, reused across fragment changes: kbuild rebuilds only what
# a config change touches (~1 min instead of ~9 for a fresh tree).
BUILD=$CACHE/build-$SRC_VERSION
mkdir -p "$BUILD"
LOG=$BUILD/build.log
: >"$LOG"
say "building the $VARIANT kernel, $SRC_PKG $SRC_VERSION (hash $HASH) in $BUILD" \
	"with $JOBS jobs, log $LOG"
step configure configure
verify_config || exit 1 # it printed what is wrong; the log would add nothing
step "make vmlinux bzImage" build
step "PVH note check (readelf -n vmlinux | grep -i xen)" check_pvh_note
ELAPSED=$((SECONDS - START))
printf 'built in %d s\n' "$ELAPSED" >>"$LOG"
publish
printf 'kernel: built in %dm%02ds → %s\n' $((ELAPSED / 60)) $((ELAPSED % 60)) "$OUT" >&2
finish
