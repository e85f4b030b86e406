#!/usr/bin/env bash
# deps.sh [--bench] BUILD_DIR — make a fresh Debian 12 machine (as root) able to build and test
# pidone (with --bench: also to run `make bench`).
#
#   1. apt packages, without their recommends: the build/test toolchain; with --bench also the
#      benchmark peers (crun, Go, containerd/ttrpc).
#   2. musl static protobuf-c, libcap-ng and libseccomp from Debian's source packages, installed
#      into BUILD_DIR/sysroot (lib/*.a + include/), because Debian ships them only for glibc.
#   3. BUILD_DIR/kheaders: the kernel-header symlinks musl-gcc lacks.
#
# Idempotent: every step first checks whether its result already exists, so a second run only
# queries dpkg and stats a few files. Facts behind each step: docs/build.md.
# Run from the repository root (the Makefile does: `bash scripts/deps.sh build`).
set -euo pipefail

# --- packages ------------------------------------------------------------------------------
# Installed with --no-install-recommends: each one here is needed by name (a fresh machine got
# ~190 packages with the recommends, speech data among them).
CORE_PKGS=(build-essential musl-tools protobuf-c-compiler libprotobuf-c-dev libjsmn-dev
	qemu-system-x86 busybox-static linux-image-amd64 libcmocka-dev gperf cpio dpkg-dev
	clang lld libclang-rt-14-dev # the fuzz targets (libFuzzer lives in libclang-rt)
	libcap-ng-dev libseccomp-dev pkg-config file iproute2 util-linux procps xz-utils zstd
	python3 # the QEMU namespace checks read JSON with it
	e2fsprogs xfsprogs # the storage tests build ext4 and xfs disk images
	runc) # runc: the tests make their OCI bundles with `runc spec`, as a user would
# Only `make bench` compares against these (deps.sh --bench); `make check` does not need them.
PEER_PKGS=(crun golang-go golang-github-containerd-ttrpc-dev)

# The musl libraries: Debian source package, archive, and a header that `make install` writes
# last-ish — both must exist for the library to count as installed.
SRC_PKGS=(protobuf-c libcap-ng libseccomp)
declare -A LIB_ARCHIVE=([protobuf-c]=libprotobuf-c.a [libcap-ng]=libcap-ng.a
	[libseccomp]=libseccomp.a)
declare -A LIB_HEADER=([protobuf-c]=protobuf-c/protobuf-c.h [libcap-ng]=cap-ng.h
	[libseccomp]=seccomp.h)

JOBS=2
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg instead of failing at once on its lock.
APT_OPTS=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)

say() { printf 'deps: %s\n' "$*"; }
warn() { printf 'deps: WARNING: %s\n' "$*" >&2; }
die() {
	printf 'deps: ERROR: %s\n' "$*" >&2
	exit 1
}
trap 'rc=$?; printf "deps: FAILED (exit %d) at line %d: %s\n" "$rc" "$LINENO" \
	"$BASH_COMMAND" >&2' ERR

WITH_PEERS=0
if [[ ${1:-} == --bench ]]; then
	WITH_PEERS=1
	shift
