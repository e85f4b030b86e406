#!/bin/bash
# Build and run the libFuzzer targets.
#   fuzz/run.sh short   about 60 s in all (CI: make fuzz-check)
#   fuzz/run.sh long    10 minutes per target (make fuzz)
# Each target is built with clang -fsanitize=fuzzer,address,undefined from the sources it
# needs plus the generated protobuf-c code, linked with the system libprotobuf-c. Its corpus
# lives in build/fuzz/corpus/<target>, seeded from the Kata wire samples
# ($PD_TESTDATA, default the repository's tests/data/kata-wire) and a few
# hand-made frames. A crash leaves build/fuzz/crash-* and makes the script fail.
set -u

mode=${1:-short}
case $mode in
short) total=60 ;;
long) total=600 ;;
*)
	echo "usage: $0 short|long" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
build=${BUILD:-build}
out=$build/fuzz
testdata=${PD_TESTDATA:-$root/tests/data/kata-wire}
[ -d "$testdata" ] || {
	echo "fuzz: Kata wire seeds missing: $testdata is not a directory" >&2
	exit 2
}
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I. -I$build/gen"

# target -> the project sources it links (besides the generated protobuf code)
declare -A sources=(
	[fuzz_frame]="agent/ttrpc/frame.c agent/ttrpc/wire_strings.c"
)
targets=(fuzz_frame)
per_target=$((total / ${#targets[@]}))
[ "$mode" = long ] && per_target=600

die() {
	echo "fuzz: $*" >&2
	echo "fuzz: 0 passed, ${#targets[@]} failed"
	exit 1
}

# ---- build --------------------------------------------------------------------------------
if [ ! -f "$build/gen/.proto-done" ]; then
	make --no-print-directory "$build/gen/.proto-done" >/dev/null || die "protoc-c failed"
fi
mkdir -p "$out/obj"

# The generated code is compiled once (instrumented, warnings allowed: it is not ours).
gen_objs=()
while IFS= read -r src; do
	obj=$out/obj/gen_$(echo "${src#"$build"/gen/}" | tr / _).o
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		# shellcheck disable=SC2086
		$CC $CFLAGS -w -c "$src" -o "$obj" || die "cannot compile $src"
	fi
	gen_objs+=("$obj")
done < <(find "$build/gen" -name '*.pb-c.c' | sort)

build_target() {
	local t=$1
	# shellcheck disable=SC2086
	$CC $CFLAGS -Wall -Wextra -Werror -Wno-unused-parameter -o "$out/$t" \
		"fuzz/$t.c" ${sources[$t]} "${gen_objs[@]}" -lprotobuf-c
}

# ---- seeds --------------------------------------------------------------------------------
# byte N: one raw byte (the format is built on purpose: printf '\xNN')
# shellcheck disable=SC2059
byte() { printf "\\x$(printf %02x $(($1 & 255)))"; }
be32() {
	byte $(($1 >> 24))
	byte $(($1 >> 16))
	byte $(($1 >> 8))
	byte "$1"
}
# frame STREAM TYPE FLAGS: a header for the body read from stdin, then the body.
frame() {
	local body
	body=$(mktemp)
	cat >"$body"
	be32 "$(stat -c %s "$body")"
	be32 "$1"
	byte "$2"
	byte "$3"
	cat "$body"
	rm -f "$body"
}
check_body() { printf '\x0a\x0bgrpc.Health\x12\x05Check'; }

# Each seed starts with fuzz_frame's steering byte: piece-size seed, bit 7 = small limit.
seed_frame_corpus() {
	local dir=$1 n=0 f
	mkdir -p "$dir"
	for f in "$testdata"/*.req-envelope.pb; do
		[ -f "$f" ] || continue
		{ printf '\x00'; frame 1 1 0 <"$f"; } >"$dir/seed-$(basename "$f" .req-envelope.pb)"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || {
		echo "fuzz: no Kata wire samples in $testdata" >&2
		return 1
	}
	{ printf '\x00'; check_body | frame 1 1 0; } >"$dir/seed-check"
	{ # two requests in one buffer, fed in pieces from seed 5
		printf '\x05'
		check_body | frame 1 1 0
		printf '\x0a\x0bgrpc.Health\x12\x07Version' | frame 3 1 0
	} >"$dir/seed-two-calls"
	{ printf '\x00'; frame 1 1 0 </dev/null; } >"$dir/seed-empty-request"
	{ printf '\x00'; frame 5 3 5 </dev/null; } >"$dir/seed-data-close"
	{ printf '\x00'; printf 'abcd' | frame 7 7 0; } >"$dir/seed-unknown-type"
	{ # limit 16 bytes: the 20-byte Check is drained, the empty request after it parses
		printf '\x81'
		check_body | frame 1 1 0
		frame 3 1 0 </dev/null
	} >"$dir/seed-oversized"
	{ printf '\x00'; printf '\x0a\x00\x12\x02\x08\x01' | frame 1 2 0; } >"$dir/seed-response"
	{ # a Check with timeout_nano = 1 s and one metadata pair
		printf '\x00'
		{
			check_body
			printf '\x20\x80\x94\xeb\xdc\x03\x2a\x08\x0a\x01k\x12\x03val'
		} | frame 9 1 0
	} >"$dir/seed-meta"
}

# ---- run ----------------------------------------------------------------------------------
passed=0
failed=0
for t in "${targets[@]}"; do
	if ! build_target "$t"; then
		echo "fuzz: $t: build failed" >&2
		failed=$((failed + 1))
		continue
	fi
	corpus=$out/corpus/$t
	seed_frame_corpus "$corpus" || { failed=$((failed + 1)); continue; }
	echo "fuzz: $t: running ${per_target}s (corpus $corpus)"
	if "$out/$t" -max_total_time="$per_target" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/" -print_final_stats=1 \
		"$corpus" >"$out/$t.log" 2>&1; then
		passed=$((passed + 1))
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$t.log" | tail -2
	else
		failed=$((failed + 1))
		echo "fuzz: $t: FAILED, see $out/$t.log" >&2
		grep -E 'ERROR|SUMMARY|Test unit written' "$out/$t.log" | head -5 >&2
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