fi
[[ $# -eq 1 ]] || die "usage: bash scripts/deps.sh [--bench] BUILD_DIR (from the repository root)"
[[ -f Makefile && -d agent ]] || die "run me from the repository root (cwd is $PWD)"
mkdir -p "$1"
BUILD=$(cd "$1" && pwd)
SYSROOT=$BUILD/sysroot
KHEADERS=$BUILD/kheaders
SRCDIR=$BUILD/deps-src
DLDIR=$SRCDIR/download
APTDIR=$SRCDIR/apt

# `make` reruns this script whenever it changes, possibly from several shells at once: one run
# at a time, or they delete each other's source trees.
exec 9>"$BUILD/.deps.lock"
if ! flock -n 9; then
	say "waiting for another deps.sh run to finish"
	flock 9
fi

# Prints the packages among "$@" that dpkg does not report as installed.
missing_pkgs() {
	local -A installed=()
	local name status
	# One dpkg-query for all: unknown names only produce a message on stderr.
	while read -r name status; do
		[[ $status == installed ]] && installed[$name]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null || true)
	for name in "$@"; do
		[[ -n ${installed[$name]:-} ]] || printf '%s\n' "$name"
	done
}

# True when the configured archive offers a candidate version of package $1.
in_archive() {
	local policy
	# Captured first: `apt-cache | grep -q` would fail under pipefail when grep exits early.
	policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
	[[ $policy =~ Candidate:\ [^\(] ]]
}

install_packages() {
	local core peers avail=() pkg
	mapfile -t core < <(missing_pkgs "${CORE_PKGS[@]}")
	peers=()
	[[ $WITH_PEERS -eq 0 ]] || mapfile -t peers < <(missing_pkgs "${PEER_PKGS[@]}")
	if [[ ${#core[@]} -eq 0 && ${#peers[@]} -eq 0 ]]; then
		say "apt packages: all present"
		return
	fi
	[[ $(id -u) -eq 0 ]] || die "must run as root to install: ${core[*]} ${peers[*]}"
	say "apt-get update (missing: $(echo "${core[*]}" "${peers[*]}"))"
	apt-get "${APT_OPTS[@]}" update || die "apt-get update failed"
	if [[ ${#core[@]} -gt 0 ]]; then
		say "installing core packages: ${core[*]}"
		apt-get "${APT_OPTS[@]}" install "${core[@]}" ||
			die "could not install the core packages: ${core[*]}"
	fi
	for pkg in "${peers[@]}"; do
		if in_archive "$pkg"; then
			avail+=("$pkg")
		else
			warn "benchmark peer package '$pkg' is not in the archive; skipping it"
		fi
	done
	if [[ ${#avail[@]} -gt 0 ]]; then
		say "installing benchmark peers: ${avail[*]}"
		apt-get "${APT_OPTS[@]}" install "${avail[@]}" ||
			warn "could not install the benchmark peers (${avail[*]}); benchmarks will skip them"
	fi
}

# musl-gcc has no kernel headers; point it at the system's through three symlinks.
make_kheaders() {
	local -A links=([linux]=/usr/include/linux [asm-generic]=/usr/include/asm-generic
		[asm]=/usr/include/x86_64-linux-gnu/asm)
	local name
	mkdir -p "$KHEADERS"
	for name in "${!links[@]}"; do
		[[ -d ${links[$name]} ]] || die "kernel headers missing: ${links[$name]} (linux-libc-dev)"
		[[ $(readlink "$KHEADERS/$name" 2>/dev/null) == "${links[$name]}" ]] ||
			ln -sfn "${links[$name]}" "$KHEADERS/$name"
	done
}

# jsmn is header-only (libjsmn-dev): the musl build must not see /usr/include, so the one
# header is copied next to the musl libraries.
copy_jsmn() {
	mkdir -p "$SYSROOT/include"
	cmp -s /usr/include/jsmn.h "$SYSROOT/include/jsmn.h" 2>/dev/null ||
		cp /usr/include/jsmn.h "$SYSROOT/include/jsmn.h"
}

lib_installed() {
	[[ -f $SYSROOT/lib/${LIB_ARCHIVE[$1]} && -f $SYSROOT/include/${LIB_HEADER[$1]} ]]
}

# Prints the downloaded .dsc of source package $1 (newest if several), nothing if none.
find_dsc() {
	compgen -G "$DLDIR/$1_*.dsc" | sort -V | tail -n 1 || true
}

# deb-src twins of the system's deb entries, in our own apt dirs so /etc/apt stays untouched.
write_src_sources() {
	local f base
	rm -rf "$APTDIR/sources.list.d"
	mkdir -p "$APTDIR/sources.list.d" "$APTDIR/lists/partial"
	: >"$APTDIR/sources.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		base=$(basename "$f")
		sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$APTDIR/sources.list.d/$base"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" >>"$APTDIR/sources.list"
	done
}

download_sources() {
	local -a need=() apt_src
	local pkg
	for pkg in "$@"; do
		[[ -n $(find_dsc "$pkg") ]] || need+=("$pkg")
	done
	[[ ${#need[@]} -gt 0 ]] || return 0
	write_src_sources
	# The caches are disabled so the system's pkgcache is not rebuilt from our lists.
	apt_src=(-q -o Dir::Etc::SourceList="$APTDIR/sources.list"
		-o Dir::Etc::SourceParts="$APTDIR/sources.list.d"
		-o Dir::State::Lists="$APTDIR/lists"
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
	say "fetching Debian source indexes"
	apt-get "${apt_src[@]}" update >"$SRCDIR/apt-update.log" 2>&1 ||
		die "deb-src apt-get update failed, see $SRCDIR/apt-update.log"
	say "downloading sources: ${need[*]}"
	(cd "$DLDIR" && apt-get "${apt_src[@]}" source --download-only "${need[@]}") \
		>"$SRCDIR/apt-source.log" 2>&1 ||
		die "apt-get source failed, see $SRCDIR/apt-source.log"
	for pkg in "${need[@]}"; do
		[[ -n $(find_dsc "$pkg") ]] || die "no .dsc for $pkg after download"
	done
}

# Runs "$@" with its output in the library's log; on failure shows the log's tail.
logged() {
	"$@" >>"$LOG" 2>&1 || {
		tail -n 30 "$LOG" >&2
		die "'$*' failed in $PWD (full log: $LOG)"
	}
}

build_protobuf_c() {
	logged ./configure "${CONF[@]}" --disable-protoc
	logged make -j"$JOBS"
	logged make install
}

build_libcap_ng() {
	logged ./configure "${CONF[@]}" --without-python3
	logged make -C src -j"$JOBS"
	logged make -C src install
}

build_libseccomp() {
	logged ./configure "${CONF[@]}"
	logged make -C src -j"$JOBS"
	logged make -C src install
	logged make -C include install
}

build_lib() {
	local pkg=$1 dsc tree
	dsc=$(find_dsc "$pkg")
	tree=$SRCDIR/$pkg
	LOG=$SRCDIR/$pkg.log
	: >"$LOG"
	say "building $pkg ($(basename "$dsc" .dsc)) for musl"
	# Always a fresh tree: a half-built one from an interrupted run is not trustworthy.
	rm -rf "$tree"
	logged dpkg-source --no-copy -x "$dsc" "$tree"
	CONF=(--prefix="$SYSROOT" --enable-static --disable-shared
		CC="musl-gcc -isystem $KHEADERS"
		CFLAGS="-O2 -g -ffunction-sections -fdata-sections")
	(
		cd "$tree"
		case $pkg in
		protobuf-c) build_protobuf_c ;;
		libcap-ng) build_libcap_ng ;;
		libseccomp) build_libseccomp ;;
		esac
	)
	lib_installed "$pkg" || die "$pkg built but ${LIB_ARCHIVE[$pkg]} or its header is missing"
	rm -rf "$tree"
}

build_sysroot() {
	local -a todo=()
	local pkg
	for pkg in "${SRC_PKGS[@]}"; do
		lib_installed "$pkg" || todo+=("$pkg")
	done
	if [[ ${#todo[@]} -eq 0 ]]; then
		say "musl sysroot: all libraries present"
		return
	fi
	command -v musl-gcc >/dev/null || die "musl-gcc not found (musl-tools)"
	mkdir -p "$SYSROOT" "$DLDIR"
	download_sources "${todo[@]}"
	for pkg in "${todo[@]}"; do
		build_lib "$pkg"
	done
}

report() {
	local pkg a
	for pkg in "${SRC_PKGS[@]}"; do
		a=$SYSROOT/lib/${LIB_ARCHIVE[$pkg]}
		printf 'deps: %-14s %9d bytes  %s\n' "$pkg" "$(stat -c %s "$a")" "${a#"$PWD"/}"
	done
}

install_packages
make_kheaders
build_sysroot
copy_jsmn
report
